// tools/prop.cc — `aiosim prop`: the property suites from the command line
// (properties/driver.h), with run's exit codes. See run.h.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "properties/driver.h"
#include "reports/from_sim.h"
#include "tools/interrupt.h"
#include "tools/json.h"
#include "tools/report_dir.h"
#include "tools/run.h"

namespace aiosim::tools {

const char kPropUsage[] =
    "usage: aiosim prop <suite|all> [flags]\n"
    "\n"
    "Runs property suites: RapidCheck generates multi-thread programs over the AIO\n"
    "core, the simulator explores interleavings of each (half random, half PCT), and a\n"
    "model of QEMU's contract (QEMU-SEMANTICS.md 2.7) judges every execution. A\n"
    "failure is shrunk (program, then schedule) and printed with the minimal program\n"
    "as a per-thread table, the minimal interleaving, and two reproduce lines.\n"
    "suites: bh, fd, timer, pool, notify, mixed; 'all' runs each in turn.\n"
    "\n"
    "flags:\n"
    "  --generation G   legacy (QEMU 2.8.1, default) or modern (QEMU 10.2: the lists\n"
    "                   follow 10.2's contract: no external clients, no foreign\n"
    "                   aio_poll or bdrv_aio_cancel; foreign fd handler changes)\n"
    "  --mode M         documented (default), strict (a callback after a foreign\n"
    "                   cancel returned fails), misuse (foreign calls of home-only\n"
    "                   functions are generated too)\n"
    "  --revert IDS     take out fixes QEMU 2.8.1 has (e.g. R4); comma-separated\n"
    "  --fix IDS        apply later fixes (e.g. R9-accept,R10); 'fixed' = all of them\n"
    "                   (on modern: 'fixed' is 10.2 itself, and no --fix exists)\n"
    "  --programs N     programs per suite (default 100)\n"
    "  --executions N   interleavings per program (default 200)\n"
    "  --strategy S     both (default: half random, half PCT), random or pct\n"
    "  --ops N          operations per thread at most (default 8, at most 12)\n"
    "  --seed N         RapidCheck's seed (default 1)\n"
    "  --json           one JSON object: {\"ok\", \"interrupted\", \"suites\": [...]}\n"
    "  --quiet          no progress lines on stderr\n"
    "  --help           this help\n"
    "\n"
    "exit codes: 0 no failure, 1 a failure found, 2 bad input, 3 stdout could not be\n"
    "            written, 130 / 143 interrupted (after the summary)\n";

namespace {

constexpr FlagSpec kPropFlags[] = {
    {"generation", "G"}, {"mode", "M"},       {"revert", "IDS"}, {"fix", "IDS"},
    {"programs", "N"},   {"executions", "N"}, {"ops", "N"},      {"seed", "N"},
    {"strategy", "S"},   {"json", ""},        {"quiet", ""},
    {"report", "DIR"},
};

std::string ProbesJson(const properties::ProbeCounts& p) {
  JsonObject j;
  for (int i = 0; i < properties::kProbeCount; ++i) {
    j.Uint(properties::ProbeName(i), p.hits[i]);
  }
  return j.Close();
}

}  // namespace

int PropMain(Args args) {
  absl::StatusOr<ParsedArgs> parsed = ParseArgs("prop", args, kPropFlags);
  auto bad = [](const std::string& message) {
    absl::FPrintF(stderr, "aiosim prop: %s\n", message);
    return kExitBadInput;
  };
  if (!parsed.ok()) return bad(OneLine(parsed.status()));
  if (parsed->help) {
    std::fputs(kPropUsage, stdout);
    return kExitOk;
  }
  if (parsed->positional.size() != 1) {
    return bad(parsed->positional.empty()
                   ? absl::StrFormat("missing suite (expected one of: %s, all)",
                                     properties::SuiteIds())
                   : absl::StrFormat("unexpected argument '%s' (expected one suite)",
                                     Shown(parsed->positional[1])));
  }
  properties::PropertySettings base;
  bool json = false, quiet = false;
  for (const ParsedFlag& f : parsed->flags) {
    const std::string v(f.value);
    if (f.name == "generation") {
      if (!core::ParseAioGeneration(v, &base.generation)) {
        return bad(absl::StrFormat(
            "--generation: '%s': unknown generation (expected: legacy, modern)", Shown(v)));
      }
    } else if (f.name == "mode") {
      absl::StatusOr<properties::Mode> m = properties::ParseMode(v);
      if (!m.ok()) return bad(absl::StrCat("--mode: ", m.status().message()));
      base.mode = *m;
    } else if (f.name == "revert") {
      base.revert = v;
    } else if (f.name == "fix") {
      base.fix = v;
    } else if (f.name == "programs" || f.name == "executions" || f.name == "ops" ||
               f.name == "seed") {
      const uint64_t max = f.name == "programs"     ? 1'000'000
                           : f.name == "executions" ? 100'000'000
                           : f.name == "ops"        ? properties::kOpsPerThreadMax
                                                    : (uint64_t{1} << 53);
      absl::StatusOr<uint64_t> n =
          ParseUint("--" + std::string(f.name), v, f.name == "seed" ? 0 : 1, max);
      if (!n.ok()) return bad(OneLine(n.status()));
      if (f.name == "programs") base.programs = static_cast<int>(*n);
      if (f.name == "executions") base.executions = *n;
      if (f.name == "ops") base.ops_max = static_cast<int>(*n);
      if (f.name == "seed") base.seed = *n;
    } else if (f.name == "strategy") {
      if (v != "both" && v != "random" && v != "pct") {
        return bad(absl::StrFormat(
            "--strategy: '%s' is not a strategy (expected both, random or pct)", Shown(v)));
      }
      base.strategy = v;
    } else if (f.name == "json") {
      json = true;
    } else if (f.name == "quiet") {
      quiet = true;
    }
  }
  const absl::StatusOr<std::string> report_dir_or = ReportDirOf(parsed->flags);
  if (!report_dir_or.ok()) return bad(OneLine(report_dir_or.status()));
  const std::string& report_dir = *report_dir_or;
  bool report_failed = false;
  std::vector<const properties::Suite*> suites;
  const std::string which(parsed->positional[0]);
  if (which == "all") {
    for (const properties::Suite& s : properties::Suites()) suites.push_back(&s);
  } else if (const properties::Suite* s = properties::FindSuite(which)) {
    suites.push_back(s);
  } else {
    return bad(absl::StrFormat("unknown suite '%s' (expected one of: %s, all)",
                               Shown(which), properties::SuiteIds()));
  }
  const bool modern = base.generation == core::AioGeneration::kModern;
  // 'fixed': every later fix of the catalog on 2.8.1; QEMU 10.2 has them all.
  if (base.fix == "fixed") base.fix = modern ? "none" : properties::FixedSwitchIds();
  base.suite = suites.front();
  if (absl::StatusOr<scenarios::Options> o =
          properties::PropertyOptions(base, properties::Program{{{}}});
      !o.ok()) {
    return bad(OneLine(o.status()));
  }

  CatchStopSignals();
  bool any_failed = false;
  bool interrupted = false;
  std::vector<std::string> results;
  for (const properties::Suite* suite : suites) {
    properties::PropertySettings s = base;
    s.suite = suite;
    s.test_id = "aiosim/prop/" + suite->id;
    s.progress = [&](int programs, uint64_t executions) {
      if (!quiet && programs % 10 == 0) {
        absl::FPrintF(stderr, "aiosim prop %s: %d programs, %d executions\n", suite->id,
                      programs, executions);
      }
      return StopSignal() != 0;
    };
    const properties::PropertyResult r = properties::RunProperty(s);
    if (!r.error.empty()) return bad(r.error);
    any_failed |= r.failed;
    std::string report_line;
    if (r.failed && !report_dir.empty()) {
      reports::RunInfo info;
      info.scenario = "prop-" + suite->id;
      info.generation = core::AioGenerationName(base.generation);
      info.options = absl::StrFormat("mode=%s revert=%s fix=%s", properties::ModeName(s.mode),
                                     s.revert, s.fix);
      info.token = r.token;
      info.search = absl::StrFormat("property suite %s: program %s (%d programs, %d shrinks)",
                                    suite->id, properties::Encode(r.program), r.programs,
                                    r.shrinks);
      reports::Report rep = reports::BuildReport(r.report.failing, info);
      rep.details.insert(rep.details.begin(),
                         "program:\n" + properties::Describe(r.program));
      absl::StatusOr<std::string> written =
          WriteReportFiles(report_dir, "prop-" + suite->id, rep);
      if (written.ok()) {
        report_line = absl::StrCat("report: ", *written, "\n");
      } else {
        absl::FPrintF(stderr, "aiosim prop: %s\n", OneLine(written.status()));
        report_failed = true;
      }
    }
    const double eps = r.seconds > 0 ? static_cast<double>(r.executions) / r.seconds : 0;
    if (json) {
      JsonObject j;
      j.Str("suite", suite->id)
          .Str("generation", core::AioGenerationName(base.generation))
          .Str("mode", properties::ModeName(s.mode))
          .Str("revert", s.revert)
          .Str("fix", s.fix)
          .Str("strategy", s.strategy)
          .Uint("executions_per_program", s.executions)
          .Bool("found", r.failed)
          .Bool("interrupted", r.stopped)
          .Uint("programs", r.programs)
          .Uint("shrinks", r.shrinks)
          .Uint("executions", r.executions)
          .Num("seconds", r.seconds, 3)
          .Num("executions_per_second", eps, 0)
          .Raw("probes", ProbesJson(r.probes));
      if (r.failed) {
        const sim::Failure& f = r.report.failing.failure;
        j.Str("kind", sim::FailureKindName(f.kind))
            .Str("message", f.message)
            .Str("where", f.where)
            .Str("program", properties::Encode(r.program))
            .Str("program_table", properties::Describe(r.program))
            .Uint("first_failure_executions", r.first_failure_executions)
            .Num("first_failure_seconds", r.first_failure_seconds, 3)
            .Str("schedule", ScheduleListing(r.report.failing))
            .Str("rc_params", r.rc_reproduce)
            .Str("token", r.token);
      }
      results.push_back(j.Close());
    } else {
      if (r.failed) WriteStdout(r.text + "\n" + report_line);
      std::string probes;
      for (int i = 0; i < properties::kProbeCount; ++i) {
        absl::StrAppendFormat(&probes, "\n    %-40s %d", properties::ProbeName(i),
                              r.probes.hits[i]);
      }
      WriteStdout(absl::StrFormat(
          "prop %s (%s%s, revert %s, fix %s): %s; %d programs, %d executions, %.1f s "
          "(%.0f executions/s)%s\n  probes (executions that reached each):%s\n",
          suite->id, modern ? "modern, " : "", properties::ModeName(s.mode), s.revert, s.fix,
          r.failed ? "FAILED" : "no failure", r.programs, r.executions, r.seconds, eps,
          r.stopped ? ", interrupted" : "", probes));
    }
    FlushStdout();
    if (r.stopped) {
      interrupted = true;
      break;
    }
  }
  if (json) {
    JsonObject j;
    j.Bool("ok", !any_failed && !interrupted)
        .Bool("interrupted", interrupted)
        .Raw("suites", "[" + absl::StrJoin(results, ",\n  ") + "]");
    WriteStdout(j.Close() + "\n");
  }
  if (!FlushStdout()) {
    absl::FPrintF(stderr, "aiosim prop: cannot write to stdout (%s)\n", StdoutError());
    return kExitOutput;
  }
  if (const int signal = StopSignal(); signal != 0) {
    ReRaise(signal);
    return 128 + signal;
  }
  if (report_failed) return kExitOutput;
  return any_failed ? kExitFailure : kExitOk;
}

}  // namespace aiosim::tools
