// core/host/sync_host.cc — out-of-line parts of the host primitives.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>

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
