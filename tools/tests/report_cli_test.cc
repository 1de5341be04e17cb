// tools/tests/report_cli_test.cc — `--report DIR` of run, replay and check (issue 11):
// the files are written, the HTML carries the highlighted steps, the JUnit XML of
// `aiosim check` is accepted by a JUnit parser (Python's xml.etree, checking the
// testsuites > testsuite > testcase structure and the counts), and bad input is one
// line and an exit code, with the reproduce line kept.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tools/tests/cli_util.h"

namespace aiosim::tools::testing {
namespace {

TEST(ReportCliTest, RunWritesTheFailureReportAndKeepsTheReproduceLineLast) {
  const std::string dir = TestDir() + "/run-report";
  Result r = Cli({"run", "R4", "--revert", "R4", "--report", dir});
  ASSERT_EQ(r.exit, 1) << r.out << r.err;
  const std::vector<std::string> lines = r.OutLines();
  ASSERT_GE(lines.size(), 2u);
  EXPECT_TRUE(absl::StartsWith(lines.back(), "reproduce: aiosim replay ")) << r.out;
  EXPECT_TRUE(absl::StartsWith(lines[lines.size() - 2], "report:      " + dir)) << r.out;
  for (const char* ext : {".txt", ".md", ".html", ".json"}) {
    EXPECT_FALSE(ReadFile(dir + "/R4_revert_R4" + ext).empty()) << ext;
  }
  const std::string html = ReadFile(dir + "/R4_revert_R4.html");
  EXPECT_TRUE(absl::StrContains(html, "hl-wakeup-consumed"));
  EXPECT_TRUE(absl::StrContains(html, "hl-waiter-sleeps"));
  EXPECT_TRUE(IsJson(ReadFile(dir + "/R4_revert_R4.json")));
  // The listing on stdout speaks QEMU too.
  EXPECT_TRUE(absl::StrContains(r.out, "bh \"work\"->scheduled")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "the wakeup is consumed here")) << r.out;

  // The replay of its token writes the same report.
  const std::string token = TokenOf(r);
  ASSERT_FALSE(token.empty());
  const std::string replay_dir = TestDir() + "/replay-report";
  Result p = Cli({"replay", token, "--report", replay_dir});
  ASSERT_EQ(p.exit, 1) << p.out << p.err;
  EXPECT_EQ(ReadFile(replay_dir + "/R4_revert_R4.txt").empty(), false);
  EXPECT_TRUE(absl::StrContains(p.out, "report:      " + replay_dir)) << p.out;
}

TEST(ReportCliTest, TheEnvironmentVariableGivesTheDirectory) {
  const std::string dir = TestDir() + "/env-report";
  CliOptions o;
  o.env = {"AIOSIM_REPORT_DIR=" + dir};
  Result r = CliWith({"run", "S3", "--option", "canceller=foreign"}, o);
  ASSERT_EQ(r.exit, 1) << r.out << r.err;
  EXPECT_FALSE(ReadFile(dir + "/S3_canceller_foreign.html").empty()) << r.out;
}

TEST(ReportCliTest, CheckWritesJUnitThatAJUnitParserAccepts) {
  const std::string dir = TestDir() + "/check-report";
  Result r = Cli({"check", "R4", "S1", "--jobs", "2", "--report", dir});
  ASSERT_EQ(r.exit, 0) << r.out << r.err;
  const std::string xml = dir + "/check-legacy.junit.xml";
  ASSERT_FALSE(ReadFile(xml).empty()) << r.out;
  int cases = 0;
  for (const std::string& line : r.OutLines()) {
    if (absl::StartsWith(line, "ok ") || absl::StartsWith(line, "FAIL ")) cases++;
  }
  ASSERT_GT(cases, 0);
  // The parser: JUnit's structure, every testcase named and timed, counts that add up.
  const std::string script = absl::StrCat(
      "import sys, xml.etree.ElementTree as ET\n"
      "root = ET.parse(sys.argv[1]).getroot()\n"
      "assert root.tag == 'testsuites', root.tag\n"
      "suites = root.findall('testsuite')\n"
      "assert len(suites) == 1\n"
      "cases = suites[0].findall('testcase')\n"
      "assert len(cases) == int(suites[0].get('tests')) == ", cases, ", len(cases)\n"
      "assert all(c.get('name') and c.get('classname') == 'check legacy' for c in cases)\n"
      "assert all(float(c.get('time')) >= 0 for c in cases)\n"
      "assert int(suites[0].get('failures')) == 0\n"
      "assert sum(1 for _ in root.iter('failure')) == 0\n"
      "print('junit ok', len(cases))\n");
  const std::string script_path = TestDir() + "/junit_check.py";
  std::ofstream(script_path) << script;
  const std::string cmd = absl::StrCat("python3 ", script_path, " ", xml, " 2>&1");
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof buf, p) != nullptr) out += buf;
  const int status = pclose(p);
  EXPECT_EQ(status, 0) << out;
  EXPECT_TRUE(absl::StrContains(out, absl::StrCat("junit ok ", cases))) << out;
  EXPECT_TRUE(IsJson(ReadFile(dir + "/check-legacy.json")));
  EXPECT_TRUE(absl::StrContains(ReadFile(dir + "/check-legacy.md"), "| case |"));
}

TEST(ReportCliTest, BadReportDirectoriesAreOneLineAndKeepTheReproduceLine) {
  Result empty = Cli({"run", "R4", "--report", ""});
  EXPECT_EQ(empty.exit, 2);
  EXPECT_EQ(empty.ErrLines().size(), 1u) << empty.err;
  // A file where the directory should be: the search still reports, with its token.
  const std::string file = TestDir() + "/not-a-dir";
  std::ofstream(file) << "x";
  Result r = Cli({"run", "R4", "--revert", "R4", "--report", file + "/sub"});
  EXPECT_EQ(r.exit, 3) << r.out << r.err;
  EXPECT_FALSE(TokenOf(r).empty()) << r.out;
  EXPECT_TRUE(absl::StrContains(r.err, "is not a directory")) << r.err;
}

}  // namespace
}  // namespace aiosim::tools::testing
