// reports/model.h — the data of a report, independent of the simulator: what every
// renderer (text.cc, markdown.cc, html.cc, json.cc, junit.cc) reads. Built from a
// simulation by from_sim.cc, the only file of reports/ that includes sim/.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Every string here is plain text as a person reads it (QEMU's names: `ctx "main"->
// notify_me`, `bh "work"->scheduled`, `req#2->state`); renderers escape it
// (escape.h) for HTML and XML. Nothing holds an address or a wall-clock time, so a
// report of a replayed token is byte-identical to the first.
#ifndef AIOSIM_REPORTS_MODEL_H_
#define AIOSIM_REPORTS_MODEL_H_

#include <cstdint>
#include <string>
#include <vector>

namespace aiosim::reports {

// One row of the timeline, in the order things took effect.
enum class StepKind {
  kOp,          // `thread` performed `op` on `object` at `where`
  kBlock,       // `thread` blocked in `op` (poll, qemu_sem_wait, ...) at `where`
  kWake,        // `thread` became runnable (`detail`: "timeout" if its deadline passed)
  kPreemption,  // the scheduler switched from `from_thread` (which could go on) to
                // `thread` (-1: virtual time jumped first)
  kTimeJump,    // virtual time jumped to `time_ns`
  kSignal,      // a condition signal woke `thread` (a recorded choice)
  kInjected,    // a spurious wakeup or an EINTR the simulator chose (`detail`)
  kFairness,    // fairness switched `thread` away after a long run
  kSetup,       // `count` operations of `thread` before any other thread started,
                // folded (`detail`: the functions they were in)
  kRepeat,      // the `period` rows above repeat `count` more times (folded)
};

// Why a row is highlighted (several may be).
enum class Highlight {
  kNone,
  kFailure,          // the step where the property broke / the failing access
  kRaceFirst,        // the earlier access of a data race
  kRaceSecond,       // the later access of a data race
  kWakeupConsumed,   // the last step that consumed the waiter's wakeup
  kWaiterSleeps,     // the waiter went to sleep here, with nothing left to wake it
};
const char* HighlightName(Highlight h);

struct Step {
  StepKind kind = StepKind::kOp;
  uint64_t step = 0;  // kOp: 1, 2, ...; others: the number of operations before it
  int thread = -1;
  int from_thread = -1;  // kPreemption
  std::string op;        // "load", "rmw", "fd-clear", "poll", ...
  std::string object;    // "ctx \"main\"->notify_me", or "#18" if unnamed, or ""
  std::string value;     // "= 0", "0 -> 1", "NULL -> ptr", or ""
  std::string where;     // "async.cc:125 qemu_bh_schedule" (the core's or scenario's)
  std::string detail;    // kSetup: functions; kWake: "timeout"; kInjected: what
  int64_t time_ns = 0;   // virtual time since the start of the execution
  uint64_t count = 0;    // kSetup: operations folded; kRepeat: repetitions folded
  int period = 0;        // kRepeat: rows in one repetition
  uint64_t last_step = 0;  // kSetup, kRepeat: the last operation folded
  std::vector<Highlight> highlights;
};

// A watched piece of QEMU state and its value after a given row (`notify_me`,
// `notified`, each BH's flags, request states, timer deadlines, eventfd counts).
struct StateValue {
  std::string object;
  std::string value;
};
struct StateRow {
  size_t step_index = 0;  // into Report::steps: the state after that row
  std::vector<StateValue> values;
};

struct Thread {
  int id = 0;
  std::string name;
  std::string end;  // how it ended: "finished", or what it waits for
};

// A failure or a passing run of one scenario (run, replay).
struct Report {
  std::string title;       // "R4 revert=R4 (legacy)"
  std::string scenario;    // "R4"
  std::string generation;  // "legacy" / "modern"
  std::string options;     // "revert=R4"
  std::string verdict;     // "lost-wakeup", "data-race", ..., or "pass"
  std::string message;     // the failure's one line
  std::vector<std::string> details;
  std::string where;       // the failure's identity
  std::string token;       // the replay token ("" if none)
  std::string reproduce;   // "aiosim replay <token>"
  std::string search;      // how it was found ("112 executions, random walk, seed 1")
  int preemptions = 0;
  uint64_t total_steps = 0;
  int64_t end_time_ns = 0;
  std::vector<Thread> threads;
  std::vector<Step> steps;
  // The watched objects' values along the way: one row wherever one changed, and at
  // every highlighted row.
  std::vector<std::string> watched;  // the objects shown, in a stable order
  std::vector<StateRow> state;
  // For a lost wakeup: the state in which the waiter went to sleep (also in `state`
  // at the kWaiterSleeps row), and a sentence on what consumed its wakeup.
  std::vector<StateValue> sleep_state;
  std::string explanation;
};

// One case of a check, a claim, a sweep cell or a property suite: a table row and a
// JUnit <testcase>.
struct CaseRow {
  std::string name;       // "R4 revert=R4 dfs"
  std::string group;      // "check legacy", "claims modern", ...
  std::string expected;   // the declared outcome
  std::string got;        // what happened
  bool ok = true;
  std::string evidence;   // "exhausted at 2 preemptions, 5,111 executions"
  double seconds = 0;     // wall time of the case (JUnit's time attribute)
  std::string failure;    // when !ok: the message (and reproduce line)
};
struct Table {
  std::string title;  // "aiosim check --generation legacy"
  std::vector<std::string> columns;       // for Markdown/HTML tables of claims
  std::vector<std::vector<std::string>> cells;
  std::vector<CaseRow> cases;
  std::string summary;  // "57 ok, 0 failed"
};

}  // namespace aiosim::reports

#endif  // AIOSIM_REPORTS_MODEL_H_
