// properties/harness.h — runs a generated Program (program.h) on the AIO core in the
// simulator, observes what took effect, and judges the execution against a reference
// model of QEMU's contract (QEMU-SEMANTICS.md §2.7, C1-C8).
// SPDX-License-Identifier: GPL-2.0-or-later
//
// One execution: the home thread creates the context, the event notifiers and the
// timers, spawns the foreign threads, runs its own operations, joins the foreign
// threads, then drains (blocking polls until nothing is pending) and checks the model
// at quiescence, then tears everything down (leaks are the simulator's business).
// Every operation, callback and poll is logged in the order it took effect (the
// simulated threads run one at a time), each operation as an interval [begin, end]:
// the model only ever concludes what every linearisation inside those intervals
// agrees on, so it never blames QEMU for an order the program could not see.
//
// A blocking aio_poll of the program or of the drain runs under a watchdog: a harness
// thread that waits one second of virtual time. Property runs never let virtual time
// jump while a thread can run (ExecOptions::time_advances_max = 0), so the watchdog
// expires only when every thread is blocked. Then, if work is pending (a scheduled BH,
// a set notifier, a finished request whose callback has not run, an expired timer), a
// wakeup was lost (C2): the execution fails as lost-wakeup. Otherwise the program had
// simply nothing left to wake it, which QEMU allows (C8): the watchdog wakes the poll
// through an event notifier of its own and the program goes on.
//
// Contract modes (Mode): documented judges what QEMU promises in that generation;
// strict also fails a callback that runs after qemu_bh_cancel returned in a foreign
// thread (the seed's claim S3); misuse is documented judging with generators that
// also call home-only functions from foreign threads (suites.h), to show what breaks.
#ifndef AIOSIM_PROPERTIES_HARNESS_H_
#define AIOSIM_PROPERTIES_HARNESS_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/aio/aio.h"
#include "properties/program.h"
#include "sim/aiosim_sim.h"

namespace aiosim::properties {

enum class Mode { kDocumented, kStrict, kMisuse };
const char* ModeName(Mode mode);
absl::StatusOr<Mode> ParseMode(std::string_view name);

// The coverage probes ("sometimes" assertions): places a search should reach. Each
// counts the executions that reached it.
enum Probe {
  kProbeScheduleWhileWalking,    // a foreign schedule while aio_bh_poll walks the list
  kProbeCancelBeforeCallback,    // a cancel returned, then the BH it cancelled ran
  kProbeNotifyWhileNotifyMe,     // notify_me changed during a foreign wakeup call
  kProbeCompletionInNestedPoll,  // a pool callback ran in a nested aio_poll
  kProbeTimerInBlockingPoll,     // a timer expired while a blocking aio_poll slept
  kProbeHandlerRemovedInDispatch,  // a handler removed another during dispatch
  kProbeCount,
};
const char* ProbeName(int probe);

struct ProbeCounts {
  uint64_t executions = 0;  // executions that reached their end
  std::array<uint64_t, kProbeCount> hits{};
  void Add(const ProbeCounts& other);
};

// What an execution's objects did by quiescence, for comparing generations (the
// differential test): per BH slot its runs, per oneshot (in the order the program
// made them) its runs, per request the ret of each callback, per timer its firings.
struct Outcome {
  std::vector<int> bh_runs;
  std::vector<int> oneshot_runs;
  std::vector<std::vector<int>> request_rets;
  std::vector<int> timer_fires;
  bool reached = false;  // the execution reached quiescence (filled in)
};

struct HarnessConfig {
  Program program;
  Mode mode = Mode::kDocumented;
  uint32_t switches = 0;  // AioSwitch bits of the world
  // Which core runs the program (QEMU 2.8.1 or 10.2). The model is the same contract;
  // what 10.2 no longer has (external clients, a foreign aio_poll, bdrv_aio_cancel of
  // a pool request, aio_context_acquire) is skipped there, saying why, and the
  // generators (suites.h) do not draw it.
  core::AioGeneration generation = core::AioGeneration::kLegacy;
  // If set, filled in at quiescence, after the model judged (the caller owns it;
  // executions run one at a time).
  std::shared_ptr<Outcome> outcome;
};

// The body of one execution of `config`. If `probes` is set, every execution that
// reaches its end adds its probes to it (the caller owns the counts; executions run
// on the calling OS thread, one at a time).
sim::Body MakeBody(HarnessConfig config, std::shared_ptr<ProbeCounts> probes = nullptr);

// The simulator options property runs use: race detection on (QEMU 2.8's by-design
// races let through, as `aiosim run --races`), no time jumps while a thread can run.
sim::ExecOptions PropertyExecOptions();

// The virtual time a watchdog waits, in ms.
inline constexpr int kWatchdogMs = 1000;

}  // namespace aiosim::properties

#endif  // AIOSIM_PROPERTIES_HARNESS_H_
