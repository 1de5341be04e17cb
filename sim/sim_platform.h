// sim/sim_platform.h — the simulated Platform: virtual time, simulated fds (event
// notifiers with eventfd semantics, and fds whose readiness a scenario controls),
// level-triggered poll, and threads that are fibers of the current Execution.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// One SimPlatform per execution, created and used inside Execution::Run. Every
// operation is a scheduling point. Poll blocks the calling fiber until one of its fds
// is ready or its (virtual) timeout passes; it may return -EINTR when the execution's
// options inject it (a recorded choice). An eventfd Set happens-before the poll or
// TestAndClear that observes it.
#ifndef AIOSIM_SIM_SIM_PLATFORM_H_
#define AIOSIM_SIM_SIM_PLATFORM_H_

#include <memory>
#include <string>
#include <vector>

#include "core/platform/platform.h"
#include "sim/execution.h"

namespace aiosim::sim {

class SimPlatform;

class SimClock final : public core::Clock {
 public:
  // Every clock reads virtual time; HOST adds a fixed wall-clock epoch.
  int64_t NowNs(core::QEMUClockType type) override;
};

struct SimFd {
  int fd = -1;
  bool is_eventfd = false;
  uint64_t counter = 0;   // eventfd
  bool readable = false;  // scenario-controlled fds
  bool writable = false;
  bool closed = false;
  ObjMeta meta;
  WaitList pollers;
  int16_t Revents(int16_t events) const;
};

class SimPoller final : public core::Poller {
 public:
  int Poll(core::PollFd* fds, size_t nfds, int64_t timeout_ns,
           core::SrcLoc loc = core::SrcLoc::current()) override;
  std::unique_ptr<core::EventNotifier> NewEventNotifier(bool active) override;

  // Scenario-controlled fds.
  int NewFd();
  void SetReady(int fd, bool readable, bool writable);
  SimFd* Find(int fd);
  void Close(int fd);

 private:
  friend class SimEventNotifier;
  SimFd* Create(bool is_eventfd);
  void Changed(SimFd* f, OpKind kind);
  // Fd numbers from 3 up, in creation order; each SimFd stays put. (Not a std::deque:
  // libstdc++'s allocates twice when constructed, in every execution, fds or not.)
  std::vector<std::unique_ptr<SimFd>> fds_;
};

class SimThreads final : public core::Threads {
 public:
  core::ThreadId Spawn(std::string name, std::function<void()> fn, int mode,
                       core::SrcLoc loc = core::SrcLoc::current()) override;
  void Join(core::ThreadId id, core::SrcLoc loc = core::SrcLoc::current()) override;
  core::ThreadId Current() override;
  std::string CurrentName() override;
};

class SimPlatform final : public core::Platform {
 public:
  core::Clock& clock() override { return clock_; }
  core::Poller& poller() override { return poller_; }
  core::Threads& threads() override { return threads_; }
  std::string_view name() const override { return "sim"; }
  SimPoller& sim_poller() { return poller_; }

 private:
  SimClock clock_;
  SimPoller poller_;
  SimThreads threads_;
};

}  // namespace aiosim::sim

#endif  // AIOSIM_SIM_SIM_PLATFORM_H_
