"""Standard-normal noise arrays, drawn on two cores yet replayable from one generator.

A training step of pixel MNIST needs T·B·N = 10⁷ draws of ε, which costs as much as half the
step on one core. :func:`standard_normal` splits the draw into blocks filled by child
generators seeded from the parent, so the result depends only on the parent's state (which a
checkpoint saves) and not on the number of threads that happen to run it.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

#: Arrays with fewer elements are drawn directly from the parent generator.
MIN_PARALLEL_SIZE = 1 << 18
N_STREAMS = 2
_executor: ThreadPoolExecutor | None = None


def standard_normal(rng: np.random.Generator, shape, dtype=np.float64) -> np.ndarray:
    """Draw an array of N(0, 1) values of ``shape`` and ``dtype`` (float64 or float32).

    Large arrays are split along axis 0 into contiguous blocks, one for each of
    ``N_STREAMS`` generators seeded from ``rng``, each filled on its own thread
    (NumPy releases the GIL while filling).

    Raises:
        ValueError: ``rng`` is not a ``numpy.random.Generator``.
    """
    global _executor
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy.random.Generator, e.g. np.random.default_rng(seed).")
    shape = tuple(int(n) for n in np.atleast_1d(shape))
    out = np.empty(shape, dtype=dtype)
    if out.size < MIN_PARALLEL_SIZE or shape[0] < N_STREAMS:
        rng.standard_normal(out=out, dtype=out.dtype)  # dtype must match out's
        return out
    seeds = rng.integers(0, 2**63, size=N_STREAMS)
    bounds = np.linspace(0, shape[0], N_STREAMS + 1).astype(int)
    parts = [out[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]

    def fill(args):
        seed, part = args
        np.random.default_rng(seed).standard_normal(out=part, dtype=out.dtype)

    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=N_STREAMS, thread_name_prefix="sasrnn-noise")
    list(_executor.map(fill, zip(seeds, parts, strict=True)))
    return out
