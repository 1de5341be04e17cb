// sim/deviation.cc — see deviation.h.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "sim/deviation.h"

#include <algorithm>

#include "absl/strings/str_format.h"

namespace aiosim::sim {

std::string DeviationText(size_t index, const Deviation& d) {
  return absl::StrFormat(
      "deviation %d (%s choice of thread %d at its scheduling point %d, "
      "step %d: %s)",
      index + 1, ChoiceKindName(d.kind), d.at.thread, d.at.points, d.at.step,
      OptionText(d.target));
}

DeviationStrategy::DeviationStrategy(std::vector<Deviation> deviations, bool check)
    : deviations_(std::move(deviations)), check_(check) {
  for (size_t i = 0; i < deviations_.size(); i++) {
    const Deviation& d = deviations_[i];
    by_location_.emplace(Key{d.at.thread, d.at.points, d.at.sub}, i);
    by_step_.push_back(i);
  }
  std::stable_sort(by_step_.begin(), by_step_.end(), [this](size_t a, size_t b) {
    const ChoiceLocation& x = deviations_[a].at;
    const ChoiceLocation& y = deviations_[b].at;
    return x.step != y.step ? x.step < y.step : x.sub < y.sub;
  });
}

bool DeviationStrategy::BeginExecution(uint64_t) {
  used_.assign(deviations_.size(), 0);
  next_by_step_ = 0;
  taken_.clear();
  divergence_.clear();
  return true;
}

Decision DeviationStrategy::Choose(const ChoicePoint& p) {
  const uint32_t fallback = DefaultChoice(p);
  if (check_) {
    while (next_by_step_ < by_step_.size() && used_[by_step_[next_by_step_]])
      next_by_step_++;
    if (next_by_step_ < by_step_.size()) {
      const size_t i = by_step_[next_by_step_];
      const Deviation& d = deviations_[i];
      if (d.at.step < p.at.step) {
        divergence_ = absl::StrFormat(
            "replay diverged: %s was never reached (the execution is at step %d)",
            DeviationText(i, d), p.at.step);
        return {p.n, 0};
      }
    }
  }
  auto it = by_location_.find(Key{p.at.thread, p.at.points, p.at.sub});
  if (it == by_location_.end() || used_[it->second]) return {fallback, 0};
  const size_t i = it->second;
  const Deviation& d = deviations_[i];
  used_[i] = 1;
  uint32_t pick = p.n;
  if (d.kind == p.kind) {
    for (uint32_t k = 0; k < p.n; k++) {
      if (p.options[k] == d.target) pick = k;
    }
  }
  if (check_) {
    if (d.at.step != p.at.step || d.at.fingerprint != p.at.fingerprint) {
      divergence_ = absl::StrFormat(
          "replay diverged at %s: recorded at step %d in state %04x, now reached at step "
          "%d "
          "in state %04x (the program changed before this point)",
          DeviationText(i, d), d.at.step, d.at.fingerprint, p.at.step, p.at.fingerprint);
      return {p.n, 0};
    }
    if (pick >= p.n) {
      divergence_ = absl::StrFormat(
          "replay diverged at %s: that option is not on offer now (a %s choice of %d "
          "options)",
          DeviationText(i, d), ChoiceKindName(p.kind), p.n);
      return {p.n, 0};
    }
  }
  if (pick >= p.n || pick == fallback) return {fallback, 0};
  taken_.push_back(d);
  return {pick, 0};
}

std::string DeviationStrategy::Leftover() const {
  size_t unused = 0;
  size_t first = deviations_.size();
  for (size_t k = 0; k < by_step_.size(); k++) {
    if (!used_[by_step_[k]]) {
      unused++;
      if (first == deviations_.size()) first = by_step_[k];
    }
  }
  if (unused == 0) return "";
  return absl::StrFormat(
      "replay diverged: the execution ended with %d recorded deviation(s) left over, the "
      "first %s",
      unused, DeviationText(first, deviations_[first]));
}

}  // namespace aiosim::sim
