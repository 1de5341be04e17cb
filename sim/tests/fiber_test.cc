// sim/tests/fiber_test.cc — the fiber switch itself (sim/fiber.h): data passes, and
// every fiber keeps its own floating-point control state (MXCSR, x87 control word),
// as an OS thread does, whichever of the two a fiber changes.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "sim/fiber.h"

#include <gtest/gtest.h>

#include <cfenv>
#include <cstdint>
#include <vector>

namespace aiosim::sim {
namespace {

#if defined(__x86_64__)
uint32_t Mxcsr() {
  uint32_t v = 0;
  __asm__ volatile("stmxcsr %0" : "=m"(v));
  return v;
}
void SetMxcsr(uint32_t v) { __asm__ volatile("ldmxcsr %0" : : "m"(v)); }
uint16_t X87Cw() {
  uint16_t v = 0;
  __asm__ volatile("fnstcw %0" : "=m"(v));
  return v;
}
void SetX87Cw(uint16_t v) { __asm__ volatile("fldcw %0" : : "m"(v)); }
// The rounding-control fields: MXCSR bits 13-14, x87 control word bits 10-11.
constexpr uint32_t kMxcsrRound = 3u << 13;
constexpr uint16_t kX87Round = 3u << 10;
#endif

// Two fibers and main, switching in a fixed order; each step records what the
// running fiber saw.
struct World {
  StackPool pool{64 * 1024};
  Fiber main;
  Fiber a;
  Fiber b;
  std::vector<uint64_t> seen;
};

#if defined(__x86_64__)
// a: sets MXCSR rounding to "up" (x87 untouched), goes to b; when back, checks its
// own state survived b's change, then returns to main for good.
void RunA(void* arg) {
  auto* w = static_cast<World*>(arg);
  SetMxcsr((Mxcsr() & ~kMxcsrRound) | (2u << 13));  // round up
  w->seen.push_back(Mxcsr() & kMxcsrRound);
  w->a.SwitchTo(&w->b);
  w->seen.push_back(Mxcsr() & kMxcsrRound);
  w->seen.push_back(X87Cw() & kX87Round);
  w->a.SwitchTo(&w->main, /*finishing=*/true);
}
// b: starts with the state it was made with (main's), changes only the x87 control
// word (round toward zero), goes back to a; resumed by main, still has its own.
void RunB(void* arg) {
  auto* w = static_cast<World*>(arg);
  w->seen.push_back(Mxcsr() & kMxcsrRound);
  w->seen.push_back(X87Cw() & kX87Round);
  SetX87Cw(static_cast<uint16_t>((X87Cw() & ~kX87Round) | (3u << 10)));  // truncate
  w->b.SwitchTo(&w->a);
  w->seen.push_back(Mxcsr() & kMxcsrRound);
  w->seen.push_back(X87Cw() & kX87Round);
  w->b.SwitchTo(&w->main, /*finishing=*/true);
}

TEST(FiberTest, EveryFiberKeepsItsOwnFloatingPointControlState) {
  const uint32_t mxcsr0 = Mxcsr();
  const uint16_t cw0 = X87Cw();
  ASSERT_EQ(mxcsr0 & kMxcsrRound, 0u) << "the test starts in round-to-nearest";
  ASSERT_EQ(cw0 & kX87Round, 0u);
  World w;
  w.main.MakeMain();
  w.a.Make(w.pool.Get(), &RunA, &w);
  w.b.Make(w.pool.Get(), &RunB, &w);
  w.main.SwitchTo(&w.a);  // a runs, then b, then a finishes into main
  EXPECT_EQ(Mxcsr(), mxcsr0) << "main's MXCSR came back";
  EXPECT_EQ(X87Cw(), cw0) << "main's x87 control word came back";
  // main changes both, then resumes b, which must see its own (nearest, truncate).
  SetMxcsr(mxcsr0 | (1u << 13));                      // round down
  SetX87Cw(static_cast<uint16_t>(cw0 | (2u << 10)));  // round up
  w.main.SwitchTo(&w.b);
  EXPECT_EQ(Mxcsr() & kMxcsrRound, 1u << 13) << "main's change survived b";
  EXPECT_EQ(X87Cw() & kX87Round, 2u << 10);
  SetMxcsr(mxcsr0);
  SetX87Cw(cw0);
  const std::vector<uint64_t> want = {
      2u << 13,            // a: its own MXCSR change
      0,        0,         // b: made with main's state, not a's
      2u << 13, 0,         // a again: its MXCSR, its x87 word (b's change not seen)
      0,        3u << 10,  // b again, after main changed both: its own
  };
  EXPECT_EQ(w.seen, want);
  w.pool.Put(w.a.stack());
  w.pool.Put(w.b.stack());
}
#endif

// Data given to a switch comes back where the resumed fiber continues; a fiber
// resumed many times continues where it left off.
struct PingPong {
  StackPool pool{64 * 1024};
  Fiber main;
  Fiber worker;
  int rounds = 0;
  int worker_count = 0;
};

void RunWorker(void* arg) {
  auto* p = static_cast<PingPong*>(arg);
  for (;;) {
    p->worker_count++;
    p->worker.SwitchTo(&p->main, /*finishing=*/p->worker_count == p->rounds);
  }
}

TEST(FiberTest, AFiberResumedManyTimesContinuesWhereItLeftOff) {
  PingPong p;
  p.rounds = 1000;
  p.main.MakeMain();
  p.worker.Make(p.pool.Get(), &RunWorker, &p);
  for (int i = 1; i <= p.rounds; i++) {
    p.main.SwitchTo(&p.worker);
    ASSERT_EQ(p.worker_count, i);
  }
  p.pool.Put(p.worker.stack());
}

}  // namespace
}  // namespace aiosim::sim
