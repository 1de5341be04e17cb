// core/aio/dispatch.cc — the public AIO API (core/aio/aio.h, thread_pool.h): each
// function hands its object to the code of the object's generation. Not QEMU: QEMU
// has one generation per build; here a world may hold both, and scenarios,
// properties and tools call one API.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// The generation comes from the object itself (a context's, a BH's or a pool's
// `generation`, written before the object is shared and never again), read as a
// plain field: a dispatch adds no scheduling point, so executions, traces and tokens
// are the same as a direct call. A BH may be freed under its caller (R1's kind of
// bug): the simulator's heap poisons a freed block, so `generation` then reads as
// neither value, and everything but kLegacy takes the modern path, whose first
// access is a Shared or Atomic load that the simulator reports as a use after free.
// A call that one generation does not have fails as an assertion naming the QEMU
// version that added or removed it (aio.h).
#include "core/aio/aio.h"
#include "core/aio/legacy/aio_internal.h"
#include "core/aio/modern/aio_internal.h"
#include "core/aio/names.h"
#include "core/aio/thread_pool.h"
#include "core/platform/check.h"

namespace aiosim::core {

bool aio_test_extra_bh_read = false;

const char* AioGenerationName(AioGeneration generation) {
  switch (generation) {
    case AioGeneration::kLegacy: return "legacy";
    case AioGeneration::kModern: return "modern";
  }
  return "invalid";
}

bool ParseAioGeneration(std::string_view name, AioGeneration* generation) {
  if (name == "legacy") {
    *generation = AioGeneration::kLegacy;
  } else if (name == "modern") {
    *generation = AioGeneration::kModern;
  } else {
    return false;
  }
  return true;
}

// qemu-timer.c's qemu_clock_init: every clock starts enabled except
// QEMU_CLOCK_VIRTUAL, which QEMU enables when the VM starts (resume_all_vcpus). Until
// qemu_clock_enable(rt, QEMU_CLOCK_VIRTUAL, true), its timers neither run nor count
// in any deadline.
AioRuntime::AioRuntime(Platform* platform, uint32_t switches)
    : platform_(platform), switches_(switches) {
  static const char* const kNames[] = {"realtime", "virtual", "host", "virtual_rt"};
  for (int i = 0; i < QEMU_CLOCK_MAX; i++) {
    clocks_[i].type = static_cast<QEMUClockType>(i);
    if (NamesWanted()) {  // not QEMU: names for the simulator's reports (names.h)
      const std::string owner = std::string("clock[") + (i < 4 ? kNames[i] : "?") + "]";
      FieldNamer{owner}(clocks_[i].enabled, "enabled")(clocks_[i].timerlists, "timerlists");
    }
    clocks_[i].enabled.Store(i != QEMU_CLOCK_VIRTUAL);
  }
}

AioRuntime::~AioRuntime() {
  for (const QEMUClock& clock : clocks_) {
    AIOSIM_ASSERT(clock.timerlists.Load() == nullptr);  // every AioContext was finalized
  }
}
// ---- the BQL ---------------------------------------------------------------------------

namespace {
ThreadLocal<AioRuntime*> bql_held_by;  // QEMU's `static __thread bool bql_locked`
}  // namespace

void bql_lock(AioRuntime* rt) {
  AIOSIM_ASSERT(rt->bql() != nullptr);
  qemu_mutex_lock(rt->bql());
  bql_held_by.Set(rt);
}

void bql_unlock(AioRuntime* rt) {
  AIOSIM_ASSERT(bql_held_by.Get() == rt);
  bql_held_by.Set(nullptr);
  qemu_mutex_unlock(rt->bql());
}

AioRuntime* bql_holder() { return bql_held_by.Get(); }

namespace {
bool IsLegacy(const AioContext* ctx) { return ctx->generation == AioGeneration::kLegacy; }
bool IsLegacy(const QEMUBH* bh) { return bh->generation == AioGeneration::kLegacy; }
}  // namespace

// ---- lifecycle -------------------------------------------------------------------------

AioContext* aio_context_new(AioRuntime* rt, const AioContextOptions& options,
                            std::string* error) {
  switch (options.generation) {
    case AioGeneration::kLegacy: return legacy::aio_context_new(rt, options, error);
    case AioGeneration::kModern: return modern::aio_context_new(rt, options, error);
  }
  if (error != nullptr) *error = "unknown AIO generation";
  return nullptr;
}
void aio_context_ref(AioContext* ctx) {
  if (IsLegacy(ctx)) return legacy::aio_context_ref(legacy::of(ctx));
  modern::aio_context_ref(modern::of(ctx));
}
void aio_context_unref(AioContext* ctx) {
  if (IsLegacy(ctx)) return legacy::aio_context_unref(legacy::of(ctx));
  modern::aio_context_unref(modern::of(ctx));
}
void aio_context_acquire(AioContext* ctx) {
  if (IsLegacy(ctx)) return legacy::aio_context_acquire(legacy::of(ctx));
  CheckFailed("aio_context_acquire: removed in QEMU 9.0 (modern context)");
}
void aio_context_release(AioContext* ctx) {
  if (IsLegacy(ctx)) return legacy::aio_context_release(legacy::of(ctx));
  CheckFailed("aio_context_release: removed in QEMU 9.0 (modern context)");
}
void aio_context_set_home_thread(AioContext* ctx, ThreadId thread) {
  if (IsLegacy(ctx)) return legacy::aio_context_set_home_thread(legacy::of(ctx), thread);
  modern::aio_context_set_home_thread(modern::of(ctx), thread);
}
bool in_aio_context_home_thread(AioContext* ctx) {
  if (IsLegacy(ctx)) return legacy::in_aio_context_home_thread(legacy::of(ctx));
  return modern::in_aio_context_home_thread(modern::of(ctx));
}
ThreadPool* aio_get_thread_pool(AioContext* ctx) {
  if (IsLegacy(ctx)) return legacy::aio_get_thread_pool(legacy::of(ctx));
  return modern::aio_get_thread_pool(modern::of(ctx));
}

// ---- bottom halves ---------------------------------------------------------------------

QEMUBH* aio_bh_new(AioContext* ctx, QEMUBHFunc* cb, void* opaque) {
  return aio_bh_new_full(ctx, cb, opaque, nullptr);
}
QEMUBH* aio_bh_new_full(AioContext* ctx, QEMUBHFunc* cb, void* opaque, const char* name,
                        MemReentrancyGuard* reentrancy_guard) {
  if (IsLegacy(ctx)) {
    // 2.8.1 has neither BH names (5.2) nor reentrancy guards (8.1).
    if (reentrancy_guard != nullptr) {
      CheckFailed("aio_bh_new_full: reentrancy guards came in QEMU 8.1 (legacy context)");
    }
    return legacy::aio_bh_new(legacy::of(ctx), cb, opaque, name);
  }
  return modern::aio_bh_new_full(modern::of(ctx), cb, opaque, name, reentrancy_guard);
}
void aio_bh_schedule_oneshot(AioContext* ctx, QEMUBHFunc* cb, void* opaque) {
  if (IsLegacy(ctx)) return legacy::aio_bh_schedule_oneshot(legacy::of(ctx), cb, opaque);
  modern::aio_bh_schedule_oneshot_full(modern::of(ctx), cb, opaque,
                                       "aio_bh_schedule_oneshot");
}
void qemu_bh_schedule(QEMUBH* bh) {
  if (IsLegacy(bh)) return legacy::qemu_bh_schedule(legacy::of(bh));
  modern::qemu_bh_schedule(modern::of(bh));
}
void qemu_bh_schedule_idle(QEMUBH* bh) {
  if (IsLegacy(bh)) return legacy::qemu_bh_schedule_idle(legacy::of(bh));
  modern::qemu_bh_schedule_idle(modern::of(bh));
}
void qemu_bh_cancel(QEMUBH* bh) {
  if (IsLegacy(bh)) return legacy::qemu_bh_cancel(legacy::of(bh));
  modern::qemu_bh_cancel(modern::of(bh));
}
void qemu_bh_delete(QEMUBH* bh) {
  if (IsLegacy(bh)) return legacy::qemu_bh_delete(legacy::of(bh));
  modern::qemu_bh_delete(modern::of(bh));
}
int aio_bh_poll(AioContext* ctx) {
  if (IsLegacy(ctx)) return legacy::aio_bh_poll(legacy::of(ctx));
  return modern::aio_bh_poll(modern::of(ctx));
}
int64_t aio_compute_timeout(AioContext* ctx) {
  if (IsLegacy(ctx)) return legacy::aio_compute_timeout(legacy::of(ctx));
  return modern::aio_compute_timeout(modern::of(ctx));
}

// ---- notification ----------------------------------------------------------------------

void aio_notify(AioContext* ctx) {
  if (IsLegacy(ctx)) return legacy::aio_notify(legacy::of(ctx));
  modern::aio_notify(modern::of(ctx));
}
void aio_notify_accept(AioContext* ctx) {
  if (IsLegacy(ctx)) return legacy::aio_notify_accept(legacy::of(ctx));
  modern::aio_notify_accept(modern::of(ctx));
}

// ---- fd handlers -----------------------------------------------------------------------

void aio_set_fd_handler(AioContext* ctx, int fd, bool is_external, IOHandler* io_read,
                        IOHandler* io_write, void* opaque) {
  if (IsLegacy(ctx)) {
    return legacy::aio_set_fd_handler(legacy::of(ctx), fd, is_external, io_read, io_write,
                                      opaque);
  }
  if (is_external) CheckFailed("aio_set_fd_handler: is_external removed in QEMU 8.2");
  modern::aio_set_fd_handler(modern::of(ctx), fd, io_read, io_write, nullptr, nullptr,
                             opaque);
}
void aio_set_event_notifier(AioContext* ctx, EventNotifier* notifier, bool is_external,
                            EventNotifierHandler* io_read) {
  if (IsLegacy(ctx)) {
    return legacy::aio_set_event_notifier(legacy::of(ctx), notifier, is_external, io_read);
  }
  if (is_external) CheckFailed("aio_set_event_notifier: is_external removed in QEMU 8.2");
  modern::aio_set_event_notifier(modern::of(ctx), notifier, io_read, nullptr, nullptr);
}
void aio_set_fd_handler(AioContext* ctx, int fd, IOHandler* io_read, IOHandler* io_write,
                        AioPollFn* io_poll, IOHandler* io_poll_ready, void* opaque) {
  if (IsLegacy(ctx)) {
    if (io_poll != nullptr || io_poll_ready != nullptr) {
      CheckFailed("aio_set_fd_handler: poll handlers came in QEMU 2.9 (legacy context)");
    }
    return legacy::aio_set_fd_handler(legacy::of(ctx), fd, false, io_read, io_write, opaque);
  }
  modern::aio_set_fd_handler(modern::of(ctx), fd, io_read, io_write, io_poll, io_poll_ready,
                             opaque);
}
void aio_set_event_notifier(AioContext* ctx, EventNotifier* notifier,
                            EventNotifierHandler* io_read, AioPollFn* io_poll,
                            EventNotifierHandler* io_poll_ready) {
  if (IsLegacy(ctx)) {
    if (io_poll != nullptr || io_poll_ready != nullptr) {
      CheckFailed("aio_set_event_notifier: poll handlers came in QEMU 2.9 (legacy context)");
    }
    return legacy::aio_set_event_notifier(legacy::of(ctx), notifier, false, io_read);
  }
  modern::aio_set_event_notifier(modern::of(ctx), notifier, io_read, io_poll, io_poll_ready);
}
void aio_context_set_poll_params(AioContext* ctx, int64_t max_ns, int64_t grow,
                                 int64_t shrink) {
  if (IsLegacy(ctx)) {
    CheckFailed("aio_context_set_poll_params: adaptive polling came in QEMU 2.9 (legacy)");
  }
  modern::aio_context_set_poll_params(modern::of(ctx), max_ns, grow, shrink);
}
void aio_disable_external(AioContext* ctx) {
  if (IsLegacy(ctx)) return legacy::aio_disable_external(legacy::of(ctx));
  CheckFailed("aio_disable_external: removed in QEMU 8.2 (modern context)");
}
void aio_enable_external(AioContext* ctx) {
  if (IsLegacy(ctx)) return legacy::aio_enable_external(legacy::of(ctx));
  CheckFailed("aio_enable_external: removed in QEMU 8.2 (modern context)");
}
bool aio_external_disabled(AioContext* ctx) {
  if (IsLegacy(ctx)) return legacy::aio_external_disabled(legacy::of(ctx));
  CheckFailed("aio_external_disabled: removed in QEMU 8.2 (modern context)");
}
bool aio_node_check(AioContext* ctx, bool is_external) {
  if (IsLegacy(ctx)) return legacy::aio_node_check(legacy::of(ctx), is_external);
  CheckFailed("aio_node_check: removed in QEMU 8.2 (modern context)");
}

// ---- the loop --------------------------------------------------------------------------

bool aio_prepare(AioContext* ctx) {
  if (IsLegacy(ctx)) return legacy::aio_prepare(legacy::of(ctx));
  return modern::aio_prepare(modern::of(ctx));
}
bool aio_pending(AioContext* ctx) {
  if (IsLegacy(ctx)) return legacy::aio_pending(legacy::of(ctx));
  return modern::aio_pending(modern::of(ctx));
}
bool aio_dispatch(AioContext* ctx) {
  if (IsLegacy(ctx)) return legacy::aio_dispatch(legacy::of(ctx));
  // QEMU 10's aio_dispatch returns nothing (since 5.0).
  modern::aio_dispatch(modern::of(ctx));
  return false;
}
bool aio_poll(AioContext* ctx, bool blocking) {
  if (IsLegacy(ctx)) return legacy::aio_poll(legacy::of(ctx), blocking);
  return modern::aio_poll(modern::of(ctx), blocking);
}

// ---- the GSource face ------------------------------------------------------------------

bool aio_ctx_prepare(AioContext* ctx, int* timeout_ms) {
  if (IsLegacy(ctx)) return legacy::aio_ctx_prepare(legacy::of(ctx), timeout_ms);
  return modern::aio_ctx_prepare(modern::of(ctx), timeout_ms);
}
bool aio_ctx_check(AioContext* ctx) {
  if (IsLegacy(ctx)) return legacy::aio_ctx_check(legacy::of(ctx));
  return modern::aio_ctx_check(modern::of(ctx));
}
bool aio_ctx_dispatch(AioContext* ctx) {
  if (IsLegacy(ctx)) return legacy::aio_ctx_dispatch(legacy::of(ctx));
  return modern::aio_ctx_dispatch(modern::of(ctx));
}
void aio_ctx_query(AioContext* ctx, absl::InlinedVector<PollFd, 8>* fds) {
  if (IsLegacy(ctx)) return legacy::aio_ctx_query(legacy::of(ctx), fds);
  modern::aio_ctx_query(modern::of(ctx), fds);
}
void aio_ctx_set_revents(AioContext* ctx, const PollFd& pfd) {
  if (IsLegacy(ctx)) return legacy::aio_ctx_set_revents(legacy::of(ctx), pfd);
  modern::aio_ctx_set_revents(modern::of(ctx), pfd);
}

// ---- the thread pool -------------------------------------------------------------------

namespace {
bool IsLegacy(const ThreadPool* pool) { return pool->generation == AioGeneration::kLegacy; }
}  // namespace

ThreadPool* thread_pool_new(AioContext* ctx) {
  if (IsLegacy(ctx)) return legacy::thread_pool_new(legacy::of(ctx));
  return modern::thread_pool_new(modern::of(ctx));
}
void thread_pool_free(ThreadPool* pool) {
  if (pool == nullptr) return;
  if (IsLegacy(pool)) return legacy::thread_pool_free(legacy::of(pool));
  modern::thread_pool_free(modern::of(pool));
}
BlockAIOCB* thread_pool_submit_aio(ThreadPool* pool, ThreadPoolFunc* func, void* arg,
                                   BlockCompletionFunc* cb, void* opaque) {
  if (IsLegacy(pool)) {
    return legacy::thread_pool_submit_aio(legacy::of(pool), func, arg, cb, opaque);
  }
  return modern::thread_pool_submit_aio(modern::of(pool), func, arg, cb, opaque);
}
void thread_pool_submit(ThreadPool* pool, ThreadPoolFunc* func, void* arg) {
  if (IsLegacy(pool)) return legacy::thread_pool_submit(legacy::of(pool), func, arg);
  modern::thread_pool_submit(modern::of(pool), func, arg);
}
ThreadPoolStats thread_pool_stats(ThreadPool* pool) {
  if (IsLegacy(pool)) return legacy::thread_pool_stats(legacy::of(pool));
  return modern::thread_pool_stats(modern::of(pool));
}
bool aio_context_set_thread_pool_params(AioContext* ctx, int64_t min, int64_t max,
                                        std::string* error) {
  if (IsLegacy(ctx)) {
    CheckFailed("aio_context_set_thread_pool_params: thread-pool-min/max came in QEMU "
                "7.1 (legacy context)");
  }
  return modern::aio_context_set_thread_pool_params(modern::of(ctx), min, max, error);
}

}  // namespace aiosim::core
