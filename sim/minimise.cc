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

ExecResult RunDeviations(const Body& body, const ExecOptions& options,
                         const std::vector<Deviation>& deviations) {
  DeviationStrategy s(deviations, /*check=*/false);
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
      candidate.insert(candidate.end(),
                       best.deviations.begin() +
                           std::min(best.deviations.size(), start + chunk),
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

ExecResult WithTrace(const Body& body, const ExecOptions& options, const ExecResult& result) {
  ExecOptions o = options;
  o.record_trace = true;
  ExecResult r = RunDeviations(body, o, result.deviations);
  return SameFailure(r.failure, result.failure) ? r : result;
}

ExecResult Minimise(const Body& body, const RunConfig& c, const ExecResult& failing,
                    uint64_t* runs) {
  const Failure target = failing.failure;
  // The search's run, as its deviations replay it (they do exactly).
  ++*runs;
  ExecResult start = RunDeviations(body, c.exec, failing.deviations);
  if (!SameFailure(start.failure, target)) return WithTrace(body, c.exec, failing);
  ExecResult best = DeltaDebug(body, c, target, std::move(start), runs);
  if (best.preemptions > 0 && !Stopped(c, *runs)) {
    DfsStrategy dfs(best.preemptions - 1);
    const uint64_t budget = c.minimize_executions_max * 2 / 3;
    for (uint64_t i = 0; i < budget && !Stopped(c, *runs); i++) {
      if (!dfs.BeginExecution(i)) break;
      ++*runs;
      ExecResult r = RunExecution(body, c.exec, &dfs);
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
