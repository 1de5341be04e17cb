// sim/sim_platform.cc — see sim_platform.h.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "sim/sim_platform.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "sim/race.h"

namespace aiosim::sim {

namespace {
Execution* Exec(const char* what) {
  Execution* ex = tls_execution;
  if (ex == nullptr) {
    std::fprintf(stderr, "aiosim: %s outside a simulation\n", what);
    std::abort();
  }
  return ex;
}
constexpr int64_t kHostEpochNs = 1700000000LL * 1000000000LL;
}  // namespace

int64_t SimClock::NowNs(core::QEMUClockType type) {
  int64_t now = Exec("Clock::NowNs")->NowNs();
  return type == core::QEMU_CLOCK_HOST ? kHostEpochNs + now : now;
}

// ---- fds
// -------------------------------------------------------------------------------

int16_t SimFd::Revents(int16_t events) const {
  if (closed) return core::G_IO_NVAL;
  int16_t r = 0;
  if (is_eventfd) {
    if (counter > 0) r |= core::G_IO_IN;
    r |= core::G_IO_OUT;  // an eventfd is writable until its counter saturates
  } else {
    if (readable) r |= core::G_IO_IN;
    if (writable) r |= core::G_IO_OUT;
  }
  return r & (events | core::G_IO_ERR | core::G_IO_HUP | core::G_IO_NVAL);
}

SimFd* SimPoller::Create(bool is_eventfd) {
  fds_.push_back(std::make_unique<SimFd>());
  SimFd* f = fds_.back().get();
  f->fd = static_cast<int>(fds_.size()) + 2;
  f->is_eventfd = is_eventfd;
  return f;
}

SimFd* SimPoller::Find(int fd) {
  if (fd < 3 || fd - 3 >= static_cast<int>(fds_.size())) return nullptr;
  return fds_[fd - 3].get();
}

void SimPoller::Changed(SimFd* f, OpKind kind) {
  Execution* ex = Exec("fd change");
  ex->Touch(&f->meta, kind, core::SrcLoc::current());
  if (RaceDetector* rd = ex->races()) rd->Release(&f->meta, ex->current()->id);
  ex->WakeAll(&f->pollers);
}

int SimPoller::NewFd() { return Create(false)->fd; }

void SimPoller::SetReady(int fd, bool readable, bool writable) {
  Execution* ex = Exec("SetReady");
  SimFd* f = Find(fd);
  ex->Touch(&f->meta, OpKind::kFdSet, core::SrcLoc::current());
  ex->Point(OpKind::kFdSet, f->meta.id, core::SrcLoc::current());
  f->readable = readable;
  f->writable = writable;
  Changed(f, OpKind::kFdSet);
}

void SimPoller::Close(int fd) {
  if (SimFd* f = Find(fd)) {
    f->closed = true;
    if (tls_execution != nullptr) Changed(f, OpKind::kFdSet);
  }
}

class SimEventNotifier final : public core::EventNotifier {
 public:
  SimEventNotifier(SimPoller* poller, SimFd* f) : poller_(poller), f_(f) {}
  ~SimEventNotifier() override { poller_->Close(f_->fd); }
  int Set(core::SrcLoc loc) override {
    Execution* ex = Exec("event_notifier_set");
    ex->Touch(&f_->meta, OpKind::kFdSet, loc);
    ex->Point(OpKind::kFdSet, f_->meta.id, loc);
    NoteValue(f_->counter, f_->counter + 1);
    f_->counter++;
    poller_->Changed(f_, OpKind::kFdSet);
    return 0;
  }
  bool TestAndClear(core::SrcLoc loc) override {
    Execution* ex = Exec("event_notifier_test_and_clear");
    ex->Touch(&f_->meta, OpKind::kFdClear, loc);
    ex->Point(OpKind::kFdClear, f_->meta.id, loc);
    NoteValue(f_->counter, 0);
    bool was_set = f_->counter > 0;
    f_->counter = 0;
    if (was_set) {
      if (RaceDetector* rd = ex->races()) rd->Acquire(&f_->meta, ex->current()->id);
    }
    return was_set;
  }
  int fd() const override { return f_->fd; }
  void SetName(const char* name) override { NameObject(&f_->meta, name); }

 private:
  SimPoller* poller_;
  SimFd* f_;
};

std::unique_ptr<core::EventNotifier> SimPoller::NewEventNotifier(bool active) {
  SimFd* f = Create(true);
  f->counter = active ? 1 : 0;
  return std::make_unique<SimEventNotifier>(this, f);
}

int SimPoller::Poll(core::PollFd* fds, size_t nfds, int64_t timeout_ns,
                    core::SrcLoc loc) {
  Execution* ex = Exec("Poller::Poll");
  // A poll reads several fds: object 0 makes it dependent with every other operation
  // for the explorer's partial-order reduction.
  const uint32_t obj = 0;
  ex->Point(OpKind::kPoll, obj, loc);
  const int64_t deadline = timeout_ns > 0 ? ex->NowNs() + timeout_ns : -1;
  std::vector<WaitList*> lists;
  for (;;) {
    int ready = 0;
    for (size_t i = 0; i < nfds; i++) {
      SimFd* f = Find(fds[i].fd);
      fds[i].revents = f == nullptr ? core::G_IO_NVAL : f->Revents(fds[i].events);
      if (fds[i].revents != 0) {
        ready++;
        if (f != nullptr) {
          if (RaceDetector* rd = ex->races()) rd->Acquire(&f->meta, ex->current()->id);
        }
      }
    }
    if (ready > 0) return ready;
    if (timeout_ns == 0 || (deadline >= 0 && ex->NowNs() >= deadline)) return 0;
    if (ex->options().inject_eintr && ex->ChooseValue(ChoiceKind::kEintr, 2) == 1)
      return -EINTR;
    lists.clear();
    for (size_t i = 0; i < nfds; i++) {
      if (SimFd* f = Find(fds[i].fd)) lists.push_back(&f->pollers);
    }
    ex->BlockOn(lists, deadline, "poll", obj, loc, /*poll_forever=*/timeout_ns < 0);
  }
}

// ---- threads
// ---------------------------------------------------------------------------

core::ThreadId SimThreads::Spawn(std::string name, std::function<void()> fn, int mode,
                                 core::SrcLoc loc) {
  Execution* ex = Exec("Threads::Spawn");
  ex->Point(OpKind::kSpawn, 0, loc);
  return ex->Spawn(std::move(name), std::move(fn), mode == core::QEMU_THREAD_DETACHED);
}

void SimThreads::Join(core::ThreadId id, core::SrcLoc loc) {
  Execution* ex = Exec("Threads::Join");
  if (id < 0 || id >= ex->ThreadCount()) {
    ex->Fail(FailureKind::kAssertion, "Threads::Join of an unknown thread id");
  }
  ex->Join(id, loc);
}

core::ThreadId SimThreads::Current() { return Exec("Threads::Current")->current()->id; }

std::string SimThreads::CurrentName() {
  return Exec("Threads::CurrentName")->current()->name;
}

}  // namespace aiosim::sim
