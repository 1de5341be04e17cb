// sim/heap.cc — see heap.h.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "sim/heap.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_format.h"
#include "sim/execution.h"
#include "sim/sanitizers.h"

#ifdef AIOSIM_ASAN
#include <sanitizer/asan_interface.h>
#else
#define ASAN_POISON_MEMORY_REGION(addr, size) ((void)(addr), (void)(size))
#define ASAN_UNPOISON_MEMORY_REGION(addr, size) ((void)(addr), (void)(size))
#endif

namespace aiosim::sim {

std::string TypeFromPrettyFunction(const char* pretty) {
  // GCC: "... [with T = aiosim::core::QEMUBH; ...]"; clang: "... [T =
  // aiosim::core::QEMUBH]"
  std::string s(pretty);
  size_t at = s.find("T = ");
  if (at == std::string::npos) return s;
  size_t end = s.find_first_of(";]", at);
  std::string type =
      s.substr(at + 4, end == std::string::npos ? std::string::npos : end - at - 4);
  const std::string ns = "aiosim::core::";
  if (type.rfind(ns, 0) == 0) type = type.substr(ns.size());
  return type;
}

namespace {
// A new chunk's size, unless one block needs more; at most this much memory is kept
// for the next execution.
constexpr size_t kChunkBytes = size_t{64} << 10;
constexpr size_t kKeepBytes = size_t{1} << 20;
constexpr size_t kAlign = alignof(std::max_align_t);
#ifdef AIOSIM_ASAN
constexpr size_t kGap = kAlign;  // poisoned after every block
#else
constexpr size_t kGap = 0;
#endif
}  // namespace

HeapTracker::~HeapTracker() {
  ReleaseAll();
  for (const Chunk& c : chunks_) {
    ASAN_UNPOISON_MEMORY_REGION(c.base, c.size);
    std::free(c.base);
  }
}

void* HeapTracker::Carve(size_t bytes) {
  // At least one unit, so that no two blocks share an address.
  const size_t need = (std::max<size_t>(bytes, 1) + kAlign - 1) / kAlign * kAlign + kGap;
  while (chunk_ < chunks_.size() && used_ + need > chunks_[chunk_].size) {
    chunk_++;
    used_ = 0;
  }
  if (chunk_ == chunks_.size()) {
    const size_t size = std::max(kChunkBytes, need);
    auto* base = static_cast<char*>(std::aligned_alloc(kAlign, size));
    if (base == nullptr) {
      std::fprintf(stderr, "aiosim: out of memory (%zu bytes for the tracked heap)\n",
                   size);
      std::abort();
    }
    chunks_.push_back(Chunk{base, size});
    used_ = 0;
  }
  char* p = chunks_[chunk_].base + used_;
  used_ += need;
  ASAN_UNPOISON_MEMORY_REGION(p, need - kGap);
  if (kGap != 0) ASAN_POISON_MEMORY_REGION(p + need - kGap, kGap);
  return p;
}

void* HeapTracker::Alloc(size_t size, const char* type, core::SrcLoc loc) {
  void* p = Carve(size);
  const auto addr = reinterpret_cast<uintptr_t>(p);
  index_[addr] = static_cast<uint32_t>(blocks_.size());
  blocks_.push_back(Block{addr, size, next_seq_++, type, loc, loc, false});
  live_bytes_ += size;
  if (live_bytes_ > peak_bytes_) peak_bytes_ = live_bytes_;
  return p;
}

const HeapTracker::Block* HeapTracker::Find(const void* p) const {
  auto it = index_.find(reinterpret_cast<uintptr_t>(p));
  return it == index_.end() ? nullptr : &blocks_[it->second];
}

std::string HeapTracker::Describe(const Block& b) const {
  std::string s = absl::StrFormat(
      "%s #%d (%d bytes) allocated at %s", TypeFromPrettyFunction(b.type),
      static_cast<int>(b.seq), static_cast<int>(b.size), Execution::Where(b.alloc_loc));
  if (b.freed) s += ", freed at " + Execution::Where(b.free_loc);
  return s;
}

std::string HeapTracker::CheckFree(const void* p, core::SrcLoc loc) const {
  const Block* b = Find(p);
  if (b == nullptr) {
    return absl::StrFormat("free of a pointer that is not a tracked block at %s",
                           Execution::Where(loc));
  }
  if (b->freed) {
    return absl::StrFormat("double free of %s; second free at %s", Describe(*b),
                           Execution::Where(loc));
  }
  return "";
}

std::string HeapTracker::Free(void* p, core::SrcLoc loc) {
  auto it = index_.find(reinterpret_cast<uintptr_t>(p));
  if (it == index_.end() || blocks_[it->second].freed) return CheckFree(p, loc);
  Block& b = blocks_[it->second];
  b.freed = true;
  b.free_loc = loc;
  live_bytes_ -= b.size;
  std::memset(p, 0xdd,
              b.size);  // poison: a dead liveness word for every primitive inside
  return "";
}

std::string HeapTracker::DescribeAddress(const void* p) const {
  const auto a = reinterpret_cast<uintptr_t>(p);
  for (const Block& b : blocks_) {
    if (b.freed && a >= b.addr && a < b.addr + b.size) {
      return "the object is inside " + Describe(b);
    }
  }
  return "";
}

std::vector<std::string> HeapTracker::LiveBlocks() const {
  std::vector<std::string> out;
  for (const Block& b : blocks_) {
    if (!b.freed) out.push_back("leaked: " + Describe(b));
  }
  return out;
}

void HeapTracker::ReleaseAll() {
  blocks_.clear();
  index_.clear();
  live_bytes_ = 0;
  // Keep the first chunks, up to kKeepBytes, for the next execution.
  size_t kept = 0;
  size_t keep = 0;
  while (keep < chunks_.size() && kept + chunks_[keep].size <= kKeepBytes) {
    kept += chunks_[keep++].size;
  }
  for (size_t i = keep; i < chunks_.size(); i++) {
    ASAN_UNPOISON_MEMORY_REGION(chunks_[i].base, chunks_[i].size);
    std::free(chunks_[i].base);
  }
  chunks_.resize(keep);
  chunk_ = 0;
  used_ = 0;
}

}  // namespace aiosim::sim
