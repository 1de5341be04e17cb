// sim/aiosim_sim.h — the simulator's public API: run a scenario body under a strategy
// and a budget, minimise a failing schedule, replay it from a token, check
// determinism. scenarios/, properties/ and tools/ use the simulator through this file.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// A body runs as the simulated thread "main" of each execution, on a fresh
// SimPlatform. It builds its world (AioRuntime, AioContexts, threads) from that
// platform, and must tear it down before returning so that leaks can be detected.
//
// Determinism contract: the same body, options, strategy, seed and execution index
// give the same execution: the same choices, the same trace hash. A token records
// enough to reproduce one execution exactly.
#ifndef AIOSIM_SIM_AIOSIM_SIM_H_
#define AIOSIM_SIM_AIOSIM_SIM_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "sim/execution.h"
#include "sim/sim_platform.h"
#include "sim/token.h"

namespace aiosim::sim {

class TokenFile;  // sim/token_file.h

// What a scenario body sees.
class SimContext {
 public:
  SimContext(SimPlatform* platform, Execution* execution)
      : platform_(platform), execution_(execution) {}
  SimPlatform& platform() { return *platform_; }
  Execution& execution() { return *execution_; }
  // Describes work that is pending ("" if none). Called when the execution is stuck
  // with a thread asleep in poll: non-empty makes it a lost wakeup, not a deadlock.
  // It runs without scheduling points and must not block.
  void SetPending(std::function<std::string()> pending) { pending_ = std::move(pending); }
  const std::function<std::string()>& pending() const { return pending_; }
  // A property of the scenario: if false, the execution fails with kind "assertion".
  void Check(bool ok, std::string_view what, core::SrcLoc loc = core::SrcLoc::current());

 private:
  SimPlatform* platform_;
  Execution* execution_;
  std::function<std::string()> pending_;
};

using Body = std::function<void(SimContext&)>;

struct RunConfig {
  std::string scenario = "anonymous";
  std::string generation = "legacy";
  // Scenario options (e.g. "revert=R4"), recorded in tokens.
  std::vector<std::pair<std::string, std::string>> options;
  std::string strategy = "random";  // random | pct | dfs
  uint64_t seed = 1;
  uint64_t executions_max = 10000;
  double seconds_max = 0;  // 0: no time limit
  int preemptions = 2;     // dfs
  int pct_depth = 3;       // pct
  uint64_t pct_steps = 0;  // pct: initial k (0: measured by a first execution)
  ExecOptions exec;
  bool minimize = true;
  uint64_t minimize_executions_max = 30000;
  // Called about once a second on long runs.
  std::function<void(uint64_t executions, double seconds)> progress;
  // The token file (owned by the caller; nullptr for none): Explore writes the
  // execution=N token before every execution N (a crash keeps it), and the failing
  // token at the end (TokenFile::WriteFinal).
  TokenFile* token_file = nullptr;
  // If set, Explore calls it after every execution (and minimisation after every
  // attempt); true stops the search there, with Report::interrupted set. A failure
  // already found is still reported, minimised as far as it got.
  std::function<bool()> stop;
};

struct Report {
  bool found = false;
  Failure failure;
  uint64_t executions = 0;          // run by the search (not counting minimisation)
  uint64_t failing_execution = 0;   // index of the first failing execution
  double seconds = 0;
  double executions_per_second = 0;
  std::string strategy_description;
  uint64_t pruned = 0;              // dfs: options skipped by sleep sets
  int dfs_bound_reached = -1;       // dfs: the bound being explored at the end
  bool exhausted = false;           // dfs: the whole bounded space was explored
  // The first failing execution, and the minimised one (with its trace).
  uint64_t original_steps = 0;
  int original_preemptions = 0;
  uint64_t minimize_executions = 0;
  ExecResult failing;
  std::string token;                // reproduces `failing`
  uint64_t last_trace_hash = 0;
  // RunConfig::stop returned true: the search (or the minimisation) ended early.
  bool interrupted = false;
  // The execution=N token of the last execution the search ran ("" if none): what
  // replays it, as the token file holds it.
  std::string last_token;
};

// Runs one execution of `body` with `strategy` (BeginExecution is the caller's job).
ExecResult RunExecution(const Body& body, const ExecOptions& options, Strategy* strategy);

// PCT's initial k when RunConfig::pct_steps is 0: the schedule choices of one
// execution under the default (non-preemptive) schedule.
uint64_t MeasurePctSteps(const Body& body, const ExecOptions& options);

// Explores until a failure, the budget, or (dfs) exhaustion.
Report Explore(const Body& body, const RunConfig& config);

// The token for a failing (or any) execution of `config` with these choices.
TokenData MakeToken(const RunConfig& config, const std::vector<ChoiceRecord>& choices);
// The options recorded in a token, applied to `config` (exec options, strategy, seed,
// scenario options). Unknown keys are an error.
absl::Status ApplyTokenOptions(const TokenData& token, RunConfig* config);

// Re-runs the execution a token describes: its recorded choices if it has any, or
// else execution `execution=N` of its strategy and seed. With the trace recorded.
absl::StatusOr<ExecResult> ReplayToken(const Body& body, const TokenData& token);

// Runs each seed's first random execution twice; returns the seeds whose two runs
// differ (trace hash or choices).
std::vector<uint64_t> DeterminismCheck(const Body& body, const ExecOptions& options,
                                       uint64_t first_seed, uint64_t seeds);

// The schedule as text: one column per thread, one row per step that switched thread
// or did something worth seeing, with source lines.
std::string FormatSchedule(const ExecResult& result);

}  // namespace aiosim::sim

#endif  // AIOSIM_SIM_AIOSIM_SIM_H_
