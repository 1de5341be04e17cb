// scenarios/r3_dispatching_skips_notify.cc — catalog R3 (eabc977973, fixed in QEMU
// 2.4; bug 2.1–2.3, introduced by 0ceb849bd3): the ctx->dispatching optimisation lets
// aio_notify skip the eventfd while one thread dispatches, though another thread
// sleeps in poll. Follows QEMU 2.8.1 async.c / aio-posix.c / main-loop.c, with
// AIO_REVERT_R3 on request (--revert R3: 2.1–2.3's ctx->dispatching instead of
// notify_me; aio_poll sets it around its dispatch, the GSource path does not touch
// it, aio_notify writes the eventfd only while it is false).
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Threads, as in the hang eabc977973 fixed (aarch64, virtio-scsi, aio=threads):
// - "iothread": QEMU's main loop, main_loop_wait over the context's GSource, holding
//   the BQL except around a poll that may wait (os_host_main_loop_wait).
// - "vcpu": nested blocking aio_polls under the BQL until the first request has
//   been processed (a synchronous read from a vCPU thread); it keeps the BQL while
//   it sleeps, so the iothread cannot dispatch meanwhile.
// - "worker": completes two requests, each by setting its `done` flag and calling
//   qemu_bh_schedule(completion_bh); the second only after the first was processed.
// The completion BH is written as 2.1–2.3's thread_pool_completion_bh: before the
// callback of each done request it schedules itself again (R6's fix: the callback
// may run a nested aio_poll that must see other completions), and it does not
// cancel that afterwards (b7a745dc33, a 2.9 change backported to 2.8.1, is not in
// the 2.3 code). Property: both completions are processed (main waits for them).
//
// Verdict: with --revert R3 found, as a lost wakeup, with no preemption at all (every
// switch in the failing run is at a blocking step): the iothread
// prepares with nothing scheduled (timeout -1) and drops the BQL; the vcpu's aio_poll
// wakes on the first completion and dispatches it with dispatching set; the BH's
// self-schedule calls aio_notify, which skips the eventfd because the vcpu is
// dispatching; the worker's second completion finds the BH already scheduled (its
// xchg returns 1), so it does not notify; the vcpu returns and the iothread sleeps
// in poll with the BH scheduled and a request done. Default (notify_me, 2.4 and
// later): the iothread holds notify_me bit 0 from prepare to check, so the
// self-schedule writes the eventfd and the iothread wakes: nothing is found, DFS
// exhausted at the bound below (bound 2 is out of reach: more than 430,000
// executions in 60 s without completing). With --races the default stays clean
// apart from QEMU's races by design; with --revert R3 the detector stops first on
// ctx->dispatching itself, which 2.1-2.3 write in aio_poll and read in aio_notify in
// any thread as a plain bool (a data race of that code, not on 2.8's list).
#include "core/aio/aio.h"
#include "core/aio/main_loop.h"
#include "scenarios/catalog.h"
#include "scenarios/util.h"

namespace aiosim::scenarios {
namespace {

using namespace aiosim::core;  // NOLINT

constexpr int kRequests = 2;

struct R3State {
  QemuMutex bql;  // QEMU's big lock: serialises the two dispatchers
  Shared<QEMUBH*> completion_bh{nullptr};
  Atomic<bool> done[kRequests] = {};       // set by the worker
  Atomic<bool> processed[kRequests] = {};  // set by the completion BH
  QemuSemaphore processed_sem[kRequests] = {QemuSemaphore(0), QemuSemaphore(0)};
  Atomic<bool> stop{false};
};

// 2.3's thread_pool_completion_bh, for two requests.
void CompletionCallback(void* opaque) {
  auto* s = static_cast<R3State*>(opaque);
  for (int i = 0; i < kRequests; i++) {
    if (!atomic_read(&s->done[i]) || atomic_read(&s->processed[i])) continue;
    // Schedule ourselves in case the request's callback waits in a nested aio_poll
    // for a request that completed at the same time.
    qemu_bh_schedule(s->completion_bh.Load());
    atomic_set(&s->processed[i], true);  // the request's callback
    qemu_sem_post(&s->processed_sem[i]);
  }
}

void KickCallback(void*) {}

sim::Body MakeBody(const Options& options) {
  const uint32_t switches = SwitchBits(options);
  const AioContextOptions ctx_options = ContextOptions(options);
  return [switches, ctx_options](sim::SimContext& c) {
    AioRuntime rt(&c.platform(), switches);
    AioContext* ctx = aio_context_new(&rt, ctx_options);
    R3State s;
    s.completion_bh.Store(aio_bh_new_full(ctx, CompletionCallback, &s, "completion"));
    QEMUBH* kick = aio_bh_new_full(ctx, KickCallback, nullptr, "kick");
    c.SetPending([ctx] { return PendingBhs(ctx); });

    // QEMU's BQL and main context (the vCPU's poll of it under the BQL is legal in
    // QEMU 10 through qemu_get_current_aio_context's fallback).
    rt.set_bql(&s.bql);
    rt.set_main_context(ctx);
    ThreadId iothread = SpawnMainLoop(c, &rt, ctx, &s.stop);
    ThreadId vcpu = Spawn(c, "vcpu", [&] {
      // A nested blocking poll under the BQL, waiting for the first request, as a
      // synchronous read from a vCPU does. It holds the BQL throughout, so the
      // iothread cannot run the completion BH while it waits.
      bql_lock(&rt);
      while (!atomic_read(&s.processed[0])) aio_poll(ctx, true);
      bql_unlock(&rt);
    });
    ThreadId worker = Spawn(c, "worker", [&] {
      for (int i = 0; i < kRequests; i++) {
        atomic_set(&s.done[i], true);
        qemu_bh_schedule(s.completion_bh.Load());
        qemu_sem_wait(&s.processed_sem[i]);
      }
    });

    Join(c, worker);  // never returns after a lost wakeup
    Join(c, vcpu);
    // Teardown: stop the main loop. One kick is enough: the iothread either sees
    // the kick scheduled when it computes its timeout, or holds notify_me bit 0 and
    // is woken by the kick's aio_notify (with R3 reverted: nobody is dispatching).
    atomic_set(&s.stop, true);
    qemu_bh_schedule(kick);
    Join(c, iothread);
    qemu_bh_delete(s.completion_bh.Load());
    qemu_bh_delete(kick);
    aio_poll(ctx, false);
    aio_context_unref(ctx);
  };
}

}  // namespace

Scenario MakeR3() {
  Scenario s;
  s.id = "R3";
  s.title = "ctx->dispatching: aio_notify skips the eventfd while another thread sleeps";
  s.summary =
      "The main loop (GSource path) sleeps in poll; a vCPU's nested aio_poll runs the "
      "thread pool's completion BH, which schedules itself again; with --revert R3 "
      "(QEMU 2.1-2.3) that aio_notify skips the eventfd because the vCPU is "
      "dispatching, and the worker's next completion finds the BH already scheduled: "
      "the main loop sleeps with the BH scheduled (a lost wakeup). notify_me (2.4) "
      "counts the sleeper instead: nothing is found. Modern (QEMU 10.2): no "
      "ctx->dispatching, yet a lost wakeup is found another way (scenario M1): the "
      "vCPU's dispatch of the context notifier drains the eventfd the main loop, "
      "between prepare and poll, was about to see.";
  s.source = "QEMU-SEMANTICS.md 1.3, 3 R3";
  s.reverts = {"R3"};
  // With --races: 2.1-2.3's ctx->dispatching is a plain bool that aio_notify reads in
  // any thread, a data race of the reverted code (not on 2.8's list of known races).
  s.races_first = [](const Options& o) { return (SwitchBits(o) & AIO_REVERT_R3) != 0; };
  // Modern (QEMU 10.2, the poll fd monitor): no ctx->dispatching, and the bug R3 was
  // is gone; but the scenario still loses a wakeup, by another route, which scenario
  // M1 shows with 10.2's own pool: the vcpu's aio_poll drains the context notifier
  // in its dispatch, after its BH pass, while the iothread is between the GSource
  // prepare and its poll (docs/modern.md, "a vCPU's aio_poll eats the main loop's
  // wakeup").
  s.expected = [](const Options& o) {
    if (GenerationOf(o) == core::AioGeneration::kModern) return sim::FailureKind::kLostWakeup;
    return (SwitchBits(o) & AIO_REVERT_R3) != 0 ? sim::FailureKind::kLostWakeup
                                                : sim::FailureKind::kNone;
  };
  s.modern_status = Scenario::ModernStatus::kRuns;
  s.modern_why.clear();
  // The modern lost wakeup needs the main loop stopped between its prepare and its
  // poll while the vcpu's aio_poll gets from its BH pass to its dispatch and the
  // worker completes in between: PCT at depth 3 misses it in 20,000 executions, at 4
  // it finds it at execution 5,674 (seed 1). Legacy's outcomes are the same at depth 4.
  s.pct_depth = 4;
  // ... and DFS finds it at execution 13,872 (one preemption).
  s.dfs_find_executions = 20000;
  s.catalog = {"R3"};
  s.exhaust_bound = 1;
  s.make = MakeBody;
  return s;
}

}  // namespace aiosim::scenarios
