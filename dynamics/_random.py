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
The rare rejections (about 1.5 in 100) draw again from counters with the top bit of c0 set, so
the value at every index is independent of every other index and of how the row is split.
:func:`fill_normals` draws one row, :func:`fill_normal_rows` a block of rows (the same numbers,
with the rejections of the whole block redrawn together).

The drawing loops are integer work bound by the width of the vector registers. On CPUs with
AVX-512, LLVM's tuning vectorises loops with 256-bit registers unless a function asks for more;
:func:`wide_vectors` asks, and the draws run 1.3–1.4 times faster there (the numbers are
the same: each lane does the same integer and IEEE operations).
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba import types
from numba.cpython.unsafe.numbers import trailing_zeros
from numba.extending import intrinsic

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


@intrinsic
def wide_vectors(typingctx):
    """Called first in a compiled function, lets LLVM vectorise that function's loops with the
    widest vector registers the CPU has (the ``"prefer-vector-width"="512"`` function attribute;
    without AVX-512 it changes nothing)."""

    def codegen(context, builder, signature, args):
        # llvmlite's attribute set knows only the keyword attributes; this one is a string
        # attribute, which LLVM's IR takes in the same place.
        set.add(builder.function.attributes, '"prefer-vector-width"="512"')
        return context.get_dummy_value()

    return types.none(), codegen


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


@numba.njit(nogil=True, cache=True, inline="always")
def _ziggurat_attempt(x, layer, magnitude, word0, word1):
    """One attempt of the rare rejection branch, from its Philox block (word0, word1): the wedge
    test, or the tail beyond r, then a fresh fast-path draw. Returns ``(value, accepted, x,
    layer, magnitude)``, the last three the state the next attempt starts from."""
    if layer == 0:  # the tail: x > r by Marsaglia's exponential method
        tail = -_ZIG_INV_R * np.log1p(-_unit_double(word0))
        height = -np.log1p(-_unit_double(word1))
        if height + height > tail * tail:
            negative = (magnitude >> np.uint64(8)) & np.uint64(1)
            return -(ZIG_R + tail) if negative else ZIG_R + tail, True, x, layer, magnitude
        return x, False, x, layer, magnitude
    wedge = (ZIG_FI[layer - 1] - ZIG_FI[layer]) * _unit_double(word0) + ZIG_FI[layer]
    if wedge < np.exp(-0.5 * x * x):
        return x, True, x, layer, magnitude
    x, accepted, layer, magnitude = _ziggurat_fast(word1)
    return x, accepted, x, layer, magnitude


@numba.njit(nogil=True, cache=True, inline="always")
def _retry_counter(index, attempt):
    """c0 of attempt ``attempt`` (1 … 63) of the rejection branch of ``index``."""
    return _RETRY_BIT | np.uint32(index * _ATTEMPTS_PER_INDEX + attempt)


@numba.njit(nogil=True, cache=True)
def _ziggurat_slow(x, layer, magnitude, index, r1, r2, r3, k0, k1, first_attempt=1):
    """The rejection branch of ``index`` from attempt ``first_attempt`` on, each attempt from its
    own retry counter (module docstring)."""
    for attempt in range(first_attempt, _ATTEMPTS_PER_INDEX):
        word0, word1 = philox(_retry_counter(index, attempt), r1, r2, r3, k0, k1)
        value, accepted, x, layer, magnitude = _ziggurat_attempt(x, layer, magnitude, word0, word1)
        if accepted:
            return value
    return x  # not reached in practice: the probability of 63 rejections in a row is < 1e-120


@numba.njit(nogil=True, cache=True)
def fill_normals(out, r1, r2, r3, k0, k1, words):
    """Fill the 1-D float array ``out`` with the standard normals at indices 0 … len(out) − 1 of
    the row (r1, r2, r3) of the stream keyed by (k0, k1); the five are uint32. ``words`` is a
    uint64 work array of at least len(out) + 1 entries.

    The Philox blocks of the row are computed first and the ziggurat's fast path applied to all
    of them, two loops that vectorise; the fast path marks a rejected index by keeping its word
    (a zero word is always accepted, so accepted words are zeroed), and the rare rejections are
    then redrawn one by one, stopping at the last.
    """
    wide_vectors()
    n = out.shape[0]
    for pair in range((n + 1) // 2):
        word0, word1 = philox(np.uint32(pair), r1, r2, r3, k0, k1)
        words[2 * pair] = word0
        words[2 * pair + 1] = word1
    rejected = 0
    for index in range(n):
        word = words[index]
        x, accepted, _, _ = _ziggurat_fast(word)
        out[index] = x
        words[index] = np.uint64(0) if accepted else word
        rejected += not accepted
    index = 0
    while rejected:
        word = words[index]
        if word:
            x, _, layer, magnitude = _ziggurat_fast(word)
            out[index] = _ziggurat_slow(x, layer, magnitude, index, r1, r2, r3, k0, k1)
            rejected -= 1
        index += 1


@numba.njit(nogil=True, cache=True)
def normal_rows_workspace(rows, length):
    """The work arrays of :func:`fill_normal_rows` for up to ``rows`` rows of ``length``
    normals: ``(words, flags, pending)``: one row's Philox words, (length + 1,) uint64, its
    rejection flags, zeroed uint8 of the smallest multiple of 8 ≥ length, and the rejections
    of a call, (3, rows · length) uint64."""
    return (
        np.empty(length + 1, dtype=np.uint64),
        np.zeros((length + 7) // 8 * 8, dtype=np.uint8),
        np.empty((3, rows * length), dtype=np.uint64),
    )


@numba.njit(nogil=True, cache=True)
def fill_normal_rows(out, first, r2, r3, k0, k1, words, flags, pending):
    """Fill ``out`` (C, n) with rows r1 = first … first + C − 1 of the stream at (r2, r3): row b
    holds what :func:`fill_normals` puts in ``out[b]`` for r1 = first + b (the same numbers, for
    the kernels that draw a whole block of samples per step). ``first`` is an integer with
    first + C ≤ 2³², the others uint32; ``words``, ``flags``, ``pending`` from
    :func:`normal_rows_workspace`.

    Row by row, the Philox blocks and the ziggurat's fast path run in loops that vectorise, and
    the fast path flags rejections in bytes, found eight at a time and set aside; the first
    retries of all the block's rejections are then drawn together, in a loop that vectorises,
    and only the rarer second rejections go one by one (about 1.5 rejections per 100 normals).
    """
    wide_vectors()
    rows, n = out.shape
    eights = flags.view(np.uint64)
    found = 0
    for b in range(rows):
        r1 = np.uint32(first + b)
        for pair in range((n + 1) // 2):
            word0, word1 = philox(np.uint32(pair), r1, r2, r3, k0, k1)
            words[2 * pair] = word0
            words[2 * pair + 1] = word1
        rejected = 0
        row_out = out[b]
        for index in range(n):
            x, accepted, _, _ = _ziggurat_fast(words[index])
            row_out[index] = x
            flags[index] = not accepted
            rejected += not accepted
        if rejected:
            for group in range(eights.shape[0]):
                bits = eights[group]
                if bits:
                    eights[group] = 0
                    while bits:
                        index = group * 8 + (trailing_zeros(bits) >> 3)
                        bits &= bits - np.uint64(1)
                        pending[0, found] = b
                        pending[1, found] = index
                        pending[2, found] = words[index]
                        found += 1
    if found == 0:
        return
    retry = np.empty((2, found), dtype=np.uint64)
    for p in range(found):
        counter = _retry_counter(np.intp(pending[1, p]), 1)
        word0, word1 = philox(counter, np.uint32(first + pending[0, p]), r2, r3, k0, k1)
        retry[0, p] = word0
        retry[1, p] = word1
    for p in range(found):
        b, index = np.intp(pending[0, p]), np.intp(pending[1, p])
        x, _, layer, magnitude = _ziggurat_fast(pending[2, p])
        value, accepted, x, layer, magnitude = _ziggurat_attempt(
            x, layer, magnitude, retry[0, p], retry[1, p]
        )
        if not accepted:
            r1 = np.uint32(first + b)
            value = _ziggurat_slow(x, layer, magnitude, index, r1, r2, r3, k0, k1, 2)
        out[b, index] = value


@numba.njit(nogil=True, cache=True)
def fill_uniforms(out, r1, r2, r3, k0, k1):
    """Fill ``out`` with uniform doubles in [0, 1) at indices 0 … len(out) − 1 of the row
    (r1, r2, r3), two per Philox block (53 bits each)."""
    wide_vectors()
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
