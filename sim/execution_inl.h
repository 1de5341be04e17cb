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
