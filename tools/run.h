// tools/run.h — the simulator's subcommands of `aiosim`: list, run, replay and
// check-determinism. They link the simulated core (aiosim::scenarios); the host demo
// lives in its own binary (see demo.h).
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Each entry point gets the arguments after the command's name, writes results to
// stdout and problems to stderr, and returns the exit code:
//   kExitOk       no failure found (list, check-determinism without mismatches)
//   kExitFailure  a failure found (run, replay), or a determinism mismatch
//   kExitBadInput bad input: one line on stderr, "aiosim <command>: ..."
//   kExitOutput   stdout could not be written: one line on stderr (main() checks
//                 stdout after every command; run reports it itself, with its result)
// An interrupted run (SIGINT, SIGTERM) prints its summary and then ends killed by
// the signal (tools/interrupt.h): status 130 or 143.
//
// Threading: each runs simulations on the calling thread (fibers on one OS thread);
// call one at a time.
//
// Determinism: the same arguments give the same output, except wall-clock figures
// (executions per second, seconds) and the progress lines on stderr. A failure's
// token, schedule and trace hash depend only on the scenario, options, strategy, seed
// and budget in executions (a --seconds budget may stop the search at another point).
#ifndef AIOSIM_TOOLS_RUN_H_
#define AIOSIM_TOOLS_RUN_H_

#include "tools/flags.h"

namespace aiosim::tools {

// `aiosim list [--json]`: the catalog, one line per scenario (list.cc).
extern const char kListUsage[];
int ListMain(Args args);

// `aiosim run <scenario> [flags]`: explore a scenario until a failure or the budget
// ends; print the header, the failure, its minimal schedule and a reproduce line
// (run.cc).
extern const char kRunUsage[];
int RunMain(Args args);
// `aiosim run` under another command's name (errors and progress say `command: ...`).
int RunCommand(const char* command, Args args);

// `aiosim replay <token-or-file> [--json]`: re-run the execution a token describes
// (replay.cc).
extern const char kReplayUsage[];
int ReplayMain(Args args);

// `aiosim check-determinism <scenario> [flags]`: run each seed's first execution twice
// and compare (list.cc).
extern const char kCheckDeterminismUsage[];
int CheckDeterminismMain(Args args);

// `aiosim check [scenario...]`: every scenario and option against its declared
// outcome, with the evidence (check.cc).
extern const char kCheckUsage[];
int CheckMain(Args args);

// `aiosim explore <scenario> --preemptions K`: the bounded exhaustive search to its
// end (check.cc).
extern const char kExploreUsage[];
int ExploreMain(Args args);

// `aiosim claims [S1...]`: the seed's claims with their verdicts and evidence
// (claims.cc).
extern const char kClaimsUsage[];
int ClaimsMain(Args args);

// `aiosim prop <suite|all>`: the property suites (prop.cc; properties/driver.h).
extern const char kPropUsage[];
int PropMain(Args args);

}  // namespace aiosim::tools

#endif  // AIOSIM_TOOLS_RUN_H_
