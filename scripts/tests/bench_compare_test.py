#!/usr/bin/env python3
# scripts/tests/bench_compare_test.py — scripts/bench-compare: its bad-input errors
# (one line, exit 2, before anything is built), its callgrind parsing (instructions
# and calls of RunExecution, counted from the call arcs) and its tables (medians,
# ratios, the growth from 2 to 8 threads). Builds and measures nothing.
# SPDX-License-Identifier: GPL-2.0-or-later
import importlib.machinery
import importlib.util
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(os.path.dirname(HERE), "bench-compare")


def load():
    loader = importlib.machinery.SourceFileLoader("bench_compare", SCRIPT)
    spec = importlib.util.spec_from_loader("bench_compare", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


bc = load()


def run(*args):
    return subprocess.run([sys.executable, SCRIPT, *args], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=60)


class BadInput(unittest.TestCase):
    def assert_one_line(self, p, text):
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertEqual(p.stdout, "")
        lines = p.stderr.splitlines()
        self.assertEqual(len(lines), 1, p.stderr)
        self.assertTrue(lines[0].startswith("bench-compare: "), lines[0])
        self.assertIn(text, lines[0])

    def test_unknown_commit(self):
        self.assert_one_line(run("--base", "no-such-commit", "--no-instructions"),
                             "unknown commit 'no-such-commit'")

    def test_unknown_flag(self):
        self.assert_one_line(run("--bogus"), "unrecognized arguments: --bogus")

    def test_bad_counts(self):
        self.assert_one_line(run("--rounds", "0"), "--rounds wants a count >= 1")
        self.assert_one_line(run("--rounds", "x"), "invalid int value")
        self.assert_one_line(run("--iterations", "0"), "--iterations wants a count >= 1")
        self.assert_one_line(run("--min-time", "0"), "--min-time wants seconds > 0")
        self.assert_one_line(run("--no-wall", "--no-instructions"), "nothing to measure")


# A callgrind output in the shape valgrind 3.19 writes: the callee named on its first
# arc, by id alone later; one arc into RunExecution from main (3 calls) and one from a
# helper (2), and a call from RunExecution to another function, which is not counted.
CALLGRIND = """\
version: 1
creator: callgrind-3.19.0
events: Ir
summary: 1234
fn=(1) main
cfn=(2) aiosim::sim::RunExecution(std::function<void (aiosim::sim::SimContext&)> const&, aiosim::sim::ExecOptions const&, aiosim::sim::Strategy*)
calls=3 10
5 1000
fn=(3) helper()
cfn=(2)
calls=2 10
6 200
fn=(2)
cfn=(4) aiosim::sim::Execution::Run()
calls=7 20
7 900
totals: 1234
"""


class Callgrind(unittest.TestCase):
    def test_totals_and_calls(self):
        with tempfile.NamedTemporaryFile("w", suffix=".cg", delete=False) as f:
            f.write(CALLGRIND)
        try:
            self.assertEqual(bc.callgrind_totals(f.name), (1234, 5))
        finally:
            os.remove(f.name)

    def test_no_totals_is_an_error(self):
        with tempfile.NamedTemporaryFile("w", suffix=".cg", delete=False) as f:
            f.write("events: Ir\n")
        try:
            with self.assertRaises(ValueError):
                bc.callgrind_totals(f.name)
        finally:
            os.remove(f.name)


def workload(threads, races, execs_per_s, s_per_point):
    return {"name": bc.workload_name(threads, races, 0), "execs_per_s": execs_per_s,
            "s_per_point": s_per_point}


class Tables(unittest.TestCase):
    def test_medians_ratios_and_growth(self):
        # Three rounds; the medians are the middle values whatever the order.
        base_rounds, now_rounds = [], []
        for k in (1.0, 1.2, 0.8):
            base_rounds.append([workload(2, 0, 100e3 * k, 10e-9 * k),
                                workload(2, 1, 50e3, 20e-9),
                                workload(8, 0, 10e3, 30e-9 * k),
                                workload(8, 1, 5e3, 40e-9)])
            now_rounds.append([workload(2, 0, 200e3 * k, 5e-9),
                               workload(2, 1, 150e3, 10e-9),
                               workload(8, 0, 40e3, 7.5e-9),
                               workload(8, 1, 10e3, 20e-9)])
        lines = bc.wall_tables(bc.by_name(base_rounds), bc.by_name(now_rounds))
        text = "\n".join(lines)
        self.assertIn("| 2 threads, detector off / on | 100.0 / 50.0 | 200.0 / 150.0 | "
                      "2.00 / 3.00 |", text)
        self.assertIn("| 8 threads, detector off / on | 10.0 / 5.0 | 40.0 / 10.0 | "
                      "4.00 / 2.00 |", text)
        self.assertIn("| detector off | 3.00× | 1.50× |", text)
        self.assertIn("| detector on | 2.00× | 2.00× |", text)
        # Rows with no data (3 and 4 threads, every point, PointCost) are left out.
        self.assertNotIn("3 threads", text)
        self.assertNotIn("a choice that switches", text)

    def test_instruction_table(self):
        text = "\n".join(bc.instruction_table([((3, 0), (80000.0, 40000.0))]))
        self.assertIn("| 3 threads, detector off | 80,000 | 40,000 | 2.00 |", text)


if __name__ == "__main__":
    unittest.main()
