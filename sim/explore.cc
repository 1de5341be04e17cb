// sim/explore.cc — the search loop: one execution after another under a strategy,
// until a failure, the budget, a stop request or exhaustion (see aiosim_sim.h).
// SPDX-License-Identifier: GPL-2.0-or-later
#include <algorithm>
#include <chrono>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sim/aiosim_sim.h"
#include "sim/deviation.h"
#include "sim/dfs.h"
#include "sim/limits.h"
#include "sim/minimise.h"
#include "sim/random_pct.h"
#include "sim/token_file.h"

namespace aiosim::sim {

namespace {

// Fiber stacks shared by every execution on this OS thread.
StackPool& Stacks() {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  constexpr size_t kStack = 1 << 20;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
  constexpr size_t kStack = 1 << 20;
#else
  constexpr size_t kStack = 256 << 10;
#endif
#else
  constexpr size_t kStack = 256 << 10;
#endif
  static thread_local StackPool pool(kStack);
  return pool;
}

// Executions on one OS thread get distinct serials (an object that outlives an
// execution is recognised as stale by its epoch).
thread_local uint64_t t_serial = 0;

// Wall time of the explorer's budget (never visible inside a simulation).
double WallSeconds() {
  using Clock = std::chrono::steady_clock;
  static const Clock::time_point start = Clock::now();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

void SimContext::Check(bool ok, std::string_view what, core::SrcLoc loc) {
  if (ok) return;
  execution_->Fail(
      FailureKind::kAssertion,
      absl::StrCat("check failed: ", std::string(what), " at ", Execution::Where(loc)),
      {}, Execution::Where(loc));
}

ExecResult RunExecution(const Body& body, const ExecOptions& options,
                        Strategy* strategy) {
  Execution ex(options, strategy, &Stacks(), ++t_serial);
  SimPlatform platform;
  SimContext ctx(&platform, &ex);
  std::function<std::string()> pending = [&ctx]() {
    return ctx.pending() ? ctx.pending()() : std::string();
  };
  return ex.Run([&] { body(ctx); }, pending);
}

uint64_t MeasurePctSteps(const Body& body, const ExecOptions& options) {
  DeviationStrategy default_schedule({}, /*check=*/false);
  default_schedule.BeginExecution(0);
  ExecResult r = RunExecution(body, options, &default_schedule);
  return std::max<uint64_t>(PctStrategy::CountSteps(r), 1);
}

absl::StatusOr<std::unique_ptr<Strategy>> MakeStrategy(const RunConfig& c) {
  if (c.strategy == "random")
    return std::unique_ptr<Strategy>(new RandomStrategy(c.seed));
  if (c.strategy == "pct") {
    if (c.pct_depth < 1 || static_cast<uint64_t>(c.pct_depth) > kPctDepthMax) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "pct depth %d is out of range (1..%d)", c.pct_depth, kPctDepthMax));
    }
    return std::unique_ptr<Strategy>(new PctStrategy(c.seed, c.pct_depth, c.pct_steps));
  }
  if (c.strategy == "dfs") {
    if (c.preemptions != kUnboundedPreemptions &&
        (c.preemptions < 0 || static_cast<uint64_t>(c.preemptions) > kPreemptionsMax)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "preemption bound %d is out of range (0..%d)", c.preemptions, kPreemptionsMax));
    }
    if (c.dfs_frontier_bytes_max == 0) {
      return absl::InvalidArgumentError("the dfs memory limit must be at least 1 byte");
    }
    return std::unique_ptr<Strategy>(
        new DfsStrategy(c.preemptions, c.dfs_frontier_bytes_max));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown strategy '", c.strategy, "' (expected random, pct, dfs)"));
}

Report Explore(const Body& body, const RunConfig& config) {
  Report report;
  // PCT needs k, the number of steps: measure it once, and record it in the tokens
  // so that replaying "execution N" rebuilds the same strategy.
  RunConfig c = config;
  if (c.strategy == "pct" && c.pct_steps == 0)
    c.pct_steps = MeasurePctSteps(body, c.exec);
  absl::StatusOr<std::unique_ptr<Strategy>> made = MakeStrategy(c);
  if (!made.ok()) {
    report.figures.description = std::string(made.status().message());
    return report;
  }
  std::unique_ptr<Strategy> strategy = *std::move(made);
  TokenFile* const token_file = c.token_file;
  const double start = WallSeconds();
  double last_progress = start;
  Strategy::Reproducer last;

  for (uint64_t i = 0; i < c.executions_max; i++) {
    if (!strategy->BeginExecution(i)) break;
    last = strategy->ReproduceCurrent(i);
    if (token_file != nullptr) token_file->Write(EncodeToken(MakeIndexToken(c, last)));
    ExecResult r = RunExecution(body, c.exec, strategy.get());
    strategy->EndExecution(r);
    report.executions = i + 1;
    report.last_trace_hash = r.trace_hash;
    for (const auto& [id, count] : r.suppressed_races) {
      auto it = std::lower_bound(
          report.suppressed_races.begin(), report.suppressed_races.end(), id,
          [](const auto& e, const std::string& k) { return e.first < k; });
      if (it == report.suppressed_races.end() || it->first != id) {
        it = report.suppressed_races.insert(it, {id, 0});
      }
      it->second++;
    }
    if (r.failure.kind != FailureKind::kNone) {
      report.seconds = WallSeconds() - start;  // the search, without minimisation
      report.found = true;
      report.failing_execution = i;
      report.original_steps = r.steps;
      report.original_preemptions = r.preemptions;
      report.failure = r.failure;
      if (c.minimize && r.failure.kind != FailureKind::kReplayDiverged) {
        r = Minimise(body, c, r, &report.minimize_executions);
        report.interrupted = c.stop && c.stop();
      } else {
        report.minimize_executions++;
        r = WithTrace(body, c.exec, r);
      }
      report.failure = r.failure;
      report.token = EncodeToken(MakeToken(c, r));
      if (token_file != nullptr) (void)token_file->WriteFinal(report.token);
      report.failing = std::move(r);
      break;
    }
    if (c.stop && c.stop()) {
      report.interrupted = true;
      break;
    }
    const double now = WallSeconds();
    if (c.seconds_max > 0 && now - start >= c.seconds_max) break;
    if (c.progress && now - last_progress >= 1.0) {
      last_progress = now;
      c.progress(report.executions, now - start);
    }
  }
  if (!report.found) report.seconds = WallSeconds() - start;
  report.executions_per_second =
      report.seconds > 0 ? static_cast<double>(report.executions) / report.seconds : 0;
  report.figures = strategy->Figures();
  report.exhausted = report.figures.complete;
  if (report.executions > 0) report.last_token = EncodeToken(MakeIndexToken(c, last));
  return report;
}

std::vector<uint64_t> DeterminismCheck(const Body& body, const ExecOptions& options,
                                       uint64_t first_seed, uint64_t seeds,
                                       uint64_t executions_per_seed) {
  std::vector<uint64_t> bad;
  for (uint64_t s = first_seed; s < first_seed + seeds; s++) {
    bool same = true;
    for (uint64_t i = 0; same && i < executions_per_seed; i++) {
      ExecResult r[2];
      for (int traced = 0; traced < 2; traced++) {
        ExecOptions o = options;
        o.record_trace = traced == 1;  // the full path at every point, or the inline one
        RandomStrategy strategy(s);
        strategy.BeginExecution(i);
        r[traced] = RunExecution(body, o, &strategy);
      }
      same = r[0].trace_hash == r[1].trace_hash && r[0].steps == r[1].steps &&
             r[0].choices.size() == r[1].choices.size() &&
             r[0].failure.kind == r[1].failure.kind &&
             r[0].failure.where == r[1].failure.where;
      for (size_t k = 0; same && k < r[0].choices.size(); k++) {
        same = r[0].choices[k].option == r[1].choices[k].option &&
               r[0].choices[k].quantum == r[1].choices[k].quantum;
      }
    }
    if (!same) bad.push_back(s);
  }
  return bad;
}

}  // namespace aiosim::sim
