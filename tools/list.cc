// tools/list.cc — `aiosim list` and `aiosim check-determinism`: see run.h.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "scenarios/catalog.h"
#include "scenarios/check.h"
#include "scenarios/races.h"
#include "sim/aiosim_sim.h"
#include "tools/json.h"
#include "tools/run.h"
#include "tools/sim_args.h"

namespace aiosim::tools {

const char kListUsage[] =
    "usage: aiosim list [--json]\n"
    "\n"
    "Lists the catalog: one line per scenario with its id, title, the catalog races and\n"
    "seed claims it gives evidence for, its options (accepted values, the default\n"
    "first) and the outcome it declares for each choice of options (a failure kind, or\n"
    "none); then, after a blank line, QEMU's race history (QEMU-SEMANTICS.md section "
    "3):\n"
    "one line per race with its status in QEMU 2.8.1 (present, fixed, needs weak\n"
    "memory, n/a), the fixing commit, the switch and the scenarios that run it.\n"
    "\n"
    "flags:\n"
    "  --json   print a JSON object {\"scenarios\": [...], \"races\": [...]} with\n"
    "           summaries and sources\n"
    "  --help   show this help\n"
    "\n"
    "exit codes: 0 ok, 2 bad command line\n";

const char kCheckDeterminismUsage[] =
    "usage: aiosim check-determinism <scenario> [flags]\n"
    "\n"
    "Runs the first random execution of each seed twice and compares the two (trace\n"
    "hash, steps, choices, failure kind): the simulator's determinism self-test.\n"
    "\n"
    "flags (a value may also be given as --flag=value):\n"
    "  --seeds N           how many seeds (default 1000)\n"
    "  --seed N            the first seed (default 1)\n"
    "  --option KEY=VALUE  a scenario option (repeatable)\n"
    "  --revert ID,...     same as --option revert=ID,...\n"
    "  --fix ID,...        same as --option fix=ID,...\n"
    "  --generation G      legacy (default) or modern, where the scenario runs there\n"
    "  --races[=all], --max-steps N, --time-advances N, --spurious, --eintr\n"
    "                      simulator options, as for 'aiosim run'\n"
    "  --json              print one JSON object instead of text\n"
    "  --help              show this help\n"
    "\n"
    "exit codes: 0 every seed repeated itself, 1 some did not, 2 bad input\n";

namespace {

constexpr size_t kCombinationsMax = 64;  // listed per scenario
constexpr size_t kSeedsShownMax = 100;   // mismatching seeds printed
constexpr uint64_t kSeedsMax = 100'000'000;

struct Outcome {
  scenarios::Options options;  // the options that vary (every key of the scenario)
  sim::FailureKind kind;
};

// The declared outcome for every combination of option values (at most
// kCombinationsMax, in catalog order with the first option varying slowest).
std::vector<Outcome> Outcomes(const scenarios::Scenario& s) {
  std::vector<scenarios::Options> combos = {{}};
  std::vector<scenarios::ScenarioOption> keys = s.options;
  // Switches vary one at a time (none, or one of them).
  if (!s.reverts.empty()) {
    keys.push_back({"revert", {"none"}, ""});
    keys.back().values.insert(keys.back().values.end(), s.reverts.begin(),
                              s.reverts.end());
  }
  if (!s.fixes.empty()) {
    keys.push_back({"fix", {"none"}, ""});
    keys.back().values.insert(keys.back().values.end(), s.fixes.begin(), s.fixes.end());
  }
  for (const scenarios::ScenarioOption& o : keys) {
    std::vector<scenarios::Options> next;
    for (const scenarios::Options& prefix : combos) {
      for (const std::string& v : o.values) {
        if (next.size() >= kCombinationsMax) break;
        next.push_back(prefix);
        next.back().emplace_back(o.key, v);
      }
    }
    combos = std::move(next);
  }
  std::vector<Outcome> out;
  for (const scenarios::Options& given : combos) {
    absl::StatusOr<scenarios::Options> resolved = scenarios::ResolveOptions(s, given);
    if (resolved.ok()) out.push_back({given, s.expected(*resolved)});
  }
  return out;
}

std::string OutcomeKey(const scenarios::Options& options) {
  std::vector<std::string> parts;
  for (const auto& [k, v] : options) parts.push_back(k + "=" + v);
  return absl::StrJoin(parts, ",");
}

// On the modern generation: the declared outcome of each option set that runs there
// ("--generation modern"), or why the scenario does not.
std::string ModernText(const scenarios::Scenario& s) {
  if (s.modern_status != scenarios::Scenario::ModernStatus::kRuns) return s.modern_why;
  std::vector<std::string> outcomes;
  absl::StatusOr<std::vector<scenarios::CheckCase>> cases =
      scenarios::CheckCases({s.id}, core::AioGeneration::kModern, nullptr);
  if (!cases.ok()) return std::string(cases.status().message());
  for (const scenarios::CheckCase& c : *cases) {
    scenarios::Options shown;
    for (const auto& kv : c.options) {
      if (kv.first != "generation" && !(kv.first == "revert" && kv.second == "none") &&
          !(kv.first == "fix" && kv.second == "none")) {
        shown.push_back(kv);
      }
    }
    const bool one = s.options.empty();
    outcomes.push_back(one ? std::string(sim::FailureKindName(c.expected))
                           : OutcomeKey(shown) + ": " + sim::FailureKindName(c.expected));
  }
  return "runs (--generation modern), expected: " + absl::StrJoin(outcomes, "; ");
}

std::string ListLine(const scenarios::Scenario& s) {
  std::vector<std::string> options;
  for (const scenarios::ScenarioOption& o : s.options) {
    options.push_back(o.key + "=" + absl::StrJoin(o.values, "|"));
  }
  if (!s.reverts.empty()) options.push_back("--revert " + absl::StrJoin(s.reverts, ","));
  if (!s.fixes.empty()) options.push_back("--fix " + absl::StrJoin(s.fixes, ","));
  std::vector<std::string> outcomes;
  for (const Outcome& o : Outcomes(s)) {
    outcomes.push_back(o.options.empty()
                           ? std::string(sim::FailureKindName(o.kind))
                           : OutcomeKey(o.options) + ": " + sim::FailureKindName(o.kind));
  }
  return absl::StrFormat("%-3s %s; for: %s; options: %s; expected: %s; modern: %s", s.id,
                         s.title, s.catalog.empty() ? "-" : absl::StrJoin(s.catalog, ","),
                         options.empty() ? "none" : absl::StrJoin(options, " "),
                         absl::StrJoin(outcomes, "; "), ModernText(s));
}

// The ids of the scenarios whose catalog names `id` (a race or a claim).
std::vector<std::string> ScenariosFor(const std::string& id) {
  std::vector<std::string> out;
  for (const scenarios::Scenario& s : scenarios::Catalog()) {
    for (const std::string& c : s.catalog) {
      if (c == id) out.push_back(s.id);
    }
  }
  return out;
}

std::string RaceLine(const scenarios::RaceEntry& r) {
  const std::vector<std::string> in = ScenariosFor(r.id);
  return absl::StrFormat("%-3s %s in 2.8.1: %s (%s); %s; scenarios: %s; %s in 10.2: %s",
                         r.id, scenarios::RaceStatusName(r.legacy), r.title, r.commit, r.why,
                         in.empty() ? "none" : absl::StrJoin(in, ","),
                         scenarios::RaceStatusName(r.modern), r.modern_why);
}

std::string RaceJson(const scenarios::RaceEntry& r) {
  JsonObject j(4);
  j.Str("id", r.id)
      .Str("title", r.title)
      .Str("commit", r.commit)
      .Str("legacy", scenarios::RaceStatusName(r.legacy))
      .Str("why", r.why)
      .Str("modern", scenarios::RaceStatusName(r.modern))
      .Str("modern_why", r.modern_why)
      .Raw("scenarios", JsonArray(ScenariosFor(r.id)));
  return j.Close();
}

std::string ScenarioJson(const scenarios::Scenario& s) {
  std::vector<std::string> options;
  for (const scenarios::ScenarioOption& o : s.options) {
    JsonObject j(6);
    j.Str("key", o.key)
        .Raw("values", JsonArray(o.values))
        .Str("default", o.values.front());
    j.Str("help", o.help);
    options.push_back(j.Close());
  }
  std::vector<std::string> outcomes;
  for (const Outcome& o : Outcomes(s)) {
    outcomes.push_back(absl::StrFormat("{\"options\": %s, \"kind\": %s}",
                                       JsonStringMap(o.options),
                                       JsonString(sim::FailureKindName(o.kind))));
  }
  JsonObject j(4);
  j.Str("id", s.id)
      .Str("title", s.title)
      .Str("summary", s.summary)
      .Str("source", s.source);
  j.Raw("options", options.empty() ? "[]" : "[" + absl::StrJoin(options, ", ") + "]");
  j.Raw("catalog", JsonArray(s.catalog));
  j.Raw("reverts", JsonArray(s.reverts)).Raw("fixes", JsonArray(s.fixes));
  j.Raw("expected", "[" + absl::StrJoin(outcomes, ", ") + "]");
  j.Str("modern", ModernText(s));
  return j.Close();
}

}  // namespace

int ListMain(Args args) {
  constexpr FlagSpec kFlags[] = {{"json", ""}};
  absl::StatusOr<ParsedArgs> parsed = ParseArgs("list", args, kFlags);
  if (parsed.ok() && !parsed->help && !parsed->positional.empty()) {
    parsed = absl::InvalidArgumentError(absl::StrFormat(
        "unexpected argument '%s' (list takes no arguments; flags: --json, --help)",
        parsed->positional[0]));
  }
  if (!parsed.ok()) {
    absl::FPrintF(stderr, "aiosim list: %s\n", OneLine(parsed.status()));
    return kExitBadInput;
  }
  if (parsed->help) {
    std::fputs(kListUsage, stdout);
  } else if (!parsed->flags.empty()) {  // --json
    std::vector<std::string> items;
    for (const scenarios::Scenario& s : scenarios::Catalog()) {
      items.push_back("    " + ScenarioJson(s));
    }
    std::vector<std::string> races;
    for (const scenarios::RaceEntry& r : scenarios::Races()) {
      races.push_back("    " + RaceJson(r));
    }
    WriteStdout(
        absl::StrFormat("{\n  \"scenarios\": [\n%s\n  ],\n  \"races\": [\n%s\n  ]\n}\n",
                        absl::StrJoin(items, ",\n"), absl::StrJoin(races, ",\n")));
  } else {
    for (const scenarios::Scenario& s : scenarios::Catalog()) {
      absl::PrintF("%s\n", ListLine(s));
    }
    absl::PrintF("\n");
    for (const scenarios::RaceEntry& r : scenarios::Races()) {
      absl::PrintF("%s\n", RaceLine(r));
    }
  }
  return kExitOk;  // main() checks stdout
}

int CheckDeterminismMain(Args args) {
  std::vector<FlagSpec> specs = {{"seeds", "N"}, {"seed", "N"}, {"json", ""}};
  specs.insert(specs.end(), std::begin(kScenarioFlags), std::end(kScenarioFlags));
  specs.insert(specs.end(), std::begin(kExecFlags), std::end(kExecFlags));
  auto bad = [](const absl::Status& s) {
    absl::FPrintF(stderr, "aiosim check-determinism: %s\n", OneLine(s));
    return kExitBadInput;
  };
  absl::StatusOr<ParsedArgs> parsed = ParseArgs("check-determinism", args, specs);
  if (!parsed.ok()) return bad(parsed.status());
  if (parsed->help) {
    std::fputs(kCheckDeterminismUsage, stdout);
    return kExitOk;  // main() checks stdout
  }
  absl::StatusOr<ScenarioChoice> choice =
      ChooseScenario(parsed->positional, parsed->flags);
  if (!choice.ok()) return bad(choice.status());
  uint64_t seeds = 1000, first = 1;
  bool json = false;
  sim::ExecOptions exec;
  for (const ParsedFlag& flag : parsed->flags) {
    absl::StatusOr<uint64_t> n = uint64_t{0};
    if (flag.name == "seeds") {
      if ((n = ParseUint(flag.name, flag.value, 1, kSeedsMax)).ok()) seeds = *n;
    } else if (flag.name == "seed") {
      if ((n = ParseUint(flag.name, flag.value, 0, UINT64_MAX - kSeedsMax)).ok())
        first = *n;
    } else if (flag.name == "json") {
      json = true;
    } else if (absl::StatusOr<bool> e = ApplyExecFlag(flag, &exec); !e.ok()) {
      return bad(e.status());
    }
    if (!n.ok()) return bad(n.status());
  }

  const sim::Body body = choice->scenario->make(choice->options);
  if (!json) {
    absl::PrintF("aiosim check-determinism: scenario %s, generation %s\n",
                 ScenarioText(*choice), scenarios::GenerationNameOf(choice->options));
    absl::PrintF("  seeds:       %d..%d, each seed's first random execution run twice\n",
                 first, first + seeds - 1);
    absl::PrintF("  simulator:   %s\n", ExecText(exec));
    FlushStdout();
  }
  const std::vector<uint64_t> mismatches =
      sim::DeterminismCheck(body, exec, first, seeds);
  std::vector<std::string> shown;
  for (size_t i = 0; i < mismatches.size() && i < kSeedsShownMax; i++) {
    shown.push_back(absl::StrFormat("%d", mismatches[i]));
  }
  if (json) {
    JsonObject j;
    j.Str("scenario", choice->scenario->id)
        .Raw("options", JsonStringMap(choice->options))
        .Uint("first_seed", first)
        .Uint("seeds", seeds)
        .Raw("exec", ExecJson(exec))
        .Uint("mismatches", mismatches.size())
        .Raw("mismatching_seeds", "[" + absl::StrJoin(shown, ", ") + "]");
    WriteStdout(j.Close() + "\n");
  } else {
    absl::PrintF("determinism: %d seeds, %d mismatches\n", seeds, mismatches.size());
    if (!mismatches.empty()) {
      absl::PrintF(
          "mismatching seeds: %s%s\n", absl::StrJoin(shown, ", "),
          mismatches.size() > shown.size()
              ? absl::StrFormat(" ... and %d more", mismatches.size() - shown.size())
              : std::string());
    }
  }
  FlushStdout();
  return mismatches.empty() ? kExitOk : kExitFailure;
}

}  // namespace aiosim::tools
