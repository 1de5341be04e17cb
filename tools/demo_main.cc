// tools/demo_main.cc — the `aiosim-demo` binary: `aiosim demo` on the host core.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// The host core and the simulated core are two builds of the same sources with the
// same symbols, so the demo (host) cannot live in the `aiosim` binary (simulator).
// `aiosim demo ARGS` execs this binary, found next to `aiosim`, with ARGS; it can also
// be run directly. argv[0] is ignored: every message says "aiosim demo".
#include <string_view>
#include <vector>

#include "tools/demo.h"

int main(int argc, char** argv) {
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  return aiosim::tools::DemoMain(args);
}
