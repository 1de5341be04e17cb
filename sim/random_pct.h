// sim/random_pct.h — the randomised strategies: a seeded random walk with quanta, and
// PCT (probabilistic concurrency testing).
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Both are functions of (seed, execution index) and, for PCT, of k (its step count
// estimate): execution i can be regenerated directly, without the ones before it.
#ifndef AIOSIM_SIM_RANDOM_PCT_H_
#define AIOSIM_SIM_RANDOM_PCT_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sim/rng.h"
#include "sim/strategy.h"

namespace aiosim::sim {

// Seeded random walk. Each execution draws how often it chooses: s in {1, 4, 16, 64}
// by execution index. With s = 1 every scheduling point is a uniform choice among the
// runnable threads; otherwise each choice picks a thread uniformly and gives it a
// quantum: it passes q - 1 more points without a choice, q uniform in [1, 2s - 1]
// (blocking ends a quantum). Few switches keep a thread starved long enough for the
// "preempted in a window" bugs; many switches find fine-grained ones; and the points
// inside a quantum cost almost nothing. Time jumps, spurious wakeups and EINTR are
// taken rarely (1/64, 1/8, 1/8 when offered); a signalled waiter is uniform.
class RandomStrategy final : public Strategy {
 public:
  explicit RandomStrategy(uint64_t seed) : seed_(seed), rng_(seed) {}
  bool BeginExecution(uint64_t index) override;
  Decision Choose(const ChoicePoint& point) override;
  std::string Describe() const override;
  Reproducer ReproduceCurrent(uint64_t index) const override;
  // Choose's answer to a kSchedule choice among `n` threads with no time jump offered,
  // inline: the execution's common choice (Execution::ChooseFast) calls it without
  // the virtual call. The same draws as Choose, so the same answer.
  [[gnu::always_inline]] Decision ChooseThread(uint32_t n) {
    const uint32_t pick = rng_.Below(n);
    if (switch_one_in_ == 1) return {pick, 0};
    // The chosen thread then runs q points, q uniform in [1, 2s - 1] (mean s),
    // before the next choice: this one and q - 1 more.
    const uint32_t q = 1 + rng_.Below(2 * switch_one_in_ - 1);
    return {pick, q - 1};
  }
  // Choose's answer to a kWakeWaiter choice among `n` waiters, inline (WakeOne).
  [[gnu::always_inline]] Decision ChooseWaiter(uint32_t n) { return {rng_.Below(n), 0}; }

 private:
  uint64_t seed_;
  Rng rng_;
  uint32_t switch_one_in_ = 1;
};

// PCT (Burckhardt, Kothari, Musuvathi & Nagarakatte, ASPLOS 2010). Each execution:
// every thread gets a random initial priority >= d when first seen; d - 1 distinct
// change points are drawn uniformly without replacement from [1, k], and the i-th
// drawn gets the label i (so labels are independent of positions); when the running
// thread reaches the change point labelled i, its priority drops to i (below every
// initial priority). At every choice the highest-priority runnable thread runs.
// A "step" is a schedule choice at which a thread could go on running (a point where
// the running thread blocked or finished is not one, so no change point is wasted
// there); k counts them. Finds a bug of depth d with probability at least
// 1 / (n k^(d-1)) per execution (n threads). k starts at `steps` (the default
// schedule's count, MeasurePctSteps) and grows to the largest count seen.
class PctStrategy final : public Strategy {
 public:
  PctStrategy(uint64_t seed, int depth, uint64_t steps);
  bool BeginExecution(uint64_t index) override;
  Decision Choose(const ChoicePoint& point) override;
  void EndExecution(const ExecResult& result) override;
  std::string Describe() const override;
  StrategyFigures Figures() const override;
  Reproducer ReproduceCurrent(uint64_t index) const override;
  // The bound for the current parameters, e.g. "1/(3*900^2) = 4.1e-07".
  std::string ProbabilityBound() const;
  int depth() const { return depth_; }
  uint64_t steps() const { return k_; }
  // PCT steps of an execution: schedule choices at which a thread could go on.
  static uint64_t CountSteps(const ExecResult& result);

 private:
  uint64_t seed_;
  int depth_;
  uint64_t k_;
  uint64_t k_at_begin_ = 0;
  int max_threads_ = 1;
  Rng rng_;
  std::vector<uint64_t> priority_;                     // by thread id; 0 = not seen yet
  std::vector<std::pair<uint64_t, uint32_t>> change_;  // (step, label), sorted by step
  size_t next_change_ = 0;
  uint64_t steps_ = 0;
};

}  // namespace aiosim::sim

#endif  // AIOSIM_SIM_RANDOM_PCT_H_
