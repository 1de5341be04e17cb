// tools/demo.h — `aiosim demo`: a guided tour of a real AioContext on the host.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// The demo creates a HostPlatform, an AioRuntime and one AioContext, and walks
// through eight steps, each showing one mechanism of QEMU's AIO core: a BH from the
// home thread, a BH from a foreign thread (the aio_notify wakeup), an idle BH, a
// oneshot BH, a cancelled BH, an event notifier, a timer, and the thread pool. Every
// callback records an event (ms since the demo started on the platform's REALTIME
// clock, the thread's name, a line of text); the events are printed at the end, as
// text or as a JSON array of {t_ms, thread, event}.
//
// Threading: DemoMain must run in the platform's "main" thread (the thread that
// creates the HostPlatform), which becomes the context's home thread. Foreign threads
// are spawned through the platform and joined within their step; the thread pool's
// workers are stopped by aio_context_unref at the end.
//
// Binaries: the host core and the simulated core share their symbols, so they cannot
// be linked into one program. demo.cc is built into `aiosim-demo` (with demo_main.cc
// and aiosim::core_host); `aiosim demo` execs that sibling binary.
//
// Determinism: this is the real host, so timings vary from run to run; the set of
// events does not, except for the ids of the worker threads (which worker takes
// which request is up to the OS scheduler).
//
// Bounds: every wait is bounded by 5 s of platform-clock time per step; a step that
// does not finish in time is a failure (exit 1), never a hang.
//
// Checks: each step verifies what its heading claims, not only that its callback ran:
// which thread ran it, on which aio_poll (a step that only the watchdog woke fails),
// no sooner than it may (the idle BH 10 ms after qemu_bh_schedule_idle, the timer at
// its deadline), exactly once, freed when it should be. A step that times a wakeup
// first accepts any wakeup an earlier step left behind (in 2.8.1 aio_notify writes
// the eventfd before it sets `notified`, so the home thread can accept in between
// and leave the eventfd set), and says so in its output.
#ifndef AIOSIM_TOOLS_DEMO_H_
#define AIOSIM_TOOLS_DEMO_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "tools/flags.h"  // exit codes

namespace aiosim::tools {

// Shown by `aiosim demo --help` and `aiosim help demo`. Defined in demo_usage.cc, which
// the sim-linked `aiosim` binary links too (demo.cc itself needs the host core).
extern const char kDemoUsage[];

struct DemoOptions {
  bool json = false;  // --json: a JSON array instead of text
  bool help = false;  // --help / -h
};

// Parses the arguments that follow `demo`. Returns InvalidArgument with one line
// saying what was wrong and what is accepted.
absl::StatusOr<DemoOptions> ParseDemoArgs(absl::Span<const std::string_view> args);

// `aiosim demo ...`: parses `args`, then prints usage or runs the demo. Writes the
// result to stdout and problems to stderr. Returns kExitOk, kExitFailure (a step
// failed or timed out) or kExitBadInput.
int DemoMain(absl::Span<const std::string_view> args);

}  // namespace aiosim::tools

#endif  // AIOSIM_TOOLS_DEMO_H_
