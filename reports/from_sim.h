// reports/from_sim.h — a report (model.h) from a simulator result: the only part of
// reports/ that includes sim/. It names objects as the core named them, folds the
// set-up and repeated rows, finds the rows to highlight and the watched state.
// SPDX-License-Identifier: GPL-2.0-or-later
#ifndef AIOSIM_REPORTS_FROM_SIM_H_
#define AIOSIM_REPORTS_FROM_SIM_H_

#include <string>

#include "reports/model.h"
#include "sim/aiosim_sim.h"

namespace aiosim::reports {

// What the caller knows of the run beyond the execution itself.
struct RunInfo {
  std::string scenario;
  std::string generation = "legacy";
  std::string options;  // "revert=R4"
  std::string token;
  std::string search;   // how the execution was found, one line
};

// The report of one execution (its trace must have been recorded: ExecOptions::
// record_trace, as the minimised failure and a replay have).
Report BuildReport(const sim::ExecResult& r, const RunInfo& info);

// "legacy/async.cc:125 qemu_bh_schedule": a source location as a report shows it.
std::string WhereText(const aiosim::core::SrcLoc& loc);

}  // namespace aiosim::reports

#endif  // AIOSIM_REPORTS_FROM_SIM_H_
