// sim/tests/explorer_stop_test.cc — RunConfig::stop (a Ctrl-C) and RunConfig::
// token_file as Explore uses them: the search ends after the current execution with
// Report::interrupted and the last execution's token; a stop during minimisation
// keeps the failure found; the token file holds each execution's token, and the
// failing one at the end.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <unistd.h>

#include <string>

#include "absl/strings/str_format.h"
#include "core/platform/sync.h"
#include "gtest/gtest.h"
#include "sim/aiosim_sim.h"
#include "sim/token_file.h"

namespace aiosim::sim {
namespace {

using core::Shared;

// Two threads increment a Shared<int>, with a lock if `locked`: without it, a lost
// update (an assertion failure).
void Increments(SimContext& c, bool locked) {
  core::QemuMutex m;
  Shared<int> counter{0};
  auto inc = [&] {
    for (int i = 0; i < 3; i++) {
      if (locked) core::qemu_mutex_lock(&m);
      const int v = counter.Load();
      counter.Store(v + 1);
      if (locked) core::qemu_mutex_unlock(&m);
    }
  };
  core::Threads& threads = c.platform().threads();
  const int a = threads.Spawn("a", inc, core::QEMU_THREAD_JOINABLE);
  const int b = threads.Spawn("b", inc, core::QEMU_THREAD_JOINABLE);
  threads.Join(a);
  threads.Join(b);
  c.Check(counter.Load() == 6, "every increment survives");
}

void Correct(SimContext& c) { Increments(c, true); }
void LostUpdate(SimContext& c) { Increments(c, false); }

RunConfig Config() {
  RunConfig config;
  config.scenario = "stop-test";
  config.seed = 3;
  config.executions_max = 1000;
  return config;
}

std::string TempPath(std::string_view name) {
  return absl::StrFormat("%sexplorer_stop_test_%d_%s", testing::TempDir(), getpid(),
                         name);
}

TEST(ExplorerStopTest, StopEndsTheSearchAfterTheCurrentExecution) {
  const std::string path = TempPath("search.token");
  absl::StatusOr<std::unique_ptr<TokenFile>> file = TokenFile::OpenForRun(path);
  ASSERT_TRUE(file.ok()) << file.status();
  RunConfig config = Config();
  config.token_file = file->get();
  int calls = 0;
  config.stop = [&] { return ++calls >= 5; };
  const Report r = Explore(Correct, config);
  EXPECT_FALSE(r.found);
  EXPECT_TRUE(r.interrupted);
  EXPECT_EQ(r.executions, 5u);
  EXPECT_EQ(calls, 5);

  // The last execution's token: in the report and in the file, and it replays it.
  absl::StatusOr<TokenData> token = DecodeToken(r.last_token);
  ASSERT_TRUE(token.ok()) << token.status();
  bool named = false;
  for (const auto& [k, v] : token->options) named |= k == "execution" && v == "4";
  EXPECT_TRUE(named) << r.last_token;
  absl::StatusOr<TokenData> on_disk = ReadTokenFile(path);
  ASSERT_TRUE(on_disk.ok()) << on_disk.status();
  EXPECT_EQ(EncodeToken(*on_disk), r.last_token);
  absl::StatusOr<ReplayResult> replay = ReplayToken(Correct, *token);
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_EQ(replay->result.trace_hash, r.last_trace_hash);
}

TEST(ExplorerStopTest, WithoutAStopNothingIsInterrupted) {
  RunConfig config = Config();
  config.executions_max = 20;
  const Report r = Explore(Correct, config);
  EXPECT_FALSE(r.interrupted);
  EXPECT_EQ(r.executions, 20u);
  EXPECT_NE(r.last_token.find("aiosim2:"), std::string::npos);
}

TEST(ExplorerStopTest, AStopDuringMinimisationKeepsTheFailureFound) {
  const Report whole = Explore(LostUpdate, Config());
  ASSERT_TRUE(whole.found);
  ASSERT_FALSE(whole.interrupted);

  // Stop at the first check after the failing execution: the minimisation's first.
  const std::string path = TempPath("minimise.token");
  absl::StatusOr<std::unique_ptr<TokenFile>> file = TokenFile::OpenForRun(path);
  ASSERT_TRUE(file.ok()) << file.status();
  RunConfig config = Config();
  config.token_file = file->get();
  uint64_t calls = 0;
  config.stop = [&] { return ++calls > whole.failing_execution; };
  const Report r = Explore(LostUpdate, config);
  ASSERT_TRUE(r.found);
  EXPECT_TRUE(r.interrupted);
  EXPECT_EQ(r.failing_execution, whole.failing_execution);
  EXPECT_EQ(r.failure.kind, FailureKind::kAssertion);
  EXPECT_LE(r.minimize_executions, 3u) << "stopped at once";
  EXPECT_LT(r.minimize_executions, whole.minimize_executions);

  // The failing token replays the failure, and is what the file holds at the end.
  absl::StatusOr<TokenData> token = DecodeToken(r.token);
  ASSERT_TRUE(token.ok()) << token.status();
  absl::StatusOr<ReplayResult> replay = ReplayToken(LostUpdate, *token);
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_EQ(replay->result.failure.kind, FailureKind::kAssertion);
  absl::StatusOr<TokenData> on_disk = ReadTokenFile(path);
  ASSERT_TRUE(on_disk.ok()) << on_disk.status();
  EXPECT_EQ(EncodeToken(*on_disk), r.token);
}

}  // namespace
}  // namespace aiosim::sim
