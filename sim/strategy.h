// sim/strategy.h — how the explorer makes each choice of an execution: the Strategy
// interface. The strategies themselves: sim/random_pct.h (seeded random walk, PCT),
// sim/dfs.h (bounded exhaustive search), sim/deviation.h (replay of a recorded
// schedule).
// SPDX-License-Identifier: GPL-2.0-or-later
//
// A Strategy answers Execution's choices (sim/choice.h). Strategies are deterministic
// functions of their parameters and of the choices seen so far: the same seed gives
// the same executions. Randomness comes from sim/rng.h only. A strategy is used by one
// thread at a time.
#ifndef AIOSIM_SIM_STRATEGY_H_
#define AIOSIM_SIM_STRATEGY_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sim/choice.h"
#include "sim/execution.h"

namespace aiosim::sim {

// What a strategy reports about the search it made, for the explorer's report.
struct StrategyFigures {
  std::string description;  // Describe() at the end of the search
  // Bounded exhaustive search only (bound < 0: not such a search).
  int bound = -1;             // the preemption bound (kUnbounded: none)
  int round = -1;             // the preemption count of the round explored last
  bool complete = false;      // every schedule within the bound ran (or was proven
                              // equivalent to one that ran)
  bool finished = false;      // nothing was left to run (complete, unless dropped)
  uint64_t pruned = 0;        // options skipped as equivalent (sleep sets)
  uint64_t beyond_bound = 0;  // options not explored: they would exceed the bound
  uint64_t deferred = 0;      // options saved for a later round
  // Options neither explored nor saved because the saved work (the frontier) reached
  // its memory limit; then complete is false.
  uint64_t dropped = 0;
  uint64_t frontier_bytes_max = 0;  // that limit
  // Every schedule with at most this many preemptions ran (or was proven equivalent
  // to one that ran): the rounds finished, and none after a round that dropped an
  // option. -1: not even round 0 finished.
  int complete_through = -1;
  // PCT only: the probability bound for the final parameters.
  std::string probability_bound;
};

class Strategy {
 public:
  virtual ~Strategy() = default;
  // Before each execution. Returns false when the strategy has nothing left to try
  // (e.g. exhaustive search finished).
  virtual bool BeginExecution(uint64_t index) = 0;
  // REQUIRES: point.n >= 2. An option >= point.n means "diverged" (a replayed
  // schedule no longer fits); Divergence() then says why.
  virtual Decision Choose(const ChoicePoint& point) = 0;
  // Whether Choose reads ChoicePoint::ops (filling them costs a little per choice).
  virtual bool wants_ops() const { return false; }
  // After each execution, with its result.
  virtual void EndExecution(const ExecResult& result) { (void)result; }
  // One line for the report header: name and derived parameters.
  virtual std::string Describe() const = 0;
  virtual std::string Divergence() const { return ""; }
  virtual StrategyFigures Figures() const {
    StrategyFigures f;
    f.description = Describe();
    return f;
  }
  // For the token written before execution `index` (after BeginExecution(index)):
  // the options that, with the strategy's name and seed, regenerate this execution
  // directly (e.g. {"execution", "17"}), and whether they do so without running the
  // executions before it. A strategy whose execution is a fixed schedule may instead
  // return its deviations in `*deviations` (then `options` is ignored).
  struct Reproducer {
    std::vector<std::pair<std::string, std::string>> options;
    bool direct = true;
    bool has_deviations = false;
    std::vector<Deviation> deviations;
  };
  virtual Reproducer ReproduceCurrent(uint64_t index) const;
};

}  // namespace aiosim::sim

#endif  // AIOSIM_SIM_STRATEGY_H_
