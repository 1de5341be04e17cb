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
// enough to reproduce one execution exactly, and what that execution is expected to
// do (trace hash, failure kind and location), so a replay that no longer fits the
// program says so (replay-diverged) instead of silently running another schedule.
//
// Threading: every function runs simulations on the calling OS thread (fibers);
// independent OS threads may run independent simulations at the same time.
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
#include "sim/strategy.h"
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
  // A property of the scenario: if false, the execution fails with kind "assertion"
  // (its identity is `loc`).
  void Check(bool ok, std::string_view what, core::SrcLoc loc = core::SrcLoc::current());

 private:
  SimPlatform* platform_;
  Execution* execution_;
  std::function<std::string()> pending_;
};

using Body = std::function<void(SimContext&)>;

inline constexpr int kUnboundedPreemptions = -1;  // RunConfig::preemptions: no bound

struct RunConfig {
  std::string scenario = "anonymous";
  std::string generation = "legacy";
  // Scenario options (e.g. "revert=R4"), recorded in tokens.
  std::vector<std::pair<std::string, std::string>> options;
  std::string strategy = "random";  // random | pct | dfs
  uint64_t seed = 1;
  uint64_t executions_max = 10000;
  double seconds_max = 0;  // 0: no time limit
  int preemptions = 2;     // dfs; kUnboundedPreemptions for no bound
  // dfs: the memory limit on the work saved for later rounds (DfsStrategy::
  // FrontierBytes): DfsStrategy::kFrontierBytesDefault, 4 GiB, unless set.
  uint64_t dfs_frontier_bytes_max = uint64_t{4} << 30;
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
  uint64_t executions = 0;         // run by the search (not counting minimisation)
  uint64_t failing_execution = 0;  // index of the first failing execution
  double seconds = 0;
  double executions_per_second = 0;
  StrategyFigures figures;  // the strategy's own account of the search
  bool exhausted = false;   // figures.complete: the bounded space was explored
  // The first failing execution, and the minimised one (with its trace).
  uint64_t original_steps = 0;
  int original_preemptions = 0;
  uint64_t minimize_executions = 0;
  ExecResult failing;
  std::string token;  // reproduces `failing`
  uint64_t last_trace_hash = 0;
  // RunConfig::stop returned true: the search (or the minimisation) ended early.
  bool interrupted = false;
  // The execution=N token of the last execution the search ran ("" if none): what
  // replays it, as the token file holds it.
  std::string last_token;
  // Known races let through (ExecOptions::report_known_races off) over the search's
  // executions, by id: how many executions met each.
  std::vector<std::pair<std::string, uint64_t>> suppressed_races;
};

// Runs one execution of `body` with `strategy` (BeginExecution is the caller's job).
ExecResult RunExecution(const Body& body, const ExecOptions& options, Strategy* strategy);

// PCT's initial k when RunConfig::pct_steps is 0: the PCT steps of one execution
// under the default (non-preemptive) schedule (PctStrategy::CountSteps).
uint64_t MeasurePctSteps(const Body& body, const ExecOptions& options);

// The strategy `config` names, or an error for an unknown name or bad parameters.
absl::StatusOr<std::unique_ptr<Strategy>> MakeStrategy(const RunConfig& config);

// Explores until a failure, the budget, `stop`, or (dfs) exhaustion.
Report Explore(const Body& body, const RunConfig& config);

// The identity of the simulated core this binary was built from (a hash of the core's
// and the simulated platform's sources), recorded in tokens.
const char* CoreIdentity();

// The token for an execution of `config`: its deviations and what it is expected to
// do (trace hash, failure, checkpoints), so that a replay can check it fits.
TokenData MakeToken(const RunConfig& config, const ExecResult& result);
// The token for "execution `index` of the strategy", before it runs (no
// expectations): `reproducer` comes from Strategy::ReproduceCurrent.
TokenData MakeIndexToken(const RunConfig& config, const Strategy::Reproducer& reproducer);
// The options recorded in a token, applied to `config` (exec options, strategy, seed,
// scenario options), each checked against the command line's bounds. Unknown
// simulator keys are scenario options. Errors: one line, "token: ...".
absl::Status ApplyTokenOptions(const TokenData& token, RunConfig* config);

struct ReplayResult {
  ExecResult result;  // with the trace; failure kReplayDiverged if it no longer fits
  // Facts about the replay for the reader (e.g. "recorded with core 1a2b..., this is
  // 3c4d..."; "regenerated execution 17 directly").
  std::vector<std::string> notes;
};
// Re-runs the execution a token describes: its deviations if it records a schedule,
// or else execution `execution=N` of its strategy and seed (random and PCT directly;
// DFS by running the search up to N, reporting through `progress`). A recorded
// schedule is checked step by step and against the token's expectations; a mismatch,
// a deviation never reached or left over makes the result replay-diverged, with
// where it diverged in the message and details.
absl::StatusOr<ReplayResult> ReplayToken(
    const Body& body, const TokenData& token,
    const std::function<void(uint64_t done, uint64_t total)>& progress = nullptr);

// Runs, for each seed, the random strategy's first `executions_per_seed` executions
// (every quantum setting: index % 4) twice, once with the trace recorded (the full
// path at every point) and once without (the inline path inside quanta); returns the
// seeds whose two runs differ (trace hash, steps, choices or failure).
std::vector<uint64_t> DeterminismCheck(const Body& body, const ExecOptions& options,
                                       uint64_t first_seed, uint64_t seeds,
                                       uint64_t executions_per_seed = 4);

// The schedule as text: one column per thread, one row per step that switched thread
// or did something worth seeing, with source lines; preemptions, blocking, wake-ups
// and time jumps marked.
std::string FormatSchedule(const ExecResult& result);

}  // namespace aiosim::sim

#endif  // AIOSIM_SIM_AIOSIM_SIM_H_
