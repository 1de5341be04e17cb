// scenarios/r16_nested_bh_poll_frees.cc — catalog R16 (7887f6201f and 648fb0ea5e,
// QEMU 0.15 / 1.0): a nested aio_bh_poll frees a deleted BH that the outer walk has
// already taken as its `next`. Follows QEMU 2.8.1 async.c (aio_bh_poll: walking_bh
// counts the walkers, `next` is read before each callback, and only the outermost
// walk, walking_bh == 0, unlinks and frees deleted BHs), with AIO_REVERT_R16 on
// request (--revert R16: as before 1.0, every aio_bh_poll frees, nested or not).
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Threads: the home thread creates BH B ("retry"), then BH A ("flush"), so the list is
// A, B (newest first), schedules both and runs aio_poll. A's callback drops B
// (qemu_bh_delete, in the home thread as the contract asks), submits a request to a
// "worker" and waits for it the way bdrv_drain does, with a nested blocking aio_poll
// until the completion has run; the worker completes it with aio_bh_schedule_oneshot.
// Property: no freed memory is touched (and the run ends: every BH deleted, the
// context finalised).
//
// Verdict: with --revert R16 found, as a use-after-free, in every interleaving: the
// outer walk read A->next (B) before A's callback; the nested aio_poll's aio_bh_poll
// frees B (deleted, no longer scheduled); the outer walk then reads B->next. Default
// (1.0 and later, 2.8.1 as shipped): the nested walk leaves B on the list because
// walking_bh is still 1, the outer walk passes over B (its xchg finds it unscheduled)
// and frees it at the end: nothing is found, DFS exhausted at the bound below, and
// --races reports nothing beyond QEMU's races by design.
#include "core/aio/aio.h"
#include "scenarios/catalog.h"
#include "scenarios/util.h"

namespace aiosim::scenarios {
namespace {

using namespace aiosim::core;  // NOLINT

struct R16State {
  AioContext* ctx = nullptr;
  QEMUBH* retry = nullptr;  // B: home thread only
  QemuSemaphore submit{0};  // A's request to the worker
  Atomic<bool> done{false};
  Atomic<int> retry_runs{0};
  Atomic<int> flush_runs{0};
};

void RetryCallback(void* opaque) {
  atomic_inc(&static_cast<R16State*>(opaque)->retry_runs);
}

void DoneCallback(void* opaque) {
  atomic_set(&static_cast<R16State*>(opaque)->done, true);
}

// A: runs in the outer aio_bh_poll, with B next in its walk.
void FlushCallback(void* opaque) {
  auto* s = static_cast<R16State*>(opaque);
  atomic_inc(&s->flush_runs);
  qemu_bh_delete(s->retry);  // B is not needed any more: the flush supersedes it
  qemu_sem_post(&s->submit);
  while (!atomic_read(&s->done)) aio_poll(s->ctx, true);  // as bdrv_drain: nested
}

sim::Body MakeBody(const Options& options) {
  const uint32_t switches = SwitchBits(options);
  const AioContextOptions ctx_options = ContextOptions(options);
  return [switches, ctx_options](sim::SimContext& c) {
    AioRuntime rt(&c.platform(), switches);
    AioContext* ctx = aio_context_new(&rt, ctx_options);
    c.SetPending([ctx] { return PendingBhs(ctx); });
    R16State s;
    s.ctx = ctx;
    s.retry = aio_bh_new_full(ctx, RetryCallback, &s, "retry");
    QEMUBH* flush = aio_bh_new_full(ctx, FlushCallback, &s, "flush");  // the head: walked before B
    ThreadId worker = Spawn(c, "worker", [&s, ctx] {
      qemu_sem_wait(&s.submit);
      aio_bh_schedule_oneshot(ctx, DoneCallback, &s);  // the request's completion
    });
    qemu_bh_schedule(s.retry);
    qemu_bh_schedule(flush);
    aio_poll(ctx, true);  // the outer walk: A (with its nested polls), then B
    Join(c, worker);
    c.Check(atomic_read(&s.flush_runs) == 1, "the flush BH did not run exactly once");
    c.Check(atomic_read(&s.retry_runs) == 0,
            "the retry BH ran although it was deleted before the walk reached it");
    qemu_bh_delete(flush);
    aio_poll(ctx, false);
    aio_context_unref(ctx);
  };
}

}  // namespace

Scenario MakeR16() {
  Scenario s;
  s.id = "R16";
  s.title = "a nested aio_bh_poll frees a BH the outer walk still holds";
  s.summary =
      "BH A's callback deletes BH B, which comes after it in the list, and then waits "
      "for a worker's completion with a nested aio_poll, as bdrv_drain does. With "
      "--revert R16 (before QEMU 1.0) the nested aio_bh_poll frees B, and the outer "
      "walk, which read A->next before the callback, reads the freed B "
      "(use-after-free, in every interleaving). With the fix only the outermost walk "
      "frees: nothing is found.";
  s.source = "QEMU-SEMANTICS.md 1.2, 3 R16";
  s.reverts = {"R16"};
  s.expected = FailsWith(AIO_REVERT_R16, sim::FailureKind::kUseAfterFree);
  s.modern_status = Scenario::ModernStatus::kRuns;  // declared fixed: none
  s.modern_why.clear();
  s.catalog = {"R16"};
  s.exhaust_bound = 3;
  s.make = MakeBody;
  return s;
}

}  // namespace aiosim::scenarios
