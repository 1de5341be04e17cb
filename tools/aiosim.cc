// tools/aiosim.cc — the `aiosim` command line: a dispatcher over subcommands.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Each subcommand is one row of kCommands: its name, a one-line summary, its usage
// text and its entry point, which gets the arguments after the command's name and
// returns the process's exit code (kExitOk, kExitFailure, kExitBadInput from
// tools/flags.h). Adding a subcommand means adding a row. After the command, main
// checks stdout: if a write to it failed, one line on stderr and kExitOutput (3),
// never a status that reads as a result.
//
// This binary links the simulated core (list, run, replay, check-determinism). The
// host core has the same symbols, so `demo` lives in the sibling binary aiosim-demo
// (see demo.h), which `aiosim demo` execs from this binary's directory.
//
// Bad input (no command, an unknown command or flag) gets one line on stderr saying
// what was wrong and what is accepted, and exit code 2.
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/types/span.h"
#include "tools/demo.h"
#include "tools/flags.h"
#include "tools/run.h"
#include "tools/sweep.h"
#include "tools/version.h"

namespace aiosim::tools {
namespace {

struct Command {
  std::string_view name;
  std::string_view summary;
  const char* usage;
  int (*main)(Args args);
};

const char kHelpUsage[] =
    "usage: aiosim help [command]\n"
    "\n"
    "Lists the commands, or shows one command's usage.\n";

int HelpMain(Args args);

// Execs aiosim-demo from the directory of this binary with `args`; returns only if
// that fails.
int ExecDemo(Args args) {
  char self[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  std::string path = "aiosim-demo";
  if (n > 0) {
    const std::string exe(self, static_cast<size_t>(n));
    path = exe.substr(0, exe.rfind('/') + 1) + "aiosim-demo";
  }
  std::vector<std::string> owned = {"aiosim-demo"};
  for (std::string_view arg : args) owned.emplace_back(arg);
  std::vector<char*> argv;
  for (std::string& arg : owned) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::fflush(nullptr);
  execv(path.c_str(), argv.data());
  absl::FPrintF(stderr,
                "aiosim demo: cannot run '%s': %s (it is built with aiosim, by the "
                "aiosim-demo target)\n",
                path, std::strerror(errno));
  return kExitFailure;
}

const Command kCommands[] = {
    {"claims", "the seed's claims S1-S8, each with its verdict and evidence", kClaimsUsage,
     ClaimsMain},
    {"list", "the scenario catalog: ids, options, declared outcomes", kListUsage,
     ListMain},
    {"run", "explore a scenario; print the failure, its minimal schedule, a token",
     kRunUsage, RunMain},
    {"explore", "the bounded exhaustive search of a scenario, to its end", kExploreUsage,
     ExploreMain},
    {"replay", "re-run the execution a token describes, step by step", kReplayUsage,
     ReplayMain},
    {"prop", "property suites: generated programs judged by a model of QEMU's contract",
     kPropUsage, PropMain},
    {"check", "every scenario and option against its declared outcome (CI's job)",
     kCheckUsage, CheckMain},
    {"sweep", "many seeds of many scenarios, in parallel processes and shards", kSweepUsage,
     SweepMain},
    {"merge", "merge the shards of one sweep into the unsharded result", kMergeUsage,
     MergeMain},
    {"check-determinism", "run seeds twice and compare their traces",
     kCheckDeterminismUsage, CheckDeterminismMain},
    {"demo", "run a real AioContext on the host; show what runs, in which thread, when",
     kDemoUsage, ExecDemo},
    {"version", "the version and the build (also: aiosim --version)", kVersionUsage,
     VersionMain},
    {"help", "list the commands, or show one: aiosim help <command>", kHelpUsage,
     HelpMain},
};

const Command* FindCommand(std::string_view name) {
  for (const Command& command : kCommands) {
    if (command.name == name) return &command;
  }
  return nullptr;
}

std::string CommandNames() {
  std::string names;
  for (const Command& command : kCommands) {
    if (!names.empty()) names += ", ";
    names += command.name;
  }
  return names;
}

std::string Usage() {
  std::string usage =
      "usage: aiosim <command> [flags]\n"
      "\n"
      "aiosim: a deterministic simulation testbed for QEMU's AIO core.\n"
      "\n"
      "commands:\n";
  for (const Command& command : kCommands) {
    absl::StrAppendFormat(&usage, "  %-17s %s\n", command.name, command.summary);
  }
  usage +=
      "\n"
      "Run 'aiosim <command> --help' for a command's flags; 'aiosim --version'.\n"
      "exit codes: 0 ok (no failure found), 1 a failure found (or the demo failed),\n"
      "            2 bad input (command line, scenario, option, token),\n"
      "            3 stdout could not be written (one line on stderr says why),\n"
      "            130 / 143 run interrupted by SIGINT / SIGTERM (after its summary)\n";
  return usage;
}

bool IsHelpFlag(std::string_view arg) { return arg == "--help" || arg == "-h"; }

int HelpMain(Args args) {
  if (args.empty()) {
    std::fputs(Usage().c_str(), stdout);
    return kExitOk;
  }
  if (IsHelpFlag(args[0]) && args.size() == 1) {
    std::fputs(kHelpUsage, stdout);
    return kExitOk;
  }
  if (args.size() > 1) {
    absl::FPrintF(stderr,
                  "aiosim help: expected at most one command name, got %d arguments\n",
                  args.size());
    return kExitBadInput;
  }
  const Command* command = FindCommand(args[0]);
  if (command == nullptr) {
    absl::FPrintF(stderr, "aiosim help: unknown command '%s' (expected: %s)\n",
                  Shown(args[0]), CommandNames());
    return kExitBadInput;
  }
  std::fputs(command->usage, stdout);
  return kExitOk;
}

int Main(Args args) {
  if (args.empty()) {
    std::fputs(Usage().c_str(), stderr);
    return kExitBadInput;
  }
  const std::string_view first = args[0];
  if (IsHelpFlag(first)) {
    std::fputs(Usage().c_str(), stdout);
    return kExitOk;
  }
  if (first == "--version") return VersionMain(args.subspan(1));
  if (first.starts_with("-")) {
    absl::FPrintF(stderr,
                  "aiosim: unknown flag '%s' (expected a command: %s; or --help)\n",
                  Shown(first), CommandNames());
    return kExitBadInput;
  }
  const Command* command = FindCommand(first);
  if (command == nullptr) {
    absl::FPrintF(stderr, "aiosim: unknown command '%s' (expected: %s)\n", Shown(first),
                  CommandNames());
    return kExitBadInput;
  }
  return command->main(args.subspan(1));
}

// "aiosim run" for messages, from the arguments main() got.
std::string CommandName(Args args) {
  if (args.empty() || args[0].starts_with("-") || FindCommand(args[0]) == nullptr) {
    return "aiosim";
  }
  return "aiosim " + std::string(args[0]);
}

// Runs the command and checks stdout: a failed write (a full disk, a closed file)
// gets one line on stderr and kExitOutput, never a status that reads as a result.
// A command that returns kExitOutput has printed that line itself.
int MainChecked(Args args) {
  int code;
  try {
    code = Main(args);
  } catch (const std::exception& e) {
    FlushStdout();
    absl::FPrintF(stderr, "aiosim: internal error: %s\n", e.what());
    code = kExitFailure;
  }
  if (code != kExitOutput && !FlushStdout()) {
    absl::FPrintF(stderr, "%s: cannot write to stdout (%s); the output is incomplete\n",
                  CommandName(args), StdoutError());
    code = kExitOutput;
  }
  return code;
}

}  // namespace
}  // namespace aiosim::tools

// A failed simulated execution ends by abandoning its fibers (sim/execution.h), so
// what they allocated outside the tracked core heap is never freed: by design, not a
// leak of this program. Under AddressSanitizer, LeakSanitizer is off by default here
// (ASAN_OPTIONS=detect_leaks=1 turns it back on); the simulator's own leak detector
// checks the core's objects.
#if defined(__SANITIZE_ADDRESS__)
#define AIOSIM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AIOSIM_ASAN 1
#endif
#endif
#ifdef AIOSIM_ASAN
extern "C" const char* __lsan_default_options() { return "detect_leaks=0"; }
#endif

int main(int argc, char** argv) {
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  return aiosim::tools::MainChecked(args);
}
