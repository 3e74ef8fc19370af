"""Evaluation modes agree where they must, and psychometric fits recover known thresholds."""

import math

import numpy as np
import pytest

from dynamics import (
    SaSLayer,
    SaSNetwork,
    generator_key,
    sampled_forward,
    sampled_readout,
    sampled_weights,
)
from sims import evaluate
from sims.tasks import MultisensoryTask
from sims.tasks.base import Batch

#: Same float64 arithmetic in a different order (numba loop vs BLAS GEMM): round-off only.
ROUNDOFF = 1e-10


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


class TinyTask:
    """Classification batches of random inputs (test batches of 7, 7 and 6 samples)."""

    def __init__(self, net, seed=0):
        rng = np.random.default_rng(seed)
        self.x = rng.random((5, 20, net.n_in))
        self.labels = rng.integers(0, net.n_out, 20)

    def test_batches(self, rng=None):
        for start in range(0, 20, 7):
            part = slice(start, start + 7)
            target = np.eye(2)[self.labels[part]]
            yield Batch(x=self.x[:, part], target=target, labels=self.labels[part])


def accuracy_of(z, labels):
    return float(np.mean(np.argmax(z, axis=1) == labels))


def test_joined_test_batches_give_the_accuracy_of_separate_passes(monkeypatch):
    net = random_network(np.random.default_rng(4))
    task = TinyTask(net)
    joined = evaluate.classification_accuracy(net, task, mode="meanfield_eps0")
    z = evaluate.predict(net, task.x, mode="meanfield_eps0")
    assert joined == accuracy_of(z, task.labels)
    for mode in ("meanfield_eps0", "quenched", "per_step"):  # a sampled network: one for all
        together = evaluate.classification_accuracy(
            net, task, mode=mode, rng=np.random.default_rng(3)
        )
        with monkeypatch.context() as patch:
            patch.setattr(evaluate, "MEMORY_BUDGET_BYTES", 1)  # every test batch its own pass
            apart = evaluate.classification_accuracy(
                net, task, mode=mode, rng=np.random.default_rng(3)
            )
        assert apart == together


def test_quenched_prediction_runs_the_network_of_sample_network():
    net = random_network(np.random.default_rng(10), readout="all", loss="mse")
    x = np.random.default_rng(11).random((6, 5, 3))
    sample = evaluate.sample_network(net, np.random.default_rng(12))
    np.testing.assert_allclose(
        evaluate.predict(net, x, mode="quenched", rng=np.random.default_rng(12)),
        evaluate.predict(sample, x, mode="meanfield_eps0"),
        rtol=ROUNDOFF,
        atol=ROUNDOFF,
    )


def test_evaluation_is_replayed_exactly_from_its_seed():
    net = random_network(np.random.default_rng(5), pi=0.4, xi=0.3)
    x = np.random.default_rng(6).random((5, 4, 3))
    for mode in ("meanfield", "quenched", "per_step"):
        first = evaluate.predict(net, x, mode=mode, rng=np.random.default_rng(7))
        again = evaluate.predict(net, x, mode=mode, rng=np.random.default_rng(7))
        other = evaluate.predict(net, x, mode=mode, rng=np.random.default_rng(8))
        np.testing.assert_array_equal(first, again)
        assert not np.array_equal(first, other)
    with pytest.raises(ValueError, match="needs rng"):
        evaluate.predict(net, x, mode="meanfield")
    task = TinyTask(net)
    first, again = (
        evaluate.evaluate_classification(net, task, np.random.default_rng(9), n_samples=3)
        for _ in range(2)
    )
    assert first == again
    assert len(first["sampled_quenched"]) == len(first["sampled_per_step"]) == 3


def test_sampled_accuracies_are_those_of_the_stream_networks_run_one_by_one():
    """evaluate_classification's K quenched networks are networks 0 … K − 1 of one stream."""
    net = random_network(np.random.default_rng(13), pi=0.4, xi=0.3)
    task = TinyTask(net)
    result = evaluate.evaluate_classification(net, task, np.random.default_rng(14), n_samples=4)
    key = generator_key(np.random.default_rng(14))  # the first key drawn: the quenched networks'
    accuracies = []
    for k in range(4):
        weights = sampled_weights(net, key=key, network=k)
        zeros = np.zeros_like
        sample = SaSNetwork(*(SaSLayer(w, zeros(w), zeros(w)) for w in weights), **net.options())
        accuracies.append(
            accuracy_of(evaluate.predict(sample, task.x, mode="meanfield_eps0"), task.labels)
        )
    assert result["sampled_quenched"] == accuracies
    assert result["test_accuracy_sampled_quenched"] == pytest.approx(np.mean(accuracies))


def test_with_alpha_changes_only_the_leak():
    net = random_network(np.random.default_rng(8))
    slow = evaluate.with_alpha(net, 0.005)
    assert slow.alpha == 0.005 and net.alpha == 0.2
    for block, array in net.parameters().items():
        np.testing.assert_array_equal(slow.parameters()[block], array)


def test_evaluate_reexports_the_binomial_fit():
    from sims.psychometric import fit_psychometric

    assert evaluate.fit_psychometric is fit_psychometric


def test_psychometric_curves_report_counts_binomial_fits_and_the_pycog_test():
    task = MultisensoryTask()
    rng = np.random.default_rng(9)
    net = random_network(rng, n_in=5, n_rec=15, readout="all", loss="mse", sigma_rec=0.15)
    # the test step 20 ms keeps this check fast; the protocol default is 0.5 ms
    curves = evaluate.psychometric_curves(net, task, rng, n_batches=2, test_dt=20.0, n_boot=50)
    assert curves["alpha"] == pytest.approx(0.2)
    for modality in ("v", "a", "va"):
        p_high = np.array(curves["p_high"][modality])
        n_high, n_trials = (np.array(curves[k][modality]) for k in ("n_high", "n_trials"))
        assert p_high.shape == (8,) and np.all((p_high >= 0) & (p_high <= 1))
        np.testing.assert_allclose(p_high, n_high / n_trials)
        step_like = curves["step_like"][modality]
        assert (curves["sigma"][modality] is None) == step_like
        if not step_like:
            low, high = curves["sigma_ci"][modality]
            assert low <= curves["sigma"][modality] <= high
    optimal = curves["optimal_integration"]
    if any(curves["step_like"].values()):
        assert optimal["resolvable"] is False
    assert 0.0 <= curves["accuracy"] <= 1.0 and curves["n_boot"] == 50


def test_psychometric_batches_in_sampled_modes_are_one_network_each(monkeypatch):
    """Batch i is read by network i of one weight stream, whether the batches are joined into
    one pass or not (the protocol draws a network per trial batch, docs/model.md §2.6.2)."""
    task = MultisensoryTask()
    net = random_network(
        np.random.default_rng(15), n_in=5, n_rec=15, pi=0.4, xi=0.3, readout="all", loss="mse"
    )
    test_net = task.test_network(net, 20.0)
    batches = list(task.test_batches(np.random.default_rng(1), n_batches=3, dt=20.0))
    key = generator_key(np.random.default_rng(2))  # the first key drawn: the networks'
    for mode in ("quenched", "per_step"):
        joined = list(
            evaluate._readouts_by_batch(test_net, batches, mode, np.random.default_rng(2))
        )
        with monkeypatch.context() as patch:
            patch.setattr(evaluate, "MEMORY_BUDGET_BYTES", 1)  # one pass per batch
            apart = evaluate._readouts_by_batch(test_net, batches, mode, np.random.default_rng(2))
            apart = [z for _, z in apart]
        for i, ((batch, z), z_apart) in enumerate(zip(joined, apart, strict=True)):
            assert batch is batches[i]
            alone = sampled_readout(test_net, batch.x, mode=mode, key=key, network=i)
            np.testing.assert_allclose(z, alone, rtol=ROUNDOFF, atol=ROUNDOFF)
            np.testing.assert_allclose(z_apart, alone, rtol=ROUNDOFF, atol=ROUNDOFF)
        other = sampled_readout(test_net, batches[1].x, mode=mode, key=key, network=0)
        assert not np.allclose(joined[1][1], other)  # not one network for every batch


def test_a_perfect_step_gives_an_upper_bound_not_a_threshold():
    frequencies = np.arange(9, 17)
    trials = np.full(8, 20)
    fit = evaluate.fit_psychometric(frequencies, 20 * (frequencies > 12.5), trials, n_boot=20)
    assert fit["step_like"] and fit["sigma"] is None and fit["sigma_upper"] > 0
