// sim/race.cc — see race.h.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "sim/race.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace aiosim::sim {

namespace {
const KnownRaces* g_known_races = nullptr;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}
}  // namespace

void SetKnownRaces(const KnownRaces* known) { g_known_races = known; }
const KnownRaces* GetKnownRaces() { return g_known_races; }

absl::StatusOr<KnownRaces> KnownRaces::Parse(std::string_view text) {
  KnownRaces out;
  int line_no = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = Trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    line_no++;
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::string_view rest = Trim(line.substr(1));
      const size_t colon = rest.find(':');
      // "# T3: description" starts a group: an id of a letter and digits.
      if (colon != std::string_view::npos && colon >= 2 && colon <= 4 && rest[0] >= 'A' &&
          rest[0] <= 'Z' &&
          rest.substr(1, colon - 1).find_first_not_of("0123456789") ==
              std::string_view::npos) {
        out.groups_.push_back(Group{std::string(rest.substr(0, colon)),
                                    std::string(Trim(rest.substr(colon + 1))),
                                    {}});
      } else if (!out.groups_.empty() && out.groups_.back().pairs.empty()) {
        // A description that goes on over several comment lines.
        out.groups_.back().description += " " + std::string(rest);
      }
      continue;
    }
    const size_t bar = line.find('|');
    if (bar == std::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("known races, line ", line_no,
                                                     ": expected 'function | function'"));
    }
    if (out.groups_.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "known races, line ", line_no, ": a pair before any '# <ID>: ...' group line"));
    }
    out.groups_.back().pairs.emplace_back(std::string(Trim(line.substr(0, bar))),
                                          std::string(Trim(line.substr(bar + 1))));
  }
  return out;
}

const KnownRaces::Group* KnownRaces::Match(std::string_view f1,
                                           std::string_view f2) const {
  for (const Group& g : groups_) {
    for (const auto& [a, b] : g.pairs) {
      if ((a == f1 && b == f2) || (a == f2 && b == f1)) return &g;
    }
  }
  return nullptr;
}

RaceDetector::ThreadClocks& RaceDetector::Thread(int tid) {
  if (tid >= static_cast<int>(threads_.size())) threads_.resize(tid + 1);
  return threads_[tid];
}

RaceDetector::Location* RaceDetector::NewLocation(ObjMeta* meta) {
  Location* l = locations_.New();
  meta->race = l;
  return l;
}

VectorClock* RaceDetector::NewSync(ObjMeta* meta) {
  VectorClock* c = syncs_.New();
  meta->race = c;
  return c;
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

namespace {

// Drops from `history` the entries that an access of thread `tid` (its clock `vc`)
// happens after and covers (the access is plain, or both are atomic), keeping the
// others in order; then appends `now` if given. One pass; a dropped entry's slot is
// reused for `now`.
template <class History>
void Prune(History* history, const VectorClock& vc, int tid, bool atomic,
           const RaceDetector::Access* now) {
  RaceDetector::Access* data = history->data();
  const uint32_t n = history->size();
  uint32_t kept = 0;
  for (uint32_t i = 0; i < n; i++) {
    const RaceDetector::Access& e = data[i];
    const bool ordered = e.tid == tid || vc.Get(e.tid) >= e.clk;
    if (ordered && (!atomic || e.atomic)) continue;  // covered
    if (kept != i) data[kept] = e;
    kept++;
  }
  if (now != nullptr && kept < n) {
    data[kept++] = *now;
    history->resize(kept);
    return;
  }
  history->resize(kept);
  if (now != nullptr) history->push_back(*now);
}

}  // namespace

bool RaceDetector::Conflict(ObjMeta* meta, Location* l, ThreadClocks* t, int tid,
                            OpKind kind, core::MemOrder order, bool atomic, bool write,
                            const core::SrcLoc& loc) {
  const Access now{tid, t->vc.Get(tid), kind, atomic, loc};
  // A conflict: another thread's access, not ordered before this one, not both atomic.
  auto conflicts = [&](const Access& a) {
    return a.tid != tid && !(a.atomic && atomic) && t->vc.Get(a.tid) < a.clk;
  };
  bool found = false;
  for (const Access& w : l->writes) {
    if (conflicts(w)) {
      race_ = Race{meta->id, w, now};
      found = true;
      break;
    }
  }
  if (write && !found) {
    for (const Access& r : l->reads) {
      if (conflicts(r)) {
        race_ = Race{meta->id, r, now};
        found = true;
        break;
      }
    }
  }

  if (write) {
    Prune(&l->writes, t->vc, tid, atomic, &now);
    // Reads this write happens after and covers can go too (a later write that races
    // with such a read races with this write).
    if (!l->reads.empty()) Prune(&l->reads, t->vc, tid, atomic, nullptr);
  } else {
    Prune(&l->reads, t->vc, tid, atomic, &now);
  }
  PublishAfter(l, t, tid, kind, order, atomic, write);
  return found;
}

void RaceDetector::OnFence(int tid, core::FenceKind kind) {
  ThreadClocks& t = threads_[tid];
  // smp_mb__before_rmw / smp_mb__after_rmw are full barriers on the hosts where they
  // are not no-ops, and QEMU's code relies on them being so.
  const bool full = kind == core::FenceKind::kFull ||
                    kind == core::FenceKind::kMbBeforeRmw ||
                    kind == core::FenceKind::kMbAfterRmw;
  const bool release = full || kind == core::FenceKind::kWrite;
  const bool acquire =
      full || kind == core::FenceKind::kRead || kind == core::FenceKind::kDepends;
  if (acquire) t.vc.Join(t.pending_acquire);
  if (release) {
    t.release_fence = t.vc;
    t.vc.Tick(tid);
  }
}

}  // namespace aiosim::sim
