// sim/strategy.h — how the explorer makes each choice of an execution.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// A Strategy answers Execution::Choose. Strategies are deterministic functions of
// their seed and of the choices seen so far: the same seed gives the same executions.
// Randomness comes from our own SplitMix64/xoshiro256** and Lemire's bounded integer,
// never from std::*_distribution or absl::BitGen, whose outputs may change between
// builds.
#ifndef AIOSIM_SIM_STRATEGY_H_
#define AIOSIM_SIM_STRATEGY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "sim/execution.h"

namespace aiosim::sim {

// xoshiro256** seeded through SplitMix64.
class Rng {
 public:
  explicit Rng(uint64_t seed);
  uint64_t Next();
  // Uniform in [0, n), n >= 1 (Lemire's multiply-shift with rejection).
  uint32_t Below(uint32_t n);

 private:
  uint64_t s_[4];
};

uint64_t SplitMix64(uint64_t* state);

class Strategy {
 public:
  virtual ~Strategy() = default;
  // Before each execution. Returns false when the strategy has nothing left to try
  // (e.g. exhaustive search finished).
  virtual bool BeginExecution(uint64_t index) = 0;
  virtual uint32_t Choose(const ChoicePoint& point) = 0;
  // Whether Choose reads ChoicePoint::ops (filling them costs a little per step).
  virtual bool wants_ops() const { return false; }
  // After each execution, with its result.
  virtual void EndExecution(const ExecResult& result) { (void)result; }
  // One line for the report header: name and derived parameters.
  virtual std::string Describe() const = 0;
};

// The non-preemptive default: keep running the current thread if it can run, else the
// runnable thread with the lowest id; never jump time; no spurious wakeup or EINTR.
uint32_t DefaultChoice(const ChoicePoint& point);

// Seeded random walk. Each execution draws how often it chooses: s in {1, 4, 16, 64}
// by execution index. With s = 1 every scheduling point is a uniform choice among the
// runnable threads; otherwise each choice picks a thread uniformly and lets it run a
// quantum of q points, q uniform in [1, 2s - 1], before the next choice (a thread that
// blocks ends its quantum). Few switches keep a thread starved long enough for the
// "preempted in a window" bugs; many switches find fine-grained ones; and the points
// inside a quantum cost almost nothing. Time jumps, spurious wakeups and EINTR are
// taken rarely (1/64, 1/8, 1/8 when offered).
class RandomStrategy final : public Strategy {
 public:
  explicit RandomStrategy(uint64_t seed) : seed_(seed), rng_(seed) {}
  bool BeginExecution(uint64_t index) override;
  uint32_t Choose(const ChoicePoint& point) override;
  std::string Describe() const override;

 private:
  uint64_t seed_;
  Rng rng_;
  uint32_t switch_one_in_ = 1;
};

// PCT (Burckhardt et al., ASPLOS 2010): random distinct thread priorities, d - 1
// random priority-change points among the first k steps; always run the highest-
// priority runnable thread. Finds a bug of depth d with probability at least
// 1 / (n k^(d-1)) per execution (n threads, k steps). k is learned: the largest step
// count seen so far (initially `steps_estimate`).
class PctStrategy final : public Strategy {
 public:
  PctStrategy(uint64_t seed, int depth, uint64_t steps_estimate);
  bool BeginExecution(uint64_t index) override;
  uint32_t Choose(const ChoicePoint& point) override;
  void EndExecution(const ExecResult& result) override;
  std::string Describe() const override;
  // The bound for the current parameters, e.g. "1/(3*900^2) = 4.1e-07".
  std::string ProbabilityBound() const;
  int depth() const { return depth_; }

 private:
  uint64_t seed_;
  int depth_;
  uint64_t k_;
  int max_threads_ = 1;
  Rng rng_;
  std::vector<uint64_t> priority_;   // by thread id; 0 = not seen yet
  std::vector<uint64_t> change_at_;  // schedule-choice counts where priorities drop
  uint64_t choices_ = 0;
  int changes_done_ = 0;
};

// Replays recorded choice values; past their end (or if one no longer fits) it
// reports divergence by returning an out-of-range value.
class ReplayStrategy final : public Strategy {
 public:
  explicit ReplayStrategy(std::vector<uint32_t> choices) : choices_(std::move(choices)) {}
  bool BeginExecution(uint64_t index) override;
  uint32_t Choose(const ChoicePoint& point) override;
  std::string Describe() const override { return "replay"; }
  bool exhausted() const { return pos_ >= choices_.size(); }

 private:
  std::vector<uint32_t> choices_;
  size_t pos_ = 0;
};

// A schedule as its deviations from DefaultChoice, each located by the thread that
// was running, its scheduling-point count and the choice's number at that point (so a
// deviation keeps its meaning when others are removed). Used to minimise a failing
// schedule.
struct Deviation {
  int at_thread;
  uint64_t at_point;
  uint32_t sub;
  int thread;      // kSchedule: the thread to run (-2: jump time); else -1
  uint32_t value;  // other kinds: the option
  bool Matches(const ChoicePoint& p) const {
    return p.running == at_thread && p.running_points == at_point && p.sub == sub;
  }
  friend bool operator==(const Deviation&, const Deviation&) = default;
};
class DeviationStrategy final : public Strategy {
 public:
  explicit DeviationStrategy(std::vector<Deviation> deviations)
      : deviations_(std::move(deviations)) {}
  bool BeginExecution(uint64_t index) override;
  uint32_t Choose(const ChoicePoint& point) override;
  std::string Describe() const override { return "minimise"; }
  // Deviations this strategy actually took in the last execution.
  const std::vector<Deviation>& taken() const { return taken_; }

 private:
  std::vector<Deviation> deviations_;
  std::vector<Deviation> taken_;
};

// Records, for any strategy it wraps, the deviations from DefaultChoice it made.
class DeviationRecorder final : public Strategy {
 public:
  explicit DeviationRecorder(Strategy* inner) : inner_(inner) {}
  bool BeginExecution(uint64_t index) override;
  uint32_t Choose(const ChoicePoint& point) override;
  void EndExecution(const ExecResult& result) override { inner_->EndExecution(result); }
  bool wants_ops() const override { return inner_->wants_ops(); }
  std::string Describe() const override { return inner_->Describe(); }
  const std::vector<Deviation>& deviations() const { return deviations_; }

 private:
  Strategy* inner_;
  std::vector<Deviation> deviations_;
};

// Bounded exhaustive search: every schedule with at most `preemptions` preemptions
// (a switch away from a thread that could go on), explored depth-first, in rounds of
// increasing bound (0, 1, ..., preemptions) so that schedules with fewer preemptions
// come first. Sleep sets prune orders that only swap independent operations
// (different objects, two loads, or a fence with anything); `pruned()` counts the
// options skipped.
// Non-schedule choices (spurious wakeup, EINTR, time jumps) are explored too.
class DfsStrategy final : public Strategy {
 public:
  explicit DfsStrategy(int preemptions) : bound_max_(preemptions) {}
  bool BeginExecution(uint64_t index) override;
  uint32_t Choose(const ChoicePoint& point) override;
  void EndExecution(const ExecResult& result) override;
  bool wants_ops() const override { return true; }
  std::string Describe() const override;
  uint64_t pruned() const { return pruned_; }
  int bound() const { return bound_; }
  bool finished() const { return finished_; }

 private:
  struct Sleeper {
    int thread;
    PendingOp op;
  };
  struct Node {
    ChoiceKind kind;
    uint32_t n;
    std::vector<int> threads;      // kSchedule: runnable ids (options 0..size-1)
    std::vector<PendingOp> ops;
    int current;                   // -1: the current thread could not go on
    bool time_advance;
    int preemptions_before;
    uint32_t chosen;
    std::vector<uint32_t> done;    // options already explored from this node
    std::vector<Sleeper> sleep;    // asleep on entry to this node
  };
  bool Allowed(const Node& node, uint32_t option) const;
  bool Asleep(const Node& node, uint32_t option) const;
  int PreemptionCost(const Node& node, uint32_t option) const;
  bool Advance();  // move to the next unexplored schedule; false when done

  int bound_max_;
  int bound_ = 0;
  std::vector<Node> stack_;
  size_t depth_ = 0;       // position in stack_ during an execution
  size_t replay_len_ = 0;  // nodes to replay before new choices
  uint64_t pruned_ = 0;
  bool finished_ = false;
  bool started_ = false;
};

}  // namespace aiosim::sim

#endif  // AIOSIM_SIM_STRATEGY_H_
