"""Benchmark: the compiled analytic RNTK against a straightforward per-(t, t') loop.

The reference evaluates the recursions of docs/model.md §5.1 entry by entry, re-summing the d-sums
for every (t, t') (O(T³) kernel updates, one Python iteration per entry), like the official
``SaS_RNTK.RNTK.GP_kernel`` (:func:`sims.bench_suite.reference_rntk`, which
``sasrnn bench --suite`` times too).  ``theory.rntk`` runs the running-sum recursion (O(T²) per
sample pair) in compiled blocks of sample pairs on ``numba.get_num_threads()`` threads.  Both are
timed in this one process, round-robin, best of ``--repeats`` each (the machine may be shared),
and the JSON printed reports both times, their ratio, the maximum relative difference
max|Θ_fast - Θ_loop| / max|Θ_loop|, the thread counts and the load average.  ``--large B``
also times one kernel for B samples at the same T and reports its peak memory.

Usage:
    python benchmarks/bench_rntk.py [--steps 28] [--batch 128] [--alpha 0.5] [--repeats 5]
                                    [--large 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
import tracemalloc

import numba
import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from sims.bench_suite import reference_rntk
from theory import rntk


def timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def blas_threads():
    """{library: threads} of every loaded BLAS (threadpoolctl)."""
    return {
        f"{info['internal_api']}:{os.path.basename(info['filepath'])}": info["num_threads"]
        for info in threadpool_info()
        if info["user_api"] == "blas"
    }


def large_run(n_steps, batch, alpha, seed):
    """One kernel of ``batch`` samples: wall time, traced NumPy peak and the process's peak RSS."""
    x = np.random.default_rng(seed).uniform(0.0, 1.0, size=(n_steps, batch, 28))
    tracemalloc.start()
    seconds, theta = timed(lambda: rntk(x, alpha))
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "T": n_steps,
        "B": batch,
        "seconds": round(seconds, 3),
        "numpy_peak_MB": round(traced_peak / 2**20, 1),
        "process_peak_rss_MB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10, 1),
        "finite": bool(np.isfinite(theta).all()),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=28)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--alpha", type=float, default=0.5)
    parser.add_argument("--repeats", type=int, default=5, help="round-robin timings of each")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--large", type=int, default=0, metavar="B", help="also time one kernel of B samples"
    )
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    rss_start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
    compile_s, _ = timed(lambda: rntk(np.ones((2, 2, 1)), args.alpha))  # compile or load cache
    report = {
        "benchmark": "analytic RNTK: compiled pair blocks vs per-(t,t') reference loop",
        "T": args.steps,
        "B": args.batch,
        "alpha": args.alpha,
        "repeats": args.repeats,
        "numba_threads": numba.get_num_threads(),
        "blas_threads": blas_threads(),
        "first_call_s": round(compile_s, 3),
    }
    # The large run first, so that the process's peak RSS is its own (plus the imports').
    if args.large:
        report["rss_before_large_MB"] = round(rss_start, 1)
        report["large"] = large_run(args.steps, args.large, args.alpha, args.seed)
    x = np.random.default_rng(args.seed).uniform(0.0, 1.0, size=(args.steps, args.batch, 28))
    fast_times, loop_times = [], []
    for _ in range(args.repeats):
        seconds, fast = timed(lambda: rntk(x, args.alpha))
        fast_times.append(seconds)
        with threadpool_limits(1, user_api="blas"):  # its small GEMMs lose on threaded BLAS
            seconds, loop = timed(lambda: reference_rntk(x, args.alpha))
        loop_times.append(seconds)
    scale = float(np.abs(loop).max())
    report.update(
        {
            "reference_blas_threads": 1,
            "fast_s": round(min(fast_times), 4),
            "reference_loop_s": round(min(loop_times), 4),
            "ratio_loop_over_fast": round(min(loop_times) / min(fast_times), 2),
            "fast_all_s": [round(t, 4) for t in fast_times],
            "reference_all_s": [round(t, 4) for t in loop_times],
            "max_relative_difference": float(np.abs(fast - loop).max()) / scale,
            "max_abs_kernel": scale,
            "loadavg_before": [round(v, 2) for v in load_before],
            "loadavg_after": [round(v, 2) for v in os.getloadavg()],
        }
    )
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
