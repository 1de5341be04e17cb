// scenarios/util.h — small helpers shared by the scenarios.
// SPDX-License-Identifier: GPL-2.0-or-later
#ifndef AIOSIM_SCENARIOS_UTIL_H_
#define AIOSIM_SCENARIOS_UTIL_H_

#include <string>

#include "core/aio/aio.h"
#include "core/aio/main_loop.h"
#include "core/aio/legacy/aio_internal.h"
#include "core/aio/modern/aio_internal.h"
#include "sim/aiosim_sim.h"

namespace aiosim::scenarios {

// Sleeps `ms` of virtual time in the calling simulated thread.
inline void SleepMs(int ms) {
  core::QemuSemaphore never(0);
  core::qemu_sem_timedwait(&never, ms);
}

// For pending-work predicates, which run without scheduling points (observers'
// reads). A legacy BH only.
inline bool BhScheduled(core::QEMUBH* bh) {
  return core::legacy::of(bh)->scheduled.PlainLoad();
}
namespace internal {
inline int CountModernScheduled(core::modern::QEMUBH* bh, int n) {
  for (; bh != nullptr; bh = bh->next.Peek()) {
    const unsigned f = bh->flags.Peek();
    if ((f & (core::modern::BH_SCHEDULED | core::modern::BH_DELETED)) ==
        core::modern::BH_SCHEDULED) {
      n++;
    }
  }
  return n;
}
}  // namespace internal
// "" if no BH of `ctx` is scheduled, else a description, for SimContext::SetPending.
// Modern: the BHs pending on ctx->bh_list and on the slices of running aio_bh_polls.
inline std::string PendingBhs(core::AioContext* ctx) {
  int n = 0;
  if (ctx->generation == core::AioGeneration::kModern) {
    core::modern::AioContext* m = core::modern::of(ctx);
    n = internal::CountModernScheduled(m->bh_list.Peek(), 0);
    for (core::modern::BHListSlice* s = m->bh_slice_first.Peek(); s != nullptr;
         s = s->next.Peek()) {
      n = internal::CountModernScheduled(s->bh_list.Peek(), n);
    }
  } else {
    for (core::legacy::QEMUBH* bh = core::legacy::of(ctx)->first_bh.Load(); bh != nullptr;
         bh = bh->next.Load()) {
      n += BhScheduled(bh) ? 1 : 0;
    }
  }
  return n == 0 ? std::string() : std::to_string(n) + " BH(s) of the context are scheduled";
}
inline core::ThreadId Spawn(sim::SimContext& c, const char* name, std::function<void()> fn) {
  return c.platform().threads().Spawn(name, std::move(fn), core::QEMU_THREAD_JOINABLE);
}

// QEMU's main loop in a thread of its own, "iothread": main_loop_wait over ctx's
// GSource until *stop, holding rt's BQL except around a poll that may wait
// (os_host_main_loop_wait). REQUIRES: rt's BQL is set.
inline core::ThreadId SpawnMainLoop(sim::SimContext& c, core::AioRuntime* rt,
                                    core::AioContext* ctx, core::Atomic<bool>* stop) {
  return Spawn(c, "iothread", [rt, ctx, stop] {
    core::MainLoop loop{ctx, rt->bql()};
    core::bql_lock(rt);
    while (!core::atomic_read(stop)) core::main_loop_wait(&loop, false);
    core::bql_unlock(rt);
  });
}
inline void Join(sim::SimContext& c, core::ThreadId id) { c.platform().threads().Join(id); }

}  // namespace aiosim::scenarios

#endif  // AIOSIM_SCENARIOS_UTIL_H_
