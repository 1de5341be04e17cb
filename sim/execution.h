// sim/execution.h — one simulated execution: simulated threads as fibers on one OS
// thread, a scheduler that decides at every scheduling point who runs next, virtual
// time, and the detectors that turn a bad state into a named failure.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Scheduling: every operation of the simulated platform (sim/include/
// aiosim_platform_impl.h, sim/sim_platform.h) first calls Point(). Point offers the
// Strategy a choice among typed options (sim/choice.h: run thread t, or jump virtual
// time) and switches fibers if another thread is chosen. Every nondeterministic
// decision — which thread runs, whether virtual time jumps now, which waiter a
// condition signal wakes, a spurious wakeup, an injected EINTR — is a recorded
// choice, and so is its deviation from the non-preemptive default (DefaultChoice);
// feeding the same decisions back reproduces the execution exactly (same trace, same
// trace hash).
//
// Time: virtual nanoseconds, starting at kStartNs. Blocking operations may carry a
// deadline; when no thread can run, time jumps to the earliest (deadline, sequence)
// and those threads wake. If nothing can run and nothing is pending, the execution is
// stuck: a lost wakeup (a thread sleeps in poll while the scenario says work is
// pending) or a deadlock, reported with what every thread waits for.
//
// Fairness: a thread that passes ExecOptions::fairness_steps points in a row while
// others can run is switched away from and "benched": it is not offered again while
// a runnable thread that is not benched exists (when none is left, the bench is
// cleared). So a correct spin-wait always lets the awaited thread progress, under
// every strategy, and a livelock is a real one.
//
// Failures end the execution at once: the fibers are abandoned (never resumed) and
// Run() returns. Nothing calls abort(). An exception that escapes a simulated thread
// (e.g. a RapidCheck assertion) is such a failure, with its message.
//
// Invariants (between scheduling points):
//   1. runnable_ holds exactly the ids of the threads in state kRunnable, sorted.
//   2. deadlines_ counts the blocked threads with deadline_ns >= 0; next_deadline_ is
//      their minimum whenever deadline_cached_.
//   3. A blocked thread is on every WaitList of its waiting_on, and on no other.
//   4. result_.preemptions is the sum of PreemptionCost over the choices made.
//   5. benched_count_ counts the threads with benched_[id] set.
//
// Determinism contract: no wall time, no real threads, no pointer values and no
// unordered iteration influence any decision or any output. Thread ids are given in
// spawn order; objects get ids in order of first use.
#ifndef AIOSIM_SIM_EXECUTION_H_
#define AIOSIM_SIM_EXECUTION_H_

#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "core/platform/sync_types.h"
#include "sim/choice.h"
#include "sim/fiber.h"
#include "sim/runtime.h"

namespace aiosim::sim {

class HeapTracker;
class RaceDetector;
class RandomStrategy;
class Strategy;

enum class FailureKind {
  kNone,
  kAssertion,     // AIOSIM_ASSERT, a scenario's check, or an uncaught exception
  kDeadlock,      // nothing can run, nothing pending, no thread sleeps in poll
  kLostWakeup,    // nothing can run, a thread sleeps in poll, work is pending
  kStepBound,     // more scheduling points than allowed (livelock)
  kDataRace,      // conflicting accesses to a Shared/Atomic without happens-before
  kUseAfterFree,  // an access to (or free of) memory already freed
  kDoubleFree,
  kLeak,            // tracked objects still allocated when every thread finished
  kReplayDiverged,  // a recorded schedule no longer fits the program
};
const char* FailureKindName(FailureKind kind);
// Parses a name printed by FailureKindName; returns kNone for an unknown name.
FailureKind FailureKindFromName(const std::string& name);

struct Failure {
  FailureKind kind = FailureKind::kNone;
  std::string message;               // one line
  std::vector<std::string> details;  // e.g. what each thread waits for, both accesses
  // The failure's identity beside its kind: where it happened in the program (the
  // check or access, both racing accesses, every blocked thread's wait), as
  // "file:line (function)". Two failures are the same failure when kind and where
  // match (minimisation keeps to it; a replay checks it).
  std::string where;
  int thread = -1;
  uint64_t step = 0;
};
inline bool SameFailure(const Failure& a, const Failure& b) {
  return a.kind == b.kind && a.where == b.where;
}

struct ExecOptions {
  uint64_t max_steps = 200000;
  // Fairness (see the header comment): points in a row after which a thread that
  // others are waiting to run is switched away from and benched.
  uint64_t fairness_steps = 1000;
  int time_advances_max = 1;      // jumps of virtual time while threads can run
  bool spurious_wakeups = false;  // a condition wait may return without a signal
  bool inject_eintr = false;      // a blocking poll may fail with -EINTR
  bool race_detection = false;
  // With race detection: also fail on the known races (GetKnownRaces, race.h) that
  // are otherwise counted in ExecResult::suppressed_races and let through.
  bool report_known_races = false;
  bool detect_leaks = true;
  bool record_trace = false;  // keep a per-step trace and checkpoints (for reports)
  // Keep ExecResult::deviations (located, for tokens and minimisation); off in the
  // search, where it would cost a record per choice. Implied by record_trace.
  bool record_deviations = false;
};

// What a trace records, in the order things took effect.
enum class TraceKind : uint8_t {
  kOp,            // `thread` performed `op` on `obj` at `loc`
  kChoice,        // a choice: `thread` was chosen (-1: time jumped) at a point that
                  // `from` reached; `preemption` if `from` could have gone on
  kBlock,         // `thread` blocked in `what` on `obj` at `loc`
  kWake,          // `thread` became runnable (`timeout`: its deadline passed)
  kTimeJump,      // virtual time jumped to `time_ns`
  kForcedSwitch,  // fairness switched `thread` away after a long run
};

struct TraceEvent {
  TraceKind kind = TraceKind::kOp;
  uint64_t step = 0;  // kOp: its position among the operations (1, 2, ...); other
                      // kinds: the number of operations before it
  int thread = -1;
  OpKind op = OpKind::kYield;
  uint32_t obj = 0;
  core::SrcLoc loc = core::SrcLoc::current();
  int from = -1;
  bool preemption = false;
  bool timeout = false;
  ChoiceKind choice = ChoiceKind::kSchedule;
  const char* what = nullptr;
  int64_t time_ns = 0;
  // kOp on a value (sim::NoteValue): the value the object held and the one it holds
  // after the operation (equal for a read); value_flags: sim::kValuePointer, ...
  bool has_value = false;
  uint8_t value_flags = 0;
  uint64_t before = 0;
  uint64_t after = 0;
};

// The trace hash after every kCheckpointSteps scheduling points, when the trace is
// recorded: a replay compares them to say where an execution first differs.
inline constexpr uint64_t kCheckpointSteps = 64;
struct Checkpoint {
  uint64_t step;
  uint16_t fingerprint;  // low 16 bits of the trace hash
};

struct ExecResult {
  Failure failure;
  uint64_t steps = 0;
  uint64_t trace_hash = 0;
  int preemptions = 0;  // the sum of PreemptionCost over the choices (sim/choice.h)
  int threads = 0;
  int64_t end_time_ns = 0;
  std::vector<ChoiceRecord> choices;
  // The choices that differ from DefaultChoice, if record_deviations or record_trace.
  std::vector<Deviation> deviations;
  std::vector<TraceEvent> trace;        // if record_trace
  std::vector<Checkpoint> checkpoints;  // if record_trace
  std::vector<std::string> thread_names;
  // If record_trace: the objects' names by id (sim::NameObject; "" where none was
  // given). Never part of the trace hash.
  std::vector<std::string> object_names;
  size_t peak_heap_bytes = 0;
  // Known races met and let through (race.h's KnownRaces), by id, with their counts.
  std::vector<std::pair<std::string, uint64_t>> suppressed_races;
};

enum class ThreadState : uint8_t { kRunnable, kBlocked, kFinished };
enum class WakeReason : uint8_t { kNone, kSignaled, kTimeout, kSpurious };

// A list of threads blocked on one object, in blocking order.
using WaitList = std::vector<SimThread*>;

class SimThread {
 public:
  int id = 0;
  std::string name;
  ThreadState state = ThreadState::kRunnable;
  bool detached = false;
  Fiber fiber;
  std::function<void()> fn;
  ThreadHot hot;  // pending operation and point counts (sim/runtime.h)
  // While blocked.
  absl::InlinedVector<WaitList*, 2> waiting_on;
  int64_t deadline_ns = -1;
  uint64_t deadline_seq = 0;
  WakeReason wake = WakeReason::kNone;
  const char* blocked_what = nullptr;
  uint32_t blocked_obj = 0;
  core::SrcLoc blocked_loc = core::SrcLoc::current();
  bool in_poll_forever = false;  // blocked in Poll with no timeout
  WaitList joiners;
  Execution* exec = nullptr;
  std::vector<uint64_t> tls;  // ThreadLocal slots, by index (zero until set)

  // Back to the state of a new SimThread, keeping the capacity of its vectors, for
  // the next execution on this OS thread (Execution keeps finished executions'
  // threads). Every member above; the fiber is made anew by Fiber::Make.
  void Recycle();
};

// Turns an exception that escaped a simulated thread into a message. Returns "" for
// an exception it does not know (the next describer, then std::exception::what, is
// tried). Registered once per process (e.g. by a property-test library).
using ExceptionDescriber = std::string (*)(std::exception_ptr);
void AddExceptionDescriber(ExceptionDescriber describer);
// The message for an exception: the first describer's, else what() for a
// std::exception, else a generic line.
std::string DescribeException(std::exception_ptr e);

class Execution {
 public:
  static constexpr int64_t kStartNs = 1000000000;  // virtual time starts at 1 s

  Execution(const ExecOptions& options, Strategy* strategy, StackPool* stacks,
            uint64_t serial);
  ~Execution();
  Execution(const Execution&) = delete;
  Execution& operator=(const Execution&) = delete;

  // Runs `body` as thread 0, "main", until every thread has finished or a failure.
  // `pending` (optional) describes work that should wake a sleeping poller; it is
  // called when the execution is stuck, without scheduling points.
  // REQUIRES: called once, on the OS thread that owns `stacks`.
  ExecResult Run(const std::function<void()>& body,
                 const std::function<std::string()>& pending = nullptr);

  // ---- for the simulated primitives and platform
  // --------------------------------------- REQUIRES (all below): called from a simulated
  // thread of this execution.
  SimThread* current() const { return current_; }
  uint64_t serial() const { return serial_; }
  int64_t NowNs() const { return now_ns_; }
  const ExecOptions& options() const { return options_; }
  HeapTracker* heap() { return heap_.get(); }
  RaceDetector* races() { return races_.get(); }
  bool inspecting() const { return inspecting_ > 0; }
  // Around a tracked object's destructor (platform_delete): where it is freed, for
  // the race detector's report of the destroying write.
  void BeginDestroy(core::SrcLoc loc) {
    destroy_loc_ = loc;
    destroying_ = true;
  }
  void EndDestroy() { destroying_ = false; }
  core::SrcLoc destroy_loc() const {
    return destroying_ ? destroy_loc_ : core::SrcLoc::current();
  }

  // Gives `meta` an id if this execution has not seen it yet; checks liveness.
  void Touch(ObjMeta* meta, OpKind kind, core::SrcLoc loc) {
    if (__builtin_expect(meta->magic != kMetaLive, 0)) TouchDead(meta, kind, loc);
    if (meta->epoch != serial_) {
      meta->epoch = serial_;
      meta->id = next_obj_id_++;
      meta->race = nullptr;
      if (__builtin_expect(!pending_names_.empty(), 0)) AdoptName(meta);
    }
  }
  // Names for reports (sim::NameObject), kept only while a trace is recorded.
  void NameObject(const ObjMeta* meta, const char* name);
  void ForgetName(const ObjMeta* meta) {
    if (__builtin_expect(!pending_names_.empty(), 0)) pending_names_.erase(meta);
  }
  // The value the current operation just read or wrote (sim::NoteValue).
  void RecordValue(uint64_t before, uint64_t after, uint8_t flags);
  // A scheduling point before `kind` on object `obj` (0: not one object; dependent
  // with every other operation). Inside a quantum with nothing else to do it costs a
  // few instructions (FastState::PointStep: the InlineStep the primitives inline, on
  // with the race detector too).
  // Returns true if the point passed inline (no other thread can have run), false if
  // it took the full path (another thread may have run meanwhile).
  bool Point(OpKind kind, uint32_t obj, core::SrcLoc loc) {
    if (fast_.PointStep(kind, obj)) return true;
    SlowPoint(kind, obj, loc);
    return false;
  }
  // Point with its full path inline too (SlowPointBody, sim/execution_inl.h), for the
  // mutex's slow paths: a thread resumed by a switch in it returns straight to the
  // operation. The same effects as Point.
  inline bool PointInline(OpKind kind, uint32_t obj, core::SrcLoc loc);
  // Whether the primitives' inline path (FastPoint) has just tried this point and
  // failed: it tries every point on a live object known to this execution while
  // fast_ok. Then the full path is all that is left (PointAfterInlineThenTouch).
  bool InlineTried(const ObjMeta* meta) const {
    return fast_.fast_ok && KnownLive(meta, &fast_);
  }
  // Point after InlineTried, then Touch (the object may have been freed while this
  // thread was preempted): the full path, without trying the inline step again
  // (SlowPoint passes a point without a choice too, with the same effects). One call
  // that OnAccess makes last, so that it is a jump: a thread resumed by a switch here
  // returns straight to the primitive (each return on the way back out of a switch is
  // one the CPU's return predictor may have wrong: bench's BM_SwitchReturns).
  void PointAfterInlineThenTouch(ObjMeta* meta, OpKind kind, core::SrcLoc loc);
  // Blocks the current thread on `lists` (may be empty) until Wake or, if
  // deadline_ns >= 0, until virtual time reaches it. Returns why it woke.
  WakeReason Block(std::initializer_list<WaitList*> lists, int64_t deadline_ns,
                   const char* what, uint32_t obj, core::SrcLoc loc) {
    return BlockImpl(lists.begin(), lists.size(), deadline_ns, what, obj, loc, false);
  }
  // Block on one list without a deadline, with BlockImpl's body inline
  // (sim/execution_inl.h): the mutex's lock, so that a thread resumed there returns
  // straight to the operation.
  inline WakeReason BlockInline(WaitList* list, const char* what, uint32_t obj,
                                core::SrcLoc loc);
  WakeReason BlockOn(const std::vector<WaitList*>& lists, int64_t deadline_ns,
                     const char* what, uint32_t obj, core::SrcLoc loc, bool poll_forever);
  // Makes every thread on `list` runnable (they re-check their condition).
  void WakeAll(WaitList* list);
  // Makes one thread on `list` runnable; which one is a recorded choice
  // (ChoiceKind::kWakeWaiter) when several wait. Returns false if none waited.
  bool WakeOne(WaitList* list);
  // A recorded choice among the values 0..n-1 (n >= 2) of `kind`.
  uint32_t ChooseValue(ChoiceKind kind, uint32_t n);
  // The threads asleep in a futex wait on object `obj` (kept by object id, never by
  // address; created on first use).
  WaitList* FutexWaiters(uint32_t obj) { return &futex_waiters_[obj]; }

  int Spawn(std::string name, std::function<void()> fn, bool detached);
  void Join(int id, core::SrcLoc loc);
  const std::string& ThreadName(int id) const { return threads_[id]->name; }
  int ThreadCount() const { return static_cast<int>(threads_.size()); }

  // One line per thread: its state and, if blocked, what it waits for.
  std::vector<std::string> DescribeThreads() const;
  // Records a failure (the first one wins) and ends the execution. Never returns.
  // `where` is the failure's identity (see Failure::where).
  [[noreturn]] void Fail(FailureKind kind, std::string message,
                         std::vector<std::string> details = {}, std::string where = "");
  // Whether a race between accesses at these locations is a known one to let
  // through (matched by function: the modern core's as "modern::NAME"); counts it if
  // so.
  bool SuppressRace(const core::SrcLoc& a, const core::SrcLoc& b);
  // Describes a source location for reports: "file.cc:123 (function)".
  static std::string Where(core::SrcLoc loc);

 private:
  static void ThreadEntry(void* arg);
  // Trades the working vectors (threads_, runnable_, ...) with this OS thread's
  // spares, emptied (execution.cc): called by the constructor and the destructor.
  void ExchangeSpares();
  void SlowPoint(OpKind kind, uint32_t obj, core::SrcLoc loc);
  inline void SlowPointBody(OpKind kind, uint32_t obj, core::SrcLoc loc);
  [[noreturn]] void TouchDead(ObjMeta* meta, OpKind kind, core::SrcLoc loc);
  WakeReason BlockImpl(WaitList* const* lists, size_t n, int64_t deadline_ns,
                       const char* what, uint32_t obj, core::SrcLoc loc,
                       bool poll_forever);
  // BlockImpl's body, inline (sim/execution_inl.h): BlockImpl and BlockInline.
  inline WakeReason BlockBody(WaitList* const* lists, size_t n, int64_t deadline_ns,
                              const char* what, uint32_t obj, core::SrcLoc loc,
                              bool poll_forever);
  // The only ways a thread's runnability changes: they keep invariants 1 and 2.
  void MakeRunnable(SimThread* t, WakeReason why);
  inline void MakeNotRunnable(SimThread* t);  // sim/execution_inl.h
  void Exit();
  // Picks the next thread to run (the current one may be among the candidates) and
  // switches to it; handles fairness, time jumps and stuck states.
  void Reschedule(bool current_runnable);
  // Reschedule(kCurrentRunnable) when the point needs nothing but the schedule choice
  // among the runnable threads (no fairness switch, bench or deadline): the common
  // case, in fewer steps. False, having done nothing, otherwise.
  template <bool kCurrentRunnable>
  bool ChooseFast();
  void ScheduleOptions(const std::vector<int>& ids, bool advance);
  // Reschedule(false), through ChooseFast<false> when it can: after the current
  // thread blocked or finished.
  void RescheduleBlocked();
  // The runnable threads that may be offered now (fairness): runnable_, or
  // candidates_ while some are benched.
  const std::vector<int>& Candidates();
  // Asks the strategy; records the choice, its deviation and its preemption cost.
  uint32_t Decide(ChoicePoint* cp, uint32_t* quantum);
  // Decide for a kWakeWaiter choice (locates it too): the random walk answers it
  // inline.
  uint32_t DecideWaiter(ChoicePoint* cp);
  void LocateFor(ChoiceLocation* at);
  // What Decide's body knows of the choice at compile time: anything (kAny), a
  // kSchedule choice among threads only (kThreads), a kWakeWaiter choice (kWaiter).
  enum class DecideFor { kAny, kThreads, kWaiter };
  template <DecideFor kFor, bool kCurrent>
  uint32_t DecideImpl(ChoicePoint* cp, uint32_t* quantum);
  // Decide's rare paths, out of line: a replay that no longer fits, and the
  // deviation and trace records of a choice.
  [[noreturn, gnu::cold]] void Diverged(const ChoicePoint& cp, Decision d);
  [[gnu::noinline]] void NoteDecision(const ChoicePoint& cp, uint32_t option, int cost);
  void SwitchTo(SimThread* next);
  [[noreturn]] void EndExecution();
  void AdvanceTimeTo(int64_t t);
  bool NextDeadline(int64_t* t);
  void Unwait(SimThread* t);
  [[noreturn]] void Stuck();
  void HashStep(uint64_t a, uint64_t b) {
    fast_.trace_hash = HashWords(fast_.trace_hash, a, b);
  }
  void Locate(ChoiceLocation* at);
  [[noreturn]] void StepBound();
  void RecordOp(OpKind kind, uint32_t obj, core::SrcLoc loc);
  void AdoptName(const ObjMeta* meta);
  void RecordEvent(TraceEvent e);

  ExecOptions options_;
  bool record_deviations_ = false;
  Strategy* strategy_;
  StackPool* stacks_;
  uint64_t serial_;

  Fiber os_fiber_;
  std::vector<std::unique_ptr<SimThread>> threads_;
  SimThread* current_ = nullptr;
  int live_threads_ = 0;
  int64_t now_ns_ = kStartNs;
  uint64_t deadline_seq_ = 0;
  int time_advances_ = 0;
  FastState fast_;  // steps, trace hash, quantum, run length (sim/runtime.h)
  uint32_t next_obj_id_ = 1;
  int inspecting_ = 0;
  bool destroying_ = false;
  core::SrcLoc destroy_loc_ = core::SrcLoc::current();
  std::function<std::string()> pending_;

  std::unique_ptr<HeapTracker> heap_;
  std::unique_ptr<RaceDetector> races_;
  ExecResult result_;
  uint64_t trace_ops_ = 0;
  // Runnable thread ids, sorted (invariant 1).
  std::vector<int> runnable_;
  int deadlines_ = 0;  // invariant 2
  bool deadline_cached_ = false;
  bool has_deadline_ = false;
  int64_t next_deadline_ = 0;
  std::vector<uint8_t> benched_;  // by thread id (fairness)
  int benched_count_ = 0;         // invariant 5
  // The schedule choice's options, kept from one choice to the next while the
  // candidates stay the same: sched_version_ counts changes of the runnable set and of
  // the bench; the options were built at sched_options_version_ with
  // sched_options_n_ entries.
  std::vector<Option> sched_options_;
  uint64_t sched_version_ = 0;
  uint64_t sched_options_version_ = ~uint64_t{0};
  uint32_t sched_options_n_ = 0;
  ChoicePoint sched_cp_;    // reused: every field is set before each choice
  bool wants_ops_ = false;  // strategy_->wants_ops(), fixed for a strategy
  // strategy_ if it is the random walk (its common choice is then called inline).
  RandomStrategy* random_ = nullptr;
  // Scratch (no allocation per step).
  std::vector<int> candidates_;
  std::vector<Option> options_scratch_;
  std::vector<PendingOp> ops_scratch_;
  WaitList waking_;
  std::vector<SimThread*> due_;  // AdvanceTimeTo's threads to wake
  // Futex sleepers by object id (a std::map: ordered, and its nodes stay put while a
  // sleeper's waiting_on points into them).
  std::map<uint32_t, WaitList> futex_waiters_;
  // Names given to objects not yet used in this execution, by object (looked up only
  // when an object gets its id; never iterated, so no order escapes), and the names
  // by id.
  std::map<const ObjMeta*, std::string> pending_names_;
  std::vector<std::string> obj_names_;
};

}  // namespace aiosim::sim

#endif  // AIOSIM_SIM_EXECUTION_H_
