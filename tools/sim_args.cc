// tools/sim_args.cc — see sim_args.h.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "tools/sim_args.h"

#include <cstdint>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "sim/limits.h"

namespace aiosim::tools {

namespace {

// The bounds a token's options are held to as well (sim/limits.h).
using sim::kMaxStepsMax;
using sim::kTimeAdvancesMax;

const char* OnOff(bool on) { return on ? "on" : "off"; }

}  // namespace

absl::StatusOr<core::AioGeneration> ParseGenerationFlag(std::string_view value) {
  core::AioGeneration g;
  if (!core::ParseAioGeneration(value, &g)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--generation %s: unknown generation (expected: legacy, modern)", Shown(value)));
  }
  return g;
}

absl::StatusOr<bool> ApplyExecFlag(const ParsedFlag& flag, sim::ExecOptions* exec) {
  if (flag.name == "races") {
    if (flag.value != "" && flag.value != "all") {
      return absl::InvalidArgumentError(absl::StrFormat(
          "--races=%s: expected --races (QEMU 2.8's known races let through, "
          "docs/tsan-races.md) or --races=all",
          Shown(flag.value)));
    }
    exec->race_detection = true;
    exec->report_known_races = flag.value == "all";
  } else if (flag.name == "spurious") {
    exec->spurious_wakeups = true;
  } else if (flag.name == "eintr") {
    exec->inject_eintr = true;
  } else if (flag.name == "max-steps") {
    absl::StatusOr<uint64_t> n = ParseUint(flag.name, flag.value, 1, kMaxStepsMax);
    if (!n.ok()) return n.status();
    exec->max_steps = *n;
  } else if (flag.name == "time-advances") {
    absl::StatusOr<uint64_t> n = ParseUint(flag.name, flag.value, 0, kTimeAdvancesMax);
    if (!n.ok()) return n.status();
    exec->time_advances_max = static_cast<int>(*n);
  } else {
    return false;
  }
  return true;
}

std::string ScenarioIds() {
  std::vector<std::string> ids;
  for (const scenarios::Scenario& s : scenarios::Catalog()) ids.push_back(s.id);
  return absl::StrJoin(ids, ", ");
}

absl::StatusOr<ScenarioChoice> ChooseScenario(
    const std::vector<std::string_view>& positional,
    const std::vector<ParsedFlag>& flags) {
  if (positional.empty()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "missing scenario (expected one of: %s; 'aiosim list' describes them)",
        ScenarioIds()));
  }
  if (positional.size() > 1) {
    return absl::InvalidArgumentError(
        absl::StrFormat("unexpected argument '%s' (expected one scenario, then flags)",
                        Shown(positional[1])));
  }
  ScenarioChoice choice;
  choice.scenario = scenarios::FindScenario(positional[0]);
  if (choice.scenario == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrFormat("unknown scenario '%s' (expected one of: %s)",
                        Shown(positional[0]), ScenarioIds()));
  }
  scenarios::Options given;
  for (const ParsedFlag& flag : flags) {
    if (flag.name == "option") {
      absl::StatusOr<std::pair<std::string, std::string>> kv =
          scenarios::ParseOption(flag.value);
      if (!kv.ok()) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "--option: %s (e.g. --option revert=R4)", kv.status().message()));
      }
      given.push_back(*std::move(kv));
    } else if (flag.name == "revert" || flag.name == "fix" || flag.name == "generation") {
      // ResolveOptions checks the ids against the scenario's switches, and the
      // generation against the scenario's.
      given.emplace_back(std::string(flag.name), std::string(flag.value));
    }
  }
  absl::StatusOr<scenarios::Options> resolved =
      scenarios::ResolveOptions(*choice.scenario, given);
  if (!resolved.ok()) return resolved.status();
  choice.options = *std::move(resolved);
  return choice;
}

std::string OptionsText(const scenarios::Options& options) {
  if (options.empty()) return "no options";
  std::vector<std::string> parts;
  for (const auto& [k, v] : options) parts.push_back(k + "=" + v);
  return absl::StrJoin(parts, " ");
}

std::string ScenarioText(const ScenarioChoice& choice) {
  return absl::StrFormat("%s (%s)", choice.scenario->id, OptionsText(choice.options));
}

std::string ExecText(const sim::ExecOptions& exec) {
  return absl::StrFormat(
      "max-steps %d, time-advances %d, races %s, spurious %s, eintr %s, leaks %s",
      exec.max_steps, exec.time_advances_max,
      !exec.race_detection      ? "off"
      : exec.report_known_races ? "on (all)"
                                : "on (known races let through)",
      OnOff(exec.spurious_wakeups), OnOff(exec.inject_eintr), OnOff(exec.detect_leaks));
}

std::string ExecJson(const sim::ExecOptions& exec) {
  return absl::StrFormat(
      "{\"max_steps\": %d, \"time_advances\": %d, \"races\": %s, "
      "\"known_races_reported\": %s, \"spurious\": %s, \"eintr\": %s, \"leaks\": %s}",
      exec.max_steps, exec.time_advances_max, exec.race_detection ? "true" : "false",
      exec.report_known_races ? "true" : "false",
      exec.spurious_wakeups ? "true" : "false", exec.inject_eintr ? "true" : "false",
      exec.detect_leaks ? "true" : "false");
}

bool IsExpected(const ScenarioChoice& choice, const sim::ExecOptions& exec,
                sim::FailureKind found) {
  return scenarios::AcceptsKind(*choice.scenario, choice.options,
                                exec.race_detection && !exec.report_known_races, found);
}

std::string OutcomeText(const ScenarioChoice& choice, const sim::ExecOptions& exec,
                        sim::FailureKind found) {
  const sim::FailureKind expected = choice.scenario->expected(choice.options);
  const std::string who = choice.options.empty()
                              ? choice.scenario->id
                              : choice.scenario->id + " " + OptionsText(choice.options);
  if (found == expected) {
    return absl::StrFormat("expected (%s declares %s)", who,
                           sim::FailureKindName(expected));
  }
  if (IsExpected(choice, exec, found)) {
    return absl::StrFormat(
        "expected (%s declares %s; with --races its bug may show first as a data race)",
        who, sim::FailureKindName(expected));
  }
  return absl::StrFormat("UNEXPECTED: %s declares %s, found %s", who,
                         sim::FailureKindName(expected), sim::FailureKindName(found));
}

void PrintFailure(std::FILE* out, const sim::Failure& failure) {
  absl::FPrintF(out, "FAILURE %s: %s\n", sim::FailureKindName(failure.kind),
                failure.message);
  for (const std::string& line : failure.details) absl::FPrintF(out, "  %s\n", line);
}

}  // namespace aiosim::tools
