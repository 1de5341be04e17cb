// core/host/sync_host.cc — out-of-line parts of the host primitives.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <vector>

#include "core/platform/sync.h"

namespace aiosim::core {

namespace host_internal {
timespec DeadlineAfterMs(int ms) {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  int64_t ns = ts.tv_nsec + static_cast<int64_t>(ms % 1000) * 1000000;
  ts.tv_sec += ms / 1000 + ns / 1000000000;
  ts.tv_nsec = ns % 1000000000;
  return ts;
}

void FutexWait(void* word, uint32_t expected) {
  for (;;) {
    const long rc = syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, expected, nullptr,
                            nullptr, 0);
    if (rc == 0 || errno == EAGAIN) return;  // woken (or spuriously), or not `expected`
    if (errno == EINTR) continue;
    std::fprintf(stderr, "aiosim: futex wait failed: errno %d\n", errno);
    std::abort();
  }
}

void FutexWake(void* word, int n) {
  if (syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, n, nullptr, nullptr, 0) < 0) {
    std::fprintf(stderr, "aiosim: futex wake failed: errno %d\n", errno);
    std::abort();
  }
}

namespace {
std::atomic<int> thread_local_count{0};
thread_local std::vector<uint64_t> thread_local_slots;
}  // namespace

int NextThreadLocalIndex() { return thread_local_count.fetch_add(1); }

uint64_t* ThreadLocalSlot(int index) {
  if (index >= static_cast<int>(thread_local_slots.size())) {
    thread_local_slots.resize(index + 1, 0);
  }
  return &thread_local_slots[index];
}
}  // namespace host_internal

void CheckFailed(const char* what, SrcLoc loc) {
  std::fprintf(stderr, "aiosim: assertion failed: %s at %s:%u\n", what, loc.file_name(),
               static_cast<unsigned>(loc.line()));
  std::fflush(stderr);
  std::abort();
}

QemuRecMutex::QemuRecMutex() {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
  pthread_mutex_init(&m_, &attr);
  pthread_mutexattr_destroy(&attr);
}

QemuCond::QemuCond() {
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&c_, &attr);
  pthread_condattr_destroy(&attr);
}

bool QemuCond::TimedWait(QemuMutex* m, int ms, SrcLoc) {
  timespec deadline = host_internal::DeadlineAfterMs(ms);
  return pthread_cond_timedwait(&c_, m->native(), &deadline) != ETIMEDOUT;
}

void QemuSemaphore::Post(SrcLoc) {
  lock_.Lock();
  count_++;
  cond_.Signal();
  lock_.Unlock();
}

void QemuSemaphore::Wait(SrcLoc) {
  lock_.Lock();
  while (count_ == 0) cond_.Wait(&lock_);
  count_--;
  lock_.Unlock();
}

int QemuSemaphore::TimedWait(int ms, SrcLoc) {
  timespec deadline = host_internal::DeadlineAfterMs(ms);
  int rc = 0;
  lock_.Lock();
  while (count_ == 0 && rc != ETIMEDOUT) {
    rc = pthread_cond_timedwait(cond_.native(), lock_.native(), &deadline);
  }
  int result = -1;
  if (count_ > 0) {  // a token may have arrived together with the timeout
    count_--;
    result = 0;
  }
  lock_.Unlock();
  return result;
}

void QemuEvent::Set(SrcLoc) {
  lock_.Lock();
  set_ = true;
  cond_.Broadcast();
  lock_.Unlock();
}

void QemuEvent::Reset(SrcLoc) {
  lock_.Lock();
  set_ = false;
  lock_.Unlock();
}

void QemuEvent::Wait(SrcLoc) {
  lock_.Lock();
  while (!set_) cond_.Wait(&lock_);
  lock_.Unlock();
}

}  // namespace aiosim::core
