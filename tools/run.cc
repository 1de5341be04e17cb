// tools/run.cc — `aiosim run`: see run.h. The command line, the token file, and
// the run itself; what it prints is in run_report.h.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Before each execution the explorer writes the token that reproduces it to the run's
// own token file (sim/token_file.h), so a crash of the process keeps it on disk.
// SIGINT and SIGTERM stop the search after the current execution; the summary and
// the reproduce line are printed, then the process ends killed by the same signal
// (tools/interrupt.h).
#include "tools/run.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "scenarios/catalog.h"
#include "sim/aiosim_sim.h"
#include "sim/limits.h"
#include "sim/token_file.h"
#include "tools/interrupt.h"
#include "tools/report_dir.h"
#include "tools/run_report.h"
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
    "  --seconds S         stop after S seconds of search, S > 0 (default: no limit)\n"
    "  --preemptions K     dfs: preemption bound (default 2), or 'unbounded' (rounds\n"
    "                      until no work is left, with sleep sets)\n"
    "  --dfs-memory MB     dfs: memory for the work saved for later rounds (default\n"
    "                      4096); past it the search saves nothing more, is not\n"
    "                      exhausted, and says how far it is complete\n"
    "  --pct-depth D       pct: bug depth d (default 3)\n"
    "  --generation G      legacy (QEMU 2.8.1, default) or modern (QEMU 10.2), where\n"
    "                      the scenario runs on it ('aiosim list' says)\n"
    "  --option KEY=VALUE  a scenario option (repeatable; 'aiosim list' shows them)\n"
    "  --revert ID,...     revert historical fixes QEMU 2.8.1 has (docs/switches.md)\n"
    "  --fix ID,...        apply later QEMU fixes to 2.8.1 (docs/switches.md)\n"
    "  --races[=all]       detect data races on Shared/Atomic accesses; QEMU 2.8's\n"
    "                      races by design (docs/tsan-races.md, T1..T9) are counted\n"
    "                      and let through unless --races=all\n"
    "  --max-steps N       scheduling points per execution (default 200000)\n"
    "  --time-advances N   virtual-time jumps while threads can run (default 1)\n"
    "  --spurious          let condition waits wake spuriously\n"
    "  --eintr             let blocking polls fail with EINTR\n"
    "  --no-minimize       report the first failing schedule as found\n"
    "  --token-file PATH   the token file ('' for none): a regular file or a new\n"
    "                      path, locked for the run (a second run with the same\n"
    "                      PATH is refused); default: a new file per run,\n"
    "                      DIR/aiosim-<scenario>-XXXXXX.token, DIR being\n"
    "                      $XDG_RUNTIME_DIR/aiosim, else $TMPDIR, else /tmp\n"
    "  --json              print one JSON object instead of text\n"
    "  --report DIR        write the failure's report into DIR (created if missing):\n"
    "                      <scenario>.txt, .md, .html (a timeline per thread) and\n"
    "                      .json; default $AIOSIM_REPORT_DIR if set\n"
    "  --help              show this help\n"
    "\n"
    "The token file holds the token of the execution being run (rewritten before\n"
    "each one, so a crash keeps it), and at the end the failing one; the header and\n"
    "the summary name it. A progress line (executions, executions/s) goes to stderr\n"
    "about once a second. Ctrl-C (SIGINT) or SIGTERM stops the search after the\n"
    "current execution: the summary says \"interrupted\" and ends with the reproduce\n"
    "line of the last execution (or of the failure found, minimised as far as it\n"
    "got); then aiosim ends killed by that signal.\n"
    "\n"
    "exit codes: 0 no failure found, 1 a failure found, 2 bad input (one line on\n"
    "stderr), 3 stdout could not be written (one line on stderr, with the result and\n"
    "the reproduce line), 130 interrupted by SIGINT, 143 interrupted by SIGTERM\n";

namespace {

constexpr FlagSpec kRunFlags[] = {
    {"strategy", "NAME"}, {"seed", "N"},        {"executions", "N"},
    {"seconds", "S"},     {"preemptions", "K"}, {"dfs-memory", "MB"},
    {"pct-depth", "D"},   {"no-minimize", ""},  {"token-file", "PATH"},
    {"json", ""},         {"report", "DIR"},
};
// The bounds a token's options are held to as well (sim/limits.h).
using sim::kPctDepthMax;
using sim::kPreemptionsMax;

std::vector<FlagSpec> AllFlags() {
  std::vector<FlagSpec> specs(std::begin(kRunFlags), std::end(kRunFlags));
  specs.insert(specs.end(), std::begin(kScenarioFlags), std::end(kScenarioFlags));
  specs.insert(specs.end(), std::begin(kExecFlags), std::end(kExecFlags));
  return specs;
}

// The run's token file: a new one in the default directory, the one at `path`
// (--token-file PATH), or none (--token-file '').
absl::StatusOr<std::unique_ptr<sim::TokenFile>> OpenTokenFile(
    bool given, const std::string& path, const std::string& scenario) {
  constexpr std::string_view kHint =
      "; fix it, or give --token-file PATH (or --token-file '' for none)";
  if (given && path.empty()) return std::unique_ptr<sim::TokenFile>();
  if (given) {
    absl::StatusOr<std::unique_ptr<sim::TokenFile>> file =
        sim::TokenFile::OpenForRun(path);
    if (file.ok()) return file;
    return absl::Status(file.status().code(),
                        absl::StrFormat("--token-file: %s", file.status().message()));
  }
  // The default directory: its errors name the variable it came from.
  absl::StatusOr<std::string> dir = sim::DefaultTokenDir();
  if (!dir.ok()) {
    return absl::Status(dir.status().code(),
                        absl::StrFormat("%s%s", dir.status().message(), kHint));
  }
  absl::StatusOr<std::unique_ptr<sim::TokenFile>> file =
      sim::TokenFile::CreateUnique(*dir, scenario);
  if (file.ok()) return file;
  return absl::Status(file.status().code(),
                      absl::StrFormat("%s (the default directory, from XDG_RUNTIME_DIR, "
                                      "TMPDIR or /tmp)%s",
                                      file.status().message(), kHint));
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
  c.generation = scenarios::GenerationNameOf(run.choice.options);
  c.options = run.choice.options;
  bool executions_given = false, seconds_given = false, token_given = false;
  std::string token_path;
  const ParsedFlag* preemptions_flag = nullptr;
  const ParsedFlag* memory_flag = nullptr;
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
      if (*s == 0) {
        return absl::InvalidArgumentError(
            "--seconds: 0 is not a time limit (expected a number of seconds above 0, "
            "e.g. 30 or 0.5; without --seconds there is no time limit)");
      }
      c.seconds_max = *s;
      seconds_given = true;
    } else if (flag.name == "preemptions") {
      if (flag.value == "unbounded") {
        c.preemptions = sim::kUnboundedPreemptions;
      } else if ((n = ParseUint(flag.name, flag.value, 0, kPreemptionsMax)).ok()) {
        c.preemptions = static_cast<int>(*n);
      }
      preemptions_flag = &flag;
    } else if (flag.name == "dfs-memory") {
      // At most 1 TiB: the limit in bytes stays far from overflow.
      if ((n = ParseUint(flag.name, flag.value, 1, uint64_t{1} << 20)).ok()) {
        c.dfs_frontier_bytes_max = *n << 20;
      }
      memory_flag = &flag;
    } else if (flag.name == "pct-depth") {
      if ((n = ParseUint(flag.name, flag.value, 1, kPctDepthMax)).ok()) {
        c.pct_depth = static_cast<int>(*n);
      }
      depth_flag = &flag;
    } else if (flag.name == "no-minimize") {
      c.minimize = false;
    } else if (flag.name == "token-file") {
      token_path = std::string(flag.value);
      token_given = true;
    } else if (flag.name == "json") {
      run.json = true;
    } else if (flag.name == "report") {
      // ReportDirOf, below
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
  if (memory_flag != nullptr && c.strategy != "dfs") {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--dfs-memory applies to --strategy dfs only (strategy is %s)", c.strategy));
  }
  if (depth_flag != nullptr && c.strategy != "pct") {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--pct-depth applies to --strategy pct only (strategy is %s)", c.strategy));
  }
  if (seconds_given && !executions_given) c.executions_max = kUnlimited;
  absl::StatusOr<std::string> report_dir = ReportDirOf(parsed->flags);
  if (!report_dir.ok()) return report_dir.status();
  run.report_dir = *std::move(report_dir);
  // Last, so that bad input never creates or locks a file.
  absl::StatusOr<std::unique_ptr<sim::TokenFile>> token_file =
      OpenTokenFile(token_given, token_path, c.scenario);
  if (!token_file.ok()) return token_file.status();
  run.token_file = *std::move(token_file);
  c.token_file = run.token_file.get();
  return run;
}

}  // namespace

int RunMain(Args args) { return RunCommand("aiosim run", args); }

int RunCommand(const char* command, Args args) {
  bool help = false;
  absl::StatusOr<RunArgs> run = ParseRunArgs(args, &help);
  if (!run.ok()) {
    absl::FPrintF(stderr, "%s: %s\n", command, OneLine(run.status()));
    return kExitBadInput;
  }
  if (help) {
    std::fputs(kRunUsage, stdout);
    return kExitOk;  // main() checks stdout
  }
  sim::RunConfig& c = run->config;
  CatchStopSignals();  // before the header: a signal after it always gets a summary
  c.stop = [] { return StopSignal() != 0; };
  const sim::Body body = run->choice.scenario->make(run->choice.options);
  if (c.strategy == "pct" && c.pct_steps == 0)
    c.pct_steps = sim::MeasurePctSteps(body, c.exec);
  if (!run->json) {
    PrintRunHeader(*run);
    if (!FlushStdout()) {  // do not search for an hour to print nowhere
      absl::FPrintF(stderr, "%s: cannot write to stdout (%s); nothing explored\n",
                    command, StdoutError());
      return kExitOutput;
    }
  }
  c.progress = [command](uint64_t executions, double seconds) {
    absl::FPrintF(stderr, "%s: executions %d, %.0f/s\n", command, executions,
                  seconds > 0 ? static_cast<double>(executions) / seconds : 0.0);
  };
  const sim::Report report = sim::Explore(body, c);
  const int signal = report.interrupted ? StopSignal() : 0;
  bool report_failed = false;
  if (!run->report_dir.empty() && report.found) {
    absl::StatusOr<std::string> written = WriteReportFiles(
        run->report_dir, ReportStem(run->choice), RunFailureReport(*run, report));
    if (written.ok()) {
      run->report_line = *written;
    } else {
      run->report_line = absl::StrCat("not written: ", OneLine(written.status()));
      absl::FPrintF(stderr, "%s: %s\n", command, OneLine(written.status()));
      report_failed = true;
    }
  }
  if (run->json) {
    WriteStdout(RunJson(*run, report, signal) + "\n");
  } else {
    PrintRunText(*run, report, signal);
  }
  int code = report.found ? kExitFailure : kExitOk;
  if (report_failed) code = kExitOutput;
  if (!FlushStdout()) {  // the report is lost: keep its result and token on stderr
    absl::FPrintF(stderr, "%s: cannot write to stdout (%s); %s\n", command, StdoutError(),
                  RunResultLine(*run, report, signal));
    code = kExitOutput;
  }
  if (signal != 0) {
    ReRaise(signal);
    return 128 + signal;
  }
  return code;
}

}  // namespace aiosim::tools
