// core/platform/platform.cc — names for the seam's enums, shared by every platform.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/platform/clock.h"
#include "core/platform/sync_types.h"

namespace aiosim::core {

const char* QEMUClockTypeName(QEMUClockType type) {
  switch (type) {
    case QEMU_CLOCK_REALTIME: return "realtime";
    case QEMU_CLOCK_VIRTUAL: return "virtual";
    case QEMU_CLOCK_HOST: return "host";
    case QEMU_CLOCK_VIRTUAL_RT: return "virtual_rt";
    case QEMU_CLOCK_MAX: break;
  }
  return "invalid";
}

const char* MemOrderName(MemOrder order) {
  switch (order) {
    case MemOrder::kRelaxed: return "relaxed";
    case MemOrder::kConsume: return "consume";
    case MemOrder::kAcquire: return "acquire";
    case MemOrder::kRelease: return "release";
    case MemOrder::kSeqCst: return "seq_cst";
  }
  return "invalid";
}

const char* FenceKindName(FenceKind kind) {
  switch (kind) {
    case FenceKind::kFull: return "smp_mb";
    case FenceKind::kWrite: return "smp_wmb";
    case FenceKind::kRead: return "smp_rmb";
    case FenceKind::kDepends: return "smp_read_barrier_depends";
    case FenceKind::kCompiler: return "barrier";
    case FenceKind::kMbBeforeRmw: return "smp_mb__before_rmw";
    case FenceKind::kMbAfterRmw: return "smp_mb__after_rmw";
  }
  return "invalid";
}

}  // namespace aiosim::core
