// scenarios/s5_set_fd_handler_home_only.cc — claim S5: "aio_set_fd_handler takes no
// lock and both registers and unregisters, so it may only be called from the Aio
// context thread". Follows QEMU 2.8.1 aio-posix.c: aio_set_fd_handler (registration
// inserts a new node at the head of ctx->aio_handlers; removal marks the node deleted
// if walking_handlers > 0, else unlinks it and frees it after aio_notify), aio_poll
// (walking_handlers++ across building pollfds and ppoll) and aio_dispatch (per node:
// walking_handlers++ ... --, then free the node if it is deleted and nobody walks).
// SPDX-License-Identifier: GPL-2.0-or-later
//
// The contract, both halves. Handler H1 is registered on event notifier e1 at start;
// a "kicker" thread makes events arrive (event_notifier_set on e1 and e2, the way a
// vCPU kicks an ioeventfd) while the home thread runs aio_poll. Someone registers H2
// on e2 and then unregisters H1:
//   caller=home: the home thread: it registers H2 between its polls (after the first
//     one), and H2's own callback unregisters H1 the first time H2 runs, inside the
//     dispatch walk (walking_handlers > 0: H1's node, later in the list than H2's, is
//     only marked deleted; the walk skips it and frees it), the usual QEMU pattern of
//     a handler tearing down another. Checked: H2, registered while e2 is or
//     becomes ready, runs (else the loop sleeps with a ready registered fd: a lost
//     wakeup); H1 is never called once its removal returned; at the end
//     ctx->aio_handlers holds exactly the context's own notifier (no node lost, none
//     left behind). Verdict: not found (DFS exhausted at 3 preemptions).
//   caller=foreign: the kicker thread itself calls aio_set_fd_handler, holding
//     nothing, between its kicks. Found: kUseAfterFree, either way a removal
//     without the lock can free a node: (1 preemption) the loop sleeps in ppoll with
//     walking_handlers 1, the removal sets deleted = 1 and is preempted before
//     revents = 0; the loop's dispatch frees the node and the removal's second store
//     hits freed memory; (2 preemptions) the removal reads walking_handlers == 0 while
//     aio_dispatch is between two nodes with H1 loaded as the next one, unlinks and
//     frees it, and the walk reads the freed node.
// "No lock" needs a gloss for 2.8.1: aio_set_fd_handler itself takes none, but 2.8.1's
// callers were to hold the context (aio_context_acquire), which aio_poll holds except
// around ppoll; R11 caller=acquire shows that is enough in 2.8.1 (the race opened in
// 2.9). So the claim is confirmed for what it says: without the context lock, only the
// home thread may call it. The "H1 not called after its removal returned" check applies
// only to home removals: a removal from another thread cannot stop a callback that is
// already past its deleted check (as with qemu_bh_cancel, S3). The in-place update of a
// live node (mismatched callback and opaque) is R11's, not repeated here.
//
// --races: caller=home is clean; caller=foreign reports a data race in its first
// execution (the registration's store to ctx->aio_handlers against aio_poll's walk).
#include <string>

#include "core/aio/aio.h"
#include "scenarios/catalog.h"
#include "scenarios/util.h"

namespace aiosim::scenarios {
namespace {

using namespace aiosim::core;  // NOLINT

struct S5State {
  sim::SimContext* c = nullptr;
  AioContext* ctx = nullptr;
  EventNotifier* e1 = nullptr;
  EventNotifier* e2 = nullptr;
  bool home_removes = false;
  Atomic<bool> h2_registered{false};
  Atomic<bool> e2_kicked{false};
  Atomic<bool> h2_ran{false};
  Atomic<bool> h1_removed{false};  // the removal of H1 has returned
  Atomic<bool> done{false};
};

void H1Read(void* opaque) {
  auto* s = static_cast<S5State*>(opaque);
  if (s->home_removes) {
    s->c->Check(!atomic_read(&s->h1_removed),
                "H1 was called after aio_set_fd_handler removed it in the home thread");
  }
  (void)event_notifier_test_and_clear(s->e1);
}

void UnregisterH1(S5State* s);

void H2Read(void* opaque) {
  auto* s = static_cast<S5State*>(opaque);
  (void)event_notifier_test_and_clear(s->e2);
  atomic_set(&s->h2_ran, true);
  // caller=home: the removal of H1 from inside a handler callback, in the home thread.
  if (s->home_removes && !atomic_read(&s->h1_removed)) UnregisterH1(s);
}

void RegisterH2(S5State* s) {
  aio_set_fd_handler(s->ctx, event_notifier_get_fd(s->e2), false, H2Read, nullptr, s);
  atomic_set(&s->h2_registered, true);
}

void UnregisterH1(S5State* s) {
  aio_set_fd_handler(s->ctx, event_notifier_get_fd(s->e1), false, nullptr, nullptr,
                     nullptr);
  atomic_set(&s->h1_removed, true);
}

void DoneCallback(void* opaque) {
  atomic_set(&static_cast<S5State*>(opaque)->done, true);
}

sim::Body MakeBody(const Options& options) {
  const bool foreign = OptionValue(options, "caller") == "foreign";
  const AioContextOptions ctx_options = ContextOptions(options);
  return [foreign, ctx_options](sim::SimContext& c) {
    AioRuntime rt(&c.platform());
    AioContext* ctx = aio_context_new(&rt, ctx_options);
    std::unique_ptr<EventNotifier> e1 = c.platform().poller().NewEventNotifier(false);
    std::unique_ptr<EventNotifier> e2 = c.platform().poller().NewEventNotifier(false);
    S5State s;
    s.c = &c;
    s.ctx = ctx;
    s.e1 = e1.get();
    s.e2 = e2.get();
    s.home_removes = !foreign;
    c.SetPending([&s, ctx] {
      if (s.h2_registered.PlainLoad() && s.e2_kicked.PlainLoad() &&
          !s.h2_ran.PlainLoad()) {
        return std::string("H2 is registered and e2 was set, but H2 has not run");
      }
      return PendingBhs(ctx);
    });
    aio_set_fd_handler(ctx, event_notifier_get_fd(s.e1), false, H1Read, nullptr, &s);

    ThreadId kicker = Spawn(c, "kicker", [&] {
      event_notifier_set(s.e1);
      atomic_set(&s.e2_kicked, true);
      event_notifier_set(s.e2);
      if (foreign) {
        RegisterH2(&s);
        UnregisterH1(&s);
      }
      event_notifier_set(s.e1);  // an event for H1 that may come after its removal
      aio_bh_schedule_oneshot(ctx, DoneCallback, &s);  // wakes the loop to finish
    });
    while (!atomic_read(&s.done) || !atomic_read(&s.h2_ran)) {
      aio_poll(ctx, true);
      if (foreign) continue;
      if (!atomic_read(&s.h2_registered)) RegisterH2(&s);
    }
    Join(c, kicker);
    if (!atomic_read(&s.h1_removed)) UnregisterH1(&s);
    aio_set_fd_handler(ctx, event_notifier_get_fd(s.e2), false, nullptr, nullptr,
                       nullptr);
    aio_poll(ctx, false);

    // The list: only the context's own notifier is left.
    int length = 0;
    bool notifier_found = false;
    if (ctx->generation == AioGeneration::kModern) {
      // Modern: the replaced and removed nodes are freed by the outermost visitor.
      core::modern::AioContext* m = core::modern::of(ctx);
      for (core::modern::AioHandler* node = m->aio_handlers.Peek();
           node != nullptr && length <= 3; node = node->node_next.Peek()) {
        length++;
        notifier_found |= node->fd == event_notifier_get_fd(m->notifier.get());
      }
    } else {
      for (core::legacy::AioHandler* node = core::legacy::of(ctx)->aio_handlers.Load();
           node != nullptr && length <= 3; node = node->next.Load()) {
        length++;
        notifier_found |=
            node->fd == event_notifier_get_fd(core::legacy::of(ctx)->notifier.get());
      }
    }
    c.Check(length == 1 && notifier_found,
            "ctx->aio_handlers holds other nodes than the context's notifier after every "
            "handler was removed (a node lost or left behind)");
    aio_context_unref(ctx);
  };
}

}  // namespace

Scenario MakeS5() {
  Scenario s;
  s.id = "S5";
  s.title = "aio_set_fd_handler registers and unregisters: home thread only";
  s.summary =
      "H1 is registered on e1; a kicker thread sets e1 and e2 while the home thread "
      "polls; someone registers H2 on e2 and unregisters H1. From the home thread "
      "(caller=home) H2 always runs, H1 is never called after its removal returned and "
      "the handler list ends with only the notifier (exhaustive search). From the "
      "kicker thread holding nothing (caller=foreign) the removal frees a node the "
      "dispatch walk has loaded (use after free). Confirmed, with 2.8.1's gloss: "
      "holding the context lock would also do (R11 caller=acquire).";
  s.source = "SEED-CLAIMS.md S5; QEMU-SEMANTICS.md 1.5, 3 R11";
  s.options = {{"caller",
                {"home", "foreign"},
                "who registers H2 and unregisters H1: the home thread between its polls, "
                "or the kicker thread holding nothing"}};
  // Modern (QEMU 10.2): aio_set_fd_handler may be called from any thread (the
  // claim no longer holds as a rule): a replaced or removed node is freed only by
  // the last visitor of the list (QemuLockCnt), so nothing is found either way.
  s.expected = [](const Options& o) {
    if (GenerationOf(o) == AioGeneration::kModern) return sim::FailureKind::kNone;
    return OptionValue(o, "caller") == "foreign" ? sim::FailureKind::kUseAfterFree
                                                 : sim::FailureKind::kNone;
  };
  // With --races: as R11, the foreign caller's unlocked list writes race first.
  s.races_first = [](const Options& o) {
    return GenerationOf(o) == AioGeneration::kLegacy && OptionValue(o, "caller") == "foreign";
  };
  s.modern_status = Scenario::ModernStatus::kRuns;
  s.modern_why.clear();
  s.catalog = {"S5", "R11"};
  s.exhaust_bound = 3;  // caller=home: 113,168 executions, about 11 s in release
  s.make = MakeBody;
  return s;
}

}  // namespace aiosim::scenarios
