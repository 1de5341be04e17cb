// core/platform/sync_types.h — vocabulary shared by every platform's primitives.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Included by each platform's "aiosim_platform_impl.h" before it defines Atomic<T>,
// Shared<T>, the locks and the fences. Nothing here does any work.
#ifndef AIOSIM_CORE_PLATFORM_SYNC_TYPES_H_
#define AIOSIM_CORE_PLATFORM_SYNC_TYPES_H_

namespace aiosim::core {

// Every primitive operation takes the caller's source location (a default argument),
// so the simulator can name the line of each racing access. The host build ignores
// it, and the optimiser removes it. (Not std::source_location: clang 14 with
// libstdc++ 12 cannot compile it; the __builtin_* forms work with GCC and clang, and
// nested default arguments report the outermost caller's line.)
//
// Sixteen bytes, so that it is passed in two registers: the line lives in the top 16
// bits of the file name's address (user-space addresses fit in 48 bits; a line above
// 65,535 reads as 65,535). At 24 bytes it went through memory at every call, and GCC
// copied it with a 16-byte load of what it had just stored in 8- and 4-byte pieces:
// a store-forwarding stall on every primitive operation in the simulator.
class SrcLoc {
 public:
  static SrcLoc current(const char* file = __builtin_FILE(), unsigned line = __builtin_LINE(),
                        const char* function = __builtin_FUNCTION()) {
    return SrcLoc(file, line, function);
  }
  const char* file_name() const {
    return reinterpret_cast<const char*>(file_line_ & kAddressMask);
  }
  unsigned line() const { return static_cast<unsigned>(file_line_ >> kLineShift); }
  const char* function_name() const { return function_; }

 private:
  static_assert(sizeof(void*) == 8, "SrcLoc packs the line into a 64-bit address");
  static constexpr int kLineShift = 48;
  static constexpr unsigned long long kAddressMask = (1ull << kLineShift) - 1;
  SrcLoc(const char* file, unsigned line, const char* function)
      : file_line_(reinterpret_cast<unsigned long long>(file) |
                   static_cast<unsigned long long>(line < 0xFFFF ? line : 0xFFFF)
                       << kLineShift),
        function_(function) {}
  unsigned long long file_line_;
  const char* function_;
};

// C11 memory orders, as QEMU's qemu/atomic.h uses them.
enum class MemOrder { kRelaxed, kConsume, kAcquire, kRelease, kSeqCst };

// QEMU's fences: smp_mb (full), smp_wmb (store-store), smp_rmb (load-load),
// smp_read_barrier_depends (dependent loads), barrier() (compiler only), and 8.0's
// smp_mb__before_rmw / smp_mb__after_rmw: a full barrier around a read-modify-write
// where the host's RMWs are not already one (a compiler barrier on x86 and s390x).
// They are kinds of their own, not kFull, so that a weak memory model can tell them
// apart from an smp_mb later; the race detector treats them as full fences.
enum class FenceKind { kFull, kWrite, kRead, kDepends, kCompiler, kMbBeforeRmw, kMbAfterRmw };

const char* MemOrderName(MemOrder order);
const char* FenceKindName(FenceKind kind);

}  // namespace aiosim::core

#endif  // AIOSIM_CORE_PLATFORM_SYNC_TYPES_H_
