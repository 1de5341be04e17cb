#!/usr/bin/env python3
# deploy/check_deploy.py — parses the ready-to-use sweep files of deploy/ (YAML) and
# checks that they run the sweep docs/sweeps.md describes: 8 shards that together
# cover the seeds once, each an `aiosim sweep ... --shard K/8`, and a merge.
# Run by CTest (tools/CMakeLists.txt). SPDX-License-Identifier: GPL-2.0-or-later
import re
import sys

import yaml


def fail(message):
    print("check_deploy: " + message)
    sys.exit(1)


def main(root):
    gha = yaml.safe_load(open(root + "/deploy/github-actions-sweep.yml"))
    jobs = gha.get("jobs") or fail("github-actions-sweep.yml: no jobs")
    shards = jobs["shard"]["strategy"]["matrix"]["shard"]
    if shards != list(range(1, 9)):
        fail("github-actions-sweep.yml: the matrix is not shards 1..8: %r" % shards)
    runs = " ".join(step.get("run", "") for step in jobs["shard"]["steps"])
    if not re.search(r"aiosim sweep --all --seeds 1\.\.80000 .*--shard \$\{\{ matrix\.shard \}\}/8", runs.replace("\\\n", " ")):
        fail("github-actions-sweep.yml: the shard job does not run the sweep with --shard K/8")
    if jobs["merge"].get("needs") != "shard":
        fail("github-actions-sweep.yml: the merge job does not wait for the shards")
    merge_runs = " ".join(step.get("run", "") for step in jobs["merge"]["steps"])
    if "aiosim merge" not in merge_runs:
        fail("github-actions-sweep.yml: no aiosim merge")

    k8s = yaml.safe_load(open(root + "/deploy/k8s-sweep-job.yaml"))
    if k8s.get("kind") != "Job" or k8s["spec"].get("completionMode") != "Indexed":
        fail("k8s-sweep-job.yaml: not an Indexed Job")
    if k8s["spec"].get("completions") != 8:
        fail("k8s-sweep-job.yaml: not 8 completions")
    container = k8s["spec"]["template"]["spec"]["containers"][0]
    args = " ".join(container.get("args", []))
    if "--shard \"$((JOB_COMPLETION_INDEX + 1))/8\"" not in args or "--seeds 1..80000" not in args:
        fail("k8s-sweep-job.yaml: the pod does not run shard index+1 of 8 of seeds 1..80000")
    print("check_deploy: deploy/ files parse and run the documented sweep")


main(sys.argv[1])
