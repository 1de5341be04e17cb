// scenarios/known_races.h — QEMU 2.8.1's data races by design (docs/tsan-races.md,
// T1..T9), as the simulator's race detector lets them through by default.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// The list is docs/tsan-known-races.txt itself, embedded at build time, so TSan's gate
// (scripts/tsan-summary) and the simulator's `--races` use one list. LegacyKnownRaces
// registers it with the simulator (sim::SetKnownRaces) on first use; the catalog calls
// it, so every binary that runs scenarios has it. Thread-safe (a function-local
// static).
#ifndef AIOSIM_SCENARIOS_KNOWN_RACES_H_
#define AIOSIM_SCENARIOS_KNOWN_RACES_H_

#include "sim/race.h"

namespace aiosim::scenarios {

const sim::KnownRaces& LegacyKnownRaces();

}  // namespace aiosim::scenarios

#endif  // AIOSIM_SCENARIOS_KNOWN_RACES_H_
