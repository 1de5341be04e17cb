// tools/flags.h — what every `aiosim` subcommand shares: exit codes and a strict
// command-line parser.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// A subcommand declares its flags as a table of FlagSpec; ParseArgs splits the
// arguments into flags (with their values) and positional arguments. A flag's value
// may be given as `--seed 5` or `--seed=5`; a switch (`--json`) takes no value.
// `--help` / `-h` anywhere asks for the usage text; `--` ends the flags. Every error
// is one line that says what was wrong and what is accepted, without the
// "aiosim <command>: " prefix (the caller adds it) — e.g.
//   unknown flag '--bogus' (see 'aiosim run --help')
// The value parsers (ParseUint, ParseSeconds) name the flag in their errors.
//
// Threading: plain functions without state; thread-compatible.
#ifndef AIOSIM_TOOLS_FLAGS_H_
#define AIOSIM_TOOLS_FLAGS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace aiosim::tools {

// Exit codes shared by every subcommand (see tools/README.md).
inline constexpr int kExitOk = 0;        // ran; no failure found
inline constexpr int kExitFailure = 1;   // a failure was found (or the demo failed)
inline constexpr int kExitBadInput = 2;  // bad command line, scenario, option or token
inline constexpr int kExitOutput = 3;    // stdout could not be written (a full disk...)
// An interrupted `aiosim run` ends killed by its signal, after its summary: status
// 128 + 2 = 130 for SIGINT, 128 + 15 = 143 for SIGTERM (tools/interrupt.h).

using Args = absl::Span<const std::string_view>;

struct FlagSpec {
  std::string_view name;    // without the dashes: "seed"
  std::string_view value;   // what the value is, for messages ("N"); "" for a switch
  bool repeatable = false;  // may be given more than once (--option)
  // A switch that also accepts a value, only as --flag=VALUE (--races=all).
  bool optional_value = false;
};

struct ParsedFlag {
  std::string_view name;   // as in its FlagSpec
  std::string_view value;  // "" for a switch
};

struct ParsedArgs {
  bool help = false;              // --help or -h was given
  std::vector<ParsedFlag> flags;  // in command-line order
  std::vector<std::string_view> positional;
};

// Parses the arguments that follow the command's name. `command` names it in
// messages ("run"). If --help / -h appears, returns at once with help set and does not
// report other problems. Errors (InvalidArgument, one line): an unknown flag, a flag
// without its value (the next argument is missing or is itself a flag), a value given
// to a switch, a flag that is not repeatable given twice.
absl::StatusOr<ParsedArgs> ParseArgs(std::string_view command, Args args,
                                     absl::Span<const FlagSpec> specs);

// A decimal integer in [min, max] (no sign, no spaces, no hex). The error names the
// flag: "--seed: 'abc' is not a number (expected an integer from 0 to ...)".
absl::StatusOr<uint64_t> ParseUint(std::string_view flag, std::string_view text,
                                   uint64_t min, uint64_t max);

// A decimal number of seconds in [0, 1e7] ("30", "0.5").
absl::StatusOr<double> ParseSeconds(std::string_view flag, std::string_view text);

// An argument as a message shows it: at most 60 characters (then "..."), control
// characters as '?', so that an error stays one short line.
std::string Shown(std::string_view text);

// An error's message as printed: control characters (from arguments quoted in it) as
// '?', so that it stays one line.
std::string OneLine(const absl::Status& status);

// "0x" and 16 lowercase hex digits.
std::string Hex64(uint64_t value);

// Flushes stdout. Returns false if a write to stdout has failed, now or at any time
// before (its error indicator is set): the output is incomplete. Subcommands flush
// with it, so that the first failure's errno is kept for StdoutError.
// Threading: stdout is process-wide; call from one thread.
bool FlushStdout();

// Writes `text` to stdout; if that fails, its errno is kept for StdoutError. For
// large outputs (a JSON report), whose failure no later flush would see.
void WriteStdout(std::string_view text);

// Why stdout failed: strerror of the first failed FlushStdout ("No space left on
// device"), or "a write failed" if no flush saw the error.
std::string StdoutError();

}  // namespace aiosim::tools

#endif  // AIOSIM_TOOLS_FLAGS_H_
