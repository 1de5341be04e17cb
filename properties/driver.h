// properties/driver.h — runs a property suite: RapidCheck generates programs
// (suites.h), the simulator explores a budget of interleavings of each (random and
// PCT, seeded from RapidCheck's seed and the program), the harness's model judges
// every execution; on a failure RapidCheck shrinks the program, re-exploring each
// candidate deterministically, and then the simulator minimises the schedule of the
// smallest failing program. Used by the property tests and by 'aiosim prop'.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Reproduction: a failure's text ends with two lines, each of which reproduces it:
//   RC_PARAMS="reproduce=..." <test binary> --gtest_filter=<test>  (RapidCheck's own:
//     the generator's random state, size and shrink path), and
//   aiosim replay <token>  (the minimal program and its minimal schedule, without the
//     test binary).
// The first failure is also written to stderr the moment it is found, with its
// (unshrunk) token, so that a crash during shrinking cannot lose it.
#ifndef AIOSIM_PROPERTIES_DRIVER_H_
#define AIOSIM_PROPERTIES_DRIVER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "properties/harness.h"
#include "properties/program.h"
#include "properties/suites.h"
#include "sim/aiosim_sim.h"

namespace aiosim::properties {

struct PropertySettings {
  const Suite* suite = nullptr;
  Mode mode = Mode::kDocumented;
  core::AioGeneration generation = core::AioGeneration::kLegacy;
  // Switch options as scenarios take them ("none" or ids, comma-separated).
  std::string revert = "none";
  std::string fix = "none";
  int programs = 100;          // RapidCheck's max_success (RC_PARAMS max_success wins)
  uint64_t executions = 200;   // interleavings per program: half random, half PCT
  std::string strategy = "both";  // both | random | pct: who explores each program
  int ops_max = 8;             // operations per thread
  uint64_t seed = 1;           // RapidCheck's seed (RC_PARAMS seed wins)
  // RapidCheck reproduce parameters (the text inside RC_PARAMS="..."): if set, the
  // property runs just the case they name, as RC_PARAMS would.
  std::string rc_params;
  // The RapidCheck test id (gtest "Case/Name"), the key of the reproduce map.
  std::string test_id = "aiosim/prop";
  // Called after each program (for progress lines); true stops the run.
  std::function<bool(int programs, uint64_t executions)> progress;
};

struct PropertyResult {
  bool failed = false;
  bool stopped = false;    // progress() asked to stop
  std::string error;       // the run could not start (bad settings); nothing ran
  int programs = 0;        // programs explored (including shrink candidates)
  int shrinks = 0;         // shrink steps accepted
  uint64_t executions = 0;
  double seconds = 0;
  ProbeCounts probes;      // over all explored executions that reached their end
  // On failure: the minimal program, its minimised failing execution, and how to
  // reproduce it.
  Program program;
  uint64_t first_failure_executions = 0;  // executions until the first failure
  double first_failure_seconds = 0;
  sim::Report report;
  std::string token;
  std::string rc_reproduce;  // RC_PARAMS="..."
  std::string text;          // the whole report: program table, failure, schedule, lines
};

// Resolved switch bits and token options of `settings` (error: unknown ids).
absl::StatusOr<scenarios::Options> PropertyOptions(const PropertySettings& settings,
                                                   const Program& program);

// Explores `program` with the settings' budget; returns the search's report (failure
// unminimised unless `minimize`).
sim::Report ExploreProgram(const PropertySettings& settings, const Program& program,
                           bool minimize, std::shared_ptr<ProbeCounts> probes);

PropertyResult RunProperty(const PropertySettings& settings);

// The budget from the environment: AIOSIM_EXECUTIONS (interleavings per program) and
// AIOSIM_PROP_MODE (documented, strict, misuse); `fallback` where unset. A malformed
// value is an error (one line).
absl::StatusOr<uint64_t> ExecutionsFromEnv(uint64_t fallback);
absl::StatusOr<Mode> ModeFromEnv(Mode fallback);

}  // namespace aiosim::properties

#endif  // AIOSIM_PROPERTIES_DRIVER_H_
