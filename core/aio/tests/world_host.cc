// core/aio/tests/world_host.cc — the conformance tests' world on the host platform.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/aio/tests/world.h"
#include "core/host/host_platform.h"

namespace aiosim::testing {

void RunInWorld(const std::function<void(World&)>& body) {
  core::HostPlatform platform;
  World world(&platform, CurrentGeneration());
  body(world);
}

const char* PlatformName() { return "host"; }

// Real time on a machine that may be loaded: a TSan build's thread can wait seconds
// for a CPU (two tests of BhTest once ran out of a 5-s bound under three CPU-bound
// jobs on two CPUs).
int DefaultWaitMs() { return 60000; }

int Rounds(int host_rounds) { return host_rounds; }

}  // namespace aiosim::testing
