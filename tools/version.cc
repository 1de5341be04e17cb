// tools/version.cc — see version.h.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "tools/version.h"

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "sim/token.h"

#ifndef AIOSIM_VERSION
#error "AIOSIM_VERSION must be defined by the build (tools/CMakeLists.txt)"
#endif
#ifndef AIOSIM_BUILD_TYPE
#define AIOSIM_BUILD_TYPE ""
#endif
#ifndef AIOSIM_COMPILER
#define AIOSIM_COMPILER "unknown compiler"
#endif

namespace aiosim::tools {

const char kVersionUsage[] =
    "usage: aiosim version\n"
    "       aiosim --version\n"
    "\n"
    "Prints the version, the build (build type, compiler, C++ standard, sanitizers)\n"
    "and the token format this build writes.\n"
    "\n"
    "exit codes: 0 ok, 2 bad command line, 3 stdout could not be written\n";

namespace {

std::string Sanitizers() {
  std::vector<std::string> on;
#if defined(__SANITIZE_ADDRESS__)
  on.push_back("address");
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  on.push_back("address");
#endif
#endif
#if defined(__SANITIZE_THREAD__)
  on.push_back("thread");
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
  on.push_back("thread");
#endif
#endif
#if defined(__has_feature)
#if __has_feature(undefined_behavior_sanitizer)
  on.push_back("undefined");
#endif
#endif
  return on.empty() ? std::string("none") : absl::StrJoin(on, ", ");
}

}  // namespace

std::string_view Version() { return AIOSIM_VERSION; }

std::string VersionText() {
  const std::string_view build_type =
      *AIOSIM_BUILD_TYPE != '\0' ? AIOSIM_BUILD_TYPE : "no build type";
  return absl::StrFormat(
      "aiosim %s\n"
      "build: %s, %s, C++%d, sanitizers: %s\n"
      "tokens: %s\n",
      Version(), build_type, AIOSIM_COMPILER, __cplusplus / 100 % 100, Sanitizers(),
      sim::kTokenPrefix);
}

int VersionMain(Args args) {
  absl::StatusOr<ParsedArgs> parsed = ParseArgs("version", args, {});
  if (parsed.ok() && !parsed->help && !parsed->positional.empty()) {
    parsed = absl::InvalidArgumentError(
        absl::StrFormat("unexpected argument '%s' (version takes no arguments)",
                        Shown(parsed->positional[0])));
  }
  if (!parsed.ok()) {
    absl::FPrintF(stderr, "aiosim version: %s\n", OneLine(parsed.status()));
    return kExitBadInput;
  }
  std::fputs(parsed->help ? kVersionUsage : VersionText().c_str(), stdout);
  return kExitOk;
}

}  // namespace aiosim::tools
