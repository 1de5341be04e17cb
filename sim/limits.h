// sim/limits.h — the bounds on every simulator parameter a user can set, shared by the
// command line (tools/) and the token decoder (sim/replay.cc), so that a token with a
// valid checksum cannot ask for more than the command line would accept.
// SPDX-License-Identifier: GPL-2.0-or-later
#ifndef AIOSIM_SIM_LIMITS_H_
#define AIOSIM_SIM_LIMITS_H_

#include <cstdint>
#include <limits>

namespace aiosim::sim {

inline constexpr uint64_t kPreemptionsMax = 64;  // dfs --preemptions
inline constexpr uint64_t kPctDepthMax = 64;     // pct --pct-depth
inline constexpr uint64_t kPctStepsMax = uint64_t{1} << 40;
inline constexpr uint64_t kMaxStepsMax = uint64_t{1} << 40;  // --max-steps
inline constexpr uint64_t kTimeAdvancesMax = std::numeric_limits<int>::max();
inline constexpr uint64_t kFairnessStepsMax = uint64_t{1} << 40;
// A DFS execution index is replayed by running the search up to it: beyond this the
// token is refused (a random or PCT index is regenerated directly, at any size).
inline constexpr uint64_t kDfsReplayIndexMax = 100'000'000;

}  // namespace aiosim::sim

#endif  // AIOSIM_SIM_LIMITS_H_
