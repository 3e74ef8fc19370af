"""Counter-based noise (dynamics/noise.py, dynamics/_random.py): the generator against its
published answers and the normal law, and the kernels' in-pass draws against the same numbers
passed as arrays."""

import numba
import numpy as np
import pytest
from scipy import stats

from dynamics import (
    CounterNormals,
    SaSLayer,
    SaSNetwork,
    mean_field_forward,
    mean_field_grads,
    stream_key,
)
from dynamics._random import (
    fill_normal_rows,
    fill_normals,
    fill_uniforms,
    normal_rows_workspace,
    philox,
)


def _words(counter, key):
    low, high = philox(*(np.uint32(c) for c in counter), *(np.uint32(k) for k in key))
    low, high = int(low), int(high)
    return [low & 0xFFFFFFFF, low >> 32, high & 0xFFFFFFFF, high >> 32]


@pytest.mark.parametrize(
    "counter, key, expected",
    [  # Random123's known-answer vectors for Philox4x32-10
        ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
        ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
        (
            (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
            (0xA4093822, 0x299F31D0),
            (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
        ),
    ],
)
def test_philox_known_answers(counter, key, expected):
    assert _words(counter, key) == list(expected)


#: A tail value is r + (−log1p(−u))/r: libm's log1p may differ in the last bits across platforms.
TAIL_ULPS = 4


def test_normals_known_answers():
    """Fixed values of one stream, one from each branch of the ziggurat: the fast path, a wedge
    rejection redrawn from its retry counters, and the tail beyond r (values of this version,
    pinned so that a faster drawing loop cannot change a stream)."""
    values = CounterNormals(stream_key(0, "eps"), 17).array((1, 4, 100))[0]
    assert values[0, 0] == -0.6978865888247414  # fast path
    assert values[0, 15] == -0.9151094360264265  # wedge rejection, then accepted
    tail = -3.8342172755625032
    assert abs(values[3, 90] - tail) <= TAIL_ULPS * np.spacing(abs(tail))


def test_drawing_loops_ask_for_wide_vectors():
    """The drawing loops carry the attribute that lets LLVM use 512-bit registers (the pinned
    values above hold the numbers fixed); compiled afresh, as a cached compilation keeps no IR."""
    u32 = np.uint32(1)
    rows = np.empty((3, 10))
    calls = {
        fill_normals: (np.empty(10), u32, u32, u32, u32, u32, np.empty(11, dtype=np.uint64)),
        fill_normal_rows: (rows, 0, u32, u32, u32, u32, *normal_rows_workspace(3, 10)),
        fill_uniforms: (np.empty(10), u32, u32, u32, u32, u32),
    }
    for drawer, args in calls.items():
        fresh = numba.njit(nogil=True)(drawer.py_func)
        fresh(*args)
        assert '"prefer-vector-width"="512"' in fresh.inspect_llvm(fresh.signatures[0])


@pytest.mark.parametrize("rows,length", [(70, 100), (9, 7), (5, 1), (3, 130)])
def test_block_draws_equal_row_draws(rows, length):
    """fill_normal_rows gives each row what fill_normals gives it, from any first row, and
    leaves its workspace ready for the next call."""
    stream = CounterNormals(stream_key(4, "eval_eps"), 3)
    k0, k1 = stream.words()
    workspace = normal_rows_workspace(rows, length)
    words = np.empty(length + 1, dtype=np.uint64)
    for step, first in [(0, 0), (5, 11), (2**31, 2**32 - rows)]:
        block = np.empty((rows, length))
        fill_normal_rows(block, first, np.uint32(step), np.uint32(3), k0, k1, *workspace)
        row = np.empty(length)
        for b in range(rows):
            fill_normals(row, np.uint32(first + b), np.uint32(step), np.uint32(3), k0, k1, words)
            assert np.array_equal(block[b], row), (step, first, b)
    assert not workspace[1].any()  # the rejection flags are cleared


def test_normals_follow_the_standard_normal_law():
    values = CounterNormals(stream_key(3, "eps"), 0).array((40, 50, 100)).ravel()  # 200,000
    n = values.size
    assert abs(values.mean()) < 4 / np.sqrt(n)
    assert abs(values.var() - 1) < 4 * np.sqrt(2 / n)
    assert abs(stats.skew(values)) < 4 * np.sqrt(6 / n)
    assert abs(stats.kurtosis(values)) < 4 * np.sqrt(24 / n)
    assert stats.kstest(values, "norm").pvalue > 1e-3
    # the tail beyond the ziggurat's base edge r = 3.654 is drawn by its own branch
    tail = np.mean(np.abs(values) > 3.6541528853610088)
    expected = 2 * stats.norm.sf(3.6541528853610088)
    assert abs(tail - expected) < 5 * np.sqrt(expected / n)


def test_streams_blocks_and_rows_are_distinct_and_replay():
    shape = (3, 4, 7)
    a = CounterNormals(stream_key(0, "eps"), 5).array(shape)
    assert np.array_equal(a, CounterNormals(stream_key(0, "eps"), 5).array(shape))
    others = [
        CounterNormals(stream_key(0, "eps"), 6).array(shape),
        CounterNormals(stream_key(1, "eps"), 5).array(shape),
        CounterNormals(stream_key(0, "rec_noise"), 5).array(shape),
    ]
    for other in others:
        assert not np.any(a == other)
    # a value depends on its (step, sample, unit) only, not on the array it sits in
    bigger = CounterNormals(stream_key(0, "eps"), 5).array((5, 9, 7))
    assert np.array_equal(bigger[:3, :4], a)
    row = np.empty(7)
    fill_normals(
        row,
        np.uint32(2),
        np.uint32(1),
        np.uint32(5),
        *CounterNormals(stream_key(0, "eps"), 5).words(),
        np.empty(8, dtype=np.uint64),
    )
    assert np.array_equal(row, a[1, 2])


def _network(dtype, sigma_rec=0.0, n_rec=12, n_in=3, n_out=2):
    rng = np.random.default_rng(1)

    def layer(shape):
        return SaSLayer(
            rng.normal(0, 0.5, shape),
            0.3 * rng.random(shape),
            0.05 * rng.random(shape),
            dtype=dtype,
        )

    return SaSNetwork(
        layer((n_rec, n_in)),
        layer((n_rec, n_rec)),
        layer((n_out, n_rec)),
        alpha=0.2,
        h0=0.1,
        sigma_rec=sigma_rec,
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("sigma_rec", [0.0, 0.3])
@pytest.mark.parametrize("batch", [5, 40])  # one chunk, and two chunks on two threads
def test_kernel_draws_equal_the_arrays(dtype, sigma_rec, batch):
    net = _network(dtype, sigma_rec)
    rng = np.random.default_rng(2)
    n_steps = 9
    x = rng.random((n_steps, batch, net.n_in)).astype(dtype)
    target = np.eye(net.n_out, dtype=dtype)[rng.integers(0, net.n_out, batch)]
    eps_out = rng.standard_normal((batch, net.n_out)).astype(dtype)
    eps = CounterNormals(stream_key(7, "eps"), 11)
    noise = CounterNormals(stream_key(7, "rec_noise"), 11)
    shape = (n_steps, batch, net.n_rec)
    drawn = mean_field_grads(net, x, target, eps=eps, eps_out=eps_out, rec_noise=noise)
    given = mean_field_grads(
        net,
        x,
        target,
        eps=eps.array(shape, dtype),
        eps_out=eps_out,
        rec_noise=noise.array(shape, dtype),
    )
    assert drawn[0] == given[0]
    for block, value in drawn[1].blocks().items():
        assert np.array_equal(value, given[1].blocks()[block]), block
    trace = mean_field_forward(net, x, eps=eps, eps_out=eps_out, rec_noise=noise)
    trace_given = mean_field_forward(
        net, x, eps=eps.array(shape, dtype), eps_out=eps_out, rec_noise=noise.array(shape, dtype)
    )
    assert np.array_equal(trace.z, trace_given.z) and np.array_equal(trace.h, trace_given.h)
    # a stream of ξ alone, with ε given as an array
    mixed = mean_field_forward(
        net, x, eps=eps.array(shape, dtype), eps_out=eps_out, rec_noise=noise
    )
    assert np.array_equal(mixed.z, trace.z)


def test_bad_stream_arguments():
    with pytest.raises(ValueError, match="purpose"):
        stream_key(0, "epsilon")
    with pytest.raises(ValueError, match="seed"):
        stream_key(-1, "eps")
    with pytest.raises(ValueError, match="block"):
        CounterNormals(stream_key(0, "eps"), -1)
    with pytest.raises(ValueError, match="key"):
        CounterNormals(2**64, 0)
    with pytest.raises(ValueError, match="shape"):
        CounterNormals(0, 0).array((3,))
    net = _network(np.float64, sigma_rec=0.3)
    x = np.zeros((2, 3, net.n_in))
    with pytest.raises(ValueError, match="share one block"):
        mean_field_forward(
            net,
            x,
            eps=CounterNormals(1, 0),
            eps_out=np.zeros((3, net.n_out)),
            rec_noise=CounterNormals(2, 1),
        )
