"""The core benchmark: one training step at the paper's pixel-MNIST size against the GEMM floor.

One step is the mean-field forward pass, the generalized BPTT and the Adam update with spectral
clipping (docs/model.md §2.4), at T = 784, N = 100, B = 128, n_in = 1, n_out = 10. The *GEMM floor*
is
the 4·T sequential (B × N) · (N × N) float64 products the step cannot avoid (two per step
forward, two backward), timed alone on one core. Every time is the best of ``repeats`` runs,
all measured round-robin in one process so that their ratios are meaningful on a shared
machine.
"""

from __future__ import annotations

import os
import time

import numba
import numpy as np
from threadpoolctl import ThreadpoolController, threadpool_info

from dynamics import Optimizer, SaSLayer, SaSNetwork, mean_field_grads
from dynamics import meanfield as meanfield_module

BLAS_FIELDS = ("internal_api", "version", "architecture", "num_threads", "filepath")
PIXEL_SHAPE = {"n_steps": 784, "batch": 128, "n_in": 1, "n_rec": 100, "n_out": 10}


def _pixel_network(rng, dtype):
    n_in, n_rec, n_out = (PIXEL_SHAPE[k] for k in ("n_in", "n_rec", "n_out"))
    scale = np.sqrt(n_in / n_rec)
    inp = SaSLayer(
        rng.normal(0, 1, (n_rec, n_in)) * scale,
        np.zeros((n_rec, n_in)),
        np.zeros((n_rec, n_in)),
        dtype=dtype,
    )
    rec = SaSLayer(
        np.eye(n_rec), np.zeros((n_rec, n_rec)), 0.01 * rng.random((n_rec, n_rec)), dtype=dtype
    )
    out = SaSLayer(
        rng.normal(0, 1, (n_out, n_rec)) * scale,
        np.zeros((n_out, n_rec)),
        0.01 * rng.random((n_out, n_rec)),
        dtype=dtype,
    )
    return SaSNetwork(inp, rec, out, alpha=0.1, h0=0.1)


def gemm_floor_products(seed: int = 0):
    """The floor's work: 4·T sequential (B × N)·(N × N) float64 products (time it on one BLAS
    thread)."""
    rng = np.random.default_rng(seed)
    n_steps, batch, n_rec = (PIXEL_SHAPE[k] for k in ("n_steps", "batch", "n_rec"))
    rates, weights = rng.random((batch, n_rec)), rng.random((n_rec, n_rec))
    out = np.empty((batch, n_rec))

    def products():
        for _ in range(4 * n_steps):
            np.dot(rates, weights, out)

    return products


def training_step(dtype, seed: int = 0):
    """One training step at the pixel size, and separately the drawing of its noise.

    Returns ``(step, draw_noise)``, two functions of no arguments.
    """
    rng = np.random.default_rng(seed)
    n_steps, batch, n_in, n_rec, n_out = PIXEL_SHAPE.values()
    net = _pixel_network(rng, dtype)
    optimizer = Optimizer(
        "adam",
        lr=1e-3,
        halve_every=40,
        weight_decay={"m": 1e-4, "xi": 1e-4},
        clip="spectral",
        clip_bound=10.0,
    )
    x = rng.random((n_steps, batch, n_in)).astype(dtype)
    target = np.eye(n_out, dtype=dtype)[rng.integers(0, n_out, batch)]

    def draw_noise():
        return (
            rng.standard_normal((n_steps, batch, n_rec), dtype=dtype),
            rng.standard_normal((batch, n_out), dtype=dtype),
        )

    eps, eps_out = draw_noise()

    def step():
        _, grads = mean_field_grads(net, x, target, eps=eps, eps_out=eps_out)
        optimizer.step(net, grads, epoch=0)

    return step, draw_noise


def best_times(functions: dict, repeats: int, single_blas_thread=()) -> dict[str, float]:
    """Best of ``repeats`` wall times of each function, measured round-robin.

    Every round times each function once, in order, so that a slow spell of a shared machine
    falls on all of them rather than on whichever happened to run then; the ratios of the
    minima are then stable. Functions named in ``single_blas_thread`` run with BLAS pinned to
    one thread. Each function runs once untimed first (JIT compilation, work arrays).
    """
    controller = ThreadpoolController()
    times = {name: [] for name in functions}
    for round_index in range(repeats + 1):
        for name, function in functions.items():
            limit = 1 if name in single_blas_thread else None  # None: leave BLAS as it is
            with controller.limit(limits=limit, user_api="blas"):
                start = time.perf_counter()
                function()
                elapsed = time.perf_counter() - start
            if round_index > 0:
                times[name].append(elapsed)
    return {name: min(values) for name, values in times.items()}


def _cpu_has_avx512() -> bool | None:
    """Whether the CPU offers AVX-512 (Linux only; None elsewhere). OpenBLAS picks its kernels
    from the CPU unless ``OPENBLAS_CORETYPE`` names them, so on an AVX-512 CPU the reported
    ``architecture`` tells whether the environment pinned older (e.g. AVX2 "Haswell") kernels."""
    try:
        with open("/proc/cpuinfo") as stream:
            return any(line.startswith("flags") and "avx512f" in line.split() for line in stream)
    except OSError:
        return None


def run_benchmark(repeats: int = 9) -> dict:
    """All timings of the core benchmark, with the thread settings they ran under."""
    step64, noise64 = training_step(np.float64)
    step32, noise32 = training_step(np.float32)
    best = best_times(
        {
            "floor": gemm_floor_products(),
            "float64": step64,
            "float32": step32,
            "noise64": noise64,
            "noise32": noise32,
        },
        repeats,
        single_blas_thread=("floor",),
    )
    floor = best["floor"]
    blas = [
        {k: lib.get(k) for k in BLAS_FIELDS}
        for lib in threadpool_info()
        if lib.get("user_api") == "blas"
    ]
    return {
        "config": dict(PIXEL_SHAPE),
        "gemm_floor_seconds": floor,
        "float64_step_seconds": best["float64"],
        "float32_step_seconds": best["float32"],
        "float64_step_over_floor": best["float64"] / floor,
        "float32_step_over_float64_floor": best["float32"] / floor,
        "float64_noise_draw_seconds": best["noise64"],
        "float32_noise_draw_seconds": best["noise32"],
        "parallelism": (
            f"batch split into {len(meanfield_module._chunks(PIXEL_SHAPE['batch']))} chunks on "
            f"{meanfield_module._THREADS} threads, BLAS pinned to 1 thread per chunk; the floor "
            "runs on 1 thread"
        ),
        "cpu_has_avx512": _cpu_has_avx512(),
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
        "threads": {
            "cpu_count": os.cpu_count(),
            "numba_threads": numba.get_num_threads(),
            "blas_default": blas,
        },
        "repeats": repeats,
    }
