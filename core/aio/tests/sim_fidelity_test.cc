// core/aio/tests/sim_fidelity_test.cc — simulator-only tests of the legacy core's
// fidelity to QEMU 2.8.1 where only the simulator can see the difference: which
// accesses are plain, atomic or Shared (the race detector's view), which locks a
// path takes (the trace), and which waits can deadlock (the deadlock detector).
// SPDX-License-Identifier: GPL-2.0-or-later
//
// These tests drive the simulator through sim/aiosim_sim.h (RunExecution, Explore),
// with the core built against the simulated primitives (aiosim::core_sim). Each one
// failed before the fix it documents (issue 6).
#include <functional>
#include <string>
#include <string_view>

#include "core/aio/aio.h"
#include "core/aio/main_loop.h"
#include "core/aio/thread_pool.h"
#include "core/platform/sync.h"
#include "gtest/gtest.h"
#include "sim/aiosim_sim.h"
#include "sim/random_pct.h"

namespace aiosim::testing {
namespace {

using namespace aiosim::core;  // NOLINT: QEMU's names read best unqualified
using sim::ExecResult;
using sim::FailureKind;
using sim::SimContext;

// One execution of `body` under the random strategy with `seed`.
ExecResult RunOnce(const sim::Body& body, const sim::ExecOptions& options,
                   uint64_t seed) {
  sim::RandomStrategy strategy(seed);
  strategy.BeginExecution(0);
  return sim::RunExecution(body, options, &strategy);
}

std::string Describe(const ExecResult& r) {
  std::string s =
      std::string(sim::FailureKindName(r.failure.kind)) + ": " + r.failure.message;
  for (const std::string& d : r.failure.details) s += "\n  " + d;
  return s;
}

sim::ExecOptions RaceOptions() {
  sim::ExecOptions options;
  options.race_detection = true;
  options.max_steps = 200000;
  return options;
}

// ---- item 6: atomic_mb_set is an exchange on x86 ---------------------------------
//
// Thread a publishes x and then does atomic_mb_set(&f, 1); thread b waits (relaxed
// reads, which synchronise with nothing) until it sees 1, does atomic_mb_set(&f, 2)
// and reads x. As an exchange, b's atomic_mb_set reads a's value and so acquires a's
// release: x is ordered. As a plain seq-cst store (our model before the fix) it
// acquires nothing and the read of x races with a's write.
void MbSetBody(SimContext& c) {
  Shared<int> x{0};
  Atomic<int> f{0};
  Threads& threads = c.platform().threads();
  ThreadId a = threads.Spawn(
      "a",
      [&] {
        x.Store(42);
        atomic_mb_set(&f, 1);
      },
      QEMU_THREAD_JOINABLE);
  ThreadId b = threads.Spawn(
      "b",
      [&] {
        while (atomic_read(&f) != 1) {
        }
        atomic_mb_set(&f, 2);
        c.Check(x.Load() == 42, "b sees a's write");
      },
      QEMU_THREAD_JOINABLE);
  threads.Join(a);
  threads.Join(b);
}

TEST(SimFidelityTest, AtomicMbSetIsAnExchangeThatAcquiresAnEarlierMbSet) {
  for (uint64_t seed = 1; seed <= 200; seed++) {
    ExecResult r = RunOnce(MbSetBody, RaceOptions(), seed);
    ASSERT_EQ(r.failure.kind, FailureKind::kNone)
        << "seed " << seed << ": " << Describe(r);
  }
}

// ---- item 7: the assertion in aio_enable_external reads the counter plainly -------

sim::ExecOptions TraceOptions() {
  sim::ExecOptions options;
  options.record_trace = true;
  return options;
}

// The trace's operations of `kind` made in function `function`.
int CountOps(const ExecResult& r, sim::OpKind kind, std::string_view function) {
  int n = 0;
  for (const sim::TraceEvent& e : r.trace) {
    if (e.op == kind && e.loc.function_name() == function) n++;
  }
  return n;
}

TEST(SimFidelityTest, EnableExternalAssertsWithAPlainRead) {
  ExecResult r = RunOnce(
      [](SimContext& c) {
        AioRuntime rt(&c.platform());
        AioContext* ctx = aio_context_new(&rt);
        aio_disable_external(ctx);
        aio_enable_external(ctx);
        aio_context_unref(ctx);
      },
      TraceOptions(), 1);
  ASSERT_EQ(r.failure.kind, FailureKind::kNone) << Describe(r);
  EXPECT_EQ(CountOps(r, sim::OpKind::kPlainLoad, "aio_enable_external"), 1);
  EXPECT_EQ(CountOps(r, sim::OpKind::kLoad, "aio_enable_external"), 0);
}

// ---- item 4: timerlist_run_timers leaves early, without the lock -------------------

TEST(SimFidelityTest, RunTimersTakesNoLockForAnEmptyList) {
  ExecResult r = RunOnce(
      [](SimContext& c) {
        AioRuntime rt(&c.platform());
        AioContext* ctx = aio_context_new(&rt);
        aio_poll(ctx, false);  // dispatch runs every clock's (empty) list
        aio_context_unref(ctx);
      },
      TraceOptions(), 1);
  ASSERT_EQ(r.failure.kind, FailureKind::kNone) << Describe(r);
  EXPECT_EQ(CountOps(r, sim::OpKind::kLock, "timerlist_run_timers"), 0);
  EXPECT_GE(CountOps(r, sim::OpKind::kPlainLoad, "timerlist_run_timers"), QEMU_CLOCK_MAX)
      << "each list's clock->enabled (and, if enabled, its head) is read plainly";
}

// A foreign thread arms a timer (under active_timers_lock) while the home thread runs
// a non-blocking aio_poll: the early exit reads the list head without that lock, a
// race QEMU 2.8.1 has by design and the race detector must see.
TEST(SimFidelityTest, RunTimersReadsTheListHeadWithoutTheLock) {
  auto body = [](SimContext& c) {
    AioRuntime rt(&c.platform());
    AioContext* ctx = aio_context_new(&rt);
    QEMUTimer* t = timer_new_ns(
        ctx, QEMU_CLOCK_REALTIME, +[](void*) {}, nullptr);
    Threads& threads = c.platform().threads();
    ThreadId vcpu = threads.Spawn(
        "vcpu", [&] { timer_mod_ns(t, int64_t{3600} * 1000 * SCALE_MS); },
        QEMU_THREAD_JOINABLE);
    aio_poll(ctx, false);
    threads.Join(vcpu);
    timer_del(t);
    timer_free(t);
    aio_context_unref(ctx);
  };
  int races = 0;
  for (uint64_t seed = 1; seed <= 50; seed++) {
    ExecResult r = RunOnce(body, RaceOptions(), seed);
    if (r.failure.kind == FailureKind::kNone) continue;
    ASSERT_EQ(r.failure.kind, FailureKind::kDataRace) << Describe(r);
    EXPECT_NE(r.failure.message.find("(timerlist_run_timers)"), std::string::npos)
        << Describe(r);
    races++;
  }
  EXPECT_EQ(races, 50) << "nothing orders the unlocked read against the armed timer";
}

// ---- item 5: qemu_clock_enable(false) holds no lock while it waits --------------------
//
// An iothread runs a virtual-clock timer whose callback creates and frees an
// AioContext (timerlist_new/timerlist_free take the runtime's registry lock); the
// main thread disables the clock while that callback runs, and so waits for it. QEMU
// holds nothing while it waits; holding the registry lock there deadlocks.
struct ClockDisableState {
  AioRuntime* rt = nullptr;
  QemuSemaphore in_callback{0};
  Atomic<bool> callback_done{false};
};

void CreatesAContext(void* opaque) {
  auto* s = static_cast<ClockDisableState*>(opaque);
  qemu_sem_post(&s->in_callback);
  // Virtual time passes only when no thread can run: main is in qemu_clock_enable by
  // the time this returns.
  QemuSemaphore never_posted(0);
  qemu_sem_timedwait(&never_posted, 10);
  AioContext* other = aio_context_new(s->rt);
  aio_context_unref(other);
  atomic_set(&s->callback_done, true);
}

void ClockDisableBody(SimContext& c) {
  AioRuntime rt(&c.platform());
  qemu_clock_enable(&rt, QEMU_CLOCK_VIRTUAL, true);  // VM start
  AioContext* ctx = aio_context_new(&rt);
  ClockDisableState s;
  s.rt = &rt;
  QEMUTimer* t = timer_new_ns(ctx, QEMU_CLOCK_VIRTUAL, CreatesAContext, &s);
  timer_mod_ns(t, 0);
  Threads& threads = c.platform().threads();
  ThreadId iothread = threads.Spawn(
      "iothread", [&] { aio_poll(ctx, false); }, QEMU_THREAD_JOINABLE);
  qemu_sem_wait(&s.in_callback);
  qemu_clock_enable(&rt, QEMU_CLOCK_VIRTUAL, false);  // pause_all_vcpus
  c.Check(atomic_read(&s.callback_done),
          "qemu_clock_enable(false) waited for the callback");
  threads.Join(iothread);
  timer_free(t);
  aio_context_unref(ctx);
}

TEST(SimFidelityTest, DisablingAClockHoldsNoLockWhileItWaitsForACallback) {
  sim::ExecOptions options;
  options.time_advances_max = 0;  // time jumps only when every thread is blocked
  for (uint64_t seed = 1; seed <= 20; seed++) {
    ExecResult r = RunOnce(ClockDisableBody, options, seed);
    ASSERT_EQ(r.failure.kind, FailureKind::kNone)
        << "seed " << seed << ": " << Describe(r);
  }
}

// ---- item 3: pool->head is Shared, so a foreign submit races there (claim S7) ----

struct PoolRequest {
  int completions = 0;
  static int Func(void*) { return 0; }
  static void Done(void* opaque, int) {
    static_cast<PoolRequest*>(opaque)->completions++;
  }
};

// The home thread submits request a and polls until a and b have completed; a
// foreign thread submits b meanwhile (QEMU's contract: the home thread only). The
// foreign thread is spawned first, so nothing orders the two submits' accesses to
// pool->head: with head Shared, that is the first race of every execution.
void ForeignSubmitBody(SimContext& c) {
  AioRuntime rt(&c.platform());
  AioContext* ctx = aio_context_new(&rt);
  ThreadPool* pool = aio_get_thread_pool(ctx);
  PoolRequest a, b;
  Threads& threads = c.platform().threads();
  ThreadId foreign = threads.Spawn(
      "foreign",
      [&] {
        thread_pool_submit_aio(pool, PoolRequest::Func, nullptr, PoolRequest::Done, &b);
      },
      QEMU_THREAD_JOINABLE);
  thread_pool_submit_aio(pool, PoolRequest::Func, nullptr, PoolRequest::Done, &a);
  for (int i = 0; i < 100 && (a.completions == 0 || b.completions == 0); i++) {
    aio_poll(ctx, true);
  }
  threads.Join(foreign);
  aio_context_unref(ctx);
}

// Both accesses of the race are in thread_pool_submit_aio's own body: before
// pool->lock, the only shared location it touches there is pool->head (the new
// request's all_next is not yet visible to anyone).
bool IsHeadRace(const ExecResult& r) {
  if (r.failure.kind != FailureKind::kDataRace || r.failure.details.size() != 2)
    return false;
  for (const std::string& access : r.failure.details) {
    if (access.find("thread_pool.cc") == std::string::npos ||
        access.find("(thread_pool_submit_aio)") == std::string::npos) {
      return false;
    }
  }
  return true;
}

TEST(SimFidelityTest, ForeignSubmitRacesOnPoolHead) {
  for (uint64_t seed = 1; seed <= 100; seed++) {
    ExecResult r = RunOnce(ForeignSubmitBody, RaceOptions(), seed);
    ASSERT_TRUE(IsHeadRace(r)) << "seed " << seed << ": " << Describe(r);
  }
}

// ---- item 1: the main loop keeps the BQL across zero-timeout iterations ----------

struct SelfRescheduling {
  QEMUBH* bh = nullptr;
  int runs = 0;
  static void Cb(void* opaque) {
    auto* s = static_cast<SelfRescheduling*>(opaque);
    s->runs++;
    qemu_bh_schedule(s->bh);  // always ready again: every iteration has timeout 0
  }
};

// Runs `iterations` main-loop iterations under the BQL with a BH that reschedules
// itself, then `tail` more with only a timer 1 ms ahead (a non-zero timeout).
ExecResult RunMainLoop(int iterations, int tail, MainLoop* out) {
  return RunOnce(
      [=](SimContext& c) {
        AioRuntime rt(&c.platform());
        AioContext* ctx = aio_context_new(&rt);
        QemuMutex bql;
        SelfRescheduling s;
        s.bh = aio_bh_new(ctx, SelfRescheduling::Cb, &s);
        MainLoop loop{ctx, &bql};
        qemu_mutex_lock(&bql);
        qemu_bh_schedule(s.bh);
        for (int i = 0; i < iterations; i++) main_loop_wait(&loop, false);
        qemu_bh_delete(s.bh);
        main_loop_wait(&loop, true);  // zero timeout too: frees nothing yet (walking)
        QEMUTimer* t = timer_new_ns(
            ctx, QEMU_CLOCK_REALTIME, +[](void*) {}, nullptr);
        for (int i = 0; i < tail; i++) {
          timer_mod_ns(t, qemu_clock_get_ns(&rt, QEMU_CLOCK_REALTIME) + SCALE_MS);
          main_loop_wait(&loop, false);
        }
        qemu_mutex_unlock(&bql);
        *out = loop;
        out->ctx = nullptr;
        out->iothread_lock = nullptr;
        timer_del(t);
        timer_free(t);
        aio_poll(ctx, false);
        aio_context_unref(ctx);
      },
      TraceOptions(), 1);
}

TEST(SimFidelityTest, MainLoopDropsTheBqlOnlyAroundAPollThatMayWait) {
  MainLoop loop;
  ExecResult r = RunMainLoop(10, 2, &loop);
  ASSERT_EQ(r.failure.kind, FailureKind::kNone) << Describe(r);
  // 11 zero-timeout iterations keep it; each of the 2 with a timer ahead drops it.
  EXPECT_EQ(CountOps(r, sim::OpKind::kUnlock, "main_loop_wait"), 2);
  EXPECT_EQ(CountOps(r, sim::OpKind::kLock, "main_loop_wait"), 2);
  EXPECT_EQ(loop.spin_counter, 0);
}

TEST(SimFidelityTest, MainLoopForcesAOneMsTimeoutAfterMaxMainLoopSpin) {
  MainLoop loop;
  // MAX_MAIN_LOOP_SPIN + 1 zero-timeout iterations: the counter exceeds the limit...
  ExecResult r = RunMainLoop(MAX_MAIN_LOOP_SPIN, 0, &loop);
  ASSERT_EQ(r.failure.kind, FailureKind::kNone) << Describe(r);
  EXPECT_EQ(CountOps(r, sim::OpKind::kUnlock, "main_loop_wait"), 0);
  EXPECT_EQ(loop.spin_counter, MAX_MAIN_LOOP_SPIN + 1);
  EXPECT_FALSE(loop.spin_notified);
  // ... so the next one (the 1002nd) polls for 1 ms with the BQL dropped, and warns.
  r = RunMainLoop(MAX_MAIN_LOOP_SPIN + 1, 0, &loop);
  ASSERT_EQ(r.failure.kind, FailureKind::kNone) << Describe(r);
  EXPECT_EQ(CountOps(r, sim::OpKind::kUnlock, "main_loop_wait"), 1);
  EXPECT_EQ(loop.spin_counter, 0);
  EXPECT_TRUE(loop.spin_notified);
  EXPECT_GE(r.end_time_ns, SCALE_MS) << "the forced poll waited 1 ms of virtual time";
}

// ---- a blocking aio_poll that returns at once while a notify is in flight ---------
//
// 2.8.1's aio_notify sets the eventfd and only then `notified`; aio_notify_accept
// clears the eventfd only if it swaps `notified` from true. A home thread that polls
// between the foreign thread's two stores finds the eventfd set and cannot clear it:
// every blocking aio_poll then returns at once, without progress, until the foreign
// thread stores `notified` — a busy loop as long as that thread is descheduled (what
// failed the host demo's cap of 10,000 aio_poll calls on a loaded machine). Modern
// (10.x: `notified` first, then the eventfd, which the notifier's own handler drains)
// returns at most once without progress per notify. The foreign thread schedules a
// first BH, then a second; the home thread polls until the second has run, counting
// blocking polls in a row that return false.
void NotifyInFlightBody(SimContext& c, AioGeneration generation) {
  AioRuntime rt(&c.platform());
  AioContextOptions options;
  options.generation = generation;
  AioContext* ctx = aio_context_new(&rt, options);
  int runs[2] = {0, 0};
  auto count = +[](void* opaque) { (*static_cast<int*>(opaque))++; };
  QEMUBH* first = aio_bh_new(ctx, count, &runs[0]);
  QEMUBH* second = aio_bh_new(ctx, count, &runs[1]);
  Threads& threads = c.platform().threads();
  ThreadId foreign = threads.Spawn(
      "foreign",
      [&] {
        qemu_bh_schedule(first);
        qemu_bh_schedule(second);
      },
      QEMU_THREAD_JOINABLE);
  int in_a_row = 0;
  while (runs[1] == 0) {
    in_a_row = aio_poll(ctx, true) ? 0 : in_a_row + 1;
    c.Check(in_a_row < 3, "three blocking aio_polls in a row returned without progress");
  }
  threads.Join(foreign);
  qemu_bh_delete(first);
  qemu_bh_delete(second);
  aio_poll(ctx, false);
  aio_context_unref(ctx);
}

sim::Report SearchNotifyInFlight(AioGeneration generation) {
  sim::RunConfig config;
  config.scenario = "notify-in-flight";
  config.strategy = "dfs";
  config.preemptions = 1;
  config.executions_max = 200000;
  config.minimize = false;
  return sim::Explore([=](SimContext& c) { NotifyInFlightBody(c, generation); }, config);
}

TEST(SimFidelityTest, LegacyBlockingPollSpinsWhileANotifyIsBetweenItsStores) {
  const sim::Report r = SearchNotifyInFlight(AioGeneration::kLegacy);
  ASSERT_TRUE(r.found) << r.executions << " executions, " << r.figures.description;
  EXPECT_EQ(r.failure.kind, FailureKind::kAssertion) << r.failure.message;
  EXPECT_NE(r.failure.message.find("three blocking aio_polls in a row"),
            std::string::npos)
      << r.failure.message;
}

TEST(SimFidelityTest, ModernBlockingPollDoesNotSpinOnANotifyInFlight) {
  const sim::Report r = SearchNotifyInFlight(AioGeneration::kModern);
  EXPECT_FALSE(r.found) << r.failure.message << " (token " << r.token << ")";
  EXPECT_TRUE(r.exhausted) << r.executions << " executions, " << r.figures.description;
}

}  // namespace
}  // namespace aiosim::testing
