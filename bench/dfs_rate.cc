// bench/dfs_rate.cc — aiosim_bench_dfs: executions per second of the bounded
// exhaustive search (sim/dfs.h) over time, on one catalog scenario, to show whether
// the search slows down as it goes (issue 12: bound-2 DFS on R4 once fell from ~14k
// to a few hundred executions/s over 25 minutes).
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Not a Google Benchmark: one long run, reported per interval. Every interval line
// gives the executions of that interval per wall second and per CPU second (the
// process's CPU time, so another job on the machine moves the first figure, not the
// second), their mean scheduling points, the search's round, the strategy's own
// memory (DfsStrategy::MemoryBytes) and the process's resident memory. The summary
// compares the rate of the first minute with the rate of the last full minute.
//
// usage: aiosim_bench_dfs [--scenario ID] [--generation G] [--preemptions K]
//                         [--seconds S] [--interval S] [--memory MB]
// defaults: R4, legacy, 2, 660, 10, 4096 (the search's limit on the work it saves
// for later rounds, DfsStrategy::FrontierBytes). --help prints this usage. Exit 0, or
// 2 on bad input (one line on stderr).
#include <time.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "bench/proc_memory.h"
#include "scenarios/catalog.h"
#include "sim/aiosim_sim.h"
#include "sim/dfs.h"

namespace {

namespace scenarios = aiosim::scenarios;
namespace sim = aiosim::sim;

double Seconds(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

[[noreturn]] void Usage(const std::string& why) {
  std::fprintf(stderr, "aiosim_bench_dfs: %s\n", why.c_str());
  std::exit(2);
}

struct Sample {
  double wall;
  double cpu;
  uint64_t executions;
};

}  // namespace

int main(int argc, char** argv) {
  std::string id = "R4";
  std::string generation = "legacy";
  int preemptions = 2;
  double seconds = 660;
  double interval = 10;
  uint64_t memory_mb = sim::DfsStrategy::kFrontierBytesDefault >> 20;
  for (int i = 1; i < argc; i++) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::printf(
          "usage: aiosim_bench_dfs [--scenario ID] [--generation G] [--preemptions K]\n"
          "                        [--seconds S] [--interval S] [--memory MB]\n"
          "defaults: R4, legacy, 2, 660, 10, 4096\n");
      return 0;
    }
    if (flag != "--scenario" && flag != "--generation" && flag != "--preemptions" &&
        flag != "--seconds" && flag != "--interval" && flag != "--memory") {
      Usage("unknown flag '" + flag + "' (--help lists them)");
    }
    if (i + 1 >= argc) Usage("flag " + flag + " needs a value");
    const std::string value = argv[++i];
    if (flag == "--scenario") {
      id = value;
    } else if (flag == "--generation") {
      generation = value;
    } else if (flag == "--preemptions") {
      if (!absl::SimpleAtoi(value, &preemptions) || preemptions < 0) {
        Usage("--preemptions wants a number >= 0, not '" + value + "'");
      }
    } else if (flag == "--seconds") {
      if (!absl::SimpleAtod(value, &seconds) || !(seconds > 0)) {
        Usage("--seconds wants a number > 0, not '" + value + "'");
      }
    } else if (flag == "--memory") {
      if (!absl::SimpleAtoi(value, &memory_mb) || memory_mb < 1 ||
          memory_mb > (1u << 20)) {
        Usage("--memory wants megabytes, 1 to 1048576, not '" + value + "'");
      }
    } else if (flag == "--interval") {
      if (!absl::SimpleAtod(value, &interval) || !(interval > 0)) {
        Usage("--interval wants a number > 0, not '" + value + "'");
      }
    } else {
      Usage("unknown flag '" + flag + "'");
    }
  }
  const scenarios::Scenario* s = scenarios::FindScenario(id);
  if (s == nullptr) Usage("no scenario '" + id + "' in the catalog");
  absl::StatusOr<scenarios::Options> resolved =
      scenarios::ResolveOptions(*s, {{"generation", generation}});
  if (!resolved.ok()) Usage(std::string(resolved.status().message()));
  const sim::Body body = s->make(*resolved);
  const sim::ExecOptions options;

  sim::DfsStrategy dfs(preemptions, memory_mb << 20);
  absl::PrintF(
      "# DFS on %s (%s), preemption bound %d, %.0f s, a line every %.0f s, saved work "
      "at most %d MB\n",
      id, generation, preemptions, seconds, interval, memory_mb);
  absl::PrintF("# %7s %12s %10s %10s %9s %5s %10s %8s\n", "t_s", "executions",
               "wall_ex/s", "cpu_ex/s", "steps/ex", "round", "dfs_MB", "rss_MB");
  std::vector<Sample> samples;
  const double wall0 = Seconds(CLOCK_MONOTONIC);
  const double cpu0 = Seconds(CLOCK_PROCESS_CPUTIME_ID);
  samples.push_back({0, 0, 0});
  uint64_t executions = 0;
  uint64_t steps = 0;
  uint64_t failures = 0;
  double next = interval;
  bool finished = false;
  for (;;) {
    if (!dfs.BeginExecution(executions)) {
      finished = true;
      break;
    }
    const sim::ExecResult r = sim::RunExecution(body, options, &dfs);
    dfs.EndExecution(r);
    executions++;
    steps += r.steps;
    if (r.failure.kind != sim::FailureKind::kNone) failures++;
    if ((executions & 255) != 0) continue;
    const double wall = Seconds(CLOCK_MONOTONIC) - wall0;
    if (wall < next) continue;
    const double cpu = Seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
    const Sample& last = samples.back();
    const double n = static_cast<double>(executions - last.executions);
    absl::PrintF("  %7.0f %12d %10.0f %10.0f %9.0f %5d %10.1f %8.1f\n", wall, executions,
                 n / (wall - last.wall), n / (cpu - last.cpu),
                 static_cast<double>(steps) / n, dfs.round(),
                 static_cast<double>(dfs.MemoryBytes()) / (1 << 20),
                 static_cast<double>(aiosim::bench::SmapsRollup("Rss")) / (1 << 20));
    std::fflush(stdout);
    samples.push_back({wall, cpu, executions});
    steps = 0;
    next += interval;
    if (wall >= seconds) break;
  }
  // The first minute against the last full minute (by CPU time and by wall time).
  auto at = [&](double t) {  // the sample nearest to wall time t
    const Sample* best = &samples.front();
    for (const Sample& x : samples) {
      if (std::abs(x.wall - t) < std::abs(best->wall - t)) best = &x;
    }
    return *best;
  };
  const Sample end = samples.back();
  const Sample first_end = at(60);
  const Sample last_start = at(end.wall - 60);
  auto rate = [](const Sample& a, const Sample& b, bool cpu) {
    const double dt = cpu ? b.cpu - a.cpu : b.wall - a.wall;
    return dt > 0 ? static_cast<double>(b.executions - a.executions) / dt : 0.0;
  };
  const sim::StrategyFigures figures = dfs.Figures();
  absl::PrintF(
      "# %d executions, %d failed, %s; every schedule with at most %d "
      "preemption%s ran\n",
      executions, failures,
      figures.complete ? "search complete (every schedule within the bound ran)"
      : finished       ? "search ended, not complete"
                       : "stopped at the time limit",
      figures.complete_through, figures.complete_through == 1 ? "" : "s");
  if (figures.dropped > 0) {
    absl::PrintF("# the saved work reached its limit (%d MB): %d options dropped\n",
                 memory_mb, figures.dropped);
  }
  if (end.wall >= 120 && first_end.executions > 0) {
    const double first_cpu = rate(samples.front(), first_end, true);
    const double last_cpu = rate(last_start, end, true);
    absl::PrintF(
        "# first minute: %.0f executions/CPU-s (%.0f/wall-s); minute ending at %.0f s: "
        "%.0f/CPU-s (%.0f/wall-s); last/first %.2f\n",
        first_cpu, rate(samples.front(), first_end, false), end.wall, last_cpu,
        rate(last_start, end, false), first_cpu > 0 ? last_cpu / first_cpu : 0.0);
  }
  return 0;
}
