// tools/interrupt.h — SIGINT and SIGTERM as a request to stop: `aiosim run` finishes
// the current execution, prints its summary and reproduce line, and then ends killed
// by the same signal.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// The handlers only record the first signal in a lock-free atomic; the explorer polls
// StopSignal() between executions (sim::RunConfig::stop). Ending by re-raising the
// signal, not by exit(130), is what a calling shell needs: bash stops a script or a
// loop on Ctrl-C only if its child died of SIGINT. The shell shows status 130 (SIGINT)
// or 143 (SIGTERM).
//
// Threading: process-wide state; install and poll from the main thread (the
// simulator runs its fibers on it).
#ifndef AIOSIM_TOOLS_INTERRUPT_H_
#define AIOSIM_TOOLS_INTERRUPT_H_

#include <string_view>

namespace aiosim::tools {

// Installs the handlers for SIGINT and SIGTERM (sigaction, SA_RESTART, so that
// reads and writes are not cut short). A signal that was ignored when the process
// started (SIG_IGN: a background job of a non-interactive shell, nohup-like
// wrappers) stays ignored. A second signal changes nothing: the summary is printed
// once, whole.
void CatchStopSignals();

// The first signal caught since CatchStopSignals (SIGINT or SIGTERM), or 0.
int StopSignal();

// "SIGINT" or "SIGTERM" (any other number: "signal").
std::string_view SignalName(int sig);

// Flushes stdout and stderr, restores `sig`'s default action and raises it, so the
// process ends killed by `sig` (status 128 + sig). Returns only if that failed; the
// caller then returns 128 + sig.
void ReRaise(int sig);

}  // namespace aiosim::tools

#endif  // AIOSIM_TOOLS_INTERRUPT_H_
