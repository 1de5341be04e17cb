// sim/minimise.cc — see minimise.h.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "sim/minimise.h"

#include <algorithm>
#include <tuple>

#include "sim/deviation.h"
#include "sim/dfs.h"

namespace aiosim::sim {

namespace {

auto Key(const ExecResult& r) {
  return std::make_tuple(r.preemptions, r.steps, r.deviations.size());
}
bool Better(const ExecResult& a, const ExecResult& b) { return Key(a) < Key(b); }

bool Stopped(const RunConfig& c, uint64_t runs) {
  return runs >= c.minimize_executions_max || (c.stop && c.stop());
}

ExecResult RunDeviations(const Body& body, ExecOptions options,
                         const std::vector<Deviation>& deviations) {
  options.record_deviations = true;
  DeviationStrategy s(deviations, /*check=*/false);
  s.BeginExecution(0);
  return RunExecution(body, options, &s);
}

// `result` with its deviations recorded: the same execution, replayed by its decisions.
ExecResult Located(const Body& body, ExecOptions options, const ExecResult& result) {
  options.record_deviations = true;
  ChoiceReplayStrategy s(result.choices);
  s.BeginExecution(0);
  return RunExecution(body, options, &s);
}

// Greedy delta debugging over the deviations: drop chunks (halves, quarters, ...
// single deviations) while the execution still fails the same way and gets smaller.
ExecResult DeltaDebug(const Body& body, const RunConfig& c, const Failure& target,
                      ExecResult best, uint64_t* runs) {
  for (size_t chunk = std::max<size_t>(best.deviations.size() / 2, 1); chunk >= 1;) {
    bool removed = false;
    for (size_t start = 0; start < best.deviations.size() && !Stopped(c, *runs);) {
      std::vector<Deviation> candidate(best.deviations.begin(),
                                       best.deviations.begin() + start);
      candidate.insert(
          candidate.end(),
          best.deviations.begin() + std::min(best.deviations.size(), start + chunk),
          best.deviations.end());
      ++*runs;
      ExecResult r = RunDeviations(body, c.exec, candidate);
      if (SameFailure(r.failure, target) && Better(r, best)) {
        best = std::move(r);
        removed = true;
      } else {
        start += chunk;
      }
    }
    if (Stopped(c, *runs)) break;
    if (!removed) {
      if (chunk == 1) break;
      chunk /= 2;
    }
  }
  return best;
}

}  // namespace

ExecResult WithTrace(const Body& body, const ExecOptions& options,
                     const ExecResult& result) {
  ExecOptions o = options;
  o.record_trace = true;
  ExecResult r = result.deviations.empty() && !result.choices.empty()
                     ? Located(body, o, result)
                     : RunDeviations(body, o, result.deviations);
  return SameFailure(r.failure, result.failure) ? r : result;
}

ExecResult Minimise(const Body& body, const RunConfig& c, const ExecResult& failing,
                    uint64_t* runs) {
  const Failure target = failing.failure;
  // The search's run, located (its deviations), and as those deviations replay it
  // (they do exactly).
  ++*runs;
  ExecResult located = Located(body, c.exec, failing);
  if (!SameFailure(located.failure, target)) return WithTrace(body, c.exec, failing);
  ++*runs;
  ExecResult start = RunDeviations(body, c.exec, located.deviations);
  if (!SameFailure(start.failure, target)) return WithTrace(body, c.exec, located);
  ExecResult best = DeltaDebug(body, c, target, std::move(start), runs);
  if (best.preemptions > 0 && !Stopped(c, *runs)) {
    DfsStrategy dfs(best.preemptions - 1, c.dfs_frontier_bytes_max);
    const uint64_t budget = c.minimize_executions_max * 2 / 3;
    ExecOptions o = c.exec;
    o.record_deviations = true;
    for (uint64_t i = 0; i < budget && !Stopped(c, *runs); i++) {
      if (!dfs.BeginExecution(i)) break;
      ++*runs;
      ExecResult r = RunExecution(body, o, &dfs);
      dfs.EndExecution(r);
      if (SameFailure(r.failure, target)) {
        ExecResult m = DeltaDebug(body, c, target, std::move(r), runs);
        if (Better(m, best)) best = std::move(m);
        break;
      }
    }
  }
  ++*runs;
  return WithTrace(body, c.exec, best);
}

}  // namespace aiosim::sim
