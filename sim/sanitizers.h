// sim/sanitizers.h — which sanitizer this build runs under, for GCC and clang alike:
// AIOSIM_ASAN (AddressSanitizer), AIOSIM_TSAN (ThreadSanitizer). Used by the fibers
// (sim/fiber.h) and the tracked heap (sim/heap.cc). Internal to the simulator.
// SPDX-License-Identifier: GPL-2.0-or-later
#ifndef AIOSIM_SIM_SANITIZERS_H_
#define AIOSIM_SIM_SANITIZERS_H_

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AIOSIM_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define AIOSIM_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define AIOSIM_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#define AIOSIM_TSAN 1
#endif

#endif  // AIOSIM_SIM_SANITIZERS_H_
