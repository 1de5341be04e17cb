// core/platform/sync.h — the compile-time half of the seam: QEMU's qemu/atomic.h and
// qemu/thread.h, over whichever platform this copy of the core is built for.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Every access the core makes to memory that more than one thread touches goes
// through one of these:
//   Atomic<T>   a location QEMU accesses with atomic_* (and sometimes plain C; see
//               PlainLoad/PlainStore, kept so that QEMU's own races stay visible);
//   Shared<T>   a plain field that several threads touch (protected by a lock, by a
//               barrier protocol, or racy by design). In the simulator every access
//               is a scheduling point and is checked for data races;
//   QemuMutex, QemuRecMutex, QemuSemaphore, QemuCond, QemuEvent;
//   smp_mb / smp_wmb / smp_rmb / smp_read_barrier_depends / barrier, and 8.0's
//   smp_mb__before_rmw / smp_mb__after_rmw;
//   qemu_futex_wait / qemu_futex_wake_single / qemu_futex_wake_all on an Atomic word;
//   ThreadLocal<T>, for QEMU's __thread variables (not shared, so not a point).
// Both generations' names are here: 2.8's atomic_* and 6.0+'s qatomic_*.
//
// The types themselves come from "aiosim_platform_impl.h", found on the include path
// of the core's build target (cmake/Aiosim.cmake: aiosim_add_core). The host version
// (core/host/include) is inline code over GCC __atomic builtins and pthreads, with no
// virtual call; the simulator's version turns each operation into a scheduling point.
//
// Required interface of an implementation (all methods take a trailing
// `SrcLoc loc = SrcLoc::current()`):
//   template <class T> class Atomic {            // T: integral, bool or pointer
//     Atomic(); explicit Atomic(T);
//     T Load(MemOrder) const; void Store(T, MemOrder);
//     T Exchange(T);                              // seq-cst
//     T CompareExchange(T expected, T desired);   // seq-cst, returns the old value
//     T FetchAdd(T); T FetchSub(T); T FetchAnd(T); T FetchOr(T);   // seq-cst
//     T PlainLoad() const; void PlainStore(T);    // non-atomic access
//     T Peek() const;  // an observer's read: no scheduling point, no race check;
//                      // for test harnesses only, never for the core
//     // 32-bit integral T only: a futex on the word (include/qemu/futex.h).
//     void FutexWait(T expected);  // sleeps only while the word == expected; may
//                                  // return spuriously (callers re-check)
//     void FutexWake(bool all);    // wakes one sleeper, or every one
//   };
//   int PlatformThreadLocalIndex();              // ThreadLocal's storage: a new index,
//   uint64_t* PlatformThreadLocalSlot(int);      // and this thread's slot (zero at
//                                                // thread start) for an index
//   template <class T> class Shared { Shared(); explicit Shared(T); T Load() const;
//                                     void Store(T); T Peek() const; };
//   class QemuMutex { void Lock(); void Unlock(); bool TryLock(); };
//   class QemuRecMutex { void Lock(); void Unlock(); };
//   class QemuSemaphore { explicit QemuSemaphore(int); void Post(); void Wait();
//                         int TimedWait(int ms); };   // 0, or -1 on timeout
//   class QemuCond { void Signal(); void Broadcast(); void Wait(QemuMutex*);
//                    bool TimedWait(QemuMutex*, int ms); };  // false on timeout
//   class QemuEvent { explicit QemuEvent(bool); void Set(); void Reset(); void Wait(); };
//   void Fence(FenceKind);
//   [[noreturn]] void CheckFailed(const char* what);   // see check.h
//   bool NamesWanted();  // whether SetName is heard now (the simulator's reports)
// and every type above has `void SetName(const char*) const`: names the object in
// reports ("ctx \"main\"->notify_me"; a no-op on the host, and in the simulator
// outside a recorded trace).
//   template <class T> T* platform_new();              // core objects: new T()
//   template <class T> void platform_delete(T*);       // ... and delete
// None of the types is copyable or movable.
#ifndef AIOSIM_CORE_PLATFORM_SYNC_H_
#define AIOSIM_CORE_PLATFORM_SYNC_H_

#include <cerrno>
#include <cstdint>
#include <type_traits>

#include "aiosim_platform_impl.h"
#include "core/platform/sync_types.h"

namespace aiosim::core {

// ---- qemu/atomic.h (2.8), operation by operation -------------------------------------

template <class T>
T atomic_read(const Atomic<T>* a, SrcLoc loc = SrcLoc::current()) {
  return a->Load(MemOrder::kRelaxed, loc);
}
template <class T, class V>
void atomic_set(Atomic<T>* a, V v, SrcLoc loc = SrcLoc::current()) {
  a->Store(static_cast<T>(v), MemOrder::kRelaxed, loc);
}
template <class T>
T atomic_rcu_read(const Atomic<T>* a, SrcLoc loc = SrcLoc::current()) {
  return a->Load(MemOrder::kConsume, loc);
}
template <class T, class V>
void atomic_rcu_set(Atomic<T>* a, V v, SrcLoc loc = SrcLoc::current()) {
  a->Store(static_cast<T>(v), MemOrder::kRelease, loc);
}
template <class T>
T atomic_load_acquire(const Atomic<T>* a, SrcLoc loc = SrcLoc::current()) {
  return a->Load(MemOrder::kAcquire, loc);
}
template <class T, class V>
void atomic_store_release(Atomic<T>* a, V v, SrcLoc loc = SrcLoc::current()) {
  a->Store(static_cast<T>(v), MemOrder::kRelease, loc);
}
// atomic_mb_read/atomic_mb_set ("Java volatile" accesses), as 2.8.1 defines them for
// an x86_64 host built by GCC or clang. Both compilers define __ATOMIC_RELAXED, so
// 2.8.1 takes its C11 branch for both (the gcc/clang split in atomic_xchg,
// __sync_lock_test_and_set vs __sync_swap, is only in the branch for compilers
// without __atomic builtins):
//   - atomic_mb_read is atomic_load_acquire on every host: a load-acquire, no more;
//   - atomic_mb_set is, on x86, i386 and s390x, an atomic_xchg whose result is
//     dropped: a sequentially consistent exchange, which both acquires and releases.
//     Elsewhere, and on x86 when __SANITIZE_THREAD__ is defined (GCC's
//     -fsanitize=thread; clang 14 does not define it), it is a store-release
//     followed by smp_mb.
// We model the x86 build, in TSan builds too, so that the simulator's race detector
// and ThreadSanitizer see the happens-before edges of the code QEMU runs on x86: an
// atomic_mb_set reads the value it replaces, so it synchronises with an earlier
// atomic_mb_set (or any release) of the same location.
template <class T>
T atomic_mb_read(const Atomic<T>* a, SrcLoc loc = SrcLoc::current()) {
  return a->Load(MemOrder::kAcquire, loc);
}
template <class T, class V>
void atomic_mb_set(Atomic<T>* a, V v, SrcLoc loc = SrcLoc::current()) {
  static_cast<void>(a->Exchange(static_cast<T>(v), loc));
}
template <class T, class V>
T atomic_xchg(Atomic<T>* a, V v, SrcLoc loc = SrcLoc::current()) {
  return a->Exchange(static_cast<T>(v), loc);
}
template <class T, class V, class W>
T atomic_cmpxchg(Atomic<T>* a, V expected, W desired, SrcLoc loc = SrcLoc::current()) {
  return a->CompareExchange(static_cast<T>(expected), static_cast<T>(desired), loc);
}
template <class T, class V>
T atomic_fetch_add(Atomic<T>* a, V v, SrcLoc loc = SrcLoc::current()) {
  return a->FetchAdd(static_cast<T>(v), loc);
}
template <class T, class V>
T atomic_fetch_sub(Atomic<T>* a, V v, SrcLoc loc = SrcLoc::current()) {
  return a->FetchSub(static_cast<T>(v), loc);
}
template <class T, class V>
T atomic_fetch_and(Atomic<T>* a, V v, SrcLoc loc = SrcLoc::current()) {
  return a->FetchAnd(static_cast<T>(v), loc);
}
template <class T, class V>
T atomic_fetch_or(Atomic<T>* a, V v, SrcLoc loc = SrcLoc::current()) {
  return a->FetchOr(static_cast<T>(v), loc);
}
template <class T>
T atomic_fetch_inc(Atomic<T>* a, SrcLoc loc = SrcLoc::current()) {
  return a->FetchAdd(T{1}, loc);
}
template <class T>
T atomic_fetch_dec(Atomic<T>* a, SrcLoc loc = SrcLoc::current()) {
  return a->FetchSub(T{1}, loc);
}
// The void forms are the same sequentially consistent read-modify-writes.
template <class T, class V>
void atomic_add(Atomic<T>* a, V v, SrcLoc loc = SrcLoc::current()) {
  a->FetchAdd(static_cast<T>(v), loc);
}
template <class T, class V>
void atomic_sub(Atomic<T>* a, V v, SrcLoc loc = SrcLoc::current()) {
  a->FetchSub(static_cast<T>(v), loc);
}
template <class T, class V>
void atomic_and(Atomic<T>* a, V v, SrcLoc loc = SrcLoc::current()) {
  a->FetchAnd(static_cast<T>(v), loc);
}
template <class T, class V>
void atomic_or(Atomic<T>* a, V v, SrcLoc loc = SrcLoc::current()) {
  a->FetchOr(static_cast<T>(v), loc);
}
template <class T>
void atomic_inc(Atomic<T>* a, SrcLoc loc = SrcLoc::current()) {
  a->FetchAdd(T{1}, loc);
}
template <class T>
void atomic_dec(Atomic<T>* a, SrcLoc loc = SrcLoc::current()) {
  a->FetchSub(T{1}, loc);
}

inline void smp_mb(SrcLoc loc = SrcLoc::current()) { Fence(FenceKind::kFull, loc); }
inline void smp_wmb(SrcLoc loc = SrcLoc::current()) { Fence(FenceKind::kWrite, loc); }
inline void smp_rmb(SrcLoc loc = SrcLoc::current()) { Fence(FenceKind::kRead, loc); }
inline void smp_read_barrier_depends(SrcLoc loc = SrcLoc::current()) {
  Fence(FenceKind::kDepends, loc);
}
inline void barrier(SrcLoc loc = SrcLoc::current()) { Fence(FenceKind::kCompiler, loc); }

// ---- qemu/atomic.h (10.x): the qatomic_* names of 6.0 and later ---------------------
// The same operations under their current names, for the modern generation. Where
// 10.x differs from 2.8: qatomic_rcu_read is a relaxed load followed by
// smp_read_barrier_depends (a consume load under TSan), modelled as one consume load
// (one scheduling point; the race detector treats consume as acquire, which is what
// the dependency gives the reader); atomic_mb_read is gone, and qatomic_set_mb (8.0)
// is an exchange followed by smp_mb__after_rmw on x86, modelled as the exchange.

template <class T>
T qatomic_read(const Atomic<T>* a, SrcLoc loc = SrcLoc::current()) {
  return a->Load(MemOrder::kRelaxed, loc);
}
template <class T, class V>
void qatomic_set(Atomic<T>* a, V v, SrcLoc loc = SrcLoc::current()) {
  a->Store(static_cast<T>(v), MemOrder::kRelaxed, loc);
}
template <class T>
T qatomic_rcu_read(const Atomic<T>* a, SrcLoc loc = SrcLoc::current()) {
  return a->Load(MemOrder::kConsume, loc);
}
template <class T, class V>
void qatomic_rcu_set(Atomic<T>* a, V v, SrcLoc loc = SrcLoc::current()) {
  a->Store(static_cast<T>(v), MemOrder::kRelease, loc);
}
template <class T>
T qatomic_load_acquire(const Atomic<T>* a, SrcLoc loc = SrcLoc::current()) {
  return a->Load(MemOrder::kAcquire, loc);
}
template <class T, class V>
void qatomic_store_release(Atomic<T>* a, V v, SrcLoc loc = SrcLoc::current()) {
  a->Store(static_cast<T>(v), MemOrder::kRelease, loc);
}
template <class T, class V>
void qatomic_set_mb(Atomic<T>* a, V v, SrcLoc loc = SrcLoc::current()) {
  static_cast<void>(a->Exchange(static_cast<T>(v), loc));
}
template <class T, class V>
T qatomic_xchg(Atomic<T>* a, V v, SrcLoc loc = SrcLoc::current()) {
  return a->Exchange(static_cast<T>(v), loc);
}
template <class T, class V, class W>
T qatomic_cmpxchg(Atomic<T>* a, V expected, W desired, SrcLoc loc = SrcLoc::current()) {
  return a->CompareExchange(static_cast<T>(expected), static_cast<T>(desired), loc);
}
template <class T, class V>
T qatomic_fetch_add(Atomic<T>* a, V v, SrcLoc loc = SrcLoc::current()) {
  return a->FetchAdd(static_cast<T>(v), loc);
}
template <class T, class V>
T qatomic_fetch_sub(Atomic<T>* a, V v, SrcLoc loc = SrcLoc::current()) {
  return a->FetchSub(static_cast<T>(v), loc);
}
template <class T, class V>
T qatomic_fetch_and(Atomic<T>* a, V v, SrcLoc loc = SrcLoc::current()) {
  return a->FetchAnd(static_cast<T>(v), loc);
}
template <class T, class V>
T qatomic_fetch_or(Atomic<T>* a, V v, SrcLoc loc = SrcLoc::current()) {
  return a->FetchOr(static_cast<T>(v), loc);
}
template <class T>
T qatomic_fetch_inc(Atomic<T>* a, SrcLoc loc = SrcLoc::current()) {
  return a->FetchAdd(T{1}, loc);
}
template <class T>
T qatomic_fetch_dec(Atomic<T>* a, SrcLoc loc = SrcLoc::current()) {
  return a->FetchSub(T{1}, loc);
}
template <class T, class V>
void qatomic_add(Atomic<T>* a, V v, SrcLoc loc = SrcLoc::current()) {
  a->FetchAdd(static_cast<T>(v), loc);
}
template <class T, class V>
void qatomic_sub(Atomic<T>* a, V v, SrcLoc loc = SrcLoc::current()) {
  a->FetchSub(static_cast<T>(v), loc);
}
template <class T, class V>
void qatomic_and(Atomic<T>* a, V v, SrcLoc loc = SrcLoc::current()) {
  a->FetchAnd(static_cast<T>(v), loc);
}
template <class T, class V>
void qatomic_or(Atomic<T>* a, V v, SrcLoc loc = SrcLoc::current()) {
  a->FetchOr(static_cast<T>(v), loc);
}
template <class T>
void qatomic_inc(Atomic<T>* a, SrcLoc loc = SrcLoc::current()) {
  a->FetchAdd(T{1}, loc);
}
template <class T>
void qatomic_dec(Atomic<T>* a, SrcLoc loc = SrcLoc::current()) {
  a->FetchSub(T{1}, loc);
}

inline void smp_mb__before_rmw(SrcLoc loc = SrcLoc::current()) {
  Fence(FenceKind::kMbBeforeRmw, loc);
}
inline void smp_mb__after_rmw(SrcLoc loc = SrcLoc::current()) {
  Fence(FenceKind::kMbAfterRmw, loc);
}

// ---- qemu/futex.h (10.1 names) -------------------------------------------------------
// Sleeps while *f == val; returns when woken, when *f != val at the call, or
// spuriously: every caller re-checks its condition.
template <class T, class V>
void qemu_futex_wait(Atomic<T>* f, V val, SrcLoc loc = SrcLoc::current()) {
  f->FutexWait(static_cast<T>(val), loc);
}
template <class T>
void qemu_futex_wake_single(Atomic<T>* f, SrcLoc loc = SrcLoc::current()) {
  f->FutexWake(false, loc);
}
template <class T>
void qemu_futex_wake_all(Atomic<T>* f, SrcLoc loc = SrcLoc::current()) {
  f->FutexWake(true, loc);
}

// QEMU's `static __thread T`: each thread (each simulated thread, in the simulator)
// sees its own copy, zero at its start. T: trivially copyable, at most 8 bytes. Not a
// scheduling point on any platform: no other thread can touch it.
template <class T>
class ThreadLocal {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= sizeof(uint64_t),
                "ThreadLocal<T> holds small plain values");

 public:
  ThreadLocal() : index_(PlatformThreadLocalIndex()) {}
  ThreadLocal(const ThreadLocal&) = delete;
  ThreadLocal& operator=(const ThreadLocal&) = delete;

  T Get() const {
    T v;
    __builtin_memcpy(&v, PlatformThreadLocalSlot(index_), sizeof(T));
    return v;
  }
  void Set(T v) { __builtin_memcpy(PlatformThreadLocalSlot(index_), &v, sizeof(T)); }

 private:
  int index_;
};

// ---- qemu/thread.h ---------------------------------------------------------------------
// The objects are initialised by their constructors; qemu_*_init/destroy are kept so
// QEMU-shaped code reads the same, and do nothing.

inline void qemu_mutex_init(QemuMutex*) {}
inline void qemu_mutex_destroy(QemuMutex*) {}
inline void qemu_mutex_lock(QemuMutex* m, SrcLoc loc = SrcLoc::current()) { m->Lock(loc); }
inline void qemu_mutex_unlock(QemuMutex* m, SrcLoc loc = SrcLoc::current()) {
  m->Unlock(loc);
}
// Returns 0 when the lock was taken, -EBUSY otherwise (as QEMU).
inline int qemu_mutex_trylock(QemuMutex* m, SrcLoc loc = SrcLoc::current()) {
  return m->TryLock(loc) ? 0 : -EBUSY;
}

inline void qemu_rec_mutex_init(QemuRecMutex*) {}
inline void qemu_rec_mutex_destroy(QemuRecMutex*) {}
inline void qemu_rec_mutex_lock(QemuRecMutex* m, SrcLoc loc = SrcLoc::current()) {
  m->Lock(loc);
}
inline void qemu_rec_mutex_unlock(QemuRecMutex* m, SrcLoc loc = SrcLoc::current()) {
  m->Unlock(loc);
}

inline void qemu_sem_destroy(QemuSemaphore*) {}
inline void qemu_sem_post(QemuSemaphore* s, SrcLoc loc = SrcLoc::current()) { s->Post(loc); }
inline void qemu_sem_wait(QemuSemaphore* s, SrcLoc loc = SrcLoc::current()) { s->Wait(loc); }
// 0 when a token was taken, -1 after `ms` milliseconds without one (0 = just try).
inline int qemu_sem_timedwait(QemuSemaphore* s, int ms, SrcLoc loc = SrcLoc::current()) {
  return s->TimedWait(ms, loc);
}

inline void qemu_cond_init(QemuCond*) {}
inline void qemu_cond_destroy(QemuCond*) {}
inline void qemu_cond_signal(QemuCond* c, SrcLoc loc = SrcLoc::current()) { c->Signal(loc); }
inline void qemu_cond_broadcast(QemuCond* c, SrcLoc loc = SrcLoc::current()) {
  c->Broadcast(loc);
}
inline void qemu_cond_wait(QemuCond* c, QemuMutex* m, SrcLoc loc = SrcLoc::current()) {
  c->Wait(m, loc);
}
// true when signalled (or woken spuriously), false after `ms` milliseconds.
inline bool qemu_cond_timedwait(QemuCond* c, QemuMutex* m, int ms,
                                SrcLoc loc = SrcLoc::current()) {
  return c->TimedWait(m, ms, loc);
}

inline void qemu_event_destroy(QemuEvent*) {}
inline void qemu_event_set(QemuEvent* e, SrcLoc loc = SrcLoc::current()) { e->Set(loc); }
inline void qemu_event_reset(QemuEvent* e, SrcLoc loc = SrcLoc::current()) { e->Reset(loc); }
inline void qemu_event_wait(QemuEvent* e, SrcLoc loc = SrcLoc::current()) { e->Wait(loc); }

}  // namespace aiosim::core

#endif  // AIOSIM_CORE_PLATFORM_SYNC_H_
