"""Mean-field moments vs sampled weights, replay, batch splitting, sampled networks, bad input."""

import numpy as np
import pytest

from dynamics import (
    SaSLayer,
    SaSNetwork,
    mean_field_forward,
    mean_field_grads,
    mean_field_vjp,
    sampled_forward,
    sas_moments,
)
from dynamics import meanfield as meanfield_module

#: Acceptance: mean-field moments within 4 standard errors of a Monte Carlo over weight draws.
N_STANDARD_ERRORS = 4.0
N_WEIGHT_DRAWS = 20_000


def random_network(rng, n_in=3, n_rec=8, n_out=2, readout="last", loss="cross_entropy", **kw):
    def layer(n_post, n_pre):
        return SaSLayer(
            rng.normal(0, 0.4, (n_post, n_pre)),
            rng.uniform(0.0, 0.8, (n_post, n_pre)),
            rng.uniform(0.0, 0.3, (n_post, n_pre)),
        )

    return SaSNetwork(
        layer(n_rec, n_in),
        layer(n_rec, n_rec),
        layer(n_out, n_rec),
        readout=readout,
        loss=loss,
        **kw,
    )


def test_moments_follow_the_spike_and_slab_definition():
    rng = np.random.default_rng(0)
    m, pi, xi = rng.normal(size=50), rng.random(50), rng.random(50)
    mu, rho, var = sas_moments(m, pi, xi)
    layer = SaSLayer(m[None], pi[None], xi[None])
    draws = layer.sample(rng, size=40_000)[:, 0]
    standard_error = np.sqrt(var / draws.shape[0])
    assert np.all(np.abs(draws.mean(0) - mu) < N_STANDARD_ERRORS * standard_error + 1e-12)
    np.testing.assert_allclose(rho, var + mu**2, rtol=1e-12)


def test_meanfield_preactivation_matches_monte_carlo_over_sampled_weights():
    """Given the presynaptic rates, u = Σ w r + Σ w_in x has mean G and variance Δ² (docs/model.md
    §1.3)."""
    rng = np.random.default_rng(1)
    net = random_network(rng)
    rates = rng.random(net.n_rec)
    inputs = rng.normal(size=net.n_in)
    mean = net.rec.mu @ rates + net.inp.mu @ inputs
    variance = net.rec.var @ rates**2 + net.inp.var @ inputs**2
    w_rec = net.rec.sample(rng, size=N_WEIGHT_DRAWS)
    w_in = net.inp.sample(rng, size=N_WEIGHT_DRAWS)
    u = w_rec @ rates + w_in @ inputs  # (draws, n_rec)
    se_mean = np.sqrt(variance / N_WEIGHT_DRAWS)
    assert np.all(np.abs(u.mean(0) - mean) < N_STANDARD_ERRORS * se_mean)
    # standard error of a sample variance: sqrt((μ4 − σ⁴)/n), with μ4 estimated from the draws
    mu4 = np.mean((u - u.mean(0)) ** 4, axis=0)
    se_var = np.sqrt((mu4 - variance**2) / N_WEIGHT_DRAWS)
    assert np.all(np.abs(u.var(0) - variance) < N_STANDARD_ERRORS * se_var)


def test_first_step_of_the_forward_pass_uses_those_moments():
    rng = np.random.default_rng(2)
    net = random_network(rng, h0=0.3, alpha=0.4)
    x = rng.normal(size=(1, 5, net.n_in))
    eps = rng.standard_normal((1, 5, net.n_rec))
    trace = mean_field_forward(net, x, eps=eps, eps_out=np.zeros((5, net.n_out)))
    r0 = np.maximum(0.3, 0)
    mean = r0 * net.rec.mu.sum(1) + x[0] @ net.inp.mu.T
    sd = np.sqrt(r0**2 * net.rec.var.sum(1) + x[0] ** 2 @ net.inp.var.T)
    expected_h = 0.6 * 0.3 + 0.4 * (mean + eps[0] * sd)
    np.testing.assert_allclose(trace.h[1], expected_h, rtol=1e-12)
    np.testing.assert_allclose(trace.sd[0], sd, rtol=1e-12)


def test_every_call_replays_bit_for_bit():
    rng = np.random.default_rng(4)
    net = random_network(rng, readout="all", loss="mse", sigma_rec=0.1)
    T, B = 6, 40  # B ≥ 32: exercises the two-chunk threaded path
    args = (rng.normal(size=(T, B, net.n_in)), rng.normal(size=(T, B, net.n_out)))
    noise = {
        "eps": rng.standard_normal((T, B, net.n_rec)),
        "eps_out": rng.standard_normal((T, B, net.n_out)),
        "rec_noise": rng.standard_normal((T, B, net.n_rec)),
    }
    loss1, grads1 = mean_field_grads(net, *args, **noise)
    loss2, grads2 = mean_field_grads(net, *args, **noise)
    assert loss1 == loss2
    for block, value in grads1.blocks().items():
        assert np.array_equal(value, grads2.blocks()[block]), block
    z1 = sampled_forward(net, args[0], mode="per_step", rng=np.random.default_rng(9))
    z2 = sampled_forward(net, args[0], mode="per_step", rng=np.random.default_rng(9))
    assert np.array_equal(z1, z2)


def test_batch_split_over_threads_agrees_with_one_chunk(monkeypatch):
    rng = np.random.default_rng(5)
    net = random_network(rng, h0=0.1)
    T, B = 5, 40
    x = rng.normal(size=(T, B, net.n_in))
    target = np.eye(net.n_out)[rng.integers(0, net.n_out, B)]
    noise = {
        "eps": rng.standard_normal((T, B, net.n_rec)),
        "eps_out": rng.standard_normal((B, net.n_out)),
    }
    loss_split, grads_split = mean_field_grads(net, x, target, **noise)
    monkeypatch.setattr(meanfield_module, "MIN_BATCH_TO_SPLIT", 10**9)
    loss_one, grads_one = mean_field_grads(net, x, target, **noise)
    assert loss_split == pytest.approx(loss_one, rel=1e-13)
    for block, value in grads_one.blocks().items():
        np.testing.assert_allclose(grads_split.blocks()[block], value, rtol=1e-12, atol=1e-15)


def test_vjp_with_one_hot_errors_gives_per_sample_gradients_that_sum_to_the_batch():
    rng = np.random.default_rng(6)
    net = random_network(rng, n_out=1, readout="last", loss="mse")
    T, B = 3, 4
    x = rng.normal(size=(T, B, net.n_in))
    noise = {"eps": rng.standard_normal((T, B, net.n_rec)), "eps_out": rng.standard_normal((B, 1))}
    total = mean_field_vjp(net, x, np.ones((B, 1)), **noise)
    per_sample = [mean_field_vjp(net, x, np.eye(B)[:, [b]], **noise) for b in range(B)]
    for block, value in total.blocks().items():
        np.testing.assert_allclose(sum(g.blocks()[block] for g in per_sample), value, rtol=1e-12)


def test_mean_network_mode_equals_the_noise_free_meanfield_pass():
    rng = np.random.default_rng(7)
    net = random_network(rng, readout="all", loss="mse", alpha=0.3)
    x = rng.normal(size=(7, 4, net.n_in))
    z_mean = sampled_forward(net, x, mode="mean")
    trace = mean_field_forward(
        net, x, eps=np.zeros((7, 4, net.n_rec)), eps_out=np.zeros((7, 4, net.n_out))
    )
    np.testing.assert_allclose(z_mean, trace.z, rtol=1e-12, atol=1e-14)


def test_quenched_mode_runs_one_weight_draw_for_all_steps_and_trials():
    """The weights of network 0 of the Generator's stream (dynamics.sampled_weights), run by
    hand in NumPy, reproduce the quenched run."""
    from dynamics import generator_key
    from dynamics.sampled import sampled_weights

    rng = np.random.default_rng(8)
    net = random_network(rng, h0=0.2, alpha=0.5, readout="all", loss="mse")
    x = rng.normal(size=(6, 3, net.n_in))
    z = sampled_forward(net, x, mode="quenched", rng=np.random.default_rng(11))
    key = generator_key(np.random.default_rng(11))
    w_in, w_rec, w_out = sampled_weights(net, key=key, network=0)
    h = np.full((3, net.n_rec), 0.2)
    expected = []
    for t in range(6):
        h = 0.5 * h + 0.5 * (np.maximum(h, 0) @ w_rec.T + x[t] @ w_in.T)
        expected.append(np.maximum(h, 0) @ w_out.T)
    np.testing.assert_allclose(z, np.stack(expected), rtol=1e-12)
    per_step = sampled_forward(net, x, mode="per_step", rng=np.random.default_rng(11))
    assert np.allclose(per_step[0], z[0]) and not np.allclose(per_step[1:], z[1:])


BAD_LAYERS = [
    ("pi above one", lambda m: (m, np.full_like(m, 1.5), np.zeros_like(m)), "pi must lie in"),
    ("negative xi", lambda m: (m, np.zeros_like(m), -np.ones_like(m)), "xi must be >= 0"),
    ("nan in m", lambda m: (np.full_like(m, np.nan), np.zeros_like(m), np.zeros_like(m)), "NaN"),
    ("shape mismatch", lambda m: (m, np.zeros((2, 2)), np.zeros_like(m)), "one shape"),
    ("complex m", lambda m: (m * 1j, np.zeros_like(m), np.zeros_like(m)), "real numbers"),
]


@pytest.mark.parametrize("label,make,message", BAD_LAYERS, ids=[b[0] for b in BAD_LAYERS])
def test_invalid_layer_parameters_raise_one_clear_error(label, make, message):
    with pytest.raises(ValueError, match=message):
        SaSLayer(*make(np.ones((3, 3))))


def test_a_non_boolean_absent_mask_is_refused_rather_than_cast():
    ones = np.ones((3, 3))
    with pytest.raises(ValueError, match="boolean array"):
        SaSLayer(ones, 0 * ones, 0 * ones, absent=np.eye(3))


def test_invalid_forward_arguments_name_the_argument():
    rng = np.random.default_rng(9)
    net = random_network(rng)
    x = rng.normal(size=(4, 2, net.n_in))
    good = {"eps": np.zeros((4, 2, net.n_rec)), "eps_out": np.zeros((2, net.n_out))}
    target = np.eye(net.n_out)[[0, 1]]
    with pytest.raises(ValueError, match="x has shape"):
        mean_field_grads(net, x[..., :1], target, **good)
    with pytest.raises(ValueError, match="x has shape"):  # a missing axis blames x, not target
        mean_field_grads(net, x[0], target, **good)
    with pytest.raises(ValueError, match="eps has shape"):
        mean_field_grads(net, x, target, eps=np.zeros((4, 3, net.n_rec)), eps_out=good["eps_out"])
    with pytest.raises(ValueError, match="eps_out has shape"):
        mean_field_grads(net, x, target, eps=good["eps"], eps_out=np.zeros((4, 2, net.n_out)))
    with pytest.raises(ValueError, match="target has shape"):
        mean_field_grads(net, x, target[:1], **good)
    bad_x = x.copy()
    bad_x[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="x contains NaN"):
        mean_field_grads(net, bad_x, target, **good)
    bad_eps = good["eps"].copy()
    bad_eps[3, 1, 0] = np.inf
    with pytest.raises(ValueError, match="eps contains NaN or inf"):
        mean_field_grads(net, x, target, eps=bad_eps, eps_out=good["eps_out"])
    net.rec.pi[0, 0] = -0.1  # corrupted after construction
    with pytest.raises(ValueError, match="net.rec.pi must lie in"):
        mean_field_grads(net, x, target, **good)


@pytest.mark.parametrize("activation,sigma_rec", [("relu", 0.0), ("tanh", 0.0), ("relu", 0.3)])
@pytest.mark.parametrize("name", ["eps", "rec_noise"])
def test_a_nonfinite_noise_value_in_either_chunk_is_named(activation, sigma_rec, name):
    """The forward kernel checks the noise as it reads it: every code path, both batch chunks,
    and the unused ``rec_noise`` of a network without state noise."""
    rng = np.random.default_rng(11)
    net = random_network(rng, activation=activation, sigma_rec=sigma_rec)
    n_steps, batch = 5, 40  # two chunks
    x = rng.normal(size=(n_steps, batch, net.n_in))
    noise = {
        "eps": rng.standard_normal((n_steps, batch, net.n_rec)),
        "rec_noise": rng.standard_normal((n_steps, batch, net.n_rec)),
    }
    target = np.eye(net.n_out)[rng.integers(0, net.n_out, batch)]
    for sample, value in ((3, np.nan), (batch - 1, -np.inf)):
        bad = {key: array.copy() for key, array in noise.items()}
        bad[name][n_steps - 1, sample, 2] = value
        with pytest.raises(ValueError, match=f"{name} contains NaN or inf"):
            mean_field_grads(net, x, target, eps_out=np.zeros((batch, net.n_out)), **bad)
        with pytest.raises(ValueError, match=f"{name} contains NaN or inf"):
            mean_field_forward(net, x, eps_out=np.zeros((batch, net.n_out)), **bad)


def test_network_options_are_validated():
    rng = np.random.default_rng(10)
    net = random_network(rng)
    with pytest.raises(ValueError, match="alpha"):
        SaSNetwork(net.inp, net.rec, net.out, alpha=1.5)
    with pytest.raises(ValueError, match="unknown activation"):
        SaSNetwork(net.inp, net.rec, net.out, activation="sigmoid")
    with pytest.raises(ValueError, match="readout='all' needs loss='mse'"):
        SaSNetwork(net.inp, net.rec, net.out, readout="all", loss="cross_entropy")
    with pytest.raises(ValueError, match="first axis must be n_rec"):
        SaSNetwork(net.rec.copy(), SaSLayer(*(np.zeros((3, 3)),) * 3), net.out)
    with pytest.raises(ValueError, match="rng="):
        sampled_forward(net, np.zeros((2, 1, net.n_in)), mode="quenched")


@pytest.mark.parametrize("readout, loss", [("last", "cross_entropy"), ("all", "mse")])
@pytest.mark.parametrize("n_in", [3, 8])  # inputs summed inline, and by a GEMM
@pytest.mark.parametrize("batch", [5, 40])  # one chunk, and two chunks on two threads
def test_eps_none_is_the_zero_noise_pass_without_the_variance_products(readout, loss, n_in, batch):
    """eps=None skips the variance products; with ε ≡ 0 they carry nothing, so the loss and all
    nine gradients equal those of explicit zero noise bit for bit (the private noise ξ kept)."""
    rng = np.random.default_rng(5)
    net = random_network(rng, n_in=n_in, readout=readout, loss=loss, sigma_rec=0.2)
    n_steps = 6
    x = rng.random((n_steps, batch, n_in))
    shape = net.output_shape(n_steps, batch)
    target = rng.random(shape) if loss == "mse" else np.eye(2)[rng.integers(0, 2, batch)]
    xi = rng.standard_normal((n_steps, batch, net.n_rec))
    skipped = mean_field_grads(net, x, target, eps=None, eps_out=None, rec_noise=xi)
    zeros = mean_field_grads(
        net,
        x,
        target,
        eps=np.zeros((n_steps, batch, net.n_rec)),
        eps_out=np.zeros(shape),
        rec_noise=xi,
    )
    assert skipped[0] == zeros[0]
    for block, value in skipped[1].blocks().items():
        assert np.array_equal(value, zeros[1].blocks()[block]), block
    assert np.any(skipped[1].rec.pi != 0)  # π still moves the mean μ = (1 − π) m
    trace = mean_field_forward(net, x, eps=None, eps_out=None, rec_noise=xi)
    assert np.array_equal(
        trace.sd,
        mean_field_forward(
            net, x, eps=np.zeros((n_steps, batch, net.n_rec)), eps_out=np.zeros(shape), rec_noise=xi
        ).sd,
    )
