// reports/json.cc — RenderJson (render.h), schema docs/report-schema.json.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "reports/escape.h"
#include "reports/model.h"
#include "reports/render.h"

namespace aiosim::reports {

namespace {

const char* KindName(StepKind k) {
  switch (k) {
    case StepKind::kOp: return "op";
    case StepKind::kBlock: return "block";
    case StepKind::kWake: return "wake";
    case StepKind::kPreemption: return "preemption";
    case StepKind::kTimeJump: return "time-jump";
    case StepKind::kSignal: return "signal";
    case StepKind::kInjected: return "injected";
    case StepKind::kFairness: return "fairness";
    case StepKind::kSetup: return "setup";
    case StepKind::kRepeat: return "repeat";
  }
  return "invalid";
}

// A small writer: fields in the order they are added, no trailing commas.
class Obj {
 public:
  Obj& Str(const char* k, const std::string& v) { return Raw(k, JsonString(v)); }
  Obj& Int(const char* k, int64_t v) { return Raw(k, absl::StrCat(v)); }
  Obj& Num(const char* k, double v) { return Raw(k, absl::StrFormat("%.3f", v)); }
  Obj& Bool(const char* k, bool v) { return Raw(k, v ? "true" : "false"); }
  Obj& Raw(const char* k, const std::string& v) {
    absl::StrAppend(&s_, s_.empty() ? "{" : ",", JsonString(k), ":", v);
    return *this;
  }
  std::string Done() const { return s_.empty() ? "{}" : s_ + "}"; }

 private:
  std::string s_;
};

std::string Array(const std::vector<std::string>& items) {
  std::string s = "[";
  for (size_t i = 0; i < items.size(); i++) absl::StrAppend(&s, i ? "," : "", items[i]);
  return s + "]";
}
std::string Strings(const std::vector<std::string>& v) {
  std::vector<std::string> items;
  for (const std::string& x : v) items.push_back(JsonString(x));
  return Array(items);
}
std::string Values(const std::vector<StateValue>& v) {
  std::vector<std::string> items;
  for (const StateValue& x : v) items.push_back(Obj().Str("object", x.object).Str("value", x.value).Done());
  return Array(items);
}

}  // namespace

std::string RenderJson(const Report& r) {
  std::vector<std::string> threads, steps, state;
  for (const Thread& t : r.threads) {
    threads.push_back(Obj().Int("id", t.id).Str("name", t.name).Str("end", t.end).Done());
  }
  for (const Step& s : r.steps) {
    Obj o;
    o.Str("kind", KindName(s.kind)).Int("step", static_cast<int64_t>(s.step)).Int("thread", s.thread);
    if (s.kind == StepKind::kPreemption) o.Int("from_thread", s.from_thread);
    o.Str("op", s.op).Str("object", s.object).Str("value", s.value).Str("where", s.where);
    if (!s.detail.empty()) o.Str("detail", s.detail);
    o.Int("time_ns", s.time_ns);
    if (s.kind == StepKind::kSetup || s.kind == StepKind::kRepeat) {
      o.Int("count", static_cast<int64_t>(s.count)).Int("last_step", static_cast<int64_t>(s.last_step));
    }
    if (s.kind == StepKind::kRepeat) o.Int("period", s.period);
    std::vector<std::string> hl;
    for (Highlight h : s.highlights) hl.push_back(JsonString(HighlightName(h)));
    o.Raw("highlights", Array(hl));
    steps.push_back(o.Done());
  }
  for (const StateRow& sr : r.state) {
    state.push_back(Obj().Int("step_index", static_cast<int64_t>(sr.step_index)).Raw("values", Values(sr.values)).Done());
  }
  return Obj()
             .Int("schema", 1)
             .Str("kind", "report")
             .Str("title", r.title)
             .Str("scenario", r.scenario)
             .Str("generation", r.generation)
             .Str("options", r.options)
             .Str("verdict", r.verdict)
             .Str("message", r.message)
             .Raw("details", Strings(r.details))
             .Str("where", r.where)
             .Str("explanation", r.explanation)
             .Str("token", r.token)
             .Str("reproduce", r.reproduce)
             .Str("search", r.search)
             .Int("preemptions", r.preemptions)
             .Int("total_steps", static_cast<int64_t>(r.total_steps))
             .Int("end_time_ns", r.end_time_ns)
             .Raw("threads", Array(threads))
             .Raw("steps", Array(steps))
             .Raw("watched", Strings(r.watched))
             .Raw("state", Array(state))
             .Raw("sleep_state", Values(r.sleep_state))
             .Done() +
         "\n";
}

std::string RenderJson(const Table& t) {
  std::vector<std::string> cases, cells;
  for (const CaseRow& c : t.cases) {
    cases.push_back(Obj()
                        .Str("name", c.name)
                        .Str("group", c.group)
                        .Str("expected", c.expected)
                        .Str("got", c.got)
                        .Bool("ok", c.ok)
                        .Str("evidence", c.evidence)
                        .Num("seconds", c.seconds)
                        .Str("failure", c.failure)
                        .Done());
  }
  for (const auto& row : t.cells) cells.push_back(Strings(row));
  return Obj()
             .Int("schema", 1)
             .Str("kind", "table")
             .Str("title", t.title)
             .Str("summary", t.summary)
             .Raw("columns", Strings(t.columns))
             .Raw("cells", Array(cells))
             .Raw("cases", Array(cases))
             .Done() +
         "\n";
}

}  // namespace aiosim::reports
