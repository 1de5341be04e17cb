// core/aio/tests/fd_handler_test.cc — conformance of fd handlers, event notifiers,
// aio_notify and aio_poll (QEMU-SEMANTICS.md §1.3–1.5), and of the main-loop path.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <memory>

#include "core/aio/aio.h"
#include "core/aio/main_loop.h"
#include "core/aio/tests/world.h"
#include "gtest/gtest.h"

namespace aiosim::testing {
namespace {

using namespace aiosim::core;  // NOLINT

class FdHandlerTest : public GenerationTest {};
AIOSIM_INSTANTIATE_FOR_GENERATIONS(FdHandlerTest);

// An event notifier registered on the world's context, counting its dispatches.
struct Notified {
  World* world = nullptr;
  std::unique_ptr<EventNotifier> e;
  int calls = 0;
  ThreadId thread = -1;
  // Run from inside the handler, if set.
  void (*action)(Notified*) = nullptr;
  Notified* other = nullptr;

  static Notified* Of(EventNotifier* e);
};

// Handlers receive the EventNotifier; find the Notified that owns it.
Notified* g_registry[8];
Notified* Notified::Of(EventNotifier* e) {
  for (Notified* n : g_registry) {
    if (n != nullptr && n->e.get() == e) return n;
  }
  return nullptr;
}

void Handler(EventNotifier* e) {
  Notified* n = Notified::Of(e);
  event_notifier_test_and_clear(e);
  n->calls++;
  n->thread = n->world->CurrentThread();
  if (n->action != nullptr) n->action(n);
}

class Registered {
 public:
  Registered(World& w, Notified* n, bool is_external = false) : w_(w), n_(n) {
    n->world = &w;
    n->e = w.platform().poller().NewEventNotifier(false);
    for (Notified*& slot : g_registry) {
      if (slot == nullptr) {
        slot = n;
        break;
      }
    }
    aio_set_event_notifier(w.ctx(), n->e.get(), is_external, Handler);
  }
  ~Registered() {
    aio_set_event_notifier(w_.ctx(), n_->e.get(), false, nullptr);  // no-op if removed
    aio_poll(w_.ctx(), false);  // frees a node that was only marked deleted
    for (Notified*& slot : g_registry) {
      if (slot == n_) slot = nullptr;
    }
  }

 private:
  World& w_;
  Notified* n_;
};

TEST_P(FdHandlerTest, EventNotifierIsDispatchedOncePerSetInTheHomeThread) {
  RunInWorld([](World& w) {
    Notified n;
    Registered reg(w, &n);
    EXPECT_FALSE(aio_poll(w.ctx(), false));
    EXPECT_EQ(n.calls, 0);
    event_notifier_set(n.e.get());
    event_notifier_set(n.e.get());  // an eventfd counts, but one read clears it
    EXPECT_TRUE(aio_poll(w.ctx(), false));
    EXPECT_EQ(n.calls, 1);
    EXPECT_EQ(n.thread, w.CurrentThread());
    EXPECT_FALSE(aio_poll(w.ctx(), false));
    EXPECT_EQ(n.calls, 1);
  });
}

TEST_P(FdHandlerTest, RemovedHandlerIsNeverCalled) {
  RunInWorld([](World& w) {
    Notified n;
    Registered reg(w, &n);
    event_notifier_set(n.e.get());
    aio_set_event_notifier(w.ctx(), n.e.get(), false, nullptr);
    aio_poll(w.ctx(), false);
    EXPECT_EQ(n.calls, 0);
    event_notifier_set(n.e.get());
    aio_poll(w.ctx(), false);
    EXPECT_EQ(n.calls, 0);
  });
}

TEST_P(FdHandlerTest, HandlerMayRemoveItselfAndIsNotCalledAgain) {
  RunInWorld([](World& w) {
    Notified n;
    Registered reg(w, &n);
    n.action = [](Notified* self) {
      aio_set_event_notifier(self->world->ctx(), self->e.get(), false, nullptr);
    };
    event_notifier_set(n.e.get());
    EXPECT_TRUE(aio_poll(w.ctx(), false));
    EXPECT_EQ(n.calls, 1);
    event_notifier_set(n.e.get());
    aio_poll(w.ctx(), false);
    EXPECT_EQ(n.calls, 1);
  });
}

// Legacy dispatches the handler list newest first; modern's aio_poll puts the ready
// nodes (polled newest first) onto the head of its ready list, so it dispatches the
// oldest first. Either way, the first one removes the second before it is reached.
TEST_P(FdHandlerTest, HandlerRemovedDuringDispatchBeforeItIsReachedIsNotCalled) {
  RunInWorld([](World& w) {
    Notified older, newer;
    Registered reg_older(w, &older);
    Registered reg_newer(w, &newer);
    Notified& first = w.modern() ? older : newer;
    Notified& second = w.modern() ? newer : older;
    first.other = &second;
    first.action = [](Notified* self) {
      aio_set_event_notifier(self->world->ctx(), self->other->e.get(), false, nullptr);
    };
    event_notifier_set(older.e.get());
    event_notifier_set(newer.e.get());
    aio_poll(w.ctx(), false);
    EXPECT_EQ(first.calls, 1);
    EXPECT_EQ(second.calls, 0);
  });
}

void ReadA(void* opaque) { (*static_cast<int*>(opaque)) += 1; }
void ReadB(void* opaque) { (*static_cast<int*>(opaque)) += 100; }

TEST_P(FdHandlerTest, ReRegisteringReplacesCallbackAndOpaque) {
  RunInWorld([](World& w) {
    auto e = w.platform().poller().NewEventNotifier(false);
    int a = 0, b = 0;
    aio_set_fd_handler(w.ctx(), event_notifier_get_fd(e.get()), false, ReadA, nullptr, &a);
    aio_set_fd_handler(w.ctx(), event_notifier_get_fd(e.get()), false, ReadB, nullptr, &b);
    event_notifier_set(e.get());
    aio_poll(w.ctx(), false);
    EXPECT_EQ(a, 0);
    EXPECT_EQ(b, 100);  // level-triggered: the eventfd is still set (nobody read it)
    aio_poll(w.ctx(), false);
    EXPECT_EQ(b, 200);
    aio_set_fd_handler(w.ctx(), event_notifier_get_fd(e.get()), false, nullptr, nullptr,
                       nullptr);
    aio_poll(w.ctx(), false);
    EXPECT_EQ(b, 200);
  });
}

// A read handler that re-registers itself with the context's own notifier as its
// opaque. Dispatch reads node->opaque again after the callback and counts it as
// progress unless that opaque is the context's notifier. Legacy (QEMU 2.8.1
// aio-posix.c) rewrites the node in place, so the dispatch is not progress; modern
// publishes a new node (copy-on-write) and the dispatched one keeps its opaque, so
// it is.
struct Reregister {
  World* w = nullptr;
  EventNotifier* e = nullptr;
  int calls = 0;
  static void Read(void* opaque) {
    auto* r = static_cast<Reregister*>(opaque);
    event_notifier_test_and_clear(r->e);
    r->calls++;
    aio_set_fd_handler(r->w->ctx(), event_notifier_get_fd(r->e), false, Read, nullptr,
                       r->w->CtxNotifier());
  }
};

TEST_P(FdHandlerTest, DispatchJudgesProgressByTheOpaqueAsTheCallbackLeftIt) {
  RunInWorld([](World& w) {
    auto e = w.platform().poller().NewEventNotifier(false);
    Reregister r{&w, e.get()};
    const int fd = event_notifier_get_fd(e.get());
    aio_set_fd_handler(w.ctx(), fd, false, Reregister::Read, nullptr, &r);
    event_notifier_set(e.get());
    if (w.modern()) {
      EXPECT_TRUE(aio_poll(w.ctx(), false))
          << "the dispatched node keeps its opaque; the new node has the notifier's";
    } else {
      EXPECT_FALSE(aio_poll(w.ctx(), false))
          << "after the callback, the node's opaque is the context's notifier";
    }
    EXPECT_EQ(r.calls, 1);
    aio_set_fd_handler(w.ctx(), fd, false, nullptr, nullptr, nullptr);
  });
}

TEST_P(FdHandlerTest, ExternalHandlersWaitWhileExternalClientsAreDisabled) {
  AIOSIM_LEGACY_ONLY("QEMU 8.2 removed is_external and aio_disable_external");
  RunInWorld([](World& w) {
    Notified n;
    Registered reg(w, &n, /*is_external=*/true);
    aio_disable_external(w.ctx());
    EXPECT_TRUE(aio_external_disabled(w.ctx()));
    event_notifier_set(n.e.get());
    aio_poll(w.ctx(), false);
    EXPECT_EQ(n.calls, 0);
    aio_enable_external(w.ctx());
    EXPECT_FALSE(aio_external_disabled(w.ctx()));
    aio_poll(w.ctx(), false);
    EXPECT_EQ(n.calls, 1);
  });
}

TEST_P(FdHandlerTest, AioNotifyFromAForeignThreadWakesABlockingPollWithoutProgress) {
  RunInWorld([](World& w) {
    // aio_notify before the poll raised notify_me is (correctly) skipped, so the
    // foreign thread notifies once the home thread is blocked in aio_poll.
    bool home_polled = false;
    ThreadId t = w.Spawn("vcpu", [&] {
      home_polled = w.WaitUntilHomePolls();
      aio_notify(w.ctx());
    });
    // A watchdog bounds the wait: if it woke the loop, its callback is progress.
    bool fired = false;
    QEMUTimer* watchdog = timer_new_ms(
        w.ctx(), QEMU_CLOCK_REALTIME, +[](void* f) { *static_cast<bool*>(f) = true; },
        &fired);
    timer_mod(watchdog, w.NowMs() + 10000);
    // Modern's aio_notify always sets `notified` (here: timer_mod's, for the new
    // deadline), and a blocking aio_poll that finds it set does not sleep. Accept it
    // first, so that the poll below blocks until the foreign thread's notify.
    aio_poll(w.ctx(), false);
    bool progress = aio_poll(w.ctx(), true);
    w.Join(t);
    EXPECT_TRUE(home_polled);
    EXPECT_FALSE(fired) << "only the watchdog woke the loop";
    EXPECT_FALSE(progress) << "the context's own notifier is not progress";
    timer_del(watchdog);
    timer_free(watchdog);
    aio_poll(w.ctx(), false);  // accept any notification sent after the wakeup
    EXPECT_FALSE(w.NotifiedFlag()) << "aio_notify_accept ran";
    EXPECT_EQ(w.NotifyMe(), 0u);
  });
}

TEST_P(FdHandlerTest, NonBlockingAioPollNeverBlocks) {
  RunInWorld([](World& w) {
    Notified n;
    Registered reg(w, &n);  // an fd that never becomes ready
    QEMUTimer* far = timer_new_ms(w.ctx(), QEMU_CLOCK_REALTIME, +[](void*) {}, nullptr);
    timer_mod(far, w.NowMs() + 3600 * 1000);
    QEMUBH* idle = aio_bh_new(w.ctx(), +[](void*) {}, nullptr);
    const int64_t start = w.NowNs();
    for (int i = 0; i < 100; i++) {
      if (i % 10 == 0) qemu_bh_schedule_idle(idle);
      aio_poll(w.ctx(), false);
    }
    // 100 polls of a context with nothing due: had any blocked for its 10 ms idle
    // period (or the hour of the timer), they would take 1 s or more.
    EXPECT_LT(w.NowNs() - start, 900 * SCALE_MS);
    timer_del(far);
    timer_free(far);
    qemu_bh_delete(idle);
  });
}

TEST_P(FdHandlerTest, MainLoopPathRunsBhsAndClearsNotifyMeBit0) {
  RunInWorld([](World& w) {
    int runs = 0;
    QEMUBH* bh = aio_bh_new(w.ctx(), +[](void* o) { (*static_cast<int*>(o))++; }, &runs);
    MainLoop loop{w.ctx()};
    qemu_bh_schedule(bh);
    EXPECT_TRUE(main_loop_wait(&loop, false));  // prepare says ready: poll(0), dispatch
    EXPECT_EQ(runs, 1);
    // prepare reported ready, so glib skipped check and bit 0 is still set; the next
    // iteration's check clears it.
    EXPECT_EQ(w.NotifyMe() & 1u, 1u);
    EXPECT_FALSE(main_loop_wait(&loop, true));
    EXPECT_EQ(w.NotifyMe(), 0u);
    qemu_bh_delete(bh);
  });
}

TEST_P(FdHandlerTest, MainLoopPathBlocksUntilAForeignScheduleAndDispatchesIt) {
  RunInWorld([](World& w) {
    int runs = 0;
    QEMUBH* bh = aio_bh_new(w.ctx(), +[](void* o) { (*static_cast<int*>(o))++; }, &runs);
    MainLoop loop{w.ctx()};
    bool prepared = false;
    ThreadId t = w.Spawn("vcpu", [&] {
      // Once the loop has prepared with nothing due (an infinite timeout)...
      prepared = w.WaitUntilMainLoopPrepared();
      qemu_bh_schedule(bh);  // ... this must wake its poll (notify_me bit 0)
    });
    // Bounds the wait: a lost wakeup ends in the watchdog, not in a hang.
    bool fired = false;
    QEMUTimer* watchdog = timer_new_ms(
        w.ctx(), QEMU_CLOCK_REALTIME, +[](void* f) { *static_cast<bool*>(f) = true; },
        &fired);
    timer_mod(watchdog, w.NowMs() + 10000);
    for (int i = 0; i < 10 && runs == 0 && !fired; i++) main_loop_wait(&loop, false);
    w.Join(t);
    EXPECT_TRUE(prepared);
    EXPECT_EQ(runs, 1);
    EXPECT_FALSE(fired) << "only the watchdog woke the loop";
    timer_del(watchdog);
    timer_free(watchdog);
    qemu_bh_delete(bh);
  });
}

TEST_P(FdHandlerTest, MainLoopPathDispatchesEventNotifiers) {
  RunInWorld([](World& w) {
    Notified n;
    Registered reg(w, &n);
    MainLoop loop{w.ctx()};
    bool prepared = false;
    ThreadId t = w.Spawn("vcpu", [&] {
      prepared = w.WaitUntilMainLoopPrepared();
      event_notifier_set(n.e.get());
    });
    bool fired = false;
    QEMUTimer* watchdog = timer_new_ms(
        w.ctx(), QEMU_CLOCK_REALTIME, +[](void* f) { *static_cast<bool*>(f) = true; },
        &fired);
    timer_mod(watchdog, w.NowMs() + 10000);
    for (int i = 0; i < 10 && n.calls == 0 && !fired; i++) main_loop_wait(&loop, false);
    w.Join(t);
    EXPECT_TRUE(prepared);
    EXPECT_EQ(n.calls, 1);
    EXPECT_EQ(n.thread, w.CurrentThread());
    EXPECT_FALSE(fired) << "only the watchdog woke the loop";
    timer_del(watchdog);
    timer_free(watchdog);
  });
}

}  // namespace
}  // namespace aiosim::testing
