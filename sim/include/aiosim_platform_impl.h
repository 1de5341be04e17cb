// sim/include/aiosim_platform_impl.h — the simulator's compile-time primitives.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Included only through core/platform/sync.h, in the copy of the core built for the
// simulator (aiosim_core_sim). Every operation is a scheduling point of the current
// Execution (sim/execution.h): the scheduler may switch to another simulated thread
// before the operation takes effect, which is where a real thread could be preempted.
// Values live in the objects themselves; all simulated threads are fibers of one OS
// thread, so no operation needs a real atomic instruction.
//
// Each object embeds an ObjMeta (sim/runtime.h): an id given in order of first use in
// the execution (traces never show addresses), a liveness word that freed memory
// overwrites (use-after-free detection), and the race detector's state.
//
// Outside a simulation (tls_execution == nullptr) the objects behave as plain
// single-threaded values, so that static or test-setup code does not crash; blocking
// operations there are a usage error and abort with a message.
#ifndef AIOSIM_SIM_INCLUDE_AIOSIM_PLATFORM_IMPL_H_
#define AIOSIM_SIM_INCLUDE_AIOSIM_PLATFORM_IMPL_H_

#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>
#include <vector>

#include "core/platform/sync_types.h"
#include "sim/runtime.h"

namespace aiosim::sim {

// A value as a report keeps it (sim::NoteValue): integers and enums as their bits,
// pointers as 0 (null) or 1, so that no address reaches an output.
template <class T>
uint64_t ValueWord(T v) {
  if constexpr (std::is_pointer_v<T>) {
    return v != nullptr ? 1 : 0;
  } else if constexpr (std::is_enum_v<T>) {
    return static_cast<uint64_t>(static_cast<std::underlying_type_t<T>>(v));
  } else {
    return static_cast<uint64_t>(v);
  }
}
template <class T>
constexpr uint8_t ValueFlags() {
  if constexpr (std::is_pointer_v<T>) {
    return kValuePointer;
  } else if constexpr (std::is_signed_v<T>) {
    return kValueSigned;
  } else {
    return 0;
  }
}

}  // namespace aiosim::sim

namespace aiosim::core {

template <class T>
class Atomic {
  static_assert(std::is_integral_v<T> || std::is_pointer_v<T>,
                "Atomic<T> holds integers, bools and pointers, as QEMU's atomics do");
  using K = sim::OpKind;

 public:
  constexpr Atomic() : v_() {}
  constexpr explicit Atomic(T v) : v_(v) {}
  ~Atomic() { sim::OnDestroy(&meta_); }
  Atomic(const Atomic&) = delete;
  Atomic& operator=(const Atomic&) = delete;

  T Load(MemOrder order, SrcLoc loc = SrcLoc::current()) const {
    if (!sim::FastPoint(&meta_, K::kLoad)) {
      sim::OnAccess(&meta_, K::kLoad, order, loc);
      Note(v_, v_);
    }
    return v_;
  }
  void Store(T v, MemOrder order, SrcLoc loc = SrcLoc::current()) {
    if (!sim::FastPoint(&meta_, K::kStore)) {
      sim::OnAccess(&meta_, K::kStore, order, loc);
      Note(v_, v);
    }
    v_ = v;
  }
  T Exchange(T v, SrcLoc loc = SrcLoc::current()) {
    if (!sim::FastPoint(&meta_, K::kRmw)) {
      sim::OnAccess(&meta_, K::kRmw, MemOrder::kSeqCst, loc);
      Note(v_, v);
    }
    T old = v_;
    v_ = v;
    return old;
  }
  T CompareExchange(T expected, T desired, SrcLoc loc = SrcLoc::current()) {
    if (!sim::FastPoint(&meta_, K::kRmw)) {
      sim::OnAccess(&meta_, K::kRmw, MemOrder::kSeqCst, loc);
      Note(v_, v_ == expected ? desired : v_);
    }
    T old = v_;
    if (old == expected) v_ = desired;
    return old;
  }
  // Names the object in reports (sim::NameObject); the host ignores it.
  void SetName(const char* name) const { sim::NameObject(&meta_, name); }
  T FetchAdd(T v, SrcLoc loc = SrcLoc::current()) {
    return Rmw(loc, [v](T x) { return x + v; });
  }
  T FetchSub(T v, SrcLoc loc = SrcLoc::current()) {
    return Rmw(loc, [v](T x) { return x - v; });
  }
  T FetchAnd(T v, SrcLoc loc = SrcLoc::current()) {
    return Rmw(loc, [v](T x) { return x & v; });
  }
  T FetchOr(T v, SrcLoc loc = SrcLoc::current()) {
    return Rmw(loc, [v](T x) { return x | v; });
  }
  // An observer's read (the property harness's pending predicates and probes): no
  // scheduling point, invisible to the race detector. Never used by the core.
  T Peek() const { return v_; }
  T PlainLoad(SrcLoc loc = SrcLoc::current()) const {
    if (!sim::FastPoint(&meta_, K::kPlainLoad)) {
      sim::OnAccess(&meta_, K::kPlainLoad, MemOrder::kRelaxed, loc);
      Note(v_, v_);
    }
    return v_;
  }
  void PlainStore(T v, SrcLoc loc = SrcLoc::current()) {
    if (!sim::FastPoint(&meta_, K::kPlainStore)) {
      sim::OnAccess(&meta_, K::kPlainStore, MemOrder::kRelaxed, loc);
      Note(v_, v);
    }
    v_ = v;
  }
  // A futex on this word (32-bit types only): see sim::OnFutexWait / OnFutexWake.
  // Always the full path: a wait may block, a wake may choose.
  void FutexWait(T expected, SrcLoc loc = SrcLoc::current()) {
    static_assert(sizeof(T) == 4 && std::is_integral_v<T>, "a futex word is 32 bits");
    sim::OnFutexWait(&meta_, reinterpret_cast<const uint32_t*>(&v_),
                     static_cast<uint32_t>(expected), loc);
  }
  void FutexWake(bool all, SrcLoc loc = SrcLoc::current()) {
    static_assert(sizeof(T) == 4 && std::is_integral_v<T>, "a futex word is 32 bits");
    sim::OnFutexWake(&meta_, all, loc);
  }

 private:
  template <class F>
  T Rmw(SrcLoc loc, F f) {
    if (!sim::FastPoint(&meta_, K::kRmw)) {
      sim::OnAccess(&meta_, K::kRmw, MemOrder::kSeqCst, loc);
      Note(v_, static_cast<T>(f(v_)));
    }
    T old = v_;
    v_ = static_cast<T>(f(old));
    return old;
  }
  static void Note(T before, T after) { sim::NoteValue(sim::ValueWord(before), sim::ValueWord(after), sim::ValueFlags<T>()); }
  mutable sim::ObjMeta meta_;
  T v_;
};

template <class T>
class Shared {
  static_assert(std::is_trivially_copyable_v<T>, "Shared<T> holds plain values");

 public:
  constexpr Shared() : v_() {}
  constexpr explicit Shared(T v) : v_(v) {}
  ~Shared() { sim::OnDestroy(&meta_); }
  Shared(const Shared&) = delete;
  Shared& operator=(const Shared&) = delete;

  // An observer's read (see Atomic::Peek). Never used by the core.
  T Peek() const { return v_; }
  T Load(SrcLoc loc = SrcLoc::current()) const {
    if (!sim::FastPoint(&meta_, sim::OpKind::kPlainLoad)) {
      sim::OnAccess(&meta_, sim::OpKind::kPlainLoad, MemOrder::kRelaxed, loc);
      Note(v_, v_);
    }
    return v_;
  }
  void Store(T v, SrcLoc loc = SrcLoc::current()) {
    if (!sim::FastPoint(&meta_, sim::OpKind::kPlainStore)) {
      sim::OnAccess(&meta_, sim::OpKind::kPlainStore, MemOrder::kRelaxed, loc);
      Note(v_, v);
    }
    v_ = v;
  }
  // Names the object in reports (sim::NameObject); the host ignores it.
  void SetName(const char* name) const { sim::NameObject(&meta_, name); }

 private:
  // Values reach a report only for integers, bools, enums and pointers (as null or
  // not); a struct is noted as 0.
  static void Note(const T& before, const T& after) {
    if constexpr (std::is_integral_v<T> || std::is_enum_v<T> || std::is_pointer_v<T>) {
      sim::NoteValue(sim::ValueWord(before), sim::ValueWord(after), sim::ValueFlags<T>());
    }
  }
  mutable sim::ObjMeta meta_;
  T v_;
};

// Whether object names are wanted now (a trace is being recorded; see SetName).
inline bool NamesWanted() { return sim::NamesWanted(); }

inline void Fence(FenceKind kind, SrcLoc loc = SrcLoc::current()) {
  sim::OnFence(kind, loc);
}

// ThreadLocal<T>'s storage (core/platform/sync.h): an index per ThreadLocal object,
// and the calling thread's slot for it.
inline int PlatformThreadLocalIndex() { return sim::NextThreadLocalIndex(); }
inline uint64_t* PlatformThreadLocalSlot(int index) { return sim::ThreadLocalSlot(index); }

[[noreturn]] void CheckFailed(const char* what, SrcLoc loc = SrcLoc::current());

// The state every blocking primitive shares: who waits on it.
struct SimWaitable {
  sim::ObjMeta meta;
  std::vector<sim::SimThread*> waiters;
  SimWaitable() = default;
  SimWaitable(const SimWaitable&) = delete;
  SimWaitable& operator=(const SimWaitable&) = delete;
  ~SimWaitable() { sim::OnDestroySync(&meta); }
};

class QemuMutex {
 public:
  // Inline when nothing but the point's counting is to do (sim::SyncFastPoint), and
  // the race detector's edge if it is on: a lock of a free mutex, an unlock that no
  // thread waits for. Whether the mutex is free, and who waits, is read before the
  // point: a point that passes inline lets no other thread run, so it still holds
  // after it. Everything else (a choice, blocking, a wake, a trace, an object new to
  // this execution) is LockSlow / UnlockSlow, which do the whole operation.
  void Lock(SrcLoc loc = SrcLoc::current()) {
    if (owner_ == -1 && sim::SyncFastPoint(&w_.meta, sim::OpKind::kLock)) {
      owner_ = sim::tls_fast->cur->id;
      if (sim::tls_fast->races_on) sim::InlineAcquire(&w_.meta);
      return;
    }
    LockSlow(loc);
  }
  void Unlock(SrcLoc loc = SrcLoc::current()) {
    if (owner_ >= 0 && owner_ == sim::SyncFastThread() && w_.waiters.empty() &&
        sim::SyncFastPoint(&w_.meta, sim::OpKind::kUnlock)) {
      if (sim::tls_fast->races_on) sim::InlineRelease(&w_.meta);
      owner_ = -1;
      return;
    }
    UnlockSlow(loc);
  }
  bool TryLock(SrcLoc loc = SrcLoc::current());
  void SetName(const char* name) const { sim::NameObject(&w_.meta, name); }
  void LockSlow(SrcLoc loc);
  void UnlockSlow(SrcLoc loc);
  SimWaitable w_;
  int owner_ = -1;  // simulated thread id
};

class QemuRecMutex {
 public:
  void Lock(SrcLoc loc = SrcLoc::current());
  void Unlock(SrcLoc loc = SrcLoc::current());
  void SetName(const char* name) const { sim::NameObject(&w_.meta, name); }
  SimWaitable w_;
  int owner_ = -1;
  int depth_ = 0;
};

class QemuCond {
 public:
  void Signal(SrcLoc loc = SrcLoc::current());
  void Broadcast(SrcLoc loc = SrcLoc::current());
  void Wait(QemuMutex* m, SrcLoc loc = SrcLoc::current());
  bool TimedWait(QemuMutex* m, int ms, SrcLoc loc = SrcLoc::current());
  void SetName(const char* name) const { sim::NameObject(&w_.meta, name); }
  SimWaitable w_;
};

class QemuSemaphore {
 public:
  explicit QemuSemaphore(int init) : count_(init) {}
  void Post(SrcLoc loc = SrcLoc::current());
  void Wait(SrcLoc loc = SrcLoc::current());
  int TimedWait(int ms, SrcLoc loc = SrcLoc::current());
  void SetName(const char* name) const { sim::NameObject(&w_.meta, name); }
  SimWaitable w_;
  int count_;
};

class QemuEvent {
 public:
  explicit QemuEvent(bool init) : set_(init) {}
  void Set(SrcLoc loc = SrcLoc::current());
  void Reset(SrcLoc loc = SrcLoc::current());
  void Wait(SrcLoc loc = SrcLoc::current());
  void SetName(const char* name) const { sim::NameObject(&w_.meta, name); }
  SimWaitable w_;
  bool set_;
};

// Tracked allocation (sim/heap.h): freed blocks are poisoned and quarantined until the
// end of the execution, so a later access through a primitive inside them is caught.
void* SimAlloc(size_t size, const char* type, SrcLoc loc);
// A free in two halves around the destructor: SimFreeBegin is the scheduling point and
// checks that `p` is a live tracked block (a double free is reported before the
// destructor runs on poisoned memory); SimFreeEnd poisons and quarantines it.
void SimFreeBegin(void* p, SrcLoc loc);
void SimFreeEnd(void* p, SrcLoc loc);

template <class T>
T* platform_new(SrcLoc loc = SrcLoc::current()) {
  return new (SimAlloc(sizeof(T), __PRETTY_FUNCTION__, loc)) T();
}
template <class T>
void platform_delete(T* p, SrcLoc loc = SrcLoc::current()) {
  if (p == nullptr) return;
  SimFreeBegin(p, loc);
  p->~T();  // each member's destructor: a write for the race detector
  SimFreeEnd(p, loc);
}

}  // namespace aiosim::core

#endif  // AIOSIM_SIM_INCLUDE_AIOSIM_PLATFORM_IMPL_H_
