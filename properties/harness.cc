// properties/harness.cc — see harness.h. Runs over either generation of the core
// (QEMU 2.8.1's or 10.2's include/block/aio.h API as core/aio/aio.h declares it); the
// model's few white-box views (what is pending, which handler is registered, the
// probes) read each generation's own state (core/aio/legacy/ and core/aio/modern/).
// SPDX-License-Identifier: GPL-2.0-or-later
//
// The model (Judge) works on the log: intervals of operations and points of
// callbacks, in the order the simulator ran them. Its rules, each sound for any
// linearisation of the intervals (a call's effect lies inside its interval, and a
// callback's dequeue lies before its call):
//   C1  a BH runs no more often than it was scheduled (in every prefix of the log);
//       it runs in a thread that is polling the context; a schedule that began after
//       the BH's last run started, and that no cancel could have overtaken, is run at
//       quiescence; each oneshot runs exactly once.
//   C3  after qemu_bh_cancel / qemu_bh_delete returned in the home thread (strict
//       mode: in any thread), the BH runs only for schedules that had not returned
//       when the cancel began; a cancel that a foreign aio_poll may have overlapped
//       guarantees nothing (that poll is a second loop thread).
//   C5  a pool request's callback runs exactly once, in a polling thread, with the
//       function's result or -ECANCELED, and -ECANCELED only if the function never
//       ran; bdrv_aio_cancel returns after the callback ran.
//   C6  a handler is not called after its removal returned unless it was added
//       again (10.2, where any thread may remove one: after a home removal; strict
//       mode: any); a notifier set after its handler's last call is dispatched by
//       quiescence while its handler is registered (and external clients enabled).
//   C7  a timer fires at or after the deadline of a timer_mod that began before the
//       firing, never more often than it was armed, not after a home timer_del that
//       returned unless armed again, and an armed timer fires by quiescence.
//   C2 / C8  the watchdog (harness.h), and the simulator's lost-wakeup detector on the
//       same pending-work predicate, which also names a non-blocking aio_poll that
//       never returned.
#include "properties/harness.h"

#include <algorithm>
#include <deque>
#include <map>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/aio/aio.h"
#include "core/aio/legacy/aio_internal.h"
#include "core/aio/modern/aio_internal.h"
#include "core/aio/qemu_timer.h"
#include "core/aio/thread_pool.h"
#include "scenarios/known_races.h"
#include "sim/sim_platform.h"

namespace aiosim::properties {

using namespace aiosim::core;  // NOLINT

const char* ModeName(Mode mode) {
  switch (mode) {
    case Mode::kDocumented: return "documented";
    case Mode::kStrict: return "strict";
    case Mode::kMisuse: return "misuse";
  }
  return "?";
}

absl::StatusOr<Mode> ParseMode(std::string_view name) {
  for (Mode m : {Mode::kDocumented, Mode::kStrict, Mode::kMisuse}) {
    if (name == ModeName(m)) return m;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown contract mode '", std::string(name.substr(0, 32)),
      "' (expected documented, strict or misuse)"));
}

const char* ProbeName(int probe) {
  switch (probe) {
    case kProbeScheduleWhileWalking: return "bh-scheduled-while-aio_bh_poll-walks";
    case kProbeCancelBeforeCallback: return "cancel-between-exchange-and-callback";
    case kProbeNotifyWhileNotifyMe: return "aio_notify-while-notify_me-changes";
    case kProbeCompletionInNestedPoll: return "pool-completion-in-nested-aio_poll";
    case kProbeTimerInBlockingPoll: return "timer-expires-in-blocking-aio_poll";
    case kProbeHandlerRemovedInDispatch: return "handler-removed-during-dispatch";
  }
  return "?";
}

void ProbeCounts::Add(const ProbeCounts& other) {
  executions += other.executions;
  for (int i = 0; i < kProbeCount; ++i) hits[i] += other.hits[i];
}

sim::ExecOptions PropertyExecOptions() {
  (void)scenarios::LegacyKnownRaces();  // QEMU 2.8's races by design are let through
  sim::ExecOptions o;
  o.race_detection = true;
  o.time_advances_max = 0;
  return o;
}

namespace {

constexpr int kNoThread = -1;    // a pool worker
constexpr int kWatchdog = -2;    // the harness's watchdog thread
constexpr int64_t kMs = 1000 * 1000;
constexpr int kDrainWaitsMax = 64;
constexpr int kPollRetriesMax = 16;

// An operation that ran (or was skipped), as an interval of log positions.
struct OpRecord {
  int thread = 0;
  int index = -1;  // in its thread's list; -1: done by a callback (a remover handler)
  Op op;
  int64_t begin = 0;
  int64_t end = -1;  // -1: has not returned
  int64_t deadline_ns = 0;  // timers
  bool skipped = false;
};

// A callback run (or a pool function's start/end), a point of the log.
struct Point {
  int64_t seq = 0;
  int thread = 0;
  int depth = 0;  // the polls the thread was inside
  int64_t ns = 0;
  int value = 0;  // a pool callback's ret
};

struct World;

struct BhSlot {
  World* w = nullptr;
  int id = 0;
  QEMUBH* bh = nullptr;  // the creator's copy (harness bookkeeping; Peek-like)
  // How other threads get the pointer: a store-release after aio_bh_new and a
  // load-acquire before use, as a real program would hand a BH to another thread
  // (through a lock or a barrier). Without it the race detector sees the BH's
  // initialisation and another thread's first access unordered (a false data race).
  Atomic<QEMUBH*> published{nullptr};
  bool claimed = false;  // an aio_bh_new for it has begun (it has scheduling points)
  bool deleted = false;
  bool nested = false;
  // Its callback deletes it (a one-time work BH): it may be scheduled once, by any
  // thread, and is not cancelled or deleted by anyone else.
  bool self_deleting = false;
  bool scheduled_once = false;
  bool home_owned = false;  // the home thread deletes it: foreign threads leave it alone
  std::vector<Point> runs;
};

struct OneshotSlot {
  World* w = nullptr;
  int op = 0;  // its OpRecord
  std::vector<Point> runs;
};

struct NotifierSlot {
  int id = 0;
  std::unique_ptr<EventNotifier> e;
  int fd = -1;
  bool remover = false;
  std::vector<Point> calls;
};

struct TimerSlot {
  World* w = nullptr;
  int id = 0;
  QEMUTimer* t = nullptr;
  std::vector<Point> fires;
};

struct RequestSlot {
  World* w = nullptr;
  int id = 0;
  BlockAIOCB* acb = nullptr;
  bool submitted = false;
  int waits_for = -1;  // kSubmitWaiting: the request its callback waits for
  bool func_began = false;
  int64_t func_end_seq = -1;
  std::vector<Point> callbacks;
};

struct Violation {
  std::string clause;  // "C3"
  std::string message;
};

thread_local World* t_world = nullptr;

struct World {
  sim::SimContext* c = nullptr;
  HarnessConfig cfg;
  AioRuntime* rt = nullptr;
  AioContext* ctx = nullptr;
  ThreadPool* pool = nullptr;
  std::map<ThreadId, int> thread_of;  // simulated thread -> program thread
  std::vector<int> depth;             // per program thread: polls it is inside
  int64_t seq = 0;
  std::vector<OpRecord> ops;
  std::array<BhSlot, kBhs> bhs;
  std::deque<OneshotSlot> oneshots;
  std::array<NotifierSlot, kNotifiers> notifiers;
  std::array<TimerSlot, kTimers> timers;
  std::array<RequestSlot, kRequests> requests;
  std::vector<std::pair<int64_t, int64_t>> foreign_polls;  // intervals
  std::array<bool, kProbeCount> probe{};
  // qemu_clock_enable (G): timer callbacks in flight, and what the model saw when a
  // qemu_clock_enable(false) returned with one still running (C7). A program with a G
  // gives each timer callback a scheduling point (an atomic store), so another thread
  // can return from qemu_clock_enable(false) while one is in flight.
  bool clock_toggles = false;
  int timer_cbs_running = 0;
  Atomic<int> timer_cb_point{0};
  std::string clock_violation;
  bool foreign_polls_in_program = false;

  // The watchdog.
  std::unique_ptr<EventNotifier> kick;
  QemuSemaphore wd_start{0};
  QemuSemaphore wd_cancel{0};
  bool wd_exit = false;
  bool in_wait = false;       // the home thread is inside a watched aio_poll(true)
  uint64_t wait_serial = 0;   // counts watched waits
  int64_t wait_begin_ns = 0;
  int home_nonblocking_polls = 0;  // inside aio_poll(false) (C8)
  std::vector<int> disabled;       // per program thread: its aio_disable_external calls

  bool modern() const { return cfg.generation == AioGeneration::kModern; }

  // ---- each generation's state, read as an observer (Peek: no scheduling point) ----
  // Whether aio_bh_poll is walking the BHs: 2.8.1's walking_bh; 10.2 has a slice on
  // its stack of slices exactly while aio_bh_poll runs.
  bool BhPollWalking() const {
    if (modern()) return core::modern::of(ctx)->bh_slice_first.Peek() != nullptr;
    return core::legacy::of(ctx)->walking_bh.Peek() > 0;
  }
  // Whether some thread walks the fd handler list: 2.8.1's walking_handlers; 10.2's
  // list_lock count (QemuLockCnt keeps it in units of QEMU_LOCKCNT_COUNT_STEP = 4).
  bool HandlersWalked() const {
    if (modern()) return core::modern::of(ctx)->list_lock.count.Peek() >= 4;
    return core::legacy::of(ctx)->walking_handlers.Peek() > 0;
  }
  unsigned NotifyMe() const {
    if (modern()) return core::modern::of(ctx)->notify_me.Peek();
    return core::legacy::of(ctx)->notify_me.Peek();
  }
  // External clients are disabled (2.8.1 only: 8.2 removed them).
  bool ExternalDisabled() const {
    return !modern() && core::legacy::of(ctx)->external_disable_cnt.Peek() > 0;
  }
  // A BH's schedule state: scheduled at all, and scheduled as idle (10.2: the flag
  // word; a qemu_bh_cancel clears SCHEDULED and leaves the BH on its list).
  bool BhScheduled(const QEMUBH* bh) const {
    if (modern()) {
      return (core::modern::of(const_cast<QEMUBH*>(bh))->flags.Peek() &
              core::modern::BH_SCHEDULED) != 0;
    }
    return core::legacy::of(const_cast<QEMUBH*>(bh))->scheduled.Peek();
  }
  bool BhIdle(const QEMUBH* bh) const {
    if (modern()) {
      return (core::modern::of(const_cast<QEMUBH*>(bh))->flags.Peek() &
              core::modern::BH_IDLE) != 0;
    }
    return core::legacy::of(const_cast<QEMUBH*>(bh))->idle.Peek();
  }
  // Calls fn for every BH that may be pending. 2.8.1 keeps every BH (oneshots too)
  // on ctx->first_bh until it is freed; 10.2 keeps a BH on a list only while it is
  // pending, so the harness asks its own slots for the live BHs, and PendingOneshots
  // counts the oneshots whose aio_bh_schedule_oneshot returned (the enqueue is done)
  // and which have not run.
  template <typename Fn>
  void ForEachLiveBh(Fn fn) const {
    if (!modern()) {
      for (core::legacy::QEMUBH* bh = core::legacy::of(ctx)->first_bh.Peek();
           bh != nullptr; bh = bh->next.Peek()) {
        fn(static_cast<const QEMUBH*>(bh));
      }
      return;
    }
    for (const BhSlot& slot : bhs) {
      if (slot.bh != nullptr && !slot.deleted) fn(static_cast<const QEMUBH*>(slot.bh));
    }
  }
  int PendingOneshots() const {
    int n = 0;
    if (!modern()) return 0;  // on first_bh, counted by ForEachLiveBh
    for (const OneshotSlot& o : oneshots) n += ops[o.op].end >= 0 && o.runs.empty() ? 1 : 0;
    return n;
  }

  int Self() const {
    auto it = thread_of.find(c->platform().threads().Current());
    return it == thread_of.end() ? kNoThread : it->second;
  }
  int Depth(int thread) const { return thread >= 0 ? depth[thread] : 0; }
  int64_t Now() { return c->execution().NowNs(); }
  Point Here(int value = 0) {
    const int t = Self();
    return Point{seq++, t, Depth(t), Now(), value};
  }
  int Begin(int thread, int index, const Op& op) {
    OpRecord r;
    r.thread = thread;
    r.index = index;
    r.op = op;
    r.begin = seq++;
    ops.push_back(std::move(r));
    return static_cast<int>(ops.size()) - 1;
  }
  void End(int rec) { ops[rec].end = seq++; }
  // `why` is for the reader of the call site; the model only needs that it was skipped.
  void Skip(int rec, std::string_view /*why*/) {
    ops[rec].skipped = true;
    ops[rec].end = seq++;
  }

  // ---- pending work (no scheduling points: Peek only) ------------------------------
  bool Registered(int fd, bool* external) const {
    if (modern()) {
      // A node on ctx->aio_handlers that is also on the deleted list was removed
      // while the list was walked (10.2's aio_remove_fd_handler).
      for (core::modern::AioHandler* n = core::modern::of(ctx)->aio_handlers.Peek();
           n != nullptr; n = n->node_next.Peek()) {
        if (n->fd == fd && !n->on_deleted.Peek()) {
          if (external != nullptr) *external = false;
          return true;
        }
      }
      return false;
    }
    for (core::legacy::AioHandler* n = core::legacy::of(ctx)->aio_handlers.Peek();
         n != nullptr; n = n->next.Peek()) {
      if (n->fd == fd && !n->deleted.Peek()) {
        if (external != nullptr) *external = n->is_external.Peek();
        return true;
      }
    }
    return false;
  }
  // Whether the BH's current `scheduled` may come from a qemu_bh_schedule_idle: one
  // that was in flight or returned after the BH's last run began, with no
  // qemu_bh_schedule begun after it returned (that one would have cleared idle and
  // found `scheduled` set: it owes the notify, as P1 shows).
  bool IdleScheduleSinceLastRun(const QEMUBH* bh) const {
    for (const BhSlot& slot : bhs) {
      if (slot.bh != bh) continue;
      const int64_t last_run = slot.runs.empty() ? -1 : slot.runs.back().seq;
      for (const OpRecord& idle : ops) {
        if (idle.skipped || idle.op.code != OpCode::kScheduleIdle ||
            idle.op.obj != slot.id || (idle.end >= 0 && idle.end < last_run)) {
          continue;
        }
        bool later_schedule = false;
        for (const OpRecord& r : ops) {
          later_schedule |= !r.skipped && r.op.code == OpCode::kSchedule &&
                            r.op.obj == slot.id && idle.end >= 0 && r.begin > idle.end;
        }
        if (!later_schedule) return true;
      }
    }
    return false;
  }
  std::string Pending() {
    std::vector<std::string> what;
    // An idle BH is not pending work: qemu_bh_schedule_idle does not wake a sleeping
    // loop (it runs within 10 ms of the loop's next timeout computation).
    // Nor is a BH that a qemu_bh_schedule_idle may have scheduled after its last run:
    // 2.8.1's idle schedule stores idle = 1 and then scheduled = 1, so a concurrent
    // qemu_bh_schedule's idle = 0 can land between them, and the BH ends up scheduled
    // by the idle call (no notify, by design) with idle clear.
    // (10.2's idle schedule ORs IDLE and SCHEDULED in at once, and its notify makes
    // a sleeping loop compute a 10 ms timeout: an idle BH is not pending there either.)
    int scheduled = PendingOneshots();
    ForEachLiveBh([&](const QEMUBH* bh) {
      if (BhScheduled(bh) && !BhIdle(bh) && (modern() || !IdleScheduleSinceLastRun(bh))) {
        ++scheduled;
      }
    });
    if (scheduled > 0) what.push_back(absl::StrCat(scheduled, " BH(s) scheduled"));
    auto* poller = &static_cast<sim::SimPlatform&>(c->platform()).sim_poller();
    for (const NotifierSlot& n : notifiers) {
      bool external = false;
      sim::SimFd* f = poller->Find(n.fd);
      if (f != nullptr && f->counter > 0 && Registered(n.fd, &external) &&
          (!external || !ExternalDisabled())) {
        what.push_back(absl::StrCat("notifier e", n.id, " is set and its handler registered"));
      }
    }
    for (const RequestSlot& r : requests) {
      if (r.func_end_seq >= 0 && r.callbacks.empty()) {
        what.push_back(absl::StrCat("request p", r.id,
                                    "'s function returned but its callback has not run"));
      }
    }
    const int64_t now = Now();
    for (const TimerSlot& t : timers) {
      const int64_t expire = t.t->expire_time.Peek();
      if (expire >= 0 && expire <= now) {
        what.push_back(absl::StrFormat("timer t%d expired at %d ms and has not fired",
                                       t.id, expire / kMs));
      }
    }
    if (home_nonblocking_polls > 0) {
      what.push_back("C8: the home thread's aio_poll(ctx, false) has not returned");
    }
    return absl::StrJoin(what, "; ");
  }
  // What the drain still waits for ("" when quiescent): pending work, idle BHs, armed
  // timers, requests not yet completed.
  std::string Busy() {
    std::string what = Pending();
    auto add = [&](const std::string& s) { what += (what.empty() ? "" : "; ") + s; };
    ForEachLiveBh([&](const QEMUBH* bh) {
      if (BhScheduled(bh) && BhIdle(bh)) add("an idle BH is scheduled");
    });
    for (const TimerSlot& t : timers) {
      if (t.t->expire_time.Peek() >= 0) {
        add(absl::StrFormat("timer t%d is armed for %d ms (now %d ms)", t.id,
                            t.t->expire_time.Peek() / kMs, Now() / kMs));
      }
    }
    for (const RequestSlot& r : requests) {
      if (r.submitted && r.callbacks.empty()) {
        add(absl::StrFormat("request p%d has not completed (its function %s)", r.id,
                            r.func_end_seq >= 0 ? "returned"
                            : r.func_began      ? "is running"
                                                : "has not started"));
      }
    }
    // Every worker back in its idle wait: a worker that finished a request schedules
    // the completion BH afterwards (2.8.1's worker_thread), and a completion BH's rescan
    // may already have completed that request, so "every callback ran" is not yet
    // quiescence — the trailing qemu_bh_schedule lands later. Judged under pool->lock,
    // where the worker makes its schedule and counts itself idle again.
    if (pool != nullptr) {
      const ThreadPoolStats st = thread_pool_stats(pool);
      if (st.cur_threads != st.idle_threads || st.new_threads != 0 ||
          st.pending_threads != 0) {
        add(absl::StrFormat("the pool is not settled (%d workers, %d idle, %d to start)",
                            st.cur_threads, st.idle_threads,
                            st.new_threads + st.pending_threads));
      }
    }
    return what;
  }

  // ---- polls ------------------------------------------------------------------------
  bool Poll(bool blocking) {
    const int t = Self();
    if (t >= 0) depth[t]++;
    const bool home = t == 0;
    if (home && !blocking) home_nonblocking_polls++;
    const bool progress = aio_poll(ctx, blocking);
    if (home && !blocking) home_nonblocking_polls--;
    if (t >= 0) depth[t]--;
    return progress;
  }
  // A wakeup the home thread's current watched wait is owed (C2): an operation of a
  // foreign thread that called aio_notify while that wait was in its poll phase
  // (notify_me >= 2: the home thread's aio_poll(true) had counted itself in, and in
  // property programs no other thread polls blocking), and that returned. Such a
  // wait must return even if another thread has meanwhile done the work.
  struct OwedWake {
    int op = 0;
    uint64_t wait = 0;
  };
  std::vector<OwedWake> owed;
  std::string OwedText() {
    for (const OwedWake& o : owed) {
      if (o.wait == wait_serial && ops[o.op].end >= 0) {
        return absl::StrFormat("%s notified while it slept (notify_me >= 2)",
                               OpText(ops[o.op].op) + " in thread " +
                                   ThreadName(ops[o.op].thread));
      }
    }
    return "";
  }
  // A blocking aio_poll of the home thread, under the watchdog.
  bool WatchedWait() {
    in_wait = true;
    wait_serial++;
    wait_begin_ns = Now();
    qemu_sem_post(&wd_start);
    const bool progress = Poll(true);
    in_wait = false;
    qemu_sem_post(&wd_cancel);
    return progress;
  }
  void WatchdogThread() {
    for (;;) {
      qemu_sem_wait(&wd_start);
      if (wd_exit) return;
      const uint64_t serial = wait_serial;
      if (qemu_sem_timedwait(&wd_cancel, kWatchdogMs) == 0) continue;
      if (in_wait && serial == wait_serial) {
        // Every thread is blocked (time never jumps otherwise in property runs).
        std::string pending = Pending();
        if (const std::string owed_text = OwedText(); !owed_text.empty()) {
          pending = pending.empty() ? owed_text : pending + "; " + owed_text;
        }
        if (!pending.empty()) {
          c->execution().Fail(
              sim::FailureKind::kLostWakeup,
              absl::StrCat("C2: a wakeup was lost: the home thread's aio_poll(ctx, true) "
                           "slept ",
                           kWatchdogMs, " ms of virtual time with every thread blocked, "
                           "while work was pending: ",
                           pending),
              c->execution().DescribeThreads(), "properties:C2");
        }
        event_notifier_set(kick.get());  // nothing to do: C8 allows sleeping; go on
      }
      qemu_sem_wait(&wd_cancel);
    }
  }

  // ---- one operation ----------------------------------------------------------------
  bool Foreign(int thread) const { return thread != 0; }
  // Under aio_context_acquire if `lock`, on 2.8.1 (9.0 removed the context lock).
  void Acquired(bool lock, const std::function<void()>& fn) {
    lock &= !modern();
    if (lock) aio_context_acquire(ctx);
    fn();
    if (lock) aio_context_release(ctx);
  }
  void Run(int thread, int index, const Op& op);
  // The home thread's leading creations and registrations (aio_bh_new,
  // aio_set_event_notifier) run before the foreign threads start, as a device sets up
  // its BHs and handlers before its threads run.
  size_t SetupOps() const {
    const auto& home = cfg.program.threads[0];
    size_t n = 0;
    while (n < home.size()) {
      const OpCode c = home[n].code;
      if (c != OpCode::kBhNew && c != OpCode::kBhNewNested &&
          c != OpCode::kBhNewSelfDeleting && c != OpCode::kFdAdd &&
          c != OpCode::kFdAddExternal && c != OpCode::kFdAddRemover) {
        break;
      }
      ++n;
    }
    return n;
  }
  void RunThread(int thread, size_t from = 0, size_t to = SIZE_MAX) {
    const auto& list = cfg.program.threads[thread];
    for (size_t i = from; i < list.size() && i < to; ++i) {
      Run(thread, static_cast<int>(i), list[i]);
    }
  }
  Violation Judge();
  void Probes();
};

// ---- callbacks ----------------------------------------------------------------------

void BhCallback(void* opaque) {
  auto* s = static_cast<BhSlot*>(opaque);
  World* w = s->w;
  s->runs.push_back(w->Here());
  if (s->nested) w->Poll(false);  // a nested aio_poll, as a BH that drains would
  if (s->self_deleting) {
    s->deleted = true;
    qemu_bh_delete(s->bh);  // in the polling thread, which owns the context now
  }
}

void OneshotCallback(void* opaque) {
  auto* s = static_cast<OneshotSlot*>(opaque);
  s->runs.push_back(s->w->Here());
}

void NotifierHandler(EventNotifier* e) {
  World* w = t_world;
  for (NotifierSlot& n : w->notifiers) {
    if (n.e.get() != e) continue;
    // The call is logged after its clear: a set that began before the clear may be
    // the one it consumed; one that began after must be dispatched again.
    (void)event_notifier_test_and_clear(e);
    n.calls.push_back(w->Here());
    if (n.remover) {
      // Removes the other notifier's handler if it is registered, else its own.
      NotifierSlot& other =
          w->Registered(w->notifiers[1 - n.id].fd, nullptr) ? w->notifiers[1 - n.id] : n;
      if (w->Registered(other.fd, nullptr)) {
        if (w->HandlersWalked()) {
          w->probe[kProbeHandlerRemovedInDispatch] = true;
        }
        const int rec = w->Begin(w->Self(), -1, Op{OpCode::kFdRemove, other.id, 0});
        aio_set_event_notifier(w->ctx, other.e.get(), false, nullptr);
        w->End(rec);
      }
    }
    return;
  }
}

void KickHandler(EventNotifier* e) { (void)event_notifier_test_and_clear(e); }

void TimerCallback(void* opaque) {
  auto* s = static_cast<TimerSlot*>(opaque);
  World* w = s->w;
  const Point p = w->Here();
  if (w->in_wait && p.thread == 0 && w->wait_begin_ns < p.ns) {
    w->probe[kProbeTimerInBlockingPoll] = true;
  }
  s->fires.push_back(p);
  if (w->clock_toggles) {
    w->timer_cbs_running++;
    w->timer_cb_point.Store(s->id, MemOrder::kRelaxed);  // a point inside the callback
    w->timer_cbs_running--;
  }
}

int RequestFunc(void* opaque) {
  auto* r = static_cast<RequestSlot*>(opaque);
  r->func_began = true;
  const int ret = 100 + r->id;
  r->func_end_seq = r->w->seq++;
  return ret;
}

void RequestCallback(void* opaque, int ret) {
  auto* r = static_cast<RequestSlot*>(opaque);
  World* w = r->w;
  const Point p = w->Here(ret);
  if (p.depth >= 2) w->probe[kProbeCompletionInNestedPoll] = true;
  r->callbacks.push_back(p);
  // A callback that waits for another request's completion with a nested blocking
  // aio_poll (as a block driver's completion that drains does; R6). Only in the home
  // thread: 3.1 and later forbid a blocking aio_poll elsewhere.
  if (r->waits_for >= 0 && p.thread == 0) {
    const RequestSlot& other = w->requests[r->waits_for];
    for (int i = 0; i < 64 && other.submitted && other.callbacks.empty(); ++i) {
      w->Poll(true);
    }
  }
}

// ---- operations ---------------------------------------------------------------------

bool WakesLoop(OpCode code) {
  switch (code) {
    case OpCode::kSchedule:
    case OpCode::kOneshot:
    case OpCode::kNotify:
    case OpCode::kSet:
    case OpCode::kTimerMod:
    case OpCode::kTimerAnticipate:
      return true;
    default:
      return false;
  }
}

void World::Run(int thread, int index, const Op& op) {
  const int rec = Begin(thread, index, op);
  const bool foreign = Foreign(thread);
  const uint32_t notify_me_before = NotifyMe();
  // aio_notify is certain for a oneshot and a notify; for a schedule, in 2.8.1 when
  // the BH was not scheduled (its exchange then returns 0, or another schedule's
  // did); in 10.2 always (aio_bh_enqueue notifies on every call, the idle one too).
  // Recorded at the end, if the operation ran (was not skipped).
  const bool schedule = op.code == OpCode::kSchedule ||
                        (modern() && op.code == OpCode::kScheduleIdle);
  const bool owes = foreign && in_wait && notify_me_before >= 2 &&
                    (op.code == OpCode::kOneshot || op.code == OpCode::kNotify ||
                     (schedule && bhs[op.obj].bh != nullptr &&
                      (modern() || !BhScheduled(bhs[op.obj].bh))));
  const uint64_t owes_wait = wait_serial;
  const bool walking_before = BhPollWalking();
  auto bh_slot = [&]() -> BhSlot* {
    BhSlot& s = bhs[op.obj];
    if (s.published.Load(MemOrder::kAcquire) == nullptr) {
      Skip(rec, "the BH was not created yet");
      return nullptr;
    }
    if (s.deleted) {
      Skip(rec, "the BH was deleted");
      return nullptr;
    }
    if (foreign && s.home_owned) {
      Skip(rec, "the home thread deletes this BH: foreign threads leave it alone");
      return nullptr;
    }
    if (s.self_deleting) {
      if (op.code == OpCode::kCancel || op.code == OpCode::kDelete) {
        Skip(rec, "the BH deletes itself when it runs: nobody else cancels or deletes it");
        return nullptr;
      }
      if (s.scheduled_once) {
        Skip(rec, "the BH deletes itself when it runs: it is scheduled once");
        return nullptr;
      }
      s.scheduled_once = true;
    }
    return &s;
  };
  switch (op.code) {
    case OpCode::kBhNew:
    case OpCode::kBhNewNested:
    case OpCode::kBhNewSelfDeleting: {
      BhSlot& s = bhs[op.obj];
      if (s.claimed) {
        Skip(rec, "the BH exists already");
        return;
      }
      s.claimed = true;
      s.nested = op.code == OpCode::kBhNewNested;
      s.self_deleting = op.code == OpCode::kBhNewSelfDeleting;
      s.bh = aio_bh_new_full(ctx, BhCallback, &s, "bh");
      s.published.Store(s.bh, MemOrder::kRelease);
      break;
    }
    case OpCode::kSchedule:
      if (BhSlot* s = bh_slot()) qemu_bh_schedule(s->bh); else return;
      break;
    case OpCode::kScheduleIdle:
      if (BhSlot* s = bh_slot()) qemu_bh_schedule_idle(s->bh); else return;
      break;
    case OpCode::kCancel:
      if (BhSlot* s = bh_slot()) qemu_bh_cancel(s->bh); else return;
      break;
    case OpCode::kDelete:
      if (BhSlot* s = bh_slot()) {
        // Marked first: 10.2's poll may free the BH before qemu_bh_delete returns,
        // and the observer's views must not read it after that.
        s->deleted = true;
        qemu_bh_delete(s->bh);
      } else {
        return;
      }
      break;
    case OpCode::kOneshot: {
      OneshotSlot& s = oneshots.emplace_back();
      s.w = this;
      s.op = rec;
      aio_bh_schedule_oneshot(ctx, OneshotCallback, &s);
      break;
    }
    case OpCode::kPoll:
      if (foreign && modern()) {
        Skip(rec, "10.2's aio_poll asserts the home thread (4.0)");
        return;
      }
      if (foreign) {
        depth[thread]++;
        aio_context_acquire(ctx);
        const int64_t from = seq;
        aio_poll(ctx, false);
        foreign_polls.emplace_back(from, seq);
        aio_context_release(ctx);
        depth[thread]--;
      } else {
        Poll(false);
      }
      break;
    case OpCode::kWait:
      if (foreign) {
        Skip(rec, "aio_poll(ctx, true) is for the home thread here");
        return;
      }
      WatchedWait();
      break;
    case OpCode::kNotify:
      aio_notify(ctx);
      break;
    case OpCode::kFdAdd:
    case OpCode::kFdAddExternal:
    case OpCode::kFdAddRemover: {
      NotifierSlot& n = notifiers[op.obj];
      if (modern() && op.code == OpCode::kFdAddExternal) {
        Skip(rec, "external clients were removed in QEMU 8.2");
        return;
      }
      // Home: under aio_context_acquire, as 2.8 asks of whoever changes a context that
      // a second thread may poll. A foreign call (misuse) is made bare.
      Acquired(!foreign, [&] {
        n.remover = op.code == OpCode::kFdAddRemover;
        aio_set_event_notifier(ctx, n.e.get(), op.code == OpCode::kFdAddExternal,
                               NotifierHandler);
      });
      break;
    }
    case OpCode::kFdRemove: {
      NotifierSlot& n = notifiers[op.obj];
      Acquired(!foreign, [&] { aio_set_event_notifier(ctx, n.e.get(), false, nullptr); });
      break;
    }
    case OpCode::kSet:
      event_notifier_set(notifiers[op.obj].e.get());
      break;
    case OpCode::kDisableExternal:
      if (modern()) {
        Skip(rec, "external clients were removed in QEMU 8.2");
        return;
      }
      disabled[thread]++;
      aio_disable_external(ctx);
      break;
    case OpCode::kEnableExternal:
      // Each thread enables what it disabled (bdrv_drained_begin/end pair up).
      if (disabled[thread] == 0) {
        Skip(rec, "this thread has not disabled external clients");
        return;
      }
      disabled[thread]--;
      aio_enable_external(ctx);
      break;
    case OpCode::kTimerMod:
    case OpCode::kTimerAnticipate: {
      TimerSlot& t = timers[op.obj];
      const int64_t deadline = Now() + op.arg * kMs;
      ops[rec].deadline_ns = deadline;
      if (op.code == OpCode::kTimerMod) {
        timer_mod_ns(t.t, deadline);
      } else {
        timer_mod_anticipate_ns(t.t, deadline);
      }
      break;
    }
    case OpCode::kTimerDel:
      timer_del(timers[op.obj].t);
      break;
    case OpCode::kClockToggle:
      if (foreign) {
        Skip(rec, "qemu_clock_enable is for the home thread here (QEMU's main loop)");
        return;
      }
      // timers_done_ev's promise (3c05341157): once qemu_clock_enable(false) returns,
      // no callback of that clock is running in any thread.
      qemu_clock_enable(rt, QEMU_CLOCK_REALTIME, false);
      if (timer_cbs_running > 0 && clock_violation.empty()) {
        clock_violation = absl::StrFormat(
            "qemu_clock_enable(QEMU_CLOCK_REALTIME, false) (home op %d) returned while a "
            "timer callback was running",
            index + 1);
      }
      qemu_clock_enable(rt, QEMU_CLOCK_REALTIME, true);
      break;
    case OpCode::kSubmit:
    case OpCode::kSubmitWaiting: {
      RequestSlot& r = requests[op.obj];
      if (r.submitted) {
        Skip(rec, "the request was submitted already");
        return;
      }
      r.submitted = true;
      if (op.code == OpCode::kSubmitWaiting) r.waits_for = op.obj == 0 ? 1 : 0;
      Acquired(!foreign, [&] {
        if (pool == nullptr) pool = aio_get_thread_pool(ctx);
        r.acb = thread_pool_submit_aio(pool, RequestFunc, &r, RequestCallback, &r);
      });
      break;
    }
    case OpCode::kPoolCancelAsync:
    case OpCode::kPoolCancel: {
      RequestSlot& r = requests[op.obj];
      if (modern() && op.code == OpCode::kPoolCancel) {
        Skip(rec, "10.2's pool request has no get_aio_context (8.0): bdrv_aio_cancel aborts");
        return;
      }
      bool done = false;
      Acquired(!foreign, [&] {
        // Not submitted, its submit not returned yet (another thread's, in misuse
        // mode), or completed: nothing to cancel.
        if (!r.submitted || r.acb == nullptr || !r.callbacks.empty()) {
          done = true;
          return;
        }
        if (op.code == OpCode::kPoolCancelAsync) {
          bdrv_aio_cancel_async(r.acb);
        } else {
          if (thread >= 0) depth[thread]++;  // it polls until the callback ran
          bdrv_aio_cancel(r.acb);
          if (thread >= 0) depth[thread]--;
        }
      });
      if (done) {
        Skip(rec, !r.submitted      ? "the request was not submitted"
                  : r.acb == nullptr ? "the request's submit has not returned"
                                     : "the request has completed");
        return;
      }
      break;
    }
    case OpCode::kCount:
      break;
  }
  if (foreign && WakesLoop(op.code)) {
    if (NotifyMe() != notify_me_before)
      probe[kProbeNotifyWhileNotifyMe] = true;
  }
  if (foreign &&
      (op.code == OpCode::kSchedule || op.code == OpCode::kScheduleIdle ||
       op.code == OpCode::kOneshot) &&
      (walking_before || BhPollWalking())) {
    probe[kProbeScheduleWhileWalking] = true;
  }
  if (owes) owed.push_back({rec, owes_wait});
  End(rec);
}

// ---- the model ----------------------------------------------------------------------

std::string Where(const OpRecord& r) {
  if (r.index < 0) {
    return absl::StrFormat("%s (in a handler, thread %s)", OpText(r.op),
                           ThreadName(r.thread));
  }
  return absl::StrFormat("%s (thread %s, step %d)", OpText(r.op), ThreadName(r.thread),
                         r.index + 1);
}

std::string ThreadText(int thread) {
  if (thread == kNoThread) return "a pool worker";
  if (thread == kWatchdog) return "the watchdog";
  return absl::StrCat("thread ", ThreadName(thread));
}

Violation World::Judge() {
  if (!clock_violation.empty()) return {"C7", clock_violation};
  const bool strict = cfg.mode == Mode::kStrict;
  auto overlaps_foreign_poll = [&](int64_t from, int64_t to) {
    for (const auto& [b, e] : foreign_polls) {
      if (b <= to && e >= from) return true;
    }
    return false;
  };
  // Operations on object `obj` of kind `kind` that were not skipped.
  auto ops_on = [&](std::initializer_list<OpCode> codes, int obj) {
    std::vector<const OpRecord*> out;
    for (const OpRecord& r : ops) {
      if (r.skipped || r.op.obj != obj) continue;
      if (std::find(codes.begin(), codes.end(), r.op.code) != codes.end()) out.push_back(&r);
    }
    return out;
  };
  const int64_t kNever = INT64_MAX;
  auto end_of = [&](const OpRecord* r) { return r->end < 0 ? kNever : r->end; };

  // C1 and C3: bottom halves.
  for (const BhSlot& s : bhs) {
    const auto scheds = ops_on({OpCode::kSchedule, OpCode::kScheduleIdle}, s.id);
    const auto cancels = ops_on({OpCode::kCancel, OpCode::kDelete}, s.id);
    for (size_t i = 0; i < s.runs.size(); ++i) {
      const Point& run = s.runs[i];
      size_t begun = 0;
      for (const OpRecord* sc : scheds) begun += sc->begin < run.seq ? 1 : 0;
      if (i + 1 > begun) {
        return {"C1", absl::StrFormat("BH b%d ran %d times (run %d in %s) but had been "
                                      "scheduled only %d times",
                                      s.id, i + 1, i + 1, ThreadText(run.thread), begun)};
      }
      if (run.depth == 0) {
        return {"C1", absl::StrFormat("BH b%d ran in %s, which was not polling the context",
                                      s.id, ThreadText(run.thread))};
      }
    }
    for (const OpRecord* cancel : cancels) {
      if (cancel->end < 0) continue;
      const bool home = cancel->thread == 0;
      if (!home && !strict) continue;
      if (overlaps_foreign_poll(cancel->begin, cancel->end)) continue;
      size_t used = 0;
      for (const Point& run : s.runs) {
        if (run.seq <= cancel->end) continue;
        ++used;
        size_t allowed = 0;
        for (const OpRecord* sc : scheds) {
          allowed += end_of(sc) > cancel->begin && sc->begin < run.seq ? 1 : 0;
        }
        if (used > allowed) {
          return {"C3",
                  absl::StrFormat("BH b%d's callback ran in %s after %s had returned, with "
                                  "no schedule since%s",
                                  s.id, ThreadText(run.thread), Where(*cancel),
                                  home ? "" : " (strict mode: a foreign cancel is judged "
                                              "as a home one)")};
        }
      }
    }
    // Probe: a cancel returned and then the BH ran for a schedule from before it.
    for (const OpRecord* cancel : cancels) {
      for (const Point& run : s.runs) {
        if (cancel->end < 0 || run.seq <= cancel->end) continue;
        bool newer = false;
        for (const OpRecord* sc : scheds) newer |= sc->begin > cancel->begin && sc->begin < run.seq;
        if (!newer) probe[kProbeCancelBeforeCallback] = true;
      }
    }
    if (s.deleted || s.bh == nullptr) continue;
    const int64_t last_run = s.runs.empty() ? -1 : s.runs.back().seq;
    for (const OpRecord* sc : scheds) {
      if (sc->begin <= last_run) continue;
      bool cancelled = false;
      for (const OpRecord* cancel : cancels) cancelled |= end_of(cancel) > sc->begin;
      if (!cancelled) {
        return {"C1", absl::StrFormat("BH b%d was scheduled by %s after its last run began, "
                                      "was never cancelled, and never ran again",
                                      s.id, Where(*sc))};
      }
    }
  }
  for (const OneshotSlot& o : oneshots) {
    if (o.runs.size() != 1) {
      return {"C1", absl::StrFormat("the oneshot BH of %s ran %d times (expected once)",
                                    Where(ops[o.op]), o.runs.size())};
    }
    if (o.runs[0].depth == 0) {
      return {"C1", absl::StrFormat("the oneshot BH of %s ran in %s, which was not polling",
                                    Where(ops[o.op]), ThreadText(o.runs[0].thread))};
    }
  }

  // C5: pool requests.
  for (const RequestSlot& r : requests) {
    if (!r.submitted) continue;
    if (r.callbacks.size() != 1) {
      return {"C5", absl::StrFormat("request p%d's callback ran %d times (expected once)",
                                    r.id, r.callbacks.size())};
    }
    const Point& cb = r.callbacks[0];
    if (cb.value != 100 + r.id && cb.value != -ECANCELED) {
      return {"C5", absl::StrFormat("request p%d's callback got ret=%d (expected %d or "
                                    "-ECANCELED)",
                                    r.id, cb.value, 100 + r.id)};
    }
    if (cb.value == -ECANCELED && r.func_began) {
      return {"C5", absl::StrFormat("request p%d completed with -ECANCELED although its "
                                    "function ran",
                                    r.id)};
    }
    if (cb.depth == 0) {
      return {"C5", absl::StrFormat("request p%d's callback ran in %s, which was not "
                                    "polling the context",
                                    r.id, ThreadText(cb.thread))};
    }
    for (const OpRecord* c : ops_on({OpCode::kPoolCancel}, r.id)) {
      if (c->end >= 0 && cb.seq > c->end) {
        return {"C5", absl::StrFormat("%s returned before request p%d's callback ran",
                                      Where(*c), r.id)};
      }
    }
  }

  // C6: fd handlers.
  for (const NotifierSlot& n : notifiers) {
    const auto adds = ops_on({OpCode::kFdAdd, OpCode::kFdAddExternal, OpCode::kFdAddRemover}, n.id);
    const auto removes = ops_on({OpCode::kFdRemove}, n.id);
    for (const Point& call : n.calls) {
      if (call.depth == 0) {
        return {"C6", absl::StrFormat("notifier e%d's handler ran in %s, which was not "
                                      "polling the context",
                                      n.id, ThreadText(call.thread))};
      }
      for (const OpRecord* rm : removes) {
        if (rm->end < 0 || call.seq <= rm->end) continue;
        // 10.2 lets any thread remove a handler, but a dispatch already past its
        // node_deleted check still calls it (as a timer callback outlives timer_del):
        // only a home removal is final there, as for C3; strict mode judges a foreign
        // one too.
        if (modern() && rm->thread != 0 && !strict) continue;
        bool added = false;
        for (const OpRecord* a : adds) added |= end_of(a) > rm->begin && a->begin < call.seq;
        if (!added) {
          return {"C6", absl::StrFormat("notifier e%d's handler was called in %s after %s "
                                        "had returned",
                                        n.id, ThreadText(call.thread), Where(*rm))};
        }
      }
    }
    bool external = false;
    if (!Registered(n.fd, &external)) continue;
    if (external && ExternalDisabled()) continue;
    const int64_t last_call = n.calls.empty() ? -1 : n.calls.back().seq;
    for (const OpRecord* set : ops_on({OpCode::kSet}, n.id)) {
      if (set->begin <= last_call) continue;
      bool later_registration = true;
      for (const OpRecord* rm : removes) later_registration &= end_of(rm) < set->begin;
      if (!later_registration) continue;  // removed meanwhile; registered again later
      return {"C6", absl::StrFormat("notifier e%d was set by %s and its handler is "
                                    "registered, but it was never dispatched",
                                    n.id, Where(*set))};
    }
  }

  // C7: timers.
  for (const TimerSlot& t : timers) {
    const auto mods = ops_on({OpCode::kTimerMod, OpCode::kTimerAnticipate}, t.id);
    const auto dels = ops_on({OpCode::kTimerDel}, t.id);
    for (size_t i = 0; i < t.fires.size(); ++i) {
      const Point& fire = t.fires[i];
      size_t begun = 0;
      int64_t earliest = INT64_MAX;
      for (const OpRecord* m : mods) {
        if (m->begin < fire.seq) {
          ++begun;
          earliest = std::min(earliest, m->deadline_ns);
        }
      }
      if (i + 1 > begun) {
        return {"C7", absl::StrFormat("timer t%d fired %d times but was armed only %d times",
                                      t.id, i + 1, begun)};
      }
      if (fire.ns < earliest) {
        return {"C7", absl::StrFormat("timer t%d fired early: at %d ms, before the earliest "
                                      "deadline asked, %d ms",
                                      t.id, fire.ns / kMs, earliest / kMs)};
      }
      if (fire.depth == 0) {
        return {"C7", absl::StrFormat("timer t%d fired in %s, which was not polling",
                                      t.id, ThreadText(fire.thread))};
      }
      for (const OpRecord* d : dels) {
        if (d->thread != 0 || d->end < 0 || fire.seq <= d->end) continue;
        if (overlaps_foreign_poll(d->begin, d->end)) continue;
        bool armed = false;
        for (const OpRecord* m : mods) armed |= end_of(m) > d->begin && m->begin < fire.seq;
        if (!armed) {
          return {"C7", absl::StrFormat("timer t%d fired after %s had returned",
                                        t.id, Where(*d))};
        }
      }
    }
    const int64_t last_fire = t.fires.empty() ? -1 : t.fires.back().seq;
    const OpRecord* last_mod = nullptr;
    for (const OpRecord* m : mods) {
      if (last_mod == nullptr || m->begin > last_mod->begin) last_mod = m;
    }
    if (last_mod != nullptr && last_mod->begin > last_fire) {
      bool deleted = false;
      for (const OpRecord* d : dels) deleted |= end_of(d) > last_mod->begin;
      if (!deleted) {
        return {"C7", absl::StrFormat("timer t%d was armed by %s and never fired", t.id,
                                      Where(*last_mod))};
      }
    }
  }
  return {};
}

}  // namespace

sim::Body MakeBody(HarnessConfig config, std::shared_ptr<ProbeCounts> probes) {
  return [config = std::move(config), probes](sim::SimContext& c) {
    AioRuntime rt(&c.platform(), config.switches);
    AioContextOptions ctx_options;
    ctx_options.generation = config.generation;
    AioContext* ctx = aio_context_new(&rt, ctx_options);
    World w;
    w.c = &c;
    w.cfg = config;
    w.rt = &rt;
    w.ctx = ctx;
    World* const saved_world = t_world;
    t_world = &w;
    const int n_threads = static_cast<int>(config.program.threads.size());
    w.depth.assign(n_threads, 0);
    w.disabled.assign(n_threads, 0);
    w.thread_of[c.platform().threads().Current()] = 0;
    for (int i = 0; i < kBhs; ++i) {
      w.bhs[i].w = &w;
      w.bhs[i].id = i;
    }
    for (const Op& op : config.program.threads[0]) {
      if (op.code == OpCode::kDelete) w.bhs[op.obj].home_owned = true;
      if (op.code == OpCode::kClockToggle) w.clock_toggles = true;
    }
    for (int i = 0; i < kNotifiers; ++i) {
      w.notifiers[i].id = i;
      w.notifiers[i].e = c.platform().poller().NewEventNotifier(false);
      w.notifiers[i].fd = event_notifier_get_fd(w.notifiers[i].e.get());
    }
    for (int i = 0; i < kTimers; ++i) {
      w.timers[i].w = &w;
      w.timers[i].id = i;
      w.timers[i].t = timer_new_ns(ctx, QEMU_CLOCK_REALTIME, TimerCallback, &w.timers[i]);
    }
    for (int i = 0; i < kRequests; ++i) {
      w.requests[i].w = &w;
      w.requests[i].id = i;
    }
    w.kick = c.platform().poller().NewEventNotifier(false);
    aio_set_event_notifier(ctx, w.kick.get(), false, KickHandler);
    c.SetPending([&w] { return w.Pending(); });

    auto& threads = c.platform().threads();
    // Each thread enters itself in thread_of first: Spawn is a scheduling point, and
    // the new thread may run before Spawn returns.
    const ThreadId watchdog = threads.Spawn(
        "watchdog",
        [&w] {
          w.thread_of[w.c->platform().threads().Current()] = kWatchdog;
          w.WatchdogThread();
        },
        QEMU_THREAD_JOINABLE);
    const size_t setup = w.SetupOps();
    w.RunThread(0, 0, setup);
    std::vector<ThreadId> foreign;
    for (int t = 1; t < n_threads; ++t) {
      foreign.push_back(threads.Spawn(
          ThreadName(t),
          [&w, t] {
            w.thread_of[w.c->platform().threads().Current()] = t;
            w.RunThread(t);
          },
          QEMU_THREAD_JOINABLE));
    }
    w.RunThread(0, setup);
    for (ThreadId id : foreign) threads.Join(id);

    // Drain to quiescence, then judge.
    // A blocking poll that returns at once without progress is QEMU's transient spin:
    // e.g. a worker set the eventfd and is preempted before it sets `notified`, so
    // aio_notify_accept leaves the eventfd set. A fair OS soon runs the worker; a
    // strategy with priorities (PCT) need not, while the spinning thread passes
    // blocking points. The drain then sleeps 1 ms, which lets every other thread run.
    for (int i = 0; i < kDrainWaitsMax && !w.Busy().empty(); ++i) {
      const int64_t before = w.Now();
      if (!w.WatchedWait() && w.Now() == before) {
        QemuSemaphore never(0);
        (void)qemu_sem_timedwait(&never, 1);
      }
    }
    for (int i = 0; i < kPollRetriesMax && w.Poll(false); ++i) {
    }
    if (const std::string busy = w.Busy(); !busy.empty()) {
      c.execution().Fail(sim::FailureKind::kAssertion,
                         absl::StrCat("quiescence: still busy after ", kDrainWaitsMax,
                                      " blocking polls: ", busy),
                         {}, "properties:quiescence");
    }
    const Violation v = w.Judge();
    if (!v.clause.empty()) {
      c.execution().Fail(sim::FailureKind::kAssertion,
                         absl::StrCat(v.clause, ": ", v.message), {},
                         absl::StrCat("properties:", v.clause));
    }

    if (config.outcome != nullptr) {
      Outcome& o = *config.outcome;
      o = Outcome{};
      for (const BhSlot& b : w.bhs) o.bh_runs.push_back(static_cast<int>(b.runs.size()));
      for (const OneshotSlot& b : w.oneshots) {
        o.oneshot_runs.push_back(static_cast<int>(b.runs.size()));
      }
      for (const RequestSlot& r : w.requests) {
        std::vector<int> rets;
        for (const Point& p : r.callbacks) rets.push_back(p.value);
        o.request_rets.push_back(std::move(rets));
      }
      for (const TimerSlot& t : w.timers) o.timer_fires.push_back(static_cast<int>(t.fires.size()));
      o.reached = true;
    }

    // Teardown.
    for (NotifierSlot& n : w.notifiers) {
      if (w.Registered(n.fd, nullptr)) {
        w.Acquired(true, [&] { aio_set_event_notifier(ctx, n.e.get(), false, nullptr); });
      }
    }
    for (TimerSlot& t : w.timers) {
      timer_del(t.t);
      timer_free(t.t);
    }
    for (BhSlot& s : w.bhs) {
      if (s.bh != nullptr && !s.deleted) qemu_bh_delete(s.bh);
    }
    w.wd_exit = true;
    qemu_sem_post(&w.wd_start);
    threads.Join(watchdog);
    aio_set_event_notifier(ctx, w.kick.get(), false, nullptr);
    aio_poll(ctx, false);
    if (probes != nullptr) {
      probes->executions++;
      for (int i = 0; i < kProbeCount; ++i) probes->hits[i] += w.probe[i] ? 1 : 0;
    }
    aio_context_unref(ctx);
    t_world = saved_world;
  };
}

}  // namespace aiosim::properties
