"""Evaluation modes agree where they must, and psychometric fits recover known thresholds."""

import math

import numpy as np
import pytest
from scipy.stats import norm

from dynamics import SaSLayer, SaSNetwork, sampled_forward
from sims import evaluate
from sims.tasks import MultisensoryTask

#: Same float64 arithmetic in a different order (numba loop vs BLAS GEMM): round-off only.
ROUNDOFF = 1e-10
#: curve_fit on noise-free Φ values converges to the generating σ to solver tolerance.
FIT_RTOL = 1e-4


def random_network(
    rng,
    n_in=3,
    n_rec=12,
    n_out=2,
    pi=0.2,
    xi=0.05,
    readout="last",
    loss="cross_entropy",
    sigma_rec=0.0,
    alpha=0.2,
):
    def layer(shape):
        return SaSLayer(
            rng.standard_normal(shape) / math.sqrt(shape[1]), np.full(shape, pi), np.full(shape, xi)
        )

    return SaSNetwork(
        layer((n_rec, n_in)),
        layer((n_rec, n_rec)),
        layer((n_out, n_rec)),
        alpha=alpha,
        h0=0.1,
        readout=readout,
        loss=loss,
        sigma_rec=sigma_rec,
    )


def test_mean_network_readout_equals_the_sampled_mean_mode():
    rng = np.random.default_rng(0)
    net = random_network(rng)
    x = rng.random((7, 5, 3))
    z = evaluate.predict(net, x, mode="meanfield_eps0")
    np.testing.assert_allclose(
        z, sampled_forward(net, x, mode="mean"), rtol=ROUNDOFF, atol=ROUNDOFF
    )


def test_a_deterministic_ensemble_gives_the_same_output_in_every_mode():
    rng = np.random.default_rng(1)
    net = random_network(rng, pi=0.0, xi=0.0)
    x = rng.random((6, 4, 3))
    reference = evaluate.predict(net, x, mode="meanfield_eps0")
    for mode in ("meanfield", "quenched", "per_step"):
        np.testing.assert_allclose(
            evaluate.predict(net, x, mode=mode, rng=rng), reference, rtol=ROUNDOFF, atol=ROUNDOFF
        )


def test_a_quenched_sample_is_one_draw_of_every_weight_from_the_ensemble():
    net = random_network(np.random.default_rng(2), pi=0.5, xi=0.0)
    sample = evaluate.sample_network(net, np.random.default_rng(3))
    weights = sample.rec.m
    present = weights != 0
    assert np.all(sample.rec.pi == 0) and np.all(sample.rec.xi == 0)
    np.testing.assert_array_equal(weights[present], net.rec.m[present])  # Ξ = 0: w = m or 0
    assert 0.3 < 1 - present.mean() < 0.7  # about half of 144 connections absent at π = 0.5


def test_chunked_evaluation_matches_one_pass(monkeypatch):
    rng = np.random.default_rng(4)
    net = random_network(rng)
    x = rng.random((9, 10, 3))
    whole = evaluate.predict(net, x, mode="meanfield_eps0")
    monkeypatch.setattr(evaluate, "MEMORY_BUDGET_BYTES", 1)  # one sample per chunk
    np.testing.assert_allclose(
        evaluate.predict(net, x, mode="meanfield_eps0"), whole, rtol=ROUNDOFF, atol=ROUNDOFF
    )


def test_evaluation_is_replayed_exactly_from_its_seed():
    net = random_network(np.random.default_rng(5))
    x = np.random.default_rng(6).random((5, 4, 3))
    for mode in ("meanfield", "quenched", "per_step"):
        first = evaluate.predict(net, x, mode=mode, rng=np.random.default_rng(7))
        again = evaluate.predict(net, x, mode=mode, rng=np.random.default_rng(7))
        np.testing.assert_array_equal(first, again)
    with pytest.raises(ValueError, match="needs rng"):
        evaluate.predict(net, x, mode="meanfield")


def test_with_alpha_changes_only_the_leak():
    net = random_network(np.random.default_rng(8))
    slow = evaluate.with_alpha(net, 0.005)
    assert slow.alpha == 0.005 and net.alpha == 0.2
    for block, array in net.parameters().items():
        np.testing.assert_array_equal(slow.parameters()[block], array)


@pytest.mark.parametrize("sigma", [0.4, 1.3, 3.0])
def test_cumulative_gaussian_fit_recovers_the_generating_threshold(sigma):
    frequencies = np.arange(9, 17)
    mu, fitted = evaluate.fit_psychometric(frequencies, norm.cdf((frequencies - 12.3) / sigma))
    assert fitted == pytest.approx(sigma, rel=FIT_RTOL)
    assert mu == pytest.approx(12.3, rel=FIT_RTOL)


def test_psychometric_curves_report_eight_probabilities_per_modality_and_the_pycog_test():
    task = MultisensoryTask()
    rng = np.random.default_rng(9)
    net = random_network(rng, n_in=5, n_rec=15, readout="all", loss="mse", sigma_rec=0.15)
    # the test step 20 ms keeps this check fast; the protocol default is 0.5 ms
    curves = evaluate.psychometric_curves(net, task, rng, n_batches=2, test_dt=20.0)
    assert curves["alpha"] == pytest.approx(0.2)
    for modality in ("v", "a", "va"):
        p_high = np.array(curves["p_high"][modality])
        assert p_high.shape == (8,) and np.all((p_high >= 0) & (p_high <= 1))
        assert curves["sigma"][modality] > 0
        assert curves["step_like"][modality] == bool(np.all((p_high == 0) | (p_high == 1)))
    optimal = curves["optimal_integration"]
    sigma = curves["sigma"]
    assert optimal["inverse_sigma_v_sq_plus_a_sq"] == pytest.approx(
        sigma["v"] ** -2 + sigma["a"] ** -2
    )
    assert optimal["sigma_va_predicted"] == pytest.approx(
        optimal["inverse_sigma_v_sq_plus_a_sq"] ** -0.5
    )
    assert 0.0 <= curves["accuracy"] <= 1.0


def test_a_perfect_step_fits_a_threshold_below_the_frequency_spacing():
    frequencies = np.arange(9, 17)
    _, sigma = evaluate.fit_psychometric(frequencies, (frequencies > 12.5).astype(float))
    # Φ(0.5/σ) within 1e-3 of a step needs σ < 0.16 Hz; least squares only bounds σ from above
    assert sigma < 0.16
