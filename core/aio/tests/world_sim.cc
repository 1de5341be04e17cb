// core/aio/tests/world_sim.cc — the conformance tests' world on the simulated
// platform: each test body runs as the "main" thread of simulated executions, under
// a few seeds of the random strategy. A simulator failure (deadlock, lost wakeup,
// assertion, use after free, leak...) fails the test with its replay token.
//
// Virtual time only jumps when no thread can run (time_advances_max = 0): a jump
// while threads can run models a thread descheduled for seconds, which the tests'
// bounds ("a foreign wakeup arrives within 2 s") rightly do not allow for. Scenarios
// explore such jumps; conformance checks the API's behaviour.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/aio/tests/world.h"
#include "gtest/gtest.h"
#include "sim/aiosim_sim.h"
#include "sim/random_pct.h"

namespace aiosim::testing {

void RunInWorld(const std::function<void(World&)>& body) {
  constexpr uint64_t kSeeds = 3;
  const ::testing::TestInfo* info =
      ::testing::UnitTest::GetInstance()->current_test_info();
  for (uint64_t seed = 1; seed <= kSeeds; seed++) {
    sim::RunConfig config;
    config.scenario = "conformance";
    config.seed = seed;
    config.exec.max_steps = 2000000;
    config.exec.time_advances_max = 0;
    sim::RandomStrategy strategy(seed);
    strategy.BeginExecution(0);
    sim::ExecResult r = sim::RunExecution(
        [&](sim::SimContext& c) {
          World world(&c.platform(), CurrentGeneration());
          body(world);
        },
        config.exec, &strategy);
    if (r.failure.kind != sim::FailureKind::kNone) {
      std::string details;
      for (const std::string& d : r.failure.details) details += "\n    " + d;
      ADD_FAILURE() << info->test_suite_name() << "." << info->name() << " seed " << seed
                    << ": " << sim::FailureKindName(r.failure.kind) << ": "
                    << r.failure.message << details << "\n  token "
                    << sim::EncodeToken(sim::MakeToken(config, r));
      return;
    }
  }
}

const char* PlatformName() { return "sim"; }

// Virtual time: the bound the tests have always had (a changed bound would move the
// watchdog's deadline, and so the executions, of every test that waits).
int DefaultWaitMs() { return 5000; }

int Rounds(int host_rounds) { return host_rounds < 20 ? host_rounds : 20; }

}  // namespace aiosim::testing
