// tools/run_report.h — what `aiosim run` prints: the header before the search, and
// the summary after it, as text or as one JSON object (run_report.cc).
// SPDX-License-Identifier: GPL-2.0-or-later
//
// The text follows TigerBeetle's VOPR: first every derived option (so that a run can
// be repeated from its log alone), then the result; a failure, and an interrupted
// run, end with one ready-to-paste line, `reproduce: aiosim replay <token>`. That line
// is the last one and is printed even if formatting the rest fails.
//
// Threading: writes to stdout; call from one thread.
#ifndef AIOSIM_TOOLS_RUN_REPORT_H_
#define AIOSIM_TOOLS_RUN_REPORT_H_

#include <cstdint>
#include <limits>
#include <memory>
#include <string>

#include "reports/model.h"
#include "sim/aiosim_sim.h"
#include "sim/token_file.h"
#include "tools/sim_args.h"

namespace aiosim::tools {

inline constexpr uint64_t kUnlimited = std::numeric_limits<uint64_t>::max();

// A parsed `aiosim run` command line.
struct RunArgs {
  ScenarioChoice choice;
  sim::RunConfig config;  // config.token_file is token_file.get()
  bool json = false;
  std::unique_ptr<sim::TokenFile> token_file;  // nullptr for --token-file ''
  // --report DIR (or $AIOSIM_REPORT_DIR): where the failure's report goes ("" none);
  // after the search, `report_line` says what was written there (or why not).
  std::string report_dir;
  std::string report_line;
};

// The report of the failure `r` found by `run` (reports/model.h).
reports::Report RunFailureReport(const RunArgs& run, const sim::Report& r);
// A file name stem for a scenario's report: "R4_revert_R4".
std::string ReportStem(const ScenarioChoice& choice);

// The header: scenario, strategy, seed, budget, simulator options, the declared
// outcome and the token file.
void PrintRunHeader(const RunArgs& run);

// The summary of `r` as text. `signal` is the signal that interrupted the run (0 if
// it was not interrupted).
void PrintRunText(const RunArgs& run, const sim::Report& r, int signal);

// The header's options and the summary as one JSON object, without a final newline.
// Never throws: if building it fails, a smaller object that keeps the token.
std::string RunJson(const RunArgs& run, const sim::Report& r, int signal);

// One line for stderr when stdout failed, so that the result is not lost: what was
// found, the token file and the reproduce line ("" parts left out).
std::string RunResultLine(const RunArgs& run, const sim::Report& r, int signal);

}  // namespace aiosim::tools

#endif  // AIOSIM_TOOLS_RUN_REPORT_H_
