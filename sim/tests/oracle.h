// sim/tests/oracle.h — a brute-force oracle for the bounded exhaustive search: a
// stateless enumeration of every choice sequence, with no reduction at all, cut only
// by the preemption bound (sim/choice.h's PreemptionCost, the definition the search
// and the executions use). Deliberately naive: it shares no code with sim/dfs.cc.
// SPDX-License-Identifier: GPL-2.0-or-later
#ifndef AIOSIM_SIM_TESTS_ORACLE_H_
#define AIOSIM_SIM_TESTS_ORACLE_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "sim/aiosim_sim.h"

namespace aiosim::sim::testing {

// Every schedule with at most `bound` preemptions (bound < 0: all), depth first.
class OracleStrategy final : public Strategy {
 public:
  explicit OracleStrategy(int bound) : bound_(bound) {}
  bool BeginExecution(uint64_t) override {
    depth_ = 0;
    cost_ = 0;
    return !done_;
  }
  Decision Choose(const ChoicePoint& p) override {
    if (depth_ == path_.size()) {
      Entry e{p.n, {}};
      for (uint32_t o = 0; o < p.n; o++) {
        if (bound_ < 0 || cost_ + PreemptionCost(p, o) <= bound_) e.allowed.push_back(o);
      }
      e.at = 0;  // option 0 costs nothing when current < 0; else some option does
      path_.push_back(e);
    }
    Entry& e = path_[depth_++];
    if (e.n != p.n) return {p.n, 0};  // the program is not deterministic
    const uint32_t o = e.allowed[e.at];
    cost_ += PreemptionCost(p, o);
    return {o, 0};
  }
  void EndExecution(const ExecResult&) override {
    path_.resize(depth_);
    while (!path_.empty() && path_.back().at + 1 >= path_.back().allowed.size()) {
      path_.pop_back();
    }
    if (path_.empty()) {
      done_ = true;
    } else {
      path_.back().at++;
    }
  }
  std::string Describe() const override { return "oracle"; }

 private:
  struct Entry {
    uint32_t n;
    std::vector<uint32_t> allowed;
    size_t at = 0;
  };
  int bound_;
  std::vector<Entry> path_;
  size_t depth_ = 0;
  int cost_ = 0;
  bool done_ = false;
};

// What a search saw: each outcome with the fewest preemptions it was reached with,
// and the number of executions.
struct Outcomes {
  std::map<std::string, int> min_preemptions;
  uint64_t executions = 0;
  bool complete = false;
};

// Runs `strategy` to its end (or `executions_max`); `outcome` names what an
// execution did (the body records it; a failure is named by its kind and message).
inline Outcomes RunAll(const Body& body, const ExecOptions& options, Strategy* strategy,
                       const std::string* observed, uint64_t executions_max) {
  Outcomes out;
  for (uint64_t i = 0; i < executions_max; i++) {
    if (!strategy->BeginExecution(i)) {
      out.complete = true;
      break;
    }
    ExecResult r = RunExecution(body, options, strategy);
    strategy->EndExecution(r);
    out.executions++;
    std::string name =
        r.failure.kind == FailureKind::kNone
            ? *observed
            : std::string(FailureKindName(r.failure.kind)) + ": " + r.failure.message;
    auto [it, fresh] = out.min_preemptions.emplace(name, r.preemptions);
    if (!fresh && r.preemptions < it->second) it->second = r.preemptions;
  }
  return out;
}

}  // namespace aiosim::sim::testing

#endif  // AIOSIM_SIM_TESTS_ORACLE_H_
