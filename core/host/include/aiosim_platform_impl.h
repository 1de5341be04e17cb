// core/host/include/aiosim_platform_impl.h — the host platform's compile-time
// primitives: GCC __atomic builtins on plain memory (as QEMU's qemu/atomic.h does) and
// pthreads. Everything is inline; no virtual call, and the source locations are unused.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Included only through core/platform/sync.h. Atomic<T> keeps a plain T and applies
// __atomic builtins to it, so PlainLoad/PlainStore are genuinely plain accesses that
// ThreadSanitizer sees, exactly like QEMU 2.8's `bh->scheduled = 0`.
// Timed waits use CLOCK_MONOTONIC.
#ifndef AIOSIM_CORE_HOST_INCLUDE_AIOSIM_PLATFORM_IMPL_H_
#define AIOSIM_CORE_HOST_INCLUDE_AIOSIM_PLATFORM_IMPL_H_

#include <pthread.h>

#include <cstdint>
#include <type_traits>

#include "core/platform/sync_types.h"

// Whether ThreadSanitizer instruments this build (GCC defines __SANITIZE_THREAD__;
// clang only answers __has_feature).
#if defined(__SANITIZE_THREAD__)
#define AIOSIM_HOST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define AIOSIM_HOST_TSAN 1
#endif
#endif
#ifndef AIOSIM_HOST_TSAN
#define AIOSIM_HOST_TSAN 0
#endif

namespace aiosim::core {

namespace host_internal {
constexpr int GccOrder(MemOrder order) {
  switch (order) {
    case MemOrder::kRelaxed: return __ATOMIC_RELAXED;
    case MemOrder::kConsume: return __ATOMIC_CONSUME;
    case MemOrder::kAcquire: return __ATOMIC_ACQUIRE;
    case MemOrder::kRelease: return __ATOMIC_RELEASE;
    case MemOrder::kSeqCst: return __ATOMIC_SEQ_CST;
  }
  return __ATOMIC_SEQ_CST;
}
// Absolute CLOCK_MONOTONIC deadline `ms` milliseconds from now.
timespec DeadlineAfterMs(int ms);
// Linux futexes on a 32-bit word (FUTEX_WAIT_PRIVATE / FUTEX_WAKE_PRIVATE), as
// QEMU's include/qemu/futex.h: the wait returns at once if the word is not
// `expected`, retries EINTR, and may return spuriously; the wake wakes at most `n`.
void FutexWait(void* word, uint32_t expected);
void FutexWake(void* word, int n);
// The next index of a ThreadLocal (process-wide, in construction order).
int NextThreadLocalIndex();
// This OS thread's slot `index` of the ThreadLocal storage (zero until set).
uint64_t* ThreadLocalSlot(int index);
}  // namespace host_internal

template <class T>
class Atomic {
  static_assert(std::is_integral_v<T> || std::is_pointer_v<T>,
                "Atomic<T> holds integers, bools and pointers, as QEMU's atomics do");

 public:
  constexpr Atomic() : v_() {}
  constexpr explicit Atomic(T v) : v_(v) {}
  Atomic(const Atomic&) = delete;
  Atomic& operator=(const Atomic&) = delete;

  T Load(MemOrder order, SrcLoc = SrcLoc::current()) const {
    return __atomic_load_n(&v_, host_internal::GccOrder(order));
  }
  void Store(T v, MemOrder order, SrcLoc = SrcLoc::current()) {
    __atomic_store_n(&v_, v, host_internal::GccOrder(order));
  }
  T Exchange(T v, SrcLoc = SrcLoc::current()) {
    return __atomic_exchange_n(&v_, v, __ATOMIC_SEQ_CST);
  }
  T CompareExchange(T expected, T desired, SrcLoc = SrcLoc::current()) {
    __atomic_compare_exchange_n(&v_, &expected, desired, false, __ATOMIC_SEQ_CST,
                                __ATOMIC_SEQ_CST);
    return expected;
  }
  T FetchAdd(T v, SrcLoc = SrcLoc::current()) {
    return __atomic_fetch_add(&v_, v, __ATOMIC_SEQ_CST);
  }
  T FetchSub(T v, SrcLoc = SrcLoc::current()) {
    return __atomic_fetch_sub(&v_, v, __ATOMIC_SEQ_CST);
  }
  T FetchAnd(T v, SrcLoc = SrcLoc::current()) {
    return __atomic_fetch_and(&v_, v, __ATOMIC_SEQ_CST);
  }
  T FetchOr(T v, SrcLoc = SrcLoc::current()) {
    return __atomic_fetch_or(&v_, v, __ATOMIC_SEQ_CST);
  }
  // A non-atomic access to a location that other code accesses atomically.
  T PlainLoad(SrcLoc = SrcLoc::current()) const { return v_; }
  // An observer's read (tests' pending predicates, the property harness): never used
  // by the core.
  T Peek() const { return __atomic_load_n(&v_, __ATOMIC_RELAXED); }
  void PlainStore(T v, SrcLoc = SrcLoc::current()) { v_ = v; }
  // Names the object in the simulator's reports; nothing on the host.
  void SetName(const char*) const {}
  // A futex on this word (32-bit types only).
  void FutexWait(T expected, SrcLoc = SrcLoc::current()) {
    static_assert(sizeof(T) == 4 && std::is_integral_v<T>, "a futex word is 32 bits");
    host_internal::FutexWait(&v_, static_cast<uint32_t>(expected));
  }
  void FutexWake(bool all, SrcLoc = SrcLoc::current()) {
    static_assert(sizeof(T) == 4 && std::is_integral_v<T>, "a futex word is 32 bits");
    host_internal::FutexWake(&v_, all ? INT32_MAX : 1);
  }

 private:
  T v_;
};

template <class T>
class Shared {
  static_assert(std::is_trivially_copyable_v<T>, "Shared<T> holds plain values");

 public:
  constexpr Shared() : v_() {}
  constexpr explicit Shared(T v) : v_(v) {}
  Shared(const Shared&) = delete;
  Shared& operator=(const Shared&) = delete;

  T Load(SrcLoc = SrcLoc::current()) const { return v_; }
  T Peek() const { return v_; }  // an observer's read (see Atomic::Peek)
  void Store(T v, SrcLoc = SrcLoc::current()) { v_ = v; }
  void SetName(const char*) const {}  // see Atomic::SetName

 private:
  T v_;
};

// Whether object names are wanted (the simulator's reports): never on the host.
inline constexpr bool NamesWanted() { return false; }

// A failed AIOSIM_ASSERT: prints "aiosim: assertion failed: <what> at <file>:<line>"
// to stderr and aborts.
[[noreturn]] void CheckFailed(const char* what, SrcLoc loc = SrcLoc::current());

inline void Fence(FenceKind kind, SrcLoc = SrcLoc::current()) {
  switch (kind) {
    case FenceKind::kFull: __atomic_thread_fence(__ATOMIC_SEQ_CST); break;
    case FenceKind::kWrite: __atomic_thread_fence(__ATOMIC_RELEASE); break;
    case FenceKind::kRead: __atomic_thread_fence(__ATOMIC_ACQUIRE); break;
    case FenceKind::kDepends: __atomic_thread_fence(__ATOMIC_CONSUME); break;
    case FenceKind::kCompiler: __atomic_signal_fence(__ATOMIC_SEQ_CST); break;
    case FenceKind::kMbBeforeRmw:
    case FenceKind::kMbAfterRmw:
      // As QEMU's qemu/atomic.h: where RMWs are full barriers already (x86, s390x) a
      // compiler barrier, except under ThreadSanitizer, which does not know that.
#if (defined(__x86_64__) || defined(__i386__) || defined(__s390x__)) && !AIOSIM_HOST_TSAN
      __atomic_signal_fence(__ATOMIC_SEQ_CST);
#else
      __atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
      break;
  }
}

// ThreadLocal<T>'s storage (core/platform/sync.h): an index per ThreadLocal object,
// and the calling thread's slot for it.
inline int PlatformThreadLocalIndex() { return host_internal::NextThreadLocalIndex(); }
inline uint64_t* PlatformThreadLocalSlot(int index) {
  return host_internal::ThreadLocalSlot(index);
}

class QemuMutex {
 public:
  void SetName(const char*) const {}  // see Atomic::SetName
  QemuMutex() { pthread_mutex_init(&m_, nullptr); }
  ~QemuMutex() { pthread_mutex_destroy(&m_); }
  QemuMutex(const QemuMutex&) = delete;
  QemuMutex& operator=(const QemuMutex&) = delete;

  void Lock(SrcLoc = SrcLoc::current()) { pthread_mutex_lock(&m_); }
  void Unlock(SrcLoc = SrcLoc::current()) { pthread_mutex_unlock(&m_); }
  bool TryLock(SrcLoc = SrcLoc::current()) { return pthread_mutex_trylock(&m_) == 0; }
  pthread_mutex_t* native() { return &m_; }

 private:
  pthread_mutex_t m_;
};

class QemuRecMutex {
 public:
  void SetName(const char*) const {}  // see Atomic::SetName
  QemuRecMutex();
  ~QemuRecMutex() { pthread_mutex_destroy(&m_); }
  QemuRecMutex(const QemuRecMutex&) = delete;
  QemuRecMutex& operator=(const QemuRecMutex&) = delete;

  void Lock(SrcLoc = SrcLoc::current()) { pthread_mutex_lock(&m_); }
  void Unlock(SrcLoc = SrcLoc::current()) { pthread_mutex_unlock(&m_); }

 private:
  pthread_mutex_t m_;
};

class QemuCond {
 public:
  void SetName(const char*) const {}  // see Atomic::SetName
  QemuCond();
  ~QemuCond() { pthread_cond_destroy(&c_); }
  QemuCond(const QemuCond&) = delete;
  QemuCond& operator=(const QemuCond&) = delete;

  void Signal(SrcLoc = SrcLoc::current()) { pthread_cond_signal(&c_); }
  void Broadcast(SrcLoc = SrcLoc::current()) { pthread_cond_broadcast(&c_); }
  void Wait(QemuMutex* m, SrcLoc = SrcLoc::current()) { pthread_cond_wait(&c_, m->native()); }
  pthread_cond_t* native() { return &c_; }
  bool TimedWait(QemuMutex* m, int ms, SrcLoc = SrcLoc::current());

 private:
  pthread_cond_t c_;
};

// A counting semaphore over a mutex and a CLOCK_MONOTONIC condition variable (QEMU
// does the same on hosts without usable sem_timedwait).
class QemuSemaphore {
 public:
  void SetName(const char*) const {}  // see Atomic::SetName
  explicit QemuSemaphore(int init) : count_(init) {}
  QemuSemaphore(const QemuSemaphore&) = delete;
  QemuSemaphore& operator=(const QemuSemaphore&) = delete;

  void Post(SrcLoc = SrcLoc::current());
  void Wait(SrcLoc = SrcLoc::current());
  int TimedWait(int ms, SrcLoc = SrcLoc::current());

 private:
  QemuMutex lock_;
  QemuCond cond_;
  int count_;
};

// QEMU's QemuEvent: a manual-reset event. Wait returns once the event is set.
class QemuEvent {
 public:
  void SetName(const char*) const {}  // see Atomic::SetName
  explicit QemuEvent(bool init) : set_(init) {}
  QemuEvent(const QemuEvent&) = delete;
  QemuEvent& operator=(const QemuEvent&) = delete;

  void Set(SrcLoc = SrcLoc::current());
  void Reset(SrcLoc = SrcLoc::current());
  void Wait(SrcLoc = SrcLoc::current());

 private:
  QemuMutex lock_;
  QemuCond cond_;
  bool set_;
};

// Allocation of core objects (BHs, timers, handler nodes, pool requests): plain new and
// delete on the host; the simulator tracks them (use after free, double free, leaks).
template <class T>
T* platform_new(SrcLoc = SrcLoc::current()) {
  return new T();
}
template <class T>
void platform_delete(T* p, SrcLoc = SrcLoc::current()) {
  delete p;
}

}  // namespace aiosim::core

#endif  // AIOSIM_CORE_HOST_INCLUDE_AIOSIM_PLATFORM_IMPL_H_
