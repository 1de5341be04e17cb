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
extern thread_local Execution* tls_execution;

// What a scheduling point is about to do (for traces, DPOR independence, reports).
enum class OpKind : uint8_t {
  kLoad, kStore, kRmw, kPlainLoad, kPlainStore, kFence,
  kLock, kUnlock, kSemPost, kSemWait, kCondWait, kCondSignal, kEventSet, kEventReset,
  kEventWait, kSpawn, kJoin, kExit, kPoll, kFdSet, kFdClear, kSleep, kYield, kFree,
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

// The per-thread state a scheduling point updates.
struct ThreadHot {
  int id = 0;
  PendingOp pending;
  uint64_t points = 0;            // scheduling points passed
  uint32_t choices_at_point = 0;  // choices made since the last one
};

// The hot state of the running execution, shared with the inline primitives: a point
// inside a quantum (see ChoiceRecord in execution.h) is handled entirely by FastPoint,
// without a call into the execution. Owned by the Execution; `fast_ok` is false
// whenever a point needs the full path (race detection, trace recording, inspection).
struct FastState {
  uint64_t serial = 0;
  uint64_t steps = 0;
  uint64_t max_steps = 0;
  uint64_t trace_hash = 0;
  uint64_t run_length = 0;  // points the current thread has passed in a row
  uint64_t fairness_steps = 0;
  uint32_t quantum_left = 0;
  bool fast_ok = false;
  ThreadHot* cur = nullptr;
};
extern thread_local FastState* tls_fast;

// The trace hash's step: FNV-1a over 64-bit words.
inline uint64_t HashWords(uint64_t h, uint64_t a, uint64_t b) {
  h = (h ^ a) * 1099511628211ull;
  h = (h ^ b) * 1099511628211ull;
  return h ^ (h >> 29);
}

// The whole scheduling point, when the current thread is inside its quantum and the
// object is live and known to this execution: exactly what Execution::Point does in
// that case. Returns false when the full path (OnAccess) must run.
inline bool FastPoint(ObjMeta* meta, OpKind kind) {
  FastState* f = tls_fast;
  if (f == nullptr || !f->fast_ok || f->quantum_left == 0 || meta->magic != kMetaLive ||
      meta->epoch != f->serial || f->run_length >= f->fairness_steps ||
      f->steps >= f->max_steps) {
    return false;
  }
  f->quantum_left--;
  f->run_length++;
  f->steps++;
  ThreadHot* t = f->cur;
  t->pending = PendingOp{kind, meta->id};
  t->points++;
  t->choices_at_point = 0;
  f->trace_hash = HashWords(f->trace_hash,
                            (static_cast<uint64_t>(t->id) << 32) | static_cast<uint64_t>(kind),
                            meta->id);
  return true;
}

// A memory access through Atomic<T> / Shared<T>: a scheduling point, then checks
// (use after free, data race). `is_atomic` distinguishes atomic from plain accesses.
void OnAccess(ObjMeta* meta, OpKind kind, core::MemOrder order, core::SrcLoc loc);
// A fence: a scheduling point and its happens-before effect.
void OnFence(core::FenceKind kind, core::SrcLoc loc);
// Called from an object's destructor.
void OnDestroy(ObjMeta* meta);
// A failed AIOSIM_ASSERT inside a simulation: records the failure and ends the
// execution (never returns).
[[noreturn]] void OnCheckFailed(const char* what, core::SrcLoc loc);

}  // namespace aiosim::sim

#endif  // AIOSIM_SIM_RUNTIME_H_
