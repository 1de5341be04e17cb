// core/aio/tests/search_util.h — what the simulator-only searches of the core's
// primitives share (lockcnt_sim_test.cc, event_sim_test.cc).
// SPDX-License-Identifier: GPL-2.0-or-later
#ifndef AIOSIM_CORE_AIO_TESTS_SEARCH_UTIL_H_
#define AIOSIM_CORE_AIO_TESTS_SEARCH_UTIL_H_

#include <string>

#include "sim/aiosim_sim.h"

namespace aiosim::testing {

// Bounded exhaustive search at `preemptions`, race detector on, no minimisation.
inline sim::RunConfig DfsSearch(const std::string& scenario, int preemptions,
                                bool spurious = false) {
  sim::RunConfig config;
  config.scenario = scenario;
  config.strategy = "dfs";
  config.preemptions = preemptions;
  config.executions_max = 2000000;
  config.exec.race_detection = true;
  config.exec.spurious_wakeups = spurious;
  config.minimize = false;
  return config;
}

// A failure for a test message: kind, message, token and details.
inline std::string DescribeFailure(const sim::Report& r) {
  std::string s = std::string(sim::FailureKindName(r.failure.kind)) + ": " +
                  r.failure.message + " (token " + r.token + ")";
  for (const std::string& d : r.failure.details) s += "\n  " + d;
  return s;
}

}  // namespace aiosim::testing

#endif  // AIOSIM_CORE_AIO_TESTS_SEARCH_UTIL_H_
