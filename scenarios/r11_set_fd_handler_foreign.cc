// scenarios/r11_set_fd_handler_foreign.cc — catalog R11 (fef1660132, fixed in QEMU
// 4.0 by copy-on-write handler nodes; no switch): aio_set_fd_handler rewrites a node
// in place (io_read, io_write, opaque) or unlinks and frees it, while aio_poll in the
// home thread walks the same list. Follows QEMU 2.8.1 aio-posix.c: aio_set_fd_handler
// (find_aio_handler; removal marks the node deleted if walking_handlers > 0, else
// unlinks and frees it after aio_notify; an update overwrites the node's fields),
// aio_dispatch (per node: walking_handlers++, revents, the deleted check, then
// node->io_read(node->opaque); walking_handlers--, free if deleted) and aio_poll.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Threads: the home thread registers handler A (io_read ReadA, opaque &a) on an event
// notifier and runs `while (!done) aio_poll(ctx, true)`. A "caller" thread kicks the
// notifier (its fd becomes ready: some handler must run) and then changes the handler:
//   op=update: to handler B (ReadB, &b), and kicks again: B must handle that event
//     (checked at the end: A consuming it is another face of the race);
//   op=remove: removes it (both callbacks NULL).
// Then it sets `done` and wakes the loop. Each handler checks that it was given its
// own opaque (ReadA with &a, ReadB with &b).
//   caller=foreign: the caller thread calls aio_set_fd_handler itself, holding
//     nothing, as 2.9–3.1 callers effectively did (aio_poll no longer held the
//     context there). Found. update: the home thread loads io_read after the caller
//     stored ReadB and opaque before it stored &b, and calls ReadB(&a): kAssertion
//     (the "mismatched callback/opaque" of fef1660132). remove: kUseAfterFree, two
//     ways. With one preemption (DFS's first): the loop sleeps in ppoll, so
//     walking_handlers is 1 and the caller only marks the node (deleted = 1) and is
//     preempted before its second store (revents = 0); the loop wakes, its dispatch
//     walk frees the deleted node, and the caller's revents store hits freed memory.
//     With two (what random and PCT minimise to): the caller reads walking_handlers
//     == 0 while the dispatch walk is between nodes, holding the node as its next,
//     then unlinks and frees it; the walk reads the freed node.
//   caller=acquire: the caller calls it between aio_context_acquire/release, QEMU
//     2.8.1's actual contract (aio_poll holds the context except around ppoll, and
//     walking_handlers > 0 across ppoll keeps a removed node alive). Not found: 2.8.1
//     is safe for a caller that honours the lock; the race opens in 2.9 (0836c72f70,
//     callbacks without the context lock) and 2.9's lock-free aio_poll.
//   caller=home: the caller asks the home thread with aio_bh_schedule_oneshot, whose
//     callback makes the change in the home thread. Not found.
// Modern (QEMU 10.2; caller=acquire is legacy only): aio_set_fd_handler publishes a
// new node and retires the old one to the deleted list, freed by the last visitor, and
// aio_dispatch_handler skips a node on the deleted list, so op=remove finds nothing.
// op=update still fails, found by every strategy (two preemptions after
// minimisation): the home thread's aio_dispatch_handler has passed its checks for A
// and is about to call A's io_read when the caller installs B and sets the second
// event; A's io_read then consumes both. QEMU never promised otherwise:
// aio_set_fd_handler does not wait for a handler that is running or about to run.
// The race detector (--races) reports the foreign variants as data races in their
// first execution (the caller's stores to the node's fields against aio_poll's reads
// of them; its read of walking_handlers against aio_poll's increment), before any
// failure: they are QEMU's real races, not let through. The kNone variants (also
// caller=acquire and caller=home with op=remove, DFS exhausted at 2 by hand) are
// clean with --races.
#include <string>

#include "core/aio/aio.h"
#include "scenarios/catalog.h"
#include "scenarios/util.h"

namespace aiosim::scenarios {
namespace {

using namespace aiosim::core;  // NOLINT

enum class Caller { kForeign, kAcquire, kHome };

struct R11State;

struct R11Handler {
  R11State* s = nullptr;
};

struct R11State {
  sim::SimContext* c = nullptr;
  AioContext* ctx = nullptr;
  EventNotifier* e = nullptr;
  int fd = -1;
  bool remove = false;
  R11Handler a, b;
  QemuSemaphore changed{0};  // the home thread made the change (caller=home)
  Atomic<bool> b_ran{false};  // B handled an event
  Atomic<bool> done{false};
};

void ReadA(void* opaque) {
  auto* h = static_cast<R11Handler*>(opaque);
  R11State* s = h->s;
  s->c->Check(h == &s->a, "handler A's io_read was called with another handler's opaque");
  (void)event_notifier_test_and_clear(s->e);
}

void ReadB(void* opaque) {
  auto* h = static_cast<R11Handler*>(opaque);
  R11State* s = h->s;
  s->c->Check(h == &s->b, "handler B's io_read was called with another handler's opaque");
  (void)event_notifier_test_and_clear(s->e);
  atomic_set(&s->b_ran, true);
}

// The change, in whichever thread makes it.
void Change(R11State* s) {
  if (s->remove) {
    aio_set_fd_handler(s->ctx, s->fd, false, nullptr, nullptr, nullptr);
  } else {
    aio_set_fd_handler(s->ctx, s->fd, false, ReadB, nullptr, &s->b);
  }
}

void ChangeInHome(void* opaque) {
  auto* s = static_cast<R11State*>(opaque);
  Change(s);
  qemu_sem_post(&s->changed);
}

void DoneCallback(void* opaque) {
  atomic_set(&static_cast<R11State*>(opaque)->done, true);
}

sim::Body MakeBody(const Options& options) {
  const std::string caller_name = OptionValue(options, "caller");
  const Caller caller = caller_name == "foreign"   ? Caller::kForeign
                        : caller_name == "acquire" ? Caller::kAcquire
                                                   : Caller::kHome;
  const bool remove = OptionValue(options, "op") == "remove";
  return [caller, remove, options](sim::SimContext& c) {
    AioRuntime rt(&c.platform());
    AioContext* ctx = aio_context_new(&rt, ContextOptions(options));
    std::unique_ptr<EventNotifier> e = c.platform().poller().NewEventNotifier(false);
    R11State s;
    s.c = &c;
    s.ctx = ctx;
    s.e = e.get();
    s.fd = event_notifier_get_fd(s.e);
    s.remove = remove;
    s.a.s = &s;
    s.b.s = &s;
    c.SetPending([ctx] { return PendingBhs(ctx); });
    aio_set_fd_handler(ctx, s.fd, false, ReadA, nullptr, &s.a);

    ThreadId thread = Spawn(c, "caller", [&] {
      event_notifier_set(s.e);  // an event for handler A (or B, if it comes first)
      switch (caller) {
        case Caller::kForeign:
          Change(&s);
          break;
        case Caller::kAcquire:
          aio_context_acquire(ctx);
          Change(&s);
          aio_context_release(ctx);
          break;
        case Caller::kHome:
          aio_bh_schedule_oneshot(ctx, ChangeInHome, &s);
          qemu_sem_wait(&s.changed);
          break;
      }
      // An event that B must handle. (Waiting here for B would turn the old handler
      // consuming it — another face of the race — into a hang; it is checked below.)
      if (!remove) event_notifier_set(s.e);
      aio_bh_schedule_oneshot(ctx, DoneCallback, &s);  // wakes the loop to finish
    });
    while (!atomic_read(&s.done)) aio_poll(ctx, true);
    Join(c, thread);
    aio_poll(ctx, false);  // dispatches an event still pending
    if (!remove) {
      c.Check(atomic_read(&s.b_ran),
              "an event set after aio_set_fd_handler installed B was consumed by the old "
              "handler A: B never ran");
      aio_set_fd_handler(ctx, s.fd, false, nullptr, nullptr, nullptr);
      aio_poll(ctx, false);
    }
    aio_context_unref(ctx);
  };
}

}  // namespace

Scenario MakeR11() {
  Scenario s;
  s.id = "R11";
  s.title =
      "aio_set_fd_handler from a foreign thread rewrites or frees a node aio_poll walks";
  s.summary =
      "The home thread polls an event notifier whose handler A another thread replaces "
      "by B (op=update) or removes (op=remove). From a foreign thread holding nothing, "
      "the in-place rewrite lets the loop call B's io_read with A's opaque (assertion), "
      "and a removal that reads walking_handlers == 0 frees the node the dispatch walk "
      "holds (use after free); fixed in 4.0 by copy-on-write nodes (fef1660132). With "
      "2.8.1's context lock (caller=acquire) or from the home thread (caller=home, via "
      "a oneshot BH) nothing is found. Modern (QEMU 10.2): copy-on-write nodes under "
      "QemuLockCnt; a foreign removal frees nothing the walk holds and no handler gets "
      "another's opaque (op=remove: nothing found), but a foreign update still fails "
      "the scenario another way: handler A, already dispatched when B is installed, "
      "runs after aio_set_fd_handler returned and consumes the event meant for B, as a "
      "timer callback outlives timer_del (S6). From the home thread nothing is found.";
  s.source = "QEMU-SEMANTICS.md 3, R11; 1.5 (aio_set_fd_handler)";
  s.options = {
      {"caller",
       {"foreign", "acquire", "home"},
       "who calls aio_set_fd_handler: a foreign thread holding nothing, a foreign thread "
       "holding aio_context_acquire, or the home thread (asked with a oneshot BH)",
       {{"acquire", "aio_context_acquire was removed in QEMU 9.0"}}},
      {"op", {"update", "remove"}, "replace handler A by B, or remove it"},
  };
  s.expected = [](const Options& o) {
    if (OptionValue(o, "caller") != "foreign") return sim::FailureKind::kNone;
    const bool remove = OptionValue(o, "op") == "remove";
    if (GenerationOf(o) == core::AioGeneration::kModern) {
      // Copy-on-write: no freed node, no mixed callback/opaque; but a handler already
      // dispatched still runs after the replacement returned.
      return remove ? sim::FailureKind::kNone : sim::FailureKind::kAssertion;
    }
    return remove ? sim::FailureKind::kUseAfterFree : sim::FailureKind::kAssertion;
  };
  // With --races: the foreign caller's stores to the node race with aio_poll's reads
  // in the first execution, before the rewrite or the free shows.
  s.races_first = [](const Options& o) { return OptionValue(o, "caller") == "foreign"; };
  s.modern_status = Scenario::ModernStatus::kRuns;
  s.modern_why.clear();
  s.catalog = {"R11"};
  s.exhaust_bound = 2;  // 3 is exhausted too, but takes 30-60 s per variant
  s.make = MakeBody;
  return s;
}

}  // namespace aiosim::scenarios
