"""Forward-only evaluation passes: the mean-field readout against the traced pass, and compiled
sampled networks against a float64 NumPy reference built from the same drawn weights."""

import math

import numpy as np
import pytest

from dynamics import (
    CounterNormals,
    SaSLayer,
    SaSNetwork,
    generator_key,
    mean_field_forward,
    mean_field_readout,
    mean_field_readouts,
    sampled_forward,
    sampled_readout,
    sampled_readouts,
    sampled_weights,
)
from dynamics._random import fill_normals, fill_uniforms
from dynamics.evaluation import (
    READOUT_BLOCK,
    ROW_PANEL,
    SMALL_GEMM,
    readout_block_rows,
    readout_blocks,
)
from dynamics.meanfield import _chunks

#: Same float64 arithmetic in another order (compiled loop and GEMM vs NumPy): round-off only.
ROUNDOFF = 1e-12
#: Monte Carlo moments must sit within this many standard errors of the exact ones.
N_SE = 4.5


def random_network(
    rng,
    n_in=3,
    n_rec=12,
    n_out=2,
    pi=0.3,
    xi=0.05,
    readout="last",
    sigma_rec=0.0,
    activation="relu",
    alpha=0.3,
    absent_inputs=None,
):
    def layer(shape, absent=None):
        return SaSLayer(
            rng.standard_normal(shape) / math.sqrt(shape[1]),
            rng.uniform(0.0, 2 * pi, shape),
            rng.uniform(0.0, 2 * xi, shape),
            absent=absent,
        )

    return SaSNetwork(
        layer((n_rec, n_in), absent_inputs),
        layer((n_rec, n_rec)),
        layer((n_out, n_rec)),
        alpha=alpha,
        h0=0.1,
        activation=activation,
        readout=readout,
        loss="cross_entropy" if readout == "last" else "mse",
        sigma_rec=sigma_rec,
    )


def reference_pass(net, x, weights_at, noise=None, return_states=False):
    """The sampled network in float64 NumPy: ``weights_at(t)`` gives (w_in, w_rec, w_out) of
    step t; ``noise`` (T, B, N) standard normals ξ. Returns z (and the rates)."""
    rate = np.tanh if net.activation == "tanh" else (lambda h: np.maximum(h, 0.0))
    n_steps, batch, _ = x.shape
    h = np.full((batch, net.n_rec), 0.1)
    outputs, rates = [], [rate(h)]
    for t in range(n_steps):
        w_in, w_rec, w_out = weights_at(t)
        h = (1 - net.alpha) * h + net.alpha * (rate(h) @ w_rec.T + x[t] @ w_in.T)
        if noise is not None:
            h = h + math.sqrt(2 * net.alpha) * net.sigma_rec * noise[t]
        rates.append(rate(h))
        outputs.append(rate(h) @ w_out.T)
    z = np.stack(outputs) if net.readout == "all" else outputs[-1]
    return (z, np.stack(rates)) if return_states else z


CASES = [  # (n_in, readout, activation, sigma_rec): inline inputs and input GEMM, both readouts
    (3, "last", "relu", 0.0),
    (7, "all", "tanh", 0.0),
    (3, "all", "relu", 0.4),
    (6, "last", "tanh", 0.4),
]


@pytest.mark.parametrize("n_in,readout,activation,sigma_rec", CASES)
@pytest.mark.parametrize("mode", ["quenched", "per_step"])
def test_compiled_sampled_networks_match_a_numpy_reference_of_the_same_weights(
    mode, n_in, readout, activation, sigma_rec
):
    rng = np.random.default_rng(0)
    net = random_network(
        rng, n_in=n_in, readout=readout, activation=activation, sigma_rec=sigma_rec
    )
    n_steps, batch, key = 6, 150, 2**40 + 17  # two chunks of one network, blocks of ≤ 64
    x = rng.normal(size=(n_steps, batch, n_in))
    noise = rng.standard_normal((n_steps, batch, net.n_rec)) if sigma_rec else None
    networks = [0, 3, 5]
    z = sampled_readouts(net, x, mode=mode, key=key, networks=networks, rec_noise=noise)
    assert z.shape == (len(networks), *net.output_shape(n_steps, batch))
    for k, z_k in zip(networks, z, strict=True):

        def weights_at(t, k=k):
            return sampled_weights(net, key=key, network=k, step=t if mode == "per_step" else 0)

        expected, rates = reference_pass(net, x, weights_at, noise, return_states=True)
        np.testing.assert_allclose(z_k, expected, rtol=ROUNDOFF, atol=ROUNDOFF)
        single, states = sampled_readout(
            net, x, mode=mode, key=key, network=k, rec_noise=noise, return_states=True
        )
        np.testing.assert_allclose(single, expected, rtol=ROUNDOFF, atol=ROUNDOFF)
        np.testing.assert_allclose(states, rates, rtol=ROUNDOFF, atol=ROUNDOFF)
    assert not np.allclose(z[0], z[1])  # different networks


def test_per_sample_networks_and_noise_streams_match_separate_runs():
    rng = np.random.default_rng(1)
    net = random_network(rng, readout="all", sigma_rec=0.3)
    x = rng.normal(size=(5, 9, net.n_in))
    assigned = np.array([4, 4, 4, 1, 1, 7, 7, 7, 7])
    noise = CounterNormals(key=99, block=10)
    z, rates = sampled_readout(
        net, x, mode="per_step", key=5, network=assigned, rec_noise=noise, return_states=True
    )
    assert z.shape == (5, 9, net.n_out) and rates.shape == (6, 9, net.n_rec)
    xi = {k: CounterNormals(99, 10 + k).array((5, 9, net.n_rec)) for k in (1, 4, 7)}
    for k in (1, 4, 7):
        part = assigned == k
        alone = sampled_readout(net, x, mode="per_step", key=5, network=k, rec_noise=xi[k])
        np.testing.assert_allclose(z[:, part], alone[:, part], rtol=ROUNDOFF, atol=ROUNDOFF)
    # sampled_readouts: network k draws ξ from block + k, the same numbers
    many = sampled_readouts(net, x, mode="per_step", key=5, networks=[1, 7], rec_noise=noise)
    np.testing.assert_allclose(many[1][:, assigned == 7], z[:, assigned == 7], rtol=ROUNDOFF)
    np.testing.assert_allclose(rates[1:, :, 0], np.maximum(rates[1:, :, 0], 0))  # ReLU rates


def test_drawn_weights_are_the_stream_values_through_the_spike_and_slab_rule():
    """w_ij = m_ij + √Ξ_ij n_j if u_j > π_ij else 0, (n, u) the stream rows of (network, step,
    layer, i): bit for bit."""
    net = random_network(np.random.default_rng(2), n_in=5)
    key, network, step = 2**63 + 12345, 7, 11
    k0, k1 = np.uint32(key & 0xFFFFFFFF), np.uint32(key >> 32)
    drawn = sampled_weights(net, key=key, network=network, step=step)
    for code, (layer, w) in enumerate(zip((net.inp, net.rec, net.out), drawn, strict=True)):
        assert w.shape == layer.shape and w.dtype == layer.dtype
        n_pre = layer.shape[1]
        for i in range(layer.shape[0]):
            normals, uniforms = np.empty(n_pre), np.empty(n_pre)
            words = np.empty(n_pre + 1, dtype=np.uint64)
            row = np.uint32(code << 28 | i)
            fill_normals(normals, np.uint32(network), np.uint32(step), row, k0, k1, words)
            fill_uniforms(uniforms, np.uint32(network), np.uint32(step), row | (1 << 30), k0, k1)
            slab = layer.m[i] + np.sqrt(layer.xi[i]) * normals
            np.testing.assert_array_equal(w[i], np.where(uniforms > layer.pi[i], slab, 0.0))
    again = sampled_weights(net, key=key, network=network, step=step)
    other = sampled_weights(net, key=key, network=network, step=step + 1)
    assert all(np.array_equal(a, b) for a, b in zip(drawn, again, strict=True))
    assert not np.array_equal(drawn[1], other[1])


def test_drawn_weights_have_the_spike_and_slab_moments():
    """Standardised weights (w − μ)/√v over many draws: mean 0 and variance 1 within a few
    standard errors, with μ = (1 − π) m and v = (1 − π) Ξ + π (1 − π) m² (docs/model.md §1.2);
    draws of different networks and steps are uncorrelated."""
    rng = np.random.default_rng(3)
    shape = (60, 60)
    m = rng.normal(0.0, 1.0, shape)
    pi = rng.uniform(0.05, 0.9, shape)
    xi = rng.uniform(0.05, 1.0, shape)
    layer = SaSLayer(m, pi, xi)
    net = SaSNetwork(SaSLayer(m[:, :1], pi[:, :1], xi[:, :1]), layer, SaSLayer(m, pi, xi))
    draws = np.stack(
        [sampled_weights(net, key=77, network=k, step=t)[1] for k in range(4) for t in range(5)]
    )
    standard = (draws - layer.mu) / np.sqrt(layer.var)
    n = standard.size
    assert abs(standard.mean()) < N_SE / math.sqrt(n)
    # Var of the squared standardised weight is E[s⁴] − 1, estimated from the draws
    fourth = np.mean(standard**4)
    assert abs(np.mean(standard**2) - 1.0) < N_SE * math.sqrt((fourth - 1.0) / n)
    # absent-with-probability π: the zero fraction per connection averages to π
    zero_fraction = np.mean(draws == 0.0)
    assert abs(zero_fraction - pi.mean()) < N_SE * math.sqrt(np.mean(pi * (1 - pi)) / n)
    correlation = np.corrcoef(standard[0].ravel(), standard[1].ravel())[0, 1]
    assert abs(correlation) < N_SE / math.sqrt(m.size)


def test_structural_absences_are_exact_zeros_in_every_draw():
    rng = np.random.default_rng(4)
    absent = rng.random((12, 6)) < 0.5
    net = random_network(rng, n_in=6, pi=0.5, xi=0.5, absent_inputs=absent)
    for step in range(4):
        w_in = sampled_weights(net, key=3, network=2, step=step)[0]
        assert np.all(w_in[absent] == 0.0) and np.all(np.signbit(w_in[absent]) == 0)
        assert np.count_nonzero(w_in[~absent]) > 0
    # no input connection at all: the readout cannot depend on the input
    silent = random_network(rng, n_in=6, absent_inputs=np.ones((12, 6), dtype=bool))
    x = rng.normal(size=(5, 4, 6))
    for mode in ("quenched", "per_step"):
        z = sampled_readout(silent, x, mode=mode, key=8)
        np.testing.assert_array_equal(z, sampled_readout(silent, 3.0 * x, mode=mode, key=8))


def test_quenched_network_is_step_zero_of_the_per_step_network():
    rng = np.random.default_rng(5)
    net = random_network(rng, readout="all")
    x = rng.normal(size=(6, 3, net.n_in))
    quenched = sampled_forward(net, x, mode="quenched", rng=np.random.default_rng(11))
    per_step = sampled_forward(net, x, mode="per_step", rng=np.random.default_rng(11))
    np.testing.assert_array_equal(per_step[0], quenched[0])
    assert not np.allclose(per_step[1:], quenched[1:])
    key = generator_key(np.random.default_rng(11))
    weights = sampled_weights(net, key=key, network=0)
    np.testing.assert_allclose(
        quenched, reference_pass(net, x, lambda t: weights), rtol=ROUNDOFF, atol=ROUNDOFF
    )


@pytest.mark.parametrize("readout", ["last", "all"])
@pytest.mark.parametrize(
    "activation,sigma_rec,n_in,alpha",
    [("relu", 0.0, 1, 0.1), ("relu", 0.0, 3, 0.1), ("tanh", 0.3, 7, 0.3), ("relu", 0.3, 5, 0.005)],
)
def test_forward_only_mean_field_readout_equals_the_traced_pass(
    readout, activation, sigma_rec, n_in, alpha
):
    """Where both passes split the batch alike (B = 20: one chunk; B = 128, 150: two halves)
    the readouts are equal bit for bit: the same operations in the same order, including the
    leak 1 − α, another form of which differs in the last bit under fast-math (α = 0.3). Other
    splits (B = 300: 150 + 150 against 80 + 70 + 80 + 70, blocks of up to 128 rows for
    n_rec = 12) change only the GEMMs' summation: round-off."""
    rng = np.random.default_rng(6)
    net = random_network(
        rng, n_in=n_in, readout=readout, activation=activation, sigma_rec=sigma_rec, alpha=alpha
    )
    n_steps = 6
    for batch in (20, 128, 150, 300):
        x = rng.normal(size=(n_steps, batch, n_in))
        eps_out = rng.standard_normal(net.output_shape(n_steps, batch))
        stream = CounterNormals(key=31, block=2)
        eps_array = stream.array((n_steps, batch, net.n_rec))
        noises = [None, rng.standard_normal((n_steps, batch, net.n_rec)), CounterNormals(41, 2)]
        for eps in (stream, eps_array, None):
            for rec_noise in noises:
                for e_out in (eps_out, None):
                    z = mean_field_readout(net, x, eps=eps, eps_out=e_out, rec_noise=rec_noise)
                    trace = mean_field_forward(net, x, eps=eps, eps_out=e_out, rec_noise=rec_noise)
                    if batch == 300:
                        np.testing.assert_allclose(z, trace.z, rtol=ROUNDOFF, atol=ROUNDOFF)
                    else:
                        np.testing.assert_array_equal(z, trace.z)
        z_stream = mean_field_readout(net, x, eps=stream, eps_out=eps_out)
        z_array = mean_field_readout(net, x, eps=eps_array, eps_out=eps_out)
        np.testing.assert_array_equal(z_stream, z_array)
        assert not np.allclose(z_stream, mean_field_readout(net, x, eps=None, eps_out=eps_out))


@pytest.mark.parametrize("readout", ["last", "all"])
@pytest.mark.parametrize("activation,sigma_rec,n_in", [("relu", 0.3, 5), ("tanh", 0.0, 7)])
def test_networks_sharing_a_mean_field_pass_each_read_as_alone(
    readout, activation, sigma_rec, n_in
):
    """Row p of mean_field_readouts is network p's pass alone, bit for bit, whatever the
    company (other parameters, another h0), for every kind of ε and ξ and both batch splits."""
    rng = np.random.default_rng(8)
    options = {"readout": readout, "activation": activation, "sigma_rec": sigma_rec, "n_in": n_in}
    nets = [random_network(rng, **options) for _ in range(3)]
    nets[1] = SaSNetwork(nets[1].inp, nets[1].rec, nets[1].out, **{**nets[1].options(), "h0": 0.2})
    for batch in (20, 300):
        x = rng.normal(size=(5, batch, n_in))
        eps_out = rng.standard_normal(nets[0].output_shape(5, batch))
        eps_array = rng.standard_normal((5, batch, 12))
        for eps, rec_noise in [(CounterNormals(3, 1), CounterNormals(4, 1)), (eps_array, None)]:
            shared = mean_field_readouts(
                nets[::-1], x, eps=eps, eps_out=eps_out, rec_noise=rec_noise
            )
            for p, net in enumerate(nets[::-1]):
                alone = mean_field_readout(net, x, eps=eps, eps_out=eps_out, rec_noise=rec_noise)
                np.testing.assert_array_equal(shared[p], alone)
        assert not np.array_equal(shared[0], shared[1])


def test_networks_that_cannot_share_a_pass_are_refused_by_name():
    rng = np.random.default_rng(9)
    net = random_network(rng)
    other = random_network(rng, alpha=0.2)
    x = rng.normal(size=(3, 4, 3))
    with pytest.raises(ValueError, match="one alpha"):
        mean_field_readouts([net, other], x, eps=None, eps_out=None)
    with pytest.raises(ValueError, match="at least one network"):
        mean_field_readouts([], x, eps=None, eps_out=None)


@pytest.mark.parametrize("n_rec", [12, 100, 150, 400])
@pytest.mark.parametrize("batch", [1, 31, 32, 33, 128, 150, 256, 257, 1000, 10000])
def test_readout_blocks_split_the_training_chunks_in_whole_row_panels(batch, n_rec):
    blocks, rows = readout_blocks(batch, n_rec), readout_block_rows(n_rec)
    assert rows % ROW_PANEL == 0 and rows <= READOUT_BLOCK
    assert rows == ROW_PANEL or rows * n_rec**2 <= SMALL_GEMM
    assert blocks[0].start == 0 and blocks[-1].stop == batch
    assert all(a.stop == b.start for a, b in zip(blocks[:-1], blocks[1:], strict=True))
    assert all(0 < block.stop - block.start <= rows for block in blocks)
    for chunk in _chunks(batch):
        inside = [b.stop - b.start for b in blocks if chunk.start <= b.start < chunk.stop]
        assert sum(inside) == chunk.stop - chunk.start
        assert len(inside) == -(-sum(inside) // rows)  # the fewest blocks
        assert all(size % ROW_PANEL == 0 for size in inside[:-1])
    if all(c.stop - c.start <= rows for c in _chunks(batch)):  # the training pass's split,
        assert blocks == _chunks(batch)  # so that the readouts agree bit for bit


def test_sampled_mean_mode_is_the_noise_free_mean_field_pass():
    rng = np.random.default_rng(7)
    net = random_network(rng, readout="all")
    x = rng.normal(size=(7, 4, net.n_in))
    np.testing.assert_allclose(
        sampled_forward(net, x, mode="mean"),
        mean_field_readout(net, x, eps=None, eps_out=None),
        rtol=ROUNDOFF,
        atol=ROUNDOFF,
    )


def test_bad_arguments_raise_one_clear_error():
    rng = np.random.default_rng(8)
    net = random_network(rng)
    x = rng.normal(size=(3, 2, net.n_in))
    with pytest.raises(ValueError, match="key must be an integer"):
        sampled_readouts(net, x, mode="quenched", key=None)
    with pytest.raises(ValueError, match=r"2\*\*64"):
        sampled_weights(net, key=2**64)
    with pytest.raises(ValueError, match="unknown"):
        sampled_readouts(net, x, mode="sampled", key=1)
    with pytest.raises(ValueError, match="one per sample"):
        sampled_readout(net, x, mode="quenched", key=1, network=np.zeros(3, dtype=int))
    with pytest.raises(ValueError, match="networks"):
        sampled_readouts(net, x, mode="quenched", key=1, networks=0)
    with pytest.raises(ValueError, match="x has shape"):
        mean_field_readout(net, x[..., :1], eps=None, eps_out=None)
    bad = rng.standard_normal((3, 2, net.n_rec))
    bad[2, 1, 0] = np.nan
    with pytest.raises(ValueError, match="eps contains NaN"):
        mean_field_readout(net, x, eps=bad, eps_out=None)
    noisy = random_network(rng, sigma_rec=0.2)
    with pytest.raises(ValueError, match="rec_noise contains NaN"):
        sampled_readout(noisy, x, mode="quenched", key=1, rec_noise=bad)
    with pytest.raises(ValueError, match="Generator"):
        generator_key(np.random.RandomState(0))
