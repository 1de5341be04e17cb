// scenarios/s3_bh_cancel.cc — claim S3: "qemu_bh_cancel and qemu_bh_delete are not
// atomic; a BH may still run after it was cancelled". Follows QEMU 2.8.1 async.c
// (qemu_bh_cancel is a plain store; aio_bh_poll exchanges `scheduled` and then calls
// the callback) and, with --generation modern, QEMU 10.2 util/async.c
// (qemu_bh_cancel clears BH_SCHEDULED with a fetch_and; aio_bh_poll's dequeue
// clears the flags with a fetch_and, then calls the callback if SCHEDULED was set):
// the same window, so the same verdict.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// canceller=foreign: a vCPU-like thread schedules the BH, cancels it, and records that
// cancel returned; the home thread polls. The callback checks that cancel has not
// returned yet. Expected: found (assertion) — the home thread can take the BH off
// (xchg returns 1) just before the cancel, and call it just after.
// canceller=home: the home thread schedules and cancels the BH itself, between polls,
// while another thread wakes the loop. Expected: never found.
#include "core/aio/aio.h"
#include "scenarios/catalog.h"
#include "scenarios/util.h"

namespace aiosim::scenarios {
namespace {

using namespace aiosim::core;  // NOLINT

struct S3State {
  sim::SimContext* c = nullptr;
  Atomic<bool> cancel_returned{false};
  Shared<bool> done{false};
};

void S3Callback(void* opaque) {
  auto* s = static_cast<S3State*>(opaque);
  s->c->Check(!atomic_read(&s->cancel_returned),
              "the BH callback ran after qemu_bh_cancel had returned");
}

void DoneCallback(void* opaque) { static_cast<S3State*>(opaque)->done.Store(true); }

sim::Body MakeBody(const Options& options) {
  const bool foreign = OptionValue(options, "canceller") == "foreign";
  return [foreign, options](sim::SimContext& c) {
    AioRuntime rt(&c.platform());
    AioContext* ctx = aio_context_new(&rt, ContextOptions(options));
    c.SetPending([ctx] { return PendingBhs(ctx); });
    S3State s;
    s.c = &c;
    s.cancel_returned.SetName("s3 cancel_returned");  // names in reports
    s.done.SetName("s3 done");
    QEMUBH* bh = aio_bh_new_full(ctx, S3Callback, &s, "s3");
    ThreadId vcpu;
    if (foreign) {
      vcpu = Spawn(c, "vcpu", [&] {
        qemu_bh_schedule(bh);
        qemu_bh_cancel(bh);
        atomic_set(&s.cancel_returned, true);
        aio_bh_schedule_oneshot(ctx, DoneCallback, &s);  // wakes the loop to finish
      });
    } else {
      vcpu = Spawn(c, "vcpu", [&] { aio_bh_schedule_oneshot(ctx, DoneCallback, &s); });
      qemu_bh_schedule(bh);
      qemu_bh_cancel(bh);
      atomic_set(&s.cancel_returned, true);
    }
    while (!s.done.Load()) aio_poll(ctx, true);
    Join(c, vcpu);
    qemu_bh_delete(bh);
    aio_poll(ctx, false);
    aio_context_unref(ctx);
  };
}

}  // namespace

Scenario MakeS3() {
  Scenario s;
  s.id = "S3";
  s.title = "a BH runs after qemu_bh_cancel returned";
  s.summary =
      "A vCPU thread schedules a BH and cancels it while the home thread polls. "
      "qemu_bh_cancel is a plain store (QEMU <= 2.10), so the home thread can take the "
      "BH (atomic_xchg returns 1) just before the cancel and run its callback after "
      "cancel returned. From the home thread, cancel between polls always wins. "
      "Modern (QEMU 10.2): cancel is a fetch_and on the flag word, but the window is "
      "the same: aio_bh_poll dequeues the BH (its fetch_and sees SCHEDULED) just "
      "before the cancel and calls it just after.";
  s.source = "SEED-CLAIMS.md S3; QEMU-SEMANTICS.md 1.2, contract C3";
  s.options = {{"canceller", {"foreign", "home"}, "which thread schedules and cancels the BH"}};
  s.expected = [](const Options& o) {
    return OptionValue(o, "canceller") == "foreign" ? sim::FailureKind::kAssertion
                                                    : sim::FailureKind::kNone;
  };
  s.modern_status = Scenario::ModernStatus::kRuns;
  s.modern_why.clear();
  s.catalog = {"S3", "R8"};
  s.exhaust_bound = 2;  // the none variants: DFS complete at 2 (docs/catalog.md)
  s.make = MakeBody;
  return s;
}

}  // namespace aiosim::scenarios
