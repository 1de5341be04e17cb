// sim/tests/race_oracle_test.cc — the race detector's history against a brute-force
// oracle. The detector keeps, per location, only the accesses that no newer access
// covers (sim/race.h, FastTrack-like epochs); the oracle keeps every access. Over many
// random sequences of accesses (atomic and plain, every memory order), fences and
// synchronisation on a few threads and locations, both must agree at every access on
// whether it races with an earlier one, and a race the detector names must be one the
// oracle knows. Both read happens-before from the detector's own vector clocks
// (ClockOf), so what is tested is the pruning, and the inline common case
// (OrderedAndCovered): that neither forgets a race.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "sim/race.h"
#include "sim/rng.h"

namespace aiosim::sim {
namespace {

struct OracleAccess {
  int tid;
  uint32_t clk;
  OpKind kind;
};

// Every earlier access of `history` the access (tid, kind) with clock `vc` races with.
std::vector<OracleAccess> Racing(const std::vector<OracleAccess>& history,
                                 const VectorClock& vc, int tid, OpKind kind) {
  std::vector<OracleAccess> out;
  for (const OracleAccess& e : history) {
    if (e.tid == tid) continue;
    if (!IsWriteKind(e.kind) && !IsWriteKind(kind)) continue;
    if (IsAtomicKind(e.kind) && IsAtomicKind(kind)) continue;
    if (vc.Get(e.tid) >= e.clk) continue;  // ordered before
    out.push_back(e);
  }
  return out;
}

constexpr int kThreads = 3;
constexpr int kLocations = 3;
constexpr int kSyncs = 2;

// One random sequence; returns "" if detector and oracle agreed at every step, else
// what differed. Stops at the first race (an execution ends there).
std::string RunSequence(uint64_t seed, int events, int* races_found) {
  Rng rng(seed);
  RaceDetector rd;
  std::deque<ObjMeta> locations(kLocations);
  std::deque<ObjMeta> syncs(kSyncs);
  for (int i = 0; i < kLocations; i++) locations[i].id = static_cast<uint32_t>(i + 1);
  for (int i = 0; i < kSyncs; i++) syncs[i].id = static_cast<uint32_t>(100 + i);
  rd.OnSpawn(-1, 0);
  for (int t = 1; t < kThreads; t++) rd.OnSpawn(0, t);
  std::vector<std::vector<OracleAccess>> all(kLocations);
  static constexpr OpKind kKinds[] = {OpKind::kLoad,       OpKind::kStore,
                                      OpKind::kRmw,        OpKind::kPlainLoad,
                                      OpKind::kPlainStore, OpKind::kFree};
  static constexpr core::MemOrder kOrders[] = {
      core::MemOrder::kRelaxed, core::MemOrder::kAcquire, core::MemOrder::kRelease,
      core::MemOrder::kSeqCst};
  static constexpr core::FenceKind kFences[] = {
      core::FenceKind::kFull, core::FenceKind::kWrite, core::FenceKind::kRead,
      core::FenceKind::kDepends, core::FenceKind::kMbBeforeRmw};
  for (int step = 0; step < events; step++) {
    const int tid = static_cast<int>(rng.Below(kThreads));
    const uint32_t what = rng.Below(10);
    if (what == 0) {
      rd.OnFence(tid, kFences[rng.Below(5)]);
      continue;
    }
    if (what == 1) {
      rd.Release(&syncs[rng.Below(kSyncs)], tid);
      continue;
    }
    if (what == 2) {
      rd.Acquire(&syncs[rng.Below(kSyncs)], tid);
      continue;
    }
    const int loc = static_cast<int>(rng.Below(kLocations));
    // Frees are rare: a freed location is not used again in a real execution, but the
    // detector's rule for it (a plain write) is what is checked here.
    const OpKind kind = kKinds[rng.Below(rng.Below(8) == 0 ? 6 : 5)];
    const core::MemOrder order = kOrders[rng.Below(4)];
    const uint32_t clk = rd.ClockOf(tid).Get(tid);  // joins never raise one's own entry
    const core::SrcLoc here = core::SrcLoc::current();
    const bool found = rd.OnAccess(&locations[loc], tid, kind, order, here);
    const RaceDetector::Race& race = rd.race();
    // The clock the access was checked with: its other threads' entries are final
    // once OnAccess returns (a release only ticks the thread's own entry).
    const std::vector<OracleAccess> racing = Racing(all[loc], rd.ClockOf(tid), tid, kind);
    if (found != !racing.empty()) {
      return absl::StrFormat(
          "seed %d step %d: thread %d %s on location %d: detector %s, oracle %d racing "
          "access(es)",
          seed, step, tid, OpKindName(kind), loc, found ? "found a race" : "found none",
          racing.size());
    }
    if (found) {
      bool known = false;
      for (const OracleAccess& e : racing) {
        known |= e.tid == race.first.tid && e.clk == race.first.clk &&
                 e.kind == race.first.kind;
      }
      if (!known) {
        return absl::StrFormat(
            "seed %d step %d: the detector named an access (thread %d "
            "clock %d) that does not race",
            seed, step, race.first.tid, race.first.clk);
      }
      (*races_found)++;
      return "";
    }
    all[loc].push_back(OracleAccess{tid, clk, kind});
  }
  return "";
}

TEST(RaceOracleTest, TheDetectorsHistoryNeverForgetsARace) {
  int races = 0;
  for (uint64_t seed = 1; seed <= 20000; seed++) {
    const std::string diff = RunSequence(seed, 40, &races);
    ASSERT_EQ(diff, "");
  }
  // The sequences must reach races often enough to test the agreement on them.
  EXPECT_GT(races, 5000);
}

}  // namespace
}  // namespace aiosim::sim
