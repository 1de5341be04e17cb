// core/aio/legacy/async.cc — follows QEMU 2.8.1 async.c (the legacy generation): bottom
// halves, aio_notify, the GSource face of the AioContext, and its lifecycle.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Written from QEMU-SEMANTICS.md §1.2–1.3; names are QEMU's, the code is ours.
// Memory-model notes: QEMU 2.8 mixes plain and atomic accesses to the same fields
// (bh->scheduled, ctx->notify_me); those plain accesses are PlainLoad/PlainStore here,
// so the races they carry stay visible to ThreadSanitizer and to the simulator.
#include <cerrno>

#include "core/aio/aio.h"
#include "core/aio/legacy/aio_internal.h"
#include "core/aio/names.h"
#include "core/aio/thread_pool.h"
#include "core/platform/check.h"

namespace aiosim::core::legacy {

// ---- bottom halves ---------------------------------------------------------------------

// Not QEMU: names the BH's fields in the simulator's reports (core/aio/names.h).
// 2.8.1's BHs have no name; `name` is the one aio_bh_new_full was given.
static void bh_name_fields(QEMUBH* bh, const char* name) {
  if (!NamesWanted()) return;
  FieldNamer(OwnerName("bh", name != nullptr ? name : ""))(bh->scheduled, "scheduled")(
      bh->idle, "idle")(bh->deleted, "deleted")(bh->next, "next")(bh->ctx_late, "ctx");
}

static QEMUBH* bh_alloc(AioContext* ctx, QEMUBHFunc* cb, void* opaque,
                        const char* name = nullptr) {
  QEMUBH* bh = platform_new<QEMUBH>();
  bh_name_fields(bh, name);
  bh->ctx = ctx;
  bh->cb = cb;
  bh->opaque = opaque;
  if (ctx->switches & AIO_REVERT_R1) bh->ctx_late.Store(ctx);
  return bh;
}

// Publishes `bh` at the head of the list. Its fields must be complete: the write
// barrier orders them before the store that makes the BH visible to aio_bh_poll.
// The lock serialises creators (any thread) with each other and with the outermost
// aio_bh_poll's unlinking of deleted BHs (home thread).
static void bh_publish(AioContext* ctx, QEMUBH* bh) {
  const bool lock = (ctx->switches & AIO_ABLATE_S1_NO_LOCK) == 0;  // not QEMU: aio.h
  if (lock) qemu_mutex_lock(&ctx->bh_lock);
  bh->next.Store(ctx->first_bh.Load());
  smp_wmb();
  ctx->first_bh.Store(bh);
  if (lock) qemu_mutex_unlock(&ctx->bh_lock);
}

void aio_bh_schedule_oneshot(AioContext* ctx, QEMUBHFunc* cb, void* opaque) {
  QEMUBH* bh = bh_alloc(ctx, cb, opaque, "oneshot");
  // Scheduled and deleted from birth: runs once, then the outermost poll frees it.
  bh->scheduled.PlainStore(true);
  bh->deleted.Store(true);
  bh_publish(ctx, bh);
  aio_notify(ctx);
}

QEMUBH* aio_bh_new(AioContext* ctx, QEMUBHFunc* cb, void* opaque, const char* name) {
  QEMUBH* bh = bh_alloc(ctx, cb, opaque, name);
  bh_publish(ctx, bh);  // unscheduled, so no aio_notify
  return bh;
}

static void aio_bh_call(QEMUBH* bh) { bh->cb(bh->opaque); }

int aio_bh_poll(AioContext* ctx) {
  ctx->walking_bh.Store(ctx->walking_bh.Load() + 1);

  int ret = 0;
  QEMUBH* next;
  for (QEMUBH* bh = ctx->first_bh.Load(); bh != nullptr; bh = next) {
    smp_read_barrier_depends();  // the BH's fields after the pointer that led to it
    next = bh->next.Load();      // before the callback, which may delete the BH
    // Pairs with the xchg in qemu_bh_schedule: the callback sees what the scheduler
    // wrote, and the scheduler sees 0 before the callback runs (so it notifies again).
    if (atomic_xchg(&bh->scheduled, false)) {
      if (!bh->idle.Load()) ret = 1;  // idle BHs are not progress
      bh->idle.Store(false);
      aio_bh_call(bh);
    }
  }

  ctx->walking_bh.Store(ctx->walking_bh.Load() - 1);

  // Only the outermost walker frees: a nested poll must not free a BH the outer
  // walk still holds as `next` (R16). A deleted BH that is still scheduled (a oneshot
  // that has not run) survives until it has. With R16 reverted (before 1.0) every
  // walk frees; 2.8's "and not scheduled" is kept, or a oneshot would be freed
  // before it ran.
  if ((ctx->switches & AIO_REVERT_R16) != 0 || ctx->walking_bh.Load() == 0) {
    qemu_mutex_lock(&ctx->bh_lock);
    Shared<QEMUBH*>* bhp = &ctx->first_bh;
    while (QEMUBH* bh = bhp->Load()) {
      if (bh->deleted.Load() && !bh->scheduled.PlainLoad()) {
        bhp->Store(bh->next.Load());
        platform_delete(bh);
      } else {
        bhp = &bh->next;
      }
    }
    qemu_mutex_unlock(&ctx->bh_lock);
  }
  return ret;
}

void qemu_bh_schedule_idle(QEMUBH* bh) {
  bh->idle.Store(true);
  // Orders `idle` and the callback's inputs before `scheduled`. No aio_notify.
  atomic_mb_set(&bh->scheduled, true);
}

void qemu_bh_schedule(QEMUBH* bh) {
  // (Reading the switches is not QEMU: ctx and its switches never change. Both are
  // read here, before `scheduled` is published.)
  const uint32_t switches = bh->ctx->switches;
  const bool notify_always = (switches & AIO_FIX_P1) != 0;
  if (switches & AIO_REVERT_R1) {
    // As before 2.1: ctx is loaded after `scheduled` is published, from a BH that
    // aio_bh_poll may have run, deleted and freed in the meantime.
    bh->idle.Store(false);
    if (!atomic_xchg(&bh->scheduled, true) || notify_always) {
      aio_notify(bh->ctx_late.Load());
    }
    return;
  }
  // Load ctx first: once `scheduled` is set the BH may run, be deleted and be freed
  // before this function returns (R1).
  AioContext* ctx = bh->ctx;
  if (aio_test_extra_bh_read) (void)bh->deleted.Load();  // not QEMU: see aio.h
  bh->idle.Store(false);
  // The xchg is a full barrier: idle and the callback's inputs are visible before
  // `scheduled`, and ctx was loaded before it. With AIO_FIX_P1 (5.0's enqueue), the
  // loop is notified also when the BH was scheduled already (as idle, say).
  if (!atomic_xchg(&bh->scheduled, true) || notify_always) aio_notify(ctx);
}

// A plain store, as in QEMU up to 2.10: not atomic with respect to a concurrent
// aio_bh_poll, so from a foreign thread the callback may still run (S3), and it can
// erase a concurrent qemu_bh_schedule (R8). With R8's fix (2.11), atomic_mb_set: the
// cancel is then ordered before the completion BH's re-read of a request's state.
void qemu_bh_cancel(QEMUBH* bh) {
  if (bh->ctx->switches & AIO_FIX_R8) {
    atomic_mb_set(&bh->scheduled, false);
    return;
  }
  bh->scheduled.PlainStore(false);
}

void qemu_bh_delete(QEMUBH* bh) {
  bh->scheduled.PlainStore(false);
  bh->deleted.Store(true);
}

int64_t aio_compute_timeout(AioContext* ctx) {
  int64_t timeout = -1;
  for (QEMUBH* bh = ctx->first_bh.Load(); bh != nullptr; bh = bh->next.Load()) {
    if (bh->scheduled.PlainLoad()) {
      if (bh->idle.Load()) {
        timeout = 10 * SCALE_MS;  // idle BHs are polled at least every 10 ms
      } else {
        return 0;  // a non-idle BH runs at once
      }
    }
  }
  int64_t deadline = timerlistgroup_deadline_ns(&ctx->tlg);
  return deadline == 0 ? 0 : qemu_soonest_timeout(timeout, deadline);
}

// ---- the GSource face ------------------------------------------------------------------

bool aio_ctx_prepare(AioContext* ctx, int* timeout_ms) {
  // From here to check, the loop may block in poll. (With R3 reverted there is no
  // notify_me: 2.3's GSource path did not tell aio_notify anything.)
  if ((ctx->switches & AIO_REVERT_R3) == 0) {
    if (ctx->switches & AIO_FIX_R12) {
      // 5.0: a plain read-modify-write (one writer), then a full barrier before the
      // BH flags are read for the timeout.
      atomic_set(&ctx->notify_me, atomic_read(&ctx->notify_me) | 1u);
      smp_mb();
    } else {
      atomic_or(&ctx->notify_me, 1u);
    }
  }
  *timeout_ms = qemu_timeout_ns_to_ms(aio_compute_timeout(ctx));
  if (aio_prepare(ctx)) *timeout_ms = 0;
  return *timeout_ms == 0;
}

bool aio_ctx_check(AioContext* ctx) {
  if ((ctx->switches & AIO_REVERT_R3) == 0) {
    if (ctx->switches & AIO_FIX_R12) {
      // 5.0: the timeout's reads complete before the flag is cleared.
      atomic_store_release(&ctx->notify_me, atomic_read(&ctx->notify_me) & ~1u);
    } else {
      atomic_and(&ctx->notify_me, ~1u);
    }
  }
  aio_notify_accept(ctx);
  for (QEMUBH* bh = ctx->first_bh.Load(); bh != nullptr; bh = bh->next.Load()) {
    if (bh->scheduled.PlainLoad()) return true;
  }
  return aio_pending(ctx) || timerlistgroup_deadline_ns(&ctx->tlg) == 0;
}

bool aio_ctx_dispatch(AioContext* ctx) {
  aio_dispatch(ctx);
  return true;
}

static void aio_ctx_finalize(AioContext* ctx) {
  if (core::ThreadPool* pool = ctx->thread_pool.Load()) {
    thread_pool_free(pool);
    ctx->thread_pool.Store(nullptr);
  }

  qemu_mutex_lock(&ctx->bh_lock);
  while (QEMUBH* bh = ctx->first_bh.Load()) {
    AIOSIM_ASSERT(bh->deleted.Load());  // qemu_bh_delete was called on every BH
    ctx->first_bh.Store(bh->next.Load());
    platform_delete(bh);
  }
  qemu_mutex_unlock(&ctx->bh_lock);

  aio_set_event_notifier(ctx, ctx->notifier.get(), false, nullptr);
  ctx->notifier.reset();
  timerlistgroup_deinit(&ctx->tlg);
  // Not in QEMU (which would leak the node): every fd handler was removed, and the
  // notifier's node was unlinked, i.e. nobody was still walking the handler list.
  AIOSIM_ASSERT(ctx->aio_handlers.Load() == nullptr);
}

// ---- notification ----------------------------------------------------------------------

void aio_notify(AioContext* ctx) {
  // Orders e.g. bh->scheduled before the read of notify_me. Pairs with the atomic_or
  // in aio_ctx_prepare and the atomic_add in aio_poll. The read itself is plain in
  // QEMU 2.8 (R12 is about why that is not enough on weakly ordered hosts).
  smp_mb();
  bool wake;
  if (ctx->switches & AIO_REVERT_R3) {
    // 2.1-2.3: skip the eventfd while some aio_poll is dispatching, which says
    // nothing about another thread that sleeps in poll (R3).
    wake = !ctx->dispatching.Load();
  } else if (ctx->switches & AIO_FIX_R12) {
    wake = atomic_read(&ctx->notify_me) != 0;  // 5.0: an atomic read
  } else {
    wake = ctx->notify_me.PlainLoad() != 0;
  }
  if (wake) {
    event_notifier_set(ctx->notifier.get());
    atomic_mb_set(&ctx->notified, true);
  }
}

void aio_set_dispatching(AioContext* ctx, bool dispatching) {
  ctx->dispatching.Store(dispatching);
  // Leaving dispatch: the flag before any read of e.g. bh->scheduled.
  if (!dispatching) smp_mb();
}

void aio_notify_accept(AioContext* ctx) {
  if (ctx->switches & AIO_REVERT_R4) return;  // before 2.4: no accept step
  if (atomic_xchg(&ctx->notified, false)) {
    event_notifier_test_and_clear(ctx->notifier.get());
  }
}

static void aio_timerlist_notify(void* opaque) { aio_notify(static_cast<AioContext*>(opaque)); }

// The notifier's handler does nothing: aio_notify_accept clears the eventfd before
// dispatch (R4's fix), so by the time handlers run there is nothing left to do.
static void event_notifier_dummy_cb(EventNotifier*) {}

// With R4 reverted, as before 2.4: the handler clears the eventfd during dispatch,
// which can eat a notification sent after this poll's BHs ran.
static void event_notifier_clear_cb(EventNotifier* e) { event_notifier_test_and_clear(e); }

// ---- lifecycle -------------------------------------------------------------------------

AioContext* aio_context_new(AioRuntime* rt, const AioContextOptions& options,
                            std::string* error) {
  auto* ctx = platform_new<AioContext>();
  ctx->runtime = rt;
  ctx->generation = options.generation;
  ctx->switches = options.switches | rt->switches();
  ctx->name = options.name;
  ctx->home_thread = rt->platform()->threads().Current();
  ctx->notifier = rt->platform()->poller().NewEventNotifier(false);
  if (ctx->notifier == nullptr) {
    if (error != nullptr) *error = "Failed to initialize event notifier";
    platform_delete(ctx);
    return nullptr;
  }
  aio_set_event_notifier(ctx, ctx->notifier.get(), false,
                         (ctx->switches & AIO_REVERT_R4) ? event_notifier_clear_cb
                                                         : event_notifier_dummy_cb);
  timerlistgroup_init(rt, &ctx->tlg, aio_timerlist_notify, ctx);
  aio_context_name_fields(ctx);
  return ctx;
}

// Not QEMU: names the context's fields in the simulator's reports (core/aio/names.h).
void aio_context_name_fields(AioContext* ctx) {
  if (!NamesWanted()) return;
  // The default name ("ctx") adds nothing: `ctx->notify_me`.
  const FieldNamer n(OwnerName("ctx", ctx->name == "ctx" ? "" : ctx->name));
  n(ctx->refcnt, "refcnt")(ctx->lock, "lock")(ctx->aio_handlers, "aio_handlers")(
      ctx->walking_handlers, "walking_handlers")(ctx->bh_lock, "bh_lock")(
      ctx->first_bh, "first_bh")(ctx->walking_bh, "walking_bh")(ctx->notify_me,
                                                                  "notify_me")(
      ctx->notified, "notified")(ctx->thread_pool, "thread_pool")(
      ctx->external_disable_cnt, "external_disable_cnt")(ctx->dispatching, "dispatching");
  ctx->notifier->SetName((n.owner() + "->notifier (eventfd count)").c_str());
  timerlistgroup_name_fields(&ctx->tlg, n.owner());
}

void aio_context_ref(AioContext* ctx) { atomic_inc(&ctx->refcnt); }

void aio_context_unref(AioContext* ctx) {
  if (atomic_fetch_dec(&ctx->refcnt) == 1) {
    aio_ctx_finalize(ctx);
    platform_delete(ctx);
  }
}

void aio_context_acquire(AioContext* ctx) { qemu_rec_mutex_lock(&ctx->lock); }
void aio_context_release(AioContext* ctx) { qemu_rec_mutex_unlock(&ctx->lock); }

void aio_context_set_home_thread(AioContext* ctx, ThreadId thread) {
  ctx->home_thread = thread;
}

bool in_aio_context_home_thread(AioContext* ctx) {
  return ctx->runtime->platform()->threads().Current() == ctx->home_thread;
}

core::ThreadPool* aio_get_thread_pool(AioContext* ctx) {
  if (ctx->thread_pool.Load() == nullptr) ctx->thread_pool.Store(thread_pool_new(ctx));
  return ctx->thread_pool.Load();
}

// ---- glib's view of the source's poll fds (main_loop.cc) -------------------------------

void aio_ctx_query(AioContext* ctx, absl::InlinedVector<PollFd, 8>* fds) {
  aio_for_each_gsource_poll(ctx, [&](AioHandler* node) {
    fds->push_back(PollFd{node->fd, node->events.Load(), 0});
  });
}

void aio_ctx_set_revents(AioContext* ctx, const PollFd& pfd) {
  aio_for_each_gsource_poll(ctx, [&](AioHandler* node) {
    if (node->fd == pfd.fd) node->revents.Store(pfd.revents);
  });
}

}  // namespace aiosim::core::legacy
