// scenarios/r1_bh_schedule_reads_ctx_late.cc — catalog R1 (924fe1293c, fixed in QEMU
// 2.1; bug up to 2.0): qemu_bh_schedule reads bh->ctx after the exchange that
// publishes `scheduled`, so the BH it reads from may already have been run, deleted
// and freed by the home thread. Follows QEMU 2.8.1 async.c (qemu_bh_schedule loads
// ctx first, then atomic_xchg(&bh->scheduled, 1), then aio_notify(ctx); aio_bh_poll
// frees deleted, unscheduled BHs once the outermost walk is done), with
// AIO_REVERT_R1 on request (--revert R1: 2.0's order, ctx read after the exchange).
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Threads: the home thread creates a BH whose callback deletes it (a one-shot
// completion: the owner drops the BH as soon as it has run, which is allowed from the
// callback, in the home thread), then runs blocking aio_polls until the callback has
// run. A "worker" schedules the BH once, as a thread-pool worker or vCPU signals a
// completion. Property: no freed memory is touched. The freeing is legal, by
// QEMU's contract: once a schedule has been published, nothing else will schedule
// the BH, and its owner may delete it in the callback.
//
// Verdict: with --revert R1 found, as a use-after-free: after the worker's exchange
// has set `scheduled` (and before its late load of bh->ctx), the home thread's poll
// sees the BH scheduled (zero timeout), runs it; the callback deletes it and the same
// aio_bh_poll frees it; the worker then loads ctx from the freed BH. Two preemptions:
// the home thread must stop before its timeout computation (or it sleeps until the
// worker's aio_notify, which comes after the late load), and the worker right after
// its exchange.
// Default (2.1 and later, 2.8.1 as shipped): ctx was loaded before the exchange, so
// the worker touches only the context, which outlives it (the home thread joins the
// worker before unref): nothing is found, DFS exhausted at the bound below; --races
// reports nothing beyond QEMU's races by design.
#include "core/aio/aio.h"
#include "scenarios/catalog.h"
#include "scenarios/util.h"

namespace aiosim::scenarios {
namespace {

using namespace aiosim::core;  // NOLINT

struct R1State {
  Shared<QEMUBH*> bh{nullptr};  // written before the worker is spawned
  Atomic<bool> ran{false};
};

// Runs in the home thread: the completion is consumed, the BH is dropped.
void CompletionCallback(void* opaque) {
  auto* s = static_cast<R1State*>(opaque);
  qemu_bh_delete(s->bh.Load());
  atomic_set(&s->ran, true);
}

sim::Body MakeBody(const Options& options) {
  const uint32_t switches = SwitchBits(options);
  const AioContextOptions ctx_options = ContextOptions(options);
  return [switches, ctx_options](sim::SimContext& c) {
    AioRuntime rt(&c.platform(), switches);
    AioContext* ctx = aio_context_new(&rt, ctx_options);
    c.SetPending([ctx] { return PendingBhs(ctx); });
    R1State s;
    s.bh.Store(aio_bh_new_full(ctx, CompletionCallback, &s, "completion"));
    ThreadId worker = Spawn(c, "worker", [&s] { qemu_bh_schedule(s.bh.Load()); });
    while (!atomic_read(&s.ran)) aio_poll(ctx, true);
    Join(c, worker);
    aio_context_unref(ctx);
  };
}

}  // namespace

Scenario MakeR1() {
  Scenario s;
  s.id = "R1";
  s.title = "qemu_bh_schedule reads bh->ctx after publishing: the BH may be freed";
  s.summary =
      "A worker schedules a BH whose callback, in the home thread, deletes it; the "
      "home thread's aio_bh_poll then frees it. With --revert R1 (QEMU 2.0) "
      "qemu_bh_schedule loads bh->ctx after its atomic_xchg published `scheduled`, so "
      "that load can hit the freed BH (use-after-free, one preemption). QEMU 2.1's fix, "
      "kept by every later version, loads ctx first: nothing is found.";
  s.source = "QEMU-SEMANTICS.md 1.2, 3 R1";
  s.reverts = {"R1"};
  s.expected = FailsWith(AIO_REVERT_R1, sim::FailureKind::kUseAfterFree);
  s.modern_status = Scenario::ModernStatus::kRuns;  // declared fixed: none
  s.modern_why.clear();
  s.catalog = {"R1"};
  s.exhaust_bound = 4;
  s.make = MakeBody;
  return s;
}

}  // namespace aiosim::scenarios
