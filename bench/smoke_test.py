#!/usr/bin/env python3
# bench/smoke_test.py — the benchmark programs run, briefly, in every test build: each
# benchmark of aiosim_bench_sim and aiosim_bench_host runs without an error (Google
# Benchmark exits 0 even when a benchmark reports one, so the JSON is read), the
# standard workload makes its 25 rounds of 5 points per thread, --aiosim_iterations
# runs exactly that many executions, aiosim_bench_dfs runs a second of search, and bad
# flags are one line and exit 2. Times nothing: the figures are in bench/README.md.
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Usage: smoke_test.py SIM_BENCH DFS_BENCH HOST_BENCH
import json
import re
import subprocess
import sys
import unittest

SIM, DFS, HOST = sys.argv[1:4] if len(sys.argv) >= 4 else (None, None, None)
TIMEOUT = 240  # seconds, per program run: generous for a loaded machine


def run(cmd):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=TIMEOUT)


def benchmarks(cmd):
    p = run(cmd + ["--benchmark_min_time=0.001", "--benchmark_format=json"])
    if p.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr[-2000:]}")
    out = json.loads(p.stdout)["benchmarks"]
    failed = [f"{b['name']}: {b.get('error_message', '')}" for b in out
              if b.get("error_occurred")]
    if failed:
        raise AssertionError("benchmarks failed:\n" + "\n".join(failed))
    return out


class SimBench(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.results = benchmarks([SIM, "--aiosim_iterations=3"])
        cls.by_name = {b["name"]: b for b in cls.results}

    def test_every_family_ran(self):
        families = {re.split(r"[/]", b["name"])[0] for b in self.results}
        for family in ("BM_StandardWorkload", "BM_StandardWorkloadFixed", "BM_PointCost",
                       "BM_BareSwitch", "BM_SchedulingPoints", "BM_ScenarioS3",
                       "BM_ScenarioR4", "BM_PropertyProgram", "BM_MemoryPerExecution",
                       "BM_EmptyExecution"):
            self.assertIn(family, families)

    def test_standard_workload_runs_whole_executions(self):
        seen = 0
        for b in self.results:
            m = re.match(r"BM_StandardWorkload(Fixed)?/threads:(\d+)/", b["name"])
            if not m:
                continue
            seen += 1
            threads = int(m.group(2))
            # 25 rounds of lock, load, store, unlock, fetch_add per thread, and the
            # spawns and joins: the benchmark's own count of points per execution.
            self.assertEqual(b["points_per_exec"], 128 * threads, b["name"])
            self.assertGreater(b["execs_per_s"], 0, b["name"])
            if m.group(1):
                self.assertEqual(b["iterations"], 3, b["name"])
        self.assertEqual(seen, 32)

    def test_point_cost_is_against_a_measured_bare_switch(self):
        for mode in (0, 1, 2):
            for races in (0, 1):
                b = self.by_name[f"BM_PointCost/mode:{mode}/races:{races}"]
                self.assertGreater(b["bare_switch_ns"], 0)
                self.assertGreater(b["x_bare"], 0)
                # One thread has nothing to choose; two choose at every point.
                if mode == 0:
                    self.assertEqual(b["choices_per_point"], 0)
                else:
                    self.assertGreater(b["choices_per_point"], 0.99)

    def test_a_bad_iteration_count_is_one_line(self):
        p = run([SIM, "--aiosim_iterations=0"])
        self.assertEqual(p.returncode, 2)
        self.assertEqual(len(p.stderr.splitlines()), 1, p.stderr)
        self.assertIn("--aiosim_iterations wants a count >= 1", p.stderr)


class DfsBench(unittest.TestCase):
    def test_a_second_of_search(self):
        p = run([DFS, "--seconds", "1", "--interval", "1"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r"# \d+ executions, 0 failed")

    def test_a_bad_flag_is_one_line(self):
        p = run([DFS, "--seconds", "x"])
        self.assertEqual(p.returncode, 2)
        self.assertEqual(len(p.stderr.splitlines()), 1, p.stderr)


class HostBench(unittest.TestCase):
    def test_every_benchmark_runs(self):
        self.assertGreater(len(benchmarks([HOST])), 0)


if __name__ == "__main__":
    if SIM is None:
        print("usage: smoke_test.py SIM_BENCH DFS_BENCH HOST_BENCH", file=sys.stderr)
        sys.exit(2)
    unittest.main(argv=sys.argv[:1])
