// scenarios/tests/golden_trace_test.cc — every build explores the same executions:
// the trace hashes of a fixed set of executions of every scenario are checked against
// one file, scenarios/tests/golden_traces.txt, in every preset. The dev preset builds
// with GCC and the asan/tsan presets with clang, which evaluate function arguments in
// opposite orders: a core call with two scheduling points among its arguments would
// give the two compilers different executions (and tokens that do not replay across
// them); this test fails on the first such difference.
//
// The hashes change whenever the core or a scenario changes what it does; then, after
// checking that the change is intended, regenerate the file with
//   AIOSIM_UPDATE_GOLDEN=1 build/dev/scenarios/scenario_test
//   --gtest_filter='GoldenTrace*'
// and check that the clang presets agree.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "scenarios/catalog.h"
#include "sim/dfs.h"
#include "sim/random_pct.h"

#ifndef AIOSIM_SOURCE_DIR
#error "AIOSIM_SOURCE_DIR must name the source tree"
#endif

namespace aiosim::scenarios {
namespace {

// One line per execution: "<id> <options> <strategy> <index> <trace hash> <steps>".
std::vector<std::string> Measure() {
  std::vector<std::string> lines;
  for (const Scenario& s : Catalog()) {
    for (const Options& resolved : OptionVariants(s)) {
      const Options* options = &resolved;
      std::string opts;
      for (const auto& [k, v] : *options) opts += k + "=" + v + ",";
      if (opts.empty()) opts = "-";
      const sim::Body body = s.make(*options);
      for (uint64_t i = 0; i < 8; i++) {
        sim::RandomStrategy random(1);
        random.BeginExecution(i);
        sim::ExecResult r = sim::RunExecution(body, sim::ExecOptions{}, &random);
        lines.push_back(absl::StrFormat("%s %s random %d %016x %d", s.id, opts, i,
                                        r.trace_hash, r.steps));
      }
      sim::DfsStrategy dfs(1);
      for (uint64_t i = 0; i < 4 && dfs.BeginExecution(i); i++) {
        sim::ExecResult r = sim::RunExecution(body, sim::ExecOptions{}, &dfs);
        dfs.EndExecution(r);
        lines.push_back(absl::StrFormat("%s %s dfs %d %016x %d", s.id, opts, i,
                                        r.trace_hash, r.steps));
      }
    }
  }
  return lines;
}

TEST(GoldenTraceTest, EveryCompilerExploresTheSameExecutions) {
  const std::string path =
      std::string(AIOSIM_SOURCE_DIR) + "/scenarios/tests/golden_traces.txt";
  const std::vector<std::string> got = Measure();
  if (const char* update = std::getenv("AIOSIM_UPDATE_GOLDEN");
      update && *update == '1') {
    std::ofstream out(path);
    out << "# scenario options strategy execution trace-hash steps "
           "(golden_trace_test.cc)\n";
    for (const std::string& line : got) out << line << "\n";
    GTEST_SKIP() << "wrote " << path;
  }
  std::ifstream in(path);
  ASSERT_TRUE(in.good()) << "missing " << path;
  std::vector<std::string> want;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] != '#') want.push_back(line);
  }
  ASSERT_EQ(got.size(), want.size()) << "the catalog changed: regenerate " << path;
  for (size_t i = 0; i < got.size(); i++) {
    EXPECT_EQ(got[i], want[i]) << "line " << i + 1
                               << ": this build explores another execution (compiler "
                                  "argument order, or an unintended change in the core)";
  }
}

}  // namespace
}  // namespace aiosim::scenarios
