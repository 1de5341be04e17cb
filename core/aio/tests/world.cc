// core/aio/tests/world.cc — the platform-independent part of the test world.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/aio/tests/world.h"

#include <array>
#include <cstdlib>
#include <iostream>

#include "core/aio/legacy/aio_internal.h"
#include "core/aio/modern/aio_internal.h"
#include "core/platform/sync.h"

namespace aiosim::testing {

namespace {
core::AioGeneration current_generation = core::AioGeneration::kLegacy;

// Live modern BHs per world (core::modern::aio_test_bh_count_hook), counted by the
// runtime the BH's context belongs to, in the world's own Atomic (any thread may
// allocate or free a BH). A world takes a slot in its constructor, before its
// context exists and before any of its threads, and gives it back in its destructor,
// after they are joined: while threads run the table is only read.
struct LiveBhSlot {
  const core::AioRuntime* runtime = nullptr;
  core::Atomic<int>* count = nullptr;
};
std::array<LiveBhSlot, 8> live_bh_slots;

LiveBhSlot* SlotOf(const core::AioRuntime* runtime) {
  for (LiveBhSlot& slot : live_bh_slots) {
    if (slot.runtime == runtime) return &slot;
  }
  return nullptr;
}

void CountModernBh(core::modern::AioContext* ctx, int delta) {
  // A context made outside any World (none today) is not counted.
  if (LiveBhSlot* slot = SlotOf(ctx->runtime)) {
    slot->count->FetchAdd(delta);
  }
}

core::AioContextOptions OptionsFor(core::AioGeneration generation) {
  core::AioContextOptions options;
  options.generation = generation;
  return options;
}
}  // namespace

core::AioGeneration CurrentGeneration() { return current_generation; }

void GenerationTest::SetUp() { current_generation = GetParam(); }
void GenerationTest::TearDown() { current_generation = core::AioGeneration::kLegacy; }

std::string GenerationParamName(
    const ::testing::TestParamInfo<core::AioGeneration>& info) {
  return core::AioGenerationName(info.param);
}

World::World(core::Platform* platform, core::AioGeneration generation)
    : platform_(platform), generation_(generation), runtime_(platform), ctx_(nullptr) {
  // Installed before the first modern context exists, never changed after.
  core::modern::aio_test_bh_count_hook = CountModernBh;
  LiveBhSlot* slot = SlotOf(nullptr);
  if (slot == nullptr) {
    std::cerr << "aiosim: more than " << live_bh_slots.size()
              << " Worlds alive at once\n";
    std::abort();
  }
  slot->count = &live_bhs_;
  slot->runtime = &runtime_;
  ctx_ = core::aio_context_new(&runtime_, OptionsFor(generation));
}

unsigned World::NotifyMe() {
  if (modern()) return core::atomic_read(&core::modern::of(ctx_)->notify_me);
  return core::atomic_read(&core::legacy::of(ctx_)->notify_me);
}

bool World::NotifiedFlag() {
  if (modern()) return core::atomic_read(&core::modern::of(ctx_)->notified);
  return core::atomic_read(&core::legacy::of(ctx_)->notified);
}

core::EventNotifier* World::CtxNotifier() {
  if (modern()) return core::modern::of(ctx_)->notifier.get();
  return core::legacy::of(ctx_)->notifier.get();
}

int World::LiveBhs() {
  if (modern()) {
    return live_bhs_.Peek();
  }
  int n = 0;
  for (core::legacy::QEMUBH* bh = core::legacy::of(ctx_)->first_bh.Load(); bh != nullptr;
       bh = bh->next.Load()) {
    n++;
  }
  return n;
}

World::~World() {
  // Let the outermost aio_bh_poll free every deleted BH, then finalize.
  core::aio_poll(ctx_, false);
  core::aio_context_unref(ctx_);
  // A later world's runtime may be at the same address.
  SlotOf(&runtime_)->runtime = nullptr;
}

core::ThreadId World::Spawn(const std::string& name, std::function<void()> fn) {
  return platform_->threads().Spawn(name, std::move(fn), core::QEMU_THREAD_JOINABLE);
}

void World::Join(core::ThreadId id) { platform_->threads().Join(id); }

void World::SleepMs(int ms) {
  core::QemuSemaphore never_posted(0);
  core::qemu_sem_timedwait(&never_posted, ms);
}

namespace {
int Bound(int timeout_ms) {
  return timeout_ms == World::kDefaultWait ? DefaultWaitMs() : timeout_ms;
}
}  // namespace

bool World::PollUntil(const std::function<bool()>& done, int timeout_ms) {
  timeout_ms = Bound(timeout_ms);
  const int64_t deadline = NowNs() + int64_t{timeout_ms} * core::SCALE_MS;
  // A watchdog timer makes a blocking poll return at the deadline even if what the
  // test waits for never happens.
  // If it fires, what the test waited for happened without waking the loop (or
  // not at all): either way the wait failed.
  bool fired = false;
  core::QEMUTimer* watchdog = core::timer_new_ns(
      ctx_, core::QEMU_CLOCK_REALTIME, +[](void* f) { *static_cast<bool*>(f) = true; },
      &fired);
  core::timer_mod_ns(watchdog, deadline);
  bool ok = true;
  while (!done()) {
    if (fired || NowNs() > deadline) {
      ok = false;
      break;
    }
    core::aio_poll(ctx_, true);
  }
  core::timer_del(watchdog);
  core::timer_free(watchdog);
  // The watchdog ran: the wait took the whole timeout, so whatever done() says now
  // came without waking the loop (or too late).
  return ok && !fired;
}

namespace {
// Waits (bounded, checking every millisecond) until `pred` holds.
bool WaitFor(World& w, int timeout_ms, const std::function<bool()>& pred) {
  timeout_ms = Bound(timeout_ms);
  const int64_t deadline = w.NowNs() + int64_t{timeout_ms} * core::SCALE_MS;
  while (!pred()) {
    if (w.NowNs() > deadline) return false;
    w.SleepMs(1);
  }
  return true;
}
}  // namespace

bool World::PollEveryMsUntil(const std::function<bool()>& done, int timeout_ms) {
  return WaitFor(*this, timeout_ms, [&] {
    core::aio_poll(ctx_, false);
    return done();
  });
}

bool World::WaitUntilHomePolls(int timeout_ms) {
  // Bits 1..31 of notify_me count blocking aio_polls in their prepare/poll phase.
  if (!WaitFor(*this, timeout_ms, [&] { return NotifyMe() >= 2; })) return false;
  // Legacy's aio_poll holds the context from its start until just before its poll
  // (a non-zero timeout) or its end.
  if (!modern()) {
    core::aio_context_acquire(ctx_);
    core::aio_context_release(ctx_);
  }
  return true;
}

bool World::WaitUntilMainLoopPrepared(int timeout_ms) {
  return WaitFor(*this, timeout_ms, [&] { return (NotifyMe() & 1u) != 0; });
}

}  // namespace aiosim::testing
