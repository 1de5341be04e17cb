// tools/report_dir.h — `--report DIR` (and AIOSIM_REPORT_DIR): writes a report's files
// (reports/render.h) into a directory, and the one listing that run, replay and prop
// print as the schedule.
// SPDX-License-Identifier: GPL-2.0-or-later
#ifndef AIOSIM_TOOLS_REPORT_DIR_H_
#define AIOSIM_TOOLS_REPORT_DIR_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "reports/from_sim.h"
#include "reports/model.h"
#include "sim/aiosim_sim.h"
#include "tools/flags.h"

namespace aiosim::tools {

// The environment variable that gives --report's directory when the flag is absent
// (for ctest and CI).
inline constexpr const char* kReportDirEnv = "AIOSIM_REPORT_DIR";

// The report directory of a command line: --report's value (the last one), else
// $AIOSIM_REPORT_DIR, else "" (none). Error: --report ''.
absl::StatusOr<std::string> ReportDirOf(const std::vector<ParsedFlag>& flags);

// Writes <stem>.txt, .md, .html and .json into `dir` (created if missing, parents
// too). Returns what to print: "DIR/<stem>.html (and .txt, .md, .json)". Errors name
// the file.
absl::StatusOr<std::string> WriteReportFiles(const std::string& dir,
                                             const std::string& stem,
                                             const reports::Report& report);
// Writes <stem>.md, .html, .json and .junit.xml; returns "DIR/<stem>.html (and .md,
// .json, .junit.xml)".
absl::StatusOr<std::string> WriteTableFiles(const std::string& dir, const std::string& stem,
                                            const reports::Table& table);

// The schedule listing of an execution as every command prints it.
std::string ScheduleListing(const sim::ExecResult& r);

}  // namespace aiosim::tools

#endif  // AIOSIM_TOOLS_REPORT_DIR_H_
