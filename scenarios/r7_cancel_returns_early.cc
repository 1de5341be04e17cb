// scenarios/r7_cancel_returns_early.cc — catalog R7 (271c0f68b4, QEMU 2.1; 3391f5e51c,
// 2.2): a synchronous cancel of a running pool request returned before the request's
// completion callback ran; the caller, told the request was over, freed its state, and
// the callback then wrote into it. Follows QEMU 2.8.1 block/io.c (bdrv_aio_cancel) and
// thread-pool.c, with AIO_REVERT_R7 on request (--revert R7: 2.0's thread_pool_cancel,
// which waits on check_cancel until the worker set THREAD_DONE).
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Threads: the home thread and one pool worker. The home thread submits a request
// whose opaque is the caller's own state (a heap block, as a device's request struct
// is) and polls until the request's function has started; the function then waits
// on a gate, so the request is certainly ACTIVE and not yet completed. The home
// thread opens the gate and calls bdrv_aio_cancel, frees its state as soon as the
// cancel returns, and goes on running its loop until the pool has no request left.
//
// 2.8.1: bdrv_aio_cancel is cancel_async (nothing to steal: the request is running)
// plus aio_poll until the callback released the ACB, so the callback has run before
// the state is freed. Nothing is found (exhaustive search to the bound below; --races
// clean but for QEMU 2.8's races by design).
// --revert R7: the cancel returns once the worker set THREAD_DONE, before the
// completion BH ran; the next aio_poll calls the callback on the freed state — a use
// after free, in every interleaving (the 2.0 bug needs no preemption at all). With
// --races the reverted run stops earlier, at the worker's unlocked state = THREAD_DONE
// against 2.0's cancel reading state under the lock: the by-design race T4, which the
// known-races list names only for 2.8.1's thread_pool_cancel.
// Scenario S8 checks the cancel's own contract against every worker interleaving.
#include "core/aio/aio.h"
#include "core/aio/thread_pool.h"
#include "scenarios/catalog.h"
#include "scenarios/util.h"

namespace aiosim::scenarios {
namespace {

using namespace aiosim::core;  // NOLINT

// The caller's per-request state: freed by the caller once the request is over.
struct R7Caller {
  Shared<int> ret{0};
  Shared<bool> completed{false};
};

struct R7State {
  Atomic<bool> started{false};
  QemuSemaphore gate{0};
  QEMUBH* kick = nullptr;  // wakes the home thread when the function has started
};

int R7Func(void* arg) {
  auto* s = static_cast<R7State*>(arg);
  atomic_set(&s->started, true);
  qemu_bh_schedule(s->kick);
  qemu_sem_wait(&s->gate);
  return 42;
}

void R7Done(void* opaque, int ret) {
  auto* caller = static_cast<R7Caller*>(opaque);
  caller->ret.Store(ret);
  caller->completed.Store(true);
}

void KickCallback(void*) {}

sim::Body MakeBody(const Options& options) {
  const uint32_t switches = SwitchBits(options);
  return [switches](sim::SimContext& c) {
    AioRuntime rt(&c.platform(), switches);
    AioContext* ctx = aio_context_new(&rt);
    ThreadPool* pool = aio_get_thread_pool(ctx);
    R7State s;
    s.kick = aio_bh_new_full(ctx, KickCallback, nullptr, "kick");

    auto* caller = platform_new<R7Caller>();
    BlockAIOCB* acb = thread_pool_submit_aio(pool, R7Func, &s, R7Done, caller);
    while (!atomic_read(&s.started)) aio_poll(ctx, true);  // creates the worker
    qemu_sem_post(&s.gate);
    bdrv_aio_cancel(acb);
    platform_delete(caller);  // the request is over: its state goes
    while (thread_pool_stats(pool).requests > 0) aio_poll(ctx, true);

    qemu_bh_delete(s.kick);
    aio_poll(ctx, false);
    aio_context_unref(ctx);
  };
}

}  // namespace

Scenario MakeR7() {
  Scenario s;
  s.id = "R7";
  s.title = "a pool request's callback runs after a synchronous cancel returned";
  s.summary =
      "The home thread cancels a running pool request with bdrv_aio_cancel and frees "
      "the request's state when the cancel returns. 2.8.1 polls until the callback "
      "released the ACB, so the callback ran first. With the fix reverted (QEMU 2.0's "
      "synchronous thread_pool_cancel) the cancel returns once the worker is done, "
      "before the completion BH ran, and the callback writes into the freed state.";
  s.source = "QEMU-SEMANTICS.md 3, R7; 1.7";
  s.reverts = {"R7"};
  s.expected = FailsWith(AIO_REVERT_R7, sim::FailureKind::kUseAfterFree);
  s.modern_status = Scenario::ModernStatus::kNotApplicable;
  s.modern_why =
      "a pool request has no get_aio_context since QEMU 8.0, so bdrv_aio_cancel aborts "
      "on it (scenario S8 cancels with bdrv_aio_cancel_async on modern)";
  s.catalog = {"R7"};
  s.exhaust_bound = 2;  // the none variant: DFS complete at 2
  s.make = MakeBody;
  return s;
}

}  // namespace aiosim::scenarios
