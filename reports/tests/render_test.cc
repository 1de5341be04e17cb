// reports/tests/render_test.cc — reports of real failures: R4's lost wakeup and S3's
// BH that runs after qemu_bh_cancel, found by the simulator, rendered as text,
// Markdown and JSON and compared with golden files; what a reader needs is checked
// directly (QEMU names, values, the highlighted steps, the sleep state, no simulator
// file in a listing); the JUnit XML of a table is checked for structure and escaping.
// Regenerate the golden files after an intended change with
//   AIOSIM_UPDATE_GOLDEN=1 build/dev/reports/reports_test --gtest_filter='Render*'
// SPDX-License-Identifier: GPL-2.0-or-later
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "reports/from_sim.h"
#include "reports/render.h"
#include "scenarios/catalog.h"

#ifndef AIOSIM_SOURCE_DIR
#error "AIOSIM_SOURCE_DIR must name the source tree"
#endif

namespace aiosim::reports {
namespace {

// The minimised failure of scenario `id` with `opts`, random search, seed 1.
Report FindAndReport(const std::string& id, const scenarios::Options& opts,
                     const std::string& options_text) {
  const scenarios::Scenario* s = scenarios::FindScenario(id);
  EXPECT_NE(s, nullptr);
  if (s == nullptr) return {};
  absl::StatusOr<scenarios::Options> options = scenarios::ResolveOptions(*s, opts);
  EXPECT_TRUE(options.ok()) << options.status();
  sim::RunConfig config;
  config.scenario = s->id;
  config.options = *options;
  config.strategy = "random";
  config.seed = 1;
  config.executions_max = 10000;
  sim::Report r = sim::Explore(s->make(*options), config);
  EXPECT_TRUE(r.found) << id;
  RunInfo info;
  info.scenario = id;
  info.options = options_text;
  info.token = "<token>";  // tokens carry the core's identity: kept out of the goldens
  info.search = absl::StrCat(r.executions, " executions, random walk, seed 1");
  return BuildReport(r.failing, info);
}

void Golden(const std::string& name, const std::string& got) {
  const std::string path =
      absl::StrCat(AIOSIM_SOURCE_DIR, "/reports/tests/golden/", name);
  if (const char* update = std::getenv("AIOSIM_UPDATE_GOLDEN"); update && *update == '1') {
    std::ofstream(path) << got;
    return;
  }
  std::ifstream in(path);
  ASSERT_TRUE(in.good()) << "missing " << path;
  std::stringstream want;
  want << in.rdbuf();
  EXPECT_EQ(got, want.str()) << "the report differs from " << path
                             << " (AIOSIM_UPDATE_GOLDEN=1 regenerates it)";
}

// Validates `json` against docs/report-schema.json with Debian's python3-jsonschema
// (scripts/setup); returns the validator's output ("" when valid).
std::string SchemaErrors(const std::string& json, const std::string& name) {
  const std::string dir = ::testing::TempDir();
  const std::string path = absl::StrCat(dir, "/aiosim-schema-", getpid(), "-", name, ".json");
  std::ofstream(path) << json;
  const std::string cmd = absl::StrCat(
      "/usr/bin/python3 -c 'import json, sys, jsonschema; "
      "jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))' ",
      path, " ", AIOSIM_SOURCE_DIR, "/docs/report-schema.json 2>&1");
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return "popen failed";
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof buf, p) != nullptr) out += buf;
  const int status = pclose(p);
  std::remove(path.c_str());
  return status == 0 ? std::string() : (out.empty() ? std::string("validator failed") : out);
}

bool HasHighlight(const Report& r, Highlight h, Step* found = nullptr) {
  for (const Step& s : r.steps) {
    for (Highlight x : s.highlights) {
      if (x == h) {
        if (found != nullptr) *found = s;
        return true;
      }
    }
  }
  return false;
}

TEST(RenderTest, R4LostWakeupSaysWhereTheWakeupWentAndHowTheWaiterSlept) {
  const Report r = FindAndReport("R4", {{"revert", "R4"}}, "revert=R4");
  EXPECT_EQ(r.verdict, "lost-wakeup");
  Step consumed, sleeps;
  ASSERT_TRUE(HasHighlight(r, Highlight::kWakeupConsumed, &consumed));
  ASSERT_TRUE(HasHighlight(r, Highlight::kWaiterSleeps, &sleeps));
  EXPECT_EQ(consumed.op, "fd-clear");
  EXPECT_TRUE(absl::StrContains(consumed.object, "->notifier (eventfd count)")) << consumed.object;
  // It cleared a set eventfd: "N -> 0" with N > 0.
  EXPECT_TRUE(absl::EndsWith(consumed.value, " -> 0") && consumed.value[0] != '0')
      << consumed.value;
  EXPECT_LT(consumed.step, sleeps.step);
  EXPECT_EQ(sleeps.op, "poll");
  EXPECT_FALSE(r.explanation.empty());
  // The state the waiter slept in names the wakeup machinery.
  bool notify_me = false;
  for (const StateValue& v : r.sleep_state) {
    if (absl::EndsWith(v.object, "->notify_me")) notify_me = true;
  }
  EXPECT_TRUE(notify_me);
  // Set-up folded into one row; no simulator file anywhere; values shown.
  ASSERT_FALSE(r.steps.empty());
  EXPECT_EQ(r.steps[0].kind, StepKind::kSetup);
  bool value = false;
  for (const Step& s : r.steps) {
    EXPECT_FALSE(absl::StartsWith(s.where, "sim/")) << s.where;
    if (!s.value.empty()) value = true;
  }
  EXPECT_TRUE(value);
  const std::string text = RenderText(r);
  EXPECT_TRUE(absl::StrContains(text, "bh \"work\"->scheduled")) << text;
  Golden("r4_lost_wakeup.txt", text);
  Golden("r4_lost_wakeup.md", RenderMarkdown(r));
  Golden("r4_lost_wakeup.json", RenderJson(r));
  EXPECT_EQ(SchemaErrors(RenderJson(r), "r4"), "");
}

TEST(RenderTest, S3ForeignCancelMarksTheFailingStep) {
  const Report r = FindAndReport("S3", {{"canceller", "foreign"}}, "canceller=foreign");
  EXPECT_EQ(r.verdict, "assertion");
  EXPECT_TRUE(HasHighlight(r, Highlight::kFailure));
  const std::string text = RenderText(r);
  EXPECT_TRUE(absl::StrContains(text, "->scheduled")) << text;
  Golden("s3_foreign_cancel.txt", text);
  Golden("s3_foreign_cancel.md", RenderMarkdown(r));
}

TEST(RenderTest, JUnitHasOneTestcasePerCaseAndEscapesEverything) {
  Table t;
  t.title = "aiosim check <legacy> & \"more\"";
  t.cases.push_back({"R4 revert=R4 dfs", "check legacy", "lost-wakeup", "lost-wakeup", true,
                     "exhausted at 2", 1.5, ""});
  t.cases.push_back({"X <bad> & 'q'", "check legacy", "none", "assertion", false, "", 0.25,
                     "assertion failed: a < b && c\nreproduce: aiosim replay x"});
  const std::string xml = RenderJUnit(t);
  EXPECT_TRUE(absl::StrContains(xml, "tests=\"2\" failures=\"1\"")) << xml;
  EXPECT_EQ(std::count(xml.begin(), xml.end(), '<') -
                std::count(xml.begin(), xml.end(), '>'),
            0);
  EXPECT_TRUE(absl::StrContains(xml, "name=\"X &lt;bad&gt; &amp; &#39;q&#39;\"")) << xml;
  EXPECT_TRUE(absl::StrContains(xml, "a &lt; b &amp;&amp; c")) << xml;
  EXPECT_FALSE(absl::StrContains(xml, "<bad>"));
  const std::string md = RenderMarkdown(t);
  EXPECT_TRUE(absl::StrContains(md, "**FAILED**")) << md;
  const std::string json = RenderJson(t);
  EXPECT_TRUE(absl::StrContains(json, "\"schema\":1")) << json;
  EXPECT_EQ(SchemaErrors(json, "table"), "");
  // A report that breaks the schema is caught (the check can fail).
  EXPECT_NE(SchemaErrors("{\"schema\":2,\"kind\":\"table\"}", "bad"), "");
}

}  // namespace
}  // namespace aiosim::reports
