#!/usr/bin/env python3
"""run_startup_bench.py [--build build] [--rounds 200] [--baseline OLD_PRELOAD.so] [--program /bin/true] [--parts]

What the tracker adds to a process's start and exit: PROGRAM (default /bin/true) plain, with the
preload library (tracking only: what every child of a preloaded tree pays), with the preload
library and LEAKWATCH_HTTP (the companion is loaded and a server started and stopped), and under
`leakwatch run` (which adds the CLI's own start, a fork and an exec). --baseline adds another
preload library as a peer (e.g. a build of an older commit). --parts adds the preload library's
dependencies preloaded alone (libstdc++, mimalloc, libunwind, then the three), which splits its
cost into theirs and ours. Variants are interleaved, one run each
per round, so all see the same machine; each run is timed from posix_spawn to waitpid. Prints one
JSON line per variant: median and quartiles in ms, and the median's excess over plain.
"""
import argparse
import json
import os
import statistics
import sys
import time


def spawn_ms(argv, env):
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        t0 = time.perf_counter_ns()
        pid = os.posix_spawn(argv[0], argv, env,
                             file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)])
        _, status = os.waitpid(pid, 0)
        t1 = time.perf_counter_ns()
    finally:
        os.close(devnull)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{argv} exited with {os.waitstatus_to_exitcode(status)}")
    return (t1 - t0) / 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--baseline", help="another preload library measured as a peer")
    ap.add_argument("--program", default="/bin/true")
    ap.add_argument("--parts", action="store_true")
    ap.add_argument("--libdir", default="/usr/lib/x86_64-linux-gnu", help="where --parts finds the dependencies")
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    preload = os.path.join(build, "libleakwatch_preload.so")
    cli = os.path.join(build, "tools", "leakwatch")
    base = {k: v for k, v in os.environ.items() if not k.startswith("LEAKWATCH_") and k != "LD_PRELOAD"}
    prog = [a.program]
    variants = [
        ("plain", prog, base),
        ("preload", prog, dict(base, LD_PRELOAD=preload)),
        ("preload_serving", prog, dict(base, LD_PRELOAD=preload, LEAKWATCH_HTTP="127.0.0.1:0")),
        ("leakwatch_run", [cli, "run", "--http", "127.0.0.1:0", "--"] + prog, base),
        ("leakwatch_version", [cli, "version"], base),  # the CLI's own start, for reference
    ]
    if a.baseline:
        variants.insert(2, ("baseline_preload", prog, dict(base, LD_PRELOAD=os.path.abspath(a.baseline))))
    if a.parts:
        deps = [os.path.join(a.libdir, n) for n in ("libstdc++.so.6", "libmimalloc.so.2", "libunwind.so.8")]
        for d in deps:
            variants.append(("deps_" + os.path.basename(d).split(".so")[0], prog, dict(base, LD_PRELOAD=d)))
        variants.append(("deps_all_three", prog, dict(base, LD_PRELOAD=":".join(deps))))
    times = {name: [] for name, _, _ in variants}
    for name, argv, env in variants:  # warm the page cache
        spawn_ms(argv, env)
    for _ in range(a.rounds):
        for name, argv, env in variants:
            times[name].append(spawn_ms(argv, env))
    plain = statistics.median(times["plain"])
    for name, _, _ in variants:
        t = sorted(times[name])
        q1, med, q3 = statistics.quantiles(t, n=4)
        print(json.dumps({"variant": name, "program": a.program, "runs": len(t), "median_ms": round(med, 3),
                          "q1_ms": round(q1, 3), "q3_ms": round(q3, 3),
                          "excess_over_plain_ms": round(med - plain, 3)}))


if __name__ == "__main__":
    main()
