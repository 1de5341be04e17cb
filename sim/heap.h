// sim/heap.h — the tracking allocator behind platform_new/platform_delete in the
// simulator: every BH, timer, handler node, pool request and context the core
// allocates is a tracked block. A freed block is poisoned (0xdd) and quarantined until
// the execution ends, so any later access through a primitive inside it finds a dead
// liveness word (use after free), a second free is caught (double free), and blocks
// still live when every thread has finished are leaks.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Determinism: blocks are described by their type, size and allocation/free sites and
// by an allocation sequence number, never by address.
#ifndef AIOSIM_SIM_HEAP_H_
#define AIOSIM_SIM_HEAP_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/platform/sync_types.h"

namespace aiosim::sim {

class HeapTracker {
 public:
  HeapTracker() = default;
  ~HeapTracker();
  HeapTracker(const HeapTracker&) = delete;
  HeapTracker& operator=(const HeapTracker&) = delete;

  void* Alloc(size_t size, const char* type, core::SrcLoc loc);
  // Returns an empty string if `p` may be freed, else the failure message (double free
  // or a pointer that is not a tracked block). Changes nothing.
  std::string CheckFree(const void* p, core::SrcLoc loc) const;
  // Returns an empty string on success, else the failure message (as CheckFree).
  std::string Free(void* p, core::SrcLoc loc);
  // "QEMUBH #3 (48 bytes) allocated at ..., freed at ..." for an address inside a
  // freed block, or "" if none.
  std::string DescribeAddress(const void* p) const;
  // One line per block still allocated.
  std::vector<std::string> LiveBlocks() const;
  // Frees everything (end of execution).
  void ReleaseAll();
  // ReleaseAll, and back to the state of a new tracker (for the next execution).
  void Reset() {
    ReleaseAll();
    next_seq_ = 1;
    peak_bytes_ = 0;
  }
  size_t peak_bytes() const { return peak_bytes_; }

 private:
  struct Block {
    size_t size;
    uint64_t seq;
    std::string type;
    core::SrcLoc alloc_loc = core::SrcLoc::current();
    core::SrcLoc free_loc = core::SrcLoc::current();
    bool freed;
  };
  std::string Describe(const Block& b) const;

  std::map<uintptr_t, Block>
      blocks_;  // by address: lookups only, never iterated for decisions
  uint64_t next_seq_ = 1;
  size_t live_bytes_ = 0;
  size_t peak_bytes_ = 0;
};

// "aiosim::core::QEMUBH" from a platform_new<T> __PRETTY_FUNCTION__.
std::string TypeFromPrettyFunction(const char* pretty);

}  // namespace aiosim::sim

#endif  // AIOSIM_SIM_HEAP_H_
