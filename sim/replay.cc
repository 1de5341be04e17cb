// sim/replay.cc — tokens from executions, and executions from tokens (aiosim_sim.h):
// what a token records, how its options are checked, and how a replay decides that
// the program no longer fits the recorded schedule.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// A schedule token records the execution's deviations (each with its step and state
// fingerprint), up to 32 checkpoints of the trace hash, and the expectations:
// expect-hash (the final trace hash), expect-failure (kind, and a CRC of the failure's
// location), core (the identity of the core build). An index token records
// execution=N of a strategy instead. Tokens never record wall-clock data.
#include <algorithm>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sim/aiosim_sim.h"
#include "sim/deviation.h"
#include "sim/limits.h"

namespace aiosim::sim {

namespace {

constexpr size_t kTokenCheckpoints = 32;

uint32_t Crc(const std::string& s) { return token_internal::Crc32(s); }

std::string FailureExpectation(const Failure& f) {
  if (f.kind == FailureKind::kNone) return "none";
  return absl::StrFormat("%s@%08x", FailureKindName(f.kind), Crc(f.where));
}

// The options every token of `c` carries: scenario options, then the simulator's.
std::map<std::string, std::string> BaseOptions(const RunConfig& c) {
  std::map<std::string, std::string> o(c.options.begin(), c.options.end());
  o["eintr"] = c.exec.inject_eintr ? "1" : "0";
  o["leaks"] = c.exec.detect_leaks ? "1" : "0";
  o["max-steps"] = absl::StrCat(c.exec.max_steps);
  o["races"] = !c.exec.race_detection ? "0" : c.exec.report_known_races ? "all" : "1";
  o["spurious"] = c.exec.spurious_wakeups ? "1" : "0";
  o["time-advances"] = absl::StrCat(c.exec.time_advances_max);
  if (c.exec.fairness_steps != ExecOptions().fairness_steps) {
    o["fairness-steps"] = absl::StrCat(c.exec.fairness_steps);
  }
  if (c.strategy == "dfs") {
    o["preemptions"] = c.preemptions == kUnboundedPreemptions
                           ? "unbounded"
                           : absl::StrCat(c.preemptions);
  }
  if (c.strategy == "pct") {
    o["pct-depth"] = absl::StrCat(c.pct_depth);
    o["pct-steps"] = absl::StrCat(c.pct_steps);
  }
  return o;
}

TokenData Skeleton(const RunConfig& c,
                   const std::map<std::string, std::string>& options) {
  TokenData t;
  t.scenario = c.scenario;
  t.generation = c.generation;
  t.strategy = c.strategy;
  t.seed = c.seed;
  t.options.assign(options.begin(), options.end());  // sorted by key
  return t;
}

TokenDeviation ToToken(const Deviation& d) {
  TokenDeviation t;
  t.thread = static_cast<uint32_t>(std::max(d.at.thread, 0));
  t.points = d.at.points;
  t.sub = d.at.sub;
  t.step = d.at.step;
  t.fingerprint = d.at.fingerprint;
  t.choice_kind = static_cast<uint32_t>(d.kind);
  t.option_kind = static_cast<uint32_t>(d.target.kind);
  t.option_arg = d.target.arg;
  return t;
}

Deviation FromToken(const TokenDeviation& t) {
  Deviation d;
  d.at.thread = static_cast<int>(t.thread);
  d.at.points = t.points;
  d.at.sub = t.sub;
  d.at.step = t.step;
  d.at.fingerprint = static_cast<uint16_t>(t.fingerprint);
  d.kind = static_cast<ChoiceKind>(t.choice_kind);
  d.target = Option{static_cast<OptionKind>(t.option_kind), t.option_arg};
  return d;
}

// At most kTokenCheckpoints of `all` (every kCheckpointSteps steps): every 2^j-th,
// and the last one.
std::vector<TokenCheckpoint> Subsample(const std::vector<Checkpoint>& all) {
  std::vector<TokenCheckpoint> out;
  if (all.empty()) return out;
  size_t stride = 1;
  while (all.size() / stride > kTokenCheckpoints - 1) stride *= 2;
  for (size_t i = stride - 1; i < all.size(); i += stride) {
    out.push_back(TokenCheckpoint{all[i].step, all[i].fingerprint});
  }
  if (out.empty() || out.back().step != all.back().step) {
    out.push_back(TokenCheckpoint{all.back().step, all.back().fingerprint});
  }
  return out;
}

std::string OptionOf(const TokenData& t, const std::string& key) {
  for (const auto& [k, v] : t.options) {
    if (k == key) return v;
  }
  return "";
}
bool HasOption(const TokenData& t, const std::string& key) {
  for (const auto& [k, v] : t.options) {
    if (k == key) return true;
  }
  return false;
}

absl::Status Number(const std::string& key, const std::string& value, uint64_t min,
                    uint64_t max, uint64_t* out) {
  if (!absl::SimpleAtoi(value, out) || *out < min || *out > max) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "token: option %s=%s is out of range (expected an integer from %d to %d)", key,
        value.substr(0, 32), min, max));
  }
  return absl::OkStatus();
}

// Where a replay first differs from the recording, by the token's checkpoints.
std::string Localise(const TokenData& t, const ExecResult& r) {
  uint64_t good = 0;
  for (const TokenCheckpoint& c : t.checkpoints) {
    const uint64_t j = c.step / kCheckpointSteps;
    if (j == 0 || j > r.checkpoints.size()) {
      return absl::StrFormat(
          "checkpoints: the steps up to %d match the recording; the replay ended at step "
          "%d, "
          "the recording went on to step %d at least",
          good, r.steps, c.step);
    }
    if (r.checkpoints[j - 1].fingerprint != c.fingerprint) {
      return absl::StrFormat(
          "checkpoints: the replay matches the recording up to step %d and differs by "
          "step %d",
          good, c.step);
    }
    good = c.step;
  }
  return absl::StrFormat("checkpoints: the replay matches the recording up to step %d%s",
                         good,
                         t.checkpoints.empty() ? " (the token has no checkpoints)" : "");
}

void Diverge(ReplayResult* out, const TokenData& t, std::string message) {
  ExecResult& r = out->result;
  std::vector<std::string> details;
  details.push_back(Localise(t, r));
  if (r.failure.kind != FailureKind::kReplayDiverged) {
    details.push_back(absl::StrFormat(
        "what the replay did: %s%s%s, trace hash %016x", FailureKindName(r.failure.kind),
        r.failure.message.empty() ? "" : ": ", r.failure.message, r.trace_hash));
  }
  r.failure.kind = FailureKind::kReplayDiverged;
  r.failure.message = std::move(message);
  r.failure.where = "";
  r.failure.details = std::move(details);
}

}  // namespace

TokenData MakeToken(const RunConfig& c, const ExecResult& result) {
  std::map<std::string, std::string> o = BaseOptions(c);
  o["core"] = CoreIdentity();
  o["expect-hash"] = absl::StrFormat("%016x", result.trace_hash);
  o["expect-failure"] = FailureExpectation(result.failure);
  TokenData t = Skeleton(c, o);
  for (const Deviation& d : result.deviations) t.deviations.push_back(ToToken(d));
  t.checkpoints = Subsample(result.checkpoints);
  return t;
}

TokenData MakeIndexToken(const RunConfig& c, const Strategy::Reproducer& reproducer) {
  std::map<std::string, std::string> o = BaseOptions(c);
  o["core"] = CoreIdentity();
  for (const auto& [k, v] : reproducer.options) o[k] = v;
  return Skeleton(c, o);
}

absl::Status ApplyTokenOptions(const TokenData& t, RunConfig* c) {
  c->scenario = t.scenario;
  c->generation = t.generation;
  c->strategy = t.strategy;
  c->seed = t.seed;
  c->options.clear();
  for (const auto& [k, v] : t.options) {
    uint64_t n = 0;
    if (k == "races" && v == "all") {
      c->exec.race_detection = true;
      c->exec.report_known_races = true;
    } else if (k == "eintr" || k == "leaks" || k == "races" || k == "spurious") {
      if (v != "0" && v != "1") {
        return absl::InvalidArgumentError(absl::StrCat(
            "token: option ", k, " must be 0 or 1", k == "races" ? " or all" : ""));
      }
      const bool b = v == "1";
      if (k == "eintr") c->exec.inject_eintr = b;
      if (k == "leaks") c->exec.detect_leaks = b;
      if (k == "races") c->exec.race_detection = b;
      if (k == "spurious") c->exec.spurious_wakeups = b;
    } else if (k == "max-steps") {
      if (auto s = Number(k, v, 1, kMaxStepsMax, &n); !s.ok()) return s;
      c->exec.max_steps = n;
    } else if (k == "time-advances") {
      if (auto s = Number(k, v, 0, kTimeAdvancesMax, &n); !s.ok()) return s;
      c->exec.time_advances_max = static_cast<int>(n);
    } else if (k == "fairness-steps") {
      if (auto s = Number(k, v, 1, kFairnessStepsMax, &n); !s.ok()) return s;
      c->exec.fairness_steps = n;
    } else if (k == "preemptions") {
      if (v == "unbounded") {
        c->preemptions = kUnboundedPreemptions;
      } else {
        if (auto s = Number(k, v, 0, kPreemptionsMax, &n); !s.ok()) return s;
        c->preemptions = static_cast<int>(n);
      }
    } else if (k == "pct-depth") {
      if (auto s = Number(k, v, 1, kPctDepthMax, &n); !s.ok()) return s;
      c->pct_depth = static_cast<int>(n);
    } else if (k == "pct-steps") {
      if (auto s = Number(k, v, 0, kPctStepsMax, &n); !s.ok()) return s;
      c->pct_steps = n;
    } else if (k == "execution") {
      if (auto s = Number(k, v, 0, UINT64_MAX, &n); !s.ok()) return s;
    } else if (k == "core" || k == "expect-hash" || k == "expect-failure") {
      // checked by ReplayToken
    } else {
      c->options.emplace_back(k, v);  // a scenario option
    }
  }
  if (c->strategy != "random" && c->strategy != "pct" && c->strategy != "dfs") {
    return absl::InvalidArgumentError(absl::StrCat(
        "token: unknown strategy '", c->strategy, "' (expected random, pct, dfs)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<ReplayResult> ReplayToken(
    const Body& body, const TokenData& t,
    const std::function<void(uint64_t done, uint64_t total)>& progress) {
  RunConfig c;
  if (absl::Status s = ApplyTokenOptions(t, &c); !s.ok()) return s;
  ReplayResult out;
  const std::string core = OptionOf(t, "core");
  if (!core.empty() && core != CoreIdentity()) {
    out.notes.push_back(absl::StrFormat(
        "the token was recorded with core %s; this build's core is %s (the replay checks "
        "that the schedule still fits)",
        core, CoreIdentity()));
  }

  if (HasOption(t, "execution")) {
    uint64_t index = 0;
    (void)absl::SimpleAtoi(OptionOf(t, "execution"), &index);
    if (c.strategy == "dfs" && index > kDfsReplayIndexMax) {
      return absl::InvalidArgumentError(
          absl::StrFormat("token: execution %d of a dfs search would be replayed by "
                          "running the search up "
                          "to it; at most %d is accepted",
                          index, kDfsReplayIndexMax));
    }
    if (c.strategy == "pct" && c.pct_steps == 0)
      c.pct_steps = MeasurePctSteps(body, c.exec);
    absl::StatusOr<std::unique_ptr<Strategy>> strategy = MakeStrategy(c);
    if (!strategy.ok())
      return absl::InvalidArgumentError(
          absl::StrCat("token: ", strategy.status().message()));
    ExecOptions traced = c.exec;
    traced.record_trace = true;
    if (c.strategy != "dfs") {
      (*strategy)->BeginExecution(index);
      out.result = RunExecution(body, traced, strategy->get());
      out.notes.push_back(absl::StrFormat(
          "regenerated execution %d of the %s strategy directly", index, c.strategy));
      return out;
    }
    for (uint64_t i = 0; i <= index; i++) {
      if (!(*strategy)->BeginExecution(i)) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "token: the dfs search has no execution %d (it finished after %d)", index,
            i));
      }
      out.result = RunExecution(body, i == index ? traced : c.exec, strategy->get());
      (*strategy)->EndExecution(out.result);
      if (progress && (i % 1024 == 0 || i == index)) progress(i + 1, index + 1);
    }
    out.notes.push_back(
        absl::StrFormat("re-ran the dfs search up to execution %d", index));
    return out;
  }

  std::vector<Deviation> deviations;
  for (const TokenDeviation& d : t.deviations) deviations.push_back(FromToken(d));
  DeviationStrategy replay(std::move(deviations), /*check=*/true);
  replay.BeginExecution(0);
  ExecOptions traced = c.exec;
  traced.record_trace = true;
  out.result = RunExecution(body, traced, &replay);
  ExecResult& r = out.result;
  if (r.failure.kind == FailureKind::kReplayDiverged) {
    Diverge(&out, t, r.failure.message);
    return out;
  }
  if (std::string left = replay.Leftover(); !left.empty()) {
    Diverge(&out, t, left);
    return out;
  }
  const std::string expect_hash = OptionOf(t, "expect-hash");
  const std::string expect_failure = OptionOf(t, "expect-failure");
  const std::string got_hash = absl::StrFormat("%016x", r.trace_hash);
  const std::string got_failure = FailureExpectation(r.failure);
  if (!expect_failure.empty() && expect_failure != got_failure) {
    Diverge(
        &out, t,
        absl::StrFormat("replay diverged: the recorded execution ended with %s, this one "
                        "with %s",
                        expect_failure, got_failure));
  } else if (!expect_hash.empty() && expect_hash != got_hash) {
    Diverge(&out, t,
            absl::StrFormat("replay diverged: the schedule fits, but the trace differs "
                            "(trace hash %s, recorded %s): the program changed",
                            got_hash, expect_hash));
  } else if (expect_hash.empty()) {
    out.notes.push_back(
        "the token records no expectations: the replay cannot be checked");
  }
  return out;
}

}  // namespace aiosim::sim
