// sim/runtime.h — the hooks the simulated primitives call (sim/include/
// aiosim_platform_impl.h). Internal to the simulator.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Determinism contract: every hook runs on the one OS thread of the simulation, inside
// a fiber of the current Execution. Objects are identified by ids given in order of
// first use within an execution, never by address.
#ifndef AIOSIM_SIM_RUNTIME_H_
#define AIOSIM_SIM_RUNTIME_H_

#include <cstdint>

#include "core/platform/sync_types.h"

namespace aiosim::sim {

class Execution;
class SimThread;

// The execution running on this OS thread, or nullptr outside a simulation.
// constinit: no dynamic initialisation, so a read is a plain TLS load (without it,
// every read first tests for and may call the variable's TLS init wrapper).
extern constinit thread_local Execution* tls_execution;

// What a scheduling point is about to do (for traces, DPOR independence, reports).
enum class OpKind : uint8_t {
  kLoad,
  kStore,
  kRmw,
  kPlainLoad,
  kPlainStore,
  kFence,
  kLock,
  kUnlock,
  kSemPost,
  kSemWait,
  kCondWait,
  kCondSignal,
  kEventSet,
  kEventReset,
  kEventWait,
  kSpawn,
  kJoin,
  kExit,
  kPoll,
  kFdSet,
  kFdClear,
  kSleep,
  kYield,
  kFree,
  kFutexWait,  // on the futex word's object
  kFutexWake,
};
const char* OpKindName(OpKind kind);

inline constexpr uint32_t kMetaLive = 0xA105A11Eu;
inline constexpr uint32_t kMetaDead = 0xDEADA105u;

// Bookkeeping embedded in every simulated primitive. `epoch` is the serial of the
// execution that last touched the object; when it changes, id and state are reset.
struct ObjMeta {
  uint32_t magic = kMetaLive;
  uint32_t id = 0;
  uint64_t epoch = 0;
  void* race = nullptr;  // race-detector state, owned by the execution's arena
};

// The operation a runnable thread will perform when it next runs (for DPOR).
struct PendingOp {
  OpKind kind = OpKind::kYield;
  uint32_t obj = 0;  // 0: not an object access (dependent with everything)
};

// Choices at one scheduling point are numbered from 0 while the point itself chooses
// who runs, and from kChoicesInOp once the operation is under way (blocking, a
// signalled waiter, a spurious wakeup, EINTR), whether or not the point itself made a
// choice: so a choice inside an operation keeps its number when the point is passed
// inline (inside a quantum) in one execution and with a choice in another.
inline constexpr uint32_t kChoicesInOp = 1u << 16;

// The per-thread state a scheduling point updates.
struct ThreadHot {
  int id = 0;
  PendingOp pending;
  uint64_t points = 0;            // scheduling points passed
  uint32_t choices_at_point = 0;  // choices made since the last one
};

// The trace hash's step: FNV-1a over 64-bit words.
inline uint64_t HashWords(uint64_t h, uint64_t a, uint64_t b) {
  h = (h ^ a) * 1099511628211ull;
  h = (h ^ b) * 1099511628211ull;
  return h ^ (h >> 29);
}

// The hot state of the running execution, shared with the inline primitives. Owned
// by the Execution. A scheduling point inside a quantum (see Decision in
// sim/choice.h) with nothing else to do is handled entirely by InlineStep, without a
// call into the execution: Execution::Point and the primitives' FastPoint both call
// it first, so there is one definition of that path. `fast_ok` is false whenever
// every point must take the full path (race detection, trace recording, inspection).
struct FastState {
  uint64_t serial = 0;
  uint64_t steps = 0;
  uint64_t max_steps = 0;
  uint64_t trace_hash = 0;
  uint64_t run_length = 0;  // points the current thread has passed in a row
  uint64_t fairness_steps = 0;
  uint32_t quantum_left = 0;
  // No other thread can run and time cannot jump (one thread runnable, nothing to
  // choose): every point passes without a choice until a thread becomes runnable.
  // Set by Execution::Reschedule, cleared whenever a thread becomes runnable.
  bool solo = false;
  bool fast_ok = false;
  // Whether Execution::Point may pass a point inline (InlineStep without fast_ok):
  // false while a trace is recorded. The race detector needs its check on every
  // access (so the primitives must not skip OnAccess), not a call per point.
  bool point_inline = false;
  // With a recorded trace: the primitives note the values they read and write (on
  // their full path, after OnAccess) with NoteValue.
  bool record_values = false;
  // The race detector is on: a synchronisation operation passed inline (SyncFastPoint)
  // still owes it its happens-before edge (InlineAcquire / InlineRelease).
  bool races_on = false;
  ThreadHot* cur = nullptr;

  // Counts one point of the current thread before `kind` on `obj`, and hashes it.
  void Count(OpKind kind, uint32_t obj) {
    steps++;
    cur->pending = PendingOp{kind, obj};
    cur->points++;
    trace_hash = HashWords(
        trace_hash, (static_cast<uint64_t>(cur->id) << 32) | static_cast<uint64_t>(kind),
        obj);
  }
  // Whether the current thread may pass this point without a choice.
  bool InQuantum() const { return quantum_left > 0 && run_length < fairness_steps; }
  // Passes the point without a choice if nothing can be chosen (solo) or the current
  // thread is inside its quantum; false if Execution::Reschedule must run. Updates
  // quantum and run length exactly as Reschedule would (so an execution is the same
  // whichever path its points take): alone, fairness never switches a thread away.
  bool TryPass() {
    if (solo) {
      quantum_left -= quantum_left > 0 ? 1 : 0;
      run_length++;
      return true;
    }
    if (!InQuantum()) return false;
    quantum_left--;
    run_length++;
    return true;
  }
  // The whole point when it needs nothing but counting; false if the full path must
  // run (a choice, fairness, the step bound, tracing, race detection).
  bool InlineStep(OpKind kind, uint32_t obj) { return fast_ok && Step(kind, obj); }
  // InlineStep for Execution::Point (point_inline in place of fast_ok).
  bool PointStep(OpKind kind, uint32_t obj) { return point_inline && Step(kind, obj); }
  bool Step(OpKind kind, uint32_t obj) {
    if (steps >= max_steps || !TryPass()) return false;
    Count(kind, obj);
    cur->choices_at_point = kChoicesInOp;
    return true;
  }
};
extern constinit thread_local FastState* tls_fast;  // constinit: as tls_execution

// Whether `meta` is live and known to the execution of `f` (it has its id there).
inline bool KnownLive(const ObjMeta* meta, const FastState* f) {
  return meta->magic == kMetaLive && meta->epoch == f->serial;
}

// The primitives' inline path: InlineStep for an object that is live and known to
// this execution. Returns false when the full path (OnAccess) must run.
inline bool FastPoint(ObjMeta* meta, OpKind kind) {
  FastState* f = tls_fast;
  return f != nullptr && KnownLive(meta, f) && f->InlineStep(kind, meta->id);
}

// FastPoint for a synchronisation operation (a mutex's lock or unlock): passes inline
// with the race detector on too (PointStep), since the operation checks no race; the
// caller then adds its happens-before edge when races_on.
inline bool SyncFastPoint(ObjMeta* meta, OpKind kind) {
  FastState* f = tls_fast;
  return f != nullptr && KnownLive(meta, f) && f->PointStep(kind, meta->id);
}
// The running simulated thread's id while SyncFastPoint may pass (point_inline), else
// -1 (outside a simulation too).
inline int SyncFastThread() {
  FastState* f = tls_fast;
  return f != nullptr && f->point_inline ? f->cur->id : -1;
}
// The race detector's edge of a synchronisation operation passed inline: the running
// thread acquires (a lock) or releases (an unlock) the object.
void InlineAcquire(ObjMeta* meta);
void InlineRelease(ObjMeta* meta);

// A memory access through Atomic<T> / Shared<T>: a scheduling point, then checks
// (use after free, data race). `is_atomic` distinguishes atomic from plain accesses.
void OnAccess(ObjMeta* meta, OpKind kind, core::MemOrder order, core::SrcLoc loc);
// With a recorded trace, the value an access just read or wrote, for reports: `before`
// is the value the object held, `after` the one it holds now (equal for a load).
// Pointers are noted as 0 (null) or 1. Called by the primitives on their full path,
// right after OnAccess; changes nothing in the execution.
inline constexpr uint8_t kValuePointer = 1;
inline constexpr uint8_t kValueSigned = 2;
void RecordValue(uint64_t before, uint64_t after, uint8_t flags);
inline void NoteValue(uint64_t before, uint64_t after, uint8_t flags = 0) {
  FastState* f = tls_fast;
  if (f != nullptr && __builtin_expect(f->record_values, 0))
    RecordValue(before, after, flags);
}
// Names an object for reports ("ctx \"main\"->notify_me"): kept by the execution
// beside the object's id when it is first used (or at once if it already has one),
// only while a trace is recorded. Never enters the trace hash or any decision.
void NameObject(const ObjMeta* meta, const char* name);
// Whether names are wanted now (a trace is being recorded): lets the core skip
// building them.
bool NamesWanted();
// A fence: a scheduling point and its happens-before effect.
void OnFence(core::FenceKind kind, core::SrcLoc loc);
// Called from a Shared/Atomic location's destructor: a write for the race detector
// (destroying memory another thread may still read), then the liveness word dies.
void OnDestroy(ObjMeta* meta);
// Called from a synchronisation object's destructor.
void OnDestroySync(ObjMeta* meta);
// A futex wait on the 32-bit word `word` of the Atomic that `meta` belongs to: a
// scheduling point; then, if *word == expected, the thread sleeps until a wake on the
// same object (or, with spurious wakeups on, a recorded choice returns at once). The
// check reads the word like a relaxed atomic load.
void OnFutexWait(ObjMeta* meta, const uint32_t* word, uint32_t expected,
                 core::SrcLoc loc);
// A futex wake on the object: wakes one sleeper (which one is a recorded choice) or
// all of them.
void OnFutexWake(ObjMeta* meta, bool all, core::SrcLoc loc);
// ThreadLocal storage: a process-wide index per ThreadLocal object, and the current
// simulated thread's slot for it (an OS-thread slot outside a simulation).
int NextThreadLocalIndex();
uint64_t* ThreadLocalSlot(int index);
// A failed AIOSIM_ASSERT inside a simulation: records the failure and ends the
// execution (never returns).
[[noreturn]] void OnCheckFailed(const char* what, core::SrcLoc loc);

}  // namespace aiosim::sim

#endif  // AIOSIM_SIM_RUNTIME_H_
