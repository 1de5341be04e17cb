// sim/execution.h — one simulated execution: simulated threads as fibers on one OS
// thread, a scheduler that decides at every scheduling point who runs next, virtual
// time, and the detectors that turn a bad state into a named failure.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Scheduling: every operation of the simulated platform (sim/include/
// aiosim_platform_impl.h, sim/sim_platform.h) first calls Point(). Point asks the
// Strategy to choose among the runnable threads (sorted by id) and switches fibers if
// another one is chosen. Every nondeterministic decision — which thread runs, whether
// virtual time jumps now, a spurious wakeup, an injected EINTR — goes through
// Choose() and is recorded (choices()); feeding the same choices back reproduces the
// execution exactly (same trace, same trace hash).
//
// Time: virtual nanoseconds, starting at kStartNs. Blocking operations may carry a
// deadline; when no thread can run, time jumps to the earliest (deadline, sequence)
// and those threads wake. If nothing can run and nothing is pending, the execution is
// stuck: a lost wakeup (a thread sleeps in poll while the scenario says work is
// pending) or a deadlock, reported with what every thread waits for.
//
// Failures end the execution at once: the fibers are abandoned (never resumed) and
// Run() returns. Nothing calls abort().
//
// Determinism contract: no wall time, no real threads, no pointer values and no
// unordered iteration influence any decision or any output. Thread ids are given in
// spawn order; objects get ids in order of first use.
#ifndef AIOSIM_SIM_EXECUTION_H_
#define AIOSIM_SIM_EXECUTION_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "core/platform/sync_types.h"
#include "sim/fiber.h"
#include "sim/runtime.h"

namespace aiosim::sim {

class HeapTracker;
class RaceDetector;
class Strategy;

enum class FailureKind {
  kNone,
  kAssertion,       // AIOSIM_ASSERT or a scenario's property check failed
  kDeadlock,        // nothing can run, nothing pending, no thread sleeps in poll
  kLostWakeup,      // nothing can run, a thread sleeps in poll, work is pending
  kStepBound,       // more scheduling points than allowed (livelock)
  kDataRace,        // conflicting accesses to a Shared/Atomic without happens-before
  kUseAfterFree,    // an access to (or free of) memory already freed
  kDoubleFree,
  kLeak,            // tracked objects still allocated when every thread finished
  kReplayDiverged,  // a recorded schedule no longer fits the program
};
const char* FailureKindName(FailureKind kind);
// Parses a name printed by FailureKindName; returns kNone for an unknown name.
FailureKind FailureKindFromName(const std::string& name);

struct Failure {
  FailureKind kind = FailureKind::kNone;
  std::string message;              // one line
  std::vector<std::string> details; // e.g. what each thread waits for, both accesses
  int thread = -1;
  uint64_t step = 0;
};

enum class ChoiceKind : uint8_t { kSchedule, kSpuriousWakeup, kEintr };

// A recorded choice. For kSchedule, `value` may also carry a quantum: value = option +
// n * (q - 1) means "take `option`, then let the chosen thread run its next q - 1
// scheduling points without asking" (strategies that switch rarely use it, which
// makes those points nearly free). option = value % n.
struct ChoiceRecord {
  uint32_t value;
  uint32_t n;
  ChoiceKind kind;
};
inline constexpr uint32_t kQuantumMax = 1024;

// What the strategy sees at a choice.
struct ChoicePoint {
  ChoiceKind kind = ChoiceKind::kSchedule;
  uint32_t n = 0;
  // kSchedule only: the runnable threads, sorted by id (n or n - 1 of them), their
  // pending operations, and the thread that reached the point (-1 if it blocked or
  // finished). If `time_advance` is set, the last option (n - 1) jumps virtual time
  // to the next deadline instead of running a thread.
  const int* threads = nullptr;
  const PendingOp* ops = nullptr;
  int current = -1;
  bool time_advance = false;
  // Where the choice happens, in terms that survive changes elsewhere in the schedule:
  // the thread that was running, how many scheduling points it had passed, and how
  // many choices were already made at that point.
  int running = -1;
  uint64_t running_points = 0;
  uint32_t sub = 0;
};

struct ExecOptions {
  uint64_t max_steps = 200000;
  // Fairness: a thread that has passed this many scheduling points in a row while
  // others could run is switched away from (a fair OS would preempt it). Keeps
  // strategies with fixed priorities (PCT) or few preemptions (DFS) from reporting a
  // spin-wait that only starves under an unfair scheduler as a livelock.
  uint64_t fairness_steps = 1000;
  int time_advances_max = 1;     // jumps of virtual time while threads can run
  bool spurious_wakeups = false;  // a condition wait may return without a signal
  bool inject_eintr = false;      // a blocking poll may fail with -EINTR
  bool race_detection = false;
  bool detect_leaks = true;
  bool record_trace = false;      // keep a per-step trace (for reports)
};

// One operation, in the order operations took effect (a thread switched away at a
// scheduling point performs its operation when it next runs).
struct TraceEvent {
  uint64_t step;  // 1, 2, ...: position in that order
  int thread;
  OpKind op;
  uint32_t obj;
  core::SrcLoc loc;
};

struct ExecResult {
  Failure failure;
  uint64_t steps = 0;
  uint64_t trace_hash = 0;
  int preemptions = 0;
  int threads = 0;
  int64_t end_time_ns = 0;
  std::vector<ChoiceRecord> choices;
  std::vector<TraceEvent> trace;        // if record_trace
  std::vector<std::string> thread_names;
  size_t peak_heap_bytes = 0;
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
};

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
  ExecResult Run(const std::function<void()>& body,
                 const std::function<std::string()>& pending = nullptr);

  // ---- for the simulated primitives and platform ---------------------------------------
  SimThread* current() const { return current_; }
  uint64_t serial() const { return serial_; }
  int64_t NowNs() const { return now_ns_; }
  const ExecOptions& options() const { return options_; }
  HeapTracker* heap() { return heap_.get(); }
  RaceDetector* races() { return races_.get(); }
  bool inspecting() const { return inspecting_ > 0; }

  // Gives `meta` an id if this execution has not seen it yet; checks liveness.
  void Touch(ObjMeta* meta, OpKind kind, core::SrcLoc loc) {
    if (__builtin_expect(meta->magic != kMetaLive, 0)) TouchDead(meta, kind, loc);
    if (meta->epoch != serial_) {
      meta->epoch = serial_;
      meta->id = next_obj_id_++;
      meta->race = nullptr;
    }
  }
  // A scheduling point before `kind` on object `obj`. Inline: inside a quantum (see
  // ChoiceRecord) a point costs a few instructions.
  void Point(OpKind kind, uint32_t obj, core::SrcLoc loc) {
    ThreadHot* cur = &current_->hot;
    if (__builtin_expect(++fast_.steps > options_.max_steps, 0)) StepBound();
    cur->pending = PendingOp{kind, obj};
    cur->points++;
    cur->choices_at_point = 0;
    HashStep((static_cast<uint64_t>(cur->id) << 32) | static_cast<uint64_t>(kind), obj);
    if (fast_.quantum_left > 0 && fast_.run_length < options_.fairness_steps) {
      fast_.quantum_left--;
      fast_.run_length++;
    } else {
      Reschedule(/*current_runnable=*/true);
    }
    // The trace lists operations in the order they take effect: after the switch.
    if (__builtin_expect(options_.record_trace, 0)) RecordTrace(kind, obj, loc);
  }
  // Blocks the current thread on `lists` (may be empty) until Wake or, if
  // deadline_ns >= 0, until virtual time reaches it. Returns why it woke.
  WakeReason Block(std::initializer_list<WaitList*> lists, int64_t deadline_ns,
                   const char* what, uint32_t obj, core::SrcLoc loc);
  WakeReason BlockOn(const std::vector<WaitList*>& lists, int64_t deadline_ns,
                     const char* what, uint32_t obj, core::SrcLoc loc, bool poll_forever);
  // Makes every thread on `list` runnable (they re-check their condition).
  void WakeAll(WaitList* list);
  // Makes the first thread on `list` runnable.
  void WakeOne(WaitList* list);
  // A recorded choice among n options (n >= 2).
  uint32_t Choose(ChoiceKind kind, uint32_t n);

  int Spawn(std::string name, std::function<void()> fn, bool detached);
  void Join(int id, core::SrcLoc loc);
  const std::string& ThreadName(int id) const { return threads_[id]->name; }
  int ThreadCount() const { return static_cast<int>(threads_.size()); }

  // One line per thread: its state and, if blocked, what it waits for.
  std::vector<std::string> DescribeThreads() const;
  // Records a failure and ends the execution. Never returns.
  [[noreturn]] void Fail(FailureKind kind, std::string message,
                         std::vector<std::string> details = {});
  // Describes a source location for reports: "file.cc:123 (function)".
  static std::string Where(core::SrcLoc loc);

 private:
  static void ThreadEntry(void* arg);
  [[noreturn]] void TouchDead(ObjMeta* meta, OpKind kind, core::SrcLoc loc);
  WakeReason BlockImpl(WaitList* const* lists, size_t n, int64_t deadline_ns,
                       const char* what, uint32_t obj, core::SrcLoc loc, bool poll_forever);
  // The only ways a thread's runnability changes: they keep runnable_ sorted and the
  // deadline count exact.
  void MakeRunnable(SimThread* t, WakeReason why);
  void MakeNotRunnable(SimThread* t);
  void Exit();
  // Picks the next thread to run (the current one may be among the candidates) and
  // switches to it; handles time jumps and stuck states.
  void Reschedule(bool current_runnable);
  void SwitchTo(SimThread* next);
  [[noreturn]] void EndExecution();
  void AdvanceTimeTo(int64_t t);
  bool NextDeadline(int64_t* t);
  void Unwait(SimThread* t);
  void Stuck();
  void HashStep(uint64_t a, uint64_t b) { fast_.trace_hash = HashWords(fast_.trace_hash, a, b); }
  void Locate(ChoicePoint* cp);
  [[noreturn]] void StepBound();
  void RecordTrace(OpKind kind, uint32_t obj, core::SrcLoc loc);

  ExecOptions options_;
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
  std::function<std::string()> pending_;

  std::unique_ptr<HeapTracker> heap_;
  std::unique_ptr<RaceDetector> races_;
  ExecResult result_;
  // Runnable thread ids, sorted; kept up to date by MakeRunnable / MakeNotRunnable.
  std::vector<int> runnable_;
  int deadlines_ = 0;              // blocked threads with a deadline
  bool deadline_cached_ = false;   // next_deadline_ is valid
  bool has_deadline_ = false;
  int64_t next_deadline_ = 0;
  // Scratch (no allocation per step).
  std::vector<int> choice_threads_;
  std::vector<PendingOp> runnable_ops_;
  WaitList waking_;
};

}  // namespace aiosim::sim

#endif  // AIOSIM_SIM_EXECUTION_H_
