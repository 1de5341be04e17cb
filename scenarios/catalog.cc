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
  static const std::vector<Scenario>* catalog = new std::vector<Scenario>{
      MakeS1(),  MakeS2(), MakeS3(),  MakeS4(),  MakeS5(),  MakeS6(),
      MakeS7(),  MakeS8(), MakeR1(),  MakeR3(),  MakeR4(),  MakeR6(),
      MakeR7(),  MakeR9(), MakeR10(), MakeR11(), MakeR16(), MakeR18(), MakeP1(),
      MakeM1()};
  return *catalog;
}

std::function<sim::FailureKind(const Options&)> FailsWith(uint32_t bit,
                                                          sim::FailureKind kind) {
  return [bit, kind](const Options& o) {
    return (SwitchBits(o) & bit) != 0 ? kind : sim::FailureKind::kNone;
  };
}

int ExhaustBound(const Scenario& s, const Options& options) {
  return s.exhaust_bound_for ? s.exhaust_bound_for(options) : s.exhaust_bound;
}

bool AcceptsKind(const Scenario& s, const Options& options, bool races,
                 sim::FailureKind found) {
  const sim::FailureKind declared = s.expected(options);
  if (found == declared) return true;
  return races && declared != sim::FailureKind::kNone &&
         found == sim::FailureKind::kDataRace && s.races_first && s.races_first(options);
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
      {"R1", true, core::AIO_REVERT_R1, "924fe1293c (QEMU 2.1)",
       "qemu_bh_schedule loads bh->ctx after the atomic_xchg that publishes scheduled, "
       "instead of before it"},
      {"R3", true, core::AIO_REVERT_R3, "eabc977973 (QEMU 2.4)",
       "notify_me is replaced by 2.1-2.3's ctx->dispatching: aio_poll sets it to "
       "!blocking before polling and to true around aio_dispatch, restoring the outer "
       "value after; aio_notify writes the eventfd only when it is false; the GSource "
       "prepare/check do not touch it"},
      {"R6", true, core::AIO_REVERT_R6, "3c80ca158c (QEMU 2.1)",
       "thread_pool_completion_bh no longer calls qemu_bh_schedule(completion_bh) "
       "before each callback (nor b7a745dc33's qemu_bh_cancel after it)",
       "the same in 10.2's thread_pool_completion_bh"},
      {"R7", true, core::AIO_REVERT_R7, "271c0f68b4, 3391f5e51c (QEMU 2.1, 2.2)",
       "bdrv_aio_cancel calls 2.0's synchronous pool cancel (steal a queued request, "
       "else wait on check_cancel until the worker set THREAD_DONE) and returns "
       "before the completion callback ran, instead of cancel_async plus aio_poll "
       "until the ACB is released"},
      {"R16", true, core::AIO_REVERT_R16, "7887f6201f, 648fb0ea5e (QEMU 0.15, 1.0)",
       "every aio_bh_poll, nested or not, frees deleted BHs, instead of only the "
       "outermost (walking_bh == 0)"},
      {"R18-done-ev", true, core::AIO_REVERT_R18_DONE_EV, "e4efd8a488 (QEMU 2.4)",
       "a timer list's timers_done_ev starts unset instead of set",
       "the same for 10.2's timer lists (QEMU's futex QemuEvent initialised unset)"},
      {"R8", false, core::AIO_FIX_R8, "ef6dada8b4 (QEMU 2.11)",
       "qemu_bh_cancel is atomic_mb_set(&bh->scheduled, 0) instead of a plain store"},
      {"R9-accept", false, core::AIO_FIX_R9_ACCEPT, "b37548fcd1 (QEMU 3.1)",
       "aio_poll calls aio_notify_accept only when blocking (after notify_me -= 2), "
       "and a blocking aio_poll asserts in_aio_context_home_thread"},
      {"R9-home", false, core::AIO_FIX_R9_HOME, "0dc165c1bd (QEMU 4.0)",
       "every aio_poll, blocking or not, asserts in_aio_context_home_thread first"},
      {"R10", false, core::AIO_FIX_R10, "321d1dba8b (QEMU 2.10)",
       "aio_enable_external decrements with atomic_fetch_dec, asserts the old count "
       "was positive and calls aio_notify when it was 1"},
      {"R12", false, core::AIO_FIX_R12, "5710a3e09f (QEMU 5.0)",
       "notify_me is written as atomic_set(atomic_read() + 2 or | 1) followed by "
       "smp_mb, and lowered with atomic_store_release(atomic_read() - 2 or & ~1); "
       "aio_notify reads it with atomic_read"},
      {"R18-expired", false, core::AIO_FIX_R18_EXPIRED, "33bef0b994 (QEMU 2.9)",
       "timerlist_expired compares expire_time <= now instead of <"},
      {"P1", false, core::AIO_FIX_P1, "QEMU 5.0's BH rewrite (aio_bh_enqueue)",
       "qemu_bh_schedule calls aio_notify even if the BH was already scheduled (as "
       "idle), as today's aio_bh_enqueue does for every schedule"},
      {"S1-no-lock", true, core::AIO_ABLATE_S1_NO_LOCK,
       "none: not QEMU, an ablation for claim S1 (every version takes bh_lock)",
       "bh_publish (aio_bh_new, aio_bh_schedule_oneshot) inserts at the head of "
       "ctx->first_bh without taking bh_lock"},
  };
  return *switches;
}

const Switch* FindSwitch(std::string_view id, bool revert) {
  for (const Switch& sw : Switches()) {
    if (sw.revert == revert &&
        absl::AsciiStrToUpper(std::string(id)) == absl::AsciiStrToUpper(sw.id)) {
      return &sw;
    }
  }
  return nullptr;
}

// The switches the modern code has, for an error message.
static std::string ModernSwitchList() {
  std::vector<std::string> ids;
  for (const Switch& sw : Switches()) {
    if (!sw.modern_change.empty()) ids.push_back((sw.revert ? "--revert " : "--fix ") + sw.id);
  }
  return ids.empty() ? std::string("none") : absl::StrJoin(ids, ", ");
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
      if (!(key == "revert" ? other.reverts : other.fixes).empty())
        with.push_back(other.id);
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

bool ScenarioOption::LegacyOnly(std::string_view value) const {
  return std::any_of(legacy_only.begin(), legacy_only.end(),
                     [&](const auto& entry) { return entry.first == value; });
}

const std::string& ScenarioOption::DefaultFor(core::AioGeneration generation) const {
  if (generation == core::AioGeneration::kModern) {
    for (const std::string& v : values) {
      if (!LegacyOnly(v)) return v;
    }
  }
  return values.front();
}

core::AioGeneration GenerationOf(const Options& options) {
  return OptionValue(options, "generation") == "modern" ? core::AioGeneration::kModern
                                                        : core::AioGeneration::kLegacy;
}

core::AioContextOptions ContextOptions(const Options& options) {
  core::AioContextOptions o;
  o.generation = GenerationOf(options);
  return o;
}

std::string GenerationNameOf(const Options& options) {
  return core::AioGenerationName(GenerationOf(options));
}

absl::StatusOr<Options> ResolveOptions(const Scenario& s, const Options& given) {
  Options out;
  bool generation_given = false;
  for (const auto& kv : given) {
    const std::string& k = kv.first;
    const std::string& v = kv.second;
    if (k == "generation") {
      if (generation_given) {
        return absl::InvalidArgumentError("option 'generation' given twice");
      }
      generation_given = true;
      core::AioGeneration g;
      if (!core::ParseAioGeneration(v, &g)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--generation ", v, ": unknown generation (expected: legacy, modern)"));
      }
      if (g == core::AioGeneration::kLegacy) continue;  // the default: never listed
      if (s.modern_status != Scenario::ModernStatus::kRuns) {
        return absl::InvalidArgumentError(absl::StrCat(
            "scenario ", s.id, " does not run on the modern generation: ", s.modern_why));
      }
      out.emplace_back(k, "modern");
      continue;
    }
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
    if (std::find(s.free_form.begin(), s.free_form.end(), k) != s.free_form.end()) {
      if (absl::Status st = s.validate_free(k, v); !st.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("scenario ", s.id, ": ", k, ": ", st.message()));
      }
    } else if (std::find(it->values.begin(), it->values.end(), v) == it->values.end()) {
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
    if (OptionValue(out, o.key).empty()) {
      out.emplace_back(o.key, o.DefaultFor(GenerationOf(out)));
    }
  }
  if (OptionValue(out, "generation") == "modern") {
    for (const ScenarioOption& o : s.options) {
      const std::string v = OptionValue(out, o.key);
      for (const auto& [value, why] : o.legacy_only) {
        if (v == value) {
          return absl::InvalidArgumentError(absl::StrCat(
              "scenario ", s.id, ": ", o.key, "=", v, " is legacy only: ", why));
        }
      }
    }
    for (const char* key : {"revert", "fix"}) {
      const std::string v = OptionValue(out, key);
      if (v.empty() || v == "none") continue;
      for (absl::string_view id : absl::StrSplit(v, ',')) {
        const Switch* sw = FindSwitch(std::string(id), std::string(key) == "revert");
        if (sw != nullptr && sw->modern_change.empty()) {
          return absl::InvalidArgumentError(absl::StrCat(
              "scenario ", s.id, ": --", key, " ", id,
              " switches QEMU 2.8.1's code only (the legacy generation); on modern: ",
              ModernSwitchList()));
        }
      }
    }
  }
  if (!s.reverts.empty() && OptionValue(out, "revert").empty())
    out.emplace_back("revert", "none");
  if (!s.fixes.empty() && OptionValue(out, "fix").empty())
    out.emplace_back("fix", "none");
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace aiosim::scenarios
