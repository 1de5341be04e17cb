// scenarios/tests/catalog_test.cc — the catalog is complete and consistent: every race
// of QEMU's history that 2.8.1 has or fixed is run by a scenario, every fixed race can
// be put back by a switch that a scenario runs, every seed claim has a scenario and a
// verdict, and every switch belongs to a race (or is an ablation) and is run somewhere.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "scenarios/catalog.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "scenarios/check.h"
#include "scenarios/claims.h"
#include "scenarios/races.h"

namespace aiosim::scenarios {
namespace {

bool Contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

std::vector<const Scenario*> ScenariosFor(const std::string& id) {
  std::vector<const Scenario*> out;
  for (const Scenario& s : Catalog()) {
    if (Contains(s.catalog, id)) out.push_back(&s);
  }
  return out;
}

// The race a switch id belongs to: "R9-accept" -> "R9".
std::string RaceOf(const std::string& switch_id) {
  return switch_id.substr(0, switch_id.find('-'));
}

TEST(CatalogTest, EveryRaceThatLegacyHasOrFixedIsRunByAScenario) {
  for (const RaceEntry& r : Races()) {
    if (r.legacy != RaceStatus::kPresent && r.legacy != RaceStatus::kFixed) continue;
    EXPECT_FALSE(ScenariosFor(r.id).empty())
        << r.id << " (" << RaceStatusName(r.legacy) << ") has no scenario";
  }
}

TEST(CatalogTest, EveryFixedRaceCanBeRevertedInAScenarioThatRunsIt) {
  for (const RaceEntry& r : Races()) {
    if (r.legacy != RaceStatus::kFixed) continue;
    bool reverted = false;
    for (const Scenario* s : ScenariosFor(r.id)) {
      for (const std::string& id : s->reverts) reverted |= RaceOf(id) == r.id;
    }
    EXPECT_TRUE(reverted) << r.id
                          << " is fixed in 2.8.1 but no scenario of it has --revert";
  }
}

TEST(CatalogTest, EverySwitchBelongsToARaceOrIsAnAblationAndIsRun) {
  for (const Switch& sw : Switches()) {
    const RaceEntry* race = FindRace(RaceOf(sw.id));
    if (race == nullptr) {
      // Not QEMU: an ablation for a seed claim ("S1-no-lock").
      EXPECT_TRUE(absl::StartsWith(sw.id, "S")) << sw.id << " names no race";
      EXPECT_GE(sw.bit, 1u << 24) << sw.id << ": ablations use bits 24 and up";
    } else {
      // A revert undoes a fix 2.8.1 has. A later fix applies to a race 2.8.1 has —
      // present, weak-memory only, or one item of a group (R18: 2.8.1 has the
      // timers_done_ev fix but not the '<=' one).
      if (sw.revert) {
        EXPECT_EQ(race->legacy, RaceStatus::kFixed) << sw.id << ": revert of no fix";
      } else {
        EXPECT_NE(race->legacy, RaceStatus::kNotApplicable) << sw.id;
      }
    }
    // Observable only with a weak memory model: no scenario can run it yet.
    if (race != nullptr && race->legacy == RaceStatus::kWeakMemory) continue;
    bool run = false;
    for (const Scenario& s : Catalog()) {
      run |= Contains(sw.revert ? s.reverts : s.fixes, sw.id);
    }
    EXPECT_TRUE(run) << "switch " << sw.id << " is run by no scenario";
  }
}

TEST(CatalogTest, EverySeedClaimHasAScenarioAndAVerdict) {
  ASSERT_EQ(Claims().size(), 8u);
  for (const Claim& c : Claims()) {
    EXPECT_FALSE(ScenariosFor(c.id).empty()) << c.id << " has no scenario";
    EXPECT_TRUE(c.verdict == "confirmed" || c.verdict == "refuted" ||
                c.verdict == "documented race" || c.verdict == "needs weak memory")
        << c.id << ": verdict '" << c.verdict << "'";
    EXPECT_FALSE(c.why.empty()) << c.id;
  }
}

TEST(CatalogTest, CatalogIdsNameRacesOrClaims) {
  for (const Scenario& s : Catalog()) {
    EXPECT_FALSE(s.catalog.empty()) << s.id;
    for (const std::string& id : s.catalog) {
      const bool claim = std::any_of(Claims().begin(), Claims().end(),
                                     [&](const Claim& c) { return c.id == id; });
      EXPECT_TRUE(claim || FindRace(id) != nullptr) << s.id << ": catalog id " << id;
    }
  }
}

// A declared "none" whose DFS did not finish within its budget is not ok, and the
// evidence says how far the search got, not only that it was not exhausted.
TEST(CheckTest, ANoneCaseWhoseSearchIsNotExhaustedFailsAndSaysHowFarItGot) {
  absl::StatusOr<std::vector<CheckCase>> cases = CheckCases({"S5"});
  ASSERT_TRUE(cases.ok()) << cases.status();
  const CheckCase* none = nullptr;
  for (const CheckCase& c : *cases) {
    if (c.expected == sim::FailureKind::kNone) none = &c;
  }
  ASSERT_NE(none, nullptr);
  CheckBudget budget;
  budget.executions = 50;
  budget.exhaust_executions = 100;  // S5's bound-3 search needs about 100,000
  const CheckResult r = CheckOne(*none, budget);
  EXPECT_FALSE(r.ok) << r.evidence;
  const CheckRun* dfs = nullptr;
  for (const CheckRun& run : r.runs) {
    if (run.strategy == "dfs") dfs = &run;
  }
  ASSERT_NE(dfs, nullptr) << r.evidence;
  EXPECT_FALSE(dfs->exhausted);
  EXPECT_LT(dfs->complete_through, dfs->bound);
  EXPECT_TRUE(absl::StrContains(r.evidence, "not exhausted after 100 (complete through "))
      << r.evidence;
  EXPECT_TRUE(absl::StrContains(dfs->why,
                                "was not exhausted in 100 executions (complete "
                                "through "))
      << dfs->why;
}

}  // namespace
}  // namespace aiosim::scenarios
