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
#include <string>

#include "core/aio/aio.h"
#include "core/platform/platform.h"

namespace aiosim::testing {

class World {
 public:
  explicit World(core::Platform* platform);
  ~World();

  core::Platform& platform() { return *platform_; }
  core::AioRuntime* runtime() { return &runtime_; }
  // A fresh legacy AioContext owned by the world (unref'd at the end of the test
  // after one last non-blocking aio_poll, which frees deleted BHs).
  core::AioContext* ctx() { return ctx_; }

  int64_t NowNs() { return platform_->clock().NowNs(core::QEMU_CLOCK_REALTIME); }
  int64_t NowMs() { return NowNs() / core::SCALE_MS; }
  core::ThreadId CurrentThread() { return platform_->threads().Current(); }

  // Starts a joinable thread; Join it before the body returns.
  core::ThreadId Spawn(const std::string& name, std::function<void()> fn);
  void Join(core::ThreadId id);

  // Blocks the calling thread for `ms` of platform time.
  void SleepMs(int ms);

  // Runs aio_poll(ctx, true) until `done()`; returns false if that takes longer than
  // `timeout_ms` of platform time. A watchdog timer then wakes the loop, so a
  // condition that changes without waking the loop (a lost wakeup, or a broken test)
  // fails instead of hanging.
  bool PollUntil(const std::function<bool()>& done, int timeout_ms = 5000);

  // For a foreign thread: returns once the home thread is inside a blocking
  // aio_poll(ctx(), true) past its timeout computation: it has raised notify_me (so
  // aio_notify now writes the eventfd) and has released the context lock around its
  // poll (aio_context_acquire here waits for that). What the caller does next
  // happens while the home thread is blocked in, or about to enter, its poll.
  // Returns false after `timeout_ms` of platform time.
  bool WaitUntilHomePolls(int timeout_ms = 5000);
  // For a foreign thread: returns once the home thread, in main_loop_wait, is
  // between the GSource prepare and check (notify_me bit 0 set). False on timeout.
  bool WaitUntilMainLoopPrepared(int timeout_ms = 5000);

 private:
  core::Platform* platform_;
  core::AioRuntime runtime_;
  core::AioContext* ctx_;
};

// Runs `body` in a fresh world on this binary's platform. On the host the body runs
// on the calling thread, which is the AioContext's home thread.
void RunInWorld(const std::function<void(World&)>& body);

// The name of this binary's platform ("host" or "sim").
const char* PlatformName();

// How many rounds a stress loop should run: `host_rounds` on the host; fewer in the
// simulator, where every round is explored step by step.
int Rounds(int host_rounds);

}  // namespace aiosim::testing

#endif  // AIOSIM_CORE_AIO_TESTS_WORLD_H_
