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
       "confirmed",
       "creator threads' aio_bh_new + qemu_bh_schedule while the home thread polls lose no "
       "BH and never tear the list (exhaustive search complete); the ablation without "
       "bh_lock loses a BH (found, one preemption); what the barrier orders needs a weak "
       "memory model",
       "confirmed",
       "on 10.2 nothing needs a lock: aio_bh_new publishes nothing (a BH is on no list until it is"
       " scheduled) and the enqueue is a compare-and-swap loop; creator threads' aio_bh_new + "
       "qemu_bh_schedule lose no BH and each runs once in the home thread (exhaustive search "
       "complete)"},
      {"S2",
       "qemu_bh_schedule wakes the loop at once; qemu_bh_schedule_idle runs the BH only "
       "after about 10 ms if nothing else wakes the loop",
       "refuted",
       "qemu_bh_schedule's BH runs at once (latency 0, exhaustive search complete), but "
       "the idle BH waits for the next unrelated wakeup, not 10 ms: scheduled while the "
       "loop sleeps with no timeout it never runs (found: lost wakeup), with a 50 ms tick "
       "it runs at the tick; and a schedule racing a schedule_idle of the same BH gets "
       "the idle latency (found)",
       "refuted",
       "both BHs run without waiting for an unrelated wakeup: 10.2's enqueue notifies for every "
       "schedule, the idle one too, so an idle BH scheduled while the loop sleeps is never lost "
       "and runs within 10 ms, and a schedule racing a schedule_idle is never left to the idle "
       "latency (every mode: nothing found, exhaustive search complete); the claim's 'only after "
       "about 10 ms' no longer holds"},
      {"S3",
       "qemu_bh_cancel and qemu_bh_delete are not atomic and can be called asynchronously, "
       "so a BH may still run after it was cancelled",
       "documented race",
       "from a foreign thread the callback can run after qemu_bh_cancel returned (found, "
       "two preemptions); from the home thread it cannot (exhaustive search complete); "
       "the real bug the plain-store cancel caused, R8 (a pool request that never "
       "completes), needs a weak memory model",
       "documented race",
       "as in 2.8.1: cancel is a fetch_and on the flag word, but aio_bh_poll may already have "
       "dequeued the BH with SCHEDULED set, so from a foreign thread the callback can run after "
       "qemu_bh_cancel returned (found, two preemptions); from the home thread it cannot "
       "(exhaustive search complete)"},
      {"S4",
       "a BH is the second half of an asynchronous job: the first half completes elsewhere, "
       "the second runs in the Aio context thread",
       "confirmed",
       "with the thread pool, every function runs once in a worker and every completion "
       "callback exactly once in the home thread with its function's result, with one or "
       "two requests and when a callback waits for the other request in a nested "
       "aio_poll (exhaustive search complete to 1 preemption); the nested case holds "
       "only because the "
       "completion BH schedules itself before each callback: reverting that (R6) loses "
       "the completion",
       "confirmed",
       "10.2's condition-variable pool keeps the contract: every function runs once in a "
       "worker and every callback exactly once in the home thread with its function's "
       "result, with one or two requests and with a nested aio_poll in a callback (the "
       "completion BH still schedules itself before each callback; exhaustive search "
       "complete to 1 preemption)"},
      {"S5",
       "aio_set_fd_handler takes no lock and both registers and unregisters, so it may only "
       "be called from the Aio context thread",
       "confirmed",
       "from the home thread, registering and unregistering handlers while another "
       "thread sets their event notifiers is safe: an added handler runs once its fd is "
       "ready, a removed one is never called again, the list ends clean (exhaustive "
       "search complete at 3 preemptions; updating one in place is safe too, R11 "
       "caller=home); from a foreign thread holding nothing, a removal "
       "frees a node the dispatch walk still holds (use after free, one preemption) and an "
       "update makes the loop call the new io_read with the old opaque (R11). In 2.8.1 the "
       "caller holding aio_context_acquire is also enough (R11 caller=acquire, exhaustive): "
       "aio_poll holds the context except around ppoll; the race needs 2.9's lock-free "
       "aio_poll",
       "refuted",
       "10.2 allows aio_set_fd_handler from any thread: it publishes a new node (copy-on-write) "
       "under QemuLockCnt and frees the old one only when nobody visits the list, so registering "
       "and unregistering from a foreign thread is safe (exhaustive search complete at 3 "
       "preemptions); its plain writes of the old node are races by design (T12)"},
      {"S6",
       "timer_del is thread-safe, but the timer and its list must not be freed while it "
       "runs",
       "confirmed",
       "timer_del from a foreign thread while the home thread runs timers never corrupts "
       "the list (exhaustive search complete to 2 preemptions), but it does not wait for "
       "a callback already "
       "taken off the list: that callback runs after timer_del returned (found, the "
       "documented race), and freeing the timer and its device right after timer_del is "
       "a use after free (found)",
       "confirmed",
       "as in 2.8.1: 10.2's timer_del takes the list lock and never corrupts the list "
       "(exhaustive search complete to 2 preemptions), and it still does not wait for a "
       "callback already taken off the list: the callback runs after timer_del returned, "
       "and freeing right after it is a use after free (both found)"},
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
       "(aio_context_acquire, QEMU 2.8's actual rule) may submit",
       "confirmed",
       "the spawn rule is 2.8.1's (exhaustive search complete to one preemption, the "
       "same counters), and the rule is now enforced: 10.2's thread_pool_submit_aio "
       "asserts that the caller's current AioContext is the pool's (8.0), so a foreign "
       "submit fails at once (found with no preemption) instead of tearing pool->head; "
       "holding the context is no longer a way (aio_context_acquire went in 9.0)"},
      {"S8",
       "thread_pool_cancel removes a request that is still queued by taking a token from "
       "the semaphore, and completes it with -ECANCELED",
       "confirmed",
       "against every interleaving with a warm worker (exhaustive search complete to two "
       "preemptions with one request, which includes a worker holding the only token "
       "but not yet the lock, and to one with two), a cancelled request is either stolen "
       "(-ECANCELED, its function "
       "never runs) or left to finish with its real result, every callback runs exactly "
       "once, and bdrv_aio_cancel returns only after the callback ran; with R7 reverted "
       "(2.0's synchronous cancel) it returns before",
       "refuted",
       "10.2 has no semaphore: idle workers wait on a condition variable and "
       "thread_pool_cancel removes any request still QUEUED under the lock, taking no "
       "token; a cancelled request is stolen (-ECANCELED, its function never runs) or "
       "left to finish, and every callback runs exactly once (bdrv_aio_cancel_async; "
       "exhaustive search complete to two preemptions with one request and one with "
       "two); bdrv_aio_cancel aborts on a pool request since 8.0"},
  };
  return *claims;
}

std::vector<ClaimResult> Adjudicate(const std::vector<std::string>& ids,
                                    const CheckBudget& budget,
                                    const std::function<void(const std::string&)>& progress,
                                    core::AioGeneration generation) {
  const bool modern = generation == core::AioGeneration::kModern;
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
    const std::string& verdict = modern ? claim.modern_verdict : claim.verdict;
    bool all_ok = !r.scenarios.empty() && !verdict.empty();
    std::vector<SkippedScenario> skipped;
    absl::StatusOr<std::vector<CheckCase>> cases =
        r.scenarios.empty() ? absl::StatusOr<std::vector<CheckCase>>(std::vector<CheckCase>{})
                            : CheckCases(r.scenarios, generation, &skipped);
    if (modern && cases.ok() && cases->empty()) {
      std::vector<std::string> why;
      for (const SkippedScenario& k : skipped) why.push_back(k.scenario->id + ": " + k.why);
      r.not_run = true;
      r.not_run_why = absl::StrJoin(why, "; ");
      r.verdict = "not run on modern yet";
      out.push_back(std::move(r));
      continue;
    }
    if (cases.ok() && !verdict.empty()) {
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
    r.verdict = r.scenarios.empty() ? "not adjudicated yet (no scenario)"
                : verdict.empty()   ? "not adjudicated yet (no verdict)"
                : all_ok            ? verdict
                                    : "unverified (a check failed)";
    r.evidence = absl::StrJoin(evidence, "; ");
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace aiosim::scenarios
