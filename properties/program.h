// properties/program.h — a generated multi-thread program over the AIO core, as a
// value: what RapidCheck generates and shrinks, what a replay token carries, and what a
// failure report prints as a per-thread table.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// A program is 2 to 5 threads: thread 0 is the context's home thread, the others are
// foreign threads (vCPUs, IOThreads, workers of the caller). Each thread is a list of
// operations; each operation names the object it uses: a bottom half b0..b3, an event
// notifier e0..e1 (registered with aio_set_event_notifier), a timer t0..t1 on
// QEMU_CLOCK_REALTIME, or a thread-pool request p0..p2. The harness (harness.h) gives
// each operation its QEMU call; an operation whose object does not exist yet (a BH
// never created, a request never submitted) is skipped (an empty interval in the
// harness's log, which the model ignores).
//
// Text forms: Describe() is the per-thread table a report prints; Encode() is the
// compact form a token carries (option "program"), e.g. "N0,S0,W/S0,C0": threads
// separated by '/', operations by ',', each a letter, an object number and, for timers,
// '.' and a delay in ms. Decode(Encode(p)) == p; Decode rejects anything else with one
// line that says what was wrong.
#ifndef AIOSIM_PROPERTIES_PROGRAM_H_
#define AIOSIM_PROPERTIES_PROGRAM_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace aiosim::properties {

enum class OpCode : uint8_t {
  kBhNew,         // N  bN = aio_bh_new(ctx, cb, ...)
  kBhNewNested,   // M  the same, with a callback that runs a nested aio_poll(ctx, false)
  kSchedule,      // S  qemu_bh_schedule(bN)
  kScheduleIdle,  // I  qemu_bh_schedule_idle(bN)
  kCancel,        // C  qemu_bh_cancel(bN)
  kDelete,        // D  qemu_bh_delete(bN)
  kOneshot,       // O  aio_bh_schedule_oneshot(ctx, cb, ...) (a new one each time)
  kPoll,          // P  aio_poll(ctx, false) (a foreign thread: under aio_context_acquire)
  kWait,          // W  aio_poll(ctx, true) (home only)
  kNotify,        // Y  aio_notify(ctx)
  kFdAdd,         // A  aio_set_event_notifier(ctx, eN, false, handler): add or update
  kFdAddExternal, // X  the same with is_external = true
  kFdAddRemover,  // Z  the same, with a handler that also removes the other notifier
  kFdRemove,      // R  aio_set_event_notifier(ctx, eN, false, NULL)
  kSet,           // E  event_notifier_set(eN)
  kDisableExternal,  // d  aio_disable_external(ctx)
  kEnableExternal,   // e  aio_enable_external(ctx)
  kTimerMod,         // T  timer_mod_ns(tN, now + arg ms)
  kTimerAnticipate,  // U  timer_mod_anticipate_ns(tN, now + arg ms)
  kTimerDel,         // K  timer_del(tN)
  kSubmit,           // Q  pN = thread_pool_submit_aio(pool, func, ..., cb, ...)
  kPoolCancelAsync,  // F  bdrv_aio_cancel_async(pN)
  kPoolCancel,       // L  bdrv_aio_cancel(pN): cancel and wait for the callback
  kBhNewSelfDeleting,  // B  aio_bh_new with a callback that deletes its BH (scheduled once)
  kSubmitWaiting,      // V  thread_pool_submit_aio whose callback, in the home thread,
                       //    waits (blocking aio_poll) for another request's callback (p0:
                       //    p1; for p1 and p2: p0)
  kClockToggle,        // G  qemu_clock_enable(QEMU_CLOCK_REALTIME, false), then true again
                       //    (home only: QEMU calls it from the main loop, pause_all_vcpus)
  kCount,
};

inline constexpr int kBhs = 4;
inline constexpr int kNotifiers = 2;
inline constexpr int kTimers = 2;
inline constexpr int kRequests = 3;
inline constexpr int kThreadsMin = 1;  // the home thread alone is a valid program
inline constexpr int kThreadsMax = 5;
inline constexpr int kOpsPerThreadMax = 12;
inline constexpr int kTimerDelayMaxMs = 20;

enum class ObjectKind { kNone, kBh, kNotifier, kTimer, kRequest };

struct OpInfo {
  OpCode code;
  char letter;
  const char* name;  // QEMU's function, as the table prints it
  ObjectKind object;
  bool has_delay;  // timers: the delay in ms
};
const OpInfo& Info(OpCode code);

struct Op {
  OpCode code = OpCode::kPoll;
  int obj = 0;    // the object's number (0 for operations without one)
  int arg = 0;    // timers: delay in ms (0..kTimerDelayMaxMs)
  friend bool operator==(const Op& a, const Op& b) {
    return a.code == b.code && a.obj == b.obj && a.arg == b.arg;
  }
};

struct Program {
  std::vector<std::vector<Op>> threads;  // [0]: the home thread
  friend bool operator==(const Program& a, const Program& b) {
    return a.threads == b.threads;
  }
  size_t Ops() const;
};

// "sched b0", "timer_mod t1 +5ms".
std::string OpText(const Op& op);
// Threads' names as the harness spawns them: "home", "f1", "f2", ...
std::string ThreadName(int thread);
// The per-thread table: one column per thread, one row per step of that thread.
std::string Describe(const Program& p);
std::string Encode(const Program& p);
absl::StatusOr<Program> Decode(std::string_view text);
// Whether every object number and delay is in range and the sizes are within the
// bounds above (Decode checks this; generators keep to it).
absl::Status Validate(const Program& p);

}  // namespace aiosim::properties

#endif  // AIOSIM_PROPERTIES_PROGRAM_H_
