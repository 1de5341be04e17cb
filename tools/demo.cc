// tools/demo.cc — `aiosim demo`: see demo.h.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// The Demo object is shared by the home thread (which runs the steps and every
// BH, timer, notifier and completion callback) and the threads it spawns (foreign
// threads, thread-pool workers). Invariants:
//   1. Only Record, Fail and the fields marked "any thread" are touched off the home
//      thread; events_, step_ and failure_ are under mu_.
//   2. Events are stamped under mu_, so their order in events_ is their time order.
//   3. Every wait is bounded: PollUntil arms a watchdog timer at the step's deadline,
//      so even a lost wakeup cannot block aio_poll past it (and a step that only the
//      watchdog woke fails); foreign threads wait for the home thread with their own
//      deadline.
//   4. Every step checks what its heading claims (which thread, which aio_poll, how
//      long after what), so "ok" means the claim held in this run, not only that the
//      callback ran. Steps that measure a wakeup start with no wakeup left over from
//      an earlier step (DrainLeftoverWakeup).
#include "tools/demo.h"

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/aio/aio.h"
#include "core/aio/legacy/aio_internal.h"
#include "core/aio/qemu_timer.h"
#include "core/aio/thread_pool.h"
#include "core/host/host_platform.h"
#include "tools/json.h"

namespace aiosim::tools {

namespace {

using core::aio_bh_new;
using core::aio_bh_schedule_oneshot;
using core::aio_context_acquire;
using core::aio_context_new;
using core::aio_context_release;
using core::aio_context_unref;
using core::aio_get_thread_pool;
using core::aio_poll;
using core::aio_set_event_notifier;
using core::AioContext;
using core::AioContextOptions;
using core::AioGenerationName;
using core::AioRuntime;
using core::atomic_read;
using core::bdrv_aio_cancel_async;
using core::BlockAIOCB;
using core::event_notifier_set;
using core::event_notifier_test_and_clear;
using core::EventNotifier;
using core::HostPlatform;
using core::Platform;
using core::qemu_bh_cancel;
using core::qemu_bh_delete;
using core::qemu_bh_schedule;
using core::qemu_bh_schedule_idle;
using core::qemu_clock_get_ms;
using core::QEMU_CLOCK_REALTIME;
using core::QEMU_THREAD_JOINABLE;
using core::QEMUBH;
using core::QEMUTimer;
using core::SCALE_MS;
using core::thread_pool_stats;
using core::thread_pool_submit_aio;
using core::ThreadId;
using core::ThreadPool;
using core::timer_del;
using core::timer_free;
using core::timer_mod;
using core::timer_mod_ns;
using core::timer_new_ms;
using core::timer_new_ns;

constexpr int64_t kMsNs = 1000 * 1000;
constexpr int64_t kStepTimeoutNs = 5000 * kMsNs;
// No cap on aio_poll calls per step, only the deadline: in 2.8.1 a blocking aio_poll
// returns at once, without progress, for as long as a foreign aio_notify is between
// its event_notifier_set and its store to `notified` (the eventfd stays readable, and
// aio_notify_accept clears it only once `notified` is set). That busy loop lasts as
// long as the notifying thread is descheduled: a cap of 10,000 calls failed step 8 on
// a loaded machine (a worker's completion, tens of ms). A loop that spins for good
// still fails at the deadline, with its count of calls.
constexpr int kPoolRequests = 4;  // plus one more, cancelled at once
constexpr int kSteps = 8;
constexpr int kStepTeardown = kSteps + 1;
constexpr int kStepSummary = kSteps + 2;

// Headings for text output, by step number (0: setup, no heading).
constexpr const char* kStepTitles[] = {
    "",
    "[1/8] A BH scheduled from the home thread runs on the next aio_poll.",
    "[2/8] A BH scheduled from a foreign thread while the home thread is blocked in\n"
    "      aio_poll(ctx, true): aio_notify writes the context's eventfd and wakes it.",
    "[3/8] An idle BH (qemu_bh_schedule_idle) does not notify. With nothing else\n"
    "      pending, a blocking aio_poll wakes after 10 ms (QEMU's rule) and runs it.",
    "[4/8] A oneshot BH (aio_bh_schedule_oneshot) runs once, then the loop frees it.",
    "[5/8] A BH scheduled, then cancelled (qemu_bh_cancel) before polling, does not run.",
    "[6/8] An event notifier set by a foreign thread: the home thread runs its handler.",
    "[7/8] A timer on QEMU_CLOCK_REALTIME armed for now + 20 ms runs after about 20 ms.",
    "[8/8] The thread pool: each func runs in a worker thread, each completion callback\n"
    "      in the home thread; one request is cancelled at once (bdrv_aio_cancel_async).",
    "[end] Teardown: qemu_bh_delete, timer_del + timer_free, aio_poll(ctx, false) and\n"
    "      aio_context_unref (frees the thread pool, checks that every BH was deleted).",
    "",
};
static_assert(sizeof(kStepTitles) / sizeof(kStepTitles[0]) == kStepSummary + 1);

struct Event {
  int64_t t_ns = 0;  // since the demo started
  std::string thread;
  std::string text;
  int step = 0;
};

class Demo;

// A BH or timer callback's state: what to record when it runs.
struct Probe {
  Demo* demo = nullptr;
  const char* text = "";             // recorded when the callback runs
  const char* since = nullptr;       // if set, also say how long after armed_ns it ran
  bool must_not_run = false;         // running is a failure (the cancelled BH)
  std::atomic<int64_t> armed_ns{0};  // any thread (a foreign thread may arm)
  // Home thread: set by the step before arming; checked by ProbeRan.
  int64_t min_delay_ns = 0;  // running sooner than armed_ns + this is a failure
  int64_t deadline_ns = -1;  // if >= 0: running before this time is a failure
  // Home thread: what the last run saw.
  int runs = 0;
  int poll = 0;        // the PollUntil aio_poll call it ran in (1 = the first)
  int64_t ran_ns = 0;  // when it ran
};

// An event notifier that knows its demo, as QEMU code reaches its state from the
// notifier with container_of. Forwards to the platform's notifier.
class DemoNotifier final : public EventNotifier {
 public:
  DemoNotifier(std::unique_ptr<EventNotifier> inner, Demo* demo)
      : inner_(std::move(inner)), demo_(demo) {}
  int Set(core::SrcLoc loc) override { return inner_->Set(loc); }
  bool TestAndClear(core::SrcLoc loc) override { return inner_->TestAndClear(loc); }
  int fd() const override { return inner_->fd(); }
  Demo* demo() const { return demo_; }

  std::atomic<int64_t> set_ns{0};  // any thread
  int runs = 0;                    // home thread
  int was_set = -1;                // home thread: the handler's test_and_clear result
  int poll = 0;                    // home thread: the aio_poll call it ran in

 private:
  std::unique_ptr<EventNotifier> inner_;
  Demo* demo_;
};

// One thread-pool request.
struct PoolRequest {
  Demo* demo = nullptr;
  int number = 0;               // 1-based, as printed
  int value = 0;                // what func returns
  std::atomic<int> worker{-1};  // the thread that ran func; -1 if it did not run
  int ret = 0;                  // home thread: what the completion callback got
  int completions = 0;          // home thread
};

class Demo {
 public:
  explicit Demo(Platform* platform)
      : platform_(platform),
        runtime_(platform),
        home_id_(platform->threads().Current()),
        start_ns_(NowNs()) {}
  Demo(const Demo&) = delete;
  Demo& operator=(const Demo&) = delete;

  // Runs every step, the teardown and the summary; stops at the first failure.
  // REQUIRES: called once, from the thread that created the platform.
  absl::Status Run();

  // The events recorded so far, in time order. Any thread.
  std::vector<Event> Events() {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }
  int step() {
    std::lock_guard<std::mutex> lock(mu_);
    return step_;
  }
  const char* generation() const { return generation_; }

 private:
  int64_t NowNs() { return platform_->clock().NowNs(QEMU_CLOCK_REALTIME); }
  // The platform's poll with no fds, as a sleep. Any thread.
  void SleepNs(int64_t ns) { platform_->poller().Poll(nullptr, 0, ns); }
  // Appends an event from the calling thread; returns its absolute time. Any thread.
  int64_t Record(std::string text);
  // Notes a broken expectation; the running step fails with the first one. Any thread.
  void Fail(std::string message);
  absl::Status Failure();
  void BeginStep(int step);
  // Fails unless the caller is the home thread.
  void ExpectHome(std::string_view what);
  // Calls aio_poll(ctx, true) until done() holds, a check fails, or the step's
  // deadline passes.
  absl::Status PollUntil(absl::FunctionRef<bool()> done, std::string_view what);
  // In a foreign thread: waits (bounded) until the home thread is in a blocking
  // aio_poll past its timeout computation: notify_me counts it (so aio_notify now
  // writes the eventfd) and it has released the context around its poll. Returns
  // the notify_me value that showed it (0 after the deadline).
  uint32_t WaitForBlockedHome();
  // Home thread, between steps: a wakeup a foreign thread left behind (aio_notify
  // writes the eventfd before it sets `notified`, so the home thread's
  // aio_notify_accept can run in between and leave both set) would end the next
  // blocking aio_poll at once. Accepts it with aio_poll(ctx, false); returns whether
  // there was one.
  bool DrainLeftoverWakeup();
  // The BHs on the context's list (deleted ones not yet freed included).
  int CountBhs() {
    int n = 0;
    for (core::legacy::QEMUBH* bh = core::legacy::of(ctx_)->first_bh.Load();
         bh != nullptr; bh = bh->next.Load())
      n++;
    return n;
  }
  ThreadId SpawnForeign(std::function<void()> fn) {
    return platform_->threads().Spawn("foreign", std::move(fn), QEMU_THREAD_JOINABLE);
  }

  absl::Status StepNormalBh();
  absl::Status StepForeignBh();
  absl::Status StepIdleBh();
  absl::Status StepOneshotBh();
  absl::Status StepCancelledBh();
  absl::Status StepEventNotifier();
  absl::Status StepTimer();
  absl::Status StepThreadPool();
  void Teardown();

  static void ProbeRan(void* opaque);
  // Wakes aio_poll at the step's deadline; PollUntil then fails the step.
  static void WatchdogFired(void* opaque) {
    static_cast<Demo*>(opaque)->watchdog_fired_ = true;
  }
  static void NotifierRead(EventNotifier* e);
  static int PoolFunc(void* opaque);
  static void PoolDone(void* opaque, int ret);

  Platform* const platform_;
  AioRuntime runtime_;
  const ThreadId home_id_;
  const int64_t start_ns_;
  const char* generation_ = "?";

  // Home thread only (but see Probe and PoolRequest for their "any thread" fields).
  AioContext* ctx_ = nullptr;
  QEMUTimer* watchdog_ = nullptr;
  bool watchdog_fired_ = false;
  int polls_ = 0;               // aio_poll calls in the current PollUntil
  bool last_progress_ = false;  // what the last of them returned
  QEMUBH* bh_normal_ = nullptr;
  QEMUBH* bh_foreign_ = nullptr;
  QEMUBH* bh_idle_ = nullptr;
  QEMUBH* bh_cancelled_ = nullptr;
  QEMUTimer* timer_ = nullptr;
  Probe normal_{this, "bh: normal BH ran (scheduled from the home thread)"};
  Probe foreign_{this, "bh: the foreign BH ran in the home thread", "qemu_bh_schedule"};
  Probe idle_{this, "idle: idle BH ran", "qemu_bh_schedule_idle"};
  Probe oneshot_{this, "oneshot: oneshot BH ran"};
  Probe cancelled_{this, "cancel: the cancelled BH ran", nullptr, true};
  Probe marker_{this, "cancel: the marker BH ran"};
  Probe timer_probe_{this, "timer: callback ran", "timer_mod"};
  std::array<PoolRequest, kPoolRequests + 1> requests_;
  int pool_done_ = 0;

  // A std::mutex (pthreads) rather than absl::Mutex: the system's absl is not built
  // with ThreadSanitizer, which then cannot see absl::Mutex's synchronization.
  std::mutex mu_;
  std::vector<Event> events_;  // under mu_
  int step_ = 0;               // under mu_
  std::string failure_;        // under mu_
};

int64_t Demo::Record(std::string text) {
  std::string thread = platform_->threads().CurrentName();
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now_ns = NowNs();  // under the lock: events_ stays in time order
  events_.push_back(Event{now_ns - start_ns_, std::move(thread), std::move(text), step_});
  return now_ns;
}

void Demo::Fail(std::string message) {
  std::lock_guard<std::mutex> lock(mu_);
  if (failure_.empty()) failure_ = std::move(message);
}

absl::Status Demo::Failure() {
  std::lock_guard<std::mutex> lock(mu_);
  return failure_.empty() ? absl::OkStatus() : absl::InternalError(failure_);
}

void Demo::BeginStep(int step) {
  std::lock_guard<std::mutex> lock(mu_);
  step_ = step;
}

void Demo::ExpectHome(std::string_view what) {
  const ThreadId self = platform_->threads().Current();
  if (self != home_id_) {
    Fail(
        absl::StrFormat("%s ran in thread '%s' (id %d), expected the home thread (id %d)",
                        what, platform_->threads().CurrentName(), self, home_id_));
  }
}

absl::Status Demo::PollUntil(absl::FunctionRef<bool()> done, std::string_view what) {
  const int64_t deadline_ns = NowNs() + kStepTimeoutNs;
  watchdog_fired_ = false;
  timer_mod_ns(watchdog_, deadline_ns);  // aio_poll never blocks past the deadline
  polls_ = 0;
  absl::Status status = Failure();
  while (status.ok() && !done()) {
    if (watchdog_fired_ || NowNs() >= deadline_ns) {
      status = absl::DeadlineExceededError(
          absl::StrFormat("%s did not run within %d ms (aio_poll calls: %d)", what,
                          kStepTimeoutNs / kMsNs, polls_));
      break;
    }
    polls_++;
    last_progress_ = aio_poll(ctx_, true);
    status = Failure();
  }
  // What the step waited for happened, but only the watchdog woke the loop: the
  // wakeup the step is about was lost.
  if (status.ok() && watchdog_fired_) {
    status = absl::InternalError(absl::StrFormat(
        "%s ran only when the %d ms watchdog woke aio_poll (a lost wakeup)", what,
        kStepTimeoutNs / kMsNs));
  }
  timer_del(watchdog_);
  return status;
}

uint32_t Demo::WaitForBlockedHome() {
  const int64_t deadline_ns = NowNs() + kStepTimeoutNs;
  uint32_t notify_me;
  // Bits 1..31 count blocking aio_polls in their prepare/poll phase (+2 each).
  while ((notify_me = atomic_read(&core::legacy::of(ctx_)->notify_me)) < 2) {
    if (NowNs() >= deadline_ns) {
      Fail("a foreign thread never saw the home thread blocked in aio_poll");
      return 0;
    }
    SleepNs(kMsNs / 10);
  }
  // aio_poll holds the context from its start until just before it polls (with a
  // non-zero timeout): once this acquire succeeds, the home thread is at its poll.
  aio_context_acquire(ctx_);
  aio_context_release(ctx_);
  return notify_me;
}

bool Demo::DrainLeftoverWakeup() {
  if (!atomic_read(&core::legacy::of(ctx_)->notified)) return false;
  aio_poll(ctx_, false);  // its aio_notify_accept clears `notified` and the eventfd
  if (atomic_read(&core::legacy::of(ctx_)->notified))
    Fail("aio_poll(ctx, false) did not accept a wakeup");
  return true;
}

void Demo::ProbeRan(void* opaque) {
  auto* probe = static_cast<Probe*>(opaque);
  Demo* demo = probe->demo;
  demo->ExpectHome(probe->text);
  probe->runs++;
  probe->poll = demo->polls_;
  probe->ran_ns = demo->NowNs();
  const int64_t delay_ns = probe->ran_ns - probe->armed_ns.load();
  std::string text = probe->text;
  if (probe->since != nullptr) {
    absl::StrAppendFormat(&text, ", %.3f ms after %s",
                          static_cast<double>(delay_ns) / kMsNs, probe->since);
  }
  if (probe->deadline_ns >= 0) {
    absl::StrAppendFormat(
        &text, " (%.3f ms after its deadline)",
        static_cast<double>(probe->ran_ns - probe->deadline_ns) / kMsNs);
  }
  absl::StrAppendFormat(&text, ", on aio_poll #%d", demo->polls_);
  if (probe->must_not_run) demo->Fail(text);
  if (delay_ns < probe->min_delay_ns) {
    demo->Fail(absl::StrFormat("%s: that is sooner than the %.3f ms it must wait", text,
                               static_cast<double>(probe->min_delay_ns) / kMsNs));
  }
  if (probe->deadline_ns >= 0 && probe->ran_ns < probe->deadline_ns) {
    demo->Fail(absl::StrFormat("%s: that is before its deadline", text));
  }
  demo->Record(std::move(text));
}

absl::Status Demo::Run() {
  std::string error;
  ctx_ = aio_context_new(&runtime_, AioContextOptions{.name = "demo"}, &error);
  if (ctx_ == nullptr) return absl::InternalError("aio_context_new failed: " + error);
  generation_ = AioGenerationName(ctx_->generation);
  watchdog_ = timer_new_ns(ctx_, QEMU_CLOCK_REALTIME, WatchdogFired, this);

  absl::Status (Demo::*const steps[])() = {
      &Demo::StepNormalBh,  &Demo::StepForeignBh,   &Demo::StepIdleBh,
      &Demo::StepOneshotBh, &Demo::StepCancelledBh, &Demo::StepEventNotifier,
      &Demo::StepTimer,     &Demo::StepThreadPool,
  };
  static_assert(sizeof(steps) / sizeof(steps[0]) == kSteps);
  for (auto step : steps) {
    if (absl::Status status = (this->*step)(); !status.ok()) return status;
  }
  Teardown();
  if (absl::Status status = Failure(); !status.ok()) return status;

  const size_t events = Events().size();
  BeginStep(kStepSummary);
  Record(absl::StrFormat(
      "summary: all %d steps ok (%d events) on platform %s, generation %s", kSteps,
      events, platform_->name(), generation_));
  return absl::OkStatus();
}

// A step's check: fails the step with `message` unless `ok`.
absl::Status Expect(bool ok, std::string message) {
  return ok ? absl::OkStatus() : absl::InternalError(std::move(message));
}

absl::Status Demo::StepNormalBh() {
  BeginStep(1);
  bh_normal_ = aio_bh_new(ctx_, ProbeRan, &normal_);
  Record("bh: qemu_bh_schedule from the home thread");
  qemu_bh_schedule(bh_normal_);
  absl::Status status = PollUntil([&] { return normal_.runs > 0; }, "the normal BH");
  if (!status.ok()) return status;
  return Expect(normal_.runs == 1 && normal_.poll == 1,
                absl::StrFormat("the normal BH ran %d times, last on aio_poll #%d; "
                                "expected once, on the first",
                                normal_.runs, normal_.poll));
}

absl::Status Demo::StepForeignBh() {
  BeginStep(2);
  bh_foreign_ = aio_bh_new(ctx_, ProbeRan, &foreign_);
  Record(
      "bh: the home thread calls aio_poll(ctx, true) with nothing scheduled: it blocks");
  std::atomic<uint32_t> seen_notify_me{0};
  const ThreadId id = SpawnForeign([this, &seen_notify_me] {
    const uint32_t notify_me = WaitForBlockedHome();
    seen_notify_me = notify_me;
    foreign_.armed_ns = Record(absl::StrFormat(
        "bh: qemu_bh_schedule from a foreign thread; home is blocked in aio_poll "
        "(notify_me=%u, so aio_notify writes the eventfd)",
        notify_me));
    qemu_bh_schedule(bh_foreign_);
  });
  absl::Status status = PollUntil([&] { return foreign_.runs > 0; }, "the foreign BH");
  platform_->threads().Join(id);
  if (!status.ok()) return status;
  // The BH ran in the first, blocking aio_poll, which only the eventfd could end
  // (PollUntil fails a step that only its watchdog woke).
  return Expect(seen_notify_me >= 2 && foreign_.runs == 1 && foreign_.poll == 1,
                absl::StrFormat("the foreign BH ran %d times, last on aio_poll #%d, "
                                "scheduled with notify_me=%u; expected once, on the "
                                "first (blocking) aio_poll, notify_me >= 2",
                                foreign_.runs, foreign_.poll, seen_notify_me.load()));
}

absl::Status Demo::StepIdleBh() {
  BeginStep(3);
  if (DrainLeftoverWakeup()) {
    Record(
        "idle: step 2 left a wakeup behind (aio_notify sets the eventfd, then "
        "`notified`; the home thread's aio_notify_accept ran in between): "
        "aio_poll(ctx, false) accepted it first, so nothing else can end the poll");
  }
  bh_idle_ = aio_bh_new(ctx_, ProbeRan, &idle_);
  qemu_bh_schedule_idle(bh_idle_);
  // Taken after the schedule and before aio_poll computes its 10 ms timeout, so the
  // BH cannot run sooner than 10 ms after this.
  idle_.min_delay_ns = 10 * SCALE_MS;
  idle_.armed_ns =
      Record("idle: qemu_bh_schedule_idle from the home thread (no aio_notify)");
  absl::Status status = PollUntil([&] { return idle_.runs > 0; }, "the idle BH");
  if (!status.ok()) return status;
  if (absl::Status s = Expect(
          idle_.runs == 1 && idle_.poll == 1 && !last_progress_,
          absl::StrFormat("the idle BH ran %d times, last on "
                          "aio_poll #%d, which returned %s; expected "
                          "once, on the first, which returns false",
                          idle_.runs, idle_.poll, last_progress_ ? "true" : "false"));
      !s.ok()) {
    return s;
  }
  Record("idle: that aio_poll returned false (an idle BH does not count as progress)");
  return absl::OkStatus();
}

absl::Status Demo::StepOneshotBh() {
  BeginStep(4);
  const int bhs_before = CountBhs();
  Record("oneshot: aio_bh_schedule_oneshot (a BH born scheduled and already deleted)");
  aio_bh_schedule_oneshot(ctx_, ProbeRan, &oneshot_);
  absl::Status status = PollUntil([&] { return oneshot_.runs > 0; }, "the oneshot BH");
  if (!status.ok()) return status;
  aio_poll(ctx_, false);
  if (oneshot_.runs != 1) {
    return absl::InternalError(
        absl::StrFormat("the oneshot BH ran %d times", oneshot_.runs));
  }
  const int bhs_after = CountBhs();
  if (absl::Status s = Expect(bhs_after == bhs_before,
                              absl::StrFormat("the context has %d BHs, %d before the "
                                              "oneshot: it was not freed",
                                              bhs_after, bhs_before));
      !s.ok()) {
    return s;
  }
  Record(absl::StrFormat(
      "oneshot: one more aio_poll(ctx, false): it did not run again, and it is off "
      "the context's BH list (%d BHs, as before)",
      bhs_after));
  return absl::OkStatus();
}

absl::Status Demo::StepCancelledBh() {
  BeginStep(5);
  bh_cancelled_ = aio_bh_new(ctx_, ProbeRan, &cancelled_);
  Record("cancel: qemu_bh_schedule, then qemu_bh_cancel, before any aio_poll");
  qemu_bh_schedule(bh_cancelled_);
  qemu_bh_cancel(bh_cancelled_);
  // A later BH proves that aio_bh_poll walked the list (the walk visits every BH).
  Record("cancel: aio_bh_schedule_oneshot of a marker BH, to see a BH walk happen");
  aio_bh_schedule_oneshot(ctx_, ProbeRan, &marker_);
  absl::Status status = PollUntil([&] { return marker_.runs > 0; }, "the marker BH");
  if (!status.ok()) return status;
  if (absl::Status s =
          Expect(cancelled_.runs == 0,
                 absl::StrFormat("the cancelled BH ran %d times", cancelled_.runs));
      !s.ok()) {
    return s;
  }
  Record("cancel: the cancelled BH did not run (ran 0 times)");
  return absl::OkStatus();
}

void Demo::NotifierRead(EventNotifier* e) {
  auto* notifier = static_cast<DemoNotifier*>(e);
  Demo* demo = notifier->demo();
  demo->ExpectHome("the event notifier's handler");
  const int was_set = event_notifier_test_and_clear(e);
  notifier->runs++;
  notifier->was_set = was_set;
  notifier->poll = demo->polls_;
  const int64_t delay_ns = demo->NowNs() - notifier->set_ns.load();
  if (delay_ns < 0) demo->Fail("the notifier's handler ran before the set");
  demo->Record(
      absl::StrFormat("notifier: handler ran in the home thread %.3f ms after the set; "
                      "event_notifier_test_and_clear -> %d, on aio_poll #%d",
                      static_cast<double>(delay_ns) / kMsNs, was_set, demo->polls_));
}

absl::Status Demo::StepEventNotifier() {
  BeginStep(6);
  DrainLeftoverWakeup();  // so that only the notifier's own fd can end the poll
  std::unique_ptr<EventNotifier> inner = platform_->poller().NewEventNotifier(false);
  if (inner == nullptr) {
    return absl::InternalError("the platform refused an event notifier");
  }
  DemoNotifier notifier(std::move(inner), this);
  aio_set_event_notifier(ctx_, &notifier, false, NotifierRead);
  Record("notifier: aio_set_event_notifier: the context now polls its fd");
  const ThreadId id = SpawnForeign([this, &notifier] {
    WaitForBlockedHome();
    notifier.set_ns = Record("notifier: event_notifier_set from a foreign thread");
    event_notifier_set(&notifier);
  });
  absl::Status status =
      PollUntil([&] { return notifier.runs > 0; }, "the notifier handler");
  platform_->threads().Join(id);
  aio_set_event_notifier(ctx_, &notifier, false, nullptr);
  Record(
      "notifier: unregistered (aio_set_event_notifier with a null handler), destroyed");
  if (!status.ok()) return status;
  return Expect(notifier.runs == 1 && notifier.was_set == 1 && notifier.poll == 1,
                absl::StrFormat("the handler ran %d times, last on aio_poll #%d, and "
                                "test_and_clear gave %d; expected once, on the first "
                                "(blocking) aio_poll, with the fd set",
                                notifier.runs, notifier.poll, notifier.was_set));
}

absl::Status Demo::StepTimer() {
  BeginStep(7);
  timer_ = timer_new_ms(ctx_, QEMU_CLOCK_REALTIME, ProbeRan, &timer_probe_);
  const int64_t now_ms = qemu_clock_get_ms(&runtime_, QEMU_CLOCK_REALTIME);
  timer_probe_.deadline_ns = (now_ms + 20) * SCALE_MS;
  timer_probe_.armed_ns = Record(
      "timer: timer_mod(ts, now_ms + 20) (now_ms is whole ms, so expect 19 to 20 ms)");
  timer_mod(timer_, now_ms + 20);
  absl::Status status = PollUntil([&] { return timer_probe_.runs > 0; }, "the timer");
  if (!status.ok()) return status;
  // ProbeRan has already failed the step if it ran before its deadline.
  aio_poll(ctx_, false);
  return Expect(timer_probe_.runs == 1 && !core::timer_pending(timer_),
                absl::StrFormat("the timer ran %d times and is %s; expected once, "
                                "then no longer pending",
                                timer_probe_.runs,
                                core::timer_pending(timer_) ? "pending" : "not pending"));
}

int Demo::PoolFunc(void* opaque) {
  auto* request = static_cast<PoolRequest*>(opaque);
  Demo* demo = request->demo;
  const ThreadId self = demo->platform_->threads().Current();
  if (self == demo->home_id_) demo->Fail("a thread-pool func ran in the home thread");
  request->worker = self;
  demo->Record(absl::StrFormat(
      "pool: request %d: func runs in a worker (thread id %d); returns %d after 5 ms",
      request->number, self, request->value));
  demo->SleepNs(5 * kMsNs);  // stands for blocking I/O
  return request->value;
}

void Demo::PoolDone(void* opaque, int ret) {
  auto* request = static_cast<PoolRequest*>(opaque);
  Demo* demo = request->demo;
  demo->ExpectHome("a thread-pool completion callback");
  request->ret = ret;
  request->completions++;
  demo->pool_done_++;
  demo->Record(absl::StrFormat(
      "pool: request %d: completion ran in the home thread, ret=%s", request->number,
      ret == -ECANCELED ? "-ECANCELED" : absl::StrCat(ret)));
}

absl::Status Demo::StepThreadPool() {
  BeginStep(8);
  ThreadPool* pool = aio_get_thread_pool(ctx_);
  for (int i = 0; i < kPoolRequests + 1; i++) {
    requests_[i].demo = this;
    requests_[i].number = i + 1;
    requests_[i].value = 100 + i + 1;
  }
  Record(
      absl::StrFormat("pool: thread_pool_submit_aio x%d (no worker yet: a BH creates the "
                      "first on the next aio_poll)",
                      kPoolRequests));
  for (int i = 0; i < kPoolRequests; i++) {
    thread_pool_submit_aio(pool, PoolFunc, &requests_[i], PoolDone, &requests_[i]);
  }
  PoolRequest& last = requests_[kPoolRequests];
  BlockAIOCB* acb = thread_pool_submit_aio(pool, PoolFunc, &last, PoolDone, &last);
  Record(
      absl::StrFormat("pool: request %d: thread_pool_submit_aio, then "
                      "bdrv_aio_cancel_async at once (works only while QUEUED)",
                      last.number));
  bdrv_aio_cancel_async(acb);  // the completion callback still runs, exactly once

  absl::Status status = PollUntil([&] { return pool_done_ == kPoolRequests + 1; },
                                  "every thread-pool completion");
  if (!status.ok()) return status;
  for (const PoolRequest& request : requests_) {
    if (request.completions != 1) {
      return absl::InternalError(
          absl::StrFormat("request %d completed %d times, expected once", request.number,
                          request.completions));
    }
  }
  for (int i = 0; i < kPoolRequests; i++) {
    if (requests_[i].ret != requests_[i].value || requests_[i].worker.load() < 0) {
      return absl::InternalError(
          absl::StrFormat("request %d completed with %d, expected %d from a worker",
                          i + 1, requests_[i].ret, requests_[i].value));
    }
  }
  if (const int left = thread_pool_stats(pool).requests; left != 0) {
    return absl::InternalError(
        absl::StrFormat("%d requests still on the pool after every completion", left));
  }
  const bool func_ran = last.worker.load() >= 0;
  if (last.ret == -ECANCELED && !func_ran) {
    Record("pool: the cancel took the request while still QUEUED: its func never ran");
  } else if (last.ret == last.value && func_ran) {
    Record(
        "pool: the cancel came too late (the request had left the queue), so it ran "
        "normally: also legal");
  } else {
    return absl::InternalError(
        absl::StrFormat("cancelled request: ret=%d although its func %s", last.ret,
                        func_ran ? "ran" : "never ran"));
  }
  Record(absl::StrFormat("pool: %d workers (cur_threads), idle until thread_pool_free",
                         thread_pool_stats(pool).cur_threads));
  return absl::OkStatus();
}

void Demo::Teardown() {
  BeginStep(kStepTeardown);
  for (QEMUBH* bh : {bh_normal_, bh_foreign_, bh_idle_, bh_cancelled_}) {
    qemu_bh_delete(bh);
  }
  for (QEMUTimer* timer : {timer_, watchdog_}) {
    timer_del(timer);
    timer_free(timer);
  }
  aio_poll(ctx_, false);  // the outermost aio_bh_poll frees deleted BHs
  Record("teardown: 4 BHs deleted, 2 timers freed, aio_poll(ctx, false) ran");
  aio_context_unref(ctx_);
  ctx_ = nullptr;
  Record(
      "teardown: aio_context_unref freed the thread pool (its workers exited) and "
      "the context");
}

// ---- output --------------------------------------------------------------------------

double Ms(int64_t ns) { return static_cast<double>(ns) / kMsNs; }

void PrintJson(const std::vector<Event>& events, std::FILE* out) {
  std::fputs("[\n", out);
  for (size_t i = 0; i < events.size(); i++) {
    const Event& e = events[i];
    absl::FPrintF(out, "  {\"t_ms\": %.3f, \"thread\": %s, \"event\": %s}%s\n",
                  Ms(e.t_ns), JsonString(e.thread), JsonString(e.text),
                  i + 1 < events.size() ? "," : "");
  }
  std::fputs("]\n", out);
}

void PrintText(const std::vector<Event>& events, std::string_view platform,
               std::string_view generation, std::FILE* out) {
  absl::FPrintF(out,
                "aiosim demo: a real AioContext on platform \"%s\", generation \"%s\"\n",
                platform, generation);
  std::fputs(
      "Each line: ms since the demo started (platform clock, QEMU_CLOCK_REALTIME),\n"
      "[thread], event. The home thread is \"main\": it calls aio_poll(ctx, true)\n"
      "until the step's callbacks have run; a watchdog timer 5 s ahead bounds each\n"
      "step, so a lost wakeup ends the demo with an error instead of a hang.\n",
      out);
  int step = -1;
  for (const Event& e : events) {
    if (e.step != step) {
      step = e.step;
      absl::FPrintF(out, "\n%s%s", kStepTitles[step], *kStepTitles[step] ? "\n" : "");
    }
    absl::FPrintF(out, "  +%7.3f ms  [%-8s]  %s\n", Ms(e.t_ns), e.thread, e.text);
  }
}

}  // namespace

absl::StatusOr<DemoOptions> ParseDemoArgs(absl::Span<const std::string_view> args) {
  DemoOptions options;
  for (std::string_view arg : args) {
    if (arg == "--json") {
      options.json = true;
    } else if (arg == "--help" || arg == "-h") {
      options.help = true;
    } else if (arg.starts_with("-")) {
      return absl::InvalidArgumentError(
          absl::StrFormat("unknown flag '%s' (expected: --json, --help)", arg));
    } else {
      return absl::InvalidArgumentError(absl::StrFormat(
          "unexpected argument '%s' (demo takes no arguments; flags: --json, --help)",
          arg));
    }
  }
  return options;
}

int DemoMain(absl::Span<const std::string_view> args) {
  absl::StatusOr<DemoOptions> options = ParseDemoArgs(args);
  if (!options.ok()) {
    absl::FPrintF(stderr, "aiosim demo: %s\n", options.status().message());
    return kExitBadInput;
  }
  if (options->help) {
    std::fputs(kDemoUsage, stdout);
    return kExitOk;
  }

  auto platform = std::make_unique<HostPlatform>();
  auto demo = std::make_unique<Demo>(platform.get());
  const absl::Status status = demo->Run();
  if (options->json) {
    PrintJson(demo->Events(), stdout);
  } else {
    PrintText(demo->Events(), platform->name(), demo->generation(), stdout);
  }
  std::fflush(stdout);
  if (!status.ok()) {
    absl::FPrintF(stderr, "aiosim demo: FAILED in step %d: %s\n", demo->step(),
                  status.message());
    // A failed step may leave BHs, requests or a stuck thread behind: tearing the
    // context down would trip its assertions, and the platform would wait for every
    // thread. Abandon both on purpose; the process is about to exit.
    static_cast<void>(demo.release());
    static_cast<void>(platform.release());
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace aiosim::tools
