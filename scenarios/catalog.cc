// scenarios/catalog.cc — see catalog.h.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "scenarios/catalog.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "scenarios/known_races.h"

namespace aiosim::scenarios {

const std::vector<Scenario>& Catalog() {
  (void)LegacyKnownRaces();  // the simulator lets QEMU 2.8's races by design through
  static const std::vector<Scenario>* catalog =
      new std::vector<Scenario>{MakeS3(), MakeR4(), MakeR9()};
  return *catalog;
}

const Scenario* FindScenario(std::string_view id) {
  for (const Scenario& s : Catalog()) {
    if (absl::AsciiStrToUpper(std::string(id)) == absl::AsciiStrToUpper(s.id)) return &s;
  }
  return nullptr;
}

std::string OptionValue(const Options& options, const std::string& key) {
  for (const auto& [k, v] : options) {
    if (k == key) return v;
  }
  return "";
}

std::vector<Options> OptionVariants(const Scenario& s) {
  std::vector<Options> given;
  for (const ScenarioOption& o : s.options) {
    for (const std::string& v : o.values) given.push_back({{o.key, v}});
  }
  if (given.empty()) given.push_back({});
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

absl::StatusOr<Options> ResolveOptions(const Scenario& s, const Options& given) {
  Options out;
  for (const auto& kv : given) {
    const std::string& k = kv.first;
    const std::string& v = kv.second;
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
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace aiosim::scenarios
