// properties/tests/differential_test.cc — the same generated programs on both
// generations (legacy = QEMU 2.8.1, modern = QEMU 10.2) through the property
// harness, with the outcomes that must agree compared.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// A program here is a home thread alone (operations drawn from 10.2's home list of a
// suite, which 2.8.1 has too), with the thread pool's workers and the harness's
// watchdog beside it. Both generations must pass the contract model, and by
// quiescence agree on: how often each BH ran, that each oneshot ran once, and that
// each pool request's callback ran once, with the same result where nothing
// cancelled it (whether a cancelled request got -ECANCELED is a race with its worker
// on either generation). What differs by design is not compared:
//   - how often a timer fired. 10.2's blocking aio_poll does not block after an
//     aio_notify made since the last one was accepted (the `notified` re-check of
//     5.0), and timer_mod notifies: "timer_mod t0 +2 ms; aio_poll(true)" returns at
//     once in 10.2, the timer unfired and virtual time unmoved, where 2.8.1 sleeps to
//     the deadline and fires it. A later timer_mod then replaces the deadline, so
//     10.2 fires the timer once where 2.8.1 fired it twice ("T0.2,W,T0.0,P": 2 and
//     1). The contract model judges each generation's timers (C7) instead;
//   - run order, progress and the 10 ms of an idle BH:
//     core/aio/tests/differential_test.cc compares those for BHs.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "properties/harness.h"
#include "properties/program.h"
#include "properties/suites.h"
#include "rapidcheck.h"
#include "sim/aiosim_sim.h"
#include "sim/deviation.h"
#include "sim/random_pct.h"
#include "sim/tests/scale.h"

namespace aiosim::properties {
namespace {

constexpr int kProgramsPerSuite = aiosim::testing::kSanitized ? 10 : 60;
constexpr int kOps = 10;
// Executions per program and generation: the default schedule, then random walks.
constexpr uint64_t kSchedules = 3;

struct GenRun {
  sim::FailureKind kind = sim::FailureKind::kNone;
  std::string message;
  Outcome outcome;
};

GenRun RunOnce(const Program& program, core::AioGeneration generation, uint64_t schedule) {
  HarnessConfig cfg;
  cfg.program = program;
  cfg.generation = generation;
  cfg.outcome = std::make_shared<Outcome>();
  const sim::Body body = MakeBody(cfg);
  sim::ExecResult r;
  if (schedule == 0) {
    sim::DeviationStrategy strategy({}, /*check=*/false);
    strategy.BeginExecution(0);
    r = sim::RunExecution(body, PropertyExecOptions(), &strategy);
  } else {
    sim::RandomStrategy strategy(schedule);
    strategy.BeginExecution(schedule);
    r = sim::RunExecution(body, PropertyExecOptions(), &strategy);
  }
  return GenRun{r.failure.kind, r.failure.message, *cfg.outcome};
}

bool Cancels(const Program& p, int request) {
  for (const Op& op : p.threads[0]) {
    if ((op.code == OpCode::kPoolCancelAsync || op.code == OpCode::kPoolCancel) &&
        op.obj == request) {
      return true;
    }
  }
  return false;
}

TEST(DifferentialTest, HomeProgramsAgreeOnEveryOutcomeOnBothGenerations) {
  int compared = 0, with_requests = 0, with_bh_runs = 0;
  uint64_t seed = 1;
  for (const char* id : {"bh", "timer", "pool", "notify", "mixed"}) {
    const Suite& suite = *FindSuite(id);
    for (int i = 0; i < kProgramsPerSuite; ++i) {
      Program p;
      p.threads.push_back(GenThreadOps(suite, /*foreign=*/false, Mode::kDocumented, 0,
                                       core::AioGeneration::kModern, kOps)(
                              rc::Random(seed++), kOps)
                              .value());
      ASSERT_TRUE(Conforms(p, suite, Mode::kDocumented, 0, core::AioGeneration::kLegacy))
          << Encode(p);
      for (uint64_t schedule = 0; schedule < kSchedules; ++schedule) {
        const GenRun legacy = RunOnce(p, core::AioGeneration::kLegacy, schedule);
        const GenRun modern = RunOnce(p, core::AioGeneration::kModern, schedule);
        const std::string where = std::string(id) + " program " + Encode(p) +
                                  " schedule " + std::to_string(schedule);
        ASSERT_EQ(legacy.kind, sim::FailureKind::kNone) << where << ": " << legacy.message;
        ASSERT_EQ(modern.kind, sim::FailureKind::kNone) << where << ": " << modern.message;
        ASSERT_TRUE(legacy.outcome.reached && modern.outcome.reached) << where;
        EXPECT_EQ(legacy.outcome.bh_runs, modern.outcome.bh_runs) << where;
        EXPECT_EQ(legacy.outcome.oneshot_runs, modern.outcome.oneshot_runs) << where;
        for (int oneshot : modern.outcome.oneshot_runs) EXPECT_EQ(oneshot, 1) << where;
        bool any_request = false, any_bh = false;
        for (size_t r = 0; r < legacy.outcome.request_rets.size(); ++r) {
          const auto& a = legacy.outcome.request_rets[r];
          const auto& b = modern.outcome.request_rets[r];
          EXPECT_EQ(a.size(), b.size()) << where << " request p" << r;
          any_request |= !a.empty();
          if (!Cancels(p, static_cast<int>(r))) {
            EXPECT_EQ(a, b) << where << " request p" << r;
          }
        }
        for (int runs : legacy.outcome.bh_runs) any_bh |= runs > 0;
        with_requests += any_request ? 1 : 0;
        with_bh_runs += any_bh ? 1 : 0;
        ++compared;
      }
    }
  }
  std::printf("%d executions compared per generation; %d with a pool request, %d with a "
              "BH that ran\n",
              compared, with_requests, with_bh_runs);
  // The comparison means something only if the programs exercise the pool and BHs.
  EXPECT_GT(with_requests, compared / 10);
  EXPECT_GT(with_bh_runs, compared / 4);
}

}  // namespace
}  // namespace aiosim::properties
