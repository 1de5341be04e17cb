// core/platform/check.h — always-on assertions for code that follows QEMU's assert().
// SPDX-License-Identifier: GPL-2.0-or-later
//
// AIOSIM_ASSERT(cond) checks in every build. On failure it calls the platform's
// CheckFailed (declared by "aiosim_platform_impl.h"): the host prints the failed
// expression with its file and line and aborts, as QEMU's assert does; the simulator
// records a failure of kind "assertion" with the schedule that led to it and ends
// the execution cleanly, so the reproduce line survives.
#ifndef AIOSIM_CORE_PLATFORM_CHECK_H_
#define AIOSIM_CORE_PLATFORM_CHECK_H_

#include "core/platform/sync.h"

#define AIOSIM_ASSERT(cond)                                                   \
  do {                                                                        \
    if (__builtin_expect(!(cond), 0)) ::aiosim::core::CheckFailed(#cond);     \
  } while (0)

#endif  // AIOSIM_CORE_PLATFORM_CHECK_H_
