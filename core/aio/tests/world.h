// core/aio/tests/world.h — what the conformance tests need from "a world", so the
// same test sources run on every platform: on the host (world_host.cc) and, once the
// simulator exists, inside a simulation (one world per execution).
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Rules for test bodies, so that they stay portable:
//   - threads only through World::Spawn (the platform's Threads), never OS threads;
//   - waiting only through core/platform/sync.h primitives, SleepMs or aio_poll;
//   - time only from World::NowNs (the platform's clock); never sleep for wall time;
//   - never wait for an event by sleeping: wait for the event itself (PollUntil,
//     WaitUntilHomePolls, a semaphore...), bounded. A sleep is only for when time
//     itself is under test (an idle BH after 10 ms, a worker idle for 10 s), and
//     then the check is about what happened, with generous bounds;
//   - every loop that waits for something is bounded (a deadline).
#ifndef AIOSIM_CORE_AIO_TESTS_WORLD_H_
#define AIOSIM_CORE_AIO_TESTS_WORLD_H_

#include <functional>
#include <ostream>
#include <string>

#include "core/aio/aio.h"
#include "core/platform/platform.h"
#include "gtest/gtest.h"

namespace aiosim::testing {

class World {
 public:
  World(core::Platform* platform, core::AioGeneration generation);
  ~World();

  // The generation of ctx() (the test's parameter: GenerationTest).
  core::AioGeneration generation() const { return generation_; }
  bool modern() const { return generation_ == core::AioGeneration::kModern; }

  core::Platform& platform() { return *platform_; }
  core::AioRuntime* runtime() { return &runtime_; }
  // A fresh AioContext of the test's generation, owned by the world (unref'd at the end
  // of the test after one last non-blocking aio_poll, which frees deleted BHs).
  core::AioContext* ctx() { return ctx_; }

  // White-box views of ctx(), whichever generation: notify_me and `notified` (atomic
  // reads: scheduling points in the simulator), the context's own notifier, and how
  // many of its BHs are allocated and not yet freed (legacy: the BH list, which
  // holds every BH; modern: an observer's count of the BHs of every context on
  // runtime(), as a BH is on no list until it is scheduled).
  unsigned NotifyMe();
  bool NotifiedFlag();
  core::EventNotifier* CtxNotifier();
  int LiveBhs();

  int64_t NowNs() { return platform_->clock().NowNs(core::QEMU_CLOCK_REALTIME); }
  int64_t NowMs() { return NowNs() / core::SCALE_MS; }
  core::ThreadId CurrentThread() { return platform_->threads().Current(); }

  // Starts a joinable thread; Join it before the body returns.
  core::ThreadId Spawn(const std::string& name, std::function<void()> fn);
  void Join(core::ThreadId id);

  // Blocks the calling thread for `ms` of platform time.
  void SleepMs(int ms);

  // The waits below take a bound in ms of platform time; kDefaultWait (the default)
  // stands for DefaultWaitMs(), this platform's bound for "an event that should come
  // at once": 5 s of virtual time in the simulator (where nothing is late: a wait
  // that runs out is a lost wakeup or a broken test), 60 s of real time on the host,
  // where a loaded machine (a TSan build beside two other builds on two CPUs) can
  // leave a thread unscheduled for seconds. A bound that passes costs nothing.
  static constexpr int kDefaultWait = -1;

  // Runs aio_poll(ctx, true) until `done()`; returns false if that takes longer than
  // `timeout_ms` of platform time. A watchdog timer then wakes the loop, so a
  // condition that changes without waking the loop (a lost wakeup, or a broken test)
  // fails instead of hanging.
  bool PollUntil(const std::function<bool()>& done, int timeout_ms = kDefaultWait);
  // For a condition that changes without waking the loop (a pool's thread counts):
  // runs aio_poll(ctx, false) and checks `done()` every millisecond of platform time;
  // false after `timeout_ms`.
  bool PollEveryMsUntil(const std::function<bool()>& done, int timeout_ms = kDefaultWait);

  // For a foreign thread: returns once the home thread is inside a blocking
  // aio_poll(ctx(), true) past its timeout computation: it has raised notify_me (so
  // aio_notify now writes the eventfd). Legacy: it has also released the context
  // lock around its poll (aio_context_acquire here waits for that). Modern (no
  // context lock since 9.0): it may still be about to re-check `notified`, which an
  // aio_notify sets before it reads notify_me. What the caller does next happens
  // while the home thread is blocked in, or about to enter, its poll. Returns false
  // after `timeout_ms` of platform time.
  bool WaitUntilHomePolls(int timeout_ms = kDefaultWait);
  // For a foreign thread: returns once the home thread, in main_loop_wait, is
  // between the GSource prepare and check (notify_me bit 0 set). False on timeout.
  bool WaitUntilMainLoopPrepared(int timeout_ms = kDefaultWait);

 private:
  core::Platform* platform_;
  core::AioGeneration generation_;
  core::AioRuntime runtime_;
  core::AioContext* ctx_;
  core::Atomic<int> live_bhs_{0};  // LiveBhs() on modern (world.cc)
};

// The generation the running test is instantiated for (GenerationTest sets it;
// legacy outside such a test).
core::AioGeneration CurrentGeneration();

// Runs `body` in a fresh world of the current generation on this binary's platform.
// On the host the body runs on the calling thread, which is the AioContext's home
// thread.
void RunInWorld(const std::function<void(World&)>& body);

// A conformance suite that runs on both generations: declare
//   class BhTest : public GenerationTest {};
//   AIOSIM_INSTANTIATE_FOR_GENERATIONS(BhTest);
// and write TEST_P(BhTest, ...). The instances are named BhTest.X/legacy and
// BhTest.X/modern, so --gtest_filter='*/modern' runs one generation.
}  // namespace aiosim::testing

namespace aiosim::core {
// gtest prints a parameter with this: "legacy" or "modern", not its bytes.
inline void PrintTo(AioGeneration generation, std::ostream* os) {
  *os << AioGenerationName(generation);
}
}  // namespace aiosim::core

namespace aiosim::testing {

class GenerationTest : public ::testing::TestWithParam<core::AioGeneration> {
 protected:
  void SetUp() override;
  void TearDown() override;
  bool modern() const { return GetParam() == core::AioGeneration::kModern; }
};

std::string GenerationParamName(
    const ::testing::TestParamInfo<core::AioGeneration>& info);

#define AIOSIM_INSTANTIATE_FOR_GENERATIONS(suite)                                     \
  INSTANTIATE_TEST_SUITE_P(, suite,                                                   \
                           ::testing::Values(::aiosim::core::AioGeneration::kLegacy,  \
                                             ::aiosim::core::AioGeneration::kModern), \
                           ::aiosim::testing::GenerationParamName)

// In a GenerationTest: what the test needs is not built for modern yet (a later step
// of docs/modern.md); on modern it is skipped, saying so.
#define AIOSIM_NOT_YET_ON_MODERN(why)                           \
  do {                                                          \
    if (modern()) GTEST_SKIP() << "not yet on modern: " << why; \
  } while (0)

// In a GenerationTest: the test is about a legacy-only API or behaviour; on modern
// it is skipped, with the reason (the QEMU version that changed it) in the output.
#define AIOSIM_LEGACY_ONLY(why)                           \
  do {                                                    \
    if (modern()) GTEST_SKIP() << "legacy only: " << why; \
  } while (0)

// In a GenerationTest: the test is about an API or behaviour that 2.8.1 does not
// have; on legacy it is skipped, with the QEMU version that added it.
#define AIOSIM_MODERN_ONLY(why)                            \
  do {                                                     \
    if (!modern()) GTEST_SKIP() << "modern only: " << why; \
  } while (0)

// The name of this binary's platform ("host" or "sim").
const char* PlatformName();

// The default bound of World's waits on this binary's platform, in ms of platform time
// (World::kDefaultWait): world_host.cc and world_sim.cc.
int DefaultWaitMs();

// How many rounds a stress loop should run: `host_rounds` on the host; fewer in the
// simulator, where every round is explored step by step.
int Rounds(int host_rounds);

}  // namespace aiosim::testing

#endif  // AIOSIM_CORE_AIO_TESTS_WORLD_H_
