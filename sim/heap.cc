// sim/heap.cc — see heap.h.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "sim/heap.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_format.h"
#include "sim/execution.h"

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

HeapTracker::~HeapTracker() { ReleaseAll(); }

void* HeapTracker::Alloc(size_t size, const char* type, core::SrcLoc loc) {
  void* p = std::aligned_alloc(alignof(std::max_align_t),
                               (size + alignof(std::max_align_t) - 1) /
                                   alignof(std::max_align_t) * alignof(std::max_align_t));
  blocks_.insert_or_assign(
      reinterpret_cast<uintptr_t>(p),
      Block{size, next_seq_++, TypeFromPrettyFunction(type), loc, loc, false});
  live_bytes_ += size;
  if (live_bytes_ > peak_bytes_) peak_bytes_ = live_bytes_;
  return p;
}

std::string HeapTracker::Describe(const Block& b) const {
  std::string s = absl::StrFormat("%s #%d (%d bytes) allocated at %s", b.type,
                                  static_cast<int>(b.seq), static_cast<int>(b.size),
                                  Execution::Where(b.alloc_loc));
  if (b.freed) s += ", freed at " + Execution::Where(b.free_loc);
  return s;
}

std::string HeapTracker::CheckFree(const void* p, core::SrcLoc loc) const {
  auto it = blocks_.find(reinterpret_cast<uintptr_t>(p));
  if (it == blocks_.end()) {
    return absl::StrFormat("free of a pointer that is not a tracked block at %s",
                           Execution::Where(loc));
  }
  if (it->second.freed) {
    return absl::StrFormat("double free of %s; second free at %s", Describe(it->second),
                           Execution::Where(loc));
  }
  return "";
}

std::string HeapTracker::Free(void* p, core::SrcLoc loc) {
  if (std::string error = CheckFree(p, loc); !error.empty()) return error;
  Block& b = blocks_.find(reinterpret_cast<uintptr_t>(p))->second;
  b.freed = true;
  b.free_loc = loc;
  live_bytes_ -= b.size;
  std::memset(p, 0xdd,
              b.size);  // poison: a dead liveness word for every primitive inside
  return "";
}

std::string HeapTracker::DescribeAddress(const void* p) const {
  auto a = reinterpret_cast<uintptr_t>(p);
  auto it = blocks_.upper_bound(a);
  if (it == blocks_.begin()) return "";
  --it;
  if (a >= it->first + it->second.size || !it->second.freed) return "";
  return "the object is inside " + Describe(it->second);
}

std::vector<std::string> HeapTracker::LiveBlocks() const {
  std::vector<const Block*> live;
  for (const auto& [addr, b] : blocks_) {
    if (!b.freed) live.push_back(&b);
  }
  // Report in allocation order, never address order.
  std::sort(live.begin(), live.end(),
            [](const Block* x, const Block* y) { return x->seq < y->seq; });
  std::vector<std::string> out;
  for (const Block* b : live) out.push_back("leaked: " + Describe(*b));
  return out;
}

void HeapTracker::ReleaseAll() {
  for (auto& [addr, b] : blocks_) std::free(reinterpret_cast<void*>(addr));
  blocks_.clear();
  live_bytes_ = 0;
}

}  // namespace aiosim::sim
