// tools/replay.cc — `aiosim replay`: see run.h.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// A token carries the scenario, generation, strategy, seed, options (the
// simulator's and the scenario's) and the recorded choices. Replay rebuilds the
// scenario's body from the token's scenario options and feeds the choices back
// (sim::ReplayToken); a token without choices (the one the explorer writes before
// each execution) names an execution index, which is regenerated from the strategy
// and seed. The trace hash printed is the one `aiosim run` printed for the token.
#include <exception>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "properties/suites.h"
#include "reports/from_sim.h"
#include "scenarios/catalog.h"
#include "sim/aiosim_sim.h"
#include "tools/json.h"
#include "tools/run.h"
#include "tools/report_dir.h"
#include "tools/run_report.h"
#include "tools/sim_args.h"

namespace aiosim::tools {

const char kReplayUsage[] =
    "usage: aiosim replay <token-or-file> [--json] [--report DIR]\n"
    "\n"
    "Re-runs the one execution a token describes, exactly: the scenario with the\n"
    "token's options, its recorded choices, and prints the failure (or \"no failure\"),\n"
    "the interleaving per thread, and the trace hash (the same as 'aiosim run' "
    "printed).\n"
    "The argument is a token (aiosim2:...) or a file holding one, such as the token\n"
    "file 'aiosim run' writes before each execution.\n"
    "\n"
    "flags:\n"
    "  --json         print one JSON object instead of text\n"
    "  --report DIR   also write the execution's report into DIR (created if\n"
    "                 missing): <scenario>.txt, .md, .html (a timeline per thread)\n"
    "                 and .json; default $AIOSIM_REPORT_DIR if set\n"
    "  --help         show this help\n"
    "\n"
    "exit codes: 0 the execution ran without failure, 1 it failed (replay-diverged\n"
    "included: the program no longer fits the recorded choices), 2 bad input (an\n"
    "unreadable file, a corrupt token, an unknown scenario or option)\n";

namespace {

constexpr FlagSpec kReplayFlags[] = {{"json", ""}, {"report", "DIR"}};

struct Replay {
  sim::TokenData token;
  ScenarioChoice choice;
  sim::RunConfig config;  // the token's options applied
  std::string execution;  // the token's execution index, "" if it has choices
  bool json = false;
  std::string report_dir;  // --report DIR or $AIOSIM_REPORT_DIR ("" none)
};

absl::StatusOr<sim::TokenData> LoadToken(std::string_view arg) {
  if (sim::LooksLikeToken(arg)) return sim::DecodeToken(arg);
  absl::StatusOr<sim::TokenData> token = sim::ReadTokenFile(std::string(arg));
  if (token.ok()) return token;
  // The message names the path: show it as Shown() does, to keep one short line.
  std::string message(token.status().message());
  if (const size_t at = message.find(arg); at != std::string::npos && !arg.empty()) {
    message.replace(at, arg.size(), Shown(arg));
  }
  if (!absl::IsInvalidArgument(token.status())) {
    message += " (expected a token aiosim2:... or a file holding one)";
  }
  return absl::Status(token.status().code(), message);
}

absl::StatusOr<Replay> ParseReplayArgs(Args args, bool* help) {
  absl::StatusOr<ParsedArgs> parsed = ParseArgs("replay", args, kReplayFlags);
  if (!parsed.ok()) return parsed.status();
  *help = parsed->help;
  Replay replay;
  if (parsed->help) return replay;
  for (const ParsedFlag& flag : parsed->flags) {
    if (flag.name == "json") replay.json = true;
  }
  absl::StatusOr<std::string> report_dir = ReportDirOf(parsed->flags);
  if (!report_dir.ok()) return report_dir.status();
  replay.report_dir = *std::move(report_dir);
  if (parsed->positional.size() != 1) {
    return absl::InvalidArgumentError(
        parsed->positional.empty()
            ? std::string("missing token (expected a token aiosim2:... or a file holding "
                          "one, as printed by 'aiosim run')")
            : absl::StrFormat("unexpected argument '%s' (expected one token or file)",
                              Shown(parsed->positional[1])));
  }
  absl::StatusOr<sim::TokenData> token = LoadToken(parsed->positional[0]);
  if (!token.ok()) return token.status();
  replay.token = *std::move(token);
  if (absl::Status s = sim::ApplyTokenOptions(replay.token, &replay.config); !s.ok()) {
    return s;
  }
  core::AioGeneration generation;
  if (!core::ParseAioGeneration(replay.token.generation, &generation)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "token: generation '%s' is not in this build (expected: legacy, modern)",
        replay.token.generation));
  }
  replay.choice.scenario = scenarios::FindScenario(replay.token.scenario);
  if (replay.choice.scenario == nullptr) {  // a property failure's token
    replay.choice.scenario = properties::FindPropertyScenario(replay.token.scenario);
  }
  if (replay.choice.scenario == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrFormat("token: unknown scenario '%s' (this build knows: %s)",
                        replay.token.scenario, ScenarioIds()));
  }
  absl::StatusOr<scenarios::Options> options =
      scenarios::ResolveOptions(*replay.choice.scenario, replay.config.options);
  if (!options.ok()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("token: %s", options.status().message()));
  }
  replay.choice.options = *std::move(options);
  // The token's generation field and its options say the same (run records both).
  if (scenarios::GenerationOf(replay.choice.options) != generation) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "token: its generation '%s' and its options (%s) disagree",
        replay.token.generation, OptionsText(replay.choice.options)));
  }
  for (const auto& [k, v] : replay.token.options) {
    if (k == "execution") replay.execution = v;
  }
  return replay;
}

std::string RecordedText(const Replay& r) {
  if (r.execution.empty()) {
    return absl::StrFormat(
        "a schedule found by strategy %s, seed %d: %d deviations from "
        "the default, %d checkpoints",
        r.token.strategy, r.token.seed, r.token.deviations.size(),
        r.token.checkpoints.size());
  }
  return absl::StrFormat(
      "execution %s of strategy %s, seed %d (no recorded choices: "
      "regenerated)",
      r.execution.empty() ? "0" : r.execution, r.token.strategy, r.token.seed);
}

void PrintText(const Replay& replay, const sim::ExecResult& result) {
  absl::PrintF("aiosim replay: scenario %s, generation %s\n", ScenarioText(replay.choice),
               replay.token.generation);
  absl::PrintF("  recorded:    %s\n", RecordedText(replay));
  absl::PrintF("  simulator:   %s\n\n", ExecText(replay.config.exec));
  FlushStdout();
  const bool failed = result.failure.kind != sim::FailureKind::kNone;
  if (failed) {
    PrintFailure(stdout, result.failure);
  } else {
    absl::PrintF("no failure: the execution ran to its end\n");
  }
  FlushStdout();
  try {
    absl::PrintF("schedule (per thread):\n%s", ScheduleListing(result));
  } catch (const std::exception& e) {
    absl::PrintF("(the schedule could not be formatted: %s)\n", e.what());
  }
  absl::PrintF("steps:       %d, %d preemptions, %d threads\n", result.steps,
               result.preemptions, result.threads);
  absl::PrintF("outcome:     %s\n",
               OutcomeText(replay.choice, replay.config.exec, result.failure.kind));
  absl::PrintF("trace hash: %s\n", Hex64(result.trace_hash));
}

std::string ReplayJson(const Replay& replay, const sim::ExecResult& result) {
  const sim::FailureKind expected =
      replay.choice.scenario->expected(replay.choice.options);
  JsonObject j;
  j.Bool("found", result.failure.kind != sim::FailureKind::kNone)
      .Str("kind", sim::FailureKindName(result.failure.kind))
      .Str("message", result.failure.message)
      .Raw("details", JsonArray(result.failure.details))
      .Str("scenario", replay.choice.scenario->id)
      .Raw("options", JsonStringMap(replay.choice.options))
      .Str("generation", replay.token.generation)
      .Str("strategy", replay.token.strategy)
      .Uint("seed", replay.token.seed)
      .Uint("deviations", replay.token.deviations.size());
  if (!replay.execution.empty()) j.Str("execution", replay.execution);
  j.Raw("exec", ExecJson(replay.config.exec))
      .Uint("steps", result.steps)
      .Int("preemptions", result.preemptions)
      .Int("threads", result.threads)
      .Str("expected_kind", sim::FailureKindName(expected))
      .Bool("expected",
            IsExpected(replay.choice, replay.config.exec, result.failure.kind))
      .Str("trace_hash", Hex64(result.trace_hash))
      .Str("schedule", ScheduleListing(result))
      .Str("token", sim::EncodeToken(replay.token));
  return j.Close();
}

}  // namespace

int ReplayMain(Args args) {
  bool help = false;
  absl::StatusOr<Replay> replay = ParseReplayArgs(args, &help);
  if (!replay.ok()) {
    absl::FPrintF(stderr, "aiosim replay: %s\n", OneLine(replay.status()));
    return kExitBadInput;
  }
  if (help) {
    std::fputs(kReplayUsage, stdout);
    return kExitOk;  // main() checks stdout
  }
  const sim::Body body = replay->choice.scenario->make(replay->choice.options);
  auto progress = [](uint64_t done, uint64_t total) {
    absl::FPrintF(stderr, "aiosim replay: re-running the search, execution %d of %d\n",
                  done, total);
  };
  absl::StatusOr<sim::ReplayResult> replayed =
      sim::ReplayToken(body, replay->token, progress);
  if (!replayed.ok()) {
    absl::FPrintF(stderr, "aiosim replay: %s\n", OneLine(replayed.status()));
    return kExitBadInput;
  }
  const sim::ExecResult* result = &replayed->result;
  for (const std::string& note : replayed->notes) {
    absl::FPrintF(stderr, "aiosim replay: note: %s\n", note);
  }
  int code = result->failure.kind != sim::FailureKind::kNone ? kExitFailure : kExitOk;
  std::string report_line;
  if (!replay->report_dir.empty()) {
    reports::RunInfo info;
    info.scenario = replay->choice.scenario->id;
    info.generation = replay->token.generation;
    info.options = OptionsText(replay->choice.options);
    info.token = sim::EncodeToken(replay->token);
    info.search = absl::StrCat("replayed: ", RecordedText(*replay));
    absl::StatusOr<std::string> written =
        WriteReportFiles(replay->report_dir, ReportStem(replay->choice),
                         reports::BuildReport(*result, info));
    if (written.ok()) {
      report_line = *written;
    } else {
      absl::FPrintF(stderr, "aiosim replay: %s\n", OneLine(written.status()));
      code = kExitOutput;
    }
  }
  if (replay->json) {
    WriteStdout(ReplayJson(*replay, *result) + "\n");
  } else {
    PrintText(*replay, *result);
    if (!report_line.empty()) absl::PrintF("report:      %s\n", report_line);
  }
  FlushStdout();
  return code;
}

}  // namespace aiosim::tools
