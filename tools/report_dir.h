// tools/report_dir.h — `--report DIR` (and AIOSIM_REPORT_DIR): writes a report's files
// (reports/render.h) into a directory, and the one listing that run, replay and prop
// print as the schedule.
// SPDX-License-Identifier: GPL-2.0-or-later
#ifndef AIOSIM_TOOLS_REPORT_DIR_H_
#define AIOSIM_TOOLS_REPORT_DIR_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "reports/from_sim.h"
#include "reports/model.h"
#include "sim/aiosim_sim.h"

namespace aiosim::tools {

// The environment variable that gives --report's directory when the flag is absent
// (for ctest and CI).
inline constexpr const char* kReportDirEnv = "AIOSIM_REPORT_DIR";

// The report directory: `flag` if given (even ""), else $AIOSIM_REPORT_DIR, else "".
std::string ReportDir(bool flag_given, std::string_view flag);

// Writes <stem>.txt, .md, .html and .json into `dir` (created if missing, parents
// too). Errors name the file.
absl::Status WriteReportFiles(const std::string& dir, const std::string& stem,
                              const reports::Report& report);
// Writes <stem>.md, .html, .json and .junit.xml.
absl::Status WriteTableFiles(const std::string& dir, const std::string& stem,
                             const reports::Table& table);

// The schedule listing of an execution as every command prints it.
std::string ScheduleListing(const sim::ExecResult& r);

}  // namespace aiosim::tools

#endif  // AIOSIM_TOOLS_REPORT_DIR_H_
