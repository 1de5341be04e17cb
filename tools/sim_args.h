// tools/sim_args.h — what the simulator's subcommands (run, replay,
// check-determinism) share: choosing a scenario and its options from the command
// line, the simulator's execution flags, and the text shown for options and
// failures.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Errors are InvalidArgument with one line, without the "aiosim <command>: " prefix.
// Threading: plain functions; thread-compatible (the catalog is built once).
#ifndef AIOSIM_TOOLS_SIM_ARGS_H_
#define AIOSIM_TOOLS_SIM_ARGS_H_

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/aio/aio.h"
#include "scenarios/catalog.h"
#include "sim/aiosim_sim.h"
#include "tools/flags.h"

namespace aiosim::tools {

// The flags that set sim::ExecOptions, shared by run and check-determinism:
// --races, --max-steps N, --time-advances N, --spurious, --eintr.
inline constexpr FlagSpec kExecFlags[] = {
    {"races", "", false, /*optional_value=*/true},
    {"max-steps", "N"},
    {"time-advances", "N"},
    {"spurious", ""},
    {"eintr", ""},
};
// Applies `flag` if it is one of kExecFlags: returns true, or an error for a bad
// value. Returns false for any other flag.
absl::StatusOr<bool> ApplyExecFlag(const ParsedFlag& flag, sim::ExecOptions* exec);

// --generation's value: legacy or modern, else a one-line error naming both.
absl::StatusOr<core::AioGeneration> ParseGenerationFlag(std::string_view value);

// The flags that choose scenario options: --option key=value (repeatable) and
// --revert ID,..., --fix ID,... and --generation G (shorthands for --option
// revert=... / fix=... / generation=...).
inline constexpr FlagSpec kScenarioFlags[] = {
    {"option", "KEY=VALUE", /*repeatable=*/true},
    {"revert", "ID,..."},
    {"fix", "ID,..."},
    {"generation", "G"},
};

struct ScenarioChoice {
  const scenarios::Scenario* scenario = nullptr;
  scenarios::Options options;  // complete, validated, sorted by key
};

// Finds the scenario named by the single positional argument and resolves its
// options from the --option and --revert flags among `flags` (other flags are
// ignored). Errors: a missing or unknown scenario (the message lists the catalog's
// ids), extra arguments, an option that is not key=value, an unknown key or value,
// --revert / --fix of a switch the scenario does not have (the message lists those with
// one).
absl::StatusOr<ScenarioChoice> ChooseScenario(
    const std::vector<std::string_view>& positional,
    const std::vector<ParsedFlag>& flags);

// "S3, R4, R9".
std::string ScenarioIds();
// "canceller=foreign", "canceller=foreign revert=none", or "no options".
std::string OptionsText(const scenarios::Options& options);
// "S3 (canceller=foreign)" or "R9 (no options)".
std::string ScenarioText(const ScenarioChoice& choice);
// "max-steps 200000, time-advances 1, races off, spurious off, eintr off, leaks on".
std::string ExecText(const sim::ExecOptions& exec);
// The execution options as a one-line JSON object.
std::string ExecJson(const sim::ExecOptions& exec);

// "expected (S3 canceller=foreign declares assertion)" or
// "UNEXPECTED: S3 canceller=home declares none, found assertion".
// Whether `found` is the declared outcome; with the race detector on (known races let
// through) a variant whose bug is itself a data race may report that instead
// (scenarios::AcceptsKind).
bool IsExpected(const ScenarioChoice& choice, const sim::ExecOptions& exec,
                sim::FailureKind found);
std::string OutcomeText(const ScenarioChoice& choice, const sim::ExecOptions& exec,
                        sim::FailureKind found);

// Writes "FAILURE assertion: <message>" and the failure's details, indented.
void PrintFailure(std::FILE* out, const sim::Failure& failure);

}  // namespace aiosim::tools

#endif  // AIOSIM_TOOLS_SIM_ARGS_H_
