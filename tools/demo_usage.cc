// tools/demo_usage.cc — the usage text of `aiosim demo` (see demo.h). A file of its own
// so that the sim-linked `aiosim` dispatcher can show it without the host core.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "tools/demo.h"

namespace aiosim::tools {

const char kDemoUsage[] =
    "usage: aiosim demo [--json]\n"
    "\n"
    "Runs a real AioContext (the default generation) on the host platform and shows,\n"
    "step by step, what ran, in which thread and when: BHs scheduled from the home\n"
    "thread and from a foreign thread, an idle BH, a oneshot BH, a cancelled BH, an\n"
    "event notifier, a timer, and thread-pool requests (one of them cancelled).\n"
    "\n"
    "flags:\n"
    "  --json   print the events as a JSON array of {\"t_ms\", \"thread\", \"event\"}\n"
    "  --help   show this help\n"
    "\n"
    "exit codes: 0 ok, 1 a step failed or timed out (5 s per step), 2 bad command line\n";

}  // namespace aiosim::tools
