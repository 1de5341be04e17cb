// sim/execution_inl.h — the schedule choice's hot path, inline: included by the
// files that make choices (sim/execution.cc's scheduling point, sim/blocking.cc's
// blocking), so that each inlines it. Internal to the simulator.
// SPDX-License-Identifier: GPL-2.0-or-later
#ifndef AIOSIM_SIM_EXECUTION_INL_H_
#define AIOSIM_SIM_EXECUTION_INL_H_

#include <algorithm>
#include <cstdint>
#include <vector>

#include "sim/choice.h"
#include "sim/execution.h"
#include "sim/random_pct.h"
#include "sim/strategy.h"

namespace aiosim::sim {

// Locate for a choice that DecideImpl<kThreads or kWaiter> answers: with the random
// walk inline and no deviation recorded, no one reads the location (the walk ignores
// it, and it cannot diverge), so only the count Locate keeps is kept.
[[gnu::always_inline]] inline void Execution::LocateFor(ChoiceLocation* at) {
  if (random_ == nullptr || record_deviations_) {
    Locate(at);
  } else if (current_ != nullptr) {
    current_->hot.choices_at_point++;
  }
}

// Decide's body, inline into its callers. kFor == kThreads: a kSchedule choice whose
// options are all threads (ChooseFast's); kWaiter: a kWakeWaiter choice (WakeOne's).
// For both the random walk answers inline (the same draws as RandomStrategy::Choose)
// and the kind tests fold away; kCurrent says whether the current thread could go on
// (then, for kThreads, anything else is a preemption).
template <Execution::DecideFor kFor, bool kCurrent>
[[gnu::always_inline]] inline uint32_t Execution::DecideImpl(ChoicePoint* cp,
                                                             uint32_t* quantum) {
  constexpr bool kAllThreads = kFor == DecideFor::kThreads;
  constexpr bool kWaiter = kFor == DecideFor::kWaiter;
  const Decision d = kAllThreads && random_ != nullptr ? random_->ChooseThread(cp->n)
                     : kWaiter && random_ != nullptr   ? random_->ChooseWaiter(cp->n)
                                                       : strategy_->Choose(*cp);
  if (__builtin_expect(d.option >= cp->n, 0)) Diverged(*cp, d);
  const Option& chosen = cp->options[d.option];
  const bool thread_schedule =
      kAllThreads || (!kWaiter && chosen.kind == OptionKind::kThread &&
                      cp->kind == ChoiceKind::kSchedule);
  const uint32_t q = thread_schedule ? std::min(d.quantum, kQuantumMax) : 0;
  result_.choices.push_back(ChoiceRecord{cp->kind, cp->current >= 0, cp->n, d.option, q});
  // A kWakeWaiter choice is never a preemption (PreemptionCost).
  const int cost = kWaiter        ? 0
                   : !kAllThreads ? PreemptionCost(*cp, d.option)
                   : kCurrent     ? LeavesCurrent(chosen, cp->current)
                                  : 0;
  result_.preemptions += cost;
  if (__builtin_expect(record_deviations_, 0)) NoteDecision(*cp, d.option, cost);
  *quantum = q;
  return d.option;
}

// The schedule choice's options in sched_options_: the threads `ids` by id, then the
// time jump if `advance`. Rebuilt only when the candidates changed (sched_version_) or
// the jump came or went; grown, never shrunk (no allocation once the execution has
// seen its most candidates).
[[gnu::always_inline]] inline void Execution::ScheduleOptions(const std::vector<int>& ids,
                                                              bool advance) {
  const uint32_t count = static_cast<uint32_t>(ids.size());
  const uint32_t n = count + (advance ? 1 : 0);
  if (sched_options_version_ == sched_version_ && sched_options_n_ == n) return;
  if (sched_options_.size() < n) sched_options_.resize(n);
  for (uint32_t i = 0; i < count; i++) sched_options_[i] = Option::Thread(ids[i]);
  if (advance) sched_options_[count] = Option::AdvanceTime();
  sched_options_version_ = sched_version_;
  sched_options_n_ = n;
}

template <bool kCurrentRunnable>
[[gnu::always_inline]] inline bool Execution::ChooseFast() {
  // Reschedule(kCurrentRunnable)'s case with nothing but the choice to make, in the
  // same order of effects. Nothing is benched and no deadline is pending, so the
  // candidates are runnable_ and there is no time jump to offer. With the current
  // thread runnable: TryPass failed inside the fairness bound, so the quantum is spent
  // (quantum_left == 0) and solo is false, and there are two threads or more (alone,
  // fairness never switches a thread away, and Reschedule would make it solo).
  const uint32_t n = static_cast<uint32_t>(runnable_.size());
  if (benched_count_ != 0 || deadlines_ != 0 || wants_ops_) return false;
  if (kCurrentRunnable) {
    if (fast_.run_length >= options_.fairness_steps || n < 2) return false;
    fast_.run_length++;
  } else {
    if (n == 0) return false;  // stuck
  }
  SimThread* cur = current_;
  uint32_t pick = 0;
  uint32_t quantum = 0;
  if (n >= 2 && random_ != nullptr && !record_deviations_) {
    // DecideImpl<kThreads>'s effects for the random walk with nothing recorded but
    // the choice: the options would be the runnable threads in order (option i runs
    // runnable_[i]), and nothing reads them, so they are not built. The same draw,
    // record, preemption cost and location count.
    const Decision d = random_->ChooseThread(n);
    pick = d.option;  // < n: Rng::Below(n)
    quantum = std::min(d.quantum, kQuantumMax);
    result_.choices.push_back(
        ChoiceRecord{ChoiceKind::kSchedule, kCurrentRunnable, n, pick, quantum});
    if (kCurrentRunnable) result_.preemptions += runnable_[pick] != cur->id ? 1 : 0;
    if (cur != nullptr) cur->hot.choices_at_point++;  // LocateFor's count
  } else if (n >= 2) {
    ScheduleOptions(runnable_, /*advance=*/false);
    ChoicePoint& cp = sched_cp_;
    cp.n = n;
    cp.options = sched_options_.data();
    cp.current = kCurrentRunnable ? cur->id : -1;
    LocateFor(&cp.at);
    pick = DecideImpl<DecideFor::kThreads, kCurrentRunnable>(&cp, &quantum);
  }
  fast_.quantum_left = quantum;  // (Reschedule(false) first clears quantum and solo)
  if (!kCurrentRunnable) fast_.solo = n == 1;
  SimThread* next = threads_[runnable_[pick]].get();
  if (next != cur) {
    fast_.run_length = 0;
    SwitchTo(next);
  }
  return true;
}

// The point's full path (SlowPoint's body): inline here for the synchronisation
// operations' slow paths (PointInline), out of line in SlowPoint for the rest.
[[gnu::always_inline]] inline void Execution::SlowPointBody(OpKind kind, uint32_t obj,
                                                            core::SrcLoc loc) {
  if (fast_.steps >= options_.max_steps) StepBound();
  fast_.Count(kind, obj);
  if (__builtin_expect(options_.record_trace, 0) && fast_.steps % kCheckpointSteps == 0) {
    result_.checkpoints.push_back(
        Checkpoint{fast_.steps, static_cast<uint16_t>(fast_.trace_hash)});
  }
  ThreadHot* me = &current_->hot;
  me->choices_at_point = 0;
  if (!fast_.TryPass() && !ChooseFast<true>()) Reschedule(/*current_runnable=*/true);
  me->choices_at_point = kChoicesInOp;  // resumed: the operation is under way
  // The trace lists operations in the order they take effect: after the switch.
  if (__builtin_expect(options_.record_trace, 0)) RecordOp(kind, obj, loc);
}

inline bool Execution::PointInline(OpKind kind, uint32_t obj, core::SrcLoc loc) {
  if (fast_.PointStep(kind, obj)) return true;
  SlowPointBody(kind, obj, loc);
  return false;
}

namespace internal {
// Removes a[i] of the n elements of `a`, keeping the order, by hand: the sets here
// are a few elements, where a call to memmove costs more than the shift. The
// element to move is carried from the end down, since GCC turns the plain loop
// `a[j] = a[j + 1]` into a call to memmove.
template <typename T>
[[gnu::always_inline]] inline void EraseAt(T* a, size_t i, size_t n) {
  T carry = a[n - 1];
  for (size_t j = n - 1; j > i; j--) {
    const T prev = a[j - 1];
    a[j - 1] = carry;
    carry = prev;
  }
}
}  // namespace internal

inline void Execution::MakeNotRunnable(SimThread* t) {
  // Erased by hand, as MakeRunnable inserts.
  int* ids = runnable_.data();
  const size_t n = runnable_.size();
  size_t i = 0;
  while (i < n && ids[i] != t->id) i++;
  if (i < n) {
    internal::EraseAt(ids, i, n);
    runnable_.pop_back();
  }
  sched_version_++;
}

// BlockImpl's body: inline here for the mutex's lock (BlockInline), so that a thread
// resumed there returns straight to the operation; out of line in BlockImpl for the
// rest (sim/blocking.cc).
[[gnu::always_inline]] inline WakeReason Execution::BlockBody(
    WaitList* const* lists, size_t n, int64_t deadline_ns, const char* what, uint32_t obj,
    core::SrcLoc loc, bool poll_forever) {
  SimThread* t = current_;
  MakeNotRunnable(t);
  t->state = ThreadState::kBlocked;
  t->wake = WakeReason::kNone;
  t->waiting_on.clear();
  for (size_t i = 0; i < n; i++) {
    t->waiting_on.push_back(lists[i]);
    lists[i]->push_back(t);
  }
  t->deadline_ns = deadline_ns;
  if (deadline_ns >= 0) {
    deadlines_++;
    deadline_cached_ = false;
  }
  t->deadline_seq = deadline_seq_++;
  t->blocked_what = what;
  t->blocked_obj = obj;
  t->blocked_loc = loc;
  t->in_poll_forever = poll_forever;
  t->hot.pending = PendingOp{OpKind::kYield, obj};
  if (__builtin_expect(options_.record_trace, 0)) {
    TraceEvent e;
    e.kind = TraceKind::kBlock;
    e.thread = t->id;
    e.what = what;
    e.obj = obj;
    e.loc = loc;
    RecordEvent(e);
  }
  RescheduleBlocked();
  t->in_poll_forever = false;
  return t->wake;
}

inline WakeReason Execution::BlockInline(WaitList* list, const char* what, uint32_t obj,
                                         core::SrcLoc loc) {
  return BlockBody(&list, 1, -1, what, obj, loc, false);
}

inline void Execution::RescheduleBlocked() {
  if (!ChooseFast<false>()) Reschedule(/*current_runnable=*/false);
}

inline void Execution::SwitchTo(SimThread* next) {
  SimThread* from = current_;
  current_ = next;
  fast_.cur = &next->hot;
  from->fiber.SwitchTo(&next->fiber, from->state == ThreadState::kFinished);
  // Resumed: whoever switched to us set current_ = us.
}

}  // namespace aiosim::sim

#endif  // AIOSIM_SIM_EXECUTION_INL_H_
