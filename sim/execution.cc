// sim/execution.cc — see execution.h.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "sim/execution.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sim/heap.h"
#include "sim/race.h"
#include "sim/strategy.h"

namespace aiosim::sim {

thread_local Execution* tls_execution = nullptr;

const char* FailureKindName(FailureKind kind) {
  switch (kind) {
    case FailureKind::kNone: return "none";
    case FailureKind::kAssertion: return "assertion";
    case FailureKind::kDeadlock: return "deadlock";
    case FailureKind::kLostWakeup: return "lost-wakeup";
    case FailureKind::kStepBound: return "step-bound";
    case FailureKind::kDataRace: return "data-race";
    case FailureKind::kUseAfterFree: return "use-after-free";
    case FailureKind::kDoubleFree: return "double-free";
    case FailureKind::kLeak: return "leak";
    case FailureKind::kReplayDiverged: return "replay-diverged";
  }
  return "invalid";
}

FailureKind FailureKindFromName(const std::string& name) {
  for (int k = 0; k <= static_cast<int>(FailureKind::kReplayDiverged); k++) {
    if (name == FailureKindName(static_cast<FailureKind>(k))) {
      return static_cast<FailureKind>(k);
    }
  }
  return FailureKind::kNone;
}

const char* OpKindName(OpKind kind) {
  switch (kind) {
    case OpKind::kLoad: return "load";
    case OpKind::kStore: return "store";
    case OpKind::kRmw: return "rmw";
    case OpKind::kPlainLoad: return "plain-load";
    case OpKind::kPlainStore: return "plain-store";
    case OpKind::kFence: return "fence";
    case OpKind::kLock: return "lock";
    case OpKind::kUnlock: return "unlock";
    case OpKind::kSemPost: return "sem-post";
    case OpKind::kSemWait: return "sem-wait";
    case OpKind::kCondWait: return "cond-wait";
    case OpKind::kCondSignal: return "cond-signal";
    case OpKind::kEventSet: return "event-set";
    case OpKind::kEventReset: return "event-reset";
    case OpKind::kEventWait: return "event-wait";
    case OpKind::kSpawn: return "spawn";
    case OpKind::kJoin: return "join";
    case OpKind::kExit: return "exit";
    case OpKind::kPoll: return "poll";
    case OpKind::kFdSet: return "fd-set";
    case OpKind::kFdClear: return "fd-clear";
    case OpKind::kSleep: return "sleep";
    case OpKind::kYield: return "yield";
    case OpKind::kFree: return "free";
  }
  return "invalid";
}

std::string Execution::Where(core::SrcLoc loc) {
  const char* file = loc.file_name();
  // Paths relative to the project: keep what follows the last "/core/", "/sim/", ...
  for (const char* dir : {"/core/", "/sim/", "/scenarios/", "/tools/", "/bench/", "/properties/"}) {
    const char* p = std::strstr(file, dir);
    if (p != nullptr) {
      file = p + 1;
      break;
    }
  }
  return absl::StrFormat("%s:%u (%s)", file, loc.line(), loc.function_name());
}

Execution::Execution(const ExecOptions& options, Strategy* strategy, StackPool* stacks,
                     uint64_t serial)
    : options_(options),
      strategy_(strategy),
      stacks_(stacks),
      serial_(serial),
      heap_(std::make_unique<HeapTracker>()) {
  if (options_.race_detection) races_ = std::make_unique<RaceDetector>();
  result_.trace_hash = 1469598103934665603ull;  // FNV-1a offset basis
  result_.choices.reserve(1024);
}

Execution::~Execution() {
  for (auto& t : threads_) {
    if (t->fiber.stack().base != nullptr) stacks_->Put(t->fiber.stack());
  }
}

void Execution::HashStep(uint64_t a, uint64_t b) {
  // FNV-1a over 64-bit words (not bytes): two multiplies per step.
  uint64_t h = result_.trace_hash;
  h = (h ^ a) * 1099511628211ull;
  h = (h ^ b) * 1099511628211ull;
  result_.trace_hash = h ^ (h >> 29);
}

ExecResult Execution::Run(const std::function<void()>& body,
                          const std::function<std::string()>& pending) {
  pending_ = pending;
  Execution* saved = tls_execution;
  tls_execution = this;
  os_fiber_.MakeMain();
  Spawn("main", body, /*detached=*/false);
  current_ = threads_[0].get();
  os_fiber_.SwitchTo(&current_->fiber);
  // Back here once the execution ended (all threads finished, or a failure).
  tls_execution = saved;

  if (result_.failure.kind == FailureKind::kNone && options_.detect_leaks) {
    std::vector<std::string> leaks = heap_->LiveBlocks();
    if (!leaks.empty()) {
      result_.failure.kind = FailureKind::kLeak;
      result_.failure.message =
          absl::StrFormat("%d tracked object(s) still allocated after every thread finished",
                          static_cast<int>(leaks.size()));
      result_.failure.details = std::move(leaks);
      result_.failure.step = result_.steps;
    }
  }
  result_.peak_heap_bytes = heap_->peak_bytes();
  heap_->ReleaseAll();
  result_.threads = ThreadCount();
  result_.end_time_ns = now_ns_;
  for (auto& t : threads_) result_.thread_names.push_back(t->name);
  return std::move(result_);
}

int Execution::Spawn(std::string name, std::function<void()> fn, bool detached) {
  auto t = std::make_unique<SimThread>();
  t->id = ThreadCount();
  t->name = std::move(name);
  t->detached = detached;
  t->fn = std::move(fn);
  t->exec = this;
  t->fiber.Make(stacks_->Get(), &Execution::ThreadEntry, t.get());
  if (races_ != nullptr) races_->OnSpawn(current_ != nullptr ? current_->id : -1, t->id);
  HashStep(0xFFFF0000u | static_cast<uint32_t>(t->id), 0);
  live_threads_++;
  threads_.push_back(std::move(t));
  return ThreadCount() - 1;
}

void Execution::ThreadEntry(void* arg) {
  auto* t = static_cast<SimThread*>(arg);
  t->fn();
  t->exec->Exit();
}

void Execution::Exit() {
  SimThread* t = current_;
  Point(OpKind::kExit, 0, core::SrcLoc::current());
  t->state = ThreadState::kFinished;
  t->fn = nullptr;
  live_threads_--;
  WakeAll(&t->joiners);
  if (live_threads_ == 0) {
    EndExecution();
  }
  Reschedule(/*current_runnable=*/false);
  std::fprintf(stderr, "aiosim: a finished thread was resumed\n");
  std::abort();
}

void Execution::EndExecution() {  // never returns
  ended_ = true;
  SimThread* from = current_;
  current_ = nullptr;
  from->fiber.SwitchTo(&os_fiber_, /*finishing=*/true);
  std::fprintf(stderr, "aiosim: an ended execution was resumed\n");
  std::abort();
}

void Execution::Fail(FailureKind kind, std::string message, std::vector<std::string> details) {
  if (result_.failure.kind == FailureKind::kNone) {
    result_.failure.kind = kind;
    result_.failure.message = std::move(message);
    result_.failure.details = std::move(details);
    result_.failure.thread = current_ != nullptr ? current_->id : -1;
    result_.failure.step = result_.steps;
  }
  EndExecution();
}

void Execution::Touch(ObjMeta* meta, OpKind kind, core::SrcLoc loc) {
  if (meta->magic != kMetaLive) {
    std::string freed = heap_->DescribeAddress(meta);
    Fail(FailureKind::kUseAfterFree,
         absl::StrCat(OpKindName(kind), " of a destroyed object at ", Where(loc)),
         {absl::StrCat("access: thread ", current_->id, " (", current_->name, ") ",
                       OpKindName(kind), " at ", Where(loc)),
          freed.empty() ? std::string("the object was destroyed (not a tracked block)")
                        : freed});
  }
  if (meta->epoch != serial_) {
    meta->epoch = serial_;
    meta->id = next_obj_id_++;
    meta->race = nullptr;
  }
}

void Execution::Point(OpKind kind, uint32_t obj, core::SrcLoc loc) {
  SimThread* cur = current_;
  if (++result_.steps > options_.max_steps) {
    Fail(FailureKind::kStepBound,
         absl::StrFormat("more than %d scheduling points (a livelock, or raise --max-steps)",
                         static_cast<int>(options_.max_steps)));
  }
  cur->pending = PendingOp{kind, obj};
  cur->points++;
  cur->choices_at_point = 0;
  HashStep((static_cast<uint64_t>(cur->id) << 32) | static_cast<uint64_t>(kind), obj);
  if (options_.record_trace) {
    result_.trace.push_back(TraceEvent{result_.steps, cur->id, kind, obj, loc});
  }
  Reschedule(/*current_runnable=*/true);
}

void Execution::Locate(ChoicePoint* cp) {
  if (current_ == nullptr) return;
  cp->running = current_->id;
  cp->running_points = current_->points;
  cp->sub = current_->choices_at_point++;
}

uint32_t Execution::Choose(ChoiceKind kind, uint32_t n) {
  ChoicePoint cp;
  cp.kind = kind;
  cp.n = n;
  cp.step = result_.steps;
  Locate(&cp);
  uint32_t v = strategy_->Choose(cp);
  if (v >= n) {
    Fail(FailureKind::kReplayDiverged,
         absl::StrFormat("choice %d of %d options is out of range (the recorded schedule "
                         "does not fit this program)", v, n));
  }
  result_.choices.push_back(ChoiceRecord{v, n, kind});
  HashStep(0xC0000000u | v, n);
  return v;
}

bool Execution::NextDeadline(int64_t* t) const {
  bool any = false;
  int64_t best = 0;
  for (const auto& th : threads_) {
    if (th->state == ThreadState::kBlocked && th->deadline_ns >= 0 &&
        (!any || th->deadline_ns < best)) {
      best = th->deadline_ns;
      any = true;
    }
  }
  *t = best;
  return any;
}

void Execution::AdvanceTimeTo(int64_t t) {
  if (t > now_ns_) now_ns_ = t;
  HashStep(0xA0000000u, static_cast<uint64_t>(now_ns_));
  // Wake, in (deadline, sequence) order, every thread whose deadline has come.
  std::vector<SimThread*> due;
  for (auto& th : threads_) {
    if (th->state == ThreadState::kBlocked && th->deadline_ns >= 0 && th->deadline_ns <= now_ns_) {
      due.push_back(th.get());
    }
  }
  std::sort(due.begin(), due.end(), [](const SimThread* a, const SimThread* b) {
    return a->deadline_ns != b->deadline_ns ? a->deadline_ns < b->deadline_ns
                                            : a->deadline_seq < b->deadline_seq;
  });
  for (SimThread* th : due) {
    Unwait(th);
    th->wake = WakeReason::kTimeout;
    th->state = ThreadState::kRunnable;
  }
}

void Execution::Reschedule(bool current_runnable) {
  // Fairness: after a long run, the current thread yields to the others.
  bool exclude_current = false;
  if (current_runnable && ++run_length_ > options_.fairness_steps) {
    for (auto& th : threads_) {
      if (th.get() != current_ && th->state == ThreadState::kRunnable) exclude_current = true;
    }
  }
  for (;;) {
    runnable_.clear();
    runnable_ops_.clear();
    for (auto& th : threads_) {
      if (th->state == ThreadState::kRunnable && !(exclude_current && th.get() == current_)) {
        runnable_.push_back(th->id);
        runnable_ops_.push_back(th->pending);
      }
    }
    if (exclude_current) {
      current_runnable = false;  // a forced switch, not a strategy's preemption
      exclude_current = false;
      HashStep(0xFA000000u, static_cast<uint64_t>(current_->id));
    }
    int64_t deadline = 0;
    const bool has_deadline = NextDeadline(&deadline);
    if (runnable_.empty()) {
      if (!has_deadline) Stuck();
      AdvanceTimeTo(deadline);
      current_runnable = false;
      continue;
    }
    const bool can_advance = has_deadline && time_advances_ < options_.time_advances_max;
    const uint32_t n = static_cast<uint32_t>(runnable_.size()) + (can_advance ? 1 : 0);
    uint32_t pick = 0;
    if (n > 1) {
      ChoicePoint cp;
      cp.kind = ChoiceKind::kSchedule;
      cp.n = n;
      cp.threads = runnable_.data();
      cp.ops = runnable_ops_.data();
      cp.current = current_runnable ? current_->id : -1;
      cp.time_advance = can_advance;
      cp.step = result_.steps;
      Locate(&cp);
      pick = strategy_->Choose(cp);
      if (pick >= n) {
        Fail(FailureKind::kReplayDiverged,
             absl::StrFormat("schedule choice %d of %d options is out of range (the "
                             "recorded schedule does not fit this program)", pick, n));
      }
      result_.choices.push_back(ChoiceRecord{pick, n, ChoiceKind::kSchedule});
    }
    if (can_advance && pick == n - 1) {
      time_advances_++;
      AdvanceTimeTo(deadline);
      continue;  // choose again, now with the woken threads
    }
    SimThread* next = threads_[runnable_[pick]].get();
    if (current_runnable && next != current_) result_.preemptions++;
    if (next != current_) {
      run_length_ = 0;
      SwitchTo(next);
    }
    return;
  }
}

void Execution::SwitchTo(SimThread* next) {
  SimThread* from = current_;
  current_ = next;
  from->fiber.SwitchTo(&next->fiber, from->state == ThreadState::kFinished);
  // Resumed: whoever switched to us set current_ = us.
}

WakeReason Execution::Block(std::initializer_list<WaitList*> lists, int64_t deadline_ns,
                            const char* what, uint32_t obj, core::SrcLoc loc) {
  std::vector<WaitList*> v(lists);
  return BlockOn(v, deadline_ns, what, obj, loc, false);
}

WakeReason Execution::BlockOn(const std::vector<WaitList*>& lists, int64_t deadline_ns,
                              const char* what, uint32_t obj, core::SrcLoc loc,
                              bool poll_forever) {
  SimThread* t = current_;
  t->state = ThreadState::kBlocked;
  t->wake = WakeReason::kNone;
  t->waiting_on = lists;
  for (WaitList* l : lists) l->push_back(t);
  t->deadline_ns = deadline_ns;
  t->deadline_seq = deadline_seq_++;
  t->blocked_what = what;
  t->blocked_obj = obj;
  t->blocked_loc = loc;
  t->in_poll_forever = poll_forever;
  t->pending = PendingOp{OpKind::kYield, obj};
  Reschedule(/*current_runnable=*/false);
  t->in_poll_forever = false;
  t->deadline_ns = -1;
  return t->wake;
}

void Execution::Unwait(SimThread* t) {
  for (WaitList* l : t->waiting_on) {
    auto it = std::find(l->begin(), l->end(), t);
    if (it != l->end()) l->erase(it);
  }
  t->waiting_on.clear();
}

void Execution::WakeAll(WaitList* list) {
  WaitList waking;
  waking.swap(*list);
  for (SimThread* t : waking) {
    if (t->state != ThreadState::kBlocked) continue;
    Unwait(t);
    t->wake = WakeReason::kSignaled;
    t->state = ThreadState::kRunnable;
  }
}

void Execution::WakeOne(WaitList* list) {
  while (!list->empty()) {
    SimThread* t = list->front();
    Unwait(t);  // also removes it from `list`
    if (t->state != ThreadState::kBlocked) continue;
    t->wake = WakeReason::kSignaled;
    t->state = ThreadState::kRunnable;
    return;
  }
}

std::vector<std::string> Execution::DescribeThreads() const {
  std::vector<std::string> out;
  for (const auto& th : threads_) {
    const char* state = th->state == ThreadState::kRunnable  ? "runnable"
                        : th->state == ThreadState::kBlocked ? "blocked"
                                                             : "finished";
    std::string line = absl::StrFormat("thread %d (%s) %s", th->id, th->name, state);
    if (th->state == ThreadState::kBlocked) {
      absl::StrAppendFormat(&line, " in %s (object #%d) at %s", th->blocked_what,
                            th->blocked_obj, Where(th->blocked_loc));
      if (th->deadline_ns >= 0) {
        absl::StrAppendFormat(&line, ", until %.3f ms", (th->deadline_ns - kStartNs) / 1e6);
      }
    }
    out.push_back(line);
  }
  return out;
}

void Execution::Stuck() {
  std::vector<std::string> waits;
  bool sleeping_poller = false;
  for (auto& th : threads_) {
    if (th->state != ThreadState::kBlocked) continue;
    sleeping_poller |= th->in_poll_forever;
    waits.push_back(absl::StrFormat("thread %d (%s) waits in %s (object #%d) at %s", th->id,
                                    th->name, th->blocked_what ? th->blocked_what : "?",
                                    th->blocked_obj, Where(th->blocked_loc)));
  }
  std::string pending;
  if (sleeping_poller && pending_) {
    inspecting_++;
    pending = pending_();
    inspecting_--;
  }
  if (!pending.empty()) {
    std::string message =
        absl::StrCat("lost wakeup: a thread sleeps in poll with no timeout while ", pending);
    waits.insert(waits.begin(), absl::StrCat("pending: ", pending));
    Fail(FailureKind::kLostWakeup, std::move(message), std::move(waits));
  }
  std::string message =
      absl::StrFormat("deadlock: no thread can run and no deadline is pending (%d blocked)",
                      static_cast<int>(waits.size()));
  Fail(FailureKind::kDeadlock, std::move(message), std::move(waits));
}

void Execution::Join(int id, core::SrcLoc loc) {
  SimThread* target = threads_[id].get();
  Point(OpKind::kJoin, 0, loc);
  while (target->state != ThreadState::kFinished) {
    Block({&target->joiners}, -1, "join", 0, loc);
  }
  if (races_ != nullptr) races_->OnJoin(current_->id, id);
}

}  // namespace aiosim::sim
