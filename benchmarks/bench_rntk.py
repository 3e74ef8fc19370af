"""Benchmark: vectorised analytic RNTK against a straightforward per-(t, t') loop.

The reference evaluates the recursions of docs/model.md §5.1 entry by entry, re-summing the d-sums
for
every (t, t') (O(T³) kernel updates, one Python iteration per entry), like the official
``SaS_RNTK.RNTK.GP_kernel``.  ``theory.rntk`` uses running sums (O(T²)) and one wavefront at a
time.  Prints JSON with both times, the speed-up ratio and the maximum difference.

Usage:
    python benchmarks/bench_rntk.py [--steps 28] [--batch 128] [--alpha 0.5] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from threadpoolctl import threadpool_limits

from theory import rntk
from theory.rntk import relu_arccos_kernels


def reference_rntk(x, alpha, s_in=1.0, s_rec=1.0, s_out=1.0, s_h0=1.0, xi_mean=0.5):
    """Θ by the docs/model.md §5.1 recursions, one (t, t') entry at a time with explicit d-sums."""
    n_steps, batch, n_in = x.shape
    decay = 1.0 - alpha
    eye = np.eye(batch)
    sigma = {}  # keys (t, t') with t, t' in -1..T-1

    def var(t):
        return np.diag(sigma[(t, t)])

    def gauss(t, tp):
        return relu_arccos_kernels(sigma[(t, tp)], var(t)[:, None], var(tp)[None, :])

    omega = {}
    for t in range(-1, n_steps):
        for tp in range(-1, n_steps):
            if t == -1 or tp == -1:
                sigma[(t, tp)] = decay ** (t + tp + 2) * s_h0**2 * eye
    for level in range(n_steps):
        pairs = [(level, j) for j in range(level + 1)] + [(j, level) for j in range(level)]
        for t, tp in pairs:
            k, _ = gauss(t - 1, tp - 1)
            value = s_rec**2 * k + s_in**2 / n_in * x[t] @ x[tp].T
            if t == tp:
                value = value + xi_mean * np.diag(np.diag(k))
            omega[(t, tp)] = value
        for t, tp in pairs:
            value = decay**2 * sigma[(t - 1, tp - 1)] + alpha**2 * omega[(t, tp)]
            for d in range(1, tp + 1):
                value = value + decay**d * alpha**2 * omega[(t, tp - d)]
            for d in range(1, t + 1):
                value = value + decay**d * alpha**2 * omega[(t - d, tp)]
            sigma[(t, tp)] = value
    last = n_steps - 1
    pi = {(last, last): s_out**2 * gauss(last, last)[1]}
    for t in range(n_steps):
        pi[(last, t)] = pi[(t, last)] = decay ** (last - t) * pi[(last, last)]
    gamma = {}
    for level in range(last - 1, -1, -1):
        pairs = [(level, j) for j in range(level, last)] + [
            (j, level) for j in range(level + 1, last)
        ]
        for t, tp in pairs:
            gamma[(t, tp)] = s_rec**2 * gauss(t, tp)[1] * pi[(t + 1, tp + 1)]
        for t, tp in pairs:
            value = decay**2 * pi[(t + 1, tp + 1)] + alpha**2 * gamma[(t, tp)]
            for d in range(1, last - tp):
                value = value + decay**d * alpha**2 * gamma[(t, tp + d)]
            for d in range(1, last - t):
                value = value + decay**d * alpha**2 * gamma[(t + d, tp)]
            pi[(t, tp)] = value
    theta = 0.0
    for t in range(n_steps):
        for tp in range(n_steps):
            k, _ = gauss(t - 1, tp - 1)
            theta = theta + 2 * alpha**2 * s_rec**2 * pi[(t, tp)] * k
            theta = theta + alpha**2 * s_in**2 / n_in * pi[(t, tp)] * (x[t] @ x[tp].T)
    return theta + s_out**2 * gauss(last, last)[0]


def best_time(function, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=28)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--alpha", type=float, default=0.5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    x = rng.uniform(0.0, 1.0, size=(args.steps, args.batch, 28))
    with threadpool_limits(1):
        fast_time, fast = best_time(lambda: rntk(x, args.alpha), args.repeats)
        loop_time, loop = best_time(lambda: reference_rntk(x, args.alpha), max(1, args.repeats))
    print(
        json.dumps(
            {
                "benchmark": "analytic RNTK, vectorised O(T^2) vs per-(t,t') loop",
                "T": args.steps,
                "B": args.batch,
                "alpha": args.alpha,
                "vectorised_s": round(fast_time, 4),
                "reference_loop_s": round(loop_time, 4),
                "ratio_loop_over_vectorised": round(loop_time / fast_time, 2),
                "max_abs_difference": float(np.abs(fast - loop).max()),
                "max_abs_kernel": float(np.abs(loop).max()),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
