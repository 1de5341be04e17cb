// core/host/host_platform.h — the real platform: CLOCK_MONOTONIC / CLOCK_REALTIME,
// ppoll(2), eventfd(2) and pthreads.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Threading: one HostPlatform may be used from any number of threads. Its destructor
// waits until every thread it spawned (joinable or detached) has returned, so a test
// that ends right after thread_pool_free never leaves a worker behind.
#ifndef AIOSIM_CORE_HOST_HOST_PLATFORM_H_
#define AIOSIM_CORE_HOST_HOST_PLATFORM_H_

#include <memory>
#include <string>

#include "core/platform/platform.h"

namespace aiosim::core {

class HostClock final : public Clock {
 public:
  // REALTIME, VIRTUAL and VIRTUAL_RT read CLOCK_MONOTONIC (a VM that never stops);
  // HOST reads CLOCK_REALTIME.
  int64_t NowNs(QEMUClockType type) override;
};

class HostPoller final : public Poller {
 public:
  int Poll(PollFd* fds, size_t nfds, int64_t timeout_ns,
           SrcLoc loc = SrcLoc::current()) override;
  std::unique_ptr<EventNotifier> NewEventNotifier(bool active) override;
};

class HostThreads final : public Threads {
 public:
  HostThreads();
  ~HostThreads() override;
  ThreadId Spawn(std::string name, std::function<void()> fn, int mode,
                 SrcLoc loc = SrcLoc::current()) override;
  void Join(ThreadId id, SrcLoc loc = SrcLoc::current()) override;
  ThreadId Current() override;
  std::string CurrentName() override;

  struct State;  // defined in host_platform.cc

 private:
  // Shared with every thread, so that a detached thread's last unlock never touches
  // freed memory even if the destructor has already returned.
  std::shared_ptr<State> state_;
};

class HostPlatform final : public Platform {
 public:
  HostPlatform() = default;
  Clock& clock() override { return clock_; }
  Poller& poller() override { return poller_; }
  Threads& threads() override { return threads_; }
  std::string_view name() const override { return "host"; }

 private:
  HostClock clock_;
  HostPoller poller_;
  HostThreads threads_;
};

}  // namespace aiosim::core

#endif  // AIOSIM_CORE_HOST_HOST_PLATFORM_H_
