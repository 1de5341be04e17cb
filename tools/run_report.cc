// tools/run_report.cc — see run_report.h.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "tools/run_report.h"

#include <cctype>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "reports/from_sim.h"
#include "sim/dfs.h"
#include "sim/random_pct.h"
#include "tools/interrupt.h"
#include "tools/json.h"
#include "tools/report_dir.h"

namespace aiosim::tools {

namespace {

// The strategy as the header shows it, before the search.
std::string StrategyText(const sim::RunConfig& c) {
  if (c.strategy == "dfs") return sim::DfsStrategy(c.preemptions).Describe();
  if (c.strategy == "pct") {
    return absl::StrFormat(
        "PCT, seed %d, depth d=%d, k=%d steps (the default schedule's; "
        "k grows to the longest execution seen)",
        c.seed, c.pct_depth, c.pct_steps);
  }
  return sim::RandomStrategy(c.seed).Describe();
}

std::string BudgetText(const sim::RunConfig& c) {
  std::string executions = c.executions_max == kUnlimited
                               ? std::string("no execution limit")
                               : absl::StrFormat("%d executions", c.executions_max);
  std::string seconds = c.seconds_max > 0 ? absl::StrFormat("%g s", c.seconds_max)
                                          : std::string("no time limit");
  return executions + ", " + seconds;
}

// "1 execution", "54 executions".
std::string Executions(uint64_t n) {
  return absl::StrFormat("%d execution%s", n, n == 1 ? "" : "s");
}

// For PCT, the probability bound at the end of the search (from its description).
std::string PctBound(const sim::Report& r) { return r.figures.probability_bound; }

std::string StopReason(const sim::RunConfig& c, const sim::Report& r) {
  if (r.exhausted) return "the bounded space was explored completely";
  if (r.figures.finished) {
    return "the search ran every schedule it kept (it dropped the rest at its memory "
           "limit)";
  }
  if (r.executions >= c.executions_max) return "the execution budget ended";
  return "the time limit ended";
}

std::string TokenFilePath(const RunArgs& run) {
  return run.token_file != nullptr ? run.token_file->path() : std::string();
}

// The token of the reproduce line: the failing one, or the last execution's if the
// run was interrupted before it found a failure; "" if none.
std::string ReproduceToken(const sim::Report& r) {
  if (r.found) return r.token;
  return r.interrupted ? r.last_token : std::string();
}

void PrintSearch(const sim::RunConfig& c, const sim::Report& r, int signal) {
  if (r.found) {
    absl::PrintF(
        "search:      %s, %.3f s, %.0f executions/s; the last one (index %d) "
        "failed\n",
        Executions(r.executions), r.seconds, r.executions_per_second,
        r.failing_execution);
  } else if (r.interrupted) {
    absl::PrintF(
        "interrupted by %s: %s, %.3f s, %.0f executions/s; no failure found so far\n",
        SignalName(signal), Executions(r.executions), r.seconds, r.executions_per_second);
  } else {
    absl::PrintF("no failure found: %s, %.3f s, %.0f executions/s; %s\n",
                 Executions(r.executions), r.seconds, r.executions_per_second,
                 StopReason(c, r));
  }
  if (c.strategy == "dfs") {
    const int through = r.figures.complete_through;
    absl::PrintF(
        "dfs:         stopped in round %d of 0..%s (preemption bound), %d options beyond "
        "the bound, %d pruned by sleep sets, space %s (%s)\n",
        r.figures.round,
        c.preemptions == sim::kUnboundedPreemptions ? std::string("unbounded")
                                                    : absl::StrCat(c.preemptions),
        r.figures.beyond_bound, r.figures.pruned,
        r.exhausted ? "exhausted" : "not exhausted",
        through < 0 ? std::string("not even every schedule without a preemption ran")
                    : absl::StrFormat("every schedule with at most %d preemption%s ran",
                                      through, through == 1 ? "" : "s"));
    if (r.figures.dropped > 0) {
      absl::PrintF(
          "dfs memory:  the work saved for later rounds reached its limit (--dfs-memory "
          "%d MB): %d options were neither run nor saved\n",
          r.figures.frontier_bytes_max >> 20, r.figures.dropped);
    }
  }
  if (c.strategy == "pct") absl::PrintF("pct:         %s\n", r.figures.description);
  if (!r.suppressed_races.empty()) {
    std::vector<std::string> parts;
    for (const auto& [id, n] : r.suppressed_races) {
      parts.push_back(absl::StrFormat("%s in %s", id, Executions(n)));
    }
    absl::PrintF(
        "known races: let through (docs/tsan-races.md; --races=all stops on them): "
        "%s\n",
        absl::StrJoin(parts, ", "));
  }
}

// Everything between the header and the reproduce line, for a failure.
void PrintFailureBody(const RunArgs& run, const sim::Report& r, int signal) {
  const sim::RunConfig& c = run.config;
  std::fputs("\n", stdout);
  PrintFailure(stdout, r.failure);
  FlushStdout();
  PrintSearch(c, r, signal);
  if (c.minimize && r.interrupted) {
    absl::PrintF(
        "minimised:   interrupted by %s after %s: preemptions %d -> %d, steps %d -> %d "
        "(the schedule below fails; it may not be minimal)\n",
        SignalName(signal), Executions(r.minimize_executions), r.original_preemptions,
        r.failing.preemptions, r.original_steps, r.failing.steps);
  } else if (c.minimize) {
    absl::PrintF(
        "minimised:   preemptions %d -> %d, steps %d -> %d (fewest preemptions "
        "first, then fewest steps; %s)\n",
        r.original_preemptions, r.failing.preemptions, r.original_steps, r.failing.steps,
        Executions(r.minimize_executions));
  } else {
    absl::PrintF("minimised:   no (--no-minimize): %d preemptions, %d steps\n",
                 r.failing.preemptions, r.failing.steps);
  }
  FlushStdout();
  absl::PrintF("schedule (%s interleaving, per thread):\n%s",
               c.minimize && !r.interrupted ? "the minimal" : "the failing",
               ScheduleListing(r.failing));
  absl::PrintF("trace hash: %s\n", Hex64(r.failing.trace_hash));
  absl::PrintF("outcome:     %s\n",
               OutcomeText(run.choice, run.config.exec, r.failure.kind));
  if (run.token_file != nullptr) {
    // The explorer wrote the token there; check, so the path we print is useful.
    const std::string& path = run.token_file->path();
    absl::StatusOr<sim::TokenData> on_disk = sim::ReadTokenFile(path);
    if (on_disk.ok() && sim::EncodeToken(*on_disk) == r.token) {
      absl::PrintF("token file:  %s\n", path);
    } else {
      absl::PrintF("token file:  %s does not hold this token (%s)\n", path,
                   on_disk.ok() ? "it holds another" : on_disk.status().message());
    }
  }
}

void PrintNoFailure(const RunArgs& run, const sim::Report& r, int signal) {
  std::fputs("\n", stdout);
  PrintSearch(run.config, r, signal);
  absl::PrintF("trace hash: %s (the last execution)\n", Hex64(r.last_trace_hash));
  absl::PrintF("outcome:     %s%s\n",
               OutcomeText(run.choice, run.config.exec, sim::FailureKind::kNone),
               r.interrupted ? " so far" : "");
  if (run.token_file != nullptr) {
    absl::PrintF("token file:  %s (the last execution's token)\n",
                 run.token_file->path());
  }
  if (r.interrupted && r.executions > 0) {
    absl::PrintF("last execution: index %d; the line below replays it\n",
                 r.executions - 1);
  }
}

}  // namespace

void PrintRunHeader(const RunArgs& run) {
  const sim::RunConfig& c = run.config;
  absl::PrintF("aiosim run: scenario %s, generation %s\n", ScenarioText(run.choice),
               c.generation);
  absl::PrintF("  strategy:    %s\n", StrategyText(c));
  absl::PrintF("  seed:        %d%s\n", c.seed,
               c.strategy == "dfs" ? " (dfs does not draw random numbers)" : "");
  absl::PrintF("  budget:      %s\n", BudgetText(c));
  absl::PrintF("  simulator:   %s\n", ExecText(c.exec));
  absl::PrintF("  minimise:    %s\n", c.minimize
                                          ? absl::StrFormat("on (at most %d executions)",
                                                            c.minimize_executions_max)
                                          : std::string("off (--no-minimize)"));
  absl::PrintF("  expected:    %s\n",
               sim::FailureKindName(run.choice.scenario->expected(run.choice.options)));
  absl::PrintF("  token file:  %s\n",
               run.token_file == nullptr
                   ? std::string("none (--token-file '')")
                   : run.token_file->path() + " (rewritten before each execution)");
  FlushStdout();
}

void PrintRunText(const RunArgs& run, const sim::Report& r, int signal) {
  if (r.found) {
    try {
      PrintFailureBody(run, r, signal);
    } catch (const std::exception& e) {
      FlushStdout();
      absl::PrintF("\n(the report could not be completed: %s)\n", e.what());
    }
  } else {
    try {
      PrintNoFailure(run, r, signal);
    } catch (const std::exception& e) {
      FlushStdout();
      absl::PrintF("\n(the report could not be completed: %s)\n", e.what());
    }
    if (!r.interrupted) return;  // no reproduce line: nothing failed
  }
  if (!run.report_line.empty()) absl::PrintF("report:      %s\n", run.report_line);
  const std::string token = ReproduceToken(r);
  if (sim::LooksLikeToken(token)) {
    absl::PrintF("reproduce: aiosim replay %s\n", token);
  } else {
    absl::PrintF("reproduce: unavailable, no valid token: %s\n", token);
  }
}

reports::Report RunFailureReport(const RunArgs& run, const sim::Report& r) {
  reports::RunInfo info;
  info.scenario = run.choice.scenario->id;
  info.generation = run.config.generation;
  info.options = OptionsText(run.choice.options);
  info.token = r.token;
  info.search = absl::StrFormat(
      "execution %d of a search by strategy %s, seed %d (%d executions)%s",
      r.failing_execution, run.config.strategy, run.config.seed, r.executions,
      run.config.minimize
          ? absl::StrFormat("; minimised in %d executions", r.minimize_executions)
          : std::string());
  return reports::BuildReport(r.failing, info);
}

std::string ReportStem(const ScenarioChoice& choice) {
  std::string stem = choice.scenario->id;
  for (const auto& [k, v] : choice.options) {
    if (v == "none") continue;
    absl::StrAppend(&stem, "_", k, "_", v);
  }
  for (char& ch : stem) {
    if (!isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_') ch = '_';
  }
  return stem;
}

std::string RunJson(const RunArgs& run, const sim::Report& r, int signal) {
  try {
    const sim::RunConfig& c = run.config;
    JsonObject j;
    j.Bool("found", r.found)
        .Str("kind", sim::FailureKindName(r.failure.kind))
        .Str("message", r.failure.message)
        .Raw("details", JsonArray(r.failure.details))
        .Str("scenario", c.scenario)
        .Raw("options", JsonStringMap(c.options))
        .Str("generation", c.generation)
        .Str("strategy", c.strategy)
        .Str("strategy_description", r.figures.description)
        .Uint("seed", c.seed);
    if (c.executions_max == kUnlimited) {
      j.Null("executions_max");
    } else {
      j.Uint("executions_max", c.executions_max);
    }
    j.Num("seconds_max", c.seconds_max, 3);
    if (c.strategy == "dfs") {
      if (c.preemptions == sim::kUnboundedPreemptions) {
        j.Null("preemption_bound");
      } else {
        j.Int("preemption_bound", c.preemptions);
      }
    }
    if (c.strategy == "pct") j.Int("pct_depth", c.pct_depth);
    j.Raw("exec", ExecJson(c.exec))
        .Uint("executions", r.executions)
        .Num("seconds", r.seconds, 3)
        .Num("executions_per_second", r.executions_per_second, 1);
    if (c.strategy == "dfs") {
      j.Uint("pruned", r.figures.pruned)
          .Uint("beyond_bound", r.figures.beyond_bound)
          .Int("dfs_bound_reached", r.figures.round)
          .Int("dfs_complete_through", r.figures.complete_through)
          .Uint("dfs_dropped", r.figures.dropped)
          .Uint("dfs_memory_mb", r.figures.frontier_bytes_max >> 20);
    }
    j.Bool("exhausted", r.exhausted);
    {
      JsonObject known;
      for (const auto& [id, n] : r.suppressed_races) known.Uint(id, n);
      j.Raw("known_races_let_through", known.Close());
    }
    if (c.strategy == "pct") j.Str("probability_bound", PctBound(r));
    const sim::FailureKind expected = run.choice.scenario->expected(run.choice.options);
    j.Str("expected_kind", sim::FailureKindName(expected))
        .Bool("expected", IsExpected(run.choice, run.config.exec, r.failure.kind));
    j.Bool("interrupted", r.interrupted);
    if (r.interrupted) {
      j.Str("signal", SignalName(signal));
    } else {
      j.Null("signal");
    }
    if (r.found) {
      j.Uint("failing_execution", r.failing_execution)
          .Int("original_preemptions", r.original_preemptions)
          .Uint("original_steps", r.original_steps)
          .Int("preemptions", r.failing.preemptions)
          .Uint("steps", r.failing.steps)
          .Uint("minimize_executions", r.minimize_executions)
          .Bool("minimized", c.minimize && !r.interrupted)
          .Str("trace_hash", Hex64(r.failing.trace_hash))
          .Str("schedule", ScheduleListing(r.failing))
          .Str("token", r.token);
    } else {
      j.Null("preemptions").Null("steps").Str("trace_hash", Hex64(r.last_trace_hash));
      j.Null("token");
    }
    j.Str("last_execution_token", r.last_token);
    j.Str("token_file", TokenFilePath(run));
    return j.Close();
  } catch (const std::exception& e) {
    JsonObject fallback;  // keep what reproduces the failure
    fallback.Bool("found", r.found)
        .Str("kind", sim::FailureKindName(r.failure.kind))
        .Bool("interrupted", r.interrupted)
        .Str("token", r.token)
        .Str("last_execution_token", r.last_token)
        .Str("error", e.what());
    return fallback.Close();
  }
}

std::string RunResultLine(const RunArgs& run, const sim::Report& r, int signal) {
  std::vector<std::string> parts;
  if (r.found) {
    parts.push_back(absl::StrFormat("a failure was found (%s)",
                                    sim::FailureKindName(r.failure.kind)));
  } else {
    parts.push_back(absl::StrFormat("no failure found in %s", Executions(r.executions)));
  }
  if (r.interrupted) {
    parts.push_back(absl::StrFormat("interrupted by %s", SignalName(signal)));
  }
  if (run.token_file != nullptr) parts.push_back("token file: " + run.token_file->path());
  if (const std::string token = ReproduceToken(r); !token.empty()) {
    parts.push_back("reproduce: aiosim replay " + token);
  }
  return absl::StrJoin(parts, "; ");
}

}  // namespace aiosim::tools
