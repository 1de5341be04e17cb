// core/platform/platform.h — the runtime half of the seam, in one object.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// A Platform bundles the coarse services the AIO core needs at run time: a Clock, a
// Poller (with its event notifiers) and Threads. The core receives one through
// AioRuntime (core/aio/aio.h) and never reaches the OS any other way. The fine-grained
// primitives (atomics, locks, fences) are the compile-time half: core/platform/sync.h.
//
// Implementations: core/host (the real OS) and, later, sim/ (fibers, virtual time).
// Ownership: the platform must outlive every AioContext and thread created on it.
#ifndef AIOSIM_CORE_PLATFORM_PLATFORM_H_
#define AIOSIM_CORE_PLATFORM_PLATFORM_H_

#include <string_view>

#include "core/platform/clock.h"
#include "core/platform/poller.h"
#include "core/platform/threads.h"

namespace aiosim::core {

class Platform {
 public:
  virtual ~Platform() = default;
  virtual Clock& clock() = 0;
  virtual Poller& poller() = 0;
  virtual Threads& threads() = 0;
  // "host" or "sim"; printed in reports and the demo.
  virtual std::string_view name() const = 0;
};

}  // namespace aiosim::core

#endif  // AIOSIM_CORE_PLATFORM_PLATFORM_H_
