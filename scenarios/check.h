// scenarios/check.h — every scenario and option against its declared outcome, in both
// directions, with the evidence: what `aiosim check` and `aiosim claims` run.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// A case is one scenario with one option set (OptionVariants: each option value and
// each switch alone). A case whose scenario declares a failure kind must have it found
// by every strategy within the budget: random and PCT within `executions`, the bounded
// exhaustive search within `dfs_bound` preemptions. A case that declares none must not
// be found, and the evidence is a search that is complete: DFS exhausted at the
// scenario's exhaust_bound (Scenario::exhaust_bound) within `exhaust_executions`; where
// the scenario declares no bound (-1), `none_random` random executions instead. Random
// and PCT also run their budget on it. Nothing is claimed beyond what ran.
//
// Threading: runs simulations on the calling thread. Determinism: the same cases and
// budgets give the same verdicts, execution counts and tokens (only the seconds vary).
#ifndef AIOSIM_SCENARIOS_CHECK_H_
#define AIOSIM_SCENARIOS_CHECK_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "scenarios/catalog.h"
#include "sim/aiosim_sim.h"

namespace aiosim::scenarios {

struct CheckBudget {
  uint64_t executions = 10000;  // random and PCT, per case
  uint64_t seed = 1;
  int dfs_bound = 2;                        // DFS for a declared failure
  uint64_t exhaust_executions = 2'000'000;  // DFS for a declared "none"
  uint64_t none_random = 100'000;           // a "none" without an exhaust bound
  bool races = false;                       // --races (known races let through)
  std::function<bool()> stop;               // polled between and inside searches
};

struct CheckCase {
  const Scenario* scenario = nullptr;
  Options options;  // complete, resolved
  sim::FailureKind expected = sim::FailureKind::kNone;
};

// One search of a case.
struct CheckRun {
  std::string strategy;  // random | pct | dfs
  int bound = -1;        // dfs: the preemption bound
  bool found = false;
  sim::FailureKind kind = sim::FailureKind::kNone;
  std::string message;
  uint64_t executions = 0;  // to the first failure, or the whole search
  bool exhausted = false;   // dfs: the bounded space was explored completely
  // dfs: every schedule with at most this many preemptions ran (-1: not even round 0
  // finished; sim::StrategyFigures::complete_through).
  int complete_through = -1;
  uint64_t beyond_bound = 0;
  int preemptions = -1;  // of the minimised schedule
  std::string token;
  double seconds = 0;
  bool ok = false;  // this run agrees with the declaration
  std::string why;  // if not ok: one line
};

struct CheckResult {
  CheckCase c;
  std::vector<CheckRun> runs;
  bool ok = false;
  bool interrupted = false;
  // One line: "found: assertion; random 203, PCT 1150, DFS 1629 (2 preemptions)" or
  // "not found; DFS exhausted at 2 preemptions (614 executions), random 10000, ...".
  std::string evidence;
};

// The cases of the scenarios named by `ids` (all if empty), in catalog order. Errors:
// an unknown id (one line, listing the catalog's).
absl::StatusOr<std::vector<CheckCase>> CheckCases(const std::vector<std::string>& ids);

// A scenario that has no cases on a generation, and why (Scenario::modern_why).
struct SkippedScenario {
  const Scenario* scenario = nullptr;
  Scenario::ModernStatus status = Scenario::ModernStatus::kNotApplicable;
  std::string why;
};
// The same on one generation: for modern, each option set of a scenario that runs
// there, with generation=modern (the legacy-only switch variants left out); the
// scenarios that do not run there go to *skipped, with the reason.
absl::StatusOr<std::vector<CheckCase>> CheckCases(const std::vector<std::string>& ids,
                                                  core::AioGeneration generation,
                                                  std::vector<SkippedScenario>* skipped);

// "S3 canceller=foreign" or "R9".
std::string CaseName(const CheckCase& c);

CheckResult CheckOne(const CheckCase& c, const CheckBudget& budget);

}  // namespace aiosim::scenarios

#endif  // AIOSIM_SCENARIOS_CHECK_H_
