// tools/run.cc — `aiosim run`: see run.h.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// The output follows TigerBeetle's VOPR: first a header with every derived option
// (so a run can be repeated from its log alone), then the search's result; a failure
// ends with one ready-to-paste line, `reproduce: aiosim replay <token>`. That line is
// the last one and is printed even if formatting the rest fails; the explorer also
// writes the token to the token file before each execution, so a crash of the process
// keeps it on disk.
#include "tools/run.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "scenarios/catalog.h"
#include "sim/aiosim_sim.h"
#include "sim/dfs.h"
#include "sim/random_pct.h"
#include "tools/json.h"
#include "tools/sim_args.h"

namespace aiosim::tools {

const char kRunUsage[] =
    "usage: aiosim run <scenario> [flags]\n"
    "\n"
    "Explores a catalog scenario ('aiosim list') under a strategy until a failure is\n"
    "found or the budget ends. Prints a header with every derived option, then the\n"
    "failure, the search and minimisation figures, the minimal interleaving per thread,\n"
    "and as the last line: reproduce: aiosim replay <token>.\n"
    "\n"
    "flags (a value may also be given as --flag=value):\n"
    "  --strategy NAME     random (default), pct, dfs (bounded exhaustive search)\n"
    "  --seed N            random and pct seed (default 1)\n"
    "  --executions N      at most N executions (default 10000; unlimited if only\n"
    "                      --seconds is given)\n"
    "  --seconds S         stop after S seconds of search (default: no limit)\n"
    "  --preemptions K     dfs: preemption bound (default 2)\n"
    "  --pct-depth D       pct: bug depth d (default 3)\n"
    "  --option KEY=VALUE  a scenario option (repeatable; 'aiosim list' shows them)\n"
    "  --revert ID         revert a historical fix: same as --option revert=ID\n"
    "  --races             detect data races on Shared/Atomic accesses\n"
    "  --max-steps N       scheduling points per execution (default 200000)\n"
    "  --time-advances N   virtual-time jumps while threads can run (default 1)\n"
    "  --spurious          let condition waits wake spuriously\n"
    "  --eintr             let blocking polls fail with EINTR\n"
    "  --no-minimize       report the first failing schedule as found\n"
    "  --token-file PATH   written before each execution (default\n"
    "                      $TMPDIR/aiosim-<scenario>.token; '' for none)\n"
    "  --json              print one JSON object instead of text\n"
    "  --help              show this help\n"
    "\n"
    "A progress line (executions, executions/s) goes to stderr about once a second.\n"
    "exit codes: 0 no failure found, 1 a failure found, 2 bad input\n";

namespace {

constexpr FlagSpec kRunFlags[] = {
    {"strategy", "NAME"}, {"seed", "N"},          {"executions", "N"},
    {"seconds", "S"},     {"preemptions", "K"},   {"pct-depth", "D"},
    {"no-minimize", ""},  {"token-file", "PATH"}, {"json", ""},
};
constexpr uint64_t kUnlimited = std::numeric_limits<uint64_t>::max();
constexpr uint64_t kPreemptionsMax = 64;
constexpr uint64_t kPctDepthMax = 64;

struct RunArgs {
  ScenarioChoice choice;
  sim::RunConfig config;
  bool json = false;
};

std::vector<FlagSpec> AllFlags() {
  std::vector<FlagSpec> specs(std::begin(kRunFlags), std::end(kRunFlags));
  specs.insert(specs.end(), std::begin(kScenarioFlags), std::end(kScenarioFlags));
  specs.insert(specs.end(), std::begin(kExecFlags), std::end(kExecFlags));
  return specs;
}

std::string DefaultTokenPath(const std::string& scenario) {
  const char* tmpdir = std::getenv("TMPDIR");
  std::string dir = tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp";
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return absl::StrFormat("%s/aiosim-%s.token", dir == "/" ? "" : dir, scenario);
}

absl::Status CheckWritable(const std::string& path) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("--token-file: cannot write '%s': %s (choose another with "
                        "--token-file PATH, or --token-file '' for none)",
                        path, std::strerror(errno)));
  }
  close(fd);
  return absl::OkStatus();
}

// Returns the parsed arguments, or an error; `help` is set for --help.
absl::StatusOr<RunArgs> ParseRunArgs(Args args, bool* help) {
  const std::vector<FlagSpec> specs = AllFlags();
  absl::StatusOr<ParsedArgs> parsed = ParseArgs("run", args, specs);
  if (!parsed.ok()) return parsed.status();
  *help = parsed->help;
  RunArgs run;
  if (parsed->help) return run;
  absl::StatusOr<ScenarioChoice> choice =
      ChooseScenario(parsed->positional, parsed->flags);
  if (!choice.ok()) return choice.status();
  run.choice = *std::move(choice);
  sim::RunConfig& c = run.config;
  c.scenario = run.choice.scenario->id;
  c.options = run.choice.options;
  bool executions_given = false, seconds_given = false, token_given = false;
  const ParsedFlag* preemptions_flag = nullptr;
  const ParsedFlag* depth_flag = nullptr;
  for (const ParsedFlag& flag : parsed->flags) {
    absl::StatusOr<uint64_t> n = uint64_t{0};
    if (flag.name == "strategy") {
      if (flag.value != "random" && flag.value != "pct" && flag.value != "dfs") {
        return absl::InvalidArgumentError(absl::StrFormat(
            "unknown strategy '%s' (expected: random, pct, dfs)", Shown(flag.value)));
      }
      c.strategy = std::string(flag.value);
    } else if (flag.name == "seed") {
      if ((n = ParseUint(flag.name, flag.value, 0, kUnlimited)).ok()) c.seed = *n;
    } else if (flag.name == "executions") {
      if ((n = ParseUint(flag.name, flag.value, 1, kUnlimited)).ok())
        c.executions_max = *n;
      executions_given = true;
    } else if (flag.name == "seconds") {
      absl::StatusOr<double> s = ParseSeconds(flag.name, flag.value);
      if (!s.ok()) return s.status();
      c.seconds_max = *s;
      seconds_given = *s > 0;
    } else if (flag.name == "preemptions") {
      if ((n = ParseUint(flag.name, flag.value, 0, kPreemptionsMax)).ok()) {
        c.preemptions = static_cast<int>(*n);
      }
      preemptions_flag = &flag;
    } else if (flag.name == "pct-depth") {
      if ((n = ParseUint(flag.name, flag.value, 1, kPctDepthMax)).ok()) {
        c.pct_depth = static_cast<int>(*n);
      }
      depth_flag = &flag;
    } else if (flag.name == "no-minimize") {
      c.minimize = false;
    } else if (flag.name == "token-file") {
      c.token_path = std::string(flag.value);
      token_given = true;
    } else if (flag.name == "json") {
      run.json = true;
    } else {
      absl::StatusOr<bool> exec = ApplyExecFlag(flag, &c.exec);
      if (!exec.ok()) return exec.status();
    }
    if (!n.ok()) return n.status();
  }
  if (preemptions_flag != nullptr && c.strategy != "dfs") {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--preemptions applies to --strategy dfs only (strategy is %s)", c.strategy));
  }
  if (depth_flag != nullptr && c.strategy != "pct") {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--pct-depth applies to --strategy pct only (strategy is %s)", c.strategy));
  }
  if (seconds_given && !executions_given) c.executions_max = kUnlimited;
  if (!token_given) c.token_path = DefaultTokenPath(c.scenario);
  if (!c.token_path.empty()) {
    if (absl::Status s = CheckWritable(c.token_path); !s.ok()) return s;
  }
  return run;
}

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
  if (r.executions >= c.executions_max) return "the execution budget ended";
  return "the time limit ended";
}

void PrintHeader(const RunArgs& run) {
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
               c.token_path.empty()
                   ? std::string("none")
                   : c.token_path + " (rewritten before each execution)");
  std::fflush(stdout);
}

void PrintSearch(const sim::RunConfig& c, const sim::Report& r) {
  if (r.found) {
    absl::PrintF(
        "search:      %s, %.3f s, %.0f executions/s; the last one (index %d) "
        "failed\n",
        Executions(r.executions), r.seconds, r.executions_per_second,
        r.failing_execution);
  } else {
    absl::PrintF("no failure found: %s, %.3f s, %.0f executions/s; %s\n",
                 Executions(r.executions), r.seconds, r.executions_per_second,
                 StopReason(c, r));
  }
  if (c.strategy == "dfs") {
    absl::PrintF(
        "dfs:         stopped in round %d of 0..%d (preemption bound), %d options beyond "
        "the bound, %d pruned by sleep sets, space %s\n",
        r.figures.round, c.preemptions, r.figures.beyond_bound, r.figures.pruned,
        r.exhausted ? "exhausted" : "not exhausted");
  }
  if (c.strategy == "pct") absl::PrintF("pct:         %s\n", r.figures.description);
}

// Everything between the header and the reproduce line, for a failure.
void PrintFailureBody(const RunArgs& run, const sim::Report& r) {
  const sim::RunConfig& c = run.config;
  std::fputs("\n", stdout);
  PrintFailure(stdout, r.failure);
  std::fflush(stdout);
  PrintSearch(c, r);
  if (c.minimize) {
    absl::PrintF("minimised:   preemptions %d -> %d, steps %d -> %d (%s)\n",
                 r.original_preemptions, r.failing.preemptions, r.original_steps,
                 r.failing.steps, Executions(r.minimize_executions));
  } else {
    absl::PrintF("minimised:   no (--no-minimize): %d preemptions, %d steps\n",
                 r.failing.preemptions, r.failing.steps);
  }
  std::fflush(stdout);
  absl::PrintF("schedule (%s interleaving, per thread):\n%s",
               c.minimize ? "the minimal" : "the failing",
               sim::FormatSchedule(r.failing));
  absl::PrintF("trace hash: %s\n", Hex64(r.failing.trace_hash));
  absl::PrintF("outcome:     %s\n", OutcomeText(run.choice, r.failure.kind));
  if (!c.token_path.empty()) {
    // The explorer wrote the token there; check, so the path we print is useful.
    absl::StatusOr<sim::TokenData> on_disk = sim::ReadTokenFile(c.token_path);
    if (on_disk.ok() && sim::EncodeToken(*on_disk) == r.token) {
      absl::PrintF("token file:  %s\n", c.token_path);
    } else {
      absl::PrintF("token file:  %s does not hold this token (%s)\n", c.token_path,
                   on_disk.ok() ? "another run may have rewritten it"
                                : on_disk.status().message());
    }
  }
}

void PrintText(const RunArgs& run, const sim::Report& r) {
  const sim::RunConfig& c = run.config;
  if (!r.found) {
    std::fputs("\n", stdout);
    PrintSearch(c, r);
    absl::PrintF("trace hash: %s (the last execution)\n", Hex64(r.last_trace_hash));
    absl::PrintF("outcome:     %s\n", OutcomeText(run.choice, sim::FailureKind::kNone));
    return;
  }
  try {
    PrintFailureBody(run, r);
  } catch (const std::exception& e) {
    std::fflush(stdout);
    absl::PrintF("\n(the report could not be completed: %s)\n", e.what());
  }
  if (sim::LooksLikeToken(r.token)) {
    absl::PrintF("reproduce: aiosim replay %s\n", r.token);
  } else {
    absl::PrintF("reproduce: unavailable, no valid token: %s\n", r.token);
  }
}

std::string RunJson(const RunArgs& run, const sim::Report& r) {
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
  if (c.strategy == "dfs") j.Int("preemption_bound", c.preemptions);
  if (c.strategy == "pct") j.Int("pct_depth", c.pct_depth);
  j.Raw("exec", ExecJson(c.exec))
      .Uint("executions", r.executions)
      .Num("seconds", r.seconds, 3)
      .Num("executions_per_second", r.executions_per_second, 1);
  if (c.strategy == "dfs") {
    j.Uint("pruned", r.figures.pruned)
        .Uint("beyond_bound", r.figures.beyond_bound)
        .Int("dfs_bound_reached", r.figures.round);
  }
  j.Bool("exhausted", r.exhausted);
  if (c.strategy == "pct") j.Str("probability_bound", PctBound(r));
  const sim::FailureKind expected = run.choice.scenario->expected(run.choice.options);
  j.Str("expected_kind", sim::FailureKindName(expected))
      .Bool("expected", expected == r.failure.kind);
  if (r.found) {
    j.Uint("failing_execution", r.failing_execution)
        .Int("original_preemptions", r.original_preemptions)
        .Uint("original_steps", r.original_steps)
        .Int("preemptions", r.failing.preemptions)
        .Uint("steps", r.failing.steps)
        .Uint("minimize_executions", r.minimize_executions)
        .Bool("minimized", c.minimize)
        .Str("trace_hash", Hex64(r.failing.trace_hash))
        .Str("schedule", sim::FormatSchedule(r.failing))
        .Str("token", r.token);
  } else {
    j.Null("preemptions").Null("steps").Str("trace_hash", Hex64(r.last_trace_hash));
    j.Null("token");
  }
  j.Str("token_file", c.token_path);
  return j.Close();
}

}  // namespace

int RunMain(Args args) {
  bool help = false;
  absl::StatusOr<RunArgs> run = ParseRunArgs(args, &help);
  if (!run.ok()) {
    absl::FPrintF(stderr, "aiosim run: %s\n", OneLine(run.status()));
    return kExitBadInput;
  }
  if (help) {
    std::fputs(kRunUsage, stdout);
    return std::fflush(stdout) == 0 ? kExitOk : kExitFailure;
  }
  sim::RunConfig& c = run->config;
  const sim::Body body = run->choice.scenario->make(run->choice.options);
  if (c.strategy == "pct" && c.pct_steps == 0) c.pct_steps = sim::MeasurePctSteps(body, c.exec);
  if (!run->json) PrintHeader(*run);
  c.progress = [](uint64_t executions, double seconds) {
    absl::FPrintF(stderr, "aiosim run: executions %d, %.0f/s\n", executions,
                  seconds > 0 ? static_cast<double>(executions) / seconds : 0.0);
  };
  const sim::Report report = sim::Explore(body, c);
  if (run->json) {
    std::string json;
    try {
      json = RunJson(*run, report);
    } catch (const std::exception& e) {
      JsonObject fallback;  // keep what reproduces the failure
      fallback.Bool("found", report.found)
          .Str("kind", sim::FailureKindName(report.failure.kind))
          .Str("token", report.token)
          .Str("error", e.what());
      json = fallback.Close();
    }
    absl::PrintF("%s\n", json);
  } else {
    PrintText(*run, report);
  }
  std::fflush(stdout);
  return report.found ? kExitFailure : kExitOk;
}

}  // namespace aiosim::tools
