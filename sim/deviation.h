// sim/deviation.h — replaying a schedule given as its deviations from the
// non-preemptive default (sim/choice.h): the strategy behind replay tokens and
// schedule minimisation.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// A deviation is located by the thread that reached the choice, its scheduling-point
// count and the choice's number at that point, so removing one deviation does not
// shift the others. Every choice that no deviation names takes DefaultChoice.
//
// In checking mode (replay of a token) each deviation must be met at the step and in
// the state (fingerprint) it was recorded in, with its option on offer, and in step
// order; the first mismatch makes the execution fail with replay-diverged, and
// Divergence() says where. Without checking (minimisation, where removed deviations
// shift later steps) a deviation that does not fit is skipped.
#ifndef AIOSIM_SIM_DEVIATION_H_
#define AIOSIM_SIM_DEVIATION_H_

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "sim/strategy.h"

namespace aiosim::sim {

class DeviationStrategy final : public Strategy {
 public:
  DeviationStrategy(std::vector<Deviation> deviations, bool check);
  bool BeginExecution(uint64_t index) override;
  Decision Choose(const ChoicePoint& point) override;
  std::string Describe() const override { return check_ ? "replay" : "minimise"; }
  std::string Divergence() const override { return divergence_; }
  // After an execution: the deviations that were taken, in order.
  const std::vector<Deviation>& taken() const { return taken_; }
  // Deviations never met (checking mode: a divergence when the execution ended
  // without failing). "" if none.
  std::string Leftover() const;

 private:
  using Key = std::tuple<int, uint64_t, uint32_t>;
  std::vector<Deviation> deviations_;
  bool check_;
  std::map<Key, size_t> by_location_;
  std::vector<size_t> by_step_;  // indices sorted by (step, sub)
  std::vector<uint8_t> used_;
  size_t next_by_step_ = 0;
  std::vector<Deviation> taken_;
  std::string divergence_;
};

// Replays an execution's recorded decisions (ExecResult::choices) one by one, quanta
// included: the same execution again, e.g. to record its deviations or its trace.
// A decision that does not fit (another kind or option count) is a divergence.
class ChoiceReplayStrategy final : public Strategy {
 public:
  explicit ChoiceReplayStrategy(std::vector<ChoiceRecord> choices)
      : choices_(std::move(choices)) {}
  bool BeginExecution(uint64_t) override {
    pos_ = 0;
    return true;
  }
  Decision Choose(const ChoicePoint& p) override {
    if (pos_ >= choices_.size() || choices_[pos_].kind != p.kind ||
        choices_[pos_].n != p.n) {
      return {p.n, 0};
    }
    const ChoiceRecord& c = choices_[pos_++];
    return {c.option, c.quantum};
  }
  std::string Describe() const override { return "replay of recorded decisions"; }
  std::string Divergence() const override {
    return "the recorded decisions no longer fit this execution";
  }

 private:
  std::vector<ChoiceRecord> choices_;
  size_t pos_ = 0;
};

// "deviation 2 (thread 1 at its point 57, step 312: thread 2)".
std::string DeviationText(size_t index, const Deviation& d);

}  // namespace aiosim::sim

#endif  // AIOSIM_SIM_DEVIATION_H_
