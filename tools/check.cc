// tools/check.cc — `aiosim check` (every scenario and option against its declared
// outcome, scenarios/check.h) and `aiosim explore` (the bounded exhaustive search of
// one scenario, to its end): see run.h.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "scenarios/check.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "sim/aiosim_sim.h"
#include "tools/interrupt.h"
#include "tools/json.h"
#include "tools/run.h"
#include "tools/sim_args.h"

namespace aiosim::tools {

const char kCheckUsage[] =
    "usage: aiosim check [scenario...] [flags]\n"
    "\n"
    "Checks every scenario (or those named) and every option value and switch against\n"
    "the outcome it declares, in both directions. A declared failure must be found by\n"
    "random and PCT within --executions and by the exhaustive search within\n"
    "--preemptions; a declared 'none' must not be found, and the evidence is an\n"
    "exhaustive search complete ('exhausted') at the scenario's bound, or 100,000\n"
    "random executions where it declares none. One line per case: ok or FAIL, and the\n"
    "evidence; then a summary.\n"
    "\n"
    "flags:\n"
    "  --executions N   random and PCT budget per case (default 10000)\n"
    "  --preemptions K  DFS bound for a declared failure (default 2)\n"
    "  --seed N         random and PCT seed (default 1)\n"
    "  --races          with the race detector (QEMU 2.8's known races let through)\n"
    "  --generation G   legacy (default) or modern: the cases of that generation; on\n"
    "                   modern, a scenario that does not run there is listed with\n"
    "                   why (n/a, or not ported yet) and is no case\n"
    "  --json           one JSON object\n"
    "  --help           this help\n"
    "\n"
    "exit codes: 0 every case holds, 1 some case does not, 2 bad input,\n"
    "            3 stdout could not be written, 130 / 143 interrupted\n";

const char kExploreUsage[] =
    "usage: aiosim explore <scenario> [--preemptions K] [flags of 'aiosim run']\n"
    "\n"
    "The bounded exhaustive search of one scenario, run to its end: every schedule with\n"
    "at most K preemptions (default 2; 'unbounded' for every schedule, with sleep\n"
    "sets), each once, fewest preemptions first. Prints the executions, the options\n"
    "beyond the bound and pruned, and whether the bound was exhausted; stops at the\n"
    "first failure, with its minimal schedule and reproduce line. The same as\n"
    "'aiosim run <scenario> --strategy dfs' without an execution limit (unless\n"
    "--executions or --seconds is given).\n"
    "\n"
    "exit codes: as 'aiosim run': 0 nothing found, 1 a failure found, 2 bad input,\n"
    "            3 stdout could not be written, 130 / 143 interrupted\n";

namespace {

constexpr FlagSpec kCheckFlags[] = {
    {"executions", "N"}, {"preemptions", "K"}, {"seed", "N"},
    {"races", ""},       {"json", ""},        {"generation", "G"},
};

std::string RunJson(const scenarios::CheckRun& r) {
  JsonObject j;
  j.Str("strategy", r.strategy);
  if (r.bound >= 0) j.Int("preemption_bound", r.bound);
  j.Bool("found", r.found)
      .Str("kind", sim::FailureKindName(r.kind))
      .Uint("executions", r.executions)
      .Bool("exhausted", r.exhausted)
      .Num("seconds", r.seconds, 3)
      .Bool("ok", r.ok);
  if (!r.why.empty()) j.Str("why", r.why);
  if (r.found) j.Int("preemptions", r.preemptions).Str("token", r.token);
  return j.Close();
}

std::string ResultJson(const scenarios::CheckResult& r) {
  std::vector<std::string> runs;
  for (const scenarios::CheckRun& run : r.runs) runs.push_back(RunJson(run));
  JsonObject j;
  j.Str("case", scenarios::CaseName(r.c))
      .Str("scenario", r.c.scenario->id)
      .Raw("options", JsonStringMap(r.c.options))
      .Str("expected", sim::FailureKindName(r.c.expected))
      .Bool("ok", r.ok)
      .Str("evidence", r.evidence)
      .Raw("runs", "[" + absl::StrJoin(runs, ", ") + "]");
  return j.Close();
}

}  // namespace

int CheckMain(Args args) {
  absl::StatusOr<ParsedArgs> parsed = ParseArgs("check", args, kCheckFlags);
  if (!parsed.ok()) {
    absl::FPrintF(stderr, "aiosim check: %s\n", OneLine(parsed.status()));
    return kExitBadInput;
  }
  if (parsed->help) {
    WriteStdout(kCheckUsage);
    return kExitOk;
  }
  scenarios::CheckBudget budget;
  bool json = false;
  core::AioGeneration generation = core::AioGeneration::kLegacy;
  for (const ParsedFlag& flag : parsed->flags) {
    absl::StatusOr<uint64_t> n = uint64_t{0};
    if (flag.name == "executions") {
      if ((n = ParseUint(flag.name, flag.value, 1, uint64_t{1} << 40)).ok())
        budget.executions = *n;
    } else if (flag.name == "preemptions") {
      if ((n = ParseUint(flag.name, flag.value, 0, 64)).ok())
        budget.dfs_bound = static_cast<int>(*n);
    } else if (flag.name == "seed") {
      if ((n = ParseUint(flag.name, flag.value, 0, UINT64_MAX)).ok()) budget.seed = *n;
    } else if (flag.name == "races") {
      budget.races = true;
    } else if (flag.name == "json") {
      json = true;
    } else if (flag.name == "generation") {
      absl::StatusOr<core::AioGeneration> g = ParseGenerationFlag(flag.value);
      if (g.ok()) {
        generation = *g;
      } else {
        n = g.status();
      }
    }
    if (!n.ok()) {
      absl::FPrintF(stderr, "aiosim check: %s\n", OneLine(n.status()));
      return kExitBadInput;
    }
  }
  std::vector<std::string> ids(parsed->positional.begin(), parsed->positional.end());
  std::vector<scenarios::SkippedScenario> skipped;
  absl::StatusOr<std::vector<scenarios::CheckCase>> cases =
      scenarios::CheckCases(ids, generation, &skipped);
  if (!cases.ok()) {
    absl::FPrintF(stderr, "aiosim check: %s\n", OneLine(cases.status()));
    return kExitBadInput;
  }
  CatchStopSignals();
  budget.stop = [] { return StopSignal() != 0; };
  std::vector<std::string> results;
  int ok = 0, failed = 0;
  double seconds = 0;
  int not_applicable = 0, not_ported = 0;
  std::vector<std::string> skipped_json;
  for (const scenarios::SkippedScenario& k : skipped) {
    const bool na = k.status == scenarios::Scenario::ModernStatus::kNotApplicable;
    (na ? not_applicable : not_ported)++;
    if (json) {
      JsonObject j;
      j.Str("scenario", k.scenario->id)
          .Str("status", na ? "n/a" : "not ported")
          .Str("why", k.why);
      skipped_json.push_back(j.Close());
    } else {
      WriteStdout(absl::StrFormat("%-4s %s on modern: %s\n", na ? "n/a" : "--",
                                  k.scenario->id, k.why));
    }
  }
  for (const scenarios::CheckCase& c : *cases) {
    const scenarios::CheckResult r = scenarios::CheckOne(c, budget);
    if (r.interrupted) break;
    for (const scenarios::CheckRun& run : r.runs) seconds += run.seconds;
    (r.ok ? ok : failed)++;
    if (json) {
      results.push_back(ResultJson(r));
      continue;
    }
    std::vector<std::string> whys;
    for (const scenarios::CheckRun& run : r.runs) {
      if (!run.ok) whys.push_back(run.why);
    }
    WriteStdout(absl::StrFormat("%-4s %s: %s%s\n", r.ok ? "ok" : "FAIL",
                                scenarios::CaseName(c), r.evidence,
                                whys.empty() ? "" : " — " + absl::StrJoin(whys, "; ")));
    FlushStdout();
  }
  const int signal = StopSignal();
  std::string summary = absl::StrFormat(
      "%d case%s, %d ok, %d failed%s (%.1f s of search)", ok + failed,
      ok + failed == 1 ? "" : "s", ok, failed,
      signal != 0 ? absl::StrFormat(", interrupted by %s after them", SignalName(signal))
                  : "",
      seconds);
  if (generation == core::AioGeneration::kModern) {
    summary += absl::StrFormat(
        "; generation modern: %d scenario%s not applicable, %d not ported yet",
        not_applicable, not_applicable == 1 ? "" : "s", not_ported);
  }
  if (json) {
    JsonObject j;
    j.Bool("ok", failed == 0 && signal == 0)
        .Uint("cases", ok + failed)
        .Uint("failed", failed)
        .Bool("interrupted", signal != 0)
        .Str("generation", core::AioGenerationName(generation))
        .Raw("results", "[" + absl::StrJoin(results, ",\n  ") + "]")
        .Raw("not_run", "[" + absl::StrJoin(skipped_json, ", ") + "]");
    WriteStdout(j.Close() + "\n");
  } else {
    WriteStdout("check: " + summary + "\n");
  }
  if (!FlushStdout()) {
    absl::FPrintF(stderr, "aiosim check: cannot write to stdout (%s); %s\n",
                  StdoutError(), summary);
    return kExitOutput;
  }
  if (signal != 0) {
    ReRaise(signal);
    return 128 + signal;
  }
  return failed == 0 ? kExitOk : kExitFailure;
}

int ExploreMain(Args args) {
  std::vector<std::string_view> rewritten;
  bool budget_given = false;
  for (std::string_view a : args) {
    if (a == "--help" || a == "-h") {
      WriteStdout(kExploreUsage);
      return kExitOk;
    }
    if (a == "--strategy" || a.starts_with("--strategy=")) {
      absl::FPrintF(stderr,
                    "aiosim explore: --strategy is always dfs here (use 'aiosim run' for "
                    "random or pct)\n");
      return kExitBadInput;
    }
    budget_given |= a == "--executions" || a.starts_with("--executions=") ||
                    a == "--seconds" || a.starts_with("--seconds=");
    rewritten.push_back(a);
  }
  rewritten.push_back("--strategy");
  rewritten.push_back("dfs");
  if (!budget_given) {
    rewritten.push_back("--executions");
    rewritten.push_back("1000000000000");  // to the end of the bounded space
  }
  return RunCommand("aiosim explore", rewritten);
}

}  // namespace aiosim::tools
