"""Neural and synaptic projections through the sims layer (docs/model.md §5.2, Figs. 7–8)."""

import numpy as np

from dynamics import SaSLayer, SaSNetwork
from sims.analyses.projection import DIGITS, neural_projection, synaptic_projection
from sims.tasks import make_task


def test_a_straight_synaptic_drift_is_one_dimensional_with_known_velocity():
    rng = np.random.default_rng(0)
    start, direction = rng.standard_normal(30), rng.standard_normal(30)
    direction /= np.linalg.norm(direction)
    step = 0.25
    epochs = np.arange(0, 20, 2)  # snapshots every second epoch
    trajectory = start + step * np.arange(epochs.size)[:, None] * direction
    snapshots = {
        "rec.m": trajectory[:, :15].reshape(-1, 3, 5),
        "rec.xi": trajectory[:, 15:].reshape(-1, 3, 5),
    }
    summary, arrays = synaptic_projection(snapshots, epochs, blocks=("rec.m", "rec.xi"))
    assert summary["variance_3_pcs"] > 1 - 1e-12
    assert summary["n_pcs_80"] == 1
    assert summary["drift_persistence"] == 1.0
    np.testing.assert_allclose(summary["drift_velocity"], step, rtol=1e-12)
    np.testing.assert_allclose(summary["drift_velocity_per_epoch"], step / 2, rtol=1e-12)
    np.testing.assert_array_equal(arrays["synaptic_epochs"], epochs)


def test_mnist_neural_projection_uses_the_first_test_images_of_digits_1_5_9():
    task = make_task("row-mnist")
    rng = np.random.default_rng(1)
    n_rec = 7
    inp = SaSLayer(
        rng.standard_normal((n_rec, 28)) * 0.3, np.zeros((n_rec, 28)), np.zeros((n_rec, 28))
    )
    rec = SaSLayer(0.5 * np.eye(n_rec), np.zeros((n_rec, n_rec)), np.full((n_rec, n_rec), 0.01))
    out = SaSLayer(rng.standard_normal((10, n_rec)), np.zeros((10, n_rec)), np.zeros((10, n_rec)))
    net = SaSNetwork(inp, rec, out, alpha=0.5, h0=0.1)
    summary, arrays = neural_projection(net, task, seed=2, n_per_digit=4)
    labels = arrays["neural_trial_labels"]
    np.testing.assert_array_equal(labels, np.repeat(DIGITS, 4))
    expected = np.concatenate([np.flatnonzero(task.data.test_labels == d)[:4] for d in DIGITS])
    assert summary["trials"]["test_indices"] == expected.tolist()
    assert arrays["neural_projections"].shape == (29, 12, 3)
    assert 0 <= summary["sampled_correct"] <= summary["n_trials"] == 12
    ratios = arrays["neural_explained_variance_ratio"]
    np.testing.assert_allclose(summary["variance_3_pcs"], ratios[:3].sum(), rtol=1e-12)
