// scenarios/races.h — the race catalog of QEMU-SEMANTICS.md §3 as data: each historical
// race's status in the legacy generation (QEMU 2.8.1 as shipped) and in the modern one
// (QEMU 10.2), its switch, and
// (through Scenario::catalog) the scenarios that exercise it. `aiosim list` and
// `aiosim claims` read it; `aiosim check` checks every scenario behind it.
// SPDX-License-Identifier: GPL-2.0-or-later
#ifndef AIOSIM_SCENARIOS_RACES_H_
#define AIOSIM_SCENARIOS_RACES_H_

#include <string>
#include <string_view>
#include <vector>

namespace aiosim::scenarios {

enum class RaceStatus {
  kPresent,        // 2.8.1 still has the bug (a later fix may be a --fix switch)
  kFixed,          // 2.8.1 has the fix (a --revert switch puts the bug back)
  kWeakMemory,     // needs loads and stores to reorder: declared, not run under SC
  kNotApplicable,  // the code it is about does not exist in 2.8.1 (or in aiosim)
  kNotYetBuilt,    // modern only: the code it is about is not in aiosim's modern core yet
};
const char* RaceStatusName(RaceStatus status);

struct RaceEntry {
  std::string id;  // "R4"
  std::string title;
  std::string commit;  // the fixing commit(s) and release
  RaceStatus legacy;   // in QEMU 2.8.1 as shipped
  std::string why;     // for kWeakMemory / kNotApplicable: why; else what the switch does
  // In QEMU 10.2 (the modern generation), and why. Where a scenario behind the entry
  // runs on modern, `aiosim check --generation modern` checks it.
  RaceStatus modern = RaceStatus::kNotYetBuilt;
  std::string modern_why;
};

// R1..R18 in catalog order.
const std::vector<RaceEntry>& Races();
const RaceEntry* FindRace(std::string_view id);

}  // namespace aiosim::scenarios

#endif  // AIOSIM_SCENARIOS_RACES_H_
