// properties/tests/property_test.cc — the property suites (CTest label `property`):
// on fixed code every suite passes in documented mode and reaches its coverage
// probes; with a race present or a fix reverted, the properties alone find it; a
// failure's two reproduce lines each reproduce it.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Budgets: kPrograms programs of kExecutions interleavings each by default (a fifth
// under a sanitizer); AIOSIM_EXECUTIONS, RC_PARAMS (max_success, seed) and
// AIOSIM_PROP_MODE scale them for nightly runs (docs/properties.md).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/aio/qemu_timer.h"
#include "properties/driver.h"
#include "properties/harness.h"
#include "sim/tests/scale.h"

namespace aiosim::properties {
namespace {

using testing::kSanitized;

constexpr int kPrograms = kSanitized ? 12 : 40;
constexpr uint64_t kExecutions = kSanitized ? 40 : 100;

PropertySettings Settings(const std::string& suite, Mode mode, const std::string& revert,
                          const std::string& fix) {
  PropertySettings s;
  s.suite = FindSuite(suite);
  s.mode = mode;
  s.revert = revert;
  s.fix = fix;
  s.programs = kPrograms;
  absl::StatusOr<uint64_t> executions = ExecutionsFromEnv(kExecutions);
  EXPECT_TRUE(executions.ok()) << executions.status();
  s.executions = executions.ok() ? *executions : kExecutions;
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  s.test_id = absl::StrCat(info->test_suite_name(), "/", info->name());
  return s;
}

std::string ProbeText(const ProbeCounts& p) {
  std::vector<std::string> lines;
  for (int i = 0; i < kProbeCount; ++i) {
    lines.push_back(absl::StrCat(ProbeName(i), ": ", p.hits[i]));
  }
  return absl::StrCat(p.executions, " executions; ", absl::StrJoin(lines, ", "));
}

// ---- fixed code: nothing found, the hard places reached ------------------------------

struct CleanCase {
  std::string suite;
  std::vector<Probe> probes;  // each must be reached within the budget
  core::AioGeneration generation = core::AioGeneration::kLegacy;
};

class FixedCodeTest : public ::testing::TestWithParam<CleanCase> {};

TEST_P(FixedCodeTest, PassesInDocumentedModeAndReachesItsProbes) {
  absl::StatusOr<Mode> mode = ModeFromEnv(Mode::kDocumented);
  ASSERT_TRUE(mode.ok()) << mode.status();
  const bool modern = GetParam().generation == core::AioGeneration::kModern;
  // QEMU 10.2 is the fixed code there: it has every later fix of the catalog.
  PropertySettings s = Settings(GetParam().suite, *mode, "none", modern ? "none" : FixedSwitchIds());
  s.generation = GetParam().generation;
  const PropertyResult r = RunProperty(s);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_FALSE(r.failed) << r.text;
  std::printf("suite %s: %d programs, %llu executions in %.1f s; probes: %s\n",
              GetParam().suite.c_str(), r.programs,
              static_cast<unsigned long long>(r.executions), r.seconds,
              ProbeText(r.probes).c_str());
  for (Probe p : GetParam().probes) {
    EXPECT_GT(r.probes.hits[p], 0u) << "probe " << ProbeName(p) << " never reached in "
                                    << r.executions << " executions";
  }
}

INSTANTIATE_TEST_SUITE_P(
    Suites, FixedCodeTest,
    ::testing::Values(
        CleanCase{"bh", {kProbeScheduleWhileWalking, kProbeCancelBeforeCallback}},
        CleanCase{"fd", {kProbeHandlerRemovedInDispatch}},
        CleanCase{"timer", {kProbeTimerInBlockingPoll}},
        CleanCase{"pool", {kProbeCompletionInNestedPoll}},
        CleanCase{"notify", {kProbeNotifyWhileNotifyMe}},
        CleanCase{"mixed", {}}),
    [](const auto& info) { return info.param.suite; });

// The same suites on QEMU 10.2 (no external clients, no foreign aio_poll; foreign fd
// handler changes generated in documented mode), where every probe is reachable too.
constexpr core::AioGeneration kModern = core::AioGeneration::kModern;
INSTANTIATE_TEST_SUITE_P(
    Modern, FixedCodeTest,
    ::testing::Values(
        CleanCase{"bh", {kProbeScheduleWhileWalking, kProbeCancelBeforeCallback}, kModern},
        CleanCase{"fd", {kProbeHandlerRemovedInDispatch}, kModern},
        CleanCase{"timer", {kProbeTimerInBlockingPoll}, kModern},
        CleanCase{"pool", {kProbeCompletionInNestedPoll}, kModern},
        CleanCase{"notify", {kProbeNotifyWhileNotifyMe}, kModern},
        CleanCase{"mixed", {}, kModern}),
    [](const auto& info) { return info.param.suite; });

// ---- races present or reverted: the properties find them ----------------------------

struct FindCase {
  std::string name;
  std::string suite;
  Mode mode;
  std::string revert;
  std::string fix;
  std::vector<sim::FailureKind> kinds;  // any of these
  std::string clause;                   // if set, the failure's identity names it
  // The budget; the search stops at the first failure.
  int programs = 200;
  uint64_t executions = 100;
  std::string strategy = "both";
  core::AioGeneration generation = core::AioGeneration::kLegacy;
  // What CTest's test list shows for the parameter (not its bytes).
  friend void PrintTo(const FindCase& c, std::ostream* os) { *os << c.name; }
};

class FindsTest : public ::testing::TestWithParam<FindCase> {};

TEST_P(FindsTest, TheRaceIsFoundByThePropertiesAlone) {
  const FindCase& c = GetParam();
  if (kSanitized) {
    // The search is deterministic: the same programs and executions as the dev
    // preset's, which checks the find; here it would only cost CI minutes.
    GTEST_SKIP() << "the dev preset runs this search (identical executions)";
  }
  PropertySettings s = Settings(c.suite, c.mode, c.revert, c.fix);
  s.programs = c.programs;
  s.executions = c.executions;
  s.strategy = c.strategy;
  s.generation = c.generation;
  const PropertyResult r = RunProperty(s);
  ASSERT_TRUE(r.error.empty()) << r.error;
  ASSERT_TRUE(r.failed) << c.name << " not found in " << r.programs << " programs, "
                        << r.executions << " executions";
  std::printf("%s: first failure after %llu executions (%.1f s); minimal:\n%s\n",
              c.name.c_str(), static_cast<unsigned long long>(r.first_failure_executions),
              r.first_failure_seconds, r.text.c_str());
  ASSERT_TRUE(r.report.found) << r.text;
  const sim::FailureKind kind = r.report.failing.failure.kind;
  EXPECT_NE(std::find(c.kinds.begin(), c.kinds.end(), kind), c.kinds.end())
      << sim::FailureKindName(kind) << "\n" << r.text;
  if (!c.clause.empty()) {
    EXPECT_NE(r.report.failing.failure.where.find(c.clause), std::string::npos) << r.text;
  }
  EXPECT_NE(r.text.find("RC_PARAMS=\"reproduce="), std::string::npos) << r.text;
  EXPECT_NE(r.text.find("aiosim replay aiosim2:"), std::string::npos) << r.text;
}

using K = sim::FailureKind;
INSTANTIATE_TEST_SUITE_P(
    Races, FindsTest,
    ::testing::Values(
        // R9 as 2.8.1 shipped it: a foreign non-blocking aio_poll (under acquire)
        // clears the eventfd a blocking home poll waits on.
        FindCase{"R9", "notify", Mode::kDocumented, "none", "none", {K::kLostWakeup}, ""},
        // R4 reverted, on 3.1's code (R9-accept: foreign non-blocking polls still
        // allowed, and no longer steal the eventfd themselves).
        FindCase{"R4", "notify", Mode::kDocumented, "R4", "R9-accept,R10",
                 {K::kLostWakeup}, ""},
        // P1, which these suites found: 2.8.1's qemu_bh_schedule of a BH scheduled
        // as idle does not notify (every other later fix applied). PCT finds it in
        // about 36,000 executions, random search (and so "both") in about 146,000.
        FindCase{"P1", "bh", Mode::kDocumented, "none",
                 "R10,R12,R18-expired,R8,R9-accept,R9-home", {K::kLostWakeup}, "",
                 /*programs=*/800, /*executions=*/100, /*strategy=*/"pct"},
        // R1 reverted: qemu_bh_schedule reads bh->ctx after publishing, while the BH's
        // own callback deletes it (a self-deleting BH scheduled from a foreign thread).
        FindCase{"R1", "bh", Mode::kDocumented, "R1", "P1,R10,R8,R9-accept,R9-home",
                 {K::kUseAfterFree}, ""},
        // R10 as shipped: aio_enable_external does not notify a sleeping poll.
        // The costliest find: about 112,000 executions (about 17 s in the dev build).
        FindCase{"R10", "fd", Mode::kDocumented, "none", "R8,R9-accept,R9-home",
                 {K::kLostWakeup}, "", /*programs=*/400, /*executions=*/400},
        // R16 reverted: a nested aio_bh_poll (a BH that polls) frees a BH the outer
        // walk still holds.
        FindCase{"R16", "bh", Mode::kDocumented, "R16", "P1,R10,R8,R9-accept,R9-home",
                 {K::kUseAfterFree}, ""},
        // R7 reverted: 2.0's synchronous cancel returns before the callback ran.
        FindCase{"R7", "pool", Mode::kDocumented, "R7", "P1,R10,R8,R9-accept,R9-home",
                 {K::kAssertion, K::kUseAfterFree}, ""},
        // S3 in strict mode: a foreign qemu_bh_cancel returns and the callback runs.
        FindCase{"S3", "bh", Mode::kStrict, "none", "P1,R10,R8,R9-accept,R9-home",
                 {K::kAssertion}, "properties:C3"},
        // R11 in misuse mode: aio_set_fd_handler from a foreign thread.
        FindCase{"R11", "fd", Mode::kMisuse, "none", "P1,R10,R8,R9-accept,R9-home",
                 {K::kDataRace, K::kUseAfterFree, K::kAssertion}, ""},
        // S7 in misuse mode: thread_pool_submit_aio from a foreign thread (the seed's
        // guess). Found as the data race on ctx->thread_pool in aio_get_thread_pool
        // (the pool is created lazily, by whichever thread submits first).
        FindCase{"S7", "pool", Mode::kMisuse, "none", "P1,R10,R8,R9-accept,R9-home",
                 {K::kDataRace, K::kUseAfterFree, K::kAssertion}, ""},
        // R6 reverted: a completion callback that waits in a nested aio_poll for
        // another request (2.0's completion BH is not rescheduled), found as the
        // lost wakeup.
        FindCase{"R6", "pool", Mode::kDocumented, "R6", "P1,R10,R8,R9-accept,R9-home",
                 {K::kLostWakeup}, ""},
        // R18 reverted (e4efd8a488, 2.4): timers_done_ev starts unset, so the first
        // qemu_clock_enable(false) waits for timers that never ran: a deadlock.
        FindCase{"R18", "timer", Mode::kDocumented, "R18-done-ev",
                 "P1,R10,R8,R9-accept,R9-home", {K::kDeadlock}, ""},
        // R3 reverted (2.1-2.3's ctx->dispatching): found as the data race on that
        // flag, which a foreign aio_notify reads while the home thread writes it; the
        // race detector is on in property runs, so the lost wakeup comes second.
        FindCase{"R3", "notify", Mode::kDocumented, "R3", "P1,R10,R8,R9-accept,R9-home",
                 {K::kDataRace, K::kLostWakeup}, ""},
        // S1's lock removed (aio_bh_new without ctx->bh_lock; an ablation, not a QEMU
        // version): foreign creations race on the BH list.
        FindCase{"S1", "bh", Mode::kDocumented, "S1-no-lock", "P1,R10,R8,R9-accept,R9-home",
                 {K::kDataRace, K::kAssertion, K::kUseAfterFree}, ""}),
    [](const auto& info) { return info.param.name; });

// On QEMU 10.2: what the catalog declares there, found by the properties alone.
INSTANTIATE_TEST_SUITE_P(
    Modern, FindsTest,
    ::testing::Values(
        // S3 in strict mode: the cancel is a fetch_and on the flag word, but a dequeue
        // that already saw SCHEDULED runs the callback after it returned.
        FindCase{"S3", "bh", Mode::kStrict, "none", "none", {K::kAssertion}, "properties:C3",
                 200, 100, "both", kModern},
        // A foreign aio_set_fd_handler(NULL) is legal in 10.2, but a home dispatch
        // already past its node_deleted check calls the handler after it returned
        // (R11's op=update on modern, seen for a removal): strict mode judges it.
        FindCase{"R11_remove", "fd", Mode::kStrict, "none", "none", {K::kAssertion},
                 "properties:C6", 200, 100, "both", kModern},
        // S7 in misuse mode: a foreign thread_pool_submit_aio fails 8.0's assertion.
        FindCase{"S7", "pool", Mode::kMisuse, "none", "none",
                 {K::kAssertion, K::kDataRace}, "",
                 200, 100, "both", kModern},
        // R6 reverted in 10.2's completion BH (no self-reschedule before a callback).
        FindCase{"R6", "pool", Mode::kDocumented, "R6", "none", {K::kLostWakeup}, "",
                 200, 100, "both", kModern},
        // R18 reverted in 10.2's timer lists: timers_done_ev starts unset.
        FindCase{"R18", "timer", Mode::kDocumented, "R18-done-ev", "none", {K::kDeadlock},
                 "", 200, 100, "both", kModern}),
    [](const auto& info) { return info.param.name; });

// R10 (aio_enable_external does not notify a sleeping poll) takes the generated fd
// programs about 112,000 executions (FindsTest/R10); this checks the model's verdict
// on the program that shows it, and that 2.10's fix removes it, in seconds.
TEST(ModelTest, JudgesR10OnTheProgramThatShowsIt) {
  PropertySettings s = Settings("fd", Mode::kDocumented, "none", "R8,R9-accept,R9-home");
  s.executions = 2000;
  const Program p = *Decode("X0,W,W/d,E0,e");
  const sim::Report shipped = ExploreProgram(s, p, false, nullptr);
  ASSERT_TRUE(shipped.found);
  EXPECT_EQ(shipped.failure.kind, sim::FailureKind::kLostWakeup) << shipped.failure.message;
  EXPECT_NE(shipped.failure.message.find("notifier e0 is set"), std::string::npos);
  s.fix = "R10,R8,R9-accept,R9-home";
  const sim::Report fixed = ExploreProgram(s, p, false, nullptr);
  EXPECT_FALSE(fixed.found) << fixed.failure.message;
}

// The clock clause (C7: no timer callback runs once qemu_clock_enable(false) has
// returned) never fails on this build, so a canary shows it can: with the core's
// test-only switch, qemu_clock_enable(false) skips its wait for timers_done_ev. The
// window needs two preemptions (the home thread stopped between timer_mod and the
// disable, the foreign poller stopped inside the callback), which random and PCT
// schedules hit too rarely, so this searches the program exhaustively at bound 2:
// with the wait (2.8.1) the search is clean, without it the clause fires.
sim::Report SearchClockProgram() {
  HarnessConfig cfg;
  cfg.program = *Decode("T0.0,G/P");  // home: timer_mod(t0, now), G; foreign: aio_poll
  cfg.mode = Mode::kDocumented;
  sim::RunConfig rc;
  rc.scenario = "prop-timer";
  rc.strategy = "dfs";
  rc.preemptions = 2;
  rc.executions_max = 200000;
  rc.exec = PropertyExecOptions();
  rc.minimize = false;
  return sim::Explore(MakeBody(cfg), rc);
}

TEST(ModelTest, ClockClauseHoldsAndCatchesADisableThatDoesNotWait) {
  if (kSanitized) GTEST_SKIP() << "a search; the same deterministic executions as dev";
  const sim::Report shipped = SearchClockProgram();
  EXPECT_FALSE(shipped.found) << shipped.failure.message;
  EXPECT_TRUE(shipped.exhausted) << shipped.executions << " executions";

  struct Restore {
    ~Restore() { core::aio_test_clock_enable_skips_wait = false; }
  } restore;
  core::aio_test_clock_enable_skips_wait = true;
  const sim::Report canary = SearchClockProgram();
  ASSERT_TRUE(canary.found) << "the canary was not caught in " << canary.executions;
  EXPECT_NE(canary.failure.message.find("timer callback was running"), std::string::npos)
      << canary.failure.message;
}

// ---- reproduction -------------------------------------------------------------------

TEST(ReproduceTest, BothLinesOfAFailureReproduceIt) {
  PropertySettings s = Settings("notify", Mode::kDocumented, "none", "none");
  s.programs = 200;
  s.executions = 100;
  const PropertyResult r = RunProperty(s);
  ASSERT_TRUE(r.failed && r.report.found) << r.error;

  // 1. RapidCheck's line: the same program, the same failure.
  const std::string prefix = "RC_PARAMS=\"";
  ASSERT_EQ(r.rc_reproduce.rfind(prefix, 0), 0u) << r.rc_reproduce;
  PropertySettings again = s;
  again.rc_params = r.rc_reproduce.substr(prefix.size(),
                                          r.rc_reproduce.size() - prefix.size() - 1);
  const PropertyResult r2 = RunProperty(again);
  ASSERT_TRUE(r2.failed) << r2.error;
  EXPECT_EQ(Encode(r2.program), Encode(r.program));
  EXPECT_TRUE(sim::SameFailure(r2.report.failing.failure, r.report.failing.failure));
  EXPECT_EQ(r2.token, r.token);

  // 2. The token: replayed without RapidCheck, through the scenario it names.
  absl::StatusOr<sim::TokenData> token = sim::DecodeToken(r.token);
  ASSERT_TRUE(token.ok()) << token.status();
  const scenarios::Scenario* scenario = FindPropertyScenario(token->scenario);
  ASSERT_NE(scenario, nullptr) << token->scenario;
  sim::RunConfig config;
  ASSERT_TRUE(sim::ApplyTokenOptions(*token, &config).ok());
  absl::StatusOr<scenarios::Options> options = scenarios::ResolveOptions(*scenario, config.options);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(scenarios::OptionValue(*options, "program"), Encode(r.program));
  absl::StatusOr<sim::ReplayResult> replayed =
      sim::ReplayToken(scenario->make(*options), *token);
  ASSERT_TRUE(replayed.ok()) << replayed.status();
  EXPECT_TRUE(sim::SameFailure(replayed->result.failure, r.report.failing.failure))
      << sim::FailureKindName(replayed->result.failure.kind) << ": "
      << replayed->result.failure.message;
}

TEST(ReproduceTest, ABadProgramOptionIsOneLine) {
  const scenarios::Scenario* s = FindPropertyScenario("prop-bh");
  ASSERT_NE(s, nullptr);
  absl::StatusOr<scenarios::Options> o = scenarios::ResolveOptions(*s, {{"program", "S9"}});
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(std::string(o.status().message()).find('\n'), std::string::npos);
  EXPECT_NE(std::string(o.status().message()).find("program"), std::string::npos);
}

}  // namespace
}  // namespace aiosim::properties
