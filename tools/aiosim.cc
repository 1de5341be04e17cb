// tools/aiosim.cc — the `aiosim` command line: a dispatcher over subcommands.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Each subcommand is one row of kCommands: its name, a one-line summary, its usage
// text and its entry point, which gets the arguments after the command's name and
// returns the process's exit code (kExitOk, kExitFailure, kExitBadInput from
// tools/demo.h). Adding `run`, `replay` or `list` means adding a row.
//
// Bad input (no command, an unknown command or flag) gets one line on stderr saying
// what was wrong and what is accepted, and exit code 2.
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/types/span.h"
#include "tools/demo.h"

namespace aiosim::tools {
namespace {

using Args = absl::Span<const std::string_view>;

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

const Command kCommands[] = {
    {"demo", "run a real AioContext on the host; show what runs, in which thread, when",
     kDemoUsage, DemoMain},
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
    absl::StrAppendFormat(&usage, "  %-6s %s\n", command.name, command.summary);
  }
  usage +=
      "\n"
      "Run 'aiosim <command> --help' for a command's flags.\n"
      "exit codes: 0 ok, 1 failure, 2 bad input (command line)\n";
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
    absl::FPrintF(stderr, "aiosim help: unknown command '%s' (expected: %s)\n", args[0],
                  CommandNames());
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
  if (first.starts_with("-")) {
    absl::FPrintF(stderr,
                  "aiosim: unknown flag '%s' (expected a command: %s; or --help)\n",
                  first, CommandNames());
    return kExitBadInput;
  }
  const Command* command = FindCommand(first);
  if (command == nullptr) {
    absl::FPrintF(stderr, "aiosim: unknown command '%s' (expected: %s)\n", first,
                  CommandNames());
    return kExitBadInput;
  }
  return command->main(args.subspan(1));
}

}  // namespace
}  // namespace aiosim::tools

int main(int argc, char** argv) {
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  return aiosim::tools::Main(args);
}
