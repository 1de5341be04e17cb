// scenarios/catalog.h — the catalog of named races and seed claims: each scenario is
// a program over the AIO core that the simulator explores, with the outcome it
// expects per generation and per reverted fix (Relacy's "the expected result is part
// of the test's declaration").
// SPDX-License-Identifier: GPL-2.0-or-later
//
// A scenario is found by its catalog id ("S3", "R4", "R9"; case-insensitive) and
// takes options as key=value pairs (e.g. revert=R4). Options are validated: an unknown
// key or value is a one-line error that lists what is accepted.
#ifndef AIOSIM_SCENARIOS_CATALOG_H_
#define AIOSIM_SCENARIOS_CATALOG_H_

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "core/aio/aio.h"
#include "sim/aiosim_sim.h"

namespace aiosim::scenarios {

using Options = std::vector<std::pair<std::string, std::string>>;

struct ScenarioOption {
  std::string key;
  std::vector<std::string> values;  // the first is the default
  std::string help;
  // Values that need an API the modern generation does not have: value -> why (the
  // QEMU version that removed it). With generation=modern such a value is a one-line
  // error; on modern the option's default is its first value that is not legacy
  // only, and `aiosim check --generation modern` runs each option set with that
  // default in place of a legacy-only value.
  std::vector<std::pair<std::string, std::string>> legacy_only = {};
  bool LegacyOnly(std::string_view value) const;
  // The default on `generation`.
  const std::string& DefaultFor(core::AioGeneration generation) const;
};

// A switch of the legacy core (core/aio/aio.h AioSwitch; docs/switches.md): a fix that
// QEMU 2.8.1 has, reverted (`--revert R4`), or a later fix applied (`--fix R8`).
struct Switch {
  std::string id;      // the catalog id it belongs to: "R4", "R9-accept"
  bool revert = true;  // true: --revert takes out a fix 2.8.1 has; false: --fix adds one
  uint32_t bit = 0;    // AioSwitch
  std::string commit;  // QEMU commit(s)
  std::string change;  // the exact change, in one sentence
  // Where the modern generation's code has the switch too (the same bit, the same
  // fix taken out of QEMU 10.2's code): what it changes there. Empty: legacy only.
  std::string modern_change = {};
};
const std::vector<Switch>& Switches();
const Switch* FindSwitch(std::string_view id, bool revert);
// The AioSwitch bits named by resolved options' "revert" and "fix" values.
uint32_t SwitchBits(const Options& options);

struct Scenario {
  std::string id;
  std::string title;
  std::string summary;  // what happens, in a few sentences
  std::string source;   // SEED-CLAIMS.md / QEMU-SEMANTICS.md section
  std::vector<ScenarioOption> options;
  // Options whose values are free-form (a property's generated program): for these
  // keys any value that validate_free(key, value) accepts is valid, and the option's
  // `values` holds only its default.
  std::vector<std::string> free_form;
  std::function<absl::Status(const std::string& key, const std::string& value)>
      validate_free;
  // The switches whose code this scenario runs: --revert / --fix accept these (as the
  // options revert=ID,... and fix=ID,..., "none" by default).
  std::vector<std::string> reverts;
  std::vector<std::string> fixes;
  // The modern generation (QEMU 10.2, --generation modern): empty if the scenario
  // runs there (then `expected` and `make` see generation=modern in the options),
  // else why it does not (modern_status says whether it cannot apply at all, or is
  // not ported yet).
  enum class ModernStatus { kRuns, kNotApplicable, kNotYetPorted };
  ModernStatus modern_status = ModernStatus::kNotYetPorted;
  std::string modern_why = "not ported to the modern generation yet (docs/modern.md, step 6)";
  // The catalog races (races.h, "R4") and seed claims ("S3") this scenario gives
  // evidence for.
  std::vector<std::string> catalog;
  // The evidence for an option set that declares no failure (scenarios/check.h): the
  // preemption bound at which the exhaustive search is complete without one; -1 when
  // no bound is affordable (then a long random budget is the evidence).
  int exhaust_bound = 1;
  // Optional: a bound per option set, where variants differ in cost (see ExhaustBound).
  std::function<int(const Options&)> exhaust_bound_for;
  // The bug depth (PCT's d) that `aiosim check` and the scenario tests run PCT with:
  // 3 unless the scenario's failure needs more priority change points (then it says
  // why where it sets it).
  int pct_depth = 3;
  // The executions within which the scenario tests' bounded exhaustive search (2
  // preemptions) must find a declared failure: 10,000 unless the scenario needs more
  // (then it says why). `aiosim check` gives DFS its exhaustive budget anyway.
  uint64_t dfs_find_executions = 10000;
  // The failure kind expected with these (complete, validated) options under the
  // standard budgets, or sim::FailureKind::kNone if none may be found.
  std::function<sim::FailureKind(const Options&)> expected;
  // With the race detector on (--races; QEMU 2.8's known races let through): whether
  // a data race may be reported before the declared failure with these options — the
  // variant's bug is itself an unsynchronised access (e.g. R11's foreign
  // aio_set_fd_handler), so which of the two a search meets first depends on the
  // schedule. Unset: never. See AcceptsKind.
  std::function<bool(const Options&)> races_first;
  std::function<sim::Body(const Options&)> make;
};

// The usual declaration of a scenario with one switch: `kind` where the options'
// switches (SwitchBits) include `bit`, none otherwise.
std::function<sim::FailureKind(const Options&)> FailsWith(uint32_t bit,
                                                          sim::FailureKind kind);

// Whether a search of `s` with these (resolved) options may report `found`: the
// declared kind, or also kDataRace where the race detector is on (`races`) and
// races_first says a data race may come first. (kNone is accepted only where none is
// declared.)
bool AcceptsKind(const Scenario& s, const Options& options, bool races,
                 sim::FailureKind found);

// The bound at which `s` with these options is searched exhaustively for "none":
// exhaust_bound_for(options) if set, else exhaust_bound.
int ExhaustBound(const Scenario& s, const Options& options);

// The generation the (resolved) options name: "generation=modern" makes it modern;
// a legacy choice is never listed (ResolveOptions drops it), so the options, tokens
// and output of legacy runs are what they were before the modern generation.
core::AioGeneration GenerationOf(const Options& options);
// The options of a context for this scenario: its generation.
core::AioContextOptions ContextOptions(const Options& options);
// "legacy" or "modern".
std::string GenerationNameOf(const Options& options);

const std::vector<Scenario>& Catalog();
const Scenario* FindScenario(std::string_view id);
// Fills in defaults and checks every key and value. Returns the complete options,
// sorted by key. "generation" (every scenario) takes legacy or modern: modern only
// for a scenario that runs there (else a one-line error with modern_why), and a
// legacy value is dropped (the default, never listed). "revert" and "fix" (for a scenario with switches) take "none" or a
// comma-separated list of the scenario's switch ids; they come back sorted, without
// duplicates.
absl::StatusOr<Options> ResolveOptions(const Scenario& s, const Options& given);
// "key=value" -> pair, with a one-line error otherwise.
absl::StatusOr<std::pair<std::string, std::string>> ParseOption(std::string_view text);
std::string OptionValue(const Options& options, const std::string& key);
// The scenario's option sets to test: each value of each option, the others at their
// defaults (one set, all defaults, for a scenario without options); complete and
// sorted, as ResolveOptions returns them.
std::vector<Options> OptionVariants(const Scenario& s);

// Scenario registration (one call per scenario file).
Scenario MakeS1();
Scenario MakeS2();
Scenario MakeS3();
Scenario MakeS4();
Scenario MakeS5();
Scenario MakeS6();
Scenario MakeS7();
Scenario MakeS8();
Scenario MakeR1();
Scenario MakeR3();
Scenario MakeR4();
Scenario MakeR6();
Scenario MakeR7();
Scenario MakeR9();
Scenario MakeR10();
Scenario MakeR11();
Scenario MakeR16();
Scenario MakeR18();
Scenario MakeP1();
Scenario MakeM1();

}  // namespace aiosim::scenarios

#endif  // AIOSIM_SCENARIOS_CATALOG_H_
