#!/usr/bin/env python3
"""Heap tracker benchmark: malloc_churn under each allocator/profiler, in the same run.

Runs every configuration round-robin (so drift hits all alike), takes the median elapsed time of
each, and prints one JSON line per configuration with its ratio to plain mimalloc (the allocator
leakwatch serves from). Missing peers are reported as skipped (install them: tools/deps.sh --bench).

  tools/bench/heap/run_heap_bench.py [--build build] [--reps 5] [--threads 2] [--ops 2000000]
                                     [--baseline OTHER/libleakwatch_preload.so]

--baseline adds another leakwatch build's preload library (e.g. one built from an older commit) as
two more configurations, so an optimization is compared with what it replaces in the same run.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

LIB = "/usr/lib/x86_64-linux-gnu"


def configs(build, baseline):
    preload = os.path.join(build, "libleakwatch_preload.so")
    before = []
    if baseline:
        before = [
            ("leakwatch_before_default_rate", {"LD_PRELOAD": baseline}, [], baseline),
            ("leakwatch_before_rate_1", {"LD_PRELOAD": baseline, "LEAKWATCH_HEAP_RATE": "1"}, [], baseline),
        ]
    return before + [
        ("mimalloc", {"LD_PRELOAD": f"{LIB}/libmimalloc.so.2"}, [], f"{LIB}/libmimalloc.so.2"),
        ("glibc", {}, [], None),
        ("leakwatch_default_rate", {"LD_PRELOAD": preload}, [], preload),
        ("leakwatch_rate_1", {"LD_PRELOAD": preload, "LEAKWATCH_HEAP_RATE": "1"}, [], preload),
        ("jemalloc_prof", {"LD_PRELOAD": f"{LIB}/libjemalloc.so.2", "MALLOC_CONF": "prof:true"}, [],
         f"{LIB}/libjemalloc.so.2"),
        ("gperftools_sampling", {"LD_PRELOAD": f"{LIB}/libtcmalloc.so.4",
                                 "TCMALLOC_SAMPLE_PARAMETER": "524288"}, [], f"{LIB}/libtcmalloc.so.4"),
        ("heaptrack", {}, ["heaptrack", "-o", "{tmp}/heaptrack.out"], "heaptrack"),
    ]


def available(needs):
    if needs is None:
        return True
    if needs.startswith("/"):
        return os.path.exists(needs)
    return shutil.which(needs) is not None


def run_once(prog, args, env_extra, prefix, tmp):
    """Runs one configuration; returns (elapsed ns, peak RSS in KiB of the process tree)."""
    env = dict(os.environ)
    env.update(env_extra)
    cmd = [p.format(tmp=tmp) for p in prefix] + [prog] + args
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd} failed: {proc.returncode}")
    for line in out.splitlines():
        if line.startswith("{"):
            return json.loads(line)["elapsed_ns"], usage.ru_maxrss
    raise RuntimeError(f"no result from {cmd}: {out}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ops", type=int, default=2000000)
    ap.add_argument("--only", default="", help="comma-separated configurations (mimalloc always runs)")
    ap.add_argument("--baseline", default="", help="another libleakwatch_preload.so to compare with")
    a = ap.parse_args()
    prog = os.path.join(a.build, "tools/bench/heap/heap_malloc_churn")
    args = [str(a.threads), str(a.ops), "1"]
    cfgs = configs(a.build, os.path.abspath(a.baseline) if a.baseline else "")
    if a.only:
        wanted = set(a.only.split(",")) | {"mimalloc"}
        cfgs = [c for c in cfgs if c[0] in wanted]
    times = {c[0]: [] for c in cfgs}
    rss = {c[0]: [] for c in cfgs}
    skipped = [c[0] for c in cfgs if not available(c[3])]
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(a.reps):
            for name, env, prefix, _needs in cfgs:
                if name not in skipped:
                    ns, kib = run_once(prog, args, env, prefix, tmp)
                    times[name].append(ns)
                    rss[name].append(kib)
    base = statistics.median(times["mimalloc"])
    for name, *_ in cfgs:
        if name in skipped:
            print(json.dumps({"config": name, "skipped": "not installed (tools/deps.sh --bench)"}))
            continue
        med = statistics.median(times[name])
        print(json.dumps({"config": name, "threads": a.threads, "ops_per_thread": a.ops,
                          "reps": a.reps, "median_ms": round(med / 1e6, 2),
                          "ns_per_op": round(med / (a.ops * a.threads), 2),
                          "ratio_to_mimalloc": round(med / base, 3),
                          "max_rss_kib": max(rss[name])}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
