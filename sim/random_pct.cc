// sim/random_pct.cc — see random_pct.h.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "sim/random_pct.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace aiosim::sim {

namespace {

// The number of kThread options of a kSchedule choice (the time jump comes last).
uint32_t ThreadOptions(const ChoicePoint& p) {
  return p.n - (p.options[p.n - 1].kind == OptionKind::kAdvanceTime ? 1 : 0);
}
bool CanAdvance(const ChoicePoint& p) {
  return p.kind == ChoiceKind::kSchedule &&
         p.options[p.n - 1].kind == OptionKind::kAdvanceTime;
}

Rng ExecutionRng(uint64_t seed, uint64_t index) {
  uint64_t s = seed ^ (index * 0x9e3779b97f4a7c15ull);
  return Rng(SplitMix64(&s));
}

}  // namespace

// ---- random
// ----------------------------------------------------------------------------

bool RandomStrategy::BeginExecution(uint64_t index) {
  rng_ = ExecutionRng(seed_, index);
  static constexpr uint32_t kSwitchOneIn[] = {1, 4, 16, 64};
  switch_one_in_ = kSwitchOneIn[index % 4];
  return true;
}

Decision RandomStrategy::Choose(const ChoicePoint& p) {
  switch (p.kind) {
    case ChoiceKind::kSchedule: {
      if (CanAdvance(p) && rng_.Below(64) == 0) return {p.n - 1, 0};
      return ChooseThread(ThreadOptions(p));
    }
    case ChoiceKind::kWakeWaiter:
      return ChooseWaiter(p.n);
    case ChoiceKind::kSpuriousWakeup:
    case ChoiceKind::kEintr:
      return {rng_.Below(8) == 0 ? 1u : 0u, 0};
  }
  return {0, 0};
}

static_assert(2 * 64 <= kQuantumMax, "random quanta fit in a decision");

std::string RandomStrategy::Describe() const {
  return absl::StrFormat(
      "random walk, seed %d; execution i is seeded SplitMix64(seed ^ "
      "i*golden) and chooses a thread every q points, q uniform with mean "
      "{1,4,16,64}[i%%4]",
      seed_);
}

Strategy::Reproducer RandomStrategy::ReproduceCurrent(uint64_t index) const {
  Reproducer r;
  r.options = {{"execution", absl::StrCat(index)}};
  return r;
}

// ---- PCT
// -------------------------------------------------------------------------------

PctStrategy::PctStrategy(uint64_t seed, int depth, uint64_t steps)
    : seed_(seed),
      depth_(std::max(depth, 1)),
      k_(std::max<uint64_t>(steps, 1)),
      rng_(seed) {}

bool PctStrategy::BeginExecution(uint64_t index) {
  rng_ = ExecutionRng(seed_, index);
  k_at_begin_ = k_;
  priority_.clear();
  change_.clear();
  // d - 1 distinct change points (fewer if k is smaller), label i for the i-th drawn.
  const uint64_t changes = std::min<uint64_t>(static_cast<uint64_t>(depth_ - 1), k_);
  while (change_.size() < changes) {
    const uint64_t at = 1 + rng_.Below64(k_);
    bool seen = false;
    for (const auto& c : change_) seen |= c.first == at;
    if (!seen) change_.emplace_back(at, static_cast<uint32_t>(change_.size() + 1));
  }
  std::sort(change_.begin(), change_.end());
  next_change_ = 0;
  steps_ = 0;
  return true;
}

Decision PctStrategy::Choose(const ChoicePoint& p) {
  if (p.kind == ChoiceKind::kSpuriousWakeup || p.kind == ChoiceKind::kEintr) {
    return {rng_.Below(8) == 0 ? 1u : 0u, 0};
  }
  const uint32_t threads = p.kind == ChoiceKind::kSchedule ? ThreadOptions(p) : p.n;
  // Priorities: a random value above the d - 1 labels for a thread seen first.
  for (uint32_t i = 0; i < threads; i++) {
    const uint32_t t = p.options[i].arg;
    if (t >= priority_.size()) priority_.resize(t + 1, 0);
    if (priority_[t] == 0) {
      priority_[t] = static_cast<uint64_t>(depth_) + 1 + (rng_.Next() >> 32);
    }
    max_threads_ = std::max(max_threads_, static_cast<int>(t) + 1);
  }
  if (p.kind == ChoiceKind::kSchedule && p.current >= 0) {
    ++steps_;
    while (next_change_ < change_.size() && change_[next_change_].first == steps_) {
      priority_[p.current] = change_[next_change_].second;
      next_change_++;
    }
  }
  if (CanAdvance(p) && rng_.Below(64) == 0) return {p.n - 1, 0};
  uint32_t best = 0;
  for (uint32_t i = 1; i < threads; i++) {
    if (priority_[p.options[i].arg] > priority_[p.options[best].arg]) best = i;
  }
  return {best, 0};
}

uint64_t PctStrategy::CountSteps(const ExecResult& result) {
  uint64_t k = 0;
  for (const ChoiceRecord& c : result.choices)
    k += c.kind == ChoiceKind::kSchedule && c.had_current;
  return k;
}

void PctStrategy::EndExecution(const ExecResult& result) {
  k_ = std::max(k_, CountSteps(result));
}

std::string PctStrategy::ProbabilityBound() const {
  const double bound = 1.0 / (static_cast<double>(max_threads_) *
                              std::pow(static_cast<double>(k_), depth_ - 1));
  return absl::StrFormat("1/(%d*%d^%d) = %.3g", max_threads_, static_cast<int64_t>(k_),
                         depth_ - 1, bound);
}

std::string PctStrategy::Describe() const {
  return absl::StrFormat(
      "PCT, seed %d, depth d=%d, k=%d steps; per-execution probability "
      "of a depth-%d bug >= %s",
      seed_, depth_, static_cast<int64_t>(k_), depth_, ProbabilityBound());
}

StrategyFigures PctStrategy::Figures() const {
  StrategyFigures f;
  f.description = Describe();
  f.probability_bound = ProbabilityBound();
  return f;
}

Strategy::Reproducer PctStrategy::ReproduceCurrent(uint64_t index) const {
  Reproducer r;
  r.options = {{"execution", absl::StrCat(index)},
               {"pct-steps", absl::StrCat(k_at_begin_)}};
  return r;
}

}  // namespace aiosim::sim
