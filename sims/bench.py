"""The core benchmark: one training step at the paper's pixel-MNIST size against the GEMM floor
and against the machine's peak.

One step is the mean-field forward pass, the generalized BPTT and the Adam update with spectral
clipping (docs/model.md §2.4), at T = 784, N = 100, B = 128, n_in = 1, n_out = 10. Its work is
dominated by six (B × N)·(N × N)-sized products per time step (forward: μ_rec r and v_rec r²;
backward: δ μ_rec, a v_rec and the gradient sums δᵀ r, aᵀ r², docs/model.md §2.1), i.e.

    W_step = 6 · 2 B N² · T ≈ 12.0 GFLOP,

the other work (element-wise, the n_in = 1 input layer, the readout) being counted as free.

- The *GEMM floor* is the 4·T sequential (B × N)·(N × N) float64 products the step cannot avoid
  (two per step forward, two backward), timed alone on one BLAS thread.
- The *peak* is one large (n × n)·(n × n) product (n = 2000, 2 n³ flop), in float64 and float32,
  on every core (BLAS with ``os.cpu_count()`` threads) and on one; the step's GFLOP/s
  W_step / t_step is reported as a fraction of the all-core peak of its dtype.

Every time is the best of ``repeats`` runs, measured round-robin in one process so that their
ratios are meaningful on a shared machine: the floor, the steps and their noise draws in one
round-robin, the peak products in a second one right after. The all-core peak needs every core
free: the report gives the load averages before and after, and an all-core peak below the
one-core peak means other work held a core.
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
#: Side n of the square products that measure the machine's peak.
PEAK_SIZE = 2000
#: Pause (s, untimed) after a multi-threaded BLAS call: OpenBLAS's idle workers keep spinning for
#: about 2^28 cycles after one, and would take a core from whatever is timed next.
SETTLE_SECONDS = 0.2
#: (B × N)·(N × N) products per time step: in the step, and in the GEMM floor.
STEP_PRODUCTS, FLOOR_PRODUCTS = 6, 4


def _shape(shape: dict | None) -> dict:
    """``shape`` (default :data:`PIXEL_SHAPE`), checked to have its keys as positive ints."""
    shape = dict(PIXEL_SHAPE if shape is None else shape)
    if set(shape) != set(PIXEL_SHAPE) or not all(
        isinstance(v, int) and v > 0 for v in shape.values()
    ):
        raise ValueError(
            f"a benchmark shape needs positive integers for exactly {sorted(PIXEL_SHAPE)}; "
            f"got {shape}."
        )
    return shape


def product_flop(shape: dict | None = None, products: int = STEP_PRODUCTS) -> int:
    """Flop of ``products`` (B × N)·(N × N) products per time step over T steps: products·2BN²T."""
    shape = _shape(shape)
    return products * 2 * shape["batch"] * shape["n_rec"] ** 2 * shape["n_steps"]


def _pixel_network(rng, dtype, shape):
    n_in, n_rec, n_out = (shape[k] for k in ("n_in", "n_rec", "n_out"))
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


def gemm_floor_products(seed: int = 0, shape: dict | None = None):
    """The floor's work: 4·T sequential (B × N)·(N × N) float64 products (time it on one BLAS
    thread)."""
    shape = _shape(shape)
    rng = np.random.default_rng(seed)
    n_steps, batch, n_rec = (shape[k] for k in ("n_steps", "batch", "n_rec"))
    rates, weights = rng.random((batch, n_rec)), rng.random((n_rec, n_rec))
    out = np.empty((batch, n_rec))

    def products():
        for _ in range(FLOOR_PRODUCTS * n_steps):
            np.dot(rates, weights, out)

    return products


def peak_product(dtype, size: int = PEAK_SIZE, seed: int = 0):
    """One (size × size)·(size × size) product of ``dtype`` (2·size³ flop), a function of no
    arguments; time it under the BLAS thread count whose peak it measures."""
    if not isinstance(size, int) or size < 1:
        raise ValueError(f"the peak product's size must be a positive integer; got {size!r}.")
    rng = np.random.default_rng(seed)
    a, b = (rng.random((size, size)).astype(dtype) for _ in range(2))
    out = np.empty((size, size), dtype=dtype)
    return lambda: np.dot(a, b, out)


def training_step(dtype, seed: int = 0, shape: dict | None = None, deterministic: bool = False):
    """One training step at the pixel size (or ``shape``), and separately the drawing of its noise.

    With ``deterministic``, the step of the ``bptt`` preset's network: π = Ξ = 0 (w = m) and no ε,
    so the forward and backward passes skip the variance products and the fluctuation path
    (the ordinary BPTT step, 2 of the 6 products per time step fewer on each side).

    Returns ``(step, draw_noise)``, two functions of no arguments.
    """
    shape = _shape(shape)
    rng = np.random.default_rng(seed)
    n_steps, batch, n_in, n_rec, n_out = (shape[k] for k in PIXEL_SHAPE)
    net = _pixel_network(rng, dtype, shape)
    if deterministic:
        net = SaSNetwork(
            *(
                SaSLayer(layer.m, 0 * layer.pi, 0 * layer.xi, dtype=dtype)
                for layer in net.layers().values()
            ),
            **net.options(),
        )
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

    eps, eps_out = (None, None) if deterministic else draw_noise()

    def step():
        _, grads = mean_field_grads(net, x, target, eps=eps, eps_out=eps_out)
        optimizer.step(net, grads, epoch=0)

    return step, draw_noise


def round_robin_times(
    functions: dict, repeats: int, blas_threads: dict | None = None, settle: float = SETTLE_SECONDS
) -> dict[str, list[float]]:
    """``repeats`` wall times (s) of each function, measured round-robin.

    Every round times each function once, in order, so that a slow spell of a shared machine
    falls on all of them rather than on whichever happened to run then. ``blas_threads`` maps a
    function's name to the BLAS thread count it runs under (absent: BLAS left as it is); after a
    function run with more than one BLAS thread, the next waits ``settle`` seconds untimed. Each
    function runs once untimed first (JIT compilation, work arrays).
    """
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1; got {repeats}.")
    blas_threads = blas_threads or {}
    controller = ThreadpoolController()
    times = {name: [] for name in functions}
    for round_index in range(repeats + 1):
        for name, function in functions.items():
            limit = blas_threads.get(name)  # None: leave BLAS as it is
            with controller.limit(limits=limit, user_api="blas"):
                start = time.perf_counter()
                function()
                elapsed = time.perf_counter() - start
            if round_index > 0:
                times[name].append(elapsed)
            if limit is not None and limit > 1 and settle > 0:
                time.sleep(settle)
    return times


def best_times(
    functions: dict, repeats: int, blas_threads: dict | None = None, settle: float = SETTLE_SECONDS
) -> dict[str, float]:
    """Best of ``repeats`` round-robin wall times of each function (:func:`round_robin_times`);
    the ratios of the minima are stable on a shared machine."""
    times = round_robin_times(functions, repeats, blas_threads, settle)
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


def blas_settings() -> list[dict]:
    """The loaded BLAS libraries (threadpoolctl): :data:`BLAS_FIELDS` of each."""
    return [
        {k: lib.get(k) for k in BLAS_FIELDS}
        for lib in threadpool_info()
        if lib.get("user_api") == "blas"
    ]


def thread_settings() -> dict:
    """The thread counts timings run under: cores, Numba threads, each BLAS library's default."""
    return {
        "cpu_count": os.cpu_count(),
        "numba_threads": numba.get_num_threads(),
        "blas_default": blas_settings(),
    }


def _step_parallelism(batch: int) -> str:
    """How the step spreads over cores (the mean-field module's batch chunking)."""
    chunks = getattr(meanfield_module, "_chunks", None)
    threads = getattr(meanfield_module, "_THREADS", None)
    if chunks is None or threads is None:
        return "see dynamics.meanfield"
    return (
        f"batch split into {len(chunks(batch))} chunks on {threads} threads, BLAS pinned to 1 "
        "thread per chunk; the floor runs on 1 thread"
    )


def _gflops(flop: float, seconds: float) -> float:
    return flop / seconds / 1e9


def run_benchmark(
    repeats: int = 9,
    shape: dict | None = None,
    peak_size: int = PEAK_SIZE,
    peak_threads: int | None = None,
) -> dict:
    """All timings of the core benchmark, with the thread settings they ran under.

    Args:
        repeats: best of this many round-robin timings.
        shape: the step's sizes (default :data:`PIXEL_SHAPE`).
        peak_size: side n of the peak products.
        peak_threads: BLAS threads of the all-core peak (default ``os.cpu_count()``).
    """
    shape = _shape(shape)
    peak_threads = (os.cpu_count() or 1) if peak_threads is None else int(peak_threads)
    if peak_threads < 1:
        raise ValueError(f"peak_threads must be at least 1; got {peak_threads}.")
    load_before = os.getloadavg()
    step64, noise64 = training_step(np.float64, shape=shape)
    step32, noise32 = training_step(np.float32, shape=shape)
    deterministic64, _ = training_step(np.float64, shape=shape, deterministic=True)
    # The step against the floor is timed as it always was; the peak products follow in a
    # round-robin of their own, so that their threads and large arrays never sit between the
    # floor and the step.
    best = best_times(
        {
            "floor": gemm_floor_products(shape=shape),
            "float64": step64,
            "float32": step32,
            "deterministic64": deterministic64,
            "noise64": noise64,
            "noise32": noise32,
        },
        repeats,
        blas_threads={"floor": 1},
    )
    best.update(
        best_times(
            {
                "peak64_one": peak_product(np.float64, peak_size),
                "peak32_one": peak_product(np.float32, peak_size),
                "peak64_all": peak_product(np.float64, peak_size),
                "peak32_all": peak_product(np.float32, peak_size),
            },
            repeats,
            blas_threads={
                "peak64_one": 1,
                "peak32_one": 1,
                "peak64_all": peak_threads,
                "peak32_all": peak_threads,
            },
        )
    )
    floor = best["floor"]
    step_flop, floor_flop, peak_flop = (
        product_flop(shape, STEP_PRODUCTS),
        product_flop(shape, FLOOR_PRODUCTS),
        2 * peak_size**3,
    )
    gflops = {
        "float64_step": _gflops(step_flop, best["float64"]),
        "float32_step": _gflops(step_flop, best["float32"]),
        "gemm_floor": _gflops(floor_flop, floor),
    }
    peak = {
        f"{dtype}_{cores}": _gflops(peak_flop, best[f"peak{dtype[-2:]}_{cores}"])
        for dtype in ("float64", "float32")
        for cores in ("one", "all")
    }
    return {
        "config": dict(shape),
        "gemm_floor_seconds": floor,
        "float64_step_seconds": best["float64"],
        "float32_step_seconds": best["float32"],
        "float64_step_over_floor": best["float64"] / floor,
        "float32_step_over_float64_floor": best["float32"] / floor,
        "float64_deterministic_step_seconds": best["deterministic64"],
        "ensemble_over_deterministic_step": best["float64"] / best["deterministic64"],
        "float64_noise_draw_seconds": best["noise64"],
        "float32_noise_draw_seconds": best["noise32"],
        "peak": {
            "description": (
                f"W_step = {STEP_PRODUCTS}·2·B·N²·T flop (the step's (B×N)·(N×N) products), "
                f"floor {FLOOR_PRODUCTS}·2·B·N²·T; peak: one {peak_size}×{peak_size} product, "
                f"2n³ flop, on {peak_threads} BLAS threads (all) and on 1 (one)"
            ),
            "step_flop": step_flop,
            "floor_flop": floor_flop,
            "size": peak_size,
            "threads_all": peak_threads,
            "float64_all_gflops": peak["float64_all"],
            "float32_all_gflops": peak["float32_all"],
            "float64_one_gflops": peak["float64_one"],
            "float32_one_gflops": peak["float32_one"],
            "float64_step_gflops": gflops["float64_step"],
            "float32_step_gflops": gflops["float32_step"],
            "gemm_floor_gflops": gflops["gemm_floor"],
            "float64_step_fraction_of_peak": gflops["float64_step"] / peak["float64_all"],
            "float32_step_fraction_of_peak": gflops["float32_step"] / peak["float32_all"],
            "gemm_floor_fraction_of_one_thread_peak": gflops["gemm_floor"] / peak["float64_one"],
        },
        "parallelism": _step_parallelism(shape["batch"]),
        "cpu_has_avx512": _cpu_has_avx512(),
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
        "threads": thread_settings(),
        "loadavg_before": list(load_before),
        "loadavg_after": list(os.getloadavg()),
        "repeats": repeats,
    }
