// bench/host_loop_bench.cc — Google Benchmark timings of the legacy (QEMU 2.8.1) AIO
// core on the host platform: bottom halves scheduled from the home thread and from a
// foreign thread, and timers.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Every benchmark builds its own world (HostPlatform, AioRuntime, AioContext) and
// tears it down as QEMU code must: every BH deleted, every timer deleted and freed,
// one aio_poll(ctx, false) so the deleted BHs are freed, then aio_context_unref
// (which asserts that no BH was left behind).
//
// Threading: the benchmark thread is the context's home thread; it is the only one
// that calls aio_poll and qemu_bh_delete. The foreign-thread benchmarks spawn exactly
// one joinable thread through the platform (never std::thread), which only calls
// qemu_bh_schedule and waits on semaphores; it is stopped with a flag plus one final
// qemu_bh_schedule (so a home thread blocked in aio_poll wakes up) and joined before
// any BH is deleted.
//
// Every benchmark checks that the callbacks it expects actually ran and reports an
// error (SkipWithError) otherwise, so a broken core cannot produce a fast figure.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "core/aio/aio.h"
#include "core/aio/qemu_timer.h"
#include "core/host/host_platform.h"
#include "core/platform/sync.h"

namespace {

using aiosim::core::AioContext;
using aiosim::core::AioRuntime;
using aiosim::core::Atomic;
using aiosim::core::HostPlatform;
using aiosim::core::QEMU_CLOCK_REALTIME;
using aiosim::core::QEMU_THREAD_JOINABLE;
using aiosim::core::QEMUBH;
using aiosim::core::QemuSemaphore;
using aiosim::core::AioGeneration;
using aiosim::core::QEMUTimer;
using aiosim::core::ThreadId;

// One world for one benchmark run. The destructor finishes the teardown; by then the
// benchmark must have deleted its BHs and freed its timers.
class BenchLoop {
 public:
  explicit BenchLoop(AioGeneration generation = AioGeneration::kLegacy)
      : rt_(&platform_), ctx_(aiosim::core::aio_context_new(&rt_, Options(generation))) {}
  ~BenchLoop() {
    if (ctx_ == nullptr) return;
    aiosim::core::aio_poll(ctx_, false);  // frees the BHs deleted since the last poll
    aiosim::core::aio_context_unref(ctx_);
  }
  BenchLoop(const BenchLoop&) = delete;
  BenchLoop& operator=(const BenchLoop&) = delete;

  // False (and the benchmark is marked as failed) if the context could not be made.
  bool Ok(benchmark::State& state) {
    if (ctx_ == nullptr) state.SkipWithError("aio_context_new failed (eventfd?)");
    return ctx_ != nullptr;
  }
  AioContext* ctx() { return ctx_; }
  HostPlatform& platform() { return platform_; }

 private:
  static aiosim::core::AioContextOptions Options(AioGeneration generation) {
    aiosim::core::AioContextOptions o;
    o.generation = generation;
    return o;
  }

  HostPlatform platform_;
  AioRuntime rt_;
  AioContext* ctx_;
};

// A BH or timer callback that counts its runs. Runs in the home thread only.
void CountCb(void* opaque) { ++*static_cast<uint64_t*>(opaque); }

// Fails the benchmark if `got` differs from `want`.
void ExpectCount(benchmark::State& state, uint64_t got, uint64_t want) {
  if (got != want) state.SkipWithError("a callback count differs from the expected one");
}

// ---- 1. BH schedule -> callback, home thread ------------------------------------------

// One iteration: qemu_bh_schedule from the home thread, then a non-blocking aio_poll
// that runs the callback. Nobody is blocked in aio_poll, so aio_notify writes no
// eventfd; the cost is the schedule, one ppoll(2) with a zero timeout and dispatch.
void BhScheduleLatencyHome(benchmark::State& state, AioGeneration generation) {
  BenchLoop loop(generation);
  if (!loop.Ok(state)) return;
  uint64_t runs = 0;
  QEMUBH* bh = aiosim::core::aio_bh_new(loop.ctx(), CountCb, &runs);

  for (auto _ : state) {
    aiosim::core::qemu_bh_schedule(bh);
    aiosim::core::aio_poll(loop.ctx(), false);
  }

  ExpectCount(state, runs, state.iterations());
  aiosim::core::qemu_bh_delete(bh);
}
void BM_BhScheduleLatencyHome(benchmark::State& state) {
  BhScheduleLatencyHome(state, AioGeneration::kLegacy);
}
BENCHMARK(BM_BhScheduleLatencyHome);
// The same on the modern generation (QEMU 10.2): with only the context's notifier
// registered (it has a poll handler), a non-blocking aio_poll makes no ppoll at all.
void BM_BhScheduleLatencyHomeModern(benchmark::State& state) {
  BhScheduleLatencyHome(state, AioGeneration::kModern);
}
BENCHMARK(BM_BhScheduleLatencyHomeModern);

// ---- 2. BH throughput, home thread ----------------------------------------------------

// One iteration: schedule range(0) distinct BHs, then one aio_poll runs them all.
void BhThroughputHome(benchmark::State& state, AioGeneration generation) {
  BenchLoop loop(generation);
  if (!loop.Ok(state)) return;
  const int64_t n = state.range(0);
  uint64_t runs = 0;
  std::vector<QEMUBH*> bhs;
  for (int64_t i = 0; i < n; i++) {
    bhs.push_back(aiosim::core::aio_bh_new(loop.ctx(), CountCb, &runs));
  }

  for (auto _ : state) {
    for (QEMUBH* bh : bhs) aiosim::core::qemu_bh_schedule(bh);
    aiosim::core::aio_poll(loop.ctx(), false);
  }

  ExpectCount(state, runs, state.iterations() * n);
  state.SetItemsProcessed(state.iterations() * n);
  for (QEMUBH* bh : bhs) aiosim::core::qemu_bh_delete(bh);
}
void BM_BhThroughputHome(benchmark::State& state) {
  BhThroughputHome(state, AioGeneration::kLegacy);
}
BENCHMARK(BM_BhThroughputHome)->Arg(1)->Arg(16)->Arg(256);
void BM_BhThroughputHomeModern(benchmark::State& state) {
  BhThroughputHome(state, AioGeneration::kModern);
}
BENCHMARK(BM_BhThroughputHomeModern)->Arg(1)->Arg(16)->Arg(256);

// ---- 3. BH ping-pong with a foreign thread --------------------------------------------

struct PingPong {
  QEMUBH* bh = nullptr;
  QemuSemaphore pong{0};       // posted by the callback, waited on by the foreign thread
  Atomic<bool> stop{false};    // set by the home thread after the timed loop
  Atomic<bool> exited{false};  // set by the foreign thread before its final schedule
  uint64_t runs = 0;           // home thread only
};

void PingPongCb(void* opaque) {
  auto* p = static_cast<PingPong*>(opaque);
  p->runs++;
  aiosim::core::qemu_sem_post(&p->pong);
}

void PingPongForeign(PingPong* p) {
  while (!aiosim::core::atomic_mb_read(&p->stop)) {
    aiosim::core::qemu_bh_schedule(p->bh);
    aiosim::core::qemu_sem_wait(&p->pong);
  }
  aiosim::core::atomic_mb_set(&p->exited, true);
  aiosim::core::qemu_bh_schedule(p->bh);  // wakes the home thread's last aio_poll
}

// Stops the foreign thread of a ping-pong or flood benchmark and joins it. REQUIRES:
// the home thread; the thread ends with `exited` set and then one qemu_bh_schedule.
void StopForeign(BenchLoop& loop, Atomic<bool>* stop, Atomic<bool>* exited, ThreadId id) {
  aiosim::core::atomic_mb_set(stop, true);
  // The foreign thread may be waiting for a callback, or about to schedule the last
  // one; keep polling until it has gone. Its final schedule wakes a blocked poll.
  while (!aiosim::core::atomic_mb_read(exited)) aiosim::core::aio_poll(loop.ctx(), true);
  loop.platform().threads().Join(id);
}

// One iteration: one round trip. The foreign thread schedules the BH and waits; the
// home thread, blocked in aio_poll(ctx, true), is woken through the eventfd and runs
// the callback, which posts the semaphore; the foreign thread resumes and schedules
// again. Wall-clock time, since both threads mostly sleep.
void BhPingPongForeign(benchmark::State& state, AioGeneration generation) {
  BenchLoop loop(generation);
  if (!loop.Ok(state)) return;
  PingPong p;
  p.bh = aiosim::core::aio_bh_new(loop.ctx(), PingPongCb, &p);
  const ThreadId id = loop.platform().threads().Spawn(
      "bench-pingpong", [&p] { PingPongForeign(&p); }, QEMU_THREAD_JOINABLE);

  uint64_t runs_in_loop = 0;
  uint64_t polls = 0;
  for (auto _ : state) {
    const uint64_t target = p.runs + 1;
    // aio_poll may return without running the BH: aio_notify writes the eventfd
    // before it sets `notified`, and until then aio_notify_accept leaves the eventfd
    // set, so polls return at once (polls_per_rt counts them).
    while (p.runs < target) {
      aiosim::core::aio_poll(loop.ctx(), true);
      polls++;
    }
    runs_in_loop++;
  }

  StopForeign(loop, &p.stop, &p.exited, id);
  ExpectCount(state, runs_in_loop, state.iterations());
  state.counters["polls_per_rt"] =
      static_cast<double>(polls) /
      static_cast<double>(runs_in_loop > 0 ? runs_in_loop : 1);
  aiosim::core::qemu_bh_delete(p.bh);
}
void BM_BhPingPongForeign(benchmark::State& state) {
  BhPingPongForeign(state, AioGeneration::kLegacy);
}
BENCHMARK(BM_BhPingPongForeign)->UseRealTime();
void BM_BhPingPongForeignModern(benchmark::State& state) {
  BhPingPongForeign(state, AioGeneration::kModern);
}
BENCHMARK(BM_BhPingPongForeignModern)->UseRealTime();

// ---- 4. BH flood from a foreign thread ------------------------------------------------

struct Flood {
  QEMUBH* bh = nullptr;
  Atomic<bool> stop{false};
  Atomic<bool> exited{false};
  Atomic<uint64_t> schedules{0};  // written by the foreign thread only (relaxed)
  uint64_t runs = 0;              // home thread only
};

void FloodForeign(Flood* f) {
  uint64_t schedules = 0;
  while (!aiosim::core::atomic_read(&f->stop)) {
    aiosim::core::qemu_bh_schedule(f->bh);
    aiosim::core::atomic_set(&f->schedules, ++schedules);
  }
  aiosim::core::atomic_mb_set(&f->exited, true);
  aiosim::core::qemu_bh_schedule(f->bh);  // wakes the home thread's last aio_poll
}

// One iteration: blocking aio_polls until the callback has run once more, while the
// foreign thread calls qemu_bh_schedule in a tight loop (a poll may return without
// the callback: woken by an eventfd write whose BH it had already run). Schedules of
// an already scheduled BH coalesce, so the callbacks that ran, the schedules and the
// polls are counted separately.
void BhFloodForeign(benchmark::State& state, AioGeneration generation) {
  BenchLoop loop(generation);
  if (!loop.Ok(state)) return;
  Flood f;
  f.bh = aiosim::core::aio_bh_new(loop.ctx(), CountCb, &f.runs);
  const ThreadId id = loop.platform().threads().Spawn(
      "bench-flood", [&f] { FloodForeign(&f); }, QEMU_THREAD_JOINABLE);

  // Measured from the first callback on: a blocking poll may return before the flood
  // began (10.2's context starts with its own notifier's aio_notify pending), and a
  // run of one iteration would then count no callback.
  while (f.runs == 0) aiosim::core::aio_poll(loop.ctx(), true);
  const uint64_t runs_before = f.runs;
  const uint64_t schedules_before = aiosim::core::atomic_read(&f.schedules);
  uint64_t polls = 0;
  for (auto _ : state) {
    const uint64_t before = f.runs;
    while (f.runs == before) {
      aiosim::core::aio_poll(loop.ctx(), true);
      polls++;
    }
  }
  const uint64_t runs = f.runs - runs_before;
  const uint64_t schedules = aiosim::core::atomic_read(&f.schedules) - schedules_before;

  StopForeign(loop, &f.stop, &f.exited, id);
  if (runs == 0) state.SkipWithError("no callback ran");
  using benchmark::Counter;
  state.counters["callbacks_per_s"] =
      Counter(static_cast<double>(runs), Counter::kIsRate);
  state.counters["schedules_per_s"] =
      Counter(static_cast<double>(schedules), Counter::kIsRate);
  state.counters["schedules_per_cb"] =
      static_cast<double>(schedules) / static_cast<double>(runs > 0 ? runs : 1);
  state.counters["polls_per_cb"] =
      static_cast<double>(polls) / static_cast<double>(runs > 0 ? runs : 1);
  aiosim::core::qemu_bh_delete(f.bh);
}
void BM_BhFloodForeign(benchmark::State& state) {
  BhFloodForeign(state, AioGeneration::kLegacy);
}
BENCHMARK(BM_BhFloodForeign)->UseRealTime();
// QEMU 10.2: every qemu_bh_schedule notifies (a fence pair, and an eventfd write while
// the home thread sleeps), where 2.8.1's coalesced schedule of a scheduled BH does not.
void BM_BhFloodForeignModern(benchmark::State& state) {
  BhFloodForeign(state, AioGeneration::kModern);
}
BENCHMARK(BM_BhFloodForeignModern)->UseRealTime();

// ---- 5. timers ------------------------------------------------------------------------

// One iteration: arm range(0) timers on QEMU_CLOCK_REALTIME at time 0 (already
// expired), then one aio_poll(ctx, false) runs them all. Equal deadlines are kept in
// arming order, so each timer_mod_ns walks the whole list: arming is quadratic in N,
// as in QEMU 2.8.
void TimerThroughput(benchmark::State& state, AioGeneration generation) {
  BenchLoop loop(generation);
  if (!loop.Ok(state)) return;
  const int64_t n = state.range(0);
  uint64_t runs = 0;
  std::vector<QEMUTimer*> timers;
  for (int64_t i = 0; i < n; i++) {
    timers.push_back(
        aiosim::core::timer_new_ns(loop.ctx(), QEMU_CLOCK_REALTIME, CountCb, &runs));
  }

  for (auto _ : state) {
    for (QEMUTimer* ts : timers) aiosim::core::timer_mod_ns(ts, 0);
    aiosim::core::aio_poll(loop.ctx(), false);
  }

  ExpectCount(state, runs, state.iterations() * n);
  state.SetItemsProcessed(state.iterations() * n);
  for (QEMUTimer* ts : timers) {
    aiosim::core::timer_del(ts);
    aiosim::core::timer_free(ts);
  }
}
void BM_TimerThroughput(benchmark::State& state) {
  TimerThroughput(state, AioGeneration::kLegacy);
}
BENCHMARK(BM_TimerThroughput)->Arg(1)->Arg(16)->Arg(256);
// 10.2's timer lists: the lock held across timerlist_run_timers' loop, atomic peeks.
void BM_TimerThroughputModern(benchmark::State& state) {
  TimerThroughput(state, AioGeneration::kModern);
}
BENCHMARK(BM_TimerThroughputModern)->Arg(1)->Arg(16)->Arg(256);

// One iteration: timer_mod_ns + timer_del of one timer on a list that holds range(0)
// other timers armed an hour or more ahead. range(1) = 0 arms it before all of them
// (it becomes the head, which also calls aio_notify); 1 arms it after all of them, so
// the sorted insert walks the whole list. timer_mod_ns first unlinks the timer, which
// walks the whole list when it is not armed.
void TimerModDel(benchmark::State& state, AioGeneration generation) {
  BenchLoop loop(generation);
  if (!loop.Ok(state)) return;
  const int64_t others = state.range(0);
  const bool tail = state.range(1) != 0;
  const int64_t now =
      aiosim::core::qemu_clock_get_ns(loop.ctx()->runtime, QEMU_CLOCK_REALTIME);
  constexpr int64_t kHourNs = 3600 * 1000 * aiosim::core::SCALE_MS;
  const int64_t far_ns = now + kHourNs;
  uint64_t runs = 0;
  std::vector<QEMUTimer*> timers;
  for (int64_t i = 0; i < others; i++) {
    QEMUTimer* ts =
        aiosim::core::timer_new_ns(loop.ctx(), QEMU_CLOCK_REALTIME, CountCb, &runs);
    aiosim::core::timer_mod_ns(ts, far_ns + i);
    timers.push_back(ts);
  }
  QEMUTimer* ts =
      aiosim::core::timer_new_ns(loop.ctx(), QEMU_CLOCK_REALTIME, CountCb, &runs);
  timers.push_back(ts);
  const int64_t deadline_ns = tail ? far_ns + 2 * kHourNs : now;

  for (auto _ : state) {
    aiosim::core::timer_mod_ns(ts, deadline_ns);
    aiosim::core::timer_del(ts);
  }

  ExpectCount(state, runs, 0);  // nothing was polled, so nothing ran
  for (QEMUTimer* t : timers) {
    aiosim::core::timer_del(t);
    aiosim::core::timer_free(t);
  }
}
void BM_TimerModDel(benchmark::State& state) { TimerModDel(state, AioGeneration::kLegacy); }
BENCHMARK(BM_TimerModDel)
    ->ArgNames({"others", "tail"})
    ->ArgsProduct({{0, 16, 256}, {0, 1}});
void BM_TimerModDelModern(benchmark::State& state) {
  TimerModDel(state, AioGeneration::kModern);
}
BENCHMARK(BM_TimerModDelModern)
    ->ArgNames({"others", "tail"})
    ->ArgsProduct({{0, 16, 256}, {0, 1}});

}  // namespace

BENCHMARK_MAIN();
