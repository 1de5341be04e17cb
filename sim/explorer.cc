// sim/explorer.cc — see aiosim_sim.h.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <algorithm>
#include <chrono>
#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sim/aiosim_sim.h"
#include "sim/strategy.h"
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

uint64_t g_serial = 0;  // executions on this OS thread get distinct serials

// Wall time of the explorer's budget (never visible inside a simulation).
double WallSeconds() {
  using Clock = std::chrono::steady_clock;
  static const Clock::time_point start = Clock::now();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::unique_ptr<Strategy> MakeStrategy(const RunConfig& c) {
  if (c.strategy == "pct") return std::make_unique<PctStrategy>(c.seed, c.pct_depth, c.pct_steps);
  if (c.strategy == "dfs") return std::make_unique<DfsStrategy>(c.preemptions);
  return std::make_unique<RandomStrategy>(c.seed);
}

bool SameFailure(const ExecResult& r, FailureKind kind) { return r.failure.kind == kind; }

bool Stopped(const RunConfig& c) { return c.stop && c.stop(); }

}  // namespace

void SimContext::Check(bool ok, std::string_view what, core::SrcLoc loc) {
  if (ok) return;
  execution_->Fail(FailureKind::kAssertion,
                   absl::StrCat("check failed: ", std::string(what), " at ", Execution::Where(loc)));
}

ExecResult RunExecution(const Body& body, const ExecOptions& options, Strategy* strategy) {
  Execution ex(options, strategy, &Stacks(), ++g_serial);
  SimPlatform platform;
  SimContext ctx(&platform, &ex);
  std::function<std::string()> pending = [&ctx]() {
    return ctx.pending() ? ctx.pending()() : std::string();
  };
  return ex.Run([&] { body(ctx); }, pending);
}

TokenData MakeToken(const RunConfig& c, const std::vector<ChoiceRecord>& choices) {
  TokenData t;
  t.scenario = c.scenario;
  t.generation = c.generation;
  t.strategy = c.strategy;
  t.seed = c.seed;
  auto add = [&](std::string k, std::string v) { t.options.emplace_back(std::move(k), std::move(v)); };
  for (const auto& [k, v] : c.options) add(k, v);
  add("eintr", c.exec.inject_eintr ? "1" : "0");
  add("leaks", c.exec.detect_leaks ? "1" : "0");
  add("max-steps", absl::StrCat(c.exec.max_steps));
  add("races", c.exec.race_detection ? "1" : "0");
  add("spurious", c.exec.spurious_wakeups ? "1" : "0");
  add("time-advances", absl::StrCat(c.exec.time_advances_max));
  if (c.strategy == "dfs") add("preemptions", absl::StrCat(c.preemptions));
  if (c.strategy == "pct") {
    add("pct-depth", absl::StrCat(c.pct_depth));
    add("pct-steps", absl::StrCat(c.pct_steps));
  }
  std::sort(t.options.begin(), t.options.end());
  for (const ChoiceRecord& r : choices) t.choices.push_back(r.value);
  return t;
}

namespace {

// The token without choices that names execution `index` of `c`'s search.
std::string ExecutionToken(const RunConfig& c, uint64_t index) {
  TokenData t = MakeToken(c, {});
  std::pair<std::string, std::string> option("execution", absl::StrCat(index));
  t.options.insert(std::upper_bound(t.options.begin(), t.options.end(), option),
                   std::move(option));
  return EncodeToken(t);
}

}  // namespace

absl::Status ApplyTokenOptions(const TokenData& t, RunConfig* c) {
  c->scenario = t.scenario;
  c->generation = t.generation;
  c->strategy = t.strategy;
  c->seed = t.seed;
  c->options.clear();
  auto num = [](const std::string& k, const std::string& v, uint64_t* out) -> absl::Status {
    if (!absl::SimpleAtoi(v, out)) {
      return absl::InvalidArgumentError(absl::StrCat("token: option ", k, "=", v, " is not a number"));
    }
    return absl::OkStatus();
  };
  for (const auto& [k, v] : t.options) {
    uint64_t n = 0;
    if (k == "eintr" || k == "leaks" || k == "races" || k == "spurious") {
      if (v != "0" && v != "1") {
        return absl::InvalidArgumentError(absl::StrCat("token: option ", k, " must be 0 or 1"));
      }
      bool b = v == "1";
      if (k == "eintr") c->exec.inject_eintr = b;
      if (k == "leaks") c->exec.detect_leaks = b;
      if (k == "races") c->exec.race_detection = b;
      if (k == "spurious") c->exec.spurious_wakeups = b;
    } else if (k == "max-steps") {
      if (auto s = num(k, v, &n); !s.ok()) return s;
      c->exec.max_steps = n;
    } else if (k == "time-advances") {
      if (auto s = num(k, v, &n); !s.ok()) return s;
      c->exec.time_advances_max = static_cast<int>(n);
    } else if (k == "preemptions") {
      if (auto s = num(k, v, &n); !s.ok()) return s;
      c->preemptions = static_cast<int>(n);
    } else if (k == "pct-depth") {
      if (auto s = num(k, v, &n); !s.ok()) return s;
      c->pct_depth = static_cast<int>(n);
    } else if (k == "pct-steps") {
      if (auto s = num(k, v, &n); !s.ok()) return s;
      c->pct_steps = n;
    } else if (k == "execution") {
      // handled by ReplayToken
    } else {
      c->options.emplace_back(k, v);  // a scenario option
    }
  }
  if (c->strategy != "random" && c->strategy != "pct" && c->strategy != "dfs") {
    return absl::InvalidArgumentError(
        absl::StrCat("token: unknown strategy '", c->strategy, "' (expected random, pct, dfs)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<ExecResult> ReplayToken(const Body& body, const TokenData& t) {
  RunConfig c;
  if (absl::Status s = ApplyTokenOptions(t, &c); !s.ok()) return s;
  c.exec.record_trace = true;
  if (!t.choices.empty()) {
    ReplayStrategy replay(t.choices);
    replay.BeginExecution(0);
    ExecResult r = RunExecution(body, c.exec, &replay);
    if (r.failure.kind == FailureKind::kNone && !replay.exhausted()) {
      r.failure.kind = FailureKind::kReplayDiverged;
      r.failure.message = "the execution ended before using every recorded choice";
    }
    return r;
  }
  // No choices: regenerate execution N of the token's strategy and seed.
  uint64_t index = 0;
  for (const auto& [k, v] : t.options) {
    if (k == "execution" && !absl::SimpleAtoi(v, &index)) {
      return absl::InvalidArgumentError("token: option execution is not a number");
    }
  }
  if (c.strategy == "pct" && c.pct_steps == 0) c.pct_steps = MeasurePctSteps(body, c.exec);
  std::unique_ptr<Strategy> strategy = MakeStrategy(c);
  ExecResult r;
  for (uint64_t i = 0; i <= index; i++) {
    if (!strategy->BeginExecution(i)) {
      return absl::InvalidArgumentError(
          absl::StrCat("token: the strategy has no execution ", index));
    }
    ExecOptions o = c.exec;
    o.record_trace = i == index;
    r = RunExecution(body, o, strategy.get());
    strategy->EndExecution(r);
  }
  return r;
}

namespace {

// Greedy delta debugging over the deviations from the default schedule: drop chunks
// (halves, quarters, ... single deviations) while the execution still fails with the
// same kind. Returns the smallest failing run found, with its deviations.
ExecResult DeltaDebug(const Body& body, const RunConfig& c, std::vector<Deviation>* devs_io,
                      FailureKind kind, uint64_t* runs) {
  auto attempt = [&](const std::vector<Deviation>& candidate, ExecResult* out,
                     std::vector<Deviation>* taken) {
    DeviationStrategy s(candidate);
    s.BeginExecution(0);
    ++*runs;
    ExecResult r = RunExecution(body, c.exec, &s);
    if (!SameFailure(r, kind)) return false;
    *out = std::move(r);
    *taken = s.taken();
    return true;
  };
  std::vector<Deviation>& devs = *devs_io;
  ExecResult best;
  std::vector<Deviation> taken;
  if (!attempt(devs, &best, &taken)) return best;  // cannot reproduce: give up
  devs = taken;
  for (size_t chunk = std::max<size_t>(devs.size() / 2, 1); chunk >= 1;) {
    bool removed = false;
    for (size_t start = 0;
         start < devs.size() && *runs < c.minimize_executions_max && !Stopped(c);) {
      std::vector<Deviation> candidate(devs.begin(), devs.begin() + start);
      candidate.insert(candidate.end(), devs.begin() + std::min(devs.size(), start + chunk),
                       devs.end());
      ExecResult r;
      std::vector<Deviation> t;
      if (attempt(candidate, &r, &t) && (t.size() < devs.size() || r.steps < best.steps)) {
        best = std::move(r);
        devs = t;
        removed = true;
      } else {
        start += chunk;
      }
    }
    if (*runs >= c.minimize_executions_max || Stopped(c)) break;
    if (!removed) {
      if (chunk == 1) break;
      chunk /= 2;
    }
  }
  return best;
}

// Minimises a failing schedule: first delta debugging (fewer deviations, fewer
// steps); then, since removing deviations one by one can get stuck at a local
// minimum, a bounded exhaustive search for the same failure with fewer preemptions
// (it tries bounds in increasing order, so the first hit has the fewest), itself
// delta-debugged. The result is replayed once more with its trace.
ExecResult Minimise(const Body& body, const RunConfig& c, std::vector<Deviation> devs,
                    FailureKind kind, uint64_t* runs) {
  ExecResult best = DeltaDebug(body, c, &devs, kind, runs);
  if (!SameFailure(best, kind)) return best;
  if (best.preemptions > 0) {
    DfsStrategy dfs(best.preemptions - 1);
    DeviationRecorder recorder(&dfs);
    const uint64_t budget = c.minimize_executions_max * 2 / 3;
    for (uint64_t i = 0; i < budget && *runs < c.minimize_executions_max && !Stopped(c);
         i++) {
      if (!recorder.BeginExecution(i)) break;
      ++*runs;
      ExecResult r = RunExecution(body, c.exec, &recorder);
      recorder.EndExecution(r);
      if (SameFailure(r, kind) && r.preemptions < best.preemptions) {
        std::vector<Deviation> fewer = recorder.deviations();
        ExecResult m = DeltaDebug(body, c, &fewer, kind, runs);
        if (SameFailure(m, kind) && m.preemptions < best.preemptions) {
          best = std::move(m);
          devs = std::move(fewer);
        }
        break;
      }
    }
  }
  ExecOptions o = c.exec;
  o.record_trace = true;
  DeviationStrategy s(devs);
  s.BeginExecution(0);
  ++*runs;
  ExecResult r = RunExecution(body, o, &s);
  return SameFailure(r, kind) ? r : best;
}

}  // namespace

uint64_t MeasurePctSteps(const Body& body, const ExecOptions& options) {
  DeviationStrategy default_schedule({});
  default_schedule.BeginExecution(0);
  ExecResult r = RunExecution(body, options, &default_schedule);
  uint64_t k = 0;
  for (const ChoiceRecord& ch : r.choices) k += ch.kind == ChoiceKind::kSchedule;
  return std::max<uint64_t>(k, 1);
}

Report Explore(const Body& body, const RunConfig& config) {
  Report report;
  // PCT needs k, the number of steps: measure it once, and record it in the tokens
  // so that replaying "execution N" rebuilds the same strategy.
  RunConfig c = config;
  if (c.strategy == "pct" && c.pct_steps == 0) c.pct_steps = MeasurePctSteps(body, c.exec);
  std::unique_ptr<Strategy> strategy = MakeStrategy(c);
  TokenFile* const token_file = c.token_file;
  const double start = WallSeconds();
  double last_progress = start;
  report.strategy_description = strategy->Describe();

  for (uint64_t i = 0; i < c.executions_max; i++) {
    if (!strategy->BeginExecution(i)) {
      report.exhausted = true;
      break;
    }
    if (token_file != nullptr) token_file->Write(ExecutionToken(c, i));
    ExecResult r = RunExecution(body, c.exec, strategy.get());
    strategy->EndExecution(r);
    report.executions = i + 1;
    report.last_trace_hash = r.trace_hash;
    if (r.failure.kind != FailureKind::kNone) {
      report.seconds = WallSeconds() - start;  // the search, without minimisation
      report.found = true;
      report.failing_execution = i;
      report.original_steps = r.steps;
      report.original_preemptions = r.preemptions;
      report.failure = r.failure;
      if (c.minimize && r.failure.kind != FailureKind::kReplayDiverged) {
        // The failing run's deviations from the default schedule: replay its choices
        // once under a recorder (cheaper than recording every run of the search).
        std::vector<uint32_t> values;
        for (const ChoiceRecord& ch : r.choices) values.push_back(ch.value);
        ReplayStrategy replay(std::move(values));
        DeviationRecorder recorder(&replay);
        recorder.BeginExecution(0);
        ExecResult again = RunExecution(body, c.exec, &recorder);
        report.minimize_executions++;
        if (again.failure.kind == r.failure.kind) {
          ExecResult m = Minimise(body, c, recorder.deviations(), r.failure.kind,
                                  &report.minimize_executions);
          if (m.failure.kind == r.failure.kind) r = std::move(m);
        }
        report.interrupted = Stopped(c);
      }
      if (r.trace.empty()) {  // not minimised: replay once to get the trace
        ReplayStrategy replay([&] {
          std::vector<uint32_t> v;
          for (const ChoiceRecord& ch : r.choices) v.push_back(ch.value);
          return v;
        }());
        replay.BeginExecution(0);
        ExecOptions o = c.exec;
        o.record_trace = true;
        ExecResult t = RunExecution(body, o, &replay);
        if (t.failure.kind == r.failure.kind) r = std::move(t);
      }
      report.failure = r.failure;
      report.token = EncodeToken(MakeToken(c, r.choices));
      if (token_file != nullptr) (void)token_file->WriteFinal(report.token);
      report.failing = std::move(r);
      break;
    }
    if (Stopped(c)) {
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
  if (report.executions > 0) report.last_token = ExecutionToken(c, report.executions - 1);
  if (!report.found) report.seconds = WallSeconds() - start;
  report.executions_per_second =
      report.seconds > 0 ? static_cast<double>(report.executions) / report.seconds : 0;
  if (auto* dfs = dynamic_cast<DfsStrategy*>(strategy.get())) {
    report.pruned = dfs->pruned();
    report.dfs_bound_reached = dfs->bound();
    report.exhausted = report.exhausted || dfs->finished();
  }
  if (auto* pct = dynamic_cast<PctStrategy*>(strategy.get())) {
    report.strategy_description = pct->Describe();
  }
  return report;
}

std::vector<uint64_t> DeterminismCheck(const Body& body, const ExecOptions& options,
                                       uint64_t first_seed, uint64_t seeds) {
  std::vector<uint64_t> bad;
  for (uint64_t s = first_seed; s < first_seed + seeds; s++) {
    ExecResult r[2];
    for (ExecResult& x : r) {
      RandomStrategy strategy(s);
      strategy.BeginExecution(0);
      x = RunExecution(body, options, &strategy);
    }
    bool same = r[0].trace_hash == r[1].trace_hash && r[0].steps == r[1].steps &&
                r[0].choices.size() == r[1].choices.size() &&
                r[0].failure.kind == r[1].failure.kind;
    for (size_t i = 0; same && i < r[0].choices.size(); i++) {
      same = r[0].choices[i].value == r[1].choices[i].value;
    }
    if (!same) bad.push_back(s);
  }
  return bad;
}

std::string FormatSchedule(const ExecResult& r) {
  std::string out;
  int last_thread = -1;
  constexpr size_t kMaxLines = 400;
  auto name = [&](int t) {
    return t >= 0 && t < static_cast<int>(r.thread_names.size()) ? r.thread_names[t]
                                                                 : std::string("?");
  };
  for (size_t i = 0; i < r.trace.size(); i++) {
    const TraceEvent& e = r.trace[i];
    if (r.trace.size() > kMaxLines && i == kMaxLines / 4) {
      absl::StrAppendFormat(&out, "  ... %d steps not shown ...\n",
                            static_cast<int>(r.trace.size() - kMaxLines));
      i = r.trace.size() - (kMaxLines - kMaxLines / 4);
      last_thread = -1;
      continue;
    }
    if (e.thread != last_thread) {
      absl::StrAppendFormat(&out, "  -- thread %d (%s)\n", e.thread, name(e.thread));
      last_thread = e.thread;
    }
    std::string obj = e.obj ? absl::StrCat(" #", e.obj) : std::string();
    absl::StrAppendFormat(&out, "  %*s%6d  %-11s%-5s %s\n", 2 * e.thread % 24, "",
                          static_cast<int>(e.step), OpKindName(e.op), obj,
                          Execution::Where(e.loc));
  }
  return out;
}

}  // namespace aiosim::sim
