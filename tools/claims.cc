// tools/claims.cc — `aiosim claims`: the seed's claims S1–S8, each with its verdict and
// the evidence of the searches behind it (scenarios/claims.h). See run.h.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "scenarios/claims.h"

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "reports/model.h"
#include "tools/interrupt.h"
#include "tools/json.h"
#include "tools/report_dir.h"
#include "tools/run.h"
#include "tools/sim_args.h"

namespace aiosim::tools {

const char kClaimsUsage[] =
    "usage: aiosim claims [S1...] [flags]\n"
    "\n"
    "The seed document's claims about thread safety in QEMU 2.8's AIO API\n"
    "(SEED-CLAIMS.md), each with its verdict — confirmed, refuted, documented race, or\n"
    "needs weak memory — and the evidence: the scenarios behind it, checked now as\n"
    "'aiosim check' does (executions to the first failure per strategy, or the bound\n"
    "to which the exhaustive search is complete). A verdict is printed only if every\n"
    "check behind it holds.\n"
    "\n"
    "flags:\n"
    "  --format F       text (default) or md (a Markdown table)\n"
    "  --executions N   random and PCT budget per case (default 10000)\n"
    "  --generation G   legacy (QEMU 2.8.1, the seed's; default) or modern (QEMU 10.2:\n"
    "                   each claim's verdict there, where its scenarios run on modern;\n"
    "                   the others say why not, and count neither way)\n"
    "  --json           one JSON object\n"
    "  --report DIR     also write the claims table into DIR (created if missing):\n"
    "                   claims-<generation>.md, .html, .json and .junit.xml (one\n"
    "                   testcase per check behind a claim); default\n"
    "                   $AIOSIM_REPORT_DIR if set\n"
    "  --quiet          no progress lines on stderr\n"
    "  --help           this help\n"
    "\n"
    "exit codes: 0 every claim has a verified verdict, 1 some has not, 2 bad input,\n"
    "            3 stdout could not be written, 130 / 143 interrupted\n";

namespace {

constexpr FlagSpec kClaimsFlags[] = {
    {"format", "F"}, {"executions", "N"}, {"json", ""}, {"quiet", ""}, {"generation", "G"},
    {"report", "DIR"},
};

std::string MdCell(std::string s) {
  return absl::StrReplaceAll(s, {{"|", "\\|"}, {"\n", " "}});
}

bool g_modern = false;  // --generation modern (one command per process)

const std::string& Why(const scenarios::ClaimResult& r) {
  return r.not_run ? r.not_run_why : g_modern ? r.claim->modern_why : r.claim->why;
}

std::string Text(const std::vector<scenarios::ClaimResult>& results) {
  std::string out =
      g_modern
          ? "The seed's claims about QEMU 2.8's AIO API (SEED-CLAIMS.md), asked of QEMU 10.2:\n"
            "searches of the modern core under the simulator:\n\n"
          : "The seed's claims about QEMU 2.8's AIO API (SEED-CLAIMS.md), adjudicated by\n"
            "searches of the legacy core (QEMU 2.8.1) under the simulator:\n\n";
  for (const scenarios::ClaimResult& r : results) {
    absl::StrAppendFormat(&out, "%s  %s\n", r.claim->id,
                          absl::AsciiStrToUpper(r.verdict));
    absl::StrAppendFormat(&out, "    claim:     %s\n", r.claim->claim);
    if (!Why(r).empty()) absl::StrAppendFormat(&out, "    why:       %s\n", Why(r));
    for (const scenarios::CheckResult& c : r.checks) {
      absl::StrAppendFormat(&out, "    evidence:  %s%s: %s\n", c.ok ? "" : "FAIL ",
                            scenarios::CaseName(c.c), c.evidence);
    }
    if (!r.scenarios.empty()) {
      absl::StrAppendFormat(&out, "    scenarios: %s ('aiosim list', 'aiosim run %s%s')\n",
                            absl::StrJoin(r.scenarios, ", "), r.scenarios.front(),
                            g_modern && !r.not_run ? " --generation modern" : "");
    }
    out += "\n";
  }
  return out;
}

std::string Markdown(const std::vector<scenarios::ClaimResult>& results) {
  std::string out =
      "| id | claim (seed) | verdict | evidence | scenario |\n|---|---|---|---|---|\n";
  for (const scenarios::ClaimResult& r : results) {
    absl::StrAppendFormat(&out, "| %s | %s | **%s**%s | %s | %s |\n", r.claim->id,
                          MdCell(r.claim->claim), MdCell(r.verdict),
                          Why(r).empty() ? "" : ": " + MdCell(Why(r)),
                          MdCell(r.evidence), absl::StrJoin(r.scenarios, ", "));
  }
  return out;
}

std::string Json(const std::vector<scenarios::ClaimResult>& results, bool all_verified) {
  std::vector<std::string> items;
  for (const scenarios::ClaimResult& r : results) {
    std::vector<std::string> checks;
    for (const scenarios::CheckResult& c : r.checks) {
      JsonObject j;
      j.Str("case", scenarios::CaseName(c.c))
          .Bool("ok", c.ok)
          .Str("evidence", c.evidence);
      checks.push_back(j.Close());
    }
    JsonObject j;
    j.Str("id", r.claim->id)
        .Str("claim", r.claim->claim)
        .Str("verdict", r.verdict)
        .Str("why", Why(r))
        .Bool("verified", r.verified)
        .Bool("not_run", r.not_run)
        .Raw("scenarios", JsonArray(r.scenarios))
        .Raw("checks", "[" + absl::StrJoin(checks, ", ") + "]");
    items.push_back(j.Close());
  }
  JsonObject j;
  j.Bool("ok", all_verified)
      .Str("generation", g_modern ? "modern" : "legacy")
      .Raw("claims", "[" + absl::StrJoin(items, ",\n  ") + "]");
  return j.Close();
}

// The claims as a report table (reports/model.h): the Markdown table's columns, and
// one case per check behind a claim.
reports::Table ClaimsTable(const std::vector<scenarios::ClaimResult>& results) {
  reports::Table t;
  t.title = std::string("The seed's claims, on QEMU ") + (g_modern ? "10.2 (modern)" : "2.8.1 (legacy)");
  t.columns = {"id", "claim (seed)", "verdict", "why", "evidence", "scenarios"};
  int verified = 0;
  for (const scenarios::ClaimResult& r : results) {
    verified += r.verified ? 1 : 0;
    t.cells.push_back({r.claim->id, r.claim->claim, r.verdict, Why(r), r.evidence,
                       absl::StrJoin(r.scenarios, ", ")});
    for (const scenarios::CheckResult& c : r.checks) {
      reports::CaseRow row;
      row.name = absl::StrCat(r.claim->id, ": ", scenarios::CaseName(c.c));
      row.group = std::string("claims ") + (g_modern ? "modern" : "legacy");
      row.expected = sim::FailureKindName(c.c.expected);
      row.got = c.ok ? "as declared" : "not as declared";
      row.ok = c.ok;
      row.evidence = c.evidence;
      for (const scenarios::CheckRun& run : c.runs) row.seconds += run.seconds;
      if (!c.ok) row.failure = c.evidence;
      t.cases.push_back(std::move(row));
    }
  }
  t.summary = absl::StrFormat("%d of %d claims verified", verified,
                              static_cast<int>(results.size()));
  return t;
}

}  // namespace

int ClaimsMain(Args args) {
  absl::StatusOr<ParsedArgs> parsed = ParseArgs("claims", args, kClaimsFlags);
  if (!parsed.ok()) {
    absl::FPrintF(stderr, "aiosim claims: %s\n", OneLine(parsed.status()));
    return kExitBadInput;
  }
  if (parsed->help) {
    WriteStdout(kClaimsUsage);
    return kExitOk;
  }
  scenarios::CheckBudget budget;
  std::string format = "text";
  bool json = false, quiet = false;
  for (const ParsedFlag& flag : parsed->flags) {
    if (flag.name == "format") {
      if (flag.value != "text" && flag.value != "md") {
        absl::FPrintF(stderr, "aiosim claims: --format: '%s' (expected text or md)\n",
                      Shown(flag.value));
        return kExitBadInput;
      }
      format = std::string(flag.value);
    } else if (flag.name == "executions") {
      absl::StatusOr<uint64_t> n = ParseUint(flag.name, flag.value, 1, uint64_t{1} << 40);
      if (!n.ok()) {
        absl::FPrintF(stderr, "aiosim claims: %s\n", OneLine(n.status()));
        return kExitBadInput;
      }
      budget.executions = *n;
    } else if (flag.name == "json") {
      json = true;
    } else if (flag.name == "quiet") {
      quiet = true;

    } else if (flag.name == "generation") {
      absl::StatusOr<core::AioGeneration> g = ParseGenerationFlag(flag.value);
      if (!g.ok()) {
        absl::FPrintF(stderr, "aiosim claims: %s\n", OneLine(g.status()));
        return kExitBadInput;
      }
      g_modern = *g == core::AioGeneration::kModern;
    }
  }
  const absl::StatusOr<std::string> report_dir = ReportDirOf(parsed->flags);
  if (!report_dir.ok()) {
    absl::FPrintF(stderr, "aiosim claims: %s\n", OneLine(report_dir.status()));
    return kExitBadInput;
  }
  std::vector<std::string> ids;
  for (std::string_view id : parsed->positional) {
    bool known = false;
    for (const scenarios::Claim& c : scenarios::Claims()) {
      known |= absl::AsciiStrToUpper(std::string(id)) == c.id;
    }
    if (!known) {
      absl::FPrintF(stderr, "aiosim claims: unknown claim '%s' (expected S1..S8)\n",
                    Shown(id));
      return kExitBadInput;
    }
    ids.emplace_back(id);
  }
  CatchStopSignals();
  budget.stop = [] { return StopSignal() != 0; };
  auto progress = [quiet](const std::string& what) {
    if (!quiet) absl::FPrintF(stderr, "aiosim claims: checking %s\n", what);
  };
  const std::vector<scenarios::ClaimResult> results =
      scenarios::Adjudicate(ids, budget, progress,
                            g_modern ? core::AioGeneration::kModern
                                     : core::AioGeneration::kLegacy);
  bool all_verified = true;
  for (const scenarios::ClaimResult& r : results) all_verified &= r.verified || r.not_run;
  int code = all_verified ? kExitOk : kExitFailure;
  if (!report_dir->empty()) {
    absl::StatusOr<std::string> written =
        WriteTableFiles(*report_dir, std::string("claims-") + (g_modern ? "modern" : "legacy"),
                        ClaimsTable(results));
    if (!written.ok()) {
      absl::FPrintF(stderr, "aiosim claims: %s\n", OneLine(written.status()));
      code = kExitOutput;
    } else if (!quiet) {
      absl::FPrintF(stderr, "aiosim claims: report: %s\n", *written);
    }
  }
  if (json) {
    WriteStdout(Json(results, all_verified) + "\n");
  } else {
    WriteStdout(format == "md" ? Markdown(results) : Text(results));
  }
  if (!FlushStdout()) {
    absl::FPrintF(stderr, "aiosim claims: cannot write to stdout (%s)\n", StdoutError());
    return kExitOutput;
  }
  if (const int signal = StopSignal(); signal != 0) {
    ReRaise(signal);
    return 128 + signal;
  }
  return code;
}

}  // namespace aiosim::tools
