// core/platform/clock.h — the clock seam: nanoseconds per QEMU clock type.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// QEMU reads four clocks (include/qemu/timer.h): REALTIME (monotonic, runs while the
// VM is stopped), VIRTUAL (guest time, stops with the VM), HOST (wall-clock time,
// may jump) and VIRTUAL_RT (like VIRTUAL, but keeps running under icount). The core
// asks this interface for "now" and never reads an OS clock itself.
//
// Threading: NowNs may be called from any thread at any time.
// Determinism (simulator): NowNs returns virtual time, which only the scheduler
// advances; reading it is not a scheduling point.
#ifndef AIOSIM_CORE_PLATFORM_CLOCK_H_
#define AIOSIM_CORE_PLATFORM_CLOCK_H_

#include <cstdint>

namespace aiosim::core {

// Same names and order as QEMU's QEMUClockType.
enum QEMUClockType {
  QEMU_CLOCK_REALTIME = 0,
  QEMU_CLOCK_VIRTUAL = 1,
  QEMU_CLOCK_HOST = 2,
  QEMU_CLOCK_VIRTUAL_RT = 3,
  QEMU_CLOCK_MAX
};

const char* QEMUClockTypeName(QEMUClockType type);

inline constexpr int64_t SCALE_MS = 1000000;
inline constexpr int64_t SCALE_US = 1000;
inline constexpr int64_t SCALE_NS = 1;

class Clock {
 public:
  virtual ~Clock() = default;
  // Current time of `type`, in ns. REQUIRES: 0 <= type < QEMU_CLOCK_MAX.
  // REALTIME, VIRTUAL and VIRTUAL_RT never go backwards.
  virtual int64_t NowNs(QEMUClockType type) = 0;
};

}  // namespace aiosim::core

#endif  // AIOSIM_CORE_PLATFORM_CLOCK_H_
