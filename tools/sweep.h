// tools/sweep.h — many seeds of many scenarios, in parallel processes and across
// machines: `aiosim sweep` and `aiosim merge` (sweep.cc; docs/sweeps.md).
// SPDX-License-Identifier: GPL-2.0-or-later
//
// A sweep is a list of items in a canonical order: for each scenario (catalog order),
// each option set (OptionVariants, or the one given on the command line), each seed
// from A to B. Item i belongs to shard K of N when i % N == K - 1, so N shards cover
// exactly the items of one unsharded sweep, each once. `--jobs J` runs a shard's items
// in J worker processes (item j of the shard goes to worker j % J). Each item is one
// search (sim::Explore) with its seed and the per-seed budget.
//
// The output file (format "aiosim-sweep-1", JSON) holds the parameters, the shard (in
// a shard's file only), and the results sorted by item index, then a summary per
// scenario and option set computed from them; it records no wall-clock figure (those
// go to stderr). So `aiosim merge` of all N shards' files writes the same bytes as one
// unsharded sweep. Merge refuses files of different sweeps, missing or repeated
// shards, and results that do not add up.
//
// Threading: the parent forks its workers before any simulation runs; each worker
// runs its simulations on its own main thread.
#ifndef AIOSIM_TOOLS_SWEEP_H_
#define AIOSIM_TOOLS_SWEEP_H_

#include "tools/flags.h"

namespace aiosim::tools {

extern const char kSweepUsage[];
int SweepMain(Args args);

extern const char kMergeUsage[];
int MergeMain(Args args);

// A worker's exit status: it could not complete its items (a crash, an unwritable
// output). Distinct from 0 (nothing found), 1 (found), 2 (bad input), 3 (stdout).
inline constexpr int kExitWorker = 4;

}  // namespace aiosim::tools

#endif  // AIOSIM_TOOLS_SWEEP_H_
