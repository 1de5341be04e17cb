// core/aio/dispatch.cc — the public AIO API (core/aio/aio.h, thread_pool.h): each
// function hands its object to the code of the object's generation. Not QEMU: QEMU
// has one generation per build; here a world may hold either, and scenarios,
// properties and tools call one API.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// The generation comes from the object itself (a context's, a BH's or a pool's
// `generation`, written before the object is shared and never again), read as a
// plain field: a dispatch adds no scheduling point, so executions, traces and tokens
// are the same as a direct call. Legacy (core/aio/legacy/) is this build's only
// generation, so each function goes there directly; the modern generation
// (docs/modern.md) turns each into a switch on `generation`.
#include "core/aio/aio.h"
#include "core/aio/legacy/aio_internal.h"
#include "core/aio/thread_pool.h"
#include "core/platform/check.h"

namespace aiosim::core {

bool aio_test_extra_bh_read = false;

const char* AioGenerationName(AioGeneration generation) {
  switch (generation) {
    case AioGeneration::kLegacy: return "legacy";
  }
  return "invalid";
}

// qemu-timer.c's qemu_clock_init: every clock starts enabled except
// QEMU_CLOCK_VIRTUAL, which QEMU enables when the VM starts (resume_all_vcpus). Until
// qemu_clock_enable(rt, QEMU_CLOCK_VIRTUAL, true), its timers neither run nor count
// in any deadline.
AioRuntime::AioRuntime(Platform* platform, uint32_t switches)
    : platform_(platform), switches_(switches) {
  for (int i = 0; i < QEMU_CLOCK_MAX; i++) {
    clocks_[i].type = static_cast<QEMUClockType>(i);
    clocks_[i].enabled.Store(i != QEMU_CLOCK_VIRTUAL);
  }
}

AioRuntime::~AioRuntime() {
  for (const QEMUClock& clock : clocks_) {
    AIOSIM_ASSERT(clock.timerlists.Load() == nullptr);  // every AioContext was finalized
  }
}
// ---- lifecycle -------------------------------------------------------------------------

AioContext* aio_context_new(AioRuntime* rt, const AioContextOptions& options,
                            std::string* error) {
  switch (options.generation) {
    case AioGeneration::kLegacy: return legacy::aio_context_new(rt, options, error);
  }
  if (error != nullptr) *error = "unknown AIO generation";
  return nullptr;
}
void aio_context_ref(AioContext* ctx) { legacy::aio_context_ref(legacy::of(ctx)); }
void aio_context_unref(AioContext* ctx) { legacy::aio_context_unref(legacy::of(ctx)); }
void aio_context_acquire(AioContext* ctx) {
  legacy::aio_context_acquire(legacy::of(ctx));
}
void aio_context_release(AioContext* ctx) {
  legacy::aio_context_release(legacy::of(ctx));
}
void aio_context_set_home_thread(AioContext* ctx, ThreadId thread) {
  legacy::aio_context_set_home_thread(legacy::of(ctx), thread);
}
bool in_aio_context_home_thread(AioContext* ctx) {
  return legacy::in_aio_context_home_thread(legacy::of(ctx));
}
ThreadPool* aio_get_thread_pool(AioContext* ctx) {
  return legacy::aio_get_thread_pool(legacy::of(ctx));
}

// ---- bottom halves ---------------------------------------------------------------------

QEMUBH* aio_bh_new(AioContext* ctx, QEMUBHFunc* cb, void* opaque) {
  return legacy::aio_bh_new(legacy::of(ctx), cb, opaque);
}
void aio_bh_schedule_oneshot(AioContext* ctx, QEMUBHFunc* cb, void* opaque) {
  legacy::aio_bh_schedule_oneshot(legacy::of(ctx), cb, opaque);
}
void qemu_bh_schedule(QEMUBH* bh) { legacy::qemu_bh_schedule(legacy::of(bh)); }
void qemu_bh_schedule_idle(QEMUBH* bh) { legacy::qemu_bh_schedule_idle(legacy::of(bh)); }
void qemu_bh_cancel(QEMUBH* bh) { legacy::qemu_bh_cancel(legacy::of(bh)); }
void qemu_bh_delete(QEMUBH* bh) { legacy::qemu_bh_delete(legacy::of(bh)); }
int aio_bh_poll(AioContext* ctx) { return legacy::aio_bh_poll(legacy::of(ctx)); }
int64_t aio_compute_timeout(AioContext* ctx) {
  return legacy::aio_compute_timeout(legacy::of(ctx));
}

// ---- notification ----------------------------------------------------------------------

void aio_notify(AioContext* ctx) { legacy::aio_notify(legacy::of(ctx)); }
void aio_notify_accept(AioContext* ctx) { legacy::aio_notify_accept(legacy::of(ctx)); }

// ---- fd handlers -----------------------------------------------------------------------

void aio_set_fd_handler(AioContext* ctx, int fd, bool is_external, IOHandler* io_read,
                        IOHandler* io_write, void* opaque) {
  legacy::aio_set_fd_handler(legacy::of(ctx), fd, is_external, io_read, io_write, opaque);
}
void aio_set_event_notifier(AioContext* ctx, EventNotifier* notifier, bool is_external,
                            EventNotifierHandler* io_read) {
  legacy::aio_set_event_notifier(legacy::of(ctx), notifier, is_external, io_read);
}
void aio_disable_external(AioContext* ctx) {
  legacy::aio_disable_external(legacy::of(ctx));
}
void aio_enable_external(AioContext* ctx) {
  legacy::aio_enable_external(legacy::of(ctx));
}
bool aio_external_disabled(AioContext* ctx) {
  return legacy::aio_external_disabled(legacy::of(ctx));
}
bool aio_node_check(AioContext* ctx, bool is_external) {
  return legacy::aio_node_check(legacy::of(ctx), is_external);
}

// ---- the loop --------------------------------------------------------------------------

bool aio_prepare(AioContext* ctx) { return legacy::aio_prepare(legacy::of(ctx)); }
bool aio_pending(AioContext* ctx) { return legacy::aio_pending(legacy::of(ctx)); }
bool aio_dispatch(AioContext* ctx) { return legacy::aio_dispatch(legacy::of(ctx)); }
bool aio_poll(AioContext* ctx, bool blocking) {
  return legacy::aio_poll(legacy::of(ctx), blocking);
}

// ---- the GSource face ------------------------------------------------------------------

bool aio_ctx_prepare(AioContext* ctx, int* timeout_ms) {
  return legacy::aio_ctx_prepare(legacy::of(ctx), timeout_ms);
}
bool aio_ctx_check(AioContext* ctx) { return legacy::aio_ctx_check(legacy::of(ctx)); }
bool aio_ctx_dispatch(AioContext* ctx) {
  return legacy::aio_ctx_dispatch(legacy::of(ctx));
}
void aio_ctx_query(AioContext* ctx, absl::InlinedVector<PollFd, 8>* fds) {
  legacy::aio_ctx_query(legacy::of(ctx), fds);
}
void aio_ctx_set_revents(AioContext* ctx, const PollFd& pfd) {
  legacy::aio_ctx_set_revents(legacy::of(ctx), pfd);
}

// ---- the thread pool -------------------------------------------------------------------

ThreadPool* thread_pool_new(AioContext* ctx) {
  return legacy::thread_pool_new(legacy::of(ctx));
}
void thread_pool_free(ThreadPool* pool) {
  if (pool == nullptr) return;
  legacy::thread_pool_free(legacy::of(pool));
}
BlockAIOCB* thread_pool_submit_aio(ThreadPool* pool, ThreadPoolFunc* func, void* arg,
                                   BlockCompletionFunc* cb, void* opaque) {
  return legacy::thread_pool_submit_aio(legacy::of(pool), func, arg, cb, opaque);
}
void thread_pool_submit(ThreadPool* pool, ThreadPoolFunc* func, void* arg) {
  legacy::thread_pool_submit(legacy::of(pool), func, arg);
}
ThreadPoolStats thread_pool_stats(ThreadPool* pool) {
  return legacy::thread_pool_stats(legacy::of(pool));
}

}  // namespace aiosim::core
