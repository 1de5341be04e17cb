// core/aio/aio.h — follows QEMU 2.8.1 include/block/aio.h: the AioContext, bottom
// halves, fd handlers, aio_notify and aio_poll.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// An AioContext is an event loop: bottom halves (BHs: callbacks any thread may
// schedule), fd handlers, and one timer list per clock. Its home thread runs it,
// either through aio_poll or through the GSource-shaped main-loop path
// (core/aio/main_loop.h). This header declares QEMU's API with QEMU's names; the
// semantics are QEMU-SEMANTICS.md §1 for the `legacy` generation (QEMU 2.8.1).
//
// World: everything QEMU keeps in globals (its clocks) lives in an AioRuntime, so one
// process can hold many independent worlds (the simulator runs one per execution).
// A runtime wraps a Platform (core/platform/platform.h), the only way to the OS.
//
// Generation: each AioContext has one, fixed at creation (AioContextOptions):
// `legacy` (QEMU 2.8.1, core/aio/legacy/) or `modern` (QEMU 10.2, core/aio/modern/),
// behind this one API, so tests and tools need not change. A call one generation
// does not have (removed or added after 2.8.1) fails as an assertion that names the
// QEMU version, never silently: e.g. aio_context_acquire on a modern context (gone
// in 9.0), or a poll handler on a legacy one (added in 2.9).
//
// Threading (QEMU's contract, which this code does not enforce):
//   - any thread: aio_bh_new, aio_bh_schedule_oneshot, qemu_bh_schedule,
//     qemu_bh_schedule_idle, aio_notify, timer_mod/del; qemu_bh_cancel from a
//     foreign thread may return while the callback is about to run (claim S3);
//   - the home thread (or whoever holds the context with aio_context_acquire):
//     aio_poll, aio_dispatch, qemu_bh_delete, aio_set_fd_handler;
//   - BH, fd and timer callbacks run in the thread that polls.
#ifndef AIOSIM_CORE_AIO_AIO_H_
#define AIOSIM_CORE_AIO_AIO_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/container/inlined_vector.h"
#include "core/aio/generation.h"
#include "core/aio/qemu_timer.h"
#include "core/platform/platform.h"
#include "core/platform/sync.h"

namespace aiosim::core {

struct ThreadPool;

using QEMUBHFunc = void(void* opaque);
using IOHandler = void(void* opaque);
using EventNotifierHandler = void(EventNotifier* e);
// QEMU 2.9+: a poll handler (AioPollFn) says whether its fd's event has happened,
// without a system call; modern only.
using AioPollFn = bool(void* opaque);

// QEMU 8.1+ (hw/qdev-core.h): a device's guard against re-entrant MMIO, which
// aio_bh_call sets while a guarded BH runs (it never skips the BH). Modern only.
struct MemReentrancyGuard {
  Shared<bool> engaged_in_io{false};
};

// AioGeneration: core/aio/generation.h.

// What QEMU keeps in globals, for one world. Not copyable. Outlives its contexts.
class AioRuntime {
 public:
  // `switches`: AioSwitch bits for every context, timer list and pool of this world
  // (0: QEMU 2.8.1 as shipped).
  explicit AioRuntime(Platform* platform, uint32_t switches = 0);
  ~AioRuntime();
  AioRuntime(const AioRuntime&) = delete;
  AioRuntime& operator=(const AioRuntime&) = delete;

  Platform* platform() const { return platform_; }
  QEMUClock* clock(QEMUClockType type) { return &clocks_[type]; }
  QemuMutex* timerlists_lock() { return &timerlists_lock_; }
  uint32_t switches() const { return switches_; }

  // QEMU's qemu_get_aio_context() (the main loop's context) and its BQL, where a
  // program has them (the main-loop scenarios); both optional, set before any thread
  // uses them, never changed after.
  void set_main_context(AioContext* ctx) { main_context_ = ctx; }
  AioContext* main_context() const { return main_context_; }
  void set_bql(QemuMutex* bql) { bql_ = bql; }
  QemuMutex* bql() const { return bql_; }
  // QEMU's global_aio_wait.num_waiters (core/aio/aio_wait.h): how many
  // AIO_WAIT_WHILE calls of this world are waiting.
  Atomic<unsigned>* aio_wait_num_waiters() { return &aio_wait_num_waiters_; }

 private:
  Platform* platform_;
  uint32_t switches_;
  AioContext* main_context_ = nullptr;
  QemuMutex* bql_ = nullptr;
  QEMUClock clocks_[QEMU_CLOCK_MAX];
  QemuMutex timerlists_lock_;
  Atomic<unsigned> aio_wait_num_waiters_{0};
};

// Switches of the legacy core, to compare QEMU's code with and without a fix (the
// race catalog in QEMU-SEMANTICS.md §3; docs/switches.md gives each one's commit and
// exact change): AIO_REVERT_* takes out a fix that 2.8.1 has, so its bug comes back;
// AIO_FIX_* applies a later fix to 2.8.1. A set of bits in AioRuntime (every object
// of that world) or AioContextOptions (one context). 0 is QEMU 2.8.1 as shipped.
// Reverts use bits 0..15, later fixes bits 16..31.
enum AioSwitch : uint32_t {
  // R1 (924fe1293c; QEMU 2.1): qemu_bh_schedule loads bh->ctx before the exchange
  // that publishes `scheduled`. Reverted: it loads bh->ctx after the exchange, when
  // the BH may already have run, been deleted and been freed.
  AIO_REVERT_R1 = 1u << 0,
  // R3 (eabc977973; QEMU 2.4): aio_notify writes the eventfd when notify_me counts a
  // poller in its prepare or poll phase. Reverted: 2.1-2.3's ctx->dispatching, set
  // by aio_poll around its dispatch phase; aio_notify skips the eventfd while it is
  // set, whoever else sleeps in poll (the GSource path does not touch it).
  AIO_REVERT_R3 = 1u << 1,
  // R4 (21a03d17f2, 05e514b1d4; QEMU 2.4): the eventfd is cleared by
  // aio_notify_accept after poll and before dispatch. Reverted: no accept; the
  // notifier's own fd handler clears the eventfd during dispatch.
  AIO_REVERT_R4 = 1u << 2,
  // R6 (3c80ca158c; QEMU 2.1): the pool's completion BH schedules itself before each
  // callback (and cancels that after it, b7a745dc33). Reverted: neither. The modern
  // pool has this switch too.
  AIO_REVERT_R6 = 1u << 3,
  // R7 (271c0f68b4, 3391f5e51c; QEMU 2.1, 2.2): bdrv_aio_cancel is cancel_async plus
  // aio_poll until the callback released the ACB. Reverted: 2.0's synchronous pool
  // cancel, which waits on a condition until the worker is done and returns before
  // the completion callback ran.
  AIO_REVERT_R7 = 1u << 4,
  // R16 (7887f6201f, 648fb0ea5e; QEMU 0.15, 1.0): only the outermost aio_bh_poll
  // frees deleted BHs. Reverted: every aio_bh_poll, nested or not, frees them.
  AIO_REVERT_R16 = 1u << 5,
  // R18 (e4efd8a488; QEMU 2.4): a timer list's timers_done_ev starts set. Reverted:
  // it starts unset (a runtime switch: timer lists know their runtime only). The
  // modern timer lists have this switch too.
  AIO_REVERT_R18_DONE_EV = 1u << 6,

  // R8 (ef6dada8b4; QEMU 2.11): qemu_bh_cancel is atomic_mb_set(&scheduled, 0)
  // instead of a plain store. Observable only with a weak memory model.
  AIO_FIX_R8 = 1u << 16,
  // R9 (b37548fcd1; QEMU 3.1): aio_notify_accept only in a blocking aio_poll, and a
  // blocking aio_poll asserts that it runs in the context's home thread.
  AIO_FIX_R9_ACCEPT = 1u << 17,
  // R9 (0dc165c1bd; QEMU 4.0): every aio_poll, blocking or not, asserts that it runs
  // in the context's home thread.
  AIO_FIX_R9_HOME = 1u << 18,
  // R10 (321d1dba8b; QEMU 2.10): aio_enable_external decrements with
  // atomic_fetch_dec and calls aio_notify when the count reaches zero.
  AIO_FIX_R10 = 1u << 19,
  // R12 (5710a3e09f; QEMU 5.0): notify_me is written by a plain read and an atomic
  // store followed by smp_mb (increments) or a store-release (decrements), and
  // aio_notify reads it with atomic_read. Observable only with a weak memory model
  // (and, under sequential consistency, as lost updates where two threads poll one
  // context, which 5.0 forbids: docs/switches.md).
  AIO_FIX_R12 = 1u << 20,
  // R18 (33bef0b994; QEMU 2.9): timerlist_expired compares with <= (as the deadline
  // does) instead of <. A runtime switch.
  AIO_FIX_R18_EXPIRED = 1u << 21,

  // P1 (not in QEMU-SEMANTICS.md's catalog: found by this project's property suites,
  // docs/properties.md): qemu_bh_schedule calls aio_notify even when the BH was
  // already scheduled, as today's aio_bh_enqueue does for every schedule (QEMU 5.0's
  // BH rewrite; util/async.c). In 2.8.1 a qemu_bh_schedule of a BH that
  // qemu_bh_schedule_idle has scheduled finds `scheduled` set and does not notify,
  // so a loop asleep in aio_poll(true) with a timeout computed before the idle
  // schedule sleeps on with a scheduled, no longer idle, BH.
  AIO_FIX_P1 = 1u << 22,
  // Ablations (bits 24 and up) are NOT QEMU, in no version: they take out a lock or
  // barrier that QEMU has always had, to show what it is for (a seed claim's "what
  // breaks if it is removed"). Never set outside scenarios.
  //
  // Not QEMU: an ablation for claim S1. bh_publish (aio_bh_new and
  // aio_bh_schedule_oneshot) inserts at the head of ctx->first_bh without taking
  // bh_lock (the smp_wmb stays).
  AIO_ABLATE_S1_NO_LOCK = 1u << 24,
};

struct AioContextOptions {
  AioGeneration generation = AioGeneration::kLegacy;
  // AioSwitch bits of this context, added to its runtime's.
  uint32_t switches = 0;
  // Shown in logs and reports.
  std::string name = "ctx";
};

// What every generation's AioContext starts with. Each generation derives its own
// (core/aio/legacy/aio_internal.h: QEMU 2.8.1's fields), so this struct holds only
// what the public API and the timers need. `generation` is fixed at creation and
// read by the public functions to reach the generation's code (core/aio/dispatch.cc)
// without a scheduling point: it never changes, so no thread can race on it.
struct AioContext {
  AioRuntime* runtime = nullptr;
  AioGeneration generation = AioGeneration::kLegacy;
  uint32_t switches = 0;  // AioSwitch bits (the runtime's and the options')
  std::string name;

  QEMUTimerListGroup tlg;

 protected:
  AioContext() = default;  // only as part of a generation's context
  ~AioContext() = default;
};

// A bottom half: each generation derives its own (QEMU keeps the struct private to
// async.c). `generation` is written before the BH is published and never again.
struct QEMUBH {
  AioGeneration generation = AioGeneration::kLegacy;

 protected:
  QEMUBH() = default;
  ~QEMUBH() = default;
};

// ---- the BQL ---------------------------------------------------------------------------
// QEMU's bql_lock / bql_unlock / bql_locked (2.8.1: qemu_mutex_lock_iothread and
// qemu_mutex_iothread_locked): the runtime's BQL (AioRuntime::set_bql) and a
// thread-local flag saying that the calling thread holds it. The modern core's
// qemu_get_current_aio_context falls back to the runtime's main context for a BQL
// holder, as QEMU 10's does (a vCPU thread may poll the main context under the BQL).
void bql_lock(AioRuntime* rt);
void bql_unlock(AioRuntime* rt);
// The runtime whose BQL the calling thread holds, or null.
AioRuntime* bql_holder();

// ---- lifecycle -------------------------------------------------------------------------
// Returns nullptr and sets *error (if given) when the platform cannot create the
// event notifier.
AioContext* aio_context_new(AioRuntime* rt, const AioContextOptions& options = {},
                            std::string* error = nullptr);
void aio_context_ref(AioContext* ctx);
// The last unref finalizes: frees the thread pool, requires every BH to be deleted,
// removes the notifier and frees the context.
void aio_context_unref(AioContext* ctx);
// Legacy only: QEMU 9.0 removed aio_context_acquire/release.
void aio_context_acquire(AioContext* ctx);
void aio_context_release(AioContext* ctx);
// Makes `thread` the context's home thread: called by a thread that takes over
// running the context, before its first aio_poll. The thread that creates a context
// is its home thread until then. Legacy records the thread id (3.1's check); modern
// makes the context the calling thread's current AioContext
// (qemu_set_current_aio_context, as iothread_run does), so there `thread` must be
// the calling thread.
void aio_context_set_home_thread(AioContext* ctx, ThreadId thread);
// Whether the calling thread is the context's home thread.
bool in_aio_context_home_thread(AioContext* ctx);
ThreadPool* aio_get_thread_pool(AioContext* ctx);

// ---- bottom halves ---------------------------------------------------------------------
QEMUBH* aio_bh_new(AioContext* ctx, QEMUBHFunc* cb, void* opaque);
// QEMU 5.2+ (name) and 8.1+ (guard): legacy ignores the name and requires no guard.
QEMUBH* aio_bh_new_full(AioContext* ctx, QEMUBHFunc* cb, void* opaque, const char* name,
                        MemReentrancyGuard* reentrancy_guard = nullptr);
// Creates a BH that is scheduled and already deleted: it runs once, then is freed.
void aio_bh_schedule_oneshot(AioContext* ctx, QEMUBHFunc* cb, void* opaque);
void qemu_bh_schedule(QEMUBH* bh);
// Test-only, not QEMU: when set, qemu_bh_schedule reads bh->deleted once more (a
// no-op), as an edit of the code would add a scheduling point; tests use it to check
// that a token recorded before the edit replays as replay-diverged. Never set
// outside tests; read by simulated threads only while no simulation changes it.
extern bool aio_test_extra_bh_read;
// Legacy: schedules without waking the loop; a blocked loop runs it within 10 ms of
// its next timeout computation, or at the next unrelated wakeup. Modern: enqueues
// and notifies, as qemu_bh_schedule does; only its "not progress" and its 10 ms
// timeout remain.
void qemu_bh_schedule_idle(QEMUBH* bh);
void qemu_bh_cancel(QEMUBH* bh);
// Legacy: cancels and marks for freeing by the outermost aio_bh_poll; home thread
// only. Modern: enqueues the BH as deleted (and notifies); whichever aio_bh_poll
// dequeues it frees it, nested or not; any thread.
void qemu_bh_delete(QEMUBH* bh);
// Runs every scheduled BH once; returns 1 if a non-idle BH ran. Home thread.
int aio_bh_poll(AioContext* ctx);
// In ns: 0 if a non-idle BH is scheduled, 10 ms if only idle ones, else the timer
// deadline (-1 = none).
int64_t aio_compute_timeout(AioContext* ctx);

// ---- notification ----------------------------------------------------------------------
void aio_notify(AioContext* ctx);
void aio_notify_accept(AioContext* ctx);

// ---- fd handlers -----------------------------------------------------------------------
// Registers (or, with both callbacks null, removes) the handlers of `fd`.
// Legacy: REQUIRES the caller owns the context (home thread or aio_context_acquire);
// the node is rewritten in place. Modern: any thread; a new node replaces the old
// one (copy-on-write under ctx->list_lock). QEMU 8.2 removed `is_external`: a modern
// context accepts only false.
void aio_set_fd_handler(AioContext* ctx, int fd, bool is_external, IOHandler* io_read,
                        IOHandler* io_write, void* opaque);
void aio_set_event_notifier(AioContext* ctx, EventNotifier* notifier, bool is_external,
                            EventNotifierHandler* io_read);
// QEMU 10's forms, with a poll handler: io_poll is dropped when io_poll_ready is
// null (as QEMU does). On a legacy context both poll callbacks must be null (polling
// came in 2.9).
void aio_set_fd_handler(AioContext* ctx, int fd, IOHandler* io_read, IOHandler* io_write,
                        AioPollFn* io_poll, IOHandler* io_poll_ready, void* opaque);
void aio_set_event_notifier(AioContext* ctx, EventNotifier* notifier,
                            EventNotifierHandler* io_read, AioPollFn* io_poll,
                            EventNotifierHandler* io_poll_ready);
// Modern only (2.9+): adaptive polling's parameters; max_ns 0 (the default) turns
// polling off.
void aio_context_set_poll_params(AioContext* ctx, int64_t max_ns, int64_t grow,
                                 int64_t shrink);
// Legacy only: QEMU 8.2 removed the external-client API.
void aio_disable_external(AioContext* ctx);
void aio_enable_external(AioContext* ctx);
bool aio_external_disabled(AioContext* ctx);
// Whether a node with this is_external flag may be polled and dispatched now.
bool aio_node_check(AioContext* ctx, bool is_external);

// ---- the loop --------------------------------------------------------------------------
bool aio_prepare(AioContext* ctx);
// Whether some fd handler has pending revents to dispatch.
bool aio_pending(AioContext* ctx);
// BHs, then fd handlers (with the revents already collected), then timers. Returns
// whether progress was made (legacy); QEMU 10's aio_dispatch returns nothing, so a
// modern context's returns false.
bool aio_dispatch(AioContext* ctx);
// One iteration: poll fds (blocking: until something happens), then dispatch.
// Returns whether progress was made (a non-idle BH, an fd handler other than the
// context's own notifier, or a timer ran). aio_poll(ctx, false) never blocks.
// Modern: only in the home thread (asserted), and, with adaptive polling on, an
// aio_notify can make it return true with nothing else done (docs/modern-sources.md
// D12).
bool aio_poll(AioContext* ctx, bool blocking);

// ---- the GSource face (async.c's aio_source_funcs) -------------------------------------
// *timeout_ms is -1 for infinite. Returns whether the source is ready.
bool aio_ctx_prepare(AioContext* ctx, int* timeout_ms);
bool aio_ctx_check(AioContext* ctx);
bool aio_ctx_dispatch(AioContext* ctx);
// glib's g_main_context_query and the first half of g_main_context_check, for the
// context's source: appends the fds the source added with g_source_add_poll (every
// registered fd handler, newest first), and copies a poll's revents back to them.
void aio_ctx_query(AioContext* ctx, absl::InlinedVector<PollFd, 8>* fds);
void aio_ctx_set_revents(AioContext* ctx, const PollFd& pfd);

}  // namespace aiosim::core

#endif  // AIOSIM_CORE_AIO_AIO_H_
