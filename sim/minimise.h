// sim/minimise.h — schedule minimisation (internal to the explorer).
// SPDX-License-Identifier: GPL-2.0-or-later
//
// A failing schedule is the list of its deviations from the default (sim/choice.h).
// Minimise looks for a schedule that fails the same way (SameFailure: kind and where)
// and is smaller by the key (preemptions, steps, deviations), in that order: first
// delta debugging over the deviations; then, because removing deviations one by one
// can get stuck in a local minimum, a bounded exhaustive search for the same failure
// with fewer preemptions, itself delta-debugged. The result is never worse than the
// original by that key, and is replayed once more with its trace.
#ifndef AIOSIM_SIM_MINIMISE_H_
#define AIOSIM_SIM_MINIMISE_H_

#include <cstdint>

#include "sim/aiosim_sim.h"

namespace aiosim::sim {

// REQUIRES: failing.failure.kind != kNone. `*runs` counts the executions used; the
// search stops at config.minimize_executions_max of them or when config.stop says so.
ExecResult Minimise(const Body& body, const RunConfig& config, const ExecResult& failing,
                    uint64_t* runs);

// Re-runs the schedule of `result` (its deviations) with the trace recorded. Returns
// the traced run if it fails the same way, else `result` unchanged.
ExecResult WithTrace(const Body& body, const ExecOptions& options,
                     const ExecResult& result);

}  // namespace aiosim::sim

#endif  // AIOSIM_SIM_MINIMISE_H_
