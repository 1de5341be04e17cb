// reports/html.cc — RenderHtml (render.h): a report or a table as one standalone page.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// The page needs nothing but itself: inline CSS and SVG, no script, no fonts or images
// fetched, so it opens from file:// and from a CI artefact alike. Hover details are
// SVG <title> elements (the browser's tooltip), emphasis is CSS :hover.
//
// The timeline is one SVG: time flows downward, one column ("lane") per thread, one
// row per Report::steps row. To its left the virtual-time axis and the step numbers;
// to its right the watched state (one narrow column per object, a value wherever one
// changed) and the source location of each row. Every string from the report goes
// through EscapeXml; every label is cut to its column (in code points, before
// escaping) with the whole text in the hover.
#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "reports/escape.h"
#include "reports/model.h"
#include "reports/render.h"

namespace aiosim::reports {

namespace {

// Geometry of the timeline, in CSS pixels. The SVG's text is 11px DejaVu Sans Mono
// (0.602em advance: 6.62px); 6.7 leaves a little room for a fallback monospace.
constexpr double kCharW = 6.7;
constexpr int kRowH = 22;        // one row
constexpr int kBoxH = 18;        // the box of a step within its row
constexpr int kLabelH = 15;      // a highlight's label line below its box
constexpr int kSleepLineH = 14;  // a line of the "went to sleep with" box
constexpr int kGapH = 30;        // the "rows not shown" marker
constexpr int kMargin = 12;
constexpr int kTimeRight = 112;  // time labels end here
constexpr int kAxisX = 120;      // the time axis
constexpr int kStepRight = 176;  // step numbers end here
constexpr int kLanesX = 184;
constexpr int kLaneGap = 6;
constexpr int kEndLines = 3;  // lines of a thread's end state in its header

// Rows kept when a timeline is long: the first kHead, the last kTail, and kAround on
// each side of every highlighted row.
constexpr size_t kMaxRows = 1500;
constexpr size_t kHead = 300;
constexpr size_t kTail = 1000;
constexpr size_t kAround = 5;

std::string Esc(std::string_view s) { return EscapeXml(s); }

int Width(size_t chars) { return static_cast<int>(chars * kCharW + 0.5); }

// Code points, so that a cut never splits a UTF-8 sequence.
size_t Chars(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// The byte offset of code point `k`.
size_t Offset(std::string_view s, size_t k) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); i++) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (n == k) return i;
      n++;
    }
  }
  return s.size();
}

// At most `max` code points: the head and "…".
std::string CutRight(std::string_view s, size_t max) {
  if (Chars(s) <= max) return std::string(s);
  if (max == 0) return "";
  return std::string(s.substr(0, Offset(s, max - 1))) + "…";
}

// At most `max` code points: "…" and the tail (an object's field name is at its end).
std::string CutLeft(std::string_view s, size_t max) {
  const size_t n = Chars(s);
  if (n <= max) return std::string(s);
  if (max == 0) return "";
  return "…" + std::string(s.substr(Offset(s, n - (max - 1))));
}

// Words onto lines of at most `width` code points, at most `max_lines` lines.
std::vector<std::string> Wrap(std::string_view s, size_t width, size_t max_lines) {
  std::vector<std::string> lines;
  std::string line;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(' ', start);
    if (end == std::string_view::npos) end = s.size();
    std::string_view word = s.substr(start, end - start);
    if (!line.empty() && Chars(line) + 1 + Chars(word) > width) {
      lines.push_back(line);
      line.clear();
    }
    if (!line.empty()) line += ' ';
    line += word;
    start = end + 1;
  }
  if (!line.empty()) lines.push_back(line);
  for (std::string& l : lines) l = CutRight(l, width);
  if (lines.size() > max_lines && max_lines > 0) {
    lines.resize(max_lines);
    lines.back() = CutRight(lines.back(), width > 1 ? width - 1 : 0) + "…";
  }
  return lines;
}

// Nanoseconds as milliseconds with three decimals, exactly (no floating point).
std::string Ms(int64_t ns) {
  const bool neg = ns < 0;
  const uint64_t u = neg ? 0 - static_cast<uint64_t>(ns) : static_cast<uint64_t>(ns);
  return absl::StrFormat("%s%d.%03d ms", neg ? "-" : "", u / 1000000, u % 1000000 / 1000);
}

std::string ThreadLabel(const Report& r, int id) {
  for (const Thread& t : r.threads) {
    if (t.id == id) return absl::StrFormat("thread %d (%s)", id, t.name);
  }
  return absl::StrFormat("thread %d", id);
}

const char* KindName(StepKind k) {
  switch (k) {
    case StepKind::kOp:
      return "op";
    case StepKind::kBlock:
      return "block";
    case StepKind::kWake:
      return "wake";
    case StepKind::kPreemption:
      return "preemption";
    case StepKind::kTimeJump:
      return "time-jump";
    case StepKind::kSignal:
      return "signal";
    case StepKind::kInjected:
      return "injected";
    case StepKind::kFairness:
      return "fairness";
    case StepKind::kSetup:
      return "setup";
    case StepKind::kRepeat:
      return "repeat";
  }
  return "unknown";
}

struct HighlightStyle {
  const char* label;
  const char* stroke;
  const char* fill;
};

HighlightStyle StyleOf(Highlight h) {
  switch (h) {
    case Highlight::kFailure:
      return {"property broke here", "#b71c1c", "#fdecea"};
    case Highlight::kRaceFirst:
      return {"racing access 1", "#d35400", "#fdf0e4"};
    case Highlight::kRaceSecond:
      return {"racing access 2", "#ad1457", "#fbe8f1"};
    case Highlight::kWakeupConsumed:
      return {"wakeup consumed here", "#0b5cc4", "#e5effc"};
    case Highlight::kWaiterSleeps:
      return {"waiter sleeps here", "#6a1b9a", "#f3e9f8"};
    case Highlight::kNone:
      break;
  }
  return {"", "#444444", "#ffffff"};
}

bool Has(const Step& s, Highlight h) {
  return std::find(s.highlights.begin(), s.highlights.end(), h) != s.highlights.end();
}

// Styles shared by the report and the table pages. Light, high-contrast; colour is
// never the only signal (every highlight also has a text label).
constexpr std::string_view kCss = R"css(
:root{color-scheme:light}
body{margin:0;padding:24px 32px 48px;background:#fbfcfd;color:#1c2430;
font:14px/1.45 "DejaVu Sans",system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
code,pre,.mono{font-family:"DejaVu Sans Mono","Liberation Mono",ui-monospace,Menlo,
Consolas,monospace;font-size:13px}
h1{font-size:22px;margin:0 0 6px}
h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #dfe4ea;padding-bottom:4px}
.badge{display:inline-block;padding:2px 12px;border-radius:12px;font-weight:700;
font-size:13px;color:#fff;background:#b71c1c;vertical-align:middle;margin-left:6px}
.badge.pass{background:#1e7b34}
.message{font-size:16px;font-weight:600;margin:10px 0 4px}
.explanation{margin:4px 0 12px;max-width:70em}
table{border-collapse:collapse;margin:6px 0}
th,td{border:1px solid #dfe4ea;padding:4px 10px;text-align:left;vertical-align:top}
th{background:#f1f4f8;font-weight:600}
table.facts th{width:11em}
pre.repro{user-select:all;-webkit-user-select:all;background:#f1f4f8;
border:1px solid #cfd7e1;border-radius:6px;padding:8px 12px;margin:4px 0;
overflow-x:auto;white-space:pre}
.hint{color:#5a6675;font-size:12px}
.sleep{border:2px solid #6a1b9a;background:#f3e9f8;border-radius:6px;padding:6px 14px;
margin:12px 0;display:inline-block}
.sleep ul{margin:4px 0;padding-left:18px}
.legend{display:flex;flex-wrap:wrap;gap:6px 22px;margin:6px 0 10px;font-size:13px}
.legend span{display:inline-flex;align-items:center;gap:6px}
.timeline-box{display:inline-block;border:1px solid #dfe4ea;background:#fff;
border-radius:6px}
svg.timeline text{font-family:"DejaVu Sans Mono","Liberation Mono",monospace;
font-size:11px;fill:#1c2430}
svg.timeline .lane-bg{stroke:#d8dee6}
svg.timeline .box{fill:#eef3f9;stroke:#9fb0c4;stroke-width:1}
svg.timeline [data-kind="setup"]>.box{fill:#f6f6f6;stroke:#8a8a8a;stroke-dasharray:4 3}
svg.timeline [data-kind="block"]>.box{fill:#ece8f4;stroke:#7a6a9a}
svg.timeline [data-kind="wake"]>.box{fill:#e8f5ea;stroke:#5d9a68}
svg.timeline .step:hover>.box{stroke:#1c2430;stroke-width:2}
svg.timeline .step.highlight>.box{stroke-width:3}
svg.timeline .step.highlight:hover>.box{stroke-width:4}
svg.timeline .step.highlight.hl-failure>.box{stroke:#b71c1c;fill:#fdecea}
svg.timeline .step.highlight.hl-race-first>.box{stroke:#d35400;fill:#fdf0e4}
svg.timeline .step.highlight.hl-race-second>.box{stroke:#ad1457;fill:#fbe8f1}
svg.timeline .step.highlight.hl-wakeup-consumed>.box{stroke:#0b5cc4;
fill:#e5effc}
svg.timeline .step.highlight.hl-waiter-sleeps>.box{stroke:#6a1b9a;
fill:#f3e9f8}
svg.timeline .hl-label{font-weight:700}
svg.timeline .op{font-weight:700}
svg.timeline .val{fill:#0d47a1}
svg.timeline .dim,svg.timeline .dim text{fill:#6b7684}
svg.timeline .head{font-weight:700;font-size:12px}
svg.timeline .sleeping{stroke:#7a6a9a;stroke-width:2;stroke-dasharray:2 4}
svg.timeline .axis{stroke:#6b7684;stroke-width:1}
svg.timeline .tick{stroke:#1c2430;stroke-width:2}
svg.timeline .jump{stroke:#9aa5b1;stroke-width:1;stroke-dasharray:1 3}
svg.timeline .preempt{stroke:#c62828;stroke-width:2;stroke-dasharray:7 4}
svg.timeline .preempt-label{fill:#c62828;font-weight:700}
svg.timeline .mark:hover .preempt{stroke-width:3}
svg.timeline .repeat-band{fill:#f2f4f7;stroke:#c3cbd5}
svg.timeline .bracket{stroke:#6b7684;stroke-width:1.5;fill:none}
svg.timeline .gap{fill:#f6f3e6;stroke:#c9bf95;stroke-dasharray:3 3}
svg.timeline .changed rect{fill:#fff1b8;stroke:#c9a400}
svg.timeline .changed text{font-weight:700;fill:#1c2430}
svg.timeline .same text{fill:#8a94a0}
svg.timeline .state-col{fill:#f8f9fb;stroke:#e3e7ec}
svg.timeline .sleepbox{fill:#ffffff;stroke:#6a1b9a;stroke-width:1.5}
td.ok{color:#1e7b34;font-weight:700;text-align:center;font-size:16px}
td.failed{color:#b71c1c;font-weight:700;text-align:center;font-size:16px}
tr.failed-row{background:#fdf3f2}
pre.failure{margin:0;white-space:pre-wrap;font-size:12px}
)css";

std::string PageStart(std::string_view title) {
  return absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>",
      Esc(title), "</title>\n<style>", std::string(kCss), "</style>\n</head>\n<body>\n");
}

constexpr std::string_view kPageEnd = "</body>\n</html>\n";

// Which rows the timeline shows: all, or (when there are too many) the first kHead,
// the last kTail and the neighbourhood of every highlighted row.
std::vector<bool> KeptRows(const std::vector<Step>& steps) {
  const size_t n = steps.size();
  std::vector<bool> keep(n, n <= kMaxRows);
  if (n <= kMaxRows) return keep;
  for (size_t i = 0; i < kHead; i++) keep[i] = true;
  for (size_t i = n - kTail; i < n; i++) keep[i] = true;
  for (size_t i = 0; i < n; i++) {
    if (steps[i].highlights.empty()) continue;
    const size_t lo = i >= kAround ? i - kAround : 0;
    const size_t hi = std::min(n - 1, i + kAround);
    for (size_t k = lo; k <= hi; k++) keep[k] = true;
  }
  return keep;
}

// The watched state along the rows: the objects (Report::watched first, then any
// other object a StateRow names), and for each row the values known after it, the
// last known value carried forward.
struct StateTrack {
  std::vector<std::string> objects;
  // Per shown row (empty for a hidden one): the values after that row ("" = not known
  // yet) and, where a StateRow is at that row, which values it gave and whether each
  // changed.
  std::vector<std::vector<std::string>> after;
  std::vector<std::vector<int>> shown;  // per row: 0 = none, 1 = same, 2 = changed
};

StateTrack TrackState(const Report& r, const std::vector<bool>& keep) {
  StateTrack t;
  std::map<std::string, size_t> column;
  auto add = [&](const std::string& o) {
    if (column.emplace(o, t.objects.size()).second) t.objects.push_back(o);
  };
  for (const std::string& o : r.watched) add(o);
  for (const StateRow& sr : r.state) {
    for (const StateValue& v : sr.values) add(v.object);
  }
  const size_t n = r.steps.size();
  // StateRows by row, in their order (the builder emits them in row order; a stable
  // sort keeps a hand-built report's order among equal rows).
  std::vector<const StateRow*> rows;
  for (const StateRow& sr : r.state) rows.push_back(&sr);
  std::stable_sort(rows.begin(), rows.end(), [](const StateRow* a, const StateRow* b) {
    return a->step_index < b->step_index;
  });
  std::vector<std::string> cur(t.objects.size());
  std::vector<bool> known(t.objects.size(), false);
  t.after.resize(n);
  t.shown.resize(n);
  size_t next = 0;
  for (size_t i = 0; i < n; i++) {
    std::vector<int> shown(t.objects.size(), 0);
    for (; next < rows.size() && rows[next]->step_index <= i; next++) {
      for (const StateValue& v : rows[next]->values) {
        const size_t c = column[v.object];
        const bool changed = !known[c] || cur[c] != v.value;
        cur[c] = v.value;
        known[c] = true;
        // A row given twice: "changed" if either made it change.
        if (rows[next]->step_index == i) shown[c] = std::max(shown[c], changed ? 2 : 1);
      }
    }
    if (keep[i]) {
      t.after[i] = cur;
      t.shown[i] = std::move(shown);
    }
  }
  return t;
}

// The hover text of a row: what it is, where, when, and the watched state after it.
std::string Tooltip(const Report& r, const Step& s, const StateTrack& st, size_t row) {
  std::string t;
  switch (s.kind) {
    case StepKind::kOp:
      absl::StrAppend(&t, "step ", s.step, ": ", ThreadLabel(r, s.thread),
                      "\nop: ", s.op);
      if (!s.object.empty()) absl::StrAppend(&t, "\nobject: ", s.object);
      if (!s.value.empty()) absl::StrAppend(&t, "\nvalue: ", s.value);
      break;
    case StepKind::kSetup:
      absl::StrAppend(&t, "steps ", s.step, "–", s.last_step, ": ",
                      ThreadLabel(r, s.thread), "\nset-up: ", s.count,
                      " operations before any other thread started, folded");
      if (!s.detail.empty()) absl::StrAppend(&t, "\nin: ", s.detail);
      break;
    case StepKind::kRepeat:
      absl::StrAppend(&t, "steps ", s.step, "–", s.last_step, ": the ", s.period,
                      s.period == 1 ? " row above repeats " : " rows above repeat ",
                      s.count, s.count == 1 ? " more time" : " more times", ", folded");
      break;
    case StepKind::kBlock:
      absl::StrAppend(&t, "after step ", s.step, ": ", ThreadLabel(r, s.thread),
                      " sleeps in ", s.op);
      if (!s.object.empty()) absl::StrAppend(&t, "\nobject: ", s.object);
      break;
    case StepKind::kWake:
      absl::StrAppend(&t, "after step ", s.step, ": ", ThreadLabel(r, s.thread),
                      " wakes (becomes runnable)");
      if (!s.detail.empty()) absl::StrAppend(&t, "\nbecause: ", s.detail);
      break;
    case StepKind::kPreemption:
      absl::StrAppend(&t, "after step ", s.step, ": preemption\n",
                      ThreadLabel(r, s.from_thread), " could go on; ",
                      s.thread < 0 ? std::string("virtual time jumps first")
                                   : absl::StrCat(ThreadLabel(r, s.thread), " runs"));
      break;
    case StepKind::kTimeJump:
      absl::StrAppend(&t, "after step ", s.step,
                      ": virtual time jumps to t = ", Ms(s.time_ns),
                      "\n(every thread was waiting for a deadline)");
      break;
    case StepKind::kSignal:
      absl::StrAppend(&t, "after step ", s.step, ": a condition signal wakes ",
                      ThreadLabel(r, s.thread), " (a recorded choice)");
      break;
    case StepKind::kInjected:
      absl::StrAppend(&t, "after step ", s.step, ": injected by the simulator");
      if (s.thread >= 0) absl::StrAppend(&t, " into ", ThreadLabel(r, s.thread));
      if (!s.detail.empty()) absl::StrAppend(&t, "\n", s.detail);
      break;
    case StepKind::kFairness:
      absl::StrAppend(&t, "after step ", s.step, ": fairness switches ",
                      ThreadLabel(r, s.thread), " away after a long run");
      break;
  }
  if (!s.where.empty()) absl::StrAppend(&t, "\nwhere: ", s.where);
  if (s.kind == StepKind::kOp && !s.detail.empty()) absl::StrAppend(&t, "\n", s.detail);
  absl::StrAppend(&t, "\nvirtual time: t = ", Ms(s.time_ns));
  for (Highlight h : s.highlights) absl::StrAppend(&t, "\n>> ", StyleOf(h).label);
  bool any = false;
  for (size_t c = 0; c < st.objects.size(); c++) {
    if (st.after[row][c].empty()) continue;
    if (!any) absl::StrAppend(&t, "\nwatched state after this row:");
    any = true;
    absl::StrAppend(&t, "\n  ", st.objects[c], " = ", st.after[row][c],
                    st.shown[row][c] == 2 ? "   (changed)" : "");
  }
  return t;
}

// A text element; `cls` may be "".
std::string Text(int x, int y, std::string_view text, std::string_view cls = "",
                 std::string_view anchor = "") {
  return absl::StrCat(
      "<text x=\"", x, "\" y=\"", y, "\"",
      cls.empty() ? "" : absl::StrCat(" class=\"", std::string(cls), "\""),
      anchor.empty() ? "" : absl::StrCat(" text-anchor=\"", std::string(anchor), "\""),
      ">", Esc(text), "</text>");
}

// The label of an op row inside its box: op, object and value, the object cut from
// the left when the three do not fit.
std::string OpLabel(const Step& s, size_t chars, int x, int y) {
  std::string op = CutRight(s.op, 12);
  std::string value = CutRight(s.value, std::max<size_t>(6, chars / 3));
  size_t room =
      chars > Chars(op) + Chars(value) + 2 ? chars - Chars(op) - Chars(value) - 2 : 0;
  std::string object = CutLeft(s.object, room);
  std::string out = absl::StrCat("<text x=\"", x, "\" y=\"", y, "\"><tspan class=\"op\">",
                                 Esc(op), "</tspan>");
  if (!object.empty()) absl::StrAppend(&out, " ", Esc(object));
  if (!value.empty()) {
    absl::StrAppend(&out, " <tspan class=\"val\">", Esc(value), "</tspan>");
  }
  out += "</text>";
  return out;
}

struct Layout {
  // Per row: its top and height (a hidden row: the top of the gap marker it is in).
  std::vector<int> y, h;
  std::vector<bool> keep;
  struct Gap {
    int y;
    size_t rows;
  };
  std::vector<Gap> gaps;
  int rows_top = 0, rows_bottom = 0;
};

int RowHeight(const Report& r, const Step& s) {
  int h = kRowH;
  if (!s.highlights.empty()) h += kLabelH * static_cast<int>(s.highlights.size()) + 2;
  if (Has(s, Highlight::kWaiterSleeps) && !r.sleep_state.empty()) {
    h += 22 + kSleepLineH * static_cast<int>(r.sleep_state.size()) + 8;
  }
  return h;
}

Layout LayOut(const Report& r, const std::vector<bool>& keep, int top) {
  Layout l;
  const size_t n = r.steps.size();
  l.keep = keep;
  l.y.assign(n, 0);
  l.h.assign(n, 0);
  l.rows_top = top;
  int y = top;
  size_t i = 0;
  while (i < n) {
    if (!l.keep[i]) {
      size_t j = i;
      while (j < n && !l.keep[j]) j++;
      l.gaps.push_back({y, j - i});
      for (size_t k = i; k < j; k++) l.y[k] = y + kGapH / 2;
      y += kGapH;
      i = j;
      continue;
    }
    l.y[i] = y;
    l.h[i] = RowHeight(r, r.steps[i]);
    y += l.h[i];
    i++;
  }
  l.rows_bottom = y;
  return l;
}

std::string RenderTimeline(const Report& r) {
  const size_t n = r.steps.size();
  const size_t lanes = r.threads.size();
  std::map<int, size_t> lane_of;
  for (size_t k = 0; k < lanes; k++) lane_of.emplace(r.threads[k].id, k);
  auto lane_index = [&](int thread) -> int {
    auto it = lane_of.find(thread);
    return it == lane_of.end() ? -1 : static_cast<int>(it->second);
  };
  const std::vector<bool> keep = KeptRows(r.steps);
  const StateTrack st = TrackState(r, keep);

  // Column widths from the content, within bounds.
  size_t lane_chars = 26;
  size_t where_chars = 5;
  for (const Step& s : r.steps) {
    if (s.kind == StepKind::kOp) {
      lane_chars =
          std::max(lane_chars, Chars(s.op) + Chars(s.object) + Chars(s.value) + 2);
    }
    where_chars = std::max(where_chars, Chars(s.where));
  }
  lane_chars = std::min<size_t>(lane_chars, 40);
  where_chars = std::min<size_t>(where_chars, 48);
  const int lane_w = Width(lane_chars) + 14;
  const size_t text_chars = lane_chars;  // inside a box: 7px padding each side
  // At least one lane's width, so that rows across the lanes have room even with none.
  const int shown_lanes = static_cast<int>(std::max<size_t>(lanes, 1));
  const int lanes_end = kLanesX + shown_lanes * lane_w + (shown_lanes - 1) * kLaneGap;
  auto lane_x = [&](int k) { return kLanesX + k * (lane_w + kLaneGap); };

  std::vector<int> col_w, col_x;
  size_t longest_object = 0;
  int x = lanes_end + 18;
  for (size_t c = 0; c < st.objects.size(); c++) {
    size_t chars = 3;
    for (size_t i = 0; i < n; i++) {
      if (keep[i] && st.shown[i][c] != 0) chars = std::max(chars, Chars(st.after[i][c]));
    }
    chars = std::min<size_t>(chars, 12);
    col_x.push_back(x);
    col_w.push_back(Width(chars) + 10);
    x += col_w.back() + 2;
    longest_object = std::max(longest_object, std::min<size_t>(Chars(st.objects[c]), 40));
  }
  const int state_end = st.objects.empty() ? lanes_end : x - 2;
  const int where_x = state_end + 18;
  const int where_end = where_x + Width(where_chars);
  // Object names stand at 45 degrees above their columns.
  const int rotated = static_cast<int>(Width(longest_object) * 0.7072) + 8;
  const int width =
      std::max(where_end, st.objects.empty() ? 0 : col_x.back() + 6 + rotated) + kMargin;

  const int header_lines = 18 + 14 * kEndLines + 10;
  const int header_h = std::max(header_lines, st.objects.empty() ? 0 : rotated + 18);
  const int top = kMargin;
  const int rows_top = top + header_h + 10;
  const Layout l = LayOut(r, keep, rows_top);
  // The lanes' headers sit just above the rows (the state's names may need more room).
  const int lane_top = rows_top - 10 - header_lines;
  const int footer_y = l.rows_bottom;
  const int footer_h = kRowH + 14;
  const int height = footer_y + footer_h + kMargin;

  std::string svg = absl::StrFormat(
      "<svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
      "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"%s\">\n",
      width, height, width, height,
      Esc(absl::StrCat("timeline of ", r.title, ": ", lanes, " threads, ", n, " rows")));

  // Axis: step numbers and virtual time, labelled at the start, at every time jump
  // and at the end.
  svg += "<g class=\"axis-group\">\n";
  svg += Text(kTimeRight, lane_top + 16, "virtual time", "head", "end") + "\n";
  svg += Text(kStepRight, lane_top + 16, "step", "head", "end") + "\n";
  svg +=
      absl::StrFormat("<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n",
                      kAxisX, rows_top, kAxisX, footer_y + kRowH / 2);
  auto tick = [&](int y, int64_t ns) {
    svg +=
        absl::StrFormat("<line class=\"tick\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>",
                        kAxisX - 6, y, kAxisX + 6, y);
    svg += Text(kTimeRight - 2, y + 4, absl::StrCat("t = ", Ms(ns)), "", "end") + "\n";
  };
  tick(rows_top, 0);
  for (size_t i = 0; i < n; i++) {
    if (!l.keep[i]) continue;
    const Step& s = r.steps[i];
    if (s.kind == StepKind::kTimeJump) tick(l.y[i] + kRowH / 2, s.time_ns);
    std::string num;
    if (s.kind == StepKind::kOp) num = absl::StrCat(s.step);
    if (s.kind == StepKind::kSetup || s.kind == StepKind::kRepeat) {
      num = absl::StrCat(s.step, "–", s.last_step);
    }
    if (!num.empty()) {
      svg += Text(kStepRight, l.y[i] + 14, CutLeft(num, 8), "dim", "end") + "\n";
    }
  }
  tick(footer_y + kRowH / 2, r.end_time_ns);
  svg += "</g>\n";

  // Lanes: background, header, the sleeping spans, the thread's rows.
  for (size_t k = 0; k < lanes; k++) {
    const Thread& th = r.threads[k];
    const int lx = lane_x(static_cast<int>(k));
    svg += absl::StrFormat("<g class=\"lane\" data-thread=\"%d\">\n", th.id);
    svg += absl::StrFormat(
        "<rect class=\"lane-bg\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"4\" "
        "fill=\"%s\"/>\n",
        lx, lane_top, lane_w, footer_y + footer_h - lane_top,
        k % 2 == 0 ? "#f5f8fb" : "#fbfcfe");
    const std::string label = absl::StrFormat("thread %d (%s)", th.id, th.name);
    // An empty end: the builder did not say (the thread ran when the run stopped).
    const std::string end_text = th.end.empty() ? "—" : th.end;
    svg += absl::StrCat("<g><title>", Esc(absl::StrCat(label, "\nend: ", th.end)),
                        "</title>");
    svg += Text(lx + 7, lane_top + 16, CutRight(label, text_chars), "head");
    const std::vector<std::string> end =
        Wrap(absl::StrCat("end: ", end_text), text_chars, kEndLines);
    for (size_t e = 0; e < end.size(); e++) {
      svg += Text(lx + 7, lane_top + 32 + 14 * static_cast<int>(e), end[e], "dim");
    }
    svg += "</g>\n";

    // A thread that blocked sleeps until its next wake (or to the end): a dotted line
    // down its lane.
    for (size_t i = 0; i < n; i++) {
      const Step& s = r.steps[i];
      if (s.kind != StepKind::kBlock || lane_index(s.thread) != static_cast<int>(k)) {
        continue;
      }
      size_t w = i + 1;
      while (w < n && !((r.steps[w].kind == StepKind::kWake ||
                         r.steps[w].kind == StepKind::kSignal) &&
                        r.steps[w].thread == s.thread)) {
        w++;
      }
      const int y1 = l.keep[i] ? l.y[i] + l.h[i] : l.y[i];  // below its labels
      const int y2 = w < n ? (l.keep[w] ? l.y[w] + 2 : l.y[w]) : footer_y + 4;
      if (y2 > y1) {
        svg += absl::StrFormat(
            "<line class=\"sleeping\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n",
            lx + 14, y1, lx + 14, y2);
      }
    }

    for (size_t i = 0; i < n; i++) {
      const Step& s = r.steps[i];
      if (!l.keep[i] || lane_index(s.thread) != static_cast<int>(k)) continue;
      if (s.kind == StepKind::kPreemption || s.kind == StepKind::kTimeJump ||
          s.kind == StepKind::kRepeat) {
        continue;  // drawn across the lanes
      }
      std::string cls = "step";
      if (!s.highlights.empty()) {
        cls += " highlight";
        for (Highlight h : s.highlights) absl::StrAppend(&cls, " hl-", HighlightName(h));
      }
      svg += absl::StrFormat("<g class=\"%s\" data-step=\"%d\" data-kind=\"%s\">", cls,
                             s.step, KindName(s.kind));
      svg += absl::StrCat("<title>", Esc(Tooltip(r, s, st, i)), "</title>");
      const int by = l.y[i] + 2;
      svg += absl::StrFormat(
          "<rect class=\"box\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"3\"/>",
          lx + 4, by, lane_w - 8, kBoxH);
      const int ty = by + 13;
      switch (s.kind) {
        case StepKind::kOp:
          svg += OpLabel(s, text_chars, lx + 9, ty);
          break;
        case StepKind::kSetup:
          svg += Text(lx + 9, ty,
                      CutRight(absl::StrCat("set-up: ", s.count, " operations",
                                            s.detail.empty() ? "" : " in ", s.detail),
                               text_chars));
          break;
        case StepKind::kBlock:
          svg += Text(lx + 9, ty,
                      CutRight(absl::StrCat("☾ sleeps in ", s.op,
                                            s.object.empty() ? "" : " on ", s.object),
                               text_chars));
          break;
        case StepKind::kWake:
          svg += Text(lx + 9, ty,
                      CutRight(absl::StrCat("☀ wakes", s.detail.empty() ? "" : " (",
                                            s.detail, s.detail.empty() ? "" : ")"),
                               text_chars));
          break;
        case StepKind::kSignal:
          svg += Text(lx + 9, ty, CutRight("woken by a condition signal", text_chars));
          break;
        case StepKind::kInjected:
          svg += Text(lx + 9, ty,
                      CutRight(absl::StrCat("injected: ", s.detail), text_chars));
          break;
        case StepKind::kFairness:
          svg += Text(lx + 9, ty, CutRight("fairness: switched away", text_chars));
          break;
        default:
          break;
      }
      int ly = by + kBoxH + 13;
      for (Highlight h : s.highlights) {
        const HighlightStyle hs = StyleOf(h);
        svg += absl::StrFormat(
            "<text class=\"hl-label\" x=\"%d\" y=\"%d\" style=\"fill:%s\">", lx + 9, ly,
            hs.stroke);
        svg += absl::StrCat("▲ ", Esc(hs.label), "</text>");
        ly += kLabelH;
      }
      if (Has(s, Highlight::kWaiterSleeps) && !r.sleep_state.empty()) {
        const int box_y = ly - 8;
        const int box_h = 22 + kSleepLineH * static_cast<int>(r.sleep_state.size());
        svg += absl::StrFormat(
            "<rect class=\"sleepbox\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
            "rx=\"4\"/>",
            lx + 4, box_y, lane_w - 8, box_h);
        svg += Text(lx + 10, box_y + 15, "The waiter went to sleep with:", "head");
        int vy = box_y + 15 + kSleepLineH;
        for (const StateValue& v : r.sleep_state) {
          const std::string value = absl::StrCat(" = ", CutRight(v.value, 16));
          const size_t room = text_chars > Chars(value) ? text_chars - Chars(value) : 0;
          svg += Text(lx + 12, vy, absl::StrCat(CutLeft(v.object, room), value));
          vy += kSleepLineH;
        }
      }
      svg += "</g>\n";
    }
    svg += Text(lx + 7, footer_y + 15,
                CutRight(absl::StrCat("end: ", end_text), text_chars), "dim");
    svg += "\n</g>\n";
  }

  // Rows across the lanes: preemptions, time jumps, repeats, and rows of no lane.
  const int across_w = lanes_end - kLanesX;
  const size_t across_chars =
      across_w > 16 ? static_cast<size_t>((across_w - 16) / kCharW) : 1;
  svg += "<g class=\"marks\">\n";
  for (size_t i = 0; i < n; i++) {
    const Step& s = r.steps[i];
    if (!l.keep[i]) continue;
    const int my = l.y[i] + kRowH / 2;
    const bool across = s.kind == StepKind::kPreemption ||
                        s.kind == StepKind::kTimeJump || s.kind == StepKind::kRepeat ||
                        lane_index(s.thread) < 0;
    if (!across) continue;
    std::string cls = "mark";
    if (!s.highlights.empty()) {
      cls = "step highlight";
      for (Highlight h : s.highlights) absl::StrAppend(&cls, " hl-", HighlightName(h));
    } else if (s.kind != StepKind::kPreemption && s.kind != StepKind::kTimeJump &&
               s.kind != StepKind::kRepeat) {
      cls = "step";
    }
    svg += absl::StrFormat("<g class=\"%s\" data-step=\"%d\" data-kind=\"%s\">", cls,
                           s.step, KindName(s.kind));
    svg += absl::StrCat("<title>", Esc(Tooltip(r, s, st, i)), "</title>");
    std::string label;
    switch (s.kind) {
      case StepKind::kPreemption: {
        label =
            absl::StrCat("preemption: ", ThreadLabel(r, s.from_thread), " could go on; ",
                         s.thread < 0 ? std::string("virtual time jumps first")
                                      : absl::StrCat(ThreadLabel(r, s.thread), " runs"));
        label = CutRight(label, across_chars);
        const int tw = Width(Chars(label)) + 12;
        svg += absl::StrFormat(
            "<line class=\"preempt\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>", kAxisX,
            my, lanes_end, my);
        svg += absl::StrFormat(
            "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"16\" fill=\"#ffffff\" "
            "stroke=\"#c62828\" rx=\"3\"/>",
            kLanesX + 6, my - 8, tw);
        svg += Text(kLanesX + 12, my + 4, label, "preempt-label");
        break;
      }
      case StepKind::kTimeJump:
        label = CutRight(absl::StrCat("virtual time jumps to t = ", Ms(s.time_ns)),
                         across_chars);
        svg += absl::StrFormat(
            "<line class=\"jump\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>", kAxisX, my,
            lanes_end, my);
        svg += absl::StrFormat(
            "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"16\" fill=\"#ffffff\" "
            "stroke=\"#9aa5b1\" rx=\"3\"/>",
            kLanesX + 6, my - 8, Width(Chars(label)) + 12);
        svg += Text(kLanesX + 12, my + 4, label);
        break;
      case StepKind::kRepeat: {
        // A bracket over the repeated rows (those still shown), and the count.
        const size_t first = i >= static_cast<size_t>(std::max(s.period, 0))
                                 ? i - static_cast<size_t>(std::max(s.period, 0))
                                 : 0;
        const int y1 = l.y[first] + 2;
        const int y2 = l.y[i] + kRowH - 4;
        svg += absl::StrFormat("<path class=\"bracket\" d=\"M %d %d h -6 V %d h 6\"/>",
                               kLanesX - 1, y1, y2);
        svg += absl::StrFormat(
            "<rect class=\"repeat-band\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
            "rx=\"3\"/>",
            kLanesX + 2, l.y[i] + 2, across_w - 4, kBoxH);
        label = CutRight(
            absl::StrCat("↑ the ", s.period,
                         s.period == 1 ? " row above repeats " : " rows above repeat ",
                         s.count, s.count == 1 ? " more time" : " more times", " (steps ",
                         s.step, "–", s.last_step, ")"),
            across_chars);
        svg += Text(kLanesX + 12, l.y[i] + 15, label, "dim");
        break;
      }
      default:
        svg += absl::StrFormat(
            "<rect class=\"box\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"3\"/>",
            kLanesX + 2, l.y[i] + 2, across_w - 4, kBoxH);
        label = s.kind == StepKind::kInjected ? absl::StrCat("injected: ", s.detail)
                                              : absl::StrCat(KindName(s.kind), " ", s.op,
                                                             " ", s.object, " ", s.value);
        svg += Text(kLanesX + 9, l.y[i] + 15, CutRight(label, across_chars));
        break;
    }
    int ly = l.y[i] + 2 + kBoxH + 13;
    for (Highlight h : s.highlights) {
      svg +=
          absl::StrFormat("<text class=\"hl-label\" x=\"%d\" y=\"%d\" style=\"fill:%s\">",
                          kLanesX + 9, ly, StyleOf(h).stroke);
      svg += absl::StrCat("▲ ", Esc(StyleOf(h).label), "</text>");
      ly += kLabelH;
    }
    svg += "</g>\n";
  }
  for (const Layout::Gap& g : l.gaps) {
    svg += absl::StrFormat(
        "<g class=\"gap-marker\"><rect class=\"gap\" x=\"%d\" y=\"%d\" width=\"%d\" "
        "height=\"%d\"/>",
        kMargin, g.y + 3, where_end - kMargin, kGapH - 6);
    svg += Text(kLanesX + 12, g.y + kGapH / 2 + 4,
                absl::StrCat("… ", g.rows, " rows not shown …"), "head");
    svg += "</g>\n";
  }
  svg += "</g>\n";

  // Watched state: one column per object, its value after each row where it was
  // recorded; changed values emphasised.
  if (!st.objects.empty()) {
    svg += "<g class=\"state\">\n";
    for (size_t c = 0; c < st.objects.size(); c++) {
      svg += absl::StrFormat(
          "<rect class=\"state-col\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>",
          col_x[c], rows_top - 4, col_w[c], footer_y - rows_top + 4);
      const int hx = col_x[c] + col_w[c] / 2 - 2;
      const int hy = rows_top - 10;
      svg += absl::StrCat("<g><title>", Esc(st.objects[c]), "</title>");
      svg += absl::StrFormat("<text x=\"%d\" y=\"%d\" transform=\"rotate(-45 %d %d)\">",
                             hx, hy, hx, hy);
      svg += absl::StrCat(Esc(CutLeft(st.objects[c], 40)), "</text></g>\n");
    }
    for (size_t i = 0; i < n; i++) {
      if (!l.keep[i]) continue;
      for (size_t c = 0; c < st.objects.size(); c++) {
        if (st.shown[i][c] == 0) continue;
        const bool changed = st.shown[i][c] == 2;
        svg += absl::StrFormat("<g class=\"%s\"><title>", changed ? "changed" : "same");
        const Step& s = r.steps[i];
        svg += Esc(absl::StrCat(
            st.objects[c], " = ", st.after[i][c], changed ? " (changed)" : " (unchanged)",
            s.kind == StepKind::kOp ? absl::StrCat("\nafter step ", s.step)
                                    : absl::StrCat("\nafter the ", KindName(s.kind),
                                                   " row after step ", s.step)));
        svg += "</title>";
        if (changed) {
          svg += absl::StrFormat(
              "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"2\"/>",
              col_x[c] + 1, l.y[i] + 3, col_w[c] - 2, kBoxH - 2);
        }
        svg += Text(col_x[c] + 5, l.y[i] + 15, CutRight(st.after[i][c], 12));
        svg += "</g>\n";
      }
    }
    svg += "</g>\n";
  }

  // Where each row is in the source (cut from the left: the line and function matter).
  svg += "<g class=\"where dim\">\n";
  svg += Text(where_x, rows_top - 10, "where (source)", "head") + "\n";
  for (size_t i = 0; i < n; i++) {
    if (!l.keep[i]) continue;
    const Step& s = r.steps[i];
    std::string w = s.where;
    if (w.empty() && s.kind == StepKind::kSetup && !s.detail.empty()) {
      w = absl::StrCat("in ", s.detail);
    }
    if (w.empty()) continue;
    svg += Text(where_x, l.y[i] + 15, CutLeft(w, where_chars)) + "\n";
  }
  svg += "</g>\n</svg>\n";
  return svg;
}

// A small SVG sample for the legend.
std::string Swatch(std::string_view body) {
  return absl::StrCat(
      "<svg class=\"timeline\" width=\"34\" height=\"18\" viewBox=\"0 0 34 18\" "
      "aria-hidden=\"true\">",
      std::string(body), "</svg>");
}

std::string Legend() {
  std::string out = "<div class=\"legend\">\n";
  auto item = [&](std::string_view swatch, std::string_view text) {
    absl::StrAppend(&out, "<span>", Swatch(swatch), Esc(text), "</span>\n");
  };
  item("<rect class=\"box\" x=\"2\" y=\"2\" width=\"30\" height=\"14\" rx=\"3\"/>",
       "an operation of the thread (op, object, value)");
  item(
      "<g data-kind=\"setup\"><rect class=\"box\" x=\"2\" y=\"2\" "
      "width=\"30\" height=\"14\" rx=\"3\"/></g>",
      "set-up operations, folded");
  item(
      "<g data-kind=\"block\"><rect class=\"box\" x=\"2\" y=\"2\" "
      "width=\"30\" height=\"14\" rx=\"3\"/></g><line class=\"sleeping\" x1=\"17\" "
      "y1=\"16\" x2=\"17\" y2=\"18\"/>",
      "☾ sleeps (dotted: asleep)");
  item(
      "<g data-kind=\"wake\"><rect class=\"box\" x=\"2\" y=\"2\" "
      "width=\"30\" height=\"14\" rx=\"3\"/></g>",
      "☀ wakes");
  item("<line class=\"preempt\" x1=\"0\" y1=\"9\" x2=\"34\" y2=\"9\"/>",
       "preemption: the scheduler switched threads");
  item(
      "<line class=\"tick\" x1=\"10\" y1=\"9\" x2=\"24\" y2=\"9\"/><line class=\"axis\" "
      "x1=\"17\" y1=\"0\" x2=\"17\" y2=\"18\"/>",
      "virtual time (t = ms since the start)");
  item(
      "<rect class=\"repeat-band\" x=\"2\" y=\"2\" width=\"30\" height=\"14\" rx=\"3\"/>",
      "↑ rows above repeat, folded");
  for (Highlight h : {Highlight::kFailure, Highlight::kRaceFirst, Highlight::kRaceSecond,
                      Highlight::kWakeupConsumed, Highlight::kWaiterSleeps}) {
    const HighlightStyle hs = StyleOf(h);
    item(absl::StrFormat("<rect x=\"3\" y=\"3\" width=\"28\" height=\"12\" rx=\"3\" "
                         "fill=\"%s\" stroke=\"%s\" stroke-width=\"3\"/>",
                         hs.fill, hs.stroke),
         hs.label);
  }
  item(
      "<g class=\"changed\"><rect x=\"2\" y=\"2\" width=\"30\" height=\"14\" "
      "rx=\"2\"/></g>",
      "watched value changed at this row (grey: unchanged)");
  out += "</div>\n";
  return out;
}

std::string StateList(const std::vector<StateValue>& values) {
  std::string out = "<ul>\n";
  for (const StateValue& v : values) {
    absl::StrAppend(&out, "<li><code>", Esc(v.object), " = ", Esc(v.value),
                    "</code></li>\n");
  }
  out += "</ul>\n";
  return out;
}

}  // namespace

std::string RenderHtml(const Report& r) {
  std::string out = PageStart(r.title.empty() ? "aiosim report" : r.title);
  const bool pass = r.verdict == "pass";
  absl::StrAppend(&out, "<header>\n<h1>", Esc(r.title), " <span class=\"badge",
                  pass ? " pass" : "", "\">", Esc(r.verdict.empty() ? "?" : r.verdict),
                  "</span></h1>\n");
  if (!r.message.empty()) {
    absl::StrAppend(&out, "<p class=\"message\">", Esc(r.message), "</p>\n");
  }
  if (!r.explanation.empty()) {
    absl::StrAppend(&out, "<p class=\"explanation\">", Esc(r.explanation), "</p>\n");
  }
  out += "<table class=\"facts\">\n";
  auto fact = [&](std::string_view name, std::string_view value, bool code = false) {
    if (value.empty()) return;
    absl::StrAppend(&out, "<tr><th>", Esc(name), "</th><td>", code ? "<code>" : "",
                    Esc(value), code ? "</code>" : "", "</td></tr>\n");
  };
  fact("where", r.where, true);
  fact("scenario", r.scenario);
  fact("generation", r.generation);
  fact("options", r.options, true);
  fact("found by", r.search);
  fact("preemptions", absl::StrCat(r.preemptions));
  fact("total steps", absl::StrCat(r.total_steps));
  fact("virtual end time", Ms(r.end_time_ns));
  out += "</table>\n";
  out += "<h2>Reproduce</h2>\n";
  if (!r.reproduce.empty()) {
    absl::StrAppend(&out, "<pre class=\"repro\">", Esc(r.reproduce), "</pre>\n",
                    "<p class=\"hint\">One click selects the whole line.</p>\n");
  } else {
    out += "<p class=\"hint\">No replay token for this run.</p>\n";
  }
  if (!r.sleep_state.empty()) {
    absl::StrAppend(&out,
                    "<div class=\"sleep\"><strong>The waiter went to sleep "
                    "with:</strong>\n",
                    StateList(r.sleep_state), "</div>\n");
  }
  out += "</header>\n";

  absl::StrAppend(&out,
                  "<h2>Timeline</h2>\n<p class=\"hint\">Time flows downward; one "
                  "column per thread. Hover a box for its details and the watched "
                  "state after it.</p>\n",
                  Legend());
  // The page, not a box, scrolls sideways: a box's scrollbar would sit below a long
  // timeline, out of sight.
  absl::StrAppend(&out, "<div class=\"timeline-box\">\n", RenderTimeline(r), "</div>\n");

  if (!r.details.empty()) {
    out += "<h2>Details</h2>\n<ul>\n";
    for (const std::string& d : r.details) {
      absl::StrAppend(&out, "<li>", Esc(d), "</li>\n");
    }
    out += "</ul>\n";
  }
  out += "<h2>Threads</h2>\n<table>\n<tr><th>id</th><th>name</th><th>end</th></tr>\n";
  for (const Thread& t : r.threads) {
    absl::StrAppend(&out, "<tr><td>", t.id, "</td><td>", Esc(t.name), "</td><td>",
                    Esc(t.end), "</td></tr>\n");
  }
  out += "</table>\n";
  if (!r.watched.empty()) {
    out +=
        "<h2>Watched state</h2>\n<p class=\"hint\">The QEMU state shown beside the "
        "lanes:</p>\n<ul>\n";
    for (const std::string& w : r.watched) {
      absl::StrAppend(&out, "<li><code>", Esc(w), "</code></li>\n");
    }
    out += "</ul>\n";
  }
  out += std::string(kPageEnd);
  return out;
}

std::string RenderHtml(const Table& t) {
  std::string out = PageStart(t.title.empty() ? "aiosim" : t.title);
  absl::StrAppend(&out, "<h1>", Esc(t.title), "</h1>\n");
  if (!t.summary.empty()) {
    absl::StrAppend(&out, "<p class=\"message\">", Esc(t.summary), "</p>\n");
  }
  out += "<table>\n";
  if (!t.columns.empty()) {
    out += "<tr>";
    for (const std::string& c : t.columns) absl::StrAppend(&out, "<th>", Esc(c), "</th>");
    out += "</tr>\n";
    for (const std::vector<std::string>& row : t.cells) {
      out += "<tr>";
      for (const std::string& c : row) absl::StrAppend(&out, "<td>", Esc(c), "</td>");
      out += "</tr>\n";
    }
  } else {
    out +=
        "<tr><th>case</th><th>group</th><th>expected</th><th>got</th><th>ok</th>"
        "<th>evidence</th><th>seconds</th><th>failure</th></tr>\n";
    for (const CaseRow& c : t.cases) {
      absl::StrAppend(&out, "<tr", c.ok ? "" : " class=\"failed-row\"", "><td><code>",
                      Esc(c.name), "</code></td><td>", Esc(c.group), "</td><td>",
                      Esc(c.expected), "</td><td>", Esc(c.got), "</td>");
      absl::StrAppend(&out, c.ok ? "<td class=\"ok\" title=\"ok\">✓</td>"
                                 : "<td class=\"failed\" title=\"failed\">✗</td>");
      absl::StrAppend(&out, "<td>", Esc(c.evidence), "</td><td>",
                      absl::StrFormat("%.2f", c.seconds), "</td><td>");
      if (!c.failure.empty()) {
        absl::StrAppend(&out, "<pre class=\"failure\">", Esc(c.failure), "</pre>");
      }
      out += "</td></tr>\n";
    }
  }
  out += "</table>\n";
  out += std::string(kPageEnd);
  return out;
}

}  // namespace aiosim::reports
