// sim/choice.h — the typed choices of a simulated execution: what a strategy is
// offered at a choice point, what it answers, how a choice is recorded, and the one
// definition of a preemption.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Every nondeterministic decision of an execution is a choice among typed options:
// which thread runs next (or whether virtual time jumps first), which waiter a
// condition signal wakes, whether a wait wakes spuriously, whether a poll fails with
// EINTR. Options say what they do (OptionKind), so a strategy, a recorded deviation or
// a report never relies on an option's position; a weak memory model adds kinds
// ("flush a store buffer", "read an older store") without touching the strategies
// that do not know them.
//
// Determinism: options are listed in a fixed order — threads by id, then the time
// jump — never by address or hash order.
#ifndef AIOSIM_SIM_CHOICE_H_
#define AIOSIM_SIM_CHOICE_H_

#include <cstdint>
#include <string>

#include "sim/runtime.h"

namespace aiosim::sim {

enum class ChoiceKind : uint8_t {
  kSchedule,        // who runs next: kThread options, then at most one kAdvanceTime
  kWakeWaiter,      // which waiter a condition signal wakes: kThread options (FIFO order)
  kSpuriousWakeup,  // kValue 0 (wait normally) or 1 (return at once, spuriously)
  kEintr,           // kValue 0 (poll normally) or 1 (fail with EINTR)
};
const char* ChoiceKindName(ChoiceKind kind);

enum class OptionKind : uint8_t {
  kThread,       // run (kSchedule) or wake (kWakeWaiter) thread `arg`
  kAdvanceTime,  // jump virtual time to the next deadline, then choose again
  kValue,        // the value `arg`
  // Reserved for weak memory models: kFlushStoreBuffer (thread `arg`) and
  // kReadOlderStore (store `arg`). Code that switches over OptionKind treats an
  // unknown kind as "not the default".
};

struct Option {
  OptionKind kind = OptionKind::kValue;
  uint32_t arg = 0;
  friend bool operator==(const Option&, const Option&) = default;
  static Option Thread(int id) {
    return {OptionKind::kThread, static_cast<uint32_t>(id)};
  }
  static Option AdvanceTime() { return {OptionKind::kAdvanceTime, 0}; }
  static Option Value(uint32_t v) { return {OptionKind::kValue, v}; }
};
// "thread 2", "advance time", "value 1".
std::string OptionText(const Option& option);

// Where a choice happens, in terms that survive changes elsewhere in the schedule:
// the thread that reached the point (the running thread, or the one that just
// blocked or finished), how many scheduling points it had passed, and how many
// choices were already made at that point. `step` and `fingerprint` (the low 16 bits
// of the trace hash so far) check, on replay, that the program still reaches the
// same point in the same state.
struct ChoiceLocation {
  int thread = -1;
  uint64_t points = 0;
  uint32_t sub = 0;
  uint64_t step = 0;
  uint16_t fingerprint = 0;
};

// What the strategy sees at a choice.
struct ChoicePoint {
  ChoiceKind kind = ChoiceKind::kSchedule;
  uint32_t n = 0;                   // number of options, >= 2
  const Option* options = nullptr;  // n options
  // kSchedule: the pending operation of each kThread option's thread (same index),
  // or nullptr unless the strategy wants_ops().
  const PendingOp* ops = nullptr;
  // kSchedule: the thread that could go on running here (-1: it blocked or finished,
  // or fairness switched it away). Choosing anything else is a preemption.
  int current = -1;
  ChoiceLocation at;
};

// A strategy's answer: the option, and for a kThread option of a kSchedule choice a
// quantum: the chosen thread then passes its next `quantum` scheduling points without
// a choice (blocking, or fairness, ends a quantum early).
struct Decision {
  uint32_t option = 0;
  uint32_t quantum = 0;
};
inline constexpr uint32_t kQuantumMax = 1u << 16;

struct ChoiceRecord {
  ChoiceKind kind = ChoiceKind::kSchedule;
  bool had_current = false;  // kSchedule: ChoicePoint::current >= 0
  uint32_t n = 0;
  uint32_t option = 0;
  uint32_t quantum = 0;
  bool operator==(const ChoiceRecord&) const = default;
};

// The non-preemptive default: at a kSchedule choice keep running `current` if it can
// run, else the runnable thread with the lowest id; never jump time; the first waiter;
// value 0 (no spurious wakeup, no EINTR).
inline uint32_t DefaultChoice(const ChoicePoint& p) {
  if (p.kind == ChoiceKind::kSchedule && p.current >= 0) {
    for (uint32_t i = 0; i < p.n; i++) {
      if (p.options[i].kind == OptionKind::kThread &&
          p.options[i].arg == static_cast<uint32_t>(p.current)) {
        return i;
      }
    }
  }
  return 0;  // threads are listed by id, the time jump last
}

// The one definition of a preemption, used by the execution's count
// (ExecResult::preemptions), by bounded search and by minimisation: at a kSchedule
// choice where `current` could go on, any option other than running it — another
// thread, or a jump of virtual time (the current thread is then descheduled for that
// long). A forced switch (fairness) or a choice after blocking costs nothing; so do
// the other kinds of choice. LeavesCurrent is the cost of a kSchedule choice where
// `current` could go on (a caller that knows it has one may use it directly).
inline int LeavesCurrent(const Option& o, int current) {
  return o.kind == OptionKind::kThread && o.arg == static_cast<uint32_t>(current) ? 0 : 1;
}
inline int PreemptionCost(const ChoicePoint& p, uint32_t option) {
  if (p.kind != ChoiceKind::kSchedule || p.current < 0) return 0;
  return LeavesCurrent(p.options[option], p.current);
}

// A choice that differs from DefaultChoice, located so that it keeps its meaning when
// other deviations are removed or the program changes elsewhere: a schedule is the
// list of its deviations. `target` is the option taken (by what it does, not by
// position).
struct Deviation {
  ChoiceLocation at;
  ChoiceKind kind = ChoiceKind::kSchedule;
  Option target;
  bool Matches(const ChoicePoint& p) const {
    return p.at.thread == at.thread && p.at.points == at.points && p.at.sub == at.sub;
  }
  // Deviations compare by where and what, not by their checks.
  friend bool operator==(const Deviation& a, const Deviation& b) {
    return a.at.thread == b.at.thread && a.at.points == b.at.points &&
           a.at.sub == b.at.sub && a.kind == b.kind && a.target == b.target;
  }
};

}  // namespace aiosim::sim

#endif  // AIOSIM_SIM_CHOICE_H_
