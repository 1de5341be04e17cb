// core/aio/modern/aio_wait.cc — follows QEMU 10.2.0 util/aio-wait.c and the
// AIO_WAIT_WHILE_INTERNAL macro of include/block/aio-wait.h (see core/aio/aio_wait.h).
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Written from docs/modern-sources.md §2.9; names are QEMU's, the code is ours. The
// barrier pair is 7.1's (7455ff1aa015, R13): smp_mb__after_rmw after the waiter's
// increment, smp_mb before the kicker's read. Without either, a waiter could read
// cond before its increment is visible while the kicker reads num_waiters == 0 before
// its change of cond is: under the simulator's sequential consistency that cannot
// happen, so R13 needs a weak memory model.
#include "core/aio/aio_wait.h"

#include "core/aio/aio.h"
#include "core/aio/modern/aio_internal.h"
#include "core/platform/check.h"

namespace aiosim::core::modern {

// Named functions in the modern namespace (not an anonymous one), so that race
// reports name them as the known-race list does (docs/tsan-known-races.txt, T15).
static void dummy_bh_cb(void*) {}  // only makes AIO_WAIT_WHILE's aio_poll return

struct AioWaitBHData {
  Shared<bool> done{false};
  QEMUBHFunc* cb = nullptr;
  void* opaque = nullptr;
  AioRuntime* rt = nullptr;
};

static void aio_wait_bh(void* opaque) {
  auto* data = static_cast<AioWaitBHData*>(opaque);
  AioRuntime* rt = data->rt;  // `data` may be gone once done is set
  data->cb(data->opaque);
  // A plain store, as 10.2's: the waiter's condition reads it plainly, a race of
  // QEMU's own (T15), ordered in effect by aio_wait_kick's barrier and BH.
  data->done.Store(true);
  core::aio_wait_kick(rt);
}

}  // namespace aiosim::core::modern

namespace aiosim::core {

namespace {

void RequireModern(const AioContext* ctx, const char* what) {
  if (ctx != nullptr && ctx->generation == AioGeneration::kLegacy) {
    CheckFailed(what);
  }
}

AioContext* MainContext(AioRuntime* rt) {
  AioContext* main = rt->main_context();
  if (main == nullptr) {
    CheckFailed("AIO_WAIT_WHILE: no main context (AioRuntime::set_main_context) to poll");
  }
  RequireModern(main, "AIO_WAIT_WHILE: came in QEMU 3.0 (legacy main context)");
  return main;
}

// qemu_get_current_aio_context() == qemu_get_aio_context().
void AssertInMainLoop(AioRuntime* rt, const char* what) {
  if (static_cast<AioContext*>(modern::qemu_get_current_aio_context()) != MainContext(rt)) {
    CheckFailed(what);
  }
}

}  // namespace

bool AIO_WAIT_WHILE(AioRuntime* rt, AioContext* ctx, const std::function<bool()>& cond) {
  RequireModern(ctx, "AIO_WAIT_WHILE: came in QEMU 3.0 (legacy context)");
  bool waited = false;
  Atomic<unsigned>* num_waiters = rt->aio_wait_num_waiters();
  // Counted before cond is first read; pairs with the barrier in aio_wait_kick.
  qatomic_inc(num_waiters);
  smp_mb__after_rmw();
  if (ctx != nullptr && in_aio_context_home_thread(ctx)) {
    while (cond()) {
      aio_poll(ctx, true);
      waited = true;
    }
  } else {
    AssertInMainLoop(rt,
                     "AIO_WAIT_WHILE: neither ctx's home thread nor the main loop "
                     "(QEMU asserts qemu_get_current_aio_context() == "
                     "qemu_get_aio_context())");
    AioContext* main = MainContext(rt);
    while (cond()) {
      aio_poll(main, true);
      waited = true;
    }
  }
  qatomic_dec(num_waiters);
  return waited;
}

void aio_wait_kick(AioRuntime* rt) {
  smp_mb();  // pairs with AIO_WAIT_WHILE's smp_mb__after_rmw (7.1)
  if (qatomic_read(rt->aio_wait_num_waiters()) != 0) {
    aio_bh_schedule_oneshot(MainContext(rt), modern::dummy_bh_cb, nullptr);
  }
}

void aio_wait_bh_oneshot(AioContext* ctx, QEMUBHFunc* cb, void* opaque) {
  RequireModern(ctx, "aio_wait_bh_oneshot: came in QEMU 3.0 (legacy context)");
  AioRuntime* rt = ctx->runtime;
  modern::AioWaitBHData data;
  data.cb = cb;
  data.opaque = opaque;
  data.rt = rt;
  AssertInMainLoop(rt, "aio_wait_bh_oneshot: not in the main loop (QEMU asserts "
                       "qemu_get_current_aio_context() == qemu_get_aio_context())");
  aio_bh_schedule_oneshot(ctx, modern::aio_wait_bh, &data);
  AIO_WAIT_WHILE(rt, nullptr, [&data] { return !data.done.Load(); });
}

}  // namespace aiosim::core
