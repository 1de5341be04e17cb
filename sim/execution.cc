// sim/execution.cc — see execution.h.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "sim/execution.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "sim/execution_inl.h"
#include "sim/heap.h"
#include "sim/race.h"
#include "sim/random_pct.h"
#include "sim/strategy.h"

namespace aiosim::sim {

constinit thread_local Execution* tls_execution = nullptr;
constinit thread_local FastState* tls_fast = nullptr;

namespace {

// How many choices to reserve for: the most that an execution on this OS thread made
// among the last 16 to 32 (two windows of 16; the older is dropped when the newer
// fills). Executions of one search vary by their quantum setting (the random walk
// cycles through four), and growing the vector in the middle of one costs a copy; a
// long execution (another program, another benchmark) stops counting 32 later.
struct ChoicesHint {
  size_t window_max[2] = {256, 256};
  uint32_t in_window = 0;
  size_t Get() const { return std::max(window_max[0], window_max[1]); }
  void Note(size_t used) {
    window_max[1] = std::max(window_max[1], std::min(used, size_t{1} << 20));
    if (++in_window == 16) {
      window_max[0] = window_max[1];
      window_max[1] = 256;
      in_window = 0;
    }
  }
};
thread_local ChoicesHint choices_hint;

// The vectors an execution needs only while it lives, kept between the executions of
// an OS thread so that their capacity is reused (an execution would otherwise grow
// each of them from nothing: a dozen allocations of the ~25 an execution of three
// threads made). An execution takes them in its constructor, empty, and gives them
// back, emptied, in its destructor; an execution made while another lives on the
// same thread finds them taken and starts from empty vectors, as before.
struct Spares {
  std::vector<std::unique_ptr<SimThread>> threads;
  std::vector<int> runnable;
  std::vector<uint8_t> benched;
  std::vector<Option> sched_options;
  std::vector<int> candidates;
  std::vector<Option> options_scratch;
  std::vector<PendingOp> ops_scratch;
  WaitList waking;
  std::vector<SimThread*> due;
  std::unique_ptr<RaceDetector> races;  // Reset
  std::unique_ptr<HeapTracker> heap;    // Reset
  // Threads of finished executions, recycled (SimThread::Recycle): a new SimThread
  // per thread per execution was an allocation, and its wait lists grew again.
  std::vector<std::unique_ptr<SimThread>> free_threads;
};
thread_local Spares spares;

}  // namespace

Execution::Execution(const ExecOptions& options, Strategy* strategy, StackPool* stacks,
                     uint64_t serial)
    : options_(options),
      strategy_(strategy),
      stacks_(stacks),
      serial_(serial),
      heap_(spares.heap != nullptr ? std::move(spares.heap)
                                   : std::make_unique<HeapTracker>()) {
  if (options_.race_detection) {
    races_ = spares.races != nullptr ? std::move(spares.races)
                                     : std::make_unique<RaceDetector>();
  }
  fast_.trace_hash = 1469598103934665603ull;  // FNV-1a offset basis
  fast_.serial = serial;
  fast_.max_steps = options_.max_steps;
  fast_.fairness_steps = options_.fairness_steps;
  fast_.fast_ok = !options_.race_detection && !options_.record_trace;
  fast_.point_inline = !options_.record_trace;
  fast_.races_on = options_.race_detection;
  fast_.record_values = options_.record_trace;
  // Reserve what the last execution on this OS thread needed: long executions would
  // otherwise pay for doubling (and page faults) every time.
  result_.choices.reserve(choices_hint.Get());
  record_deviations_ = options_.record_deviations || options_.record_trace;
  ExchangeSpares();
  options_scratch_.reserve(16);
  wants_ops_ = strategy_->wants_ops();
  random_ = dynamic_cast<RandomStrategy*>(strategy_);
  sched_cp_.kind = ChoiceKind::kSchedule;
}

// At most this many threads wait in Spares::free_threads (the rest are destroyed).
constexpr size_t kFreeThreadsMax = 64;

void SimThread::Recycle() {
  id = 0;
  name.clear();
  state = ThreadState::kRunnable;
  detached = false;
  fn = nullptr;
  hot = ThreadHot();
  waiting_on.clear();
  deadline_ns = -1;
  deadline_seq = 0;
  wake = WakeReason::kNone;
  blocked_what = nullptr;
  blocked_obj = 0;
  blocked_loc = core::SrcLoc::current();
  in_poll_forever = false;
  joiners.clear();
  exec = nullptr;
  tls.clear();
}

Execution::~Execution() {
  for (auto& t : threads_) {
    if (t->fiber.stack().base != nullptr) stacks_->Put(t->fiber.stack());
  }
  // Pushed from the last id down, so the next execution's thread i gets this one's
  // thread i (which object a thread gets changes nothing it does).
  for (size_t i = threads_.size(); i-- > 0;) {
    if (spares.free_threads.size() >= kFreeThreadsMax) break;
    threads_[i]->Recycle();
    spares.free_threads.push_back(std::move(threads_[i]));
  }
  ExchangeSpares();  // destroys the threads not recycled
  if (races_ != nullptr && spares.races == nullptr) {
    races_->Reset();
    spares.races = std::move(races_);
  }
  if (spares.heap == nullptr) {
    heap_->Reset();
    spares.heap = std::move(heap_);
  }
}

void Execution::ExchangeSpares() {
  // Empties each vector, then swaps it with its spare: in the constructor the
  // execution gets the spare's capacity, in the destructor the spare gets it back.
  auto exchange = [](auto* mine, auto* spare) {
    mine->clear();
    mine->swap(*spare);
  };
  exchange(&threads_, &spares.threads);
  exchange(&runnable_, &spares.runnable);
  exchange(&benched_, &spares.benched);
  exchange(&sched_options_, &spares.sched_options);
  exchange(&candidates_, &spares.candidates);
  exchange(&options_scratch_, &spares.options_scratch);
  exchange(&ops_scratch_, &spares.ops_scratch);
  exchange(&waking_, &spares.waking);
  exchange(&due_, &spares.due);
}

ExecResult Execution::Run(const std::function<void()>& body,
                          const std::function<std::string()>& pending) {
  pending_ = pending;
  Execution* saved = tls_execution;
  FastState* saved_fast = tls_fast;
  tls_execution = this;
  tls_fast = &fast_;
  os_fiber_.MakeMain();
  Spawn("main", body, /*detached=*/false);
  current_ = threads_[0].get();
  fast_.cur = &current_->hot;
  os_fiber_.SwitchTo(&current_->fiber);
  // Back here once the execution ended (all threads finished, or a failure).
  tls_execution = saved;
  tls_fast = saved_fast;
  result_.steps = fast_.steps;
  result_.trace_hash = fast_.trace_hash;

  if (result_.failure.kind == FailureKind::kNone && options_.detect_leaks) {
    std::vector<std::string> leaks = heap_->LiveBlocks();
    if (!leaks.empty()) {
      result_.failure.kind = FailureKind::kLeak;
      result_.failure.message = absl::StrFormat(
          "%d tracked object(s) still allocated after every thread finished",
          static_cast<int>(leaks.size()));
      result_.failure.where = absl::StrJoin(leaks, "; ");
      result_.failure.details = std::move(leaks);
      result_.failure.step = fast_.steps;
    }
  }
  choices_hint.Note(result_.choices.size());
  result_.peak_heap_bytes = heap_->peak_bytes();
  heap_->ReleaseAll();
  result_.threads = ThreadCount();
  result_.end_time_ns = now_ns_;
  result_.thread_names.reserve(threads_.size());
  for (auto& t : threads_) result_.thread_names.push_back(t->name);
  if (options_.record_trace) {
    obj_names_.resize(next_obj_id_);
    result_.object_names = std::move(obj_names_);
  }
  return std::move(result_);
}

int Execution::Spawn(std::string name, std::function<void()> fn, bool detached) {
  std::unique_ptr<SimThread> t;
  if (!spares.free_threads.empty()) {
    t = std::move(spares.free_threads.back());
    spares.free_threads.pop_back();
  } else {
    t = std::make_unique<SimThread>();
  }
  t->id = ThreadCount();
  t->hot.id = t->id;
  t->name = std::move(name);
  t->detached = detached;
  t->fn = std::move(fn);
  t->exec = this;
  t->fiber.Make(stacks_->Get(), &Execution::ThreadEntry, t.get());
  if (races_ != nullptr) races_->OnSpawn(current_ != nullptr ? current_->id : -1, t->id);
  HashStep(0xFFFF0000u | static_cast<uint32_t>(t->id), 0);
  live_threads_++;
  runnable_.push_back(t->id);  // the largest id: stays sorted
  fast_.solo = false;
  sched_version_++;
  benched_.push_back(0);
  threads_.push_back(std::move(t));
  return ThreadCount() - 1;
}

void Execution::ThreadEntry(void* arg) {
  auto* t = static_cast<SimThread*>(arg);
  std::string error;
  try {
    t->fn();
  } catch (...) {
    // Describe it here, but fail outside the handler: the fiber is abandoned, and a
    // handler left active would stay on the OS thread's caught-exception stack.
    error = DescribeException(std::current_exception());
  }
  if (!error.empty()) {
    std::string where =
        absl::StrCat("uncaught exception in thread ", t->name, ": ", error);
    t->exec->Fail(
        FailureKind::kAssertion,
        absl::StrCat("uncaught exception in thread ", t->id, " (", t->name, "): ", error),
        {}, std::move(where));
  }
  t->exec->Exit();
}

void Execution::Exit() {
  SimThread* t = current_;
  Point(OpKind::kExit, 0, core::SrcLoc::current());
  MakeNotRunnable(t);
  t->state = ThreadState::kFinished;
  t->fn = nullptr;
  live_threads_--;
  WakeAll(&t->joiners);
  if (live_threads_ == 0) {
    EndExecution();
  }
  RescheduleBlocked();
  std::fprintf(stderr, "aiosim: a finished thread was resumed\n");
  std::abort();
}

void Execution::EndExecution() {  // never returns
  SimThread* from = current_;
  current_ = nullptr;
  from->fiber.SwitchTo(&os_fiber_, /*finishing=*/true);
  std::fprintf(stderr, "aiosim: an ended execution was resumed\n");
  std::abort();
}

void Execution::Fail(FailureKind kind, std::string message,
                     std::vector<std::string> details, std::string where) {
  if (result_.failure.kind == FailureKind::kNone) {
    result_.failure.kind = kind;
    result_.failure.message = std::move(message);
    result_.failure.details = std::move(details);
    result_.failure.where = std::move(where);
    result_.failure.thread = current_ != nullptr ? current_->id : -1;
    result_.failure.step = fast_.steps;
  }
  EndExecution();
}

namespace {
// The name a known-race entry gives the function of `loc`: the modern core's
// functions (core/aio/modern/) as "modern::NAME", as ThreadSanitizer's frames show
// them (docs/tsan-known-races.txt), everything else by its bare name.
// Written into *out, whose capacity is kept (SuppressRace's are thread_local): the
// check runs at every race the detector finds, suppressed or not.
void KnownRaceName(const core::SrcLoc& loc, std::string* out) {
  out->clear();
  if (std::string_view(loc.file_name()).find("core/aio/modern/") !=
      std::string_view::npos) {
    out->append("modern::");
  }
  out->append(loc.function_name());
}
}  // namespace

bool Execution::SuppressRace(const core::SrcLoc& a, const core::SrcLoc& b) {
  const KnownRaces* known = GetKnownRaces();
  if (known == nullptr || options_.report_known_races) return false;
  thread_local std::string name_a;
  thread_local std::string name_b;
  KnownRaceName(a, &name_a);
  KnownRaceName(b, &name_b);
  const KnownRaces::Group* g = known->Match(name_a, name_b);
  if (g == nullptr) return false;
  for (auto& [id, count] : result_.suppressed_races) {
    if (id == g->id) {
      count++;
      return true;
    }
  }
  result_.suppressed_races.emplace_back(g->id, 1);
  std::sort(result_.suppressed_races.begin(), result_.suppressed_races.end());
  return true;
}

void Execution::TouchDead(ObjMeta* meta, OpKind kind, core::SrcLoc loc) {
  std::string freed = heap_->DescribeAddress(meta);
  Fail(FailureKind::kUseAfterFree,
       absl::StrCat(OpKindName(kind), " of a destroyed object at ", Where(loc)),
       {absl::StrCat("access: thread ", current_->id, " (", current_->name, ") ",
                     OpKindName(kind), " at ", Where(loc)),
        freed.empty() ? std::string("the object was destroyed (not a tracked block)")
                      : freed},
       Where(loc));
}

void Execution::StepBound() {
  Fail(
      FailureKind::kStepBound,
      absl::StrFormat("more than %d scheduling points (a livelock, or raise --max-steps)",
                      static_cast<int>(options_.max_steps)));
}

void Execution::RecordOp(OpKind kind, uint32_t obj, core::SrcLoc loc) {
  TraceEvent e;
  e.kind = TraceKind::kOp;
  e.step = ++trace_ops_;
  e.thread = current_->id;
  e.op = kind;
  e.obj = obj;
  e.loc = loc;
  result_.trace.push_back(e);
}

void Execution::NameObject(const ObjMeta* meta, const char* name) {
  if (!options_.record_trace || name == nullptr) return;
  if (meta->magic == kMetaLive && meta->epoch == serial_) {
    if (obj_names_.size() <= meta->id) obj_names_.resize(meta->id + 1);
    obj_names_[meta->id] = name;
  } else {
    pending_names_[meta] = name;
  }
}

void Execution::AdoptName(const ObjMeta* meta) {
  auto it = pending_names_.find(meta);
  if (it == pending_names_.end()) return;
  if (obj_names_.size() <= meta->id) obj_names_.resize(meta->id + 1);
  obj_names_[meta->id] = std::move(it->second);
  pending_names_.erase(it);
}

void Execution::RecordValue(uint64_t before, uint64_t after, uint8_t flags) {
  if (!options_.record_trace || result_.trace.empty()) return;
  TraceEvent& e = result_.trace.back();
  if (e.kind != TraceKind::kOp) return;
  e.has_value = true;
  e.value_flags = flags;
  e.before = before;
  e.after = after;
}

void Execution::RecordEvent(TraceEvent e) {
  if (!options_.record_trace) return;
  e.step = trace_ops_;
  result_.trace.push_back(e);
}

void Execution::Locate(ChoiceLocation* at) {
  at->step = fast_.steps;
  at->fingerprint = static_cast<uint16_t>(fast_.trace_hash);
  if (current_ == nullptr) return;
  at->thread = current_->id;
  at->points = current_->hot.points;
  at->sub = current_->hot.choices_at_point++;
}

uint32_t Execution::Decide(ChoicePoint* cp, uint32_t* quantum) {
  return DecideImpl<DecideFor::kAny, false>(cp, quantum);
}

uint32_t Execution::DecideWaiter(ChoicePoint* cp) {
  LocateFor(&cp->at);
  uint32_t quantum = 0;
  return DecideImpl<DecideFor::kWaiter, false>(cp, &quantum);
}

void Execution::Diverged(const ChoicePoint& cp, Decision d) {
  std::string why = strategy_->Divergence();
  Fail(FailureKind::kReplayDiverged,
       why.empty() ? absl::StrFormat("the strategy chose option %d of %d at step %d",
                                     d.option, cp.n, cp.at.step)
                   : why);
}

void Execution::NoteDecision(const ChoicePoint& cp, uint32_t option, int cost) {
  const Option& chosen = cp.options[option];
  if (option != DefaultChoice(cp)) {
    result_.deviations.push_back(Deviation{cp.at, cp.kind, chosen});
  }
  if (options_.record_trace) {
    TraceEvent e;
    e.kind = TraceKind::kChoice;
    e.choice = cp.kind;
    e.thread = chosen.kind == OptionKind::kThread  ? static_cast<int>(chosen.arg)
               : chosen.kind == OptionKind::kValue ? static_cast<int>(chosen.arg)
                                                   : -1;
    e.from = cp.at.thread;
    e.preemption = cost > 0;
    RecordEvent(e);
  }
}

uint32_t Execution::ChooseValue(ChoiceKind kind, uint32_t n) {
  options_scratch_.clear();
  for (uint32_t v = 0; v < n; v++) options_scratch_.push_back(Option::Value(v));
  ChoicePoint cp;
  cp.kind = kind;
  cp.n = n;
  cp.options = options_scratch_.data();
  Locate(&cp.at);
  uint32_t quantum = 0;
  const uint32_t v = Decide(&cp, &quantum);
  HashStep(0xC0000000u | v, n);
  return v;
}

const std::vector<int>& Execution::Candidates() {
  if (benched_count_ == 0) return runnable_;
  candidates_.clear();
  for (int id : runnable_) {
    if (!benched_[id]) candidates_.push_back(id);
  }
  if (!candidates_.empty() || runnable_.empty()) return candidates_;
  // Every runnable thread is benched: clear the bench, except for the thread just
  // switched away from if another can run (it would otherwise be offered again).
  const int keep = runnable_.size() > 1 && current_ != nullptr &&
                           current_->state == ThreadState::kRunnable &&
                           fast_.run_length > options_.fairness_steps
                       ? current_->id
                       : -1;
  for (size_t id = 0; id < benched_.size(); id++) {
    benched_[id] = static_cast<int>(id) == keep ? 1 : 0;
  }
  benched_count_ = keep >= 0 ? 1 : 0;
  sched_version_++;
  for (int id : runnable_) {
    if (!benched_[id]) candidates_.push_back(id);
  }
  return candidates_;
}

void Execution::SlowPoint(OpKind kind, uint32_t obj, core::SrcLoc loc) {
  SlowPointBody(kind, obj, loc);
}

void Execution::PointAfterInlineThenTouch(ObjMeta* meta, OpKind kind, core::SrcLoc loc) {
  SlowPointBody(kind, meta->id, loc);
  Touch(meta, kind, loc);
}

void Execution::Reschedule(bool current_runnable) {
  SimThread* cur = current_;
  if (current_runnable) {
    if (++fast_.run_length > options_.fairness_steps && runnable_.size() > 1) {
      // Fairness: a fair OS would have preempted this thread long ago.
      if (!benched_[cur->id]) {
        benched_[cur->id] = 1;
        benched_count_++;
        sched_version_++;
      }
      HashStep(0xFA000000u, static_cast<uint64_t>(cur->id));
      if (__builtin_expect(options_.record_trace, 0)) {
        TraceEvent e;
        e.kind = TraceKind::kForcedSwitch;
        e.thread = cur->id;
        RecordEvent(e);
      }
    } else if (fast_.quantum_left > 0) {
      fast_.quantum_left--;  // inside a quantum the current thread goes on
      return;
    }
  }
  fast_.quantum_left = 0;
  fast_.solo = false;
  for (;;) {
    const std::vector<int>& candidates = Candidates();
    int64_t deadline = 0;
    const bool has_deadline = NextDeadline(&deadline);
    if (candidates.empty()) {
      if (!has_deadline) Stuck();
      AdvanceTimeTo(deadline);
      current_runnable = false;
      continue;
    }
    const bool can_advance = has_deadline && time_advances_ < options_.time_advances_max;
    const uint32_t count = static_cast<uint32_t>(candidates.size());
    const uint32_t n = count + (can_advance ? 1 : 0);
    uint32_t pick = 0;
    uint32_t quantum = 0;
    if (n > 1) {
      ScheduleOptions(candidates, can_advance);
      // The current thread is a candidate iff it can run and is not benched (the
      // candidates are the runnable threads that are not benched).
      const bool offered_current = current_runnable && !benched_[cur->id];
      ChoicePoint& cp = sched_cp_;
      cp.n = n;
      cp.options = sched_options_.data();
      if (wants_ops_) {
        ops_scratch_.clear();
        for (int id : candidates) ops_scratch_.push_back(threads_[id]->hot.pending);
        cp.ops = ops_scratch_.data();
      }
      cp.current = offered_current ? cur->id : -1;
      Locate(&cp.at);
      pick = Decide(&cp, &quantum);
    }
    if (can_advance && pick == n - 1) {
      time_advances_++;
      AdvanceTimeTo(deadline);
      continue;  // choose again, now with the woken threads
    }
    SimThread* next = threads_[candidates[pick]].get();
    fast_.quantum_left = quantum;
    // Alone and no time jump to offer: the next points have nothing to choose either,
    // until a thread becomes runnable (MakeRunnable, Spawn clear it).
    fast_.solo = n == 1 && runnable_.size() == 1;
    if (next != cur) {
      fast_.run_length = 0;
      SwitchTo(next);
    }
    return;
  }
}

}  // namespace aiosim::sim
