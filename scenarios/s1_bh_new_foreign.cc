// scenarios/s1_bh_new_foreign.cc — claim S1: "aio_bh_new adds the BH to the
// AioContext under bh_lock with a write barrier before publishing; it is thread-safe,
// so it may be called outside the Aio context". Follows QEMU 2.8.1 async.c: aio_bh_new
// (lock bh_lock; bh->next = first_bh; smp_wmb; first_bh = bh; unlock), qemu_bh_schedule
// and aio_bh_poll (walks the list without the lock, after smp_read_barrier_depends).
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Verdict: confirmed (under sequential consistency). Several creator threads each
// create a BH with aio_bh_new and schedule it while the home thread polls; after
// they are joined, one more aio_poll runs whatever is still scheduled. Checked: each
// BH ran exactly once, in the home thread; the list holds each created BH exactly
// once and nothing else (no torn list). Nothing is found, under exhaustive search to
// the bound docs/catalog.md gives, and with --races nothing beyond QEMU 2.8's races
// by design (T1: the list head is a plain pointer published after smp_wmb; T2, T3).
//
// What the lock is for (--revert S1-no-lock, an ablation that is not QEMU:
// AIO_ABLATE_S1_NO_LOCK): two creators read the same head and both store theirs, so
// one BH is lost from the list and never runs — found with one preemption (and with
// --races, as a data race between the two bh_publish). The barrier cannot be ablated
// usefully here: under sequential consistency every store is seen at once, so what
// smp_wmb orders (the BH's fields before the head) is visible only with weak memory.
#include <string>

#include "core/aio/aio.h"
#include "scenarios/catalog.h"
#include "scenarios/util.h"

namespace aiosim::scenarios {
namespace {

using namespace aiosim::core;  // NOLINT

constexpr int kMaxCreators = 3;

struct S1Slot {
  sim::SimContext* c = nullptr;
  Shared<QEMUBH*> bh{nullptr};  // written by its creator, read after the join
  Atomic<int> runs{0};
  Atomic<int> ran_in{-1};  // the thread the callback ran in
};

struct S1State {
  S1Slot slots[kMaxCreators];
  Atomic<int> created{0};
};

void S1Callback(void* opaque) {
  auto* slot = static_cast<S1Slot*>(opaque);
  atomic_inc(&slot->runs);
  atomic_set(&slot->ran_in, slot->c->platform().threads().Current());
}

sim::Body MakeBody(const Options& options) {
  const uint32_t switches = SwitchBits(options);
  const int creators = std::stoi(OptionValue(options, "creators"));
  const AioContextOptions ctx_options = ContextOptions(options);
  return [switches, creators, ctx_options](sim::SimContext& c) {
    AioRuntime rt(&c.platform(), switches);
    AioContext* ctx = aio_context_new(&rt, ctx_options);
    c.SetPending([ctx] { return PendingBhs(ctx); });
    S1State s;
    const ThreadId home = c.platform().threads().Current();
    ThreadId threads[kMaxCreators];
    for (int i = 0; i < creators; i++) {
      S1Slot* slot = &s.slots[i];
      slot->c = &c;
      threads[i] = Spawn(c, ("creator" + std::to_string(i + 1)).c_str(), [&s, slot, ctx] {
        QEMUBH* bh = aio_bh_new_full(ctx, S1Callback, slot, "s1");
        slot->bh.Store(bh);
        atomic_inc(&s.created);  // before the schedule, whose aio_notify wakes the loop
        qemu_bh_schedule(bh);
      });
    }
    // The home thread polls while the creators publish and schedule. Each creator
    // counts itself before it schedules, so once all are counted every schedule
    // still to come is covered by the aio_poll below.
    while (atomic_read(&s.created) < creators) aio_poll(ctx, true);
    for (int i = 0; i < creators; i++) Join(c, threads[i]);
    aio_poll(ctx, false);  // runs every BH still scheduled

    // The list: each created BH exactly once, nothing else, no cycle. (Modern: a BH
    // is on ctx->bh_list only while pending, and the last poll dequeued them all.)
    const bool modern = ctx->generation == AioGeneration::kModern;
    int on_list[kMaxCreators] = {};
    int length = 0;
    if (modern) {
      c.Check(core::modern::of(ctx)->bh_list.Peek() == nullptr,
              "ctx->bh_list still holds a BH after the last aio_poll dequeued them all");
    } else {
      for (core::legacy::QEMUBH* bh = core::legacy::of(ctx)->first_bh.Load();
           bh != nullptr && length <= creators; bh = core::legacy::of(bh)->next.Load()) {
        length++;
        for (int i = 0; i < creators; i++) on_list[i] += s.slots[i].bh.Load() == bh;
      }
    }
    for (int i = 0; i < creators; i++) {
      c.Check(modern || on_list[i] == 1,
              "a BH made by aio_bh_new in a creator thread is missing from ctx->first_bh "
              "(lost from the list)");
      c.Check(atomic_read(&s.slots[i].runs) == 1,
              "a BH created and scheduled by a creator thread did not run exactly once");
      c.Check(atomic_read(&s.slots[i].ran_in) == home,
              "a BH ran in another thread than the AioContext's home thread");
    }
    c.Check(modern || length == creators,
            "ctx->first_bh holds another number of BHs than were created (torn list)");
    for (int i = 0; i < creators; i++) qemu_bh_delete(s.slots[i].bh.Load());
    aio_poll(ctx, false);
    aio_context_unref(ctx);
  };
}

}  // namespace

Scenario MakeS1() {
  Scenario s;
  s.id = "S1";
  s.title = "aio_bh_new from foreign threads while the home thread polls";
  s.summary =
      "Creator threads each call aio_bh_new and qemu_bh_schedule while the home thread "
      "runs aio_poll; afterwards every BH must have run exactly once, in the home "
      "thread, and ctx->first_bh must hold each one exactly once. Confirmed: bh_lock "
      "serialises the head insertions, so no BH is lost and the list is never torn "
      "(exhaustive search), and --races reports only QEMU's races by design (T1: the "
      "head is published with smp_wmb, not an atomic). The ablation --revert "
      "S1-no-lock (not QEMU) shows what the lock is for: two creators read the same "
      "head and one BH is lost. The barrier's role needs a weak memory model.";
  s.source = "SEED-CLAIMS.md S1; QEMU-SEMANTICS.md 1.2, 1.8, contract C1";
  s.options = {{"creators", {"2", "3"}, "how many threads call aio_bh_new"}};
  s.reverts = {"S1-no-lock"};
  s.expected = FailsWith(AIO_ABLATE_S1_NO_LOCK, sim::FailureKind::kAssertion);
  // With --races: without bh_lock the two creators' bh_publish race on the list head,
  // which the detector may report before the lost BH shows.
  s.races_first = [](const Options& o) {
    return (SwitchBits(o) & AIO_ABLATE_S1_NO_LOCK) != 0;
  };
  // Modern (QEMU 10.2): aio_bh_new publishes nothing (a BH is on no list until it is
  // scheduled), and qemu_bh_schedule's enqueue is a compare-and-swap loop: creating
  // and scheduling from any thread is safe without a lock; nothing to find.
  s.modern_status = Scenario::ModernStatus::kRuns;
  s.modern_why.clear();
  s.catalog = {"S1"};
  // The none variants: DFS complete at 2 for creators=2 (about 29,000 executions) and
  // at 1 for creators=3 (4,832; at 2 it takes ~700,000 executions, 110 s, too long
  // for CI).
  s.exhaust_bound = 1;
  s.exhaust_bound_for = [](const Options& o) {
    return OptionValue(o, "creators") == "2" ? 2 : 1;
  };
  s.make = MakeBody;
  return s;
}

}  // namespace aiosim::scenarios
