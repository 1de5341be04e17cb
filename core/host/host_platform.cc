// core/host/host_platform.cc — see host_platform.h.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/host/host_platform.h"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>

#include "core/platform/sync.h"

namespace aiosim::core {

int64_t HostClock::NowNs(QEMUClockType type) {
  timespec ts;
  clock_gettime(type == QEMU_CLOCK_HOST ? CLOCK_REALTIME : CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// ---- Poller ----------------------------------------------------------------------------

int HostPoller::Poll(PollFd* fds, size_t nfds, int64_t timeout_ns, SrcLoc /*loc*/) {
  static_assert(sizeof(PollFd) == sizeof(pollfd), "PollFd mirrors struct pollfd");
  static_assert(G_IO_IN == POLLIN && G_IO_OUT == POLLOUT && G_IO_HUP == POLLHUP);
  timespec ts;
  timespec* tsp = nullptr;
  if (timeout_ns >= 0) {
    ts.tv_sec = timeout_ns / 1000000000;
    ts.tv_nsec = timeout_ns % 1000000000;
    tsp = &ts;
  }
  int ret = ppoll(reinterpret_cast<pollfd*>(fds), nfds, tsp, nullptr);
  return ret < 0 ? -errno : ret;
}

namespace {
class EventFdNotifier final : public EventNotifier {
 public:
  explicit EventFdNotifier(int fd) : fd_(fd) {}
  ~EventFdNotifier() override { close(fd_); }
  int Set(SrcLoc /*loc*/) override {
    uint64_t value = 1;
    ssize_t ret;
    do {
      ret = write(fd_, &value, sizeof(value));
    } while (ret < 0 && errno == EINTR);
    // EAGAIN means the counter is saturated, i.e. already set.
    return (ret < 0 && errno != EAGAIN) ? -errno : 0;
  }
  bool TestAndClear(SrcLoc /*loc*/) override {
    uint64_t value;
    ssize_t ret;
    do {
      ret = read(fd_, &value, sizeof(value));
    } while (ret < 0 && errno == EINTR);
    return ret == sizeof(value) && value > 0;
  }
  int fd() const override { return fd_; }

 private:
  int fd_;
};
}  // namespace

std::unique_ptr<EventNotifier> HostPoller::NewEventNotifier(bool active) {
  int fd = eventfd(active ? 1 : 0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return nullptr;
  return std::make_unique<EventFdNotifier>(fd);
}

// ---- Threads ---------------------------------------------------------------------------

namespace {
thread_local ThreadId tls_id = -1;
thread_local std::string* tls_name = nullptr;
}  // namespace

// pthread-based (QemuMutex/QemuCond), not absl::Mutex: ThreadSanitizer sees pthread
// synchronisation, but not that of Debian's uninstrumented Abseil.
struct HostThreads::State {
  QemuMutex mu;
  QemuCond all_exited;
  ThreadId next_id = 1;  // under mu
  int live = 0;          // under mu
  std::map<ThreadId, pthread_t> joinable;  // under mu
};

struct ThreadStart {
  std::shared_ptr<HostThreads::State> state;
  ThreadId id;
  std::string name;
  std::function<void()> fn;
};

HostThreads::HostThreads() : state_(std::make_shared<State>()) {
  if (tls_id < 0) {
    tls_id = 0;
    static thread_local std::string main_name = "main";
    tls_name = &main_name;
  }
}

HostThreads::~HostThreads() {
  // Detached threads decrement `live` as their last action; wait for all of them.
  state_->mu.Lock();
  while (state_->live > 0) state_->all_exited.Wait(&state_->mu);
  state_->mu.Unlock();
}

ThreadId HostThreads::Spawn(std::string name, std::function<void()> fn, int mode,
                             SrcLoc /*loc*/) {
  auto* start = new ThreadStart{state_, 0, std::move(name), std::move(fn)};
  pthread_t tid;
  {
    state_->mu.Lock();
    const ThreadId id = state_->next_id++;
    start->id = id;
    state_->live++;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    if (mode == QEMU_THREAD_DETACHED) {
      pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    }
    int rc = pthread_create(
        &tid, &attr,
        +[](void* arg) -> void* {
          ThreadStart* s = static_cast<ThreadStart*>(arg);
          tls_id = s->id;
          tls_name = &s->name;
          pthread_setname_np(pthread_self(), s->name.substr(0, 15).c_str());
          s->fn();
          tls_name = nullptr;
          std::shared_ptr<State> state = std::move(s->state);
          delete s;
          state->mu.Lock();
          if (--state->live == 0) state->all_exited.Broadcast();
          state->mu.Unlock();
          return nullptr;  // drops this thread's reference to the state
        },
        start);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
      // QEMU aborts when it cannot create a thread; so do we, saying why.
      std::fprintf(stderr, "aiosim: pthread_create failed (errno %d)\n", rc);
      std::abort();
    }
    if (mode != QEMU_THREAD_DETACHED) state_->joinable[id] = tid;
    state_->mu.Unlock();
    return id;
  }
}

void HostThreads::Join(ThreadId id, SrcLoc /*loc*/) {
  pthread_t tid;
  {
    state_->mu.Lock();
    auto it = state_->joinable.find(id);
    if (it == state_->joinable.end()) {
      std::fprintf(stderr, "aiosim: Join(%d): not a joinable thread of this platform\n", id);
      std::abort();
    }
    tid = it->second;
    state_->joinable.erase(it);
    state_->mu.Unlock();
  }
  pthread_join(tid, nullptr);
}

ThreadId HostThreads::Current() { return tls_id; }

std::string HostThreads::CurrentName() {
  return tls_name != nullptr ? *tls_name : std::string("unknown");
}

}  // namespace aiosim::core
