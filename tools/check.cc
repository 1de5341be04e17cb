// tools/check.cc — `aiosim check` (every scenario and option against its declared
// outcome, scenarios/check.h) and `aiosim explore` (the bounded exhaustive search of
// one scenario, to its end): see run.h.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "scenarios/check.h"

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "reports/model.h"
#include "sim/aiosim_sim.h"
#include "tools/interrupt.h"
#include "tools/json.h"
#include "tools/report_dir.h"
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
    "  --jobs N         run N cases at once, each search on its own thread (default\n"
    "                   1); the lines come out in case order all the same\n"
    "  --json           one JSON object\n"
    "  --report DIR     also write the results into DIR (created if missing):\n"
    "                   check-<generation>.md, .html, .json and .junit.xml (JUnit\n"
    "                   XML for CI: one testcase per case); default\n"
    "                   $AIOSIM_REPORT_DIR if set\n"
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
    {"report", "DIR"},   {"jobs", "N"},
};

// A check result as a table row (reports/model.h).
reports::CaseRow CaseRowOf(const scenarios::CheckResult& r, core::AioGeneration g) {
  reports::CaseRow row;
  row.name = scenarios::CaseName(r.c);
  row.group = absl::StrCat("check ", core::AioGenerationName(g));
  row.expected = sim::FailureKindName(r.c.expected);
  std::vector<std::string> got, failure;
  for (const scenarios::CheckRun& run : r.runs) {
    row.seconds += run.seconds;
    got.push_back(absl::StrCat(run.strategy, ": ",
                               run.found ? sim::FailureKindName(run.kind) : "none"));
    if (!run.ok) {
      failure.push_back(absl::StrCat(run.strategy, ": ", run.why));
      if (run.found) failure.push_back(absl::StrCat("reproduce: aiosim replay ", run.token));
    }
  }
  row.got = absl::StrJoin(got, ", ");
  row.ok = r.ok;
  row.evidence = r.evidence;
  row.failure = absl::StrJoin(failure, "\n");
  return row;
}

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
  int jobs = 1;
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
    } else if (flag.name == "jobs") {
      if ((n = ParseUint(flag.name, flag.value, 1, 64)).ok()) jobs = static_cast<int>(*n);
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
  const absl::StatusOr<std::string> report_dir = ReportDirOf(parsed->flags);
  if (!report_dir.ok()) {
    absl::FPrintF(stderr, "aiosim check: %s\n", OneLine(report_dir.status()));
    return kExitBadInput;
  }
  reports::Table table;
  table.title = absl::StrCat("aiosim check --generation ", core::AioGenerationName(generation));
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
  // Cases run on `jobs` threads (independent simulations: each owns its executions,
  // sim/execution.h); the results are taken in case order.
  const size_t n_cases = cases->size();
  std::vector<scenarios::CheckResult> done(n_cases);
  std::vector<char> ready(n_cases, 0);
  std::mutex mu;
  std::condition_variable cv;
  size_t next = 0;
  auto worker = [&] {
    for (;;) {
      size_t i;
      {
        std::lock_guard<std::mutex> l(mu);
        if (next >= n_cases) return;
        i = next++;
      }
      scenarios::CheckResult r = scenarios::CheckOne((*cases)[i], budget);
      std::lock_guard<std::mutex> l(mu);
      done[i] = std::move(r);
      ready[i] = 1;
      cv.notify_all();
    }
  };
  std::vector<std::thread> workers;
  for (int j = 0; j < jobs && static_cast<size_t>(j) < n_cases; j++) workers.emplace_back(worker);
  for (size_t i = 0; i < n_cases; i++) {
    {
      std::unique_lock<std::mutex> l(mu);
      cv.wait(l, [&] { return ready[i] != 0; });
    }
    const scenarios::CheckCase& c = (*cases)[i];
    const scenarios::CheckResult& r = done[i];
    if (r.interrupted) break;
    for (const scenarios::CheckRun& run : r.runs) seconds += run.seconds;
    (r.ok ? ok : failed)++;
    table.cases.push_back(CaseRowOf(r, generation));
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
  for (std::thread& w : workers) w.join();  // an interrupt stops each search soon
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
  int code = failed == 0 ? kExitOk : kExitFailure;
  std::string report_line;
  if (!report_dir->empty()) {
    table.summary = summary;
    absl::StatusOr<std::string> written = WriteTableFiles(
        *report_dir, absl::StrCat("check-", core::AioGenerationName(generation)), table);
    if (written.ok()) {
      report_line = absl::StrCat("report: ", *written, "\n");
    } else {
      absl::FPrintF(stderr, "aiosim check: %s\n", OneLine(written.status()));
      code = kExitOutput;
    }
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
    WriteStdout(report_line + "check: " + summary + "\n");
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
  return code;
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
