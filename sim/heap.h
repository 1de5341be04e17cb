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
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "core/platform/sync_types.h"

namespace aiosim::sim {

class HeapTracker {
 public:
  HeapTracker() = default;
  ~HeapTracker();
  HeapTracker(const HeapTracker&) = delete;
  HeapTracker& operator=(const HeapTracker&) = delete;

  // `type`: the platform_new<T> __PRETTY_FUNCTION__ (static storage: it is kept, and
  // read only to describe the block in a report).
  void* Alloc(size_t size, const char* type, core::SrcLoc loc);
  // Returns an empty string if `p` may be freed, else the failure message (double free
  // or a pointer that is not a tracked block). Changes nothing.
  std::string CheckFree(const void* p, core::SrcLoc loc) const;
  // Returns an empty string on success, else the failure message (as CheckFree).
  std::string Free(void* p, core::SrcLoc loc);
  // "QEMUBH #3 (48 bytes) allocated at ..., freed at ..." for an address inside a
  // freed block, or "" if none.
  std::string DescribeAddress(const void* p) const;
  // One line per block still allocated, in allocation order.
  std::vector<std::string> LiveBlocks() const;
  // Forgets every block (end of execution); their memory is reused by the next.
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
    uintptr_t addr;
    size_t size;
    uint64_t seq;
    const char* type;  // a __PRETTY_FUNCTION__ (TypeFromPrettyFunction)
    core::SrcLoc alloc_loc = core::SrcLoc::current();
    core::SrcLoc free_loc = core::SrcLoc::current();
    bool freed;
  };
  // The blocks' memory: chunks cut in allocation order and never given back within
  // an execution (a freed block stays poisoned until the execution ends), reused by
  // the next one. Under AddressSanitizer every block is followed by a poisoned gap.
  struct Chunk {
    char* base;
    size_t size;
  };
  void* Carve(size_t bytes);
  const Block* Find(const void* p) const;
  std::string Describe(const Block& b) const;

  std::vector<Block> blocks_;  // in allocation order
  // Block index by address: lookups only, never iterated.
  absl::flat_hash_map<uintptr_t, uint32_t> index_;
  std::vector<Chunk> chunks_;
  size_t chunk_ = 0;  // the chunk being cut
  size_t used_ = 0;   // bytes cut from chunks_[chunk_]
  uint64_t next_seq_ = 1;
  size_t live_bytes_ = 0;
  size_t peak_bytes_ = 0;
};

// "aiosim::core::QEMUBH" from a platform_new<T> __PRETTY_FUNCTION__.
std::string TypeFromPrettyFunction(const char* pretty);

}  // namespace aiosim::sim

#endif  // AIOSIM_SIM_HEAP_H_
