// scenarios/claims.h — the seed document's claims (../shared/SEED-CLAIMS.md, S1–S8) and
// the verdict each gets from the scenarios behind it: what `aiosim claims` prints.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// A claim's verdict (confirmed / refuted / documented race / needs weak memory) is
// written here, with why, and holds only while every case of its scenarios checks
// (scenarios/check.h): Adjudicate runs them and reports the verdict with their
// evidence, or "unverified" with the case that failed. A claim without a scenario yet
// says so; nothing is claimed without a search behind it.
#ifndef AIOSIM_SCENARIOS_CLAIMS_H_
#define AIOSIM_SCENARIOS_CLAIMS_H_

#include <string>
#include <vector>

#include "core/aio/aio.h"
#include "scenarios/check.h"

namespace aiosim::scenarios {

struct Claim {
  std::string id;       // "S3"
  std::string claim;    // the seed's claim, translated, in one sentence
  std::string verdict;  // "confirmed", "refuted", "documented race", "needs weak memory"
  std::string why;      // the verdict in a sentence, in terms of the scenarios' outcomes
  // The same for QEMU 10.2 (the modern generation), where the scenarios behind the
  // claim run there; empty where none does yet.
  std::string modern_verdict;
  std::string modern_why;
};
const std::vector<Claim>& Claims();

struct ClaimResult {
  const Claim* claim = nullptr;
  std::vector<std::string> scenarios;  // ids of the scenarios whose catalog has the claim
  std::vector<CheckResult> checks;
  bool verified = false;   // every check holds (and there is at least one)
  std::string verdict;     // claim->verdict if verified; else "unverified"
  std::string evidence;    // the checks' evidence, "; "-separated
  // On modern: no scenario behind the claim runs there yet (nothing was checked; the
  // result neither verifies nor fails the claim). `not_run_why` says which and why.
  bool not_run = false;
  std::string not_run_why;
};

// Checks the scenarios behind each claim. `ids`: claims to adjudicate (all if empty).
// `progress` (optional) is called before each case.
// `generation`: legacy (QEMU 2.8.1, the seed's) or modern (QEMU 10.2: the claim's
// modern verdict, from the cases of its scenarios that run there).
std::vector<ClaimResult> Adjudicate(const std::vector<std::string>& ids,
                                    const CheckBudget& budget,
                                    const std::function<void(const std::string&)>& progress,
                                    core::AioGeneration generation = core::AioGeneration::kLegacy);

}  // namespace aiosim::scenarios

#endif  // AIOSIM_SCENARIOS_CLAIMS_H_
