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
