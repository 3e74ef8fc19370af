"""Counter-based standard normals for the compiled kernels: Philox4x32-10 and a ziggurat.

Every number is a pure function of a 64-bit key and a 128-bit counter, so that any thread can
draw any part of a stream without sharing state, and a run replays (or resumes) bit for bit.

Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011) maps a
counter (c0, c1, c2, c3) and a key (k0, k1), all 32-bit words, to four pseudo-random 32-bit words
by ten rounds of

    (c0, c1, c2, c3) ← (hi(M1 c2) ⊕ c1 ⊕ k0,  lo(M1 c2),  hi(M0 c0) ⊕ c3 ⊕ k1,  lo(M0 c0)),

with M0 = 0xD2511F53, M1 = 0xCD9E8D57 and the key bumped by the Weyl constants after every round.
The implementation is checked against the published known-answer vectors (tests).

Standard normals come from the 256-layer ziggurat of Marsaglia & Tsang (J. Stat. Softw. 5, 2000)
in the 64-bit form NumPy uses: 8 bits choose the layer, 1 the sign, 52 the magnitude. The normal
of ``index`` in the row (r1, r2, r3) is drawn from the Philox block with counter
(index // 2, r1, r2, r3), which gives two 64-bit words, one for each of the indices 2j and 2j + 1.
The rare rejections (about 1 in 100) draw again from counters with the top bit of c0 set, so the
value at every index is independent of every other index and of how the row is split.
"""

from __future__ import annotations

import math

import numba
import numpy as np

PHILOX_M0 = np.uint64(0xD2511F53)
PHILOX_M1 = np.uint64(0xCD9E8D57)
PHILOX_W0 = np.uint32(0x9E3779B9)
PHILOX_W1 = np.uint32(0xBB67AE85)
_LOW32 = np.uint64(0xFFFFFFFF)
_SHIFT32 = np.uint64(32)
#: c0 of the retry blocks of a rejected draw: this bit set, then index · 64 + attempt.
_RETRY_BIT = np.uint32(1 << 31)
#: Largest row length: the retry counter must fit in c0 below the retry bit.
MAX_ROW_LENGTH = (1 << 31) // 64
_ATTEMPTS_PER_INDEX = 64


def _ziggurat_tables():
    """The 256-layer ziggurat tables for 52-bit magnitudes (Marsaglia & Tsang, zigset)."""
    layers, m1 = 256, 2.0**52
    edge = 3.6541528853610088  # r: the base layer's right edge
    volume = 0.00492867323399  # v: the area of every layer
    ki = np.zeros(layers, dtype=np.uint64)
    wi = np.zeros(layers)
    fi = np.zeros(layers)
    x, previous = edge, edge
    q = volume / math.exp(-0.5 * x * x)
    ki[0] = np.uint64(int((x / q) * m1))
    ki[1] = 0
    wi[0] = q / m1
    wi[layers - 1] = x / m1
    fi[0] = 1.0
    fi[layers - 1] = math.exp(-0.5 * x * x)
    for i in range(layers - 2, 0, -1):
        x = math.sqrt(-2.0 * math.log(volume / x + math.exp(-0.5 * x * x)))
        ki[i + 1] = np.uint64(int((x / previous) * m1))
        previous = x
        fi[i] = math.exp(-0.5 * x * x)
        wi[i] = x / m1
    return ki, wi, fi, edge


ZIG_KI, ZIG_WI, ZIG_FI, ZIG_R = _ziggurat_tables()
_ZIG_INV_R = 1.0 / ZIG_R


@numba.njit(nogil=True, cache=True, inline="always")
def philox(c0, c1, c2, c3, k0, k1):
    """Philox4x32-10 of the counter (c0, c1, c2, c3) under the key (k0, k1), all uint32.

    Returns the four output words as two uint64: (w0 | w1 << 32, w2 | w3 << 32).
    """
    a0, a1, a2, a3 = np.uint64(c0), np.uint64(c1), np.uint64(c2), np.uint64(c3)
    key0, key1 = np.uint64(k0), np.uint64(k1)
    for _ in range(10):
        p0 = PHILOX_M0 * a0
        p1 = PHILOX_M1 * a2
        a0 = ((p1 >> _SHIFT32) ^ a1 ^ key0) & _LOW32
        a1 = p1 & _LOW32
        a2 = ((p0 >> _SHIFT32) ^ a3 ^ key1) & _LOW32
        a3 = p0 & _LOW32
        key0 = (key0 + np.uint64(PHILOX_W0)) & _LOW32
        key1 = (key1 + np.uint64(PHILOX_W1)) & _LOW32
    return a0 | (a1 << _SHIFT32), a2 | (a3 << _SHIFT32)


@numba.njit(nogil=True, cache=True, inline="always")
def _unit_double(word):
    """A double in [0, 1) from the top 53 bits of a uint64."""
    return np.float64(word >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@numba.njit(nogil=True, cache=True, inline="always")
def _ziggurat_fast(word):
    """The fast path of one ziggurat draw: ``(x, accepted, layer, magnitude)``."""
    layer = np.intp(word & np.uint64(0xFF))
    rest = word >> np.uint64(8)
    magnitude = (rest >> np.uint64(1)) & np.uint64(0x000FFFFFFFFFFFFF)
    x = np.float64(magnitude) * ZIG_WI[layer]
    if rest & np.uint64(1):
        x = -x
    return x, magnitude < ZIG_KI[layer], layer, magnitude


@numba.njit(nogil=True, cache=True)
def _ziggurat_slow(x, layer, magnitude, index, r1, r2, r3, k0, k1):
    """The rare rejection branch of the ziggurat for ``index``: wedge test, or the tail beyond
    r, then further fast-path attempts, each from its own retry counter."""
    for attempt in range(1, _ATTEMPTS_PER_INDEX):
        counter = _RETRY_BIT | np.uint32(index * _ATTEMPTS_PER_INDEX + attempt)
        word0, word1 = philox(counter, r1, r2, r3, k0, k1)
        if layer == 0:  # the tail: x > r by Marsaglia's exponential method
            tail = -_ZIG_INV_R * np.log1p(-_unit_double(word0))
            height = -np.log1p(-_unit_double(word1))
            if height + height > tail * tail:
                return (
                    -(ZIG_R + tail) if (magnitude >> np.uint64(8)) & np.uint64(1) else ZIG_R + tail
                )
        else:
            wedge = (ZIG_FI[layer - 1] - ZIG_FI[layer]) * _unit_double(word0) + ZIG_FI[layer]
            if wedge < np.exp(-0.5 * x * x):
                return x
            x, accepted, layer, magnitude = _ziggurat_fast(word1)
            if accepted:
                return x
    return x  # not reached in practice: the probability of 63 rejections in a row is < 1e-120


@numba.njit(nogil=True, cache=True)
def fill_normals(out, r1, r2, r3, k0, k1, words):
    """Fill the 1-D float array ``out`` with the standard normals at indices 0 … len(out) − 1 of
    the row (r1, r2, r3) of the stream keyed by (k0, k1); the five are uint32. ``words`` is a
    uint64 work array of at least len(out) + 1 entries.

    The Philox blocks of the row are computed first and the ziggurat's fast path applied to all
    of them, two loops that vectorise; the rare rejections are then redrawn one by one.
    """
    n = out.shape[0]
    for pair in range((n + 1) // 2):
        word0, word1 = philox(np.uint32(pair), r1, r2, r3, k0, k1)
        words[2 * pair] = word0
        words[2 * pair + 1] = word1
    rejected = 0
    for index in range(n):
        x, accepted, _, _ = _ziggurat_fast(words[index])
        out[index] = x
        rejected += not accepted
    if rejected:
        for index in range(n):
            x, accepted, layer, magnitude = _ziggurat_fast(words[index])
            if not accepted:
                out[index] = _ziggurat_slow(x, layer, magnitude, index, r1, r2, r3, k0, k1)


@numba.njit(nogil=True, cache=True)
def fill_uniforms(out, r1, r2, r3, k0, k1):
    """Fill ``out`` with uniform doubles in [0, 1) at indices 0 … len(out) − 1 of the row
    (r1, r2, r3), two per Philox block (53 bits each)."""
    n = out.shape[0]
    for pair in range((n + 1) // 2):
        word0, word1 = philox(np.uint32(pair), r1, r2, r3, k0, k1)
        out[2 * pair] = _unit_double(word0)
        if 2 * pair + 1 < n:
            out[2 * pair + 1] = _unit_double(word1)


@numba.njit(nogil=True, cache=True)
def normals_block(out, block, k0, k1):
    """Fill ``out`` (T, B, N) with the normals of rows (b, t, block): out[t, b, i] is index i of
    row (r1 = b, r2 = t, r3 = block), the layout the kernels draw ε in."""
    values = np.empty(out.shape[2], dtype=np.float64)
    words = np.empty(out.shape[2] + 1, dtype=np.uint64)
    for t in range(out.shape[0]):
        for b in range(out.shape[1]):
            fill_normals(values, np.uint32(b), np.uint32(t), block, k0, k1, words)
            for i in range(out.shape[2]):
                out[t, b, i] = values[i]
