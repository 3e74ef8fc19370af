"""Counter-based noise streams: standard normals that the compiled kernels draw as they go.

A :class:`CounterNormals` names a block of a stream, (key, block). Its value at step t, sample b
and unit i is a pure function of (key, block, t, b, i) (Philox4x32-10 and a ziggurat,
``dynamics/_random.py``), so the mean-field kernels draw ε on both cores inside the pass instead of
reading a (T, B, N) array, a run replays bit for bit, and a resumed run draws exactly what it
would have drawn. Wherever a kernel accepts a :class:`CounterNormals`, the array
``normals.array(shape)`` holds the same numbers and gives the same result.

Example:
    >>> key = stream_key(seed=0, purpose="eps")
    >>> eps = CounterNormals(key, block=17)          # minibatch 17's ε
    >>> grads = mean_field_grads(net, x, y, eps=eps, eps_out=eps_out)
    >>> eps_array = eps.array(x.shape[:2] + (net.n_rec,))  # the same numbers, materialised
    >>> same = mean_field_grads(net, x, y, eps=eps_array, eps_out=eps_out)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._random import normals_block

__all__ = ["STREAM_PURPOSES", "CounterNormals", "stream_key"]

#: The streams of a run, each with its own key: ε of training, the readout's ε_out, the private
#: noise ξ (docs/model.md §1.1), and evaluation's draws (ε, ξ and sampled weights).
STREAM_PURPOSES = ("eps", "eps_out", "rec_noise", "eval_eps", "eval_rec_noise", "eval_weights")
_KEY_LIMIT = 2**64


def stream_key(seed: int, purpose: str) -> int:
    """The 64-bit key of one of a run's streams: ``SeedSequence([seed, code])``, where code is
    the purpose's index in :data:`STREAM_PURPOSES` plus 1000 (clear of other uses of the seed).

    Raises:
        ValueError: unknown purpose or a negative seed.
    """
    if purpose not in STREAM_PURPOSES:
        raise ValueError(f"purpose={purpose!r} is unknown; choose one of {STREAM_PURPOSES}.")
    if int(seed) < 0:
        raise ValueError(f"seed={seed} must be a non-negative integer.")
    code = 1000 + STREAM_PURPOSES.index(purpose)
    return int(np.random.SeedSequence([int(seed), code]).generate_state(1, np.uint64)[0])


@dataclass(frozen=True)
class CounterNormals:
    """Block ``block`` of the normal stream keyed by ``key`` (module docstring).

    Attributes:
        key: 64-bit stream key (:func:`stream_key`).
        block: 32-bit block index, e.g. the minibatch's index in the run.
    """

    key: int
    block: int

    def __post_init__(self):
        if not 0 <= int(self.key) < _KEY_LIMIT:
            raise ValueError(f"key={self.key} must be an integer in [0, 2**64).")
        if not 0 <= int(self.block) < 2**32:
            raise ValueError(f"block={self.block} must be an integer in [0, 2**32).")

    def words(self) -> np.ndarray:
        """The key as the (2,) uint32 words (low, high) the kernels take."""
        key = int(self.key)
        return np.array([key & 0xFFFFFFFF, key >> 32], dtype=np.uint32)

    def array(self, shape, dtype=np.float64) -> np.ndarray:
        """The block's normals as an array: (T, B, N) with [t, b, i] the kernels' value at step
        t, sample b, unit i; a 2-D shape (B, N) is step 0 of that layout.

        The kernels draw in float64 and round to the array's dtype, as here.
        """
        shape = tuple(int(n) for n in shape)
        if len(shape) not in (2, 3) or min(shape) < 0:
            raise ValueError(f"shape={shape} must be (T, B, N) or (B, N).")
        full = shape if len(shape) == 3 else (1, *shape)
        out = np.empty(full, dtype=np.float64)
        k0, k1 = self.words()
        normals_block(out, np.uint32(self.block), k0, k1)
        return out.reshape(shape).astype(dtype, copy=False)
