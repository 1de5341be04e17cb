// bench/sim_bench.cc — Google Benchmark timings of the simulator itself: scheduling
// points per second, executions per second of a standard workload and of scenario S3,
// and the memory one execution with 8 fibers costs.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Every benchmark is deterministic: a RandomStrategy with a fixed seed, and benchmark
// iteration i runs execution i of that strategy (RandomStrategy::BeginExecution(i)),
// exactly as the explorer would. Two runs differ only in time and in how many
// iterations Google Benchmark chooses (so averaged counters may move slightly).
//
// Threading: the benchmark thread runs the simulations (its fibers and its
// thread_local stack pool). The memory benchmark also starts one std::thread, outside
// any simulation, only to get a fresh stack pool whose first execution maps and
// touches the fiber stacks; it is joined before the benchmark goes on.
//
// Every execution is checked: a failure (none is expected in these workloads) stops
// the benchmark with SkipWithError, so a broken simulator cannot give a fast figure.
// Only BM_ScenarioS3 expects failures and counts them instead.
//
// This binary links the simulator's build of the AIO core (aiosim::core_sim through
// aiosim::scenarios); the host build (aiosim_bench_host) defines the same symbols, so
// the two can never share an executable.
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <boost/context/detail/fcontext.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iterator>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench/proc_memory.h"
#include "core/platform/sync.h"
#include "properties/harness.h"
#include "properties/suites.h"
#include "scenarios/catalog.h"
#include "scenarios/util.h"
#include "sim/aiosim_sim.h"
#include "sim/fiber.h"
#include "sim/random_pct.h"

// ---- counting operator new ------------------------------------------------------------
// Replaces the global operator new/delete so the benchmarks can report how many C++
// allocations one execution makes and the peak of C++-allocated bytes it holds. Sizes
// are malloc_usable_size, so they are what the allocator really hands out. Counting is
// off except around a few untimed executions (CountAllocations): inside timed loops
// the replacement costs one thread_local test. Counters are per OS thread. The
// simulator's tracked heap (platform_new, sim/heap.cc) uses aligned_alloc and is not
// counted here; its peak is ExecResult::peak_heap_bytes. operator delete is kept out
// of line: inlined next to a `new`, GCC would warn that malloc'd memory reaches a
// delete.
namespace {
struct AllocCounters {
  bool enabled = false;
  uint64_t calls = 0;  // operator new calls
  uint64_t bytes = 0;  // bytes they returned
  int64_t live = 0;    // bytes allocated and not yet deleted while counting
  int64_t peak = 0;    // maximum of `live`
};
thread_local AllocCounters t_alloc;
}  // namespace

void* operator new(std::size_t n) {
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  if (t_alloc.enabled) {
    const size_t usable = malloc_usable_size(p);
    t_alloc.calls++;
    t_alloc.bytes += usable;
    t_alloc.live += static_cast<int64_t>(usable);
    if (t_alloc.live > t_alloc.peak) t_alloc.peak = t_alloc.live;
  }
  return p;
}
void* operator new[](std::size_t n) { return ::operator new(n); }
[[gnu::noinline]] void operator delete(void* p) noexcept {
  if (p == nullptr) return;
  if (t_alloc.enabled) t_alloc.live -= static_cast<int64_t>(malloc_usable_size(p));
  std::free(p);
}
void operator delete[](void* p) noexcept { ::operator delete(p); }
void operator delete(void* p, std::size_t) noexcept { ::operator delete(p); }
void operator delete[](void* p, std::size_t) noexcept { ::operator delete(p); }

namespace {

using aiosim::core::Atomic;
using aiosim::core::QemuMutex;
using aiosim::core::Shared;
using aiosim::core::ThreadId;
namespace core = aiosim::core;
namespace scenarios = aiosim::scenarios;
namespace sim = aiosim::sim;
using aiosim::bench::SmapsRollup;
using aiosim::bench::VirtualBytes;
using benchmark::Counter;

constexpr uint64_t kSeed = 1;

// ---- measurement helpers --------------------------------------------------------------

// Bytes malloc has handed out and not got back (glibc, every arena): chunks in use,
// including those parked in the per-thread tcache, plus mmapped chunks.
int64_t HeapInUse() {
  const struct mallinfo2 mi = mallinfo2();
  return static_cast<int64_t>(mi.uordblks + mi.hblkhd);
}

Counter Bytes(double v) { return Counter(v, Counter::kDefaults, Counter::kIs1024); }

// Runs execution `index` of `strategy`.
sim::ExecResult RunIndex(const sim::Body& body, const sim::ExecOptions& options,
                         sim::RandomStrategy* strategy, uint64_t index) {
  strategy->BeginExecution(index);
  return sim::RunExecution(body, options, strategy);
}

// The C++ allocations of executions first..first+3 of a fresh random walk (one of each
// switch probability, see RandomStrategy), after one uncounted run so the thread's
// pools and caches are warm: calls and bytes per execution, and the largest peak of
// live bytes. Untimed.
AllocCounters CountAllocations(const sim::Body& body, const sim::ExecOptions& options,
                               uint64_t first) {
  constexpr uint64_t kRuns = 4;
  sim::RandomStrategy strategy(kSeed);
  RunIndex(body, options, &strategy, first);
  AllocCounters total;
  for (uint64_t i = first; i < first + kRuns; i++) {
    t_alloc = AllocCounters{};
    t_alloc.enabled = true;
    RunIndex(body, options, &strategy, i);
    t_alloc.enabled = false;
    total.calls += t_alloc.calls;
    total.bytes += t_alloc.bytes;
    total.peak = std::max(total.peak, t_alloc.peak);
  }
  total.calls /= kRuns;
  total.bytes /= kRuns;
  return total;
}

void SetAllocationCounters(benchmark::State& state, const AllocCounters& a) {
  state.counters["news_per_exec"] = static_cast<double>(a.calls);
  state.counters["new_B_per_exec"] = Bytes(static_cast<double>(a.bytes));
}

// False (and the benchmark is marked as failed) if the execution failed.
bool Succeeded(benchmark::State& state, const sim::ExecResult& r) {
  if (r.failure.kind == sim::FailureKind::kNone) return true;
  const std::string what = std::string("unexpected ") +
                           sim::FailureKindName(r.failure.kind) + ": " +
                           r.failure.message;
  state.SkipWithError(what.c_str());
  return false;
}

double PerIteration(const benchmark::State& state, double total) {
  return total / static_cast<double>(std::max<int64_t>(state.iterations(), 1));
}

// ---- workloads ------------------------------------------------------------------------

// `threads` simulated threads (the main thread alone if threads == 1; else main spawns
// them and joins them) each make `accesses` accesses, in rounds of four: a relaxed load
// and a relaxed store of one Atomic<int> that all share, then a load and a store of a
// Shared<int> of its own (a shared one would be a data race, and the race detector
// would end the execution). Every access is a scheduling point.
// REQUIRES: 1 <= threads <= 8; accesses a multiple of 4.
// `accesses` accesses, in rounds of four: a relaxed load and store of `common`, a load
// and a store of `mine`.
void Accesses(Atomic<int>* common, Shared<int>* mine, int64_t accesses) {
  for (int64_t i = 0; i < accesses; i += 4) {
    const int v = core::atomic_read(common);
    core::atomic_set(common, v + 1);
    mine->Store(mine->Load() + 1);
  }
}

sim::Body PointsBody(int threads, int64_t accesses) {
  return [threads, accesses](sim::SimContext& c) {
    Atomic<int> common{0};
    std::unique_ptr<Shared<int>[]> own(new Shared<int>[threads]);
    auto work = [&common, accesses](Shared<int>* mine) {
      Accesses(&common, mine, accesses);
    };
    if (threads == 1) {
      work(&own[0]);
      return;
    }
    ThreadId ids[8];
    for (int t = 0; t < threads; t++) {
      ids[t] = scenarios::Spawn(c, "worker", [&work, &own, t] { work(&own[t]); });
    }
    for (int t = 0; t < threads; t++) scenarios::Join(c, ids[t]);
  };
}

// What the threads of the standard workload share.
struct StandardWorld {
  QemuMutex lock;
  Shared<int> data{0};
  Atomic<int> count{0};
};

// The standard workload (the shape of Relacy's usual benchmark): `threads` simulated
// threads, the main thread being one of them, each run `iterations` rounds of
// {qemu_mutex_lock; load and store a Shared<int>; qemu_mutex_unlock; a seq-cst
// atomic_fetch_add on an Atomic<int>}: 5 operations a round. Main then joins the
// others and checks both totals. `sample`, if set, is called by every thread after its
// last round, with no scheduling point (the memory benchmark measures there).
// REQUIRES: 1 <= threads <= 8.
sim::Body StandardBody(int threads, int iterations, const std::function<void()>* sample) {
  return [threads, iterations, sample](sim::SimContext& c) {
    StandardWorld w;
    auto work = [&w, iterations, sample] {
      for (int i = 0; i < iterations; i++) {
        core::qemu_mutex_lock(&w.lock);
        w.data.Store(w.data.Load() + 1);
        core::qemu_mutex_unlock(&w.lock);
        core::atomic_fetch_add(&w.count, 1);
      }
      if (sample != nullptr && *sample) (*sample)();
    };
    ThreadId ids[8];
    for (int t = 1; t < threads; t++) ids[t] = scenarios::Spawn(c, "worker", work);
    work();
    for (int t = 1; t < threads; t++) scenarios::Join(c, ids[t]);
    c.Check(w.data.Load() == threads * iterations, "every locked increment was kept");
    c.Check(core::atomic_read(&w.count) == threads * iterations,
            "every atomic_fetch_add was kept");
  };
}

// ---- 1. scheduling points -------------------------------------------------------------

constexpr int64_t kAccessesPerThread = int64_t{1} << 16;

// One iteration: one execution in which range(0) threads each make kAccessesPerThread
// accesses (PointsBody). range(1): the race detector on or off. points_per_s counts
// every scheduling point (ExecResult::steps, which also includes the few spawns,
// joins and exits); switch_ratio is the fraction of points where the strategy switched
// away from a thread that could have gone on.
void BM_SchedulingPoints(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const sim::Body body = PointsBody(threads, kAccessesPerThread);
  sim::ExecOptions options;
  options.race_detection = state.range(1) != 0;
  options.max_steps = static_cast<uint64_t>(threads * kAccessesPerThread) + 1000;
  sim::RandomStrategy strategy(kSeed);
  uint64_t index = 0;
  double steps = 0;
  double switches = 0;
  for (auto _ : state) {
    const sim::ExecResult r = RunIndex(body, options, &strategy, index++);
    if (!Succeeded(state, r)) break;
    steps += static_cast<double>(r.steps);
    switches += r.preemptions;
  }
  state.counters["points_per_s"] = Counter(steps, Counter::kIsRate);
  state.counters["points_per_exec"] = PerIteration(state, steps);
  state.counters["switch_ratio"] = switches / std::max(steps, 1.0);
}
BENCHMARK(BM_SchedulingPoints)
    ->ArgNames({"threads", "races"})
    ->ArgsProduct({{1, 2, 4}, {0, 1}})
    ->Unit(benchmark::kMillisecond);

// ---- 2. the standard workload ---------------------------------------------------------

// One iteration: one execution of the standard workload (range(0) threads x 25 rounds,
// 5 operations a round: 375 operations at 3 threads), execution i of the random walk.
// range(1): race detector on or off. range(2): 1 makes the strategy choose at every
// scheduling point, as Relacy's rl::sched_random does: iteration i runs execution 4i,
// whose switch probability is 1 (RandomStrategy: s = 1, no quanta); 0 runs execution i
// (s cycling through 1, 4, 16, 64). s_per_point is CPU time per scheduling point
// (ExecResult::steps; printed in seconds, e.g. "27.7n"), the figure whose growth from 2
// to 8 threads the README tracks; choices_per_exec counts recorded choices (who runs,
// which waiter wakes).
void BM_StandardWorkload(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const bool every_point = state.range(2) != 0;
  const sim::Body body = StandardBody(threads, 25, nullptr);
  sim::ExecOptions options;
  options.race_detection = state.range(1) != 0;
  sim::RandomStrategy strategy(kSeed);
  uint64_t index = 0;
  double steps = 0;
  double choices = 0;
  for (auto _ : state) {
    const sim::ExecResult r =
        RunIndex(body, options, &strategy, every_point ? 4 * index : index);
    index++;
    if (!Succeeded(state, r)) break;
    steps += static_cast<double>(r.steps);
    choices += static_cast<double>(r.choices.size());
  }
  state.counters["execs_per_s"] =
      Counter(static_cast<double>(state.iterations()), Counter::kIsRate);
  state.counters["points_per_exec"] = PerIteration(state, steps);
  state.counters["choices_per_exec"] = PerIteration(state, choices);
  state.counters["s_per_point"] = Counter(steps, Counter::kIsRate | Counter::kInvert);
  SetAllocationCounters(state, CountAllocations(body, options, 0));
}
BENCHMARK(BM_StandardWorkload)
    ->ArgNames({"threads", "races", "every"})
    ->ArgsProduct({{2, 3, 4, 8}, {0, 1}, {0, 1}});

// ---- 2b. the cost of one scheduling point against a bare fiber switch ---------------

// A bare Boost.Context switch, the floor under any fiber scheduler: two contexts that
// jump_fcontext to each other, nothing else. Measured here, in the same binary as the
// scheduling points it is compared with.
namespace bare {
namespace bctx = boost::context::detail;
// Two contexts that switch to each other: main and a pong context on its own stack.
class PingPong {
 public:
  PingPong() : pong_(bctx::make_fcontext(stack_ + sizeof stack_, sizeof stack_, &Pong)) {}
  // `n` switches (main -> pong and pong -> main count one each), n even.
  void Switch(uint64_t n) {
    for (uint64_t i = 0; i < n; i += 2) pong_ = bctx::jump_fcontext(pong_, nullptr).fctx;
  }

 private:
  static void Pong(bctx::transfer_t t) {
    for (bctx::fcontext_t back = t.fctx;;) back = bctx::jump_fcontext(back, nullptr).fctx;
  }
  alignas(64) char stack_[64 * 1024];
  bctx::fcontext_t pong_;
};
// ns per switch of `switches` switches, the fastest of `rounds` timed runs (wall clock;
// no simulation is involved).
double SwitchNs(uint64_t switches, int rounds) {
  static PingPong pp;
  double best = 1e30;
  for (int r = 0; r < rounds; r++) {
    const auto t0 = std::chrono::steady_clock::now();
    pp.Switch(switches);
    const auto t1 = std::chrono::steady_clock::now();
    best = std::min(best, std::chrono::duration<double, std::nano>(t1 - t0).count() /
                              static_cast<double>(switches));
  }
  return best;
}
}  // namespace bare

// One iteration: 2^20 bare switches (the figure the point costs below are held to).
void BM_BareSwitch(benchmark::State& state) {
  static bare::PingPong pp;
  constexpr uint64_t kSwitches = uint64_t{1} << 20;
  for (auto _ : state) pp.Switch(kSwitches);
  state.counters["s_per_switch"] =
      Counter(static_cast<double>(kSwitches),
              Counter::kIsIterationInvariantRate | Counter::kInvert);
}
BENCHMARK(BM_BareSwitch)->Unit(benchmark::kMillisecond);

// What a switch costs once the resumed side returns: two fibers (the simulator's own
// switch, sim::Fiber) switch to each other, each from `depth` nested calls below the
// same loop. The CPU predicts a return from its return-address stack, which holds the
// calls of the fiber that switched away; so each return the resumed fiber makes to an
// address that differs from the suspended one's at the same level is mispredicted.
// range(0): depth; range(1): 0 = both fibers nest through the same functions (equal
// return addresses: predicted), 1 = each through functions of its own (every level
// differs). A scheduling point is the second kind: the resumed thread returns through
// the frames of its own operation, while BM_BareSwitch's loop makes no return at all.
namespace frames {
struct Pair {
  sim::StackPool stacks{64 * 1024};
  sim::Fiber fiber[2];
  int cur = 0;
  int depth = 0;
  int distinct = 0;
};
Pair* pair = nullptr;
volatile int sink = 0;

template <int kTag, int kDepth>
[[gnu::noinline]] void Down() {
  if constexpr (kDepth == 0) {
    const int me = pair->cur;
    pair->cur = 1 - me;
    pair->fiber[me].SwitchTo(&pair->fiber[1 - me]);
    sink = kTag;
  } else {
    Down<kTag, kDepth - 1>();
    // Not a tail call, and code of its own per tag (else identical functions fold).
    sink = kTag;
  }
}
// `n` round trips (two switches each), through frames tagged kTag.
template <int kTag>
[[gnu::noinline]] void Loop(uint64_t n) {
  for (uint64_t i = 0; i < n; i++) {
    if (pair->depth == 0) {
      Down<kTag, 0>();
    } else if (pair->depth == 1) {
      Down<kTag, 1>();
    } else if (pair->depth == 3) {
      Down<kTag, 3>();
    } else {
      Down<kTag, 6>();  // the benchmark's largest depth
    }
    sink = kTag;
  }
}
void Other(void*) {
  for (;;) {
    if (pair->distinct != 0) {
      Loop<1>(1);
    } else {
      Loop<0>(1);
    }
  }
}
}  // namespace frames

void BM_SwitchReturns(benchmark::State& state) {
  if (frames::pair == nullptr) {
    frames::pair = new frames::Pair;  // the other fiber never ends: kept for the process
    frames::pair->fiber[0].MakeMain();
    frames::pair->fiber[1].Make(frames::pair->stacks.Get(), &frames::Other, nullptr);
  }
  frames::pair->depth = static_cast<int>(state.range(0));
  frames::pair->distinct = static_cast<int>(state.range(1));
  constexpr uint64_t kRoundTrips = uint64_t{1} << 19;
  frames::Loop<0>(1);  // the other fiber now nests as configured
  for (auto _ : state) frames::Loop<0>(kRoundTrips);
  state.counters["s_per_switch"] =
      Counter(static_cast<double>(2 * kRoundTrips),
              Counter::kIsIterationInvariantRate | Counter::kInvert);
}
BENCHMARK(BM_SwitchReturns)
    ->ArgNames({"depth", "distinct"})
    ->ArgsProduct({{0, 1, 3, 6}, {0, 1}})
    ->Unit(benchmark::kMillisecond);

// A strategy that makes every scheduling point a choice (quantum 0) and answers it by
// a fixed rule: keep the current thread (a point that could switch and does not), or
// run another one (every point switches). Deterministic; no randomness.
class FixedRuleStrategy final : public sim::Strategy {
 public:
  explicit FixedRuleStrategy(bool switch_always) : switch_(switch_always) {}
  bool BeginExecution(uint64_t) override { return true; }
  sim::Decision Choose(const sim::ChoicePoint& p) override {
    for (uint32_t i = 0; i < p.n; i++) {
      if (p.options[i].kind != sim::OptionKind::kThread) continue;
      const bool is_current = static_cast<int>(p.options[i].arg) == p.current;
      if (is_current != switch_) return {i, 0};
    }
    return {0, 0};
  }
  std::string Describe() const override {
    return switch_ ? "always switch" : "never switch";
  }

 private:
  bool switch_;
};

// Main and one worker make `main_accesses` and `worker_accesses` accesses (Accesses,
// as PointsBody's threads do); main spawns the worker first and joins it last.
sim::Body PointCostBody(int64_t main_accesses, int64_t worker_accesses) {
  return [main_accesses, worker_accesses](sim::SimContext& c) {
    Atomic<int> common{0};
    Shared<int> own[2];
    if (worker_accesses == 0) {
      Accesses(&common, &own[0], main_accesses);
      return;
    }
    const ThreadId id = scenarios::Spawn(
        c, "worker", [&] { Accesses(&common, &own[1], worker_accesses); });
    Accesses(&common, &own[0], main_accesses);
    scenarios::Join(c, id);
  };
}

// One iteration: one execution of PointCostBody (relaxed atomic and plain accesses,
// every access a scheduling point; no blocking), 2^16 accesses. range(0) = 0: main
// alone, no point can switch (the inline path); 1: main beside a worker that stays
// runnable (4 accesses, made after main's), every point a choice that keeps main;
// 2: main and the worker 2^16 accesses each, every point a choice that switches.
// s_per_point is CPU time per point, the access itself included; bare_switch_ns is a
// bare jump_fcontext switch measured just before the timed loop, and x_bare the ratio
// of the loop's wall time per point to it.
void BM_PointCost(benchmark::State& state) {
  const int mode = static_cast<int>(state.range(0));
  constexpr int64_t kAccesses = int64_t{1} << 16;
  const sim::Body body = PointCostBody(kAccesses, mode == 0   ? 0
                                                  : mode == 1 ? 4
                                                              : kAccesses);
  const int threads = mode == 0 ? 1 : 2;
  sim::ExecOptions options;
  options.max_steps = static_cast<uint64_t>(threads * kAccesses) + 1000;
  // Fairness would bench a thread kept running for 1,000 points in a row.
  options.fairness_steps = options.max_steps;
  options.race_detection = state.range(1) != 0;
  FixedRuleStrategy strategy(/*switch_always=*/mode == 2);
  const double bare_ns = bare::SwitchNs(uint64_t{1} << 20, 5);
  double steps = 0;
  double choices = 0;
  // Wall time of the loop, for x_bare (the bare switch is timed the same way).
  const auto t0 = std::chrono::steady_clock::now();
  for (auto _ : state) {
    const sim::ExecResult r = sim::RunExecution(body, options, &strategy);
    if (!Succeeded(state, r)) break;
    steps += static_cast<double>(r.steps);
    choices += static_cast<double>(r.choices.size());
  }
  const double wall_ns =
      std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0)
          .count();
  state.counters["s_per_point"] = Counter(steps, Counter::kIsRate | Counter::kInvert);
  state.counters["choices_per_point"] = choices / std::max(steps, 1.0);
  state.counters["bare_switch_ns"] = bare_ns;
  state.counters["x_bare"] = wall_ns / std::max(steps, 1.0) / bare_ns;
}
BENCHMARK(BM_PointCost)
    ->ArgNames({"mode", "races"})
    ->ArgsProduct({{0, 1, 2}, {0, 1}})
    ->Unit(benchmark::kMillisecond);

// ---- 3. catalog scenarios S3 and R4 -----------------------------------------------

// One iteration: one execution of a catalog scenario (S3 canceller=foreign: a vCPU
// thread schedules and cancels a BH while the home thread polls), execution i of the
// random walk. Some executions find the bug; failed_ratio is their fraction (the run
// does not stop there) and the label counts executions by failure kind. range(0): race
// detector on or off.
void CatalogScenario(benchmark::State& state, const char* id, scenarios::Options given,
                     const char* generation) {
  const scenarios::Scenario* s = scenarios::FindScenario(id);
  if (s == nullptr) {
    state.SkipWithError("the scenario is not in the catalog");
    return;
  }
  given.emplace_back("generation", generation);
  absl::StatusOr<scenarios::Options> resolved = scenarios::ResolveOptions(*s, given);
  if (!resolved.ok()) {
    state.SkipWithError(std::string(resolved.status().message()).c_str());
    return;
  }
  const sim::Body body = s->make(*resolved);
  sim::ExecOptions options;
  options.race_detection = state.range(0) != 0;
  sim::RandomStrategy strategy(kSeed);
  uint64_t index = 0;
  double steps = 0;
  double failed = 0;
  size_t tracked_peak = 0;
  uint64_t by_kind[static_cast<int>(sim::FailureKind::kReplayDiverged) + 1] = {};
  for (auto _ : state) {
    const sim::ExecResult r = RunIndex(body, options, &strategy, index++);
    steps += static_cast<double>(r.steps);
    failed += r.failure.kind != sim::FailureKind::kNone ? 1 : 0;
    by_kind[static_cast<int>(r.failure.kind)]++;
    tracked_peak = std::max(tracked_peak, r.peak_heap_bytes);
  }
  std::string label;  // e.g. "none 9950, assertion 50"
  for (int k = 0; k < static_cast<int>(std::size(by_kind)); k++) {
    if (by_kind[k] == 0) continue;
    if (!label.empty()) label += ", ";
    label += sim::FailureKindName(static_cast<sim::FailureKind>(k));
    label += " " + std::to_string(by_kind[k]);
  }
  state.SetLabel(label);
  state.counters["execs_per_s"] =
      Counter(static_cast<double>(state.iterations()), Counter::kIsRate);
  state.counters["failed_ratio"] = PerIteration(state, failed);
  state.counters["points_per_exec"] = PerIteration(state, steps);
  state.counters["tracked_peak_B"] = Bytes(static_cast<double>(tracked_peak));
  SetAllocationCounters(state, CountAllocations(body, options, 0));
}
void ScenarioS3(benchmark::State& state, const char* generation) {
  CatalogScenario(state, "S3", {{"canceller", "foreign"}}, generation);
}
void BM_ScenarioS3(benchmark::State& state) { ScenarioS3(state, "legacy"); }
BENCHMARK(BM_ScenarioS3)->ArgName("races")->Arg(0)->Arg(1);
// The same claim on the modern generation (QEMU 10.2: cancel a fetch_and).
void BM_ScenarioS3Modern(benchmark::State& state) { ScenarioS3(state, "modern"); }
BENCHMARK(BM_ScenarioS3Modern)->ArgName("races")->Arg(0)->Arg(1);
// Race R4 with its default options (a vCPU's blocking aio_poll beside an iothread in
// the GSource path, the fix in place), on 2.8.1 and on 10.2: no failure on either.
void BM_ScenarioR4(benchmark::State& state) {
  CatalogScenario(state, "R4", {}, "legacy");
}
BENCHMARK(BM_ScenarioR4)->ArgName("races")->Arg(0)->Arg(1);
void BM_ScenarioR4Modern(benchmark::State& state) {
  CatalogScenario(state, "R4", {}, "modern");
}
BENCHMARK(BM_ScenarioR4Modern)->ArgName("races")->Arg(0)->Arg(1);

// ---- 4. property programs -------------------------------------------------------------

// One iteration: one execution of a generated property program (suite `mixed`,
// documented mode, fixed code: every later fix applied), the harness and its contract
// model included. 50 programs of 3 threads x 10 operations are generated once from
// fixed RapidCheck seeds; iteration i runs program i % 50, execution i of the random
// walk, as `aiosim prop` explores them. range(0): 0 race detector off, 1 on (property
// runs use it on).
void BM_PropertyProgram(benchmark::State& state) {
  using namespace aiosim::properties;  // NOLINT
  const Suite& suite = *FindSuite("mixed");
  const uint32_t sw = FixedSwitches();
  std::vector<sim::Body> bodies;
  for (int i = 0; i < 50; i++) {
    HarnessConfig cfg;
    cfg.switches = sw;
    for (int t = 0; t < 3; t++) {
      cfg.program.threads.push_back(GenThreadOps(suite, t != 0, Mode::kDocumented, sw,
                                                 aiosim::core::AioGeneration::kLegacy,
                                                 10)(rc::Random(1000 + i * 3 + t), 10)
                                        .value());
    }
    bodies.push_back(MakeBody(cfg));
  }
  sim::ExecOptions options = PropertyExecOptions();
  options.race_detection = state.range(0) != 0;
  sim::RandomStrategy strategy(kSeed);
  uint64_t index = 0;
  double steps = 0;
  double failed = 0;
  for (auto _ : state) {
    const sim::ExecResult r =
        RunIndex(bodies[index % bodies.size()], options, &strategy, index);
    index++;
    steps += static_cast<double>(r.steps);
    failed += r.failure.kind != sim::FailureKind::kNone ? 1 : 0;
  }
  if (failed > 0) {
    state.SkipWithError("a property execution failed on fixed code");
    return;
  }
  state.counters["execs_per_s"] =
      Counter(static_cast<double>(state.iterations()), Counter::kIsRate);
  state.counters["points_per_exec"] = PerIteration(state, steps);
}
BENCHMARK(BM_PropertyProgram)->ArgName("races")->Arg(0)->Arg(1);

// ---- 4. memory per execution with 8 fibers --------------------------------------------

constexpr int kMemThreads = 8;     // main + 7 spawned: 8 fibers, 8 pooled stacks
constexpr int kMemIterations = 5;  // rounds of the standard workload per thread

// What the first executions on a fresh OS thread (a fresh, empty stack pool) cost.
struct FirstExecutions {
  int64_t anon_first = -1;   // anonymous resident bytes added by the first execution
  int64_t anon_second = -1;  // ... and by the second (stacks reused: expected ~0)
  int64_t vm_first = -1;     // virtual bytes mapped by the first (the 8 stacks)
  bool ok = false;
};

// Runs two executions on a new OS thread, which has its own thread_local stack pool,
// so the first one maps and touches 8 new stacks. The thread's malloc arena is
// created before measuring.
FirstExecutions MeasureFreshThread(const sim::Body& body) {
  FirstExecutions out;
  std::thread t([&] {
    std::free(std::malloc(4096));  // creates this thread's malloc arena
    sim::ExecOptions options;
    sim::RandomStrategy strategy(kSeed);
    const int64_t anon0 = SmapsRollup("Anonymous");
    const int64_t vm0 = VirtualBytes();
    const bool ok1 =
        RunIndex(body, options, &strategy, 0).failure.kind == sim::FailureKind::kNone;
    const int64_t anon1 = SmapsRollup("Anonymous");
    const int64_t vm1 = VirtualBytes();
    const bool ok2 =
        RunIndex(body, options, &strategy, 1).failure.kind == sim::FailureKind::kNone;
    const int64_t anon2 = SmapsRollup("Anonymous");
    out.anon_first = anon1 - anon0;
    out.anon_second = anon2 - anon1;
    out.vm_first = vm1 - vm0;
    out.ok = ok1 && ok2 && anon0 >= 0;
  });
  t.join();
  return out;
}

// One iteration: one execution of the standard workload with 8 threads x 5 rounds.
// Before the timed loop it measures (see README.md for what each number means):
//   stack_rss_first_B   anonymous memory the first execution on a fresh thread made
//                       resident: the pages of the 8 new stacks that were touched (and
//                       a few heap pages); stack_rss_again_B: the same for the second;
//   stack_vm_B          virtual memory that first execution mapped (8 stacks + guards);
//   malloc_peak_B       malloc'd bytes in use inside one warm execution, sampled by
//                       every thread after its last round (mallinfo2), minus before;
//   new_peak_B          peak of C++-allocated bytes during a warm execution (exact,
//                       from the counting operator new; the largest of four);
//   tracked_peak_B      ExecResult::peak_heap_bytes (platform_new objects: none here);
//   retained_B          malloc'd bytes still in use after that execution returned;
//   total_B             stack_rss_first_B + new_peak_B + tracked_peak_B: the figure to
//                       hold against the 1 MiB budget (an upper bound: the first term
//                       also holds a few heap pages);
// and around the timed loop heap_delta_B_per_exec, the steady-state growth.
void BM_MemoryPerExecution(benchmark::State& state) {
  std::function<void()> sample;
  const sim::Body body = StandardBody(kMemThreads, kMemIterations, &sample);
  const FirstExecutions first = MeasureFreshThread(body);
  if (!first.ok) {
    state.SkipWithError(
        "the fresh-thread executions failed or smaps_rollup is unreadable");
    return;
  }

  sim::ExecOptions options;
  sim::RandomStrategy strategy(kSeed);
  uint64_t index = 0;
  for (int i = 0; i < 8; i++) {  // warm-up: stacks pooled, vectors and tcache grown
    if (!Succeeded(state, RunIndex(body, options, &strategy, index++))) return;
  }
  const int64_t in_use_before = HeapInUse();
  int64_t in_use_max = in_use_before;
  sample = [&in_use_max] { in_use_max = std::max(in_use_max, HeapInUse()); };
  size_t tracked_peak = 0;
  {
    const sim::ExecResult r = RunIndex(body, options, &strategy, index++);
    if (!Succeeded(state, r)) return;
    tracked_peak = r.peak_heap_bytes;
  }
  const int64_t retained = HeapInUse() - in_use_before;
  sample = nullptr;
  const AllocCounters counted = CountAllocations(body, options, index);

  const int64_t loop_before = HeapInUse();
  for (auto _ : state) {
    const sim::ExecResult r = RunIndex(body, options, &strategy, index++);
    if (!Succeeded(state, r)) break;
  }
  const int64_t loop_delta = HeapInUse() - loop_before;

  state.counters["execs_per_s"] =
      Counter(static_cast<double>(state.iterations()), Counter::kIsRate);
  state.counters["stack_rss_first_B"] = Bytes(static_cast<double>(first.anon_first));
  state.counters["stack_rss_again_B"] = Bytes(static_cast<double>(first.anon_second));
  state.counters["stack_vm_B"] = Bytes(static_cast<double>(first.vm_first));
  state.counters["malloc_peak_B"] =
      Bytes(static_cast<double>(in_use_max - in_use_before));
  state.counters["new_peak_B"] = Bytes(static_cast<double>(counted.peak));
  SetAllocationCounters(state, counted);
  state.counters["tracked_peak_B"] = Bytes(static_cast<double>(tracked_peak));
  state.counters["retained_B"] = Bytes(static_cast<double>(retained));
  state.counters["total_B"] = Bytes(static_cast<double>(
      first.anon_first + counted.peak + static_cast<int64_t>(tracked_peak)));
  state.counters["heap_delta_B_per_exec"] =
      PerIteration(state, static_cast<double>(loop_delta));
}
BENCHMARK(BM_MemoryPerExecution);

// The fixed cost of an execution: 3 simulated threads (main + 2) that only spawn,
// join and exit, so everything the standard workload costs beyond this is per point.
void BM_EmptyExecution(benchmark::State& state) {
  const sim::Body body = StandardBody(3, 0, nullptr);
  uint64_t i = 0;
  for (auto _ : state) {
    sim::RandomStrategy strategy(1);
    strategy.BeginExecution(i++);
    sim::ExecResult r = sim::RunExecution(body, sim::ExecOptions{}, &strategy);
    benchmark::DoNotOptimize(r.steps);
  }
  state.counters["execs_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_EmptyExecution);

}  // namespace

// Google Benchmark's main, plus one flag of ours, taken out before it parses the
// rest: --aiosim_iterations=N also registers BM_StandardWorkloadFixed, the standard
// workload's variants at exactly N iterations (executions 0..N-1 of the walk), so two
// builds run the same executions: instruction counts (callgrind) then compare.
int main(int argc, char** argv) {
  std::vector<char*> args;
  constexpr std::string_view kFlag = "--aiosim_iterations=";
  for (int i = 0; i < argc; i++) {
    const std::string_view arg = argv[i];
    if (arg.substr(0, kFlag.size()) != kFlag) {
      args.push_back(argv[i]);
      continue;
    }
    const std::string value(arg.substr(kFlag.size()));
    char* end = nullptr;
    const unsigned long long n = std::strtoull(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || n == 0 || n > (1ull << 40)) {
      std::fprintf(stderr,
                   "aiosim_bench_sim: --aiosim_iterations wants a count >= 1, not '%s'\n",
                   value.c_str());
      return 2;
    }
    benchmark::RegisterBenchmark("BM_StandardWorkloadFixed", BM_StandardWorkload)
        ->ArgNames({"threads", "races", "every"})
        ->ArgsProduct({{2, 3, 4, 8}, {0, 1}, {0, 1}})
        ->Iterations(static_cast<benchmark::IterationCount>(n));
  }
  int n = static_cast<int>(args.size());
  args.push_back(nullptr);
  benchmark::Initialize(&n, args.data());
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
