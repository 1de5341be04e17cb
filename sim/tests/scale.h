// sim/tests/scale.h — test budgets under the sanitizers. The dev preset runs every
// search test at its full budget; the asan and tsan presets, which check the same
// code for memory errors and races at 5-20x the cost per execution, run the searches
// that do not stop at a failure (exhaustive comparisons, "nothing found" budgets,
// seed sweeps) at a fifth of it.
// SPDX-License-Identifier: GPL-2.0-or-later
#ifndef AIOSIM_SIM_TESTS_SCALE_H_
#define AIOSIM_SIM_TESTS_SCALE_H_

#include <cstdint>

namespace aiosim::testing {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif
#else
inline constexpr bool kSanitized = false;
#endif

// `n` in the dev and release presets; n / 5 (at least 1) under a sanitizer.
inline constexpr uint64_t Scaled(uint64_t n) {
  return kSanitized ? (n / 5 > 0 ? n / 5 : 1) : n;
}

}  // namespace aiosim::testing

#endif  // AIOSIM_SIM_TESTS_SCALE_H_
