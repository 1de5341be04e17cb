// reports/markdown.cc — RenderMarkdown (render.h).
// SPDX-License-Identifier: GPL-2.0-or-later
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "reports/model.h"
#include "reports/render.h"

namespace aiosim::reports {

namespace {

// Text in a table cell: pipes escaped, newlines flattened; code spans where useful.
std::string Cell(std::string_view s) {
  return absl::StrReplaceAll(std::string(s), {{"|", "\\|"}, {"\n", " "}, {"`", "'"}});
}
std::string Code(std::string_view s) {
  return s.empty() ? std::string() : absl::StrCat("`", Cell(s), "`");
}

std::string ThreadCell(const Report& r, int t) {
  if (t < 0) return "";
  return absl::StrFormat("%d (%s)", t,
                         t < static_cast<int>(r.threads.size()) ? Cell(r.threads[t].name)
                                                                : "?");
}

std::string Marks(const Step& s) {
  std::string out;
  for (Highlight h : s.highlights) absl::StrAppend(&out, out.empty() ? "" : ", ", HighlightName(h));
  return out.empty() ? out : absl::StrCat("**", out, "**");
}

}  // namespace

std::string RenderMarkdown(const Report& r) {
  std::string out = absl::StrFormat("# %s: %s\n\n", Cell(r.title),
                                    r.verdict == "pass" ? "no failure" : r.verdict);
  if (!r.message.empty()) absl::StrAppendFormat(&out, "**%s**\n\n", Cell(r.message));
  if (!r.explanation.empty()) absl::StrAppendFormat(&out, "%s\n\n", r.explanation);
  for (const std::string& d : r.details) absl::StrAppendFormat(&out, "- %s\n", Cell(d));
  if (!r.details.empty()) out += "\n";
  if (!r.reproduce.empty()) absl::StrAppendFormat(&out, "```\n%s\n```\n\n", r.reproduce);
  if (!r.search.empty()) absl::StrAppendFormat(&out, "Found: %s.\n\n", Cell(r.search));
  absl::StrAppendFormat(&out, "Schedule: %d preemption(s), %d steps, virtual time %s.\n\n",
                        r.preemptions, static_cast<int>(r.total_steps),
                        TimeMs(r.end_time_ns));
  out += "## Threads\n\n| thread | name | at the end |\n|---|---|---|\n";
  for (const Thread& t : r.threads) {
    absl::StrAppendFormat(&out, "| %d | %s | %s |\n", t.id, Cell(t.name), Cell(t.end));
  }
  if (!r.sleep_state.empty()) {
    out += "\n## The state in which the waiter went to sleep\n\n| object | value |\n|---|---|\n";
    for (const StateValue& v : r.sleep_state) {
      absl::StrAppendFormat(&out, "| %s | %s |\n", Code(v.object), Cell(v.value));
    }
  }
  out += "\n## Schedule\n\n| step | thread | what | object | value | where | |\n"
         "|---:|---|---|---|---|---|---|\n";
  for (const Step& s : r.steps) {
    switch (s.kind) {
      case StepKind::kOp:
      case StepKind::kBlock:
        absl::StrAppendFormat(&out, "| %s | %s | %s | %s | %s | %s | %s |\n",
                              s.kind == StepKind::kOp ? absl::StrCat(s.step) : "",
                              ThreadCell(r, s.thread),
                              s.kind == StepKind::kBlock ? "blocks in " + Cell(s.op) : Cell(s.op),
                              Code(s.object), Code(s.value), Code(s.where), Marks(s));
        break;
      case StepKind::kSetup:
        absl::StrAppendFormat(&out, "| %d-%d | %s | *setup: %d operations* | | | %s | |\n",
                              static_cast<int>(s.step), static_cast<int>(s.last_step),
                              ThreadCell(r, s.thread), static_cast<int>(s.count), Cell(s.detail));
        break;
      case StepKind::kPreemption:
        absl::StrAppendFormat(&out, "| | | **preemption**: %s could go on; %s | | | | |\n",
                              ThreadCell(r, s.from_thread),
                              s.thread >= 0 ? ThreadCell(r, s.thread) + " runs"
                                            : std::string("virtual time jumps first"));
        break;
      case StepKind::kWake:
        absl::StrAppendFormat(&out, "| | %s | wakes%s | | | | |\n", ThreadCell(r, s.thread),
                              s.detail.empty() ? "" : " (" + s.detail + ")");
        break;
      case StepKind::kTimeJump:
        absl::StrAppendFormat(&out, "| | | *virtual time jumps to %s* | | | | |\n",
                              TimeMs(s.time_ns));
        break;
      case StepKind::kRepeat:
        absl::StrAppendFormat(&out,
                              "| %d-%d | | *the %d rows above repeat %d more times* | | | | |\n",
                              static_cast<int>(s.step), static_cast<int>(s.last_step),
                              s.period, static_cast<int>(s.count));
        break;
      case StepKind::kSignal:
        absl::StrAppendFormat(&out, "| | %s | the signal wakes it | | | | |\n",
                              ThreadCell(r, s.thread));
        break;
      case StepKind::kInjected:
        absl::StrAppendFormat(&out, "| | | *%s* | | | | |\n", Cell(s.detail));
        break;
      case StepKind::kFairness:
        absl::StrAppendFormat(&out, "| | %s | fairness: switched away | | | | |\n",
                              ThreadCell(r, s.thread));
        break;
    }
  }
  return out;
}

std::string RenderMarkdown(const Table& t) {
  std::string out = absl::StrFormat("# %s\n\n", Cell(t.title));
  if (!t.summary.empty()) absl::StrAppendFormat(&out, "%s\n\n", Cell(t.summary));
  if (!t.columns.empty()) {
    out += "|";
    std::string rule = "|";
    for (const std::string& c : t.columns) {
      absl::StrAppend(&out, " ", Cell(c), " |");
      rule += "---|";
    }
    absl::StrAppend(&out, "\n", rule, "\n");
    for (const auto& row : t.cells) {
      out += "|";
      for (const std::string& c : row) absl::StrAppend(&out, " ", Cell(c), " |");
      out += "\n";
    }
    return out;
  }
  out += "| case | group | expected | got | ok | evidence | seconds |\n"
         "|---|---|---|---|---|---|---:|\n";
  for (const CaseRow& c : t.cases) {
    absl::StrAppendFormat(&out, "| %s | %s | %s | %s | %s | %s | %.1f |\n", Cell(c.name),
                          Cell(c.group), Cell(c.expected), Cell(c.got),
                          c.ok ? "ok" : "**FAILED**", Cell(c.evidence), c.seconds);
  }
  for (const CaseRow& c : t.cases) {
    if (!c.ok && !c.failure.empty()) {
      absl::StrAppendFormat(&out, "\n### %s\n\n```\n%s\n```\n", Cell(c.name), c.failure);
    }
  }
  return out;
}

}  // namespace aiosim::reports
