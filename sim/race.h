// sim/race.h — the data-race detector: vector clocks over the happens-before order of
// one execution.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Happens-before comes from: spawn and join; mutex unlock → lock; semaphore post →
// wait; event set → wait; condition signal → wake (through its mutex); eventfd set →
// the poll or read that sees it; atomics by their order (release stores and RMWs
// release, acquire/seq-cst loads and RMWs acquire; relaxed accesses synchronise only
// through fences, as C11 fences do: a relaxed or plain store after smp_wmb carries the
// writer's clock at the fence, and a load followed by smp_rmb / smp_read_barrier_depends
// / smp_mb acquires it).
//
// A race is two accesses to one Shared<T> or Atomic<T>, at least one a write and at
// least one plain (Shared<T>, or PlainLoad/PlainStore), with neither before the other.
// Atomic-atomic pairs never race. Destroying an object (its destructor, e.g. inside
// platform_delete) is a plain write to each of its locations, so a free that is not
// ordered after another thread's access is a race. The report names both accesses:
// thread, operation, source line.
//
// History per location (FastTrack-like, Flanagan & Freund, PLDI 2009): for each thread
// the last write and the last read of each kind (atomic, plain), as epochs. An entry
// is dropped only when a newer access happens after it and covers it (the newer one
// is plain, or both are atomic): then any later access that would race with the old
// entry races with the newer one too. So a write is never forgotten just because
// another, unordered write came after it.
//
// Invariants (per Location):
//   1. writes and reads hold at most one entry per (thread, atomic) pair.
//   2. No entry e is kept beside a newer entry f with e before f and f covering e.
//
// Determinism: state hangs off each object's ObjMeta and off thread ids; nothing
// depends on addresses.
#ifndef AIOSIM_SIM_RACE_H_
#define AIOSIM_SIM_RACE_H_

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "core/platform/sync_types.h"
#include "sim/runtime.h"

namespace aiosim::sim {

// A vector of trivially copyable elements, the first N inline: the race detector's
// clocks and histories, where absl::InlinedVector's generic resize and emplace paths
// cost more than the detector's own work. Elements past size() are garbage.
template <class T, uint32_t N>
class SmallVec {
  static_assert(std::is_trivially_copyable_v<T>);
  static_assert(N >= 1);

 public:
  SmallVec() = default;
  SmallVec(const SmallVec& o) { *this = o; }
  SmallVec& operator=(const SmallVec& o) {
    if (this == &o) return *this;
    Reserve(o.size_);
    std::memcpy(data_, o.data_, sizeof(T) * o.size_);
    size_ = o.size_;
    return *this;
  }
  ~SmallVec() {
    if (data_ != inline_) delete[] data_;
  }

  T* data() { return data_; }
  const T* data() const { return data_; }
  uint32_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T& operator[](uint32_t i) { return data_[i]; }
  const T& operator[](uint32_t i) const { return data_[i]; }
  T* begin() { return data_; }
  T* end() { return data_ + size_; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }
  void clear() { size_ = 0; }
  // Shrinks, or grows with `fill`.
  void resize(uint32_t n, T fill = T{}) {
    Reserve(n);
    for (uint32_t i = size_; i < n; i++) data_[i] = fill;
    size_ = n;
  }
  // Makes the vector {v} (N >= 1, so the first element is always there).
  void AssignOne(const T& v) {
    data_[0] = v;
    size_ = 1;
  }
  void push_back(const T& v) {
    if (size_ == cap_) Reserve(size_ * 2);
    data_[size_++] = v;
  }
  size_t capacity() const { return cap_; }

 private:
  void Reserve(uint32_t n) {
    if (n <= cap_) return;
    T* grown = new T[n];
    std::memcpy(grown, data_, sizeof(T) * size_);
    if (data_ != inline_) delete[] data_;
    data_ = grown;
    cap_ = n;
  }
  // The elements: inline_ until they outgrow it, then an array of cap_ on the heap.
  // Never copied bitwise (the copy constructor sets it to this object's inline_).
  T* data_ = inline_;
  uint32_t size_ = 0;
  uint32_t cap_ = N;
  T inline_[N];
};

// Elements at stable addresses, handed out in order and all taken back at once
// (Reset). Their memory, and the capacity each element holds, is kept for the next
// execution (std::deque::clear gives its blocks back: at a few elements a block, the
// detector allocated again in every execution). T::Clear() empties a reused element.
template <class T, size_t kChunk = 64>
class StablePool {
 public:
  T* New() {
    const size_t c = used_ / kChunk;
    if (c == chunks_.size()) chunks_.push_back(std::make_unique<T[]>(kChunk));
    T* p = &chunks_[c][used_ % kChunk];
    p->Clear();  // it may hold an earlier execution's element
    used_++;
    return p;
  }
  // Takes every element back; keeps at most kKeepChunks chunks.
  void Reset() {
    if (chunks_.size() > kKeepChunks) chunks_.resize(kKeepChunks);
    used_ = 0;
  }

 private:
  static constexpr size_t kKeepChunks = 1024;
  std::vector<std::unique_ptr<T[]>> chunks_;
  size_t used_ = 0;
};

// The race detector's view of an operation: whether it writes the location (a free
// is a write), whether it is atomic, whether its order releases.
inline bool IsWriteKind(OpKind k) {
  return k == OpKind::kStore || k == OpKind::kRmw || k == OpKind::kPlainStore ||
         k == OpKind::kFree;
}
inline bool IsAtomicKind(OpKind k) {
  return k == OpKind::kLoad || k == OpKind::kStore || k == OpKind::kRmw;
}
inline bool ReleasesOrder(core::MemOrder o) {
  return o == core::MemOrder::kRelease || o == core::MemOrder::kSeqCst;
}

class VectorClock {
 public:
  uint32_t Get(int t) const {
    return static_cast<uint32_t>(t) < c_.size() ? c_[static_cast<uint32_t>(t)] : 0;
  }
  void Set(int t, uint32_t v) {
    const uint32_t i = static_cast<uint32_t>(t);
    if (i >= c_.size()) c_.resize(i + 1, 0);
    c_[i] = v;
  }
  void Tick(int t) { Set(t, Get(t) + 1); }
  void Join(const VectorClock& o) {
    const uint32_t n = o.c_.size();
    if (n > c_.size()) c_.resize(n, 0);
    uint32_t* mine = c_.data();
    const uint32_t* theirs = o.c_.data();
    for (uint32_t i = 0; i < n; i++) mine[i] = mine[i] > theirs[i] ? mine[i] : theirs[i];
  }
  void Clear() { c_.clear(); }
  bool empty() const { return c_.empty(); }

 private:
  SmallVec<uint32_t, 8> c_;
};

// Races that a program has by design and that a user asks not to be stopped by (as
// TSan suppressions): pairs of function names, in either order, grouped under an id.
// The text format is docs/tsan-known-races.txt's: a line "# <ID>: <description>"
// starts a group; "<function> | <function>" lines belong to the last group; other
// comment and blank lines are ignored.
class KnownRaces {
 public:
  struct Group {
    std::string id;  // "T3"
    std::string
        description;  // "ctx->notify_me read plainly in aio_notify (R12's pattern)."
    std::vector<std::pair<std::string, std::string>> pairs;
  };
  // Errors: a pair line before any group, or a line that is neither.
  static absl::StatusOr<KnownRaces> Parse(std::string_view text);
  // The group whose pairs include (f1, f2) in either order, or nullptr.
  const Group* Match(std::string_view f1, std::string_view f2) const;
  const std::vector<Group>& groups() const { return groups_; }

 private:
  std::vector<Group> groups_;
};

// The known races every execution with race detection suppresses unless
// ExecOptions::report_known_races (process-wide; set once at start-up, e.g. by the
// scenario catalog; nullptr: none).
void SetKnownRaces(const KnownRaces* known);
const KnownRaces* GetKnownRaces();

class RaceDetector {
 public:
  struct Access {
    int tid = -1;
    uint32_t clk = 0;
    OpKind kind = OpKind::kLoad;
    bool atomic = false;
    core::SrcLoc loc = core::SrcLoc::current();
  };
  struct Race {
    uint32_t obj;
    Access first;   // the earlier access
    Access second;  // the current one
  };

  RaceDetector() = default;
  // Forgets every thread, location and synchronisation object (as a new detector),
  // keeping the memory its containers hold for the next execution. The objects of an
  // earlier execution no longer point into it: a new execution gives every object a
  // new epoch, which drops its ObjMeta::race (Execution::Touch).
  void Reset() {
    threads_.clear();
    locations_.Reset();
    syncs_.Reset();
  }

  void OnSpawn(int parent, int child);
  void OnJoin(int parent, int child);
  // A memory access; returns true if it races with an earlier one (race() then names
  // both). REQUIRES: `meta` is a Shared/Atomic location (not a synchronisation
  // object). Inline for the common case: a history that happens before the access
  // and that it covers (OrderedAndCovered: a location one thread uses at a time, one
  // guarded by a lock, an atomic every thread updates in turn), which cannot race;
  // the search for a conflict and the pruning around it are Conflict's.
  [[gnu::always_inline]] bool OnAccess(ObjMeta* meta, int tid, OpKind kind,
                                       core::MemOrder order, const core::SrcLoc& loc) {
    Location* l = Loc(meta);
    ThreadClocks& t = threads_[tid];  // OnSpawn made every thread's clocks
    const bool atomic = IsAtomicKind(kind);
    const bool write = IsWriteKind(kind);
    // Happens-before effects of the access itself (acquire side first); nothing to
    // join while the location has published no clock.
    if (!l->sync.empty()) AcquireSide(*l, &t, kind, order, atomic, write);
    if (__builtin_expect(!OrderedAndCovered(*l, t.vc, tid, atomic, write), 0)) {
      return Conflict(meta, l, &t, tid, kind, order, atomic, write, loc);
    }
    // Then the history becomes exactly what Conflict's pruning would leave.
    TakeOver(l, Access{tid, t.vc.Get(tid), kind, atomic, loc}, write);
    PublishAfter(l, &t, tid, kind, order, atomic, write);
    return false;
  }
  // The location is destroyed by `tid` (a plain write of kind kFree). Returns true if
  // that races with an earlier access (race() names both).
  bool OnDestroy(ObjMeta* meta, int tid, const core::SrcLoc& loc) {
    return OnAccess(meta, tid, OpKind::kFree, core::MemOrder::kRelaxed, loc);
  }
  // The race the last OnAccess or OnDestroy that returned true found.
  const Race& race() const { return race_; }
  void OnFence(int tid, core::FenceKind kind);
  // Synchronisation objects (mutex, semaphore, event, condition, fd).
  void Release(ObjMeta* sync, int tid) {
    ThreadClocks& t = threads_[tid];
    Sync(sync)->Join(t.vc);
    t.vc.Tick(tid);
  }
  void Acquire(ObjMeta* sync, int tid) { threads_[tid].vc.Join(*Sync(sync)); }
  // Thread `tid`'s vector clock (for tests: the brute-force oracle of
  // sim/tests/race_oracle_test.cc). REQUIRES: OnSpawn made the thread.
  const VectorClock& ClockOf(int tid) const { return threads_[tid].vc; }

 private:
  struct ThreadClocks {
    VectorClock vc;
    VectorClock release_fence;    // vc at the last release fence
    VectorClock pending_acquire;  // what the next acquire fence will join
  };
  struct Location {
    SmallVec<Access, 2> writes;  // invariants 1, 2
    SmallVec<Access, 4> reads;   // invariants 1, 2
    VectorClock sync;            // the clock a synchronising load acquires
    void Clear() {
      writes.clear();
      reads.clear();
      sync.Clear();
    }
  };
  ThreadClocks& Thread(int tid);
  // Whether every entry of the location's history happens before an access of
  // thread `tid` whose clock is `vc` (the entry is the thread's own, or the thread has
  // synchronised with it since), so that the access cannot race, and every entry an
  // access of that kind prunes is covered by it (the access is plain, or the entry
  // atomic): the reads for any access, the writes too for a write. Then Prune would
  // drop every entry it looks at.
  static bool OrderedAndCovered(const Location& l, const VectorClock& vc, int tid,
                                bool atomic, bool write) {
    for (const Access& e : l.reads) {
      if ((e.tid != tid && vc.Get(e.tid) < e.clk) || (atomic && !e.atomic)) return false;
    }
    for (const Access& e : l.writes) {
      if ((e.tid != tid && vc.Get(e.tid) < e.clk) || (write && atomic && !e.atomic)) {
        return false;
      }
    }
    return true;
  }
  // The history an access leaves when OrderedAndCovered held: a write replaces both
  // lists by itself; a read replaces the reads by itself and leaves the writes.
  static void TakeOver(Location* l, const Access& now, bool write) {
    if (write) {
      l->writes.AssignOne(now);
      l->reads.clear();
    } else {
      l->reads.AssignOne(now);
    }
  }
  static bool Acquires(core::MemOrder o) {
    return o == core::MemOrder::kAcquire || o == core::MemOrder::kSeqCst ||
           o == core::MemOrder::kConsume;
  }
  // An access's acquire side, when the location has published a clock: an RMW or an
  // acquiring load joins it; another read keeps it for a later acquire fence.
  static void AcquireSide(const Location& l, ThreadClocks* t, OpKind kind,
                          core::MemOrder order, bool atomic, bool write) {
    if (atomic && (kind == OpKind::kRmw || (kind == OpKind::kLoad && Acquires(order)))) {
      t->vc.Join(l.sync);
    } else if (!write) {
      t->pending_acquire.Join(l.sync);  // a later acquire fence may synchronise with it
    }
  }
  // The happens-before effect of a write on what the location publishes (after its
  // race check): a release publishes the thread's clock, an RMW continues the release
  // sequence (its acquire side joined the location's clock into the thread's, so the
  // join of the two is the thread's clock), a relaxed or plain write publishes only
  // what a release fence did.
  static void PublishAfter(Location* l, ThreadClocks* t, int tid, OpKind kind,
                           core::MemOrder order, bool atomic, bool write) {
    if (!write) return;
    if (atomic && (kind == OpKind::kRmw || ReleasesOrder(order))) {
      l->sync = t->vc;
      t->vc.Tick(tid);
    } else if (!l->sync.empty() || !t->release_fence.empty()) {
      l->sync = t->release_fence;
    }
  }
  // OnAccess past its common case (after the acquire side): looks for an entry of
  // another thread, not ordered before the access, not both atomic; prunes what the
  // access covers; publishes.
  bool Conflict(ObjMeta* meta, Location* l, ThreadClocks* t, int tid, OpKind kind,
                core::MemOrder order, bool atomic, bool write, const core::SrcLoc& loc);
  Location* Loc(ObjMeta* meta) {
    if (__builtin_expect(meta->race == nullptr, 0)) return NewLocation(meta);
    return static_cast<Location*>(meta->race);
  }
  VectorClock* Sync(ObjMeta* meta) {
    if (__builtin_expect(meta->race == nullptr, 0)) return NewSync(meta);
    return static_cast<VectorClock*>(meta->race);
  }
  Location* NewLocation(ObjMeta* meta);
  VectorClock* NewSync(ObjMeta* meta);

  std::vector<ThreadClocks> threads_;
  StablePool<Location> locations_;
  StablePool<VectorClock> syncs_;
  Race race_{};
};

}  // namespace aiosim::sim

#endif  // AIOSIM_SIM_RACE_H_
