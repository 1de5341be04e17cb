// scenarios/tests/scenario_test.cc — every catalog scenario must produce its declared
// outcome under every strategy: the expected failure found by random and PCT within
// 10,000 executions and by exhaustive search with at most 2 preemptions, minimised,
// with a token that replays the identical trace; or, where no failure is expected,
// none under the same budgets.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <string>
#include <vector>

#include "core/aio/aio.h"
#include "gtest/gtest.h"
#include "scenarios/catalog.h"
#include "scenarios/check.h"
#include "sim/race.h"
#include "sim/tests/scale.h"

namespace aiosim::scenarios {
namespace {

struct Case {
  std::string id;
  Options options;
  std::string strategy;
  bool races = false;  // race detection on, QEMU 2.8's known races let through
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.id << " " << c.strategy << (c.races ? " races" : "");
  for (const auto& [k, v] : c.options) *os << " " << k << "=" << v;
}

std::string Name(const ::testing::TestParamInfo<Case>& info) {
  std::string n =
      info.param.id + "_" + info.param.strategy + (info.param.races ? "_races" : "");
  for (const auto& [k, v] : info.param.options) n += "_" + k + "_" + v;
  for (char& ch : n) {
    if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return n;
}

class ScenarioTest : public ::testing::TestWithParam<Case> {};

TEST_P(ScenarioTest, ProducesItsDeclaredOutcome) {
  const Case& k = GetParam();
  const Scenario* s = FindScenario(k.id);
  ASSERT_NE(s, nullptr);
  absl::StatusOr<Options> options = ResolveOptions(*s, k.options);
  ASSERT_TRUE(options.ok()) << options.status();
  const sim::FailureKind expected = s->expected(*options);

  sim::RunConfig config;
  config.scenario = s->id;
  config.options = *options;
  config.strategy = k.strategy;
  config.seed = 1;
  // Searches that find their failure stop there; "nothing found" runs the whole budget
  // (a fifth of it under a sanitizer, sim/tests/scale.h).
  config.executions_max = expected == sim::FailureKind::kNone ? aiosim::testing::Scaled(10000)
                           : k.strategy == "dfs"              ? s->dfs_find_executions
                                                              : 10000;
  config.preemptions = 2;
  config.pct_depth = s->pct_depth;
  config.exec.race_detection = k.races;
  sim::Body body = s->make(*options);
  sim::Report r = sim::Explore(body, config);

  if (expected == sim::FailureKind::kNone) {
    EXPECT_FALSE(r.found) << sim::FailureKindName(r.failure.kind) << ": "
                          << r.failure.message << "\n"
                          << sim::FormatSchedule(r.failing) << r.token;
    return;
  }
  ASSERT_TRUE(r.found) << "not found in " << r.executions << " executions ("
                       << r.figures.description << ")";
  // With races on, a variant whose bug is itself a data race may report that first.
  EXPECT_TRUE(AcceptsKind(*s, *options, k.races, r.failure.kind))
      << sim::FailureKindName(r.failure.kind) << ": " << r.failure.message << "\n"
      << sim::FormatSchedule(r.failing);
  EXPECT_LE(r.failing.preemptions, 2) << sim::FormatSchedule(r.failing);
  if (k.strategy == "dfs") {
    EXPECT_LE(r.original_preemptions, 2);
  }

  // The token replays the minimised execution exactly.
  absl::StatusOr<sim::TokenData> token = sim::DecodeToken(r.token);
  ASSERT_TRUE(token.ok()) << token.status();
  absl::StatusOr<sim::ReplayResult> again = sim::ReplayToken(body, *token);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->result.failure.kind, r.failure.kind) << again->result.failure.message;
  EXPECT_EQ(again->result.trace_hash, r.failing.trace_hash);
  RecordProperty("executions", static_cast<int>(r.executions));
  std::printf(
      "%s %s: %s after %llu executions (%.0f/s), minimised %d->%d preemptions, "
      "%llu->%llu steps\n",
      k.id.c_str(), k.strategy.c_str(), sim::FailureKindName(r.failure.kind),
      static_cast<unsigned long long>(r.executions), r.executions_per_second,
      r.original_preemptions, r.failing.preemptions,
      static_cast<unsigned long long>(r.original_steps),
      static_cast<unsigned long long>(r.failing.steps));
}

// Every scenario of the catalog, with each of its option variants (each option value
// and each switch alone, OptionVariants), under every strategy; and with the race
// detector on, the variants that declare a failure (random: they stop at it). The
// "none" variants with races are left to `aiosim check --races` (10,000 executions
// with the detector take 10-20 s each in this build).
std::vector<Case> AllCases() {
  std::vector<Case> cases;
  for (const char* strategy : {"random", "pct", "dfs"}) {
    for (const Scenario& s : Catalog()) {
      for (const Options& o : OptionVariants(s)) {
        // Under a sanitizer, a variant that must find nothing runs random only (its
        // budget scaled): scripts/test's `aiosim check` in the release build runs every
        // strategy on it in full, with the exhaustive search to its bound.
        const bool none = s.expected(o) == sim::FailureKind::kNone;
        if (aiosim::testing::kSanitized && none && std::string(strategy) != "random") {
          continue;
        }
        cases.push_back({s.id, o, strategy});
      }
    }
    // The modern generation's cases (generation=modern in their options), for the
    // scenarios that run there.
    absl::StatusOr<std::vector<CheckCase>> modern =
        CheckCases({}, core::AioGeneration::kModern, nullptr);
    if (modern.ok()) {
      for (const CheckCase& c : *modern) {
        if (aiosim::testing::kSanitized && c.expected == sim::FailureKind::kNone &&
            std::string(strategy) != "random") {
          continue;
        }
        cases.push_back({c.scenario->id, c.options, strategy});
      }
    }
  }
  for (const Scenario& s : Catalog()) {
    for (const Options& o : OptionVariants(s)) {
      if (s.expected(o) != sim::FailureKind::kNone)
        cases.push_back({s.id, o, "random", true});
    }
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Catalog, ScenarioTest, ::testing::ValuesIn(AllCases()), Name);

// The determinism self-check: every seed's execution, run twice, gives the same
// choices and the same trace hash — for every scenario (one test each, so that ctest
// spreads them over its jobs) and option value.
class DeterminismTest : public ::testing::TestWithParam<std::string> {};

TEST_P(DeterminismTest, ThousandSeedsRunTwiceGiveIdenticalTraces) {
  const Scenario* s = FindScenario(GetParam());
  ASSERT_NE(s, nullptr);
  std::vector<Options> variants = OptionVariants(*s);
  absl::StatusOr<std::vector<CheckCase>> modern =
      CheckCases({s->id}, core::AioGeneration::kModern, nullptr);
  if (modern.ok()) {
    for (const CheckCase& c : *modern) variants.push_back(c.options);
  }
  for (const Options& options : variants) {
    sim::ExecOptions exec;
    std::vector<uint64_t> bad =
        sim::DeterminismCheck(s->make(options), exec, 1, aiosim::testing::Scaled(1000));
    EXPECT_TRUE(bad.empty()) << s->id << ": " << bad.size() << " seeds differ, first "
                             << (bad.empty() ? 0 : bad.front());
  }
}

std::vector<std::string> CatalogIds() {
  std::vector<std::string> ids;
  for (const Scenario& s : Catalog()) ids.push_back(s.id);
  return ids;
}

INSTANTIATE_TEST_SUITE_P(Catalog, DeterminismTest, ::testing::ValuesIn(CatalogIds()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

// A token recorded before the core changed (a test-only switch adds one scheduling
// point to qemu_bh_schedule) replays as replay-diverged, saying where; after the
// switch is reset it replays exactly again. R9 never calls qemu_bh_schedule: the
// change does not touch its execution, and its token still replays exactly.
TEST(TokenTest, ATokenReplayedAgainstAChangedCoreIsReplayDiverged) {
  for (const char* id : {"S3", "R4", "R9"}) {
    const bool touched = std::string(id) != "R9";
    const Scenario* s = FindScenario(id);
    ASSERT_NE(s, nullptr);
    Options given;
    if (std::string(id) == "R4") given = {{"revert", "R4"}};
    absl::StatusOr<Options> options = ResolveOptions(*s, given);
    ASSERT_TRUE(options.ok());
    sim::RunConfig config;
    config.scenario = s->id;
    config.options = *options;
    sim::Body body = s->make(*options);
    sim::Report r = sim::Explore(body, config);
    ASSERT_TRUE(r.found) << id;
    absl::StatusOr<sim::TokenData> token = sim::DecodeToken(r.token);
    ASSERT_TRUE(token.ok());
    core::aio_test_extra_bh_read = true;
    absl::StatusOr<sim::ReplayResult> changed = sim::ReplayToken(body, *token);
    core::aio_test_extra_bh_read = false;
    ASSERT_TRUE(changed.ok()) << changed.status();
    if (touched) {
      EXPECT_EQ(changed->result.failure.kind, sim::FailureKind::kReplayDiverged)
          << id << ": " << changed->result.failure.message;
      EXPECT_NE(changed->result.failure.message.find("step"), std::string::npos)
          << changed->result.failure.message;
    } else {
      EXPECT_EQ(changed->result.failure.kind, s->expected(*options)) << id;
      EXPECT_EQ(changed->result.trace_hash, r.failing.trace_hash) << id;
    }
    absl::StatusOr<sim::ReplayResult> same = sim::ReplayToken(body, *token);
    ASSERT_TRUE(same.ok());
    EXPECT_EQ(same->result.failure.kind, s->expected(*options))
        << same->result.failure.message;
    EXPECT_EQ(same->result.trace_hash, r.failing.trace_hash);
  }
}

TEST(KnownRacesTest, TheTsanListIsTheSimulatorsList) {
  (void)Catalog();
  const sim::KnownRaces* known = sim::GetKnownRaces();
  ASSERT_NE(known, nullptr) << "the catalog registers docs/tsan-known-races.txt";
  std::vector<std::string> ids;
  for (const auto& g : known->groups()) {
    ids.push_back(g.id);
    EXPECT_FALSE(g.pairs.empty()) << g.id;
    EXPECT_FALSE(g.description.empty()) << g.id;
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8",
                                           "T9", "T10", "T11", "T12"}));
  // The modern core's races are listed under modern:: names: a legacy entry never
  // lets a modern race through by its bare name, nor the reverse.
  const sim::KnownRaces::Group* m =
      known->Match("modern::bh_list_insert_head_atomic", "modern::aio_bh_poll");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->id, "T11");
  EXPECT_EQ(known->Match("bh_list_insert_head_atomic", "aio_bh_poll"), nullptr);
  EXPECT_EQ(known->Match("modern::aio_poll", "modern::aio_notify"), nullptr);
  const sim::KnownRaces::Group* g = known->Match("aio_poll", "aio_notify");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->id, "T3");
  EXPECT_EQ(known->Match("aio_notify", "aio_poll"), g);
  EXPECT_EQ(known->Match("aio_notify", "main"), nullptr);
  EXPECT_FALSE(sim::KnownRaces::Parse("a | b\n").ok());
  EXPECT_FALSE(sim::KnownRaces::Parse("# T1: x\nnot a pair\n").ok());
}

TEST(CatalogTest, OptionsAreValidatedWithAOneLineError) {
  const Scenario* s = FindScenario("r4");
  ASSERT_NE(s, nullptr);
  EXPECT_FALSE(ResolveOptions(*s, {{"revert", "R5"}}).ok());
  EXPECT_FALSE(ResolveOptions(*s, {{"bogus", "1"}}).ok());
  EXPECT_EQ(FindScenario("S99"), nullptr);
  absl::StatusOr<Options> o = ResolveOptions(*s, {});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(OptionValue(*o, "revert"), "none");
  EXPECT_FALSE(ParseOption("novalue").ok());
}

}  // namespace
}  // namespace aiosim::scenarios
