// scenarios/claims.cc — see claims.h. The claims are SEED-CLAIMS.md's, translated
// from the seed document (seed/qemu-aio-api-notes.zh.txt); the verdicts are the
// catalog's.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "scenarios/claims.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace aiosim::scenarios {

const std::vector<Claim>& Claims() {
  static const std::vector<Claim>* claims = new std::vector<Claim>{
      {"S1",
       "aio_bh_new adds the BH under bh_lock with a write barrier before publishing, so it "
       "may be called outside the Aio context",
       "", ""},
      {"S2",
       "qemu_bh_schedule wakes the loop at once; qemu_bh_schedule_idle runs the BH only "
       "after about 10 ms if nothing else wakes the loop",
       "", ""},
      {"S3",
       "qemu_bh_cancel and qemu_bh_delete are not atomic and can be called asynchronously, "
       "so a BH may still run after it was cancelled",
       "documented race",
       "from a foreign thread the callback can run after qemu_bh_cancel returned (found, "
       "two preemptions); from the home thread it cannot (exhaustive search complete); "
       "the real bug the plain-store cancel caused, R8 (a pool request that never "
       "completes), needs a weak memory model"},
      {"S4",
       "a BH is the second half of an asynchronous job: the first half completes elsewhere, "
       "the second runs in the Aio context thread",
       "", ""},
      {"S5",
       "aio_set_fd_handler takes no lock and both registers and unregisters, so it may only "
       "be called from the Aio context thread",
       "", ""},
      {"S6",
       "timer_del is thread-safe, but the timer and its list must not be freed while it "
       "runs",
       "", ""},
      {"S7",
       "thread_pool_submit_aio may only be called in the Aio context thread; when no "
       "thread is idle it spawns one",
       "confirmed",
       "from the home thread a submit while no worker is idle owes one more worker "
       "(idle_threads == 0 && cur_threads < max_threads; new_thread_bh creates it, or "
       "the newest worker as it starts) and every request completes once (exhaustive "
       "search complete to one preemption); "
       "from a foreign thread the unlocked pool->head is torn with one preemption: a "
       "request is lost and never completes, or a completed one is back on the list "
       "and completes twice; a foreign thread that holds the context "
       "(aio_context_acquire, QEMU 2.8's actual rule) may submit"},
      {"S8",
       "thread_pool_cancel removes a request that is still queued by taking a token from "
       "the semaphore, and completes it with -ECANCELED",
       "confirmed",
       "against every interleaving with a warm worker (exhaustive search complete to one "
       "preemption), a cancelled request is either stolen (-ECANCELED, its function "
       "never runs) or left to finish with its real result, every callback runs exactly "
       "once, and bdrv_aio_cancel returns only after the callback ran; with R7 reverted "
       "(2.0's synchronous cancel) it returns before"},
  };
  return *claims;
}

std::vector<ClaimResult> Adjudicate(const std::vector<std::string>& ids,
                                    const CheckBudget& budget,
                                    const std::function<void(const std::string&)>& progress) {
  std::vector<ClaimResult> out;
  for (const Claim& claim : Claims()) {
    if (!ids.empty() && std::none_of(ids.begin(), ids.end(), [&](const std::string& id) {
          return absl::AsciiStrToUpper(id) == claim.id;
        })) {
      continue;
    }
    ClaimResult r;
    r.claim = &claim;
    for (const Scenario& s : Catalog()) {
      if (std::find(s.catalog.begin(), s.catalog.end(), claim.id) != s.catalog.end()) {
        r.scenarios.push_back(s.id);
      }
    }
    std::vector<std::string> evidence;
    bool all_ok = !r.scenarios.empty() && !claim.verdict.empty();
    absl::StatusOr<std::vector<CheckCase>> cases = CheckCases(r.scenarios);
    if (cases.ok() && !claim.verdict.empty()) {
      for (const CheckCase& c : *cases) {
        if (budget.stop && budget.stop()) {
          all_ok = false;
          break;
        }
        if (progress) progress(CaseName(c));
        CheckResult check = CheckOne(c, budget);
        all_ok = all_ok && check.ok;
        evidence.push_back(absl::StrCat(CaseName(c), ": ", check.evidence));
        r.checks.push_back(std::move(check));
      }
    }
    r.verified = all_ok;
    r.verdict = r.scenarios.empty()    ? "not adjudicated yet (no scenario)"
                : claim.verdict.empty() ? "not adjudicated yet (no verdict)"
                : all_ok               ? claim.verdict
                                       : "unverified (a check failed)";
    r.evidence = absl::StrJoin(evidence, "; ");
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace aiosim::scenarios
