// sim/race.cc — see race.h.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "sim/race.h"

#include <algorithm>
#include <functional>

namespace aiosim::sim {

namespace {
bool IsWrite(OpKind k) {
  return k == OpKind::kStore || k == OpKind::kRmw || k == OpKind::kPlainStore ||
         k == OpKind::kFree;
}
bool IsAtomic(OpKind k) {
  return k == OpKind::kLoad || k == OpKind::kStore || k == OpKind::kRmw;
}
bool Acquires(core::MemOrder o) {
  return o == core::MemOrder::kAcquire || o == core::MemOrder::kSeqCst ||
         o == core::MemOrder::kConsume;
}
bool Releases(core::MemOrder o) {
  return o == core::MemOrder::kRelease || o == core::MemOrder::kSeqCst;
}
}  // namespace

RaceDetector::ThreadClocks& RaceDetector::Thread(int tid) {
  if (tid >= static_cast<int>(threads_.size())) threads_.resize(tid + 1);
  return threads_[tid];
}

RaceDetector::Location* RaceDetector::Loc(ObjMeta* meta) {
  if (meta->race == nullptr) {
    locations_.emplace_back();
    meta->race = &locations_.back();
  }
  return static_cast<Location*>(meta->race);
}

VectorClock* RaceDetector::Sync(ObjMeta* meta) {
  if (meta->race == nullptr) {
    syncs_.emplace_back();
    meta->race = &syncs_.back();
  }
  return static_cast<VectorClock*>(meta->race);
}

void RaceDetector::OnSpawn(int parent, int child) {
  ThreadClocks& c = Thread(child);
  if (parent >= 0) {
    ThreadClocks& p = Thread(parent);
    c.vc = p.vc;
    p.vc.Tick(parent);
  }
  c.vc.Tick(child);
}

void RaceDetector::OnJoin(int parent, int child) {
  VectorClock child_vc = Thread(child).vc;
  Thread(parent).vc.Join(child_vc);
}

bool RaceDetector::Ordered(const Access& earlier, int tid) const {
  if (earlier.tid < 0 || earlier.tid == tid) return true;
  return threads_[tid].vc.Get(earlier.tid) >= earlier.clk;
}

namespace {

template <class History>
void RecordIn(History* history, const RaceDetector::Access& now,
              const std::function<bool(const RaceDetector::Access&)>& before) {
  auto covered = [&](const RaceDetector::Access& e) {
    return before(e) && (!now.atomic || e.atomic);
  };
  history->erase(std::remove_if(history->begin(), history->end(), covered), history->end());
  for (RaceDetector::Access& e : *history) {
    if (e.tid == now.tid && e.atomic == now.atomic) {  // not covered: keep the newest
      e = now;
      return;
    }
  }
  history->push_back(now);
}

}  // namespace

void RaceDetector::Record(absl::InlinedVector<Access, 2>* history, const Access& now) {
  RecordIn(history, now, [&](const Access& e) { return Ordered(e, now.tid); });
}
void RaceDetector::Record(absl::InlinedVector<Access, 4>* history, const Access& now) {
  RecordIn(history, now, [&](const Access& e) { return Ordered(e, now.tid); });
}

bool RaceDetector::OnAccess(ObjMeta* meta, int tid, OpKind kind, core::MemOrder order,
                            core::SrcLoc loc, Race* race) {
  ThreadClocks& t = Thread(tid);
  Location* l = Loc(meta);
  const bool atomic = IsAtomic(kind);
  const bool write = IsWrite(kind);

  // Happens-before effects of the access itself (acquire side first).
  if (atomic && (kind == OpKind::kRmw || (kind == OpKind::kLoad && Acquires(order)))) {
    t.vc.Join(l->sync);
  } else if (!write || kind == OpKind::kRmw) {
    t.pending_acquire.Join(l->sync);  // a later acquire fence may synchronise with it
  }

  Access now{tid, t.vc.Get(tid), kind, atomic, loc};
  bool found = false;
  auto conflicts = [&](const Access& a) {
    return a.tid >= 0 && !(a.atomic && atomic) && !Ordered(a, tid);
  };
  for (const Access& w : l->writes) {
    if (!found && conflicts(w)) {
      *race = Race{meta->id, w, now};
      found = true;
    }
  }
  if (write) {
    for (const Access& r : l->reads) {
      if (!found && conflicts(r)) {
        *race = Race{meta->id, r, now};
        found = true;
      }
    }
  }

  if (write) {
    Record(&l->writes, now);
    // Reads this write happens after and covers can go too (a later write that races
    // with such a read races with this write).
    l->reads.erase(std::remove_if(l->reads.begin(), l->reads.end(),
                                  [&](const Access& r) {
                                    return Ordered(r, tid) && (!atomic || r.atomic);
                                  }),
                   l->reads.end());
    if (atomic && (kind == OpKind::kRmw || Releases(order))) {
      if (kind == OpKind::kRmw) {
        l->sync.Join(t.vc);  // continues the release sequence
      } else {
        l->sync = t.vc;
      }
      t.vc.Tick(tid);
    } else if (kind != OpKind::kRmw) {
      l->sync = t.release_fence;  // relaxed or plain: only what a release fence published
    }
  } else {
    Record(&l->reads, now);
  }
  return found;
}

bool RaceDetector::OnDestroy(ObjMeta* meta, int tid, core::SrcLoc loc, Race* race) {
  return OnAccess(meta, tid, OpKind::kFree, core::MemOrder::kRelaxed, loc, race);
}

void RaceDetector::OnFence(int tid, core::FenceKind kind) {
  ThreadClocks& t = Thread(tid);
  const bool release = kind == core::FenceKind::kFull || kind == core::FenceKind::kWrite;
  const bool acquire = kind == core::FenceKind::kFull || kind == core::FenceKind::kRead ||
                       kind == core::FenceKind::kDepends;
  if (acquire) t.vc.Join(t.pending_acquire);
  if (release) {
    t.release_fence = t.vc;
    t.vc.Tick(tid);
  }
}

void RaceDetector::Release(ObjMeta* sync, int tid) {
  ThreadClocks& t = Thread(tid);
  Sync(sync)->Join(t.vc);
  t.vc.Tick(tid);
}

void RaceDetector::Acquire(ObjMeta* sync, int tid) { Thread(tid).vc.Join(*Sync(sync)); }

}  // namespace aiosim::sim
