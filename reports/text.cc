// reports/text.cc — RenderText and RenderListing (render.h): the terminal forms.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "reports/model.h"
#include "reports/render.h"

namespace aiosim::reports {

namespace {

std::string ThreadLabel(const Report& r, int t) {
  if (t < 0) return "virtual time";
  const std::string name =
      t < static_cast<int>(r.threads.size()) ? r.threads[t].name : std::string("?");
  return absl::StrFormat("thread %d (%s)", t, name);
}

std::string HighlightText(const Step& s) {
  std::string out;
  for (Highlight h : s.highlights) {
    const char* what = "";
    switch (h) {
      case Highlight::kFailure: what = "the property broke here"; break;
      case Highlight::kRaceFirst: what = "racing access 1"; break;
      case Highlight::kRaceSecond: what = "racing access 2"; break;
      case Highlight::kWakeupConsumed: what = "the wakeup is consumed here"; break;
      case Highlight::kWaiterSleeps: what = "the waiter sleeps here, nothing left to wake it"; break;
      case Highlight::kNone: continue;
    }
    absl::StrAppend(&out, out.empty() ? "  <== " : "; ", what);
  }
  return out;
}

}  // namespace

std::string TimeMs(int64_t ns) { return absl::StrFormat("%.3f ms", ns / 1e6); }

std::string RenderListing(const Report& r) {
  std::string out;
  int last_thread = -2;
  for (const Step& s : r.steps) {
    const std::string mark = s.highlights.empty() ? "  " : "=>";
    const std::string indent(static_cast<size_t>(2 * (s.thread < 0 ? 0 : s.thread) % 24), ' ');
    switch (s.kind) {
      case StepKind::kSetup:
        absl::StrAppendFormat(&out,
                              "  setup: %s, steps %d-%d, before any other thread ran (%d "
                              "operations in %s)\n",
                              ThreadLabel(r, s.thread), static_cast<int>(s.step),
                              static_cast<int>(s.last_step), static_cast<int>(s.count),
                              s.detail);
        last_thread = -2;
        break;
      case StepKind::kOp:
        if (s.thread != last_thread) {
          absl::StrAppendFormat(&out, "  -- %s\n", ThreadLabel(r, s.thread));
          last_thread = s.thread;
        }
        absl::StrAppendFormat(&out, "%s%s%6d  %-11s %-28s %-14s %s%s\n", mark, indent,
                              static_cast<int>(s.step), s.op, s.object, s.value, s.where,
                              HighlightText(s));
        break;
      case StepKind::kBlock:
        absl::StrAppendFormat(&out, "%s%s        blocks in %s%s at %s%s\n", mark, indent,
                              s.op, s.object.empty() ? "" : " " + s.object, s.where,
                              HighlightText(s));
        break;
      case StepKind::kWake:
        absl::StrAppendFormat(&out, "  %s        %s wakes%s\n", indent,
                              ThreadLabel(r, s.thread),
                              s.detail.empty() ? "" : " (" + s.detail + ")");
        break;
      case StepKind::kPreemption:
        absl::StrAppendFormat(
            &out, "  >> preemption: %s could go on; %s\n", ThreadLabel(r, s.from_thread),
            s.thread >= 0 ? ThreadLabel(r, s.thread) + " runs"
                          : std::string("virtual time jumps first"));
        break;
      case StepKind::kSignal:
        absl::StrAppendFormat(&out, "  >> the signal wakes %s\n", ThreadLabel(r, s.thread));
        break;
      case StepKind::kInjected:
        absl::StrAppendFormat(&out, "  >> %s\n", s.detail);
        break;
      case StepKind::kFairness:
        absl::StrAppendFormat(&out, "  >> fairness: %s ran too long; switched away\n",
                              ThreadLabel(r, s.thread));
        break;
      case StepKind::kTimeJump:
        absl::StrAppendFormat(&out, "  == virtual time jumps to %s\n", TimeMs(s.time_ns));
        break;
      case StepKind::kRepeat:
        absl::StrAppendFormat(
            &out, "  ... %s %d more time%s (steps %d-%d, until %s) ...\n",
            s.period == 1 ? std::string("the row above repeats")
                          : absl::StrCat("the ", s.period, " rows above repeat"),
            static_cast<int>(s.count), s.count == 1 ? "" : "s", static_cast<int>(s.step),
            static_cast<int>(s.last_step), TimeMs(s.time_ns));
        break;
    }
  }
  return out;
}

std::string RenderText(const Report& r) {
  std::string out;
  absl::StrAppendFormat(&out, "%s: %s\n", r.title,
                        r.verdict == "pass" ? "no failure" : "FAILURE " + r.verdict);
  if (!r.message.empty()) absl::StrAppendFormat(&out, "  %s\n", r.message);
  for (const std::string& d : r.details) absl::StrAppendFormat(&out, "  %s\n", d);
  if (!r.explanation.empty()) absl::StrAppendFormat(&out, "why: %s\n", r.explanation);
  if (!r.search.empty()) absl::StrAppendFormat(&out, "found: %s\n", r.search);
  absl::StrAppendFormat(&out, "schedule: %d preemption(s), %d steps, virtual time %s\n",
                        r.preemptions, static_cast<int>(r.total_steps),
                        TimeMs(r.end_time_ns));
  out += RenderListing(r);
  if (!r.sleep_state.empty()) {
    out += "the waiter went to sleep with:\n";
    for (const StateValue& v : r.sleep_state) {
      absl::StrAppendFormat(&out, "  %-40s = %s\n", v.object, v.value);
    }
  }
  if (!r.reproduce.empty()) absl::StrAppendFormat(&out, "reproduce: %s\n", r.reproduce);
  return out;
}

}  // namespace aiosim::reports
