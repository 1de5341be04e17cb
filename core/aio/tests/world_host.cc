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

int Rounds(int host_rounds) { return host_rounds; }

}  // namespace aiosim::testing
