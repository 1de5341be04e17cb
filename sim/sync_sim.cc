// sim/sync_sim.cc — the simulated primitives' operations (see
// sim/include/aiosim_platform_impl.h) and the runtime hooks of sim/runtime.h.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Releasing a mutex (unlock, or a condition wait that releases it) and posting a
// semaphore wake one waiter, as a futex-based mutex or semaphore does (FUTEX_WAKE 1);
// which one is a recorded choice (ChoiceKind::kWakeWaiter) when several wait. The
// woken thread re-checks its condition when it runs and blocks again if another
// thread took the mutex or the token first (barging is allowed, as with pthreads);
// the next release wakes the next waiter. So every order in which waiters can get a
// mutex or a token is still a choice the search can make, without waking every
// waiter only to have all but one block again. Events, condition broadcasts, joins and
// fd readiness wake every waiter.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/platform/sync.h"
#include "sim/execution.h"
#include "sim/execution_inl.h"
#include "sim/heap.h"
#include "sim/race.h"

namespace aiosim::sim {

namespace {

[[noreturn]] void OutsideSimulation(const char* what, core::SrcLoc loc) {
  std::fprintf(stderr, "aiosim: %s outside a simulation at %s\n", what,
               Execution::Where(loc).c_str());
  std::abort();
}

std::string AccessLine(const RaceDetector::Access& a, Execution* ex) {
  return absl::StrFormat("thread %d (%s) %s%s at %s", a.tid, ex->ThreadName(a.tid),
                         a.atomic ? "atomic " : "", OpKindName(a.kind),
                         Execution::Where(a.loc));
}

// " (known race T3, ...)" when --races=all stops on a race QEMU 2.8 has by design.
std::string KnownTag(const RaceDetector::Race& race) {
  const KnownRaces* known = GetKnownRaces();
  const KnownRaces::Group* g =
      known == nullptr
          ? nullptr
          : known->Match(race.first.loc.function_name(), race.second.loc.function_name());
  return g == nullptr ? std::string()
                      : absl::StrCat(" (known race ", g->id,
                                     " of docs/tsan-races.md, reported by --races=all)");
}

}  // namespace

namespace {

// The failure a race the detector found makes (unless a known race suppresses it).
[[gnu::noinline]] void ReportRace(Execution* ex, const RaceDetector::Race& race,
                                  const char* what) {
  if (ex->SuppressRace(race.first.loc, race.second.loc)) return;
  ex->Fail(FailureKind::kDataRace,
           absl::StrFormat("data race on object #%d: %s vs %s%s%s", race.obj,
                           AccessLine(race.first, ex), AccessLine(race.second, ex), what,
                           KnownTag(race)),
           {"earlier: " + AccessLine(race.first, ex),
            "later:   " + AccessLine(race.second, ex)},
           absl::StrCat(Execution::Where(race.first.loc), " vs ",
                        Execution::Where(race.second.loc)));
}

// The race detector's check of an access (after its scheduling point).
[[gnu::always_inline]] inline void CheckRace(Execution* ex, ObjMeta* meta, OpKind kind,
                                             core::MemOrder order,
                                             const core::SrcLoc& loc) {
  if (RaceDetector* rd = ex->races()) {
    if (__builtin_expect(rd->OnAccess(meta, ex->current()->id, kind, order, loc), 0)) {
      ReportRace(ex, rd->race(), "");
    }
  }
}

// ThreadLocal slots outside a simulation (static initialisers, test set-up).
thread_local std::vector<uint64_t> os_thread_slots;
// Atomic: independent simulations may run on several OS threads at once, and a
// ThreadLocal may be constructed in any of them.
std::atomic<int> thread_local_count{0};

// OnAccess's path when the primitive's inline step did not try the point: out of line,
// so that OnAccess itself needs no frame and its calls are jumps.
[[gnu::noinline]] void OnAccessFull(Execution* ex, ObjMeta* meta, OpKind kind,
                                    core::MemOrder order, core::SrcLoc loc) {
  if (ex->inspecting()) return;
  ex->Touch(meta, kind, loc);
  if (!ex->Point(kind, meta->id, loc)) {
    ex->Touch(meta, kind, loc);  // freed while this thread was preempted?
  }
  CheckRace(ex, meta, kind, order, loc);
}
}  // namespace

void OnAccess(ObjMeta* meta, OpKind kind, core::MemOrder order, core::SrcLoc loc) {
  Execution* ex = tls_execution;
  if (ex == nullptr) return;
  if (ex->InlineTried(meta)) {
    // The caller's FastPoint could not pass the point inline (a choice is due): the
    // full path at once. fast_ok: not inspecting, and no race detector.
    ex->PointAfterInlineThenTouch(meta, kind, loc);
    return;
  }
  OnAccessFull(ex, meta, kind, order, loc);
}

void OnFutexWait(ObjMeta* meta, const uint32_t* word, uint32_t expected,
                 core::SrcLoc loc) {
  Execution* ex = tls_execution;
  if (ex == nullptr) {
    if (*word == expected) OutsideSimulation("qemu_futex_wait that would sleep", loc);
    return;
  }
  if (ex->inspecting()) return;
  ex->Touch(meta, OpKind::kFutexWait, loc);
  ex->Point(OpKind::kFutexWait, meta->id, loc);
  ex->Touch(meta, OpKind::kFutexWait, loc);
  // The kernel reads the word: an atomic load, with no ordering of its own.
  CheckRace(ex, meta, OpKind::kLoad, core::MemOrder::kRelaxed, loc);
  if (*word != expected) return;  // EWOULDBLOCK
  // FUTEX_WAIT may return without a wake (a signal handler, a stale wake-up): QEMU's
  // callers must re-check, and 10.0's qemu_event_wait did not.
  if (ex->options().spurious_wakeups &&
      ex->ChooseValue(ChoiceKind::kSpuriousWakeup, 2) == 1) {
    return;
  }
  ex->Block({ex->FutexWaiters(meta->id)}, -1, "qemu_futex_wait", meta->id, loc);
}

void OnFutexWake(ObjMeta* meta, bool all, core::SrcLoc loc) {
  Execution* ex = tls_execution;
  if (ex == nullptr || ex->inspecting()) return;
  ex->Touch(meta, OpKind::kFutexWake, loc);
  ex->Point(OpKind::kFutexWake, meta->id, loc);
  ex->Touch(meta, OpKind::kFutexWake, loc);
  WaitList* sleepers = ex->FutexWaiters(meta->id);
  if (all) {
    ex->WakeAll(sleepers);
  } else {
    ex->WakeOne(sleepers);
  }
}

int NextThreadLocalIndex() { return thread_local_count.fetch_add(1); }

uint64_t* ThreadLocalSlot(int index) {
  Execution* ex = tls_execution;
  std::vector<uint64_t>* slots =
      ex != nullptr && ex->current() != nullptr ? &ex->current()->tls : &os_thread_slots;
  if (index >= static_cast<int>(slots->size())) slots->resize(index + 1, 0);
  return &(*slots)[index];
}

void OnFence(core::FenceKind kind, core::SrcLoc loc) {
  Execution* ex = tls_execution;
  if (ex == nullptr || ex->inspecting()) return;
  ex->Point(OpKind::kFence, 0, loc);
  if (RaceDetector* rd = ex->races()) rd->OnFence(ex->current()->id, kind);
}

void OnDestroy(ObjMeta* meta) {
  Execution* ex = tls_execution;
  if (ex != nullptr) ex->ForgetName(meta);
  if (ex != nullptr && !ex->inspecting() && meta->magic == kMetaLive &&
      meta->epoch == ex->serial() && meta->race != nullptr && ex->current() != nullptr) {
    if (RaceDetector* rd = ex->races()) {
      if (rd->OnDestroy(meta, ex->current()->id, ex->destroy_loc())) {
        meta->magic = kMetaDead;
        ReportRace(ex, rd->race(), " (the object is freed)");
      }
    }
  }
  meta->magic = kMetaDead;
}

void OnDestroySync(ObjMeta* meta) {
  if (Execution* ex = tls_execution) ex->ForgetName(meta);
  meta->magic = kMetaDead;
}

void RecordValue(uint64_t before, uint64_t after, uint8_t flags) {
  if (Execution* ex = tls_execution) ex->RecordValue(before, after, flags);
}

void NameObject(const ObjMeta* meta, const char* name) {
  if (Execution* ex = tls_execution) ex->NameObject(meta, name);
}

bool NamesWanted() {
  Execution* ex = tls_execution;
  return ex != nullptr && ex->options().record_trace;
}

void OnCheckFailed(const char* what, core::SrcLoc loc) {
  Execution* ex = tls_execution;
  ex->Fail(FailureKind::kAssertion,
           absl::StrCat("assertion failed: ", what, " at ", Execution::Where(loc)), {},
           Execution::Where(loc));
}

}  // namespace aiosim::sim

namespace aiosim::core {

using sim::Execution;
using sim::OpKind;
using sim::tls_execution;

void CheckFailed(const char* what, SrcLoc loc) {
  if (tls_execution != nullptr) sim::OnCheckFailed(what, loc);
  std::fprintf(stderr, "aiosim: assertion failed: %s at %s (outside a simulation)\n",
               what, Execution::Where(loc).c_str());
  std::abort();
}

void* SimAlloc(size_t size, const char* type, SrcLoc loc) {
  Execution* ex = tls_execution;
  if (ex == nullptr)
    return std::aligned_alloc(alignof(std::max_align_t), (size + 15) / 16 * 16);
  return ex->heap()->Alloc(size, type, loc);
}

void SimFreeBegin(void* p, SrcLoc loc) {
  Execution* ex = tls_execution;
  if (ex == nullptr) return;
  ex->Point(OpKind::kFree, 0, loc);
  std::string error = ex->heap()->CheckFree(p, loc);
  if (!error.empty()) {
    ex->Fail(error.rfind("double free", 0) == 0 ? sim::FailureKind::kDoubleFree
                                                : sim::FailureKind::kUseAfterFree,
             error, {}, Execution::Where(loc));
  }
  ex->BeginDestroy(loc);
}

void SimFreeEnd(void* p, SrcLoc loc) {
  Execution* ex = tls_execution;
  if (ex == nullptr) {
    std::free(p);
    return;
  }
  ex->EndDestroy();
  (void)ex->heap()->Free(p, loc);  // checked by SimFreeBegin
}

namespace {

// Gives the object its id in this execution. `fresh` is set when this execution had
// not used it before: an object that outlived an earlier (possibly abandoned)
// execution then drops that execution's waiters and owner.
Execution* Enter(SimWaitable* w, OpKind kind, SrcLoc loc, bool* fresh = nullptr) {
  Execution* ex = tls_execution;
  if (ex == nullptr) return nullptr;
  const bool is_fresh = w->meta.magic == sim::kMetaLive && w->meta.epoch != ex->serial();
  if (is_fresh) w->waiters.clear();
  if (fresh != nullptr) *fresh = is_fresh;
  ex->Touch(&w->meta, kind, loc);
  return ex;
}

// The race detector's happens-before edge of a synchronisation object, if it is on.
void Release(Execution* ex, sim::ObjMeta* meta) {
  if (sim::RaceDetector* rd = ex->races()) rd->Release(meta, ex->current()->id);
}
void Acquire(Execution* ex, sim::ObjMeta* meta) {
  if (sim::RaceDetector* rd = ex->races()) rd->Acquire(meta, ex->current()->id);
}

}  // namespace

}  // namespace aiosim::core

// The edge of a QemuMutex lock or unlock passed inline (sim/runtime.h).
void aiosim::sim::InlineAcquire(ObjMeta* meta) { core::Acquire(tls_execution, meta); }
void aiosim::sim::InlineRelease(ObjMeta* meta) { core::Release(tls_execution, meta); }

namespace aiosim::core {

// ---- QemuMutex
// -------------------------------------------------------------------------

// flatten (as UnlockSlow): Enter and the detector's edge inline, not calls.
[[gnu::flatten]] void QemuMutex::LockSlow(SrcLoc loc) {
  bool fresh = false;
  Execution* ex = Enter(&w_, OpKind::kLock, loc, &fresh);
  if (ex == nullptr) return;
  if (fresh) owner_ = -1;
  ex->PointInline(OpKind::kLock, w_.meta.id, loc);
  const int me = ex->current()->id;
  if (owner_ == me) {
    ex->Fail(sim::FailureKind::kDeadlock,
             absl::StrCat("thread ", me, " locks a mutex it already holds at ",
                          Execution::Where(loc)),
             {}, Execution::Where(loc));
  }
  while (owner_ != -1) ex->BlockInline(&w_.waiters, "qemu_mutex_lock", w_.meta.id, loc);
  owner_ = me;
  Acquire(ex, &w_.meta);
}

bool QemuMutex::TryLock(SrcLoc loc) {
  Execution* ex = Enter(&w_, OpKind::kLock, loc);
  if (ex == nullptr) return true;
  ex->Point(OpKind::kLock, w_.meta.id, loc);
  if (owner_ != -1) return false;
  owner_ = ex->current()->id;
  Acquire(ex, &w_.meta);
  return true;
}

[[gnu::flatten]] void QemuMutex::UnlockSlow(SrcLoc loc) {
  Execution* ex = Enter(&w_, OpKind::kUnlock, loc);
  if (ex == nullptr) return;
  ex->PointInline(OpKind::kUnlock, w_.meta.id, loc);
  if (owner_ != ex->current()->id) {
    ex->Fail(sim::FailureKind::kAssertion,
             absl::StrCat("qemu_mutex_unlock of a mutex this thread does not hold at ",
                          Execution::Where(loc)),
             {}, Execution::Where(loc));
  }
  Release(ex, &w_.meta);
  owner_ = -1;
  ex->WakeOne(&w_.waiters);
}

// ---- QemuRecMutex
// ----------------------------------------------------------------------

void QemuRecMutex::Lock(SrcLoc loc) {
  bool fresh = false;
  Execution* ex = Enter(&w_, OpKind::kLock, loc, &fresh);
  if (ex == nullptr) return;
  if (fresh) {
    owner_ = -1;
    depth_ = 0;
  }
  ex->Point(OpKind::kLock, w_.meta.id, loc);
  const int me = ex->current()->id;
  while (owner_ != -1 && owner_ != me) {
    ex->Block({&w_.waiters}, -1, "qemu_rec_mutex_lock", w_.meta.id, loc);
  }
  owner_ = me;
  depth_++;
  Acquire(ex, &w_.meta);
}

void QemuRecMutex::Unlock(SrcLoc loc) {
  Execution* ex = Enter(&w_, OpKind::kUnlock, loc);
  if (ex == nullptr) return;
  ex->Point(OpKind::kUnlock, w_.meta.id, loc);
  if (owner_ != ex->current()->id || depth_ <= 0) {
    ex->Fail(
        sim::FailureKind::kAssertion,
        absl::StrCat("qemu_rec_mutex_unlock of a mutex this thread does not hold at ",
                     Execution::Where(loc)),
        {}, Execution::Where(loc));
  }
  Release(ex, &w_.meta);
  if (--depth_ == 0) {
    owner_ = -1;
    ex->WakeOne(&w_.waiters);
  }
}

// ---- QemuCond
// --------------------------------------------------------------------------

// Waits for a signal with `m` released; returns false on timeout (deadline >= 0).
static bool CondWait(QemuCond* c, QemuMutex* m, int64_t deadline, SrcLoc loc) {
  Execution* ex = Enter(&c->w_, OpKind::kCondWait, loc);
  // Object 0: the wait also releases the mutex, so it is dependent with everything.
  ex->Point(OpKind::kCondWait, 0, loc);
  // A spurious wakeup returns at once, as pthread_cond_wait may.
  if (ex->options().spurious_wakeups &&
      ex->ChooseValue(sim::ChoiceKind::kSpuriousWakeup, 2) == 1) {
    return true;
  }
  // Release the mutex and start waiting in one step (no point in between).
  Release(ex, &m->w_.meta);
  m->owner_ = -1;
  ex->WakeOne(&m->w_.waiters);
  sim::WakeReason why =
      ex->Block({&c->w_.waiters}, deadline, "qemu_cond_wait", c->w_.meta.id, loc);
  m->Lock(loc);
  return why != sim::WakeReason::kTimeout;
}

void QemuCond::Signal(SrcLoc loc) {
  Execution* ex = Enter(&w_, OpKind::kCondSignal, loc);
  if (ex == nullptr) return;
  ex->Point(OpKind::kCondSignal, w_.meta.id, loc);
  ex->WakeOne(&w_.waiters);
}

void QemuCond::Broadcast(SrcLoc loc) {
  Execution* ex = Enter(&w_, OpKind::kCondSignal, loc);
  if (ex == nullptr) return;
  ex->Point(OpKind::kCondSignal, w_.meta.id, loc);
  ex->WakeAll(&w_.waiters);
}

void QemuCond::Wait(QemuMutex* m, SrcLoc loc) {
  if (tls_execution == nullptr) sim::OutsideSimulation("qemu_cond_wait", loc);
  CondWait(this, m, -1, loc);
}

bool QemuCond::TimedWait(QemuMutex* m, int ms, SrcLoc loc) {
  if (tls_execution == nullptr) sim::OutsideSimulation("qemu_cond_timedwait", loc);
  return CondWait(this, m, tls_execution->NowNs() + int64_t{ms} * 1000000, loc);
}

// ---- QemuSemaphore
// ---------------------------------------------------------------------

void QemuSemaphore::Post(SrcLoc loc) {
  Execution* ex = Enter(&w_, OpKind::kSemPost, loc);
  if (ex == nullptr) {
    count_++;
    return;
  }
  ex->Point(OpKind::kSemPost, w_.meta.id, loc);
  Release(ex, &w_.meta);
  count_++;
  ex->WakeOne(&w_.waiters);
}

void QemuSemaphore::Wait(SrcLoc loc) {
  Execution* ex = Enter(&w_, OpKind::kSemWait, loc);
  if (ex == nullptr) sim::OutsideSimulation("qemu_sem_wait", loc);
  ex->Point(OpKind::kSemWait, w_.meta.id, loc);
  while (count_ == 0) ex->Block({&w_.waiters}, -1, "qemu_sem_wait", w_.meta.id, loc);
  count_--;
  Acquire(ex, &w_.meta);
}

int QemuSemaphore::TimedWait(int ms, SrcLoc loc) {
  Execution* ex = Enter(&w_, OpKind::kSemWait, loc);
  if (ex == nullptr) sim::OutsideSimulation("qemu_sem_timedwait", loc);
  ex->Point(OpKind::kSemWait, w_.meta.id, loc);
  const int64_t deadline = ex->NowNs() + int64_t{ms} * 1000000;
  while (count_ == 0) {
    if (ms <= 0 || ex->NowNs() >= deadline) return -1;
    ex->Block({&w_.waiters}, deadline, "qemu_sem_timedwait", w_.meta.id, loc);
  }
  count_--;
  Acquire(ex, &w_.meta);
  return 0;
}

// ---- QemuEvent
// -------------------------------------------------------------------------

void QemuEvent::Set(SrcLoc loc) {
  Execution* ex = Enter(&w_, OpKind::kEventSet, loc);
  if (ex == nullptr) {
    set_ = true;
    return;
  }
  ex->Point(OpKind::kEventSet, w_.meta.id, loc);
  Release(ex, &w_.meta);
  set_ = true;
  ex->WakeAll(&w_.waiters);
}

void QemuEvent::Reset(SrcLoc loc) {
  Execution* ex = Enter(&w_, OpKind::kEventReset, loc);
  if (ex == nullptr) {
    set_ = false;
    return;
  }
  ex->Point(OpKind::kEventReset, w_.meta.id, loc);
  set_ = false;
}

void QemuEvent::Wait(SrcLoc loc) {
  Execution* ex = Enter(&w_, OpKind::kEventWait, loc);
  if (ex == nullptr) {
    if (!set_) sim::OutsideSimulation("qemu_event_wait on an unset event", loc);
    return;
  }
  ex->Point(OpKind::kEventWait, w_.meta.id, loc);
  while (!set_) ex->Block({&w_.waiters}, -1, "qemu_event_wait", w_.meta.id, loc);
  Acquire(ex, &w_.meta);
}

}  // namespace aiosim::core
