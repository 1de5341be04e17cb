// bench/proc_memory.h — the process's memory as Linux reports it, for the benchmarks
// (sim_bench.cc, dfs_rate.cc). Outside any simulation.
// SPDX-License-Identifier: GPL-2.0-or-later
#ifndef AIOSIM_BENCH_PROC_MEMORY_H_
#define AIOSIM_BENCH_PROC_MEMORY_H_

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace aiosim::bench {

// A field of /proc/self/smaps_rollup ("Anonymous", "Rss"), in bytes; -1 if unreadable.
// smaps_rollup walks the page tables, so it is exact; /proc/self/statm reads the
// kernel's per-CPU RSS counters, which may lag by tens of pages.
inline int64_t SmapsRollup(const char* field) {
  FILE* f = std::fopen("/proc/self/smaps_rollup", "r");
  if (f == nullptr) return -1;
  char line[256];
  int64_t kb = -1;
  const size_t len = std::strlen(field);
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strncmp(line, field, len) == 0 && line[len] == ':') {
      kb = std::strtoll(line + len + 1, nullptr, 10);
      break;
    }
  }
  std::fclose(f);
  return kb < 0 ? -1 : kb * 1024;
}

// Virtual size of the process from /proc/self/statm, in bytes.
inline int64_t VirtualBytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return -1;
  long pages = -1;
  if (std::fscanf(f, "%ld", &pages) != 1) pages = -1;
  std::fclose(f);
  return pages < 0 ? -1 : pages * static_cast<int64_t>(sysconf(_SC_PAGESIZE));
}

}  // namespace aiosim::bench

#endif  // AIOSIM_BENCH_PROC_MEMORY_H_
