// scenarios/util.h — small helpers shared by the scenarios.
// SPDX-License-Identifier: GPL-2.0-or-later
#ifndef AIOSIM_SCENARIOS_UTIL_H_
#define AIOSIM_SCENARIOS_UTIL_H_

#include <string>

#include "core/aio/aio.h"
#include "core/aio/legacy/aio_internal.h"
#include "sim/aiosim_sim.h"

namespace aiosim::scenarios {

// Sleeps `ms` of virtual time in the calling simulated thread.
inline void SleepMs(int ms) {
  core::QemuSemaphore never(0);
  core::qemu_sem_timedwait(&never, ms);
}

// For pending-work predicates, which run without scheduling points.
inline bool BhScheduled(core::QEMUBH* bh) {
  return core::legacy::of(bh)->scheduled.PlainLoad();
}

// "" if no BH of `ctx` is scheduled, else a description, for SimContext::SetPending.
inline std::string PendingBhs(core::AioContext* ctx) {
  int n = 0;
  for (core::legacy::QEMUBH* bh = core::legacy::of(ctx)->first_bh.Load(); bh != nullptr;
       bh = bh->next.Load()) {
    n += BhScheduled(bh) ? 1 : 0;
  }
  return n == 0 ? std::string() : std::to_string(n) + " BH(s) of the context are scheduled";
}

inline core::ThreadId Spawn(sim::SimContext& c, const char* name, std::function<void()> fn) {
  return c.platform().threads().Spawn(name, std::move(fn), core::QEMU_THREAD_JOINABLE);
}
inline void Join(sim::SimContext& c, core::ThreadId id) { c.platform().threads().Join(id); }

}  // namespace aiosim::scenarios

#endif  // AIOSIM_SCENARIOS_UTIL_H_
