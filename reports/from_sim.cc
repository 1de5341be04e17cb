// reports/from_sim.cc — BuildReport (from_sim.h).
// SPDX-License-Identifier: GPL-2.0-or-later
#include "reports/from_sim.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace aiosim::reports {

namespace {

using sim::TraceEvent;
using sim::TraceKind;

// The function as a person reads it: no template arguments, no parameter list.
std::string ShortFunction(const char* f) {
  std::string s = f == nullptr ? "" : f;
  if (absl::StartsWith(s, "operator()")) return "(lambda)";
  size_t cut = s.find_first_of("<(");
  if (cut != std::string::npos) s.resize(cut);
  return s;
}

std::string ObjectName(const sim::ExecResult& r, uint32_t obj) {
  if (obj == 0) return "";
  if (obj < r.object_names.size() && !r.object_names[obj].empty()) {
    return r.object_names[obj];
  }
  return absl::StrCat("#", obj);
}

std::string Word(uint64_t v, uint8_t flags) {
  if (flags & sim::kValuePointer) return v != 0 ? "ptr" : "NULL";
  if (flags & sim::kValueSigned) return absl::StrCat(static_cast<int64_t>(v));
  return absl::StrCat(v);
}

std::string ValueText(const TraceEvent& e) {
  if (!e.has_value) return "";
  const bool read = e.op == sim::OpKind::kLoad || e.op == sim::OpKind::kPlainLoad;
  if (read) return absl::StrCat("= ", Word(e.after, e.value_flags));
  return absl::StrCat(Word(e.before, e.value_flags), " -> ", Word(e.after, e.value_flags));
}

// QEMU state worth watching along the way (model.h's StateValue): the wakeup
// machinery, BH flags, request states, timer deadlines, eventfd counts.
bool Watched(const std::string& name) {
  static const char* const kSuffixes[] = {
      "->notify_me", "->notified",    "(eventfd count)", "->scheduled",
      "->flags",     "->state",       "->expire_time",   "->external_disable_cnt"};
  if (name.empty() || name[0] == '#') return false;
  for (const char* s : kSuffixes) {
    if (absl::EndsWith(name, s)) return true;
  }
  return false;
}

struct Row {
  Step step;
  size_t trace_index = 0;  // the last trace event the row covers
  std::string key;         // what makes two rows "the same" for folding
  uint32_t obj = 0;
  sim::OpKind op = sim::OpKind::kYield;
  bool fd_consumed = false;  // an fd-clear that cleared a set eventfd
};

// An unnamed object ("#54") counts as any unnamed object: a loop that makes a fresh
// semaphore per turn repeats all the same.
std::string RowKey(const Step& s) {
  const std::string object = !s.object.empty() && s.object[0] == '#' ? "#" : s.object;
  return absl::StrCat(static_cast<int>(s.kind), "|", s.thread, "|", s.from_thread, "|",
                      s.op, "|", object, "|", s.value, "|", s.where, "|", s.detail);
}

// Folds the thread 0 operations before the first spawn into one row.
void FoldSetup(std::vector<Row>* rows) {
  size_t end = 0;
  while (end < rows->size() && (*rows)[end].step.kind == StepKind::kOp &&
         (*rows)[end].step.thread == 0 && (*rows)[end].op != sim::OpKind::kSpawn) {
    end++;
  }
  if (end < 4) return;
  Row setup;
  setup.step.kind = StepKind::kSetup;
  setup.step.thread = 0;
  setup.step.step = (*rows)[0].step.step;
  setup.step.last_step = (*rows)[end - 1].step.step;
  setup.step.count = end;
  setup.step.time_ns = (*rows)[0].step.time_ns;
  std::vector<std::string> functions;
  for (size_t i = 0; i < end; i++) {
    const std::string& w = (*rows)[i].step.where;
    std::string f = w.substr(w.rfind(' ') + 1);
    if (std::find(functions.begin(), functions.end(), f) == functions.end()) {
      functions.push_back(f);
    }
  }
  if (functions.size() > 8) {
    functions.resize(8);
    functions.push_back("...");
  }
  setup.step.detail = absl::StrJoin(functions, ", ");
  setup.step.op = "setup";
  setup.trace_index = (*rows)[end - 1].trace_index;
  setup.key = "setup";
  rows->erase(rows->begin(), rows->begin() + end);
  rows->insert(rows->begin(), std::move(setup));
}

// Folds a block of rows repeated three times or more in a row into its first copy
// and a kRepeat row. Highlighted rows never fold.
std::vector<Row> FoldRepeats(std::vector<Row> rows) {
  constexpr int kMaxPeriod = 16;
  std::vector<Row> out;
  size_t i = 0;
  auto same = [&](size_t a, size_t b) {
    return rows[a].key == rows[b].key && rows[a].step.highlights.empty() &&
           rows[b].step.highlights.empty();
  };
  while (i < rows.size()) {
    size_t best_period = 0;
    size_t best_reps = 0;
    for (size_t p = 1; p <= kMaxPeriod && i + 2 * p <= rows.size(); p++) {
      size_t reps = 1;
      while (i + (reps + 1) * p <= rows.size()) {
        bool match = true;
        for (size_t k = 0; k < p && match; k++) match = same(i + k, i + reps * p + k);
        if (!match) break;
        reps++;
      }
      if (reps >= 3 && reps * p > best_reps * best_period) {
        best_period = p;
        best_reps = reps;
      }
    }
    if (best_period == 0) {
      out.push_back(std::move(rows[i]));
      i++;
      continue;
    }
    for (size_t k = 0; k < best_period; k++) out.push_back(rows[i + k]);
    const size_t last = i + best_reps * best_period - 1;
    Row fold;
    fold.step.kind = StepKind::kRepeat;
    fold.step.thread = rows[i].step.thread;
    fold.step.period = static_cast<int>(best_period);
    fold.step.count = best_reps - 1;
    fold.step.step = rows[i + best_period].step.step;
    fold.step.last_step = rows[last].step.step;
    fold.step.time_ns = rows[last].step.time_ns;
    fold.step.op = "repeat";
    fold.trace_index = rows[last].trace_index;
    fold.key = absl::StrCat("repeat|", best_period, "|", rows[i].key);
    out.push_back(std::move(fold));
    i = last + 1;
  }
  return out;
}

void AddHighlight(Row* row, Highlight h) {
  if (std::find(row->step.highlights.begin(), row->step.highlights.end(), h) ==
      row->step.highlights.end()) {
    row->step.highlights.push_back(h);
  }
}

// "data race on object #18: ..." -> 18.
uint32_t RaceObject(const std::string& message) {
  size_t p = message.find("object #");
  if (p == std::string::npos) return 0;
  p += std::strlen("object #");
  size_t q = p;
  while (q < message.size() && message[q] >= '0' && message[q] <= '9') q++;
  uint32_t id = 0;
  return absl::SimpleAtoi(message.substr(p, q - p), &id) ? id : 0;
}

}  // namespace

std::string WhereText(const aiosim::core::SrcLoc& loc) {
  const char* file = loc.file_name();
  // Keep the project-relative path after "core/aio/" (legacy/async.cc), else after the
  // top directory (scenarios/r4_....cc).
  if (const char* p = std::strstr(file, "/core/aio/")) {
    file = p + std::strlen("/core/aio/");
  } else {
    for (const char* dir : {"/core/", "/sim/", "/scenarios/", "/tools/", "/properties/",
                            "/bench/", "/reports/"}) {
      if (const char* q = std::strstr(file, dir)) {
        file = q + 1;
        break;
      }
    }
  }
  return absl::StrFormat("%s:%u %s", file, loc.line(), ShortFunction(loc.function_name()));
}

Report BuildReport(const sim::ExecResult& r, const RunInfo& info) {
  Report rep;
  rep.scenario = info.scenario;
  rep.generation = info.generation;
  rep.options = info.options;
  rep.token = info.token;
  rep.search = info.search;
  if (!info.token.empty()) rep.reproduce = absl::StrCat("aiosim replay ", info.token);
  rep.title = absl::StrCat(info.scenario, info.options.empty() ? "" : " ", info.options,
                           " (", info.generation, ")");
  const sim::Failure& f = r.failure;
  rep.verdict = f.kind == sim::FailureKind::kNone ? "pass" : sim::FailureKindName(f.kind);
  rep.message = f.message;
  rep.details = f.details;
  rep.where = f.where;
  rep.preemptions = r.preemptions;
  rep.total_steps = r.steps;
  rep.end_time_ns = r.end_time_ns - sim::Execution::kStartNs;

  for (size_t t = 0; t < r.thread_names.size(); t++) {
    Thread th;
    th.id = static_cast<int>(t);
    th.name = r.thread_names[t];
    const std::string prefix = absl::StrCat("thread ", t, " (", th.name, ") ");
    th.end = f.kind == sim::FailureKind::kNone ? "finished" : "";
    for (const std::string& d : f.details) {
      if (absl::StartsWith(d, prefix)) th.end = d.substr(prefix.size());
    }
    rep.threads.push_back(std::move(th));
  }
  for (const TraceEvent& e : r.trace) {  // a thread whose last operation was its exit
    if (e.kind == TraceKind::kOp && e.thread >= 0 &&
        e.thread < static_cast<int>(rep.threads.size()) && e.op == sim::OpKind::kExit &&
        rep.threads[e.thread].end.empty()) {
      rep.threads[e.thread].end = "finished";
    }
  }
  if (f.thread >= 0 && f.thread < static_cast<int>(rep.threads.size()) &&
      rep.threads[f.thread].end.empty()) {
    rep.threads[f.thread].end = absl::StrCat("stopped at the failure (", rep.verdict, ")");
  }

  // Rows from the trace, in order.
  std::vector<Row> rows;
  int64_t now = 0;
  for (size_t i = 0; i < r.trace.size(); i++) {
    const TraceEvent& e = r.trace[i];
    Row row;
    row.trace_index = i;
    Step& s = row.step;
    s.step = e.step;
    s.time_ns = now;
    switch (e.kind) {
      case TraceKind::kOp:
        s.kind = StepKind::kOp;
        s.thread = e.thread;
        s.op = sim::OpKindName(e.op);
        s.object = ObjectName(r, e.obj);
        s.value = ValueText(e);
        s.where = WhereText(e.loc);
        // The simulator's own lines (a thread's exit) are no one's code.
        if (absl::StartsWith(s.where, "sim/")) s.where = "";
        row.obj = e.obj;
        row.op = e.op;
        row.fd_consumed = e.op == sim::OpKind::kFdClear && e.has_value && e.before > 0;
        break;
      case TraceKind::kChoice:
        if (e.choice == sim::ChoiceKind::kSchedule) {
          if (!e.preemption) continue;
          s.kind = StepKind::kPreemption;
          s.thread = e.thread;
          s.from_thread = e.from;
          s.op = "preemption";
        } else if (e.choice == sim::ChoiceKind::kWakeWaiter) {
          s.kind = StepKind::kSignal;
          s.thread = e.thread;
          s.op = "signal";
        } else {
          if (e.thread != 1) continue;  // the default: nothing was injected
          s.kind = StepKind::kInjected;
          s.op = "injected";
          s.detail = e.choice == sim::ChoiceKind::kEintr ? "the poll fails with EINTR"
                                                         : "the wait wakes spuriously";
          s.thread = -1;
        }
        break;
      case TraceKind::kBlock:
        s.kind = StepKind::kBlock;
        s.thread = e.thread;
        s.op = e.what != nullptr ? e.what : "wait";
        s.object = ObjectName(r, e.obj);
        s.where = WhereText(e.loc);
        break;
      case TraceKind::kWake:
        s.kind = StepKind::kWake;
        s.thread = e.thread;
        s.op = "wake";
        s.detail = e.timeout ? "timeout" : "";
        break;
      case TraceKind::kTimeJump:
        now = e.time_ns - sim::Execution::kStartNs;
        s.kind = StepKind::kTimeJump;
        s.time_ns = now;
        s.op = "time";
        break;
      case TraceKind::kForcedSwitch:
        s.kind = StepKind::kFairness;
        s.thread = e.thread;
        s.op = "fairness";
        break;
    }
    row.key = RowKey(s);
    rows.push_back(std::move(row));
  }

  // Highlights.
  if (f.kind == sim::FailureKind::kLostWakeup || f.kind == sim::FailureKind::kDeadlock) {
    // The waiter: the thread whose last row is a block in poll (else any block).
    int sleep_row = -1;
    for (int i = static_cast<int>(rows.size()) - 1; i >= 0 && sleep_row < 0; i--) {
      if (rows[i].step.kind == StepKind::kBlock && rows[i].step.op == "poll") sleep_row = i;
    }
    if (sleep_row >= 0) {
      AddHighlight(&rows[sleep_row], Highlight::kWaiterSleeps);
      int consumed = -1;
      for (int i = sleep_row; i >= 0 && consumed < 0; i--) {
        if (rows[i].fd_consumed) consumed = i;
      }
      const Step& s = rows[sleep_row].step;
      const std::string waiter = absl::StrFormat(
          "thread %d (%s)", s.thread, s.thread >= 0 && s.thread < static_cast<int>(r.thread_names.size())
                                          ? r.thread_names[s.thread] : "?");
      if (consumed >= 0) {
        AddHighlight(&rows[consumed], Highlight::kWakeupConsumed);
        const Step& c = rows[consumed].step;
        rep.explanation = absl::StrFormat(
            "%s went to sleep in poll after step %d with nothing left to wake it: the "
            "last wakeup (%s was set) was consumed at step %d by thread %d (%s) in %s.",
            waiter, static_cast<int>(s.step), c.object, static_cast<int>(c.step),
            c.thread, c.thread >= 0 && c.thread < static_cast<int>(r.thread_names.size()) ? r.thread_names[c.thread] : "?",
            c.where);
      } else {
        rep.explanation = absl::StrFormat(
            "%s went to sleep in poll after step %d; no eventfd it polls was ever "
            "cleared while set before that, so its wakeup never arrived.",
            waiter, static_cast<int>(s.step));
      }
    }
  } else if (f.kind == sim::FailureKind::kDataRace) {
    const uint32_t obj = RaceObject(f.message);
    int second = -1;
    for (int i = static_cast<int>(rows.size()) - 1; i >= 0 && second < 0; i--) {
      if (rows[i].step.kind == StepKind::kOp && rows[i].obj == obj && obj != 0) second = i;
    }
    if (second >= 0) {
      AddHighlight(&rows[second], Highlight::kRaceSecond);
      for (int i = second - 1; i >= 0; i--) {
        if (rows[i].step.kind == StepKind::kOp && rows[i].obj == obj &&
            rows[i].step.thread != rows[second].step.thread) {
          AddHighlight(&rows[i], Highlight::kRaceFirst);
          break;
        }
      }
      rep.explanation = absl::StrFormat(
          "Two threads accessed %s with no happens-before between them (the highlighted "
          "pair).", rows[second].step.object);
    }
  } else if (f.kind != sim::FailureKind::kNone) {
    for (int i = static_cast<int>(rows.size()) - 1; i >= 0; i--) {
      if (rows[i].step.kind == StepKind::kOp &&
          (f.thread < 0 || rows[i].step.thread == f.thread)) {
        AddHighlight(&rows[i], Highlight::kFailure);
        break;
      }
    }
  }
  for (Row& row : rows) {
    if (!row.step.highlights.empty()) row.key += "|hl";
  }

  FoldSetup(&rows);
  rows = FoldRepeats(std::move(rows));

  // Watched state: snapshots after the rows where a watched value changed, and at
  // highlighted rows.
  std::map<std::string, std::string> current;  // by object name (ordered output)
  std::vector<std::string> order;
  size_t applied = 0;
  for (size_t k = 0; k < rows.size(); k++) {
    bool changed = false;
    for (; applied <= rows[k].trace_index && applied < r.trace.size(); applied++) {
      const TraceEvent& e = r.trace[applied];
      if (e.kind != TraceKind::kOp || !e.has_value) continue;
      const std::string name = ObjectName(r, e.obj);
      if (!Watched(name)) continue;
      std::string v = Word(e.after, e.value_flags);
      auto it = current.find(name);
      if (it == current.end()) {
        if (order.size() >= 16) continue;
        order.push_back(name);
        current[name] = v;
        changed = true;
      } else if (it->second != v) {
        it->second = v;
        changed = true;
      }
    }
    if (changed || !rows[k].step.highlights.empty()) {
      StateRow sr;
      sr.step_index = k;
      for (const std::string& name : order) sr.values.push_back({name, current[name]});
      if (std::find(rows[k].step.highlights.begin(), rows[k].step.highlights.end(),
                    Highlight::kWaiterSleeps) != rows[k].step.highlights.end()) {
        rep.sleep_state = sr.values;
      }
      rep.state.push_back(std::move(sr));
    }
  }
  rep.watched = order;
  for (Row& row : rows) rep.steps.push_back(std::move(row.step));
  return rep;
}

}  // namespace aiosim::reports
