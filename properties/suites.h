// properties/suites.h — the property suites: which operations each thread of a
// generated program may use (per suite, contract mode and core switches), the
// RapidCheck generator of such programs, and the scenario a suite's replay token names.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Suites: bh (bottom halves), fd (fd handlers, event notifiers, external clients),
// timer, pool (the thread pool), notify (aio_notify / aio_poll) and mixed (all of
// them). What a foreign thread may call follows QEMU 2.8's documented contract
// (core/aio/aio.h): any thread schedules, cancels and creates BHs, notifies, sets
// notifiers, arms timers and disables external clients; a foreign thread polls only
// under aio_context_acquire, and not at all once AIO_FIX_R9_HOME (QEMU 4.0) makes
// aio_poll home-only; aio_set_fd_handler and the thread pool are home-only. Misuse
// mode also gives foreign threads the home-only calls of aio_set_fd_handler and the
// pool (claims S5 and S7, race R11); not aio_poll (its misuse is R9, an assertion
// since 4.0).
//
// On the modern generation (QEMU 10.2) the lists follow 10.2's contract: no external
// clients (8.2 removed them), no foreign aio_poll (home-only since 4.0), no
// bdrv_aio_cancel of a pool request (8.0 removed the pool's get_aio_context, so it
// aborts; bdrv_aio_cancel_async stays), and a foreign thread may add and remove fd
// handlers (copy-on-write under the list's QemuLockCnt: claim S5 refuted there).
// Misuse mode adds the foreign pool submit (an assertion since 8.0: claim S7).
#ifndef AIOSIM_PROPERTIES_SUITES_H_
#define AIOSIM_PROPERTIES_SUITES_H_

#include <string>
#include <string_view>
#include <vector>

#include "core/aio/aio.h"
#include "properties/harness.h"
#include "properties/program.h"
#include "rapidcheck.h"
#include "scenarios/catalog.h"

namespace aiosim::properties {

struct Suite {
  std::string id;     // "bh"
  std::string title;  // one line
  int foreign_max = 2;
  // The operations each role may use, before the mode's additions.
  std::vector<OpCode> home;
  std::vector<OpCode> foreign;
};

const std::vector<Suite>& Suites();
const Suite* FindSuite(std::string_view id);
std::string SuiteIds();  // "bh, fd, timer, pool, notify, mixed"

// The operations a thread may use in `suite` under `mode` with `switches`.
std::vector<OpCode> AllowedOps(const Suite& suite, bool foreign, Mode mode,
                               uint32_t switches, core::AioGeneration generation);
// Whether `program` keeps to AllowedOps (a replayed or hand-written program need not).
bool Conforms(const Program& program, const Suite& suite, Mode mode, uint32_t switches,
              core::AioGeneration generation);

// The generator: 1 to foreign_max foreign threads beside the home thread, each with
// up to `ops_max` operations; shrinks towards fewer threads, fewer operations, lower
// object numbers and earlier operations of the suite's lists.
rc::Gen<Program> GenProgram(const Suite& suite, Mode mode, uint32_t switches,
                            core::AioGeneration generation, int ops_max = 8);

// Exactly `count` operations for one thread (benchmarks: fixed-size programs).
rc::Gen<std::vector<Op>> GenThreadOps(const Suite& suite, bool foreign, Mode mode,
                                      uint32_t switches, core::AioGeneration generation,
                                      int count);

// The scenario of a suite, as tokens and 'aiosim replay' / 'aiosim run' know it: id
// "prop-<suite>", options program=<Encode> (required to mean anything; the default is
// an empty home thread), mode=documented|strict|misuse, revert/fix over every
// switch of the legacy core, and generation (legacy or modern, as every scenario).
const std::vector<scenarios::Scenario>& PropertyScenarios();
const scenarios::Scenario* FindPropertyScenario(std::string_view id);
std::string ScenarioIdOf(const Suite& suite);  // "prop-bh"

// The switches of "fixed code": QEMU 2.8.1 with every later fix of the catalog applied
// (R8, R9-accept, R9-home, R10, R12, R18-expired) and P1's (found by these suites).
uint32_t FixedSwitches();
std::string FixedSwitchIds();  // "P1,R10,R12,R18-expired,R8,R9-accept,R9-home"

}  // namespace aiosim::properties

#endif  // AIOSIM_PROPERTIES_SUITES_H_
