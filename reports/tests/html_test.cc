// reports/tests/html_test.cc — RenderHtml (render.h): content, escaping, long
// timelines, and the page as headless Chromium parses it.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "reports/escape.h"
#include "reports/model.h"
#include "reports/render.h"

extern char** environ;

namespace aiosim::reports {
namespace {

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t p = haystack.find(needle); p != std::string::npos;
       p = haystack.find(needle, p + needle.size())) {
    n++;
  }
  return n;
}

Step Op(uint64_t n, int thread, std::string op, std::string object, std::string value,
        std::string where, int64_t time_ns = 0) {
  Step s;
  s.kind = StepKind::kOp;
  s.step = n;
  s.thread = thread;
  s.op = std::move(op);
  s.object = std::move(object);
  s.value = std::move(value);
  s.where = std::move(where);
  s.time_ns = time_ns;
  return s;
}

Step Mark(StepKind kind, uint64_t after, int thread, int64_t time_ns = 0) {
  Step s;
  s.kind = kind;
  s.step = after;
  s.thread = thread;
  s.time_ns = time_ns;
  return s;
}

const char kNotifyMe[] = "ctx \"main\"->notify_me";
const char kNotified[] = "ctx \"main\"->notified";
const char kScheduled[] = "bh \"work\"->scheduled";
const char kEventfd[] = "ctx \"main\" (eventfd count)";
const char kReq[] = "req#2->state";
constexpr int64_t kJumpNs = 958'000'000;

// A lost wakeup as the builder would fold it: three threads, a set-up row, two
// preemptions, a block, a time jump, a repeat, the consumed wakeup and the sleep.
Report LostWakeup() {
  Report r;
  r.title = "R4 revert=R4 (legacy)";
  r.scenario = "R4";
  r.generation = "legacy";
  r.options = "revert=R4";
  r.verdict = "lost-wakeup";
  r.message = "thread 0 (main) sleeps in poll forever while work is pending";
  r.details = {"thread 0 (main) waits in poll (aio_poll) forever",
               "thread 1 (iothread) finished", "bh \"work\" is scheduled and never runs"};
  r.where = "legacy/aio_posix.cc:612 aio_poll";
  r.token = "R4.legacy.AbCd12";
  r.reproduce = "aiosim replay R4.legacy.AbCd12";
  r.search = "112 executions, random walk, seed 1";
  r.preemptions = 2;
  r.total_steps = 60;
  r.end_time_ns = kJumpNs + 1'500'000;
  r.explanation =
      "thread 0 (main) went to sleep in poll after step 56 with nothing left to wake it: "
      "the last wakeup was consumed at step 44 by thread 0 (main).";
  r.threads = {{0, "main", "waits in poll (aio_poll) forever"},
               {1, "iothread", "finished"},
               {2, "worker", "finished"}};

  // Row 0: thread 0's set-up, folded; row 1: it spawns the others.
  Step setup = Mark(StepKind::kSetup, 1, 0);
  setup.op = "setup";
  setup.count = 38;
  setup.last_step = 38;
  setup.detail = "main, aio_context_new, qemu_bh_new";
  r.steps.push_back(setup);
  r.steps.push_back(Op(39, 0, "spawn", "", "", "scenarios/r4.cc:40 main"));
  // Rows 2-4: the iothread schedules the BH and notifies.
  r.steps.push_back(
      Op(40, 1, "load", kNotifyMe, "= 0", "legacy/async.cc:480 aio_notify"));
  r.steps.push_back(
      Op(41, 1, "rmw", kScheduled, "0 -> 1", "legacy/async.cc:125 qemu_bh_schedule"));
  r.steps.push_back(
      Op(42, 1, "store", kNotified, "0 -> 1", "legacy/async.cc:486 aio_notify"));
  // Row 5: preempted; rows 6-8: main polls and consumes the wakeup (row 7).
  Step p1 = Mark(StepKind::kPreemption, 42, 0);
  p1.from_thread = 1;
  p1.op = "preemption";
  r.steps.push_back(p1);
  r.steps.push_back(
      Op(43, 0, "store", kNotifyMe, "0 -> 2", "legacy/aio_posix.cc:590 aio_poll"));
  Step consumed =
      Op(44, 0, "fd-clear", kEventfd, "1 -> 0", "legacy/async.cc:502 aio_notify_accept");
  consumed.highlights = {Highlight::kWakeupConsumed};
  r.steps.push_back(consumed);
  r.steps.push_back(
      Op(45, 0, "store", kNotifyMe, "2 -> 0", "legacy/aio_posix.cc:640 aio_poll"));
  // Rows 9-12: the worker's request, rows 10-11 repeating (row 12).
  r.steps.push_back(Op(46, 2, "load", kReq, "= 1", "scenarios/r4.cc:77 worker"));
  r.steps.push_back(Op(47, 2, "store", kReq, "1 -> 2", "scenarios/r4.cc:78 worker"));
  r.steps.push_back(Op(48, 2, "load", kReq, "= 2", "scenarios/r4.cc:79 worker"));
  Step rep = Mark(StepKind::kRepeat, 49, 2);
  rep.op = "repeat";
  rep.period = 2;
  rep.count = 3;
  rep.last_step = 54;
  r.steps.push_back(rep);
  // Rows 13-15: virtual time jumps; the worker's timed wait times out.
  r.steps.push_back(Mark(StepKind::kTimeJump, 54, -1, kJumpNs));
  Step wake = Mark(StepKind::kWake, 54, 2, kJumpNs);
  wake.op = "wake";
  wake.detail = "timeout";
  r.steps.push_back(wake);
  r.steps.push_back(Op(55, 2, "load", kReq, "= 2", "scenarios/r4.cc:81 worker", kJumpNs));
  // Rows 16-18: preempted; main goes to sleep with nothing left to wake it.
  Step p2 = Mark(StepKind::kPreemption, 55, 0, kJumpNs);
  p2.from_thread = 2;
  p2.op = "preemption";
  r.steps.push_back(p2);
  r.steps.push_back(Op(56, 0, "store", kNotifyMe, "0 -> 2",
                       "legacy/aio_posix.cc:590 aio_poll", kJumpNs));
  Step block = Mark(StepKind::kBlock, 56, 0, kJumpNs);
  block.op = "poll";
  block.where = "legacy/aio_posix.cc:612 aio_poll";
  block.highlights = {Highlight::kWaiterSleeps};
  r.steps.push_back(block);
  // Rows 19-20: the iothread sees the BH scheduled and exits.
  r.steps.push_back(
      Op(57, 1, "load", kScheduled, "= 1", "legacy/async.cc:160 aio_bh_poll", kJumpNs));
  r.steps.push_back(Op(58, 1, "exit", "", "", "scenarios/r4.cc:60 iothread", kJumpNs));

  // The watched state after some rows; objects a row omits keep their values.
  r.watched = {kNotifyMe, kNotified, kScheduled, kEventfd, kReq};
  auto state = [&](size_t row, std::vector<StateValue> v) {
    r.state.push_back({row, std::move(v)});
  };
  state(2, {{kNotifyMe, "0"}});
  state(3, {{kNotifyMe, "0"}, {kScheduled, "1"}});
  state(4, {{kNotifyMe, "0"}, {kScheduled, "1"}, {kNotified, "1"}, {kEventfd, "1"}});
  state(6, {{kNotifyMe, "2"}, {kNotified, "1"}, {kScheduled, "1"}, {kEventfd, "1"}});
  state(7, {{kNotifyMe, "2"}, {kNotified, "1"}, {kScheduled, "1"}, {kEventfd, "0"}});
  state(8, {{kNotifyMe, "0"}, {kNotified, "1"}, {kScheduled, "1"}, {kEventfd, "0"}});
  state(10, {{kReq, "2"}});
  state(17, {{kNotifyMe, "2"}});
  r.sleep_state = {{kNotifyMe, "2"},
                   {kNotified, "1"},
                   {kScheduled, "1"},
                   {kEventfd, "0"},
                   {kReq, "2"}};
  state(18, r.sleep_state);
  return r;
}

// The timeline SVG alone (the legend's samples use the same classes).
std::string TimelineOf(const std::string& html) {
  const size_t b = html.find("<svg class=\"timeline\" xmlns=");
  if (b == std::string::npos) return "";
  const size_t e = html.find("</svg>", b);
  return e == std::string::npos ? "" : html.substr(b, e + 6 - b);
}

// The <title> (hover text) of the element with data-step="n" and class `cls`.
std::string HoverOf(const std::string& html, const std::string& cls, uint64_t n) {
  const std::string open = absl::StrCat("class=\"", cls, "\" data-step=\"", n, "\"");
  const size_t at = html.find(open);
  if (at == std::string::npos) return "";
  const size_t b = html.find("<title>", at);
  const size_t e = html.find("</title>", b);
  if (b == std::string::npos || e == std::string::npos) return "";
  return html.substr(b + 7, e - b - 7);
}

TEST(HtmlReport, HeaderHasEverythingAPersonNeeds) {
  const Report r = LostWakeup();
  const std::string html = RenderHtml(r);
  EXPECT_TRUE(html.starts_with("<!DOCTYPE html>\n"));
  EXPECT_TRUE(html.ends_with("</html>\n"));
  EXPECT_NE(
      html.find("<h1>R4 revert=R4 (legacy) <span class=\"badge\">lost-wakeup</span>"),
      std::string::npos);
  EXPECT_NE(html.find(EscapeXml(r.message)), std::string::npos);
  EXPECT_NE(html.find(EscapeXml(r.explanation)), std::string::npos);
  EXPECT_NE(html.find("<code>legacy/aio_posix.cc:612 aio_poll</code>"),
            std::string::npos);
  EXPECT_NE(html.find("<pre class=\"repro\">aiosim replay R4.legacy.AbCd12</pre>"),
            std::string::npos);
  EXPECT_NE(html.find("112 executions, random walk, seed 1"), std::string::npos);
  EXPECT_NE(html.find("<th>preemptions</th><td>2</td>"), std::string::npos);
  EXPECT_NE(html.find("<th>total steps</th><td>60</td>"), std::string::npos);
  EXPECT_NE(html.find("<th>virtual end time</th><td>959.500 ms</td>"), std::string::npos);
  // The sleep state in the header and beside the waiter's row.
  EXPECT_EQ(Count(html, "The waiter went to sleep with:"), 2u);
  EXPECT_NE(html.find("<li><code>" + EscapeXml(kNotifyMe) + " = 2</code></li>"),
            std::string::npos);
  for (const std::string& d : r.details) {
    EXPECT_NE(html.find("<li>" + EscapeXml(d) + "</li>"), std::string::npos) << d;
  }
  EXPECT_NE(html.find("<tr><td>1</td><td>iothread</td><td>finished</td></tr>"),
            std::string::npos);
}

TEST(HtmlReport, TimelineHasLanesMarksAndHighlights) {
  const std::string html = TimelineOf(RenderHtml(LostWakeup()));
  ASSERT_FALSE(html.empty());
  EXPECT_EQ(Count(html, "<g class=\"lane\""), 3u);
  for (int t = 0; t < 3; t++) {
    EXPECT_NE(html.find(absl::StrCat("<g class=\"lane\" data-thread=\"", t, "\">")),
              std::string::npos);
  }
  EXPECT_NE(html.find(">thread 1 (iothread)</text>"), std::string::npos);
  EXPECT_NE(html.find(">end: waits in poll (aio_poll) forever</text>"),
            std::string::npos);
  EXPECT_NE(html.find("class=\"step highlight hl-wakeup-consumed\" data-step=\"44\""),
            std::string::npos);
  EXPECT_NE(html.find("class=\"step highlight hl-waiter-sleeps\" data-step=\"56\""),
            std::string::npos);
  EXPECT_EQ(Count(html, "class=\"step highlight"), 2u);
  EXPECT_NE(html.find("▲ wakeup consumed here"), std::string::npos);
  EXPECT_NE(html.find("▲ waiter sleeps here"), std::string::npos);
  // Every op row is a step element with its number.
  for (uint64_t n = 39; n <= 58; n++) {
    if (n == 44 || (n >= 49 && n <= 54) || n == 56) continue;
    EXPECT_NE(
        html.find(absl::StrCat("class=\"step\" data-step=\"", n, "\" data-kind=\"op\"")),
        std::string::npos)
        << n;
  }
  EXPECT_NE(
      html.find("preemption: thread 1 (iothread) could go on; thread 0 (main) runs"),
      std::string::npos);
  EXPECT_NE(html.find("preemption: thread 2 (worker) could go on; thread 0 (main) runs"),
            std::string::npos);
  EXPECT_EQ(Count(html, "<line class=\"preempt\""), 2u);
  EXPECT_NE(html.find("☾ sleeps in poll"), std::string::npos);
  EXPECT_NE(html.find("☀ wakes (timeout)"), std::string::npos);
  // The set-up row's label is cut to its lane; its hover has it all.
  EXPECT_NE(html.find(">set-up: 38 operations in main"), std::string::npos);
  EXPECT_NE(HoverOf(html, "step", 1).find("in: main, aio_context_new, qemu_bh_new"),
            std::string::npos);
  EXPECT_NE(html.find("↑ the 2 rows above repeat 3 more times (steps 49–54)"),
            std::string::npos);
  // The axis: start, the jump, the end.
  EXPECT_NE(html.find(">t = 0.000 ms</text>"), std::string::npos);
  EXPECT_NE(html.find(">t = 958.000 ms</text>"), std::string::npos);
  EXPECT_NE(html.find(">t = 959.500 ms</text>"), std::string::npos);
  // The waiter sleeps to the end: a dotted span in its lane.
  EXPECT_EQ(Count(html, "<line class=\"sleeping\""), 1u);
  // The op label: op, object, value; an object too long for its lane is cut from the
  // left, keeping its field name and the value.
  EXPECT_NE(html.find("<tspan class=\"op\">store</tspan> " + EscapeXml(kNotifyMe) +
                      " <tspan class=\"val\">0 -&gt; 2</tspan>"),
            std::string::npos);
  const std::string op = "<tspan class=\"op\">fd-clear</tspan> ";
  const size_t b = html.find(op);
  ASSERT_NE(b, std::string::npos);
  const size_t e = html.find(" <tspan class=\"val\">1 -&gt; 0</tspan></text>", b);
  ASSERT_NE(e, std::string::npos);
  const std::string object = html.substr(b + op.size(), e - b - op.size());
  EXPECT_TRUE(object.starts_with("…")) << object;
  EXPECT_TRUE(object.ends_with("(eventfd count)")) << object;
  EXPECT_EQ(object.find("ctx"), std::string::npos) << "its head is cut: " << object;
}

TEST(HtmlReport, HoverGivesStepWhereTimeAndCarriedState) {
  const std::string html = RenderHtml(LostWakeup());
  // Step 46 (row 9) has no state row of its own: the values after row 8 carry.
  const std::string hover = HoverOf(html, "step", 46);
  ASSERT_FALSE(hover.empty());
  EXPECT_NE(hover.find("step 46: thread 2 (worker)"), std::string::npos) << hover;
  EXPECT_NE(hover.find("op: load"), std::string::npos) << hover;
  EXPECT_NE(hover.find("object: req#2-&gt;state"), std::string::npos) << hover;
  EXPECT_NE(hover.find("value: = 1"), std::string::npos) << hover;
  EXPECT_NE(hover.find("where: scenarios/r4.cc:77 worker"), std::string::npos) << hover;
  EXPECT_NE(hover.find("virtual time: t = 0.000 ms"), std::string::npos) << hover;
  EXPECT_NE(hover.find(EscapeXml(kNotifyMe) + " = 0\n"), std::string::npos) << hover;
  EXPECT_NE(hover.find(EscapeXml(kEventfd) + " = 0"), std::string::npos) << hover;
  EXPECT_EQ(hover.find("req#2-&gt;state = "), std::string::npos) << "not known yet";

  // Step 55, after the jump: its time, and row 17's one value merged over the rest.
  const std::string later = HoverOf(html, "step", 57);
  EXPECT_NE(later.find("virtual time: t = 958.000 ms"), std::string::npos) << later;
  EXPECT_NE(later.find(EscapeXml(kNotifyMe) + " = 2\n"), std::string::npos) << later;
  EXPECT_NE(later.find("req#2-&gt;state = 2"), std::string::npos) << later;

  const std::string sleeps = HoverOf(html, "step highlight hl-waiter-sleeps", 56);
  EXPECT_NE(sleeps.find("thread 0 (main) sleeps in poll"), std::string::npos) << sleeps;
  EXPECT_NE(sleeps.find("&gt;&gt; waiter sleeps here"), std::string::npos) << sleeps;
}

TEST(HtmlReport, StateColumnsEmphasiseChangedValues) {
  const std::string html = TimelineOf(RenderHtml(LostWakeup()));
  // Row 7 (step 44) clears the eventfd (changed) and leaves notify_me at 2 (same).
  EXPECT_NE(html.find("<g class=\"changed\"><title>" + EscapeXml(kEventfd) +
                      " = 0 (changed)\nafter step 44</title>"),
            std::string::npos);
  EXPECT_NE(html.find("<g class=\"same\"><title>" + EscapeXml(kNotifyMe) +
                      " = 2 (unchanged)\nafter step 44</title>"),
            std::string::npos);
  // Every object has a column header.
  for (const char* o : {kNotifyMe, kNotified, kScheduled, kEventfd, kReq}) {
    EXPECT_NE(html.find("<g><title>" + EscapeXml(o) + "</title>"), std::string::npos)
        << o;
  }
  // Changes by hand: row 2: 1; 3: 1; 4: 2; 6: 1; 7: 1; 8: 1; 10: 1; 17: 1; 18: req#2
  // was 2 already, notify_me 2 already... none.
  EXPECT_EQ(Count(html, "<g class=\"changed\">"), 9u);
}

TEST(HtmlReport, StandaloneAndDeterministic) {
  const std::string html = RenderHtml(LostWakeup());
  EXPECT_EQ(html, RenderHtml(LostWakeup()));
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("href="), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  EXPECT_EQ(html.find("url("), std::string::npos);
}

TEST(HtmlReport, PassHasGreenBadgeAndNoSleepBox) {
  Report r = LostWakeup();
  r.verdict = "pass";
  r.sleep_state.clear();
  for (Step& s : r.steps) s.highlights.clear();
  const std::string html = RenderHtml(r);
  EXPECT_NE(html.find("<span class=\"badge pass\">pass</span>"), std::string::npos);
  EXPECT_EQ(html.find("went to sleep with"), std::string::npos);
  EXPECT_EQ(html.find("class=\"step highlight"), std::string::npos);
}

TEST(HtmlReport, EscapesEveryString) {
  const std::string evil = "<script>alert(1)</script> & \"q\" 'a'";
  const std::string escaped =
      "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;q&quot; &#39;a&#39;";
  Report r = LostWakeup();
  r.title = evil;
  r.verdict = evil;
  r.message = evil;
  r.where = evil;
  r.explanation = evil;
  r.reproduce = evil;
  r.search = evil;
  r.details = {evil};
  for (Thread& t : r.threads) {
    t.name = evil;
    t.end = evil;
  }
  for (Step& s : r.steps) {
    if (!s.object.empty()) s.object = evil;
    s.where = evil;
    if (s.kind == StepKind::kSetup) s.detail = evil;
  }
  r.watched = {evil};
  for (StateRow& sr : r.state) {
    for (StateValue& v : sr.values) v.object = evil;
  }
  r.sleep_state = {{evil, evil}};
  const std::string html = RenderHtml(r);
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("& \""), std::string::npos);
  EXPECT_EQ(html.find("'a'"), std::string::npos);
  EXPECT_NE(html.find("<title>" + escaped + "</title>"), std::string::npos);
  EXPECT_NE(html.find("<p class=\"message\">" + escaped + "</p>"), std::string::npos);
  EXPECT_NE(html.find("<code>" + escaped + "</code>"), std::string::npos);
  EXPECT_NE(html.find("<td>" + escaped + "</td><td>" + escaped + "</td>"),
            std::string::npos);
  EXPECT_NE(html.find("thread 0 (" + escaped + ")"), std::string::npos);
  EXPECT_NE(html.find("<li><code>" + escaped + " = " + escaped + "</code></li>"),
            std::string::npos);
}

TEST(HtmlReport, LongTimelineKeepsHighlightsAndShowsGaps) {
  Report r;
  r.title = "long";
  r.verdict = "assertion";
  r.threads = {{0, "main", "finished"}, {1, "iothread", "finished"}};
  for (uint64_t i = 0; i < 3000; i++) {
    r.steps.push_back(Op(i + 1, static_cast<int>(i % 2), "load",
                         "ctx \"main\"->notify_me", "= 0",
                         "legacy/aio_posix.cc:590 aio_poll"));
  }
  r.steps[1700].highlights = {Highlight::kFailure};
  const std::string html = RenderHtml(r);
  // Kept: rows 0..299, 1695..1705, 2000..2999; step numbers are rows + 1.
  EXPECT_NE(html.find("… 1395 rows not shown …"), std::string::npos);
  EXPECT_NE(html.find("… 294 rows not shown …"), std::string::npos);
  EXPECT_EQ(Count(html, "rows not shown"), 2u);
  EXPECT_NE(html.find("class=\"step highlight hl-failure\" data-step=\"1701\""),
            std::string::npos);
  EXPECT_NE(html.find("▲ property broke here"), std::string::npos);
  auto shown = [&](uint64_t n) {
    return html.find(absl::StrCat("data-step=\"", n, "\"")) != std::string::npos;
  };
  for (uint64_t n : {1u, 300u, 1696u, 1706u, 2001u, 3000u}) EXPECT_TRUE(shown(n)) << n;
  for (uint64_t n : {301u, 1000u, 1695u, 1707u, 2000u}) EXPECT_FALSE(shown(n)) << n;
  EXPECT_LT(html.size(), 2'000'000u);
}

TEST(HtmlTable, CaseRowsWithTicksAndEscapedFailure) {
  Table t;
  t.title = "aiosim check --generation legacy";
  t.summary = "1 ok, 1 failed";
  t.cases.push_back({"R4 revert=R4 dfs", "check legacy", "lost-wakeup", "lost-wakeup",
                     true, "found after 112 executions", 1.25, ""});
  t.cases.push_back({"R5 dfs", "check legacy", "pass", "deadlock", false,
                     "exhausted at 2 preemptions", 0.5,
                     "deadlock <&> in aio_poll\naiosim replay R5.x"});
  const std::string html = RenderHtml(t);
  EXPECT_TRUE(html.starts_with("<!DOCTYPE html>\n"));
  EXPECT_NE(html.find("<h1>aiosim check --generation legacy</h1>"), std::string::npos);
  EXPECT_NE(html.find("1 ok, 1 failed"), std::string::npos);
  EXPECT_EQ(html.find("<&>"), std::string::npos);
  EXPECT_NE(html.find("<pre class=\"failure\">deadlock &lt;&amp;&gt; in aio_poll\n"
                      "aiosim replay R5.x</pre>"),
            std::string::npos);
  EXPECT_EQ(Count(html, "<td class=\"ok\" title=\"ok\">✓</td>"), 1u);
  EXPECT_EQ(Count(html, "<td class=\"failed\" title=\"failed\">✗</td>"), 1u);
  EXPECT_NE(html.find("<td>1.25</td>"), std::string::npos);
  EXPECT_NE(html.find("<tr class=\"failed-row\"><td><code>R5 dfs</code>"),
            std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
}

TEST(HtmlTable, ColumnsAndCells) {
  Table t;
  t.title = "claims";
  t.columns = {"claim", "legacy", "modern"};
  t.cells = {{"C1 <notify_me>", "holds", "holds"}, {"C2", "broken & fixed", "holds"}};
  const std::string html = RenderHtml(t);
  EXPECT_NE(html.find("<tr><th>claim</th><th>legacy</th><th>modern</th></tr>"),
            std::string::npos);
  EXPECT_NE(
      html.find("<tr><td>C1 &lt;notify_me&gt;</td><td>holds</td><td>holds</td></tr>"),
      std::string::npos);
  EXPECT_NE(html.find("<td>broken &amp; fixed</td>"), std::string::npos);
  EXPECT_EQ(html.find("<th>expected</th>"), std::string::npos);
}

// Headless Chromium: the page parses, renders and logs nothing on its console.

std::string FindChromium() {
  if (access("/usr/bin/chromium", X_OK) == 0) return "/usr/bin/chromium";
  const char* path = std::getenv("PATH");
  const std::vector<std::string> dirs = absl::StrSplit(path == nullptr ? "" : path, ':');
  for (const std::string& dir : dirs) {
    if (dir.empty()) continue;
    const std::string candidate = dir + "/chromium-browser";
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

struct ChromiumRun {
  std::string error;  // why it could not run ("" if it ran)
  int status = -1;    // the exit status, if it exited
  bool timed_out = false;
  std::string dom;     // --dump-dom's output
  std::string stderr;  // its log
  double seconds = 0;
};

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs Chromium on `html` in a directory of its own (the page, a fresh profile, the
// outputs), so that two test runs at once do not share anything. Waits for it (a
// pidfd, no polling loop) for at most 120 s; on a timeout kills its process group.
ChromiumRun RunChromium(const std::string& binary, const std::string& html) {
  ChromiumRun run;
  std::string tmpl = ::testing::TempDir() + "aiosim_html_XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    run.error = absl::StrCat("mkdtemp(", tmpl, ") failed");
    return run;
  }
  const std::filesystem::path dir = tmpl;
  const std::filesystem::path page = dir / "report.html";
  {
    std::ofstream out(page, std::ios::binary);
    out << html;
  }
  const std::string out_path = (dir / "dom.html").string();
  const std::string err_path = (dir / "stderr.txt").string();
  std::vector<std::string> args = {binary,
                                   "--headless",
                                   "--no-sandbox",
                                   "--disable-gpu",
                                   "--enable-logging=stderr",
                                   "--v=0",
                                   "--no-first-run",
                                   "--user-data-dir=" + (dir / "profile").string(),
                                   "--dump-dom",
                                   "file://" + page.string()};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);  // its own group: a timeout kills its helpers too
  const auto start = std::chrono::steady_clock::now();
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, binary.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    run.error = absl::StrCat("posix_spawn(", binary, ") failed: ", std::strerror(rc));
    std::filesystem::remove_all(dir);
    return run;
  }
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd >= 0) {
    struct pollfd p = {pidfd, POLLIN, 0};
    int ready;
    do {
      ready = poll(&p, 1, 120'000);
    } while (ready < 0 && errno == EINTR);
    close(pidfd);
    if (ready == 0) {
      run.timed_out = true;
      kill(-pid, SIGKILL);
    }
  }  // else (no pidfd_open): the blocking waitpid below; CTest's timeout bounds it
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  run.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  run.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  run.dom = ReadFile(out_path);
  run.stderr = ReadFile(err_path);
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return run;
}

// Lines of Chromium's log that report the page's console or a script error. Chromium
// logs console messages as "...:INFO:CONSOLE:1] ..." (older: "CONSOLE(1)", or at
// ERROR level): any of them means the page said something, and it has no script.
std::vector<std::string> ConsoleLines(const std::string& log) {
  std::vector<std::string> bad;
  const std::vector<std::string> lines = absl::StrSplit(log, '\n');
  for (const std::string& line : lines) {
    if (line.find("CONSOLE") != std::string::npos ||
        line.find("Uncaught") != std::string::npos) {
      bad.push_back(line);
    }
  }
  return bad;
}

std::string Joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) absl::StrAppend(&out, l, "\n");
  return out;
}

TEST(HtmlChromium, ReportParsesAndRendersWithoutConsoleErrors) {
  const std::string binary = FindChromium();
  ASSERT_FALSE(binary.empty())
      << "neither /usr/bin/chromium nor chromium-browser in PATH: run scripts/setup "
         "(it installs the Debian package chromium)";
  const ChromiumRun run = RunChromium(binary, RenderHtml(LostWakeup()));
  ASSERT_EQ(run.error, "");
  std::cout << "chromium took " << run.seconds << " s\n";
  RecordProperty("chromium_seconds", absl::StrCat(run.seconds));
  ASSERT_FALSE(run.timed_out) << "chromium did not finish in 120 s; its log:\n"
                              << run.stderr;
  ASSERT_EQ(run.status, 0) << "its log:\n" << run.stderr;
  EXPECT_EQ(Count(run.dom, "class=\"lane\""), 3u) << run.dom.substr(0, 2000);
  EXPECT_NE(run.dom.find("class=\"step highlight hl-wakeup-consumed\" data-step=\"44\""),
            std::string::npos);
  EXPECT_NE(run.dom.find("class=\"step highlight hl-waiter-sleeps\" data-step=\"56\""),
            std::string::npos);
  EXPECT_NE(run.dom.find("</svg>"), std::string::npos);
  EXPECT_EQ(ConsoleLines(run.stderr), std::vector<std::string>{})
      << Joined(ConsoleLines(run.stderr));
}

// The console check above is only worth something if it sees an error: a page with
// a failing script must be caught.
TEST(HtmlChromium, ConsoleCheckCatchesAScriptError) {
  const std::string binary = FindChromium();
  ASSERT_FALSE(binary.empty()) << "run scripts/setup (it installs chromium)";
  const ChromiumRun run = RunChromium(
      binary,
      "<!DOCTYPE html><html><body><p>x</p><script>no_such_function();</script>"
      "</body></html>\n");
  ASSERT_EQ(run.error, "");
  ASSERT_FALSE(run.timed_out) << run.stderr;
  ASSERT_EQ(run.status, 0) << run.stderr;
  const std::vector<std::string> bad = ConsoleLines(run.stderr);
  ASSERT_FALSE(bad.empty()) << "no console line seen; the log:\n" << run.stderr;
  EXPECT_NE(Joined(bad).find("no_such_function"), std::string::npos) << Joined(bad);
}

}  // namespace
}  // namespace aiosim::reports
