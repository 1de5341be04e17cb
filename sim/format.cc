// sim/format.cc — FormatSchedule (aiosim_sim.h): an execution's trace as a per-thread
// listing.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sim/aiosim_sim.h"

namespace aiosim::sim {

std::string FormatSchedule(const ExecResult& r) {
  std::string out;
  int last_thread = -1;
  constexpr size_t kMaxLines = 400;
  auto name = [&](int t) {
    return t >= 0 && t < static_cast<int>(r.thread_names.size()) ? r.thread_names[t]
                                                                 : std::string("?");
  };
  auto indent = [](int t) {
    return std::string(static_cast<size_t>(2 * (t < 0 ? 0 : t) % 24), ' ');
  };
  for (size_t i = 0; i < r.trace.size(); i++) {
    const TraceEvent& e = r.trace[i];
    if (r.trace.size() > kMaxLines && i == kMaxLines / 4) {
      absl::StrAppendFormat(&out, "  ... %d events not shown ...\n",
                            static_cast<int>(r.trace.size() - kMaxLines));
      i = r.trace.size() - (kMaxLines - kMaxLines / 4);
      last_thread = -1;
      continue;
    }
    switch (e.kind) {
      case TraceKind::kOp: {
        if (e.thread != last_thread) {
          absl::StrAppendFormat(&out, "  -- thread %d (%s)\n", e.thread, name(e.thread));
          last_thread = e.thread;
        }
        std::string obj = e.obj ? absl::StrCat(" #", e.obj) : std::string();
        absl::StrAppendFormat(&out, "  %s%6d  %-11s%-5s %s\n", indent(e.thread),
                              static_cast<int>(e.step), OpKindName(e.op), obj,
                              Execution::Where(e.loc));
        break;
      }
      case TraceKind::kChoice:
        if (e.choice == ChoiceKind::kSchedule) {
          if (e.preemption) {
            absl::StrAppendFormat(
                &out, "  >> preemption: thread %d (%s) could go on; %s\n", e.from,
                name(e.from),
                e.thread >= 0
                    ? absl::StrFormat("thread %d (%s) runs", e.thread, name(e.thread))
                    : std::string("virtual time jumps first"));
          }
        } else if (e.choice == ChoiceKind::kWakeWaiter) {
          absl::StrAppendFormat(&out, "  >> the signal wakes thread %d (%s)\n", e.thread,
                                name(e.thread));
        } else if (e.thread == 1) {
          absl::StrAppendFormat(&out, "  >> %s\n",
                                e.choice == ChoiceKind::kEintr
                                    ? "the poll fails with EINTR"
                                    : "the wait wakes spuriously");
        }
        break;
      case TraceKind::kBlock:
        absl::StrAppendFormat(&out, "  %s        blocks in %s%s at %s\n",
                              indent(e.thread), e.what ? e.what : "?",
                              e.obj ? absl::StrCat(" #", e.obj) : "",
                              Execution::Where(e.loc));
        break;
      case TraceKind::kWake:
        absl::StrAppendFormat(&out, "  %s        thread %d (%s) wakes%s\n",
                              indent(e.thread), e.thread, name(e.thread),
                              e.timeout ? " (timeout)" : "");
        break;
      case TraceKind::kTimeJump:
        absl::StrAppendFormat(&out, "  == virtual time jumps to %.3f ms\n",
                              (e.time_ns - Execution::kStartNs) / 1e6);
        break;
      case TraceKind::kForcedSwitch:
        absl::StrAppendFormat(
            &out, "  >> fairness: thread %d (%s) ran too long; switched away\n", e.thread,
            name(e.thread));
        break;
    }
  }
  return out;
}

}  // namespace aiosim::sim
