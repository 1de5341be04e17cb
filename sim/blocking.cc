// sim/blocking.cc — the execution's blocking and waking: wait lists, deadlines and
// virtual time, stuck detection (execution.h).
// SPDX-License-Identifier: GPL-2.0-or-later
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "sim/execution.h"
#include "sim/execution_inl.h"
#include "sim/race.h"
#include "sim/random_pct.h"
#include "sim/strategy.h"

namespace aiosim::sim {

bool Execution::NextDeadline(int64_t* t) {
  if (deadlines_ == 0) return false;
  if (!deadline_cached_) {
    has_deadline_ = false;
    for (const auto& th : threads_) {
      if (th->state == ThreadState::kBlocked && th->deadline_ns >= 0 &&
          (!has_deadline_ || th->deadline_ns < next_deadline_)) {
        next_deadline_ = th->deadline_ns;
        has_deadline_ = true;
      }
    }
    deadline_cached_ = true;
  }
  *t = next_deadline_;
  return has_deadline_;
}

// flatten: Unwait inline here, as MakeNotRunnable is in BlockBody (a call each cost
// about as much as the work).
[[gnu::flatten]] void Execution::MakeRunnable(SimThread* t, WakeReason why) {
  Unwait(t);
  t->wake = why;
  if (t->deadline_ns >= 0) {
    deadlines_--;
    deadline_cached_ = false;
    t->deadline_ns = -1;
  }
  t->state = ThreadState::kRunnable;
  fast_.solo = false;
  sched_version_++;
  // Sorted insertion by hand: the set is a few ids, where a call to memmove costs more
  // than the shift.
  runnable_.push_back(t->id);
  int* ids = runnable_.data();
  size_t i = runnable_.size() - 1;
  for (; i > 0 && ids[i - 1] > t->id; i--) ids[i] = ids[i - 1];
  ids[i] = t->id;
  if (__builtin_expect(options_.record_trace, 0)) {
    TraceEvent e;
    e.kind = TraceKind::kWake;
    e.thread = t->id;
    e.timeout = why == WakeReason::kTimeout;
    RecordEvent(e);
  }
}

void Execution::AdvanceTimeTo(int64_t t) {
  if (t > now_ns_) now_ns_ = t;
  HashStep(0xA0000000u, static_cast<uint64_t>(now_ns_));
  if (__builtin_expect(options_.record_trace, 0)) {
    TraceEvent e;
    e.kind = TraceKind::kTimeJump;
    e.time_ns = now_ns_;
    RecordEvent(e);
  }
  // Wake, in (deadline, sequence) order, every thread whose deadline has come.
  // (due_ keeps its capacity between jumps and executions.)
  due_.clear();
  for (auto& th : threads_) {
    if (th->state == ThreadState::kBlocked && th->deadline_ns >= 0 &&
        th->deadline_ns <= now_ns_) {
      due_.push_back(th.get());
    }
  }
  std::sort(due_.begin(), due_.end(), [](const SimThread* a, const SimThread* b) {
    return a->deadline_ns != b->deadline_ns ? a->deadline_ns < b->deadline_ns
                                            : a->deadline_seq < b->deadline_seq;
  });
  for (SimThread* th : due_) MakeRunnable(th, WakeReason::kTimeout);
}

WakeReason Execution::BlockOn(const std::vector<WaitList*>& lists, int64_t deadline_ns,
                              const char* what, uint32_t obj, core::SrcLoc loc,
                              bool poll_forever) {
  return BlockImpl(lists.data(), lists.size(), deadline_ns, what, obj, loc, poll_forever);
}

[[gnu::flatten]] WakeReason Execution::BlockImpl(WaitList* const* lists, size_t n,
                                                 int64_t deadline_ns, const char* what,
                                                 uint32_t obj, core::SrcLoc loc,
                                                 bool poll_forever) {
  return BlockBody(lists, n, deadline_ns, what, obj, loc, poll_forever);
}

void Execution::Unwait(SimThread* t) {
  for (WaitList* l : t->waiting_on) {
    SimThread** ts = l->data();
    const size_t n = l->size();
    size_t i = 0;
    while (i < n && ts[i] != t) i++;
    if (i == n) continue;
    internal::EraseAt(ts, i, n);
    l->pop_back();
  }
  t->waiting_on.clear();
}

void Execution::WakeAll(WaitList* list) {
  if (list->empty()) return;
  // Copy out and clear: `list` keeps its capacity for the next waiters.
  waking_.assign(list->begin(), list->end());
  list->clear();
  for (SimThread* t : waking_) {
    if (t->state == ThreadState::kBlocked) MakeRunnable(t, WakeReason::kSignaled);
  }
}

[[gnu::flatten]] bool Execution::WakeOne(WaitList* list) {
  if (list->empty()) return false;
  if (list->size() == 1) {  // one waiter: nothing to choose
    SimThread* only = list->front();
    if (only->state == ThreadState::kBlocked) {
      MakeRunnable(only, WakeReason::kSignaled);  // Unwait removes it from `list`
      return true;
    }
    list->clear();
    return false;
  }
  if (random_ != nullptr && !record_deviations_) {
    // DecideWaiter's effects for the random walk with nothing recorded but the
    // choice: the options (the blocked waiters in order) are not built, since nothing
    // reads them. The same draw, record, hash step and location count.
    uint32_t n = 0;
    for (SimThread* t : *list) n += t->state == ThreadState::kBlocked ? 1 : 0;
    if (n == 0) {
      list->clear();
      return false;
    }
    uint32_t v = 0;
    if (n > 1) {
      v = random_->ChooseWaiter(n).option;  // < n: Rng::Below(n)
      if (current_ != nullptr) current_->hot.choices_at_point++;  // LocateFor's count
      result_.choices.push_back(ChoiceRecord{ChoiceKind::kWakeWaiter, false, n, v, 0});
      HashStep(0xC1000000u | v, n);
    }
    for (SimThread* t : *list) {
      if (t->state != ThreadState::kBlocked) continue;
      if (v-- == 0) {
        MakeRunnable(t, WakeReason::kSignaled);  // Unwait removes it from `list`
        return true;
      }
    }
  }
  waking_.clear();
  for (SimThread* t : *list) {
    if (t->state == ThreadState::kBlocked) waking_.push_back(t);
  }
  if (waking_.empty()) {
    list->clear();
    return false;
  }
  SimThread* chosen = waking_.front();
  if (waking_.size() > 1) {
    // Which waiter a signal wakes is up to the OS: a recorded choice, FIFO first.
    options_scratch_.clear();
    for (SimThread* t : waking_) options_scratch_.push_back(Option::Thread(t->id));
    ChoicePoint cp;
    cp.kind = ChoiceKind::kWakeWaiter;
    cp.n = static_cast<uint32_t>(waking_.size());
    cp.options = options_scratch_.data();
    const uint32_t v = DecideWaiter(&cp);
    HashStep(0xC1000000u | v, cp.n);
    chosen = waking_[v];
  }
  MakeRunnable(chosen, WakeReason::kSignaled);  // Unwait removes it from `list` too
  return true;
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
        absl::StrAppendFormat(&line, ", until %.3f ms",
                              (th->deadline_ns - kStartNs) / 1e6);
      }
    }
    out.push_back(line);
  }
  return out;
}

void Execution::Stuck() {
  std::vector<std::string> waits;
  std::vector<std::string> where;
  std::vector<std::string> sleepers;  // asleep in poll without a timeout
  bool sleeping_poller = false;
  for (auto& th : threads_) {
    if (th->state != ThreadState::kBlocked) continue;
    sleeping_poller |= th->in_poll_forever;
    if (th->in_poll_forever) sleepers.push_back(th->name);
    const char* what = th->blocked_what ? th->blocked_what : "?";
    waits.push_back(absl::StrFormat("thread %d (%s) waits in %s (object #%d) at %s",
                                    th->id, th->name, what, th->blocked_obj,
                                    Where(th->blocked_loc)));
    where.push_back(absl::StrCat(th->name, " in ", what, " at ", Where(th->blocked_loc)));
  }
  std::string pending;
  if (sleeping_poller && pending_) {
    inspecting_++;
    fast_.fast_ok = false;
    fast_.point_inline = false;
    pending = pending_();
    inspecting_--;
  }
  if (!pending.empty()) {
    std::string message = absl::StrCat(
        "lost wakeup: a thread sleeps in poll with no timeout while ", pending);
    waits.insert(waits.begin(), absl::StrCat("pending: ", pending));
    // Its identity: who sleeps, and what is pending (not where the others wait).
    Fail(FailureKind::kLostWakeup, std::move(message), std::move(waits),
         absl::StrCat(absl::StrJoin(sleepers, ", "), " asleep in poll while ", pending));
  }
  std::string message = absl::StrFormat(
      "deadlock: no thread can run and no deadline is pending (%d blocked)",
      static_cast<int>(waits.size()));
  Fail(FailureKind::kDeadlock, std::move(message), std::move(waits),
       absl::StrJoin(where, "; "));
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
