// core/aio/modern/async.cc — follows QEMU 10.2.0 util/async.c (the modern generation):
// bottom halves as a flag word on lock-free lists, aio_notify and aio_notify_accept
// with their barriers, the GSource face of the AioContext, its lifecycle, and the
// current AioContext of a thread.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Written from docs/modern-sources.md §2.1–2.2 and checked against QEMU's util/async.c;
// names are QEMU's, the code is ours. Where QEMU reads a field plainly while another
// thread writes it atomically (the head of ctx->bh_list in QSLIST_INSERT_HEAD_ATOMIC),
// the read is PlainLoad, so the race stays visible. Not followed: coroutines
// (co_schedule_bh), linux-aio and io_uring state, icount's icount_notify_exit, and
// `ctx->initialized` (a failed aio_context_new frees the context at once here).
#include "core/aio/modern/aio_internal.h"
#include "core/aio/names.h"

#include "core/aio/aio.h"
#include "core/aio/thread_pool.h"
#include "core/platform/check.h"

namespace aiosim::core::modern {

void (*aio_test_bh_count_hook)(AioContext* ctx, int delta) = nullptr;

// ---- bottom halves ---------------------------------------------------------------------

// QSLIST_INSERT_HEAD_ATOMIC: a plain read of the head, then a compare-and-swap.
static void bh_list_insert_head_atomic(Atomic<QEMUBH*>* head, QEMUBH* bh) {
  QEMUBH* old;
  do {
    old = head->PlainLoad();
    bh->next.Store(old);
  } while (qatomic_cmpxchg(head, old, bh) != old);
}

// Any thread. The context is loaded before the BH is published: once it is on the
// list it may run and be freed before this function returns (R1).
static void aio_bh_enqueue(QEMUBH* bh, unsigned new_flags) {
  AioContext* ctx = bh->ctx.Load();
  // Pairs with the fetch_and in aio_bh_dequeue: the insertion starts after PENDING
  // is set, so two enqueuers never both insert.
  unsigned old_flags = qatomic_fetch_or(&bh->flags, BH_PENDING | new_flags);
  if ((old_flags & BH_PENDING) == 0) {
    // The BH becomes visible to aio_bh_poll here; pairs with its exchange of the
    // list, so the callback sees what was written before the schedule.
    bh_list_insert_head_atomic(&ctx->bh_list, bh);
  }
  aio_notify(ctx);
}

// From aio_bh_poll and aio_ctx_finalize only: pops the head of `head` (plain
// QSLIST_REMOVE_HEAD) and clears PENDING, SCHEDULED and IDLE, returning the old flags.
static QEMUBH* aio_bh_dequeue(Shared<QEMUBH*>* head, unsigned* flags) {
  QEMUBH* bh = head->Load();
  smp_read_barrier_depends();  // QSLIST_FIRST_RCU
  if (bh == nullptr) return nullptr;
  head->Store(bh->next.Load());
  bh->next.Store(nullptr);
  // Pairs with the fetch_or in aio_bh_enqueue: the removal is complete before
  // PENDING is cleared, so a concurrent schedule pushes the BH again.
  *flags = qatomic_fetch_and(&bh->flags, ~(BH_PENDING | BH_SCHEDULED | BH_IDLE));
  return bh;
}

static void bh_free(AioContext* ctx, QEMUBH* bh) {
  if (aio_test_bh_count_hook != nullptr) aio_test_bh_count_hook(ctx, -1);
  platform_delete(bh);
}

static QEMUBH* bh_alloc(AioContext* ctx, QEMUBHFunc* cb, void* opaque, const char* name,
                        MemReentrancyGuard* guard) {
  QEMUBH* bh = platform_new<QEMUBH>();
  if (NamesWanted()) {  // not QEMU: names for the simulator's reports (names.h)
    FieldNamer(OwnerName("bh", name != nullptr ? name : ""))(bh->flags, "flags")(
        bh->next, "next")(bh->ctx, "ctx")(bh->cb, "cb")(bh->opaque, "opaque")(
        bh->reentrancy_guard, "reentrancy_guard");
  }
  bh->generation = AioGeneration::kModern;
  bh->ctx.Store(ctx);
  bh->name = name;
  bh->cb.Store(cb);
  bh->opaque.Store(opaque);
  bh->reentrancy_guard.Store(guard);
  if (aio_test_bh_count_hook != nullptr) aio_test_bh_count_hook(ctx, +1);
  return bh;
}

void aio_bh_schedule_oneshot_full(AioContext* ctx, QEMUBHFunc* cb, void* opaque,
                                  const char* name) {
  aio_bh_enqueue(bh_alloc(ctx, cb, opaque, name, nullptr), BH_SCHEDULED | BH_ONESHOT);
}

// On no list until it is first scheduled or deleted.
QEMUBH* aio_bh_new_full(AioContext* ctx, QEMUBHFunc* cb, void* opaque, const char* name,
                        MemReentrancyGuard* reentrancy_guard) {
  return bh_alloc(ctx, cb, opaque, name, reentrancy_guard);
}

// 8.1's guard: saved, set and restored around the callback (it never skips it). The
// guard pointer is copied first: the callback may free the BH.
static void aio_bh_call(QEMUBH* bh) {
  MemReentrancyGuard* guard = bh->reentrancy_guard.Load();
  bool last_engaged_in_io = false;
  if (guard != nullptr) {
    last_engaged_in_io = guard->engaged_in_io.Load();
    guard->engaged_in_io.Store(true);
  }
  bh->cb.Load()(bh->opaque.Load());
  if (guard != nullptr) guard->engaged_in_io.Store(last_engaged_in_io);
}

// QSIMPLEQ_INSERT_TAIL / QSIMPLEQ_REMOVE_HEAD on ctx's slice queue.
static void slice_insert_tail(AioContext* ctx, BHListSlice* slice) {
  slice->next.Store(nullptr);
  if (BHListSlice* last = ctx->bh_slice_last.Load()) {
    last->next.Store(slice);
  } else {
    ctx->bh_slice_first.Store(slice);
  }
  ctx->bh_slice_last.Store(slice);
}

static void slice_remove_head(AioContext* ctx) {
  BHListSlice* first = ctx->bh_slice_first.Load();
  BHListSlice* next = first->next.Load();
  ctx->bh_slice_first.Store(next);
  if (next == nullptr) ctx->bh_slice_last.Store(nullptr);
}

// Home thread; may nest (a callback may call aio_poll). Each call takes every
// pending BH as its own slice, then runs the slices in order, outermost first: a
// nested call finishes its parents' BHs before its own. Whoever dequeues a BH frees
// it if it is deleted or a oneshot.
int aio_bh_poll(AioContext* ctx) {
  BHListSlice slice;
  // QSLIST_MOVE_ATOMIC; pairs with the compare-and-swap in aio_bh_enqueue.
  slice.bh_list.Store(qatomic_xchg(&ctx->bh_list, nullptr));
  slice_insert_tail(ctx, &slice);

  int ret = 0;
  while (BHListSlice* s = ctx->bh_slice_first.Load()) {
    unsigned flags;
    QEMUBH* bh = aio_bh_dequeue(&s->bh_list, &flags);
    if (bh == nullptr) {
      slice_remove_head(ctx);
      continue;
    }
    if ((flags & (BH_SCHEDULED | BH_DELETED)) == BH_SCHEDULED) {
      if ((flags & BH_IDLE) == 0) ret = 1;  // idle BHs are not progress
      aio_bh_call(bh);
    }
    if (flags & (BH_DELETED | BH_ONESHOT)) bh_free(ctx, bh);
  }
  return ret;
}

void qemu_bh_schedule_idle(QEMUBH* bh) { aio_bh_enqueue(bh, BH_SCHEDULED | BH_IDLE); }

void qemu_bh_schedule(QEMUBH* bh) { aio_bh_enqueue(bh, BH_SCHEDULED); }

// Any thread: clears SCHEDULED only. A BH that is already dequeued still runs (S3),
// and a pending one stays on its list, to be dequeued and dropped.
void qemu_bh_cancel(QEMUBH* bh) { qatomic_and(&bh->flags, ~BH_SCHEDULED); }

// Any thread: the next aio_bh_poll that dequeues the BH frees it without running it.
void qemu_bh_delete(QEMUBH* bh) { aio_bh_enqueue(bh, BH_DELETED); }

// 10.2 reads the flags with load-acquire (5142397c79); 10.1 and earlier plainly.
static int64_t aio_compute_bh_timeout(QEMUBH* first, int64_t timeout) {
  for (QEMUBH* bh = first; bh != nullptr; bh = bh->next.Load()) {
    smp_read_barrier_depends();  // QSLIST_FOREACH_RCU
    const unsigned flags = qatomic_load_acquire(&bh->flags);
    if ((flags & (BH_SCHEDULED | BH_DELETED)) == BH_SCHEDULED) {
      if (qatomic_load_acquire(&bh->flags) & BH_IDLE) {
        timeout = 10 * SCALE_MS;  // idle BHs are polled at least every 10 ms
      } else {
        return 0;  // a non-idle BH runs at once
      }
    }
  }
  return timeout;
}

int64_t aio_compute_timeout(AioContext* ctx) {
  int64_t timeout = aio_compute_bh_timeout(qatomic_rcu_read(&ctx->bh_list), -1);
  if (timeout == 0) return 0;
  for (BHListSlice* s = ctx->bh_slice_first.Load(); s != nullptr; s = s->next.Load()) {
    timeout = aio_compute_bh_timeout(s->bh_list.Load(), timeout);
    if (timeout == 0) return 0;
  }
  int64_t deadline = timerlistgroup_deadline_ns(&ctx->tlg);
  return deadline == 0 ? 0 : qemu_soonest_timeout(timeout, deadline);
}

// ---- the GSource face ------------------------------------------------------------------

bool aio_ctx_prepare(AioContext* ctx, int* timeout_ms) {
  // One writer (the home thread): a plain read-modify-write, then a full barrier
  // before the BH flags are read for the timeout. Pairs with aio_notify's smp_mb.
  qatomic_set(&ctx->notify_me, qatomic_read(&ctx->notify_me) | 1u);
  smp_mb();
  *timeout_ms = qemu_timeout_ns_to_ms(aio_compute_timeout(ctx));
  if (aio_prepare(ctx)) *timeout_ms = 0;
  return *timeout_ms == 0;
}

static bool bh_list_has_scheduled(QEMUBH* first) {
  for (QEMUBH* bh = first; bh != nullptr; bh = bh->next.Load()) {
    smp_read_barrier_depends();
    // Idle BHs count here (unlike aio_compute_timeout's scan, they make the
    // source ready).
    if ((qatomic_load_acquire(&bh->flags) & (BH_SCHEDULED | BH_DELETED)) == BH_SCHEDULED) {
      return true;
    }
  }
  return false;
}

bool aio_ctx_check(AioContext* ctx) {
  // The timeout's reads are complete before the flag is cleared.
  qatomic_store_release(&ctx->notify_me, qatomic_read(&ctx->notify_me) & ~1u);
  aio_notify_accept(ctx);
  if (bh_list_has_scheduled(qatomic_rcu_read(&ctx->bh_list))) return true;
  for (BHListSlice* s = ctx->bh_slice_first.Load(); s != nullptr; s = s->next.Load()) {
    if (bh_list_has_scheduled(s->bh_list.Load())) return true;
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

  // There must be no aio_bh_poll going on.
  AIOSIM_ASSERT(ctx->bh_slice_first.Load() == nullptr);

  Shared<QEMUBH*> pending{qatomic_xchg(&ctx->bh_list, nullptr)};
  unsigned flags;
  while (QEMUBH* bh = aio_bh_dequeue(&pending, &flags)) {
    // A BH on the list that nobody deleted is leaked: QEMU prints its name and aborts.
    if ((flags & BH_DELETED) == 0) {
      CheckFailed("aio_ctx_finalize: BH leaked (pending, never qemu_bh_delete'd)");
    }
    bh_free(ctx, bh);
  }

  aio_set_event_notifier(ctx, ctx->notifier.get(), nullptr, nullptr, nullptr);
  ctx->notifier.reset();
  qemu_lockcnt_destroy(&ctx->list_lock);
  timerlistgroup_deinit(&ctx->tlg);
  aio_context_destroy(ctx);
  // Not in QEMU (which would leak the nodes): every fd handler was removed.
  AIOSIM_ASSERT(ctx->aio_handlers.PlainLoad() == nullptr);
}

// ---- notification ----------------------------------------------------------------------

// Any thread. `notified` is always set; the eventfd is written only when some poller
// announced (notify_me) that it may sleep.
void aio_notify(AioContext* ctx) {
  // The producer's writes (e.g. ctx->bh_list) before `notified`; pairs with the
  // smp_mb in aio_notify_accept.
  smp_wmb();
  qatomic_set(&ctx->notified, true);
  // `notified` (and bh_list) before the read of notify_me; pairs with the smp_mb in
  // aio_ctx_prepare and aio_poll.
  smp_mb();
  if (qatomic_read(&ctx->notify_me) != 0) event_notifier_set(ctx->notifier.get());
}

// The eventfd is left alone: the notifier's own handler drains it.
void aio_notify_accept(AioContext* ctx) {
  qatomic_set(&ctx->notified, false);
  // The clear (and the reads of `notified` before it) before later reads of the BH
  // flags; pairs with the smp_wmb in aio_notify.
  smp_mb();
}

static void aio_timerlist_notify(void* opaque) {
  aio_notify(static_cast<AioContext*>(opaque));
}

// The notifier's handlers (registered in aio_context_new): io_read drains the
// eventfd; io_poll reports `notified` (no acquire needed: it only kicks the loop,
// aio_notify_accept orders the rest); io_poll_ready does nothing.
static AioContext* notifier_ctx(EventNotifier* e);

static void aio_context_notifier_cb(EventNotifier* e) { event_notifier_test_and_clear(e); }

static bool aio_context_notifier_poll(void* opaque) {
  return qatomic_read(&notifier_ctx(static_cast<EventNotifier*>(opaque))->notified);
}

static void aio_context_notifier_poll_ready(EventNotifier*) {}

// ---- the current AioContext (QEMU_DEFINE_STATIC_CO_TLS(AioContext *, my_aiocontext)) -

// One per thread (per simulated thread in the simulator).
static ThreadLocal<AioContext*> my_aiocontext;

// The thread's own context, else, for a thread that holds the BQL, the main context
// (a vCPU thread), else none. (The main context is the BQL's runtime's, where it is
// a modern one.)
AioContext* qemu_get_current_aio_context() {
  if (AioContext* ctx = my_aiocontext.Get()) return ctx;
  if (AioRuntime* rt = bql_holder()) {
    core::AioContext* main = rt->main_context();
    if (main != nullptr && main->generation == AioGeneration::kModern) return of(main);
  }
  return nullptr;
}

void qemu_set_current_aio_context(AioContext* ctx) {
  AIOSIM_ASSERT(my_aiocontext.Get() == nullptr);
  my_aiocontext.Set(ctx);
}

// QEMU finds the context from its notifier with container_of (the notifier is a
// member); here the platform owns the notifier, so the context is the calling
// thread's current one: io_poll runs only in the thread that polls the context,
// which aio_poll asserts is its home thread (and the GSource path runs there too).
static AioContext* notifier_ctx(EventNotifier* e) {
  AioContext* ctx = qemu_get_current_aio_context();
  AIOSIM_ASSERT(ctx != nullptr && ctx->notifier.get() == e);
  return ctx;
}

// ---- lifecycle -------------------------------------------------------------------------

AioContext* aio_context_new(AioRuntime* rt, const AioContextOptions& options,
                            std::string* error) {
  auto* ctx = platform_new<AioContext>();
  ctx->runtime = rt;
  ctx->generation = AioGeneration::kModern;
  ctx->switches = options.switches | rt->switches();
  ctx->name = options.name;
  ctx->notifier = rt->platform()->poller().NewEventNotifier(false);
  if (ctx->notifier == nullptr) {
    if (error != nullptr) *error = "Failed to initialize event notifier";
    platform_delete(ctx);
    return nullptr;
  }
  qemu_lockcnt_init(&ctx->list_lock);
  aio_set_event_notifier(ctx, ctx->notifier.get(), aio_context_notifier_cb,
                         aio_context_notifier_poll, aio_context_notifier_poll_ready);
  timerlistgroup_init(rt, &ctx->tlg, aio_timerlist_notify, ctx, AioGeneration::kModern);
  // Not QEMU: the creator is the home thread until aio_context_set_home_thread (the
  // public API's convention, core/aio/aio.h), as qemu_init_main_loop makes the main
  // context the main thread's. A thread that already runs a context keeps it.
  if (my_aiocontext.Get() == nullptr) my_aiocontext.Set(ctx);
  ctx->home_thread = rt->platform()->threads().Current();
  aio_context_name_fields(ctx);
  return ctx;
}

// Not QEMU: names the context's fields in the simulator's reports (core/aio/names.h).
void aio_context_name_fields(AioContext* ctx) {
  if (!NamesWanted()) return;
  // The default name ("ctx") adds nothing: `ctx->notify_me`.
  const FieldNamer n(OwnerName("ctx", ctx->name == "ctx" ? "" : ctx->name));
  n(ctx->refcnt, "refcnt")(ctx->list_lock.count, "list_lock")(ctx->aio_handlers,
                                                               "aio_handlers")(
      ctx->deleted_aio_handlers, "deleted_aio_handlers")(ctx->poll_aio_handlers,
                                                         "poll_aio_handlers")(
      ctx->poll_started, "poll_started")(ctx->poll_disable_cnt, "poll_disable_cnt")(
      ctx->bh_list, "bh_list")(ctx->bh_slice_first, "bh_slice_first")(
      ctx->bh_slice_last, "bh_slice_last")(ctx->notify_me, "notify_me")(
      ctx->notified, "notified")(ctx->thread_pool, "thread_pool")(
      ctx->thread_pool_min, "thread_pool_min")(ctx->thread_pool_max, "thread_pool_max");
  ctx->notifier->SetName((n.owner() + "->notifier (eventfd count)").c_str());
  timerlistgroup_name_fields(&ctx->tlg, n.owner());
}

void aio_context_ref(AioContext* ctx) { qatomic_inc(&ctx->refcnt); }

void aio_context_unref(AioContext* ctx) {
  if (qatomic_fetch_dec(&ctx->refcnt) == 1) {
    aio_ctx_finalize(ctx);
    if (my_aiocontext.Get() == ctx) my_aiocontext.Set(nullptr);
    platform_delete(ctx);
  }
}

void aio_context_set_home_thread(AioContext* ctx, ThreadId thread) {
  // Modern identifies the home thread by its TLS, which only the thread itself can
  // set (iothread_run calls qemu_set_current_aio_context).
  AIOSIM_ASSERT(thread == ctx->runtime->platform()->threads().Current());
  ctx->home_thread = thread;
  if (my_aiocontext.Get() == ctx) return;
  my_aiocontext.Set(nullptr);
  qemu_set_current_aio_context(ctx);
}

// QEMU: ctx == qemu_get_current_aio_context(). The thread id stands in for the TLS
// of a thread the context moved away from (see AioContext::home_thread).
bool in_aio_context_home_thread(AioContext* ctx) {
  if (my_aiocontext.Get() != nullptr) {
    return ctx == my_aiocontext.Get() &&
           ctx->home_thread == ctx->runtime->platform()->threads().Current();
  }
  return ctx == qemu_get_current_aio_context();  // the BQL fallback
}

// Created on first use (thread_pool.cc). Home thread, as QEMU's callers are.
core::ThreadPool* aio_get_thread_pool(AioContext* ctx) {
  if (ctx->thread_pool.Load() == nullptr) ctx->thread_pool.Store(thread_pool_new(ctx));
  return ctx->thread_pool.Load();
}

// ---- glib's view of the source's poll fds (main_loop.cc) -------------------------------

// 10.2's fdmon_poll_update: a new node is g_source_add_poll'ed and the node it
// replaces removed at once, whether or not it waits on the deleted list.
void aio_ctx_query(AioContext* ctx, absl::InlinedVector<PollFd, 8>* fds) {
  aio_for_each_handler(ctx, [&](AioHandler* node) {
    if (!node->on_deleted.Load()) fds->push_back(PollFd{node->fd, node->events.Load(), 0});
  });
}

void aio_ctx_set_revents(AioContext* ctx, const PollFd& pfd) {
  aio_for_each_handler(ctx, [&](AioHandler* node) {
    if (!node->on_deleted.Load() && node->fd == pfd.fd) node->revents.Store(pfd.revents);
  });
}

}  // namespace aiosim::core::modern
