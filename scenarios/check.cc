// scenarios/check.cc — see check.h.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "scenarios/check.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace aiosim::scenarios {

namespace {

std::string Count(uint64_t n) {
  // 1234567 -> "1,234,567": figures people compare.
  std::string digits = absl::StrCat(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); i++) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

CheckRun Search(const CheckCase& c, const CheckBudget& budget,
                const std::string& strategy, int bound, uint64_t executions) {
  sim::RunConfig config;
  config.scenario = c.scenario->id;
  config.options = c.options;
  config.strategy = strategy;
  config.seed = budget.seed;
  config.executions_max = executions;
  config.preemptions = bound;
  config.pct_depth = c.scenario->pct_depth;
  config.exec.race_detection = budget.races;
  config.stop = budget.stop;
  const sim::Body body = c.scenario->make(c.options);
  const sim::Report r = sim::Explore(body, config);
  CheckRun run;
  run.strategy = strategy;
  run.bound = strategy == "dfs" ? bound : -1;
  run.found = r.found;
  run.kind = r.failure.kind;
  run.message = r.failure.message;
  run.executions = r.found ? r.failing_execution + 1 : r.executions;
  run.exhausted = r.exhausted;
  run.complete_through = r.figures.complete_through;
  run.beyond_bound = r.figures.beyond_bound;
  run.preemptions = r.found ? r.failing.preemptions : -1;
  run.token = r.token;
  run.seconds = r.seconds;
  return run;
}

// How far a DFS that is not exhausted got: "complete through 1 preemption".
std::string CompleteThrough(const CheckRun& r) {
  if (r.complete_through < 0) return "not even round 0 finished";
  return absl::StrFormat("complete through %d preemption%s", r.complete_through,
                         r.complete_through == 1 ? "" : "s");
}

const char* Label(const std::string& strategy) {
  return strategy == "pct" ? "PCT" : strategy == "dfs" ? "DFS" : "random";
}

}  // namespace

std::string CaseName(const CheckCase& c) {
  std::vector<std::string> parts = {c.scenario->id};
  for (const auto& [k, v] : c.options) {
    if ((k == "revert" || k == "fix") && v == "none") continue;
    parts.push_back(k + "=" + v);
  }
  return absl::StrJoin(parts, " ");
}

absl::StatusOr<std::vector<CheckCase>> CheckCases(const std::vector<std::string>& ids) {
  return CheckCases(ids, core::AioGeneration::kLegacy, nullptr);
}

absl::StatusOr<std::vector<CheckCase>> CheckCases(const std::vector<std::string>& ids,
                                                  core::AioGeneration generation,
                                                  std::vector<SkippedScenario>* skipped) {
  std::vector<const Scenario*> chosen;
  if (ids.empty()) {
    for (const Scenario& s : Catalog()) chosen.push_back(&s);
  } else {
    for (const std::string& id : ids) {
      const Scenario* s = FindScenario(id);
      if (s == nullptr) {
        std::vector<std::string> all;
        for (const Scenario& x : Catalog()) all.push_back(x.id);
        return absl::InvalidArgumentError(
            absl::StrCat("unknown scenario '", id.substr(0, 40),
                         "' (expected one of: ", absl::StrJoin(all, ", "), ")"));
      }
      if (std::find(chosen.begin(), chosen.end(), s) == chosen.end()) chosen.push_back(s);
    }
  }
  std::vector<CheckCase> cases;
  for (const Scenario* s : chosen) {
    if (generation == core::AioGeneration::kModern &&
        s->modern_status != Scenario::ModernStatus::kRuns) {
      if (skipped != nullptr) skipped->push_back({s, s->modern_status, s->modern_why});
      continue;
    }
    for (const Options& options : OptionVariants(*s)) {
      if (generation == core::AioGeneration::kLegacy) {
        cases.push_back(CheckCase{s, options, s->expected(options)});
        continue;
      }
      Options given = options;
      given.emplace_back("generation", "modern");
      // A legacy-only value (an API 10.2 lacks) gives way to the modern default.
      std::erase_if(given, [&](const std::pair<std::string, std::string>& kv) {
        return std::any_of(s->options.begin(), s->options.end(),
                           [&](const ScenarioOption& o) {
                             return o.key == kv.first && o.LegacyOnly(kv.second);
                           });
      });
      absl::StatusOr<Options> modern = ResolveOptions(*s, given);
      if (!modern.ok()) continue;  // a switch of the legacy code
      if (std::find_if(cases.begin(), cases.end(), [&](const CheckCase& c) {
            return c.scenario == s && c.options == *modern;
          }) != cases.end()) {
        continue;
      }
      cases.push_back(CheckCase{s, *modern, s->expected(*modern)});
    }
  }
  return cases;
}

CheckResult CheckOne(const CheckCase& c, const CheckBudget& budget) {
  auto accepts = [&](sim::FailureKind kind) {
    return AcceptsKind(*c.scenario, c.options, budget.races, kind);
  };
  CheckResult result;
  result.c = c;
  const bool expect_failure = c.expected != sim::FailureKind::kNone;
  auto stopped = [&] { return budget.stop && budget.stop(); };
  for (const char* strategy : {"random", "pct"}) {
    if (stopped()) break;
    CheckRun run = Search(c, budget, strategy, budget.dfs_bound, budget.executions);
    run.ok = expect_failure ? run.found && accepts(run.kind) : !run.found;
    if (!run.ok) {
      run.why = run.found ? absl::StrFormat("%s found %s: %s", Label(strategy),
                                            sim::FailureKindName(run.kind), run.message)
                          : absl::StrFormat("%s did not find it in %s executions",
                                            Label(strategy), Count(run.executions));
    }
    result.runs.push_back(std::move(run));
  }
  if (!stopped()) {
    const int bound = ExhaustBound(*c.scenario, c.options);
    if (expect_failure) {
      CheckRun run =
          Search(c, budget, "dfs", budget.dfs_bound, budget.exhaust_executions);
      run.ok = run.found && accepts(run.kind);
      if (!run.ok) {
        run.why = run.found
                      ? absl::StrFormat("DFS found %s: %s",
                                        sim::FailureKindName(run.kind), run.message)
                      : absl::StrFormat("DFS did not find it within %d preemptions (%s)",
                                        budget.dfs_bound,
                                        run.exhausted ? "exhausted" : "not exhausted");
      }
      result.runs.push_back(std::move(run));
    } else if (bound >= 0) {
      CheckRun run = Search(c, budget, "dfs", bound, budget.exhaust_executions);
      run.ok = !run.found && run.exhausted;
      if (!run.ok) {
        run.why = run.found
                      ? absl::StrFormat("DFS found %s: %s",
                                        sim::FailureKindName(run.kind), run.message)
                      : absl::StrFormat(
                            "DFS at %d preemptions was not exhausted in %s executions "
                            "(%s)",
                            bound, Count(run.executions), CompleteThrough(run));
      }
      result.runs.push_back(std::move(run));
    } else {
      CheckRun run = Search(c, budget, "random", budget.dfs_bound, budget.none_random);
      run.strategy = "random-long";
      run.ok = !run.found && run.executions >= budget.none_random;
      if (!run.ok) {
        run.why = run.found ? absl::StrFormat("random found %s: %s",
                                              sim::FailureKindName(run.kind), run.message)
                            : "the random budget did not complete";
      }
      result.runs.push_back(std::move(run));
    }
  }
  result.interrupted = stopped();
  result.ok = !result.interrupted && !result.runs.empty() &&
              std::all_of(result.runs.begin(), result.runs.end(),
                          [](const CheckRun& r) { return r.ok; });

  // The evidence, in one line.
  std::vector<std::string> parts;
  for (const CheckRun& r : result.runs) {
    if (r.strategy == "dfs" && expect_failure) {
      parts.push_back(
          r.found ? absl::StrFormat("DFS %s (%d preemption%s)", Count(r.executions),
                                    r.preemptions, r.preemptions == 1 ? "" : "s")
                  : absl::StrFormat("DFS none within %d preemptions", r.bound));
    } else if (r.strategy == "dfs") {
      parts.push_back(
          r.exhausted
              ? absl::StrFormat("DFS exhausted at %d preemption%s (%s execution%s)",
                                r.bound, r.bound == 1 ? "" : "s", Count(r.executions),
                                r.executions == 1 ? "" : "s")
              : absl::StrFormat("DFS at %d preemption%s not exhausted after %s (%s)",
                                r.bound, r.bound == 1 ? "" : "s", Count(r.executions),
                                CompleteThrough(r)));
    } else if (r.strategy == "random-long") {
      parts.push_back(absl::StrFormat("random %s executions", Count(r.executions)));
    } else {
      parts.push_back(
          r.found
              ? absl::StrFormat("%s %s", Label(r.strategy), Count(r.executions))
              : absl::StrFormat("%s none in %s", Label(r.strategy), Count(r.executions)));
    }
  }
  result.evidence = absl::StrCat(
      expect_failure ? absl::StrCat("found ", sim::FailureKindName(c.expected))
                     : "not found",
      ": ", absl::StrJoin(parts, ", "));
  return result;
}

}  // namespace aiosim::scenarios
