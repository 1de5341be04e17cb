// core/aio/tests/aio_wait_test.cc — conformance of AIO_WAIT_WHILE, aio_wait_kick and
// aio_wait_bh_oneshot (docs/modern-sources.md §2.9; QEMU 3.0+, modern only).
// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/aio/aio_wait.h"

#include "core/aio/aio.h"
#include "core/aio/tests/world.h"
#include "gtest/gtest.h"

namespace aiosim::testing {
namespace {

using namespace aiosim::core;  // NOLINT

class AioWaitTest : public GenerationTest {};
AIOSIM_INSTANTIATE_FOR_GENERATIONS(AioWaitTest);

TEST_P(AioWaitTest, AConditionAlreadyFalseReturnsAtOnceWithoutPolling) {
  AIOSIM_MODERN_ONLY("AIO_WAIT_WHILE came in QEMU 3.0");
  RunInWorld([](World& w) {
    w.runtime()->set_main_context(w.ctx());
    EXPECT_FALSE(AIO_WAIT_WHILE(w.runtime(), w.ctx(), [] { return false; }));
    EXPECT_EQ(w.runtime()->aio_wait_num_waiters()->Peek(), 0u);
  });
}

// The main loop waits for a condition a worker thread changes, then kicks: the kick
// is a one-shot BH in the main context, which ends the blocking aio_poll. Without it
// the wait would sleep forever (the simulator reports a lost wakeup).
TEST_P(AioWaitTest, AKickAfterTheConditionChangesEndsTheWait) {
  AIOSIM_MODERN_ONLY("AIO_WAIT_WHILE came in QEMU 3.0");
  RunInWorld([](World& w) {
    AioRuntime* rt = w.runtime();
    rt->set_main_context(w.ctx());
    Atomic<bool> done{false};
    ThreadId worker = w.Spawn("worker", [&] {
      atomic_set(&done, true);
      aio_wait_kick(rt);
    });
    AIO_WAIT_WHILE(rt, w.ctx(), [&] { return !atomic_read(&done); });
    EXPECT_TRUE(atomic_read(&done));
    w.Join(worker);
    EXPECT_EQ(rt->aio_wait_num_waiters()->Peek(), 0u);
    while (aio_poll(w.ctx(), false)) {
    }
  });
}

// The main loop runs a BH in an IOThread's context and waits until it has returned:
// aio_wait_bh_oneshot polls the main context, and the BH kicks it when done.
TEST_P(AioWaitTest, BhOneshotRunsInTheOtherContextsThreadAndReturnsAfterIt) {
  AIOSIM_MODERN_ONLY("aio_wait_bh_oneshot came in QEMU 3.0");
  RunInWorld([](World& w) {
    AioRuntime* rt = w.runtime();
    rt->set_main_context(w.ctx());
    struct Shared_ {
      Atomic<AioContext*> io_ctx{nullptr};
      Atomic<bool> stop{false};
      Atomic<int> ran_in{-1};
      Atomic<int> runs{0};
      QemuSemaphore ready{0};
    } st;
    ThreadId io = w.Spawn("iothread", [&] {
      AioContext* ctx = aio_context_new(rt, {.generation = w.generation()});
      st.io_ctx.Store(ctx, MemOrder::kSeqCst);
      qemu_sem_post(&st.ready);
      while (!atomic_read(&st.stop)) aio_poll(ctx, true);
      while (aio_poll(ctx, false)) {
      }
      // The context is freed by the main thread after the join (as QEMU's
      // iothread_join, then aio_context_unref): a schedule from there may still be in
      // its aio_notify when the BH it enqueued has already run here.
    });
    qemu_sem_wait(&st.ready);
    AioContext* io_ctx = st.io_ctx.Load(MemOrder::kSeqCst);
    struct Call {
      World* w;
      decltype(st)* s;
    } call{&w, &st};
    aio_wait_bh_oneshot(io_ctx, +[](void* opaque) {
      auto* c = static_cast<Call*>(opaque);
      atomic_set(&c->s->ran_in, static_cast<int>(c->w->CurrentThread()));
      atomic_inc(&c->s->runs);
    }, &call);
    EXPECT_EQ(atomic_read(&st.runs), 1) << "returned before the BH ran";
    EXPECT_EQ(atomic_read(&st.ran_in), static_cast<int>(io)) << "the BH ran elsewhere";
    // Stop the IOThread with a BH of its own context, which sets `stop` there: were
    // `stop` set from here, the IOThread could see it and free its context before
    // the BH is enqueued (the simulator found that order).
    aio_bh_schedule_oneshot(io_ctx, +[](void* opaque) {
      atomic_set(&static_cast<decltype(st)*>(opaque)->stop, true);
    }, &st);
    w.Join(io);
    aio_context_unref(io_ctx);
    while (aio_poll(w.ctx(), false)) {
    }
  });
}

}  // namespace
}  // namespace aiosim::testing
