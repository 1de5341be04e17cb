// scenarios/catalog.cc — see catalog.h.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "scenarios/catalog.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/aio/aio.h"
#include "scenarios/known_races.h"

namespace aiosim::scenarios {

const std::vector<Scenario>& Catalog() {
  (void)LegacyKnownRaces();  // the simulator lets QEMU 2.8's races by design through
  static const std::vector<Scenario>* catalog =
      new std::vector<Scenario>{MakeS1(), MakeS2(), MakeS3(), MakeR4(), MakeR9()};
  return *catalog;
}

const Scenario* FindScenario(std::string_view id) {
  for (const Scenario& s : Catalog()) {
    if (absl::AsciiStrToUpper(std::string(id)) == absl::AsciiStrToUpper(s.id)) return &s;
  }
  return nullptr;
}

const std::vector<Switch>& Switches() {
  static const std::vector<Switch>* switches = new std::vector<Switch>{
      {"R4", true, core::AIO_REVERT_R4, "21a03d17f2, 05e514b1d4 (QEMU 2.4)",
       "no aio_notify_accept: the eventfd is cleared by the notifier's own fd handler "
       "during dispatch instead of after poll and before dispatch"},
      {"S1-no-lock", true, core::AIO_ABLATE_S1_NO_LOCK,
       "none: not QEMU, an ablation for claim S1 (every version takes bh_lock)",
       "bh_publish (aio_bh_new, aio_bh_schedule_oneshot) inserts at the head of "
       "ctx->first_bh without taking bh_lock"},
  };
  return *switches;
}

const Switch* FindSwitch(std::string_view id, bool revert) {
  for (const Switch& sw : Switches()) {
    if (sw.revert == revert && absl::AsciiStrToUpper(std::string(id)) ==
                                   absl::AsciiStrToUpper(sw.id)) {
      return &sw;
    }
  }
  return nullptr;
}

uint32_t SwitchBits(const Options& options) {
  uint32_t bits = 0;
  for (const char* key : {"revert", "fix"}) {
    const std::string value = OptionValue(options, key);
    if (value.empty() || value == "none") continue;
    for (absl::string_view id : absl::StrSplit(value, ',')) {
      if (const Switch* sw = FindSwitch(std::string(id), std::string(key) == "revert")) {
        bits |= sw->bit;
      }
    }
  }
  return bits;
}

std::string OptionValue(const Options& options, const std::string& key) {
  for (const auto& [k, v] : options) {
    if (k == key) return v;
  }
  return "";
}

std::vector<Options> OptionVariants(const Scenario& s) {
  std::vector<Options> given = {{}};  // every default
  for (const ScenarioOption& o : s.options) {
    for (const std::string& v : o.values) given.push_back({{o.key, v}});
  }
  for (const std::string& id : s.reverts) given.push_back({{"revert", id}});
  for (const std::string& id : s.fixes) given.push_back({{"fix", id}});
  std::vector<Options> out;
  for (const Options& g : given) {
    absl::StatusOr<Options> resolved = ResolveOptions(s, g);
    if (resolved.ok() && std::find(out.begin(), out.end(), *resolved) == out.end()) {
      out.push_back(*std::move(resolved));
    }
  }
  return out;
}

absl::StatusOr<std::pair<std::string, std::string>> ParseOption(std::string_view text) {
  size_t eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == text.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("option '", std::string(text), "' is not of the form key=value"));
  }
  return std::make_pair(std::string(text.substr(0, eq)),
                        std::string(text.substr(eq + 1)));
}

namespace {

// A "revert" or "fix" value: "none", or ids of `accepted`, comma-separated; returns the
// canonical form (sorted, unique, catalog spelling).
absl::StatusOr<std::string> ResolveSwitches(const Scenario& s, const std::string& key,
                                            const std::string& value,
                                            const std::vector<std::string>& accepted) {
  const std::string what = key == "revert" ? "fix to revert" : "later fix to apply";
  if (accepted.empty()) {
    std::vector<std::string> with;
    for (const Scenario& other : Catalog()) {
      if (!(key == "revert" ? other.reverts : other.fixes).empty()) with.push_back(other.id);
    }
    return absl::InvalidArgumentError(absl::StrCat(
        "scenario ", s.id, " has no ", what, " (scenarios with one: ",
        with.empty() ? std::string("none") : absl::StrJoin(with, ", "), ")"));
  }
  if (value == "none") return value;
  std::vector<std::string> ids;
  for (absl::string_view part : absl::StrSplit(value, ',')) {
    auto it = std::find_if(accepted.begin(), accepted.end(), [&](const std::string& a) {
      return absl::AsciiStrToUpper(a) == absl::AsciiStrToUpper(std::string(part));
    });
    if (it == accepted.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "scenario ", s.id, ": --", key, " ", std::string(part), " is not a ", what,
          " here (expected: none, or some of ", absl::StrJoin(accepted, ", "), ")"));
    }
    ids.push_back(*it);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return absl::StrJoin(ids, ",");
}

}  // namespace

absl::StatusOr<Options> ResolveOptions(const Scenario& s, const Options& given) {
  Options out;
  for (const auto& kv : given) {
    const std::string& k = kv.first;
    const std::string& v = kv.second;
    if (k == "revert" || k == "fix") {
      absl::StatusOr<std::string> value =
          ResolveSwitches(s, k, v, k == "revert" ? s.reverts : s.fixes);
      if (!value.ok()) return value.status();
      if (!OptionValue(out, k).empty()) {
        return absl::InvalidArgumentError(absl::StrCat("option '", k, "' given twice"));
      }
      out.emplace_back(k, *value);
      continue;
    }
    auto it = std::find_if(s.options.begin(), s.options.end(),
                           [&](const ScenarioOption& o) { return o.key == k; });
    if (it == s.options.end()) {
      std::vector<std::string> keys;
      for (const ScenarioOption& o : s.options) keys.push_back(o.key);
      return absl::InvalidArgumentError(absl::StrCat(
          "scenario ", s.id, " has no option '", k, "' (options: ",
          keys.empty() ? std::string("none") : absl::StrJoin(keys, ", "), ")"));
    }
    if (std::find(it->values.begin(), it->values.end(), v) == it->values.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "scenario ", s.id, ": ", k, "=", v,
          " is not accepted (expected one of: ", absl::StrJoin(it->values, ", "), ")"));
    }
    if (!OptionValue(out, k).empty()) {
      return absl::InvalidArgumentError(absl::StrCat("option '", k, "' given twice"));
    }
    out.emplace_back(k, v);
  }
  for (const ScenarioOption& o : s.options) {
    if (OptionValue(out, o.key).empty()) out.emplace_back(o.key, o.values.front());
  }
  if (!s.reverts.empty() && OptionValue(out, "revert").empty()) out.emplace_back("revert", "none");
  if (!s.fixes.empty() && OptionValue(out, "fix").empty()) out.emplace_back("fix", "none");
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace aiosim::scenarios
