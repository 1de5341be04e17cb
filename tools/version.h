// tools/version.h — `aiosim version` and `aiosim --version`: the version and the
// build's identity.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// The version is CMake's project(VERSION); the build type and compiler are CMake's,
// passed as compile definitions to version.cc only (tools/CMakeLists.txt).
//
// Threading: no state; thread-compatible.
#ifndef AIOSIM_TOOLS_VERSION_H_
#define AIOSIM_TOOLS_VERSION_H_

#include <string>

#include "tools/flags.h"

namespace aiosim::tools {

// "0.1.0".
std::string_view Version();

// Three lines: "aiosim 0.1.0", "build: Debug, GNU 12.2.0, C++20, sanitizers: none",
// "tokens: aiosim2".
std::string VersionText();

// `aiosim version [--help]` (and `aiosim --version`): prints VersionText.
extern const char kVersionUsage[];
int VersionMain(Args args);

}  // namespace aiosim::tools

#endif  // AIOSIM_TOOLS_VERSION_H_
