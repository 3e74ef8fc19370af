"""Known-answer checks of the neural and synaptic trajectory PCA (docs/model.md §5.2, Figs. 7-8)."""

import numpy as np
import pytest

from dynamics.projection import (
    drift_along_axis,
    n_components_for_variance,
    neural_trajectory_pca,
    synaptic_trajectory_pca,
)

#: Variance left outside an exact plane is pure float round-off: ~1e-16 per entry of the data.
EXACT_TOL = 1e-10


def planar_states(rng, n_steps=40, n_trials=5, n_units=12):
    """States r(t) = c + a(t) u1 + b(t) u2 on a known plane span(u1, u2) in R^N."""
    basis, _ = np.linalg.qr(rng.standard_normal((n_units, 2)))
    t = np.linspace(0, 2 * np.pi, n_steps + 1)[:, None]
    phase = rng.uniform(0, 2 * np.pi, n_trials)[None, :]
    a = 3.0 * np.cos(t + phase)
    b = 1.0 * np.sin(2 * t + phase)
    offset = rng.standard_normal(n_units)
    states = offset + a[..., None] * basis[:, 0] + b[..., None] * basis[:, 1]
    return states, basis


def test_planar_trajectory_is_explained_by_two_pcs_spanning_the_plane():
    rng = np.random.default_rng(0)
    states, basis = planar_states(rng)
    out = neural_trajectory_pca(states, n_components=2)
    ratios = out["explained_variance_ratio"]
    assert ratios[:2].sum() == pytest.approx(1.0, abs=EXACT_TOL)
    assert out["n_pcs_80"] <= 2 and out["n_pcs_85"] <= 2
    assert out["variance_3_pcs"] == pytest.approx(1.0, abs=EXACT_TOL)
    recovered_projector = out["components"].T @ out["components"]
    planted_projector = basis @ basis.T
    np.testing.assert_allclose(recovered_projector, planted_projector, atol=EXACT_TOL)
    assert out["projections"].shape == (states.shape[0], states.shape[1], 2)


def test_projections_reconstruct_the_planar_states():
    rng = np.random.default_rng(1)
    states, _ = planar_states(rng)
    out = neural_trajectory_pca(states, n_components=2)
    rebuilt = out["mean"] + out["projections"] @ out["components"]
    np.testing.assert_allclose(rebuilt, states, atol=EXACT_TOL)


def test_list_of_trials_with_different_lengths_is_stacked_like_one_array():
    rng = np.random.default_rng(2)
    states, basis = planar_states(rng, n_steps=30, n_trials=4)
    pieces = [states[:, :2], states[:20, 2:]]
    out = neural_trajectory_pca(pieces, n_components=2)
    assert [p.shape for p in out["projections"]] == [(31, 2, 2), (20, 2, 2)]
    np.testing.assert_allclose(
        out["components"].T @ out["components"], basis @ basis.T, atol=EXACT_TOL
    )


def test_pc_count_thresholds_follow_the_cumulative_variance():
    ratios = np.array([0.5, 0.3, 0.1, 0.06, 0.04])
    assert n_components_for_variance(ratios, 0.80) == 2
    assert n_components_for_variance(ratios, 0.85) == 3
    assert n_components_for_variance(ratios, 1.0) == 5


def test_straight_line_drift_with_noise_has_planted_velocity_and_full_persistence():
    rng = np.random.default_rng(3)
    n_epochs, n_params, speed, noise = 60, 50, 0.2, 0.01
    direction = rng.standard_normal(n_params)
    direction /= np.linalg.norm(direction)
    epochs = np.arange(n_epochs)[:, None]
    start = rng.standard_normal(n_params)
    snapshots = {
        "rec.m": (
            start + speed * epochs * direction + noise * rng.standard_normal((n_epochs, n_params))
        ).reshape(n_epochs, 5, 10)
    }
    out = synaptic_trajectory_pca(snapshots)
    # The velocity estimate is (c_end - c_0)/(E-1); each endpoint carries noise of std `noise` along
    # PC1, so its error is about sqrt(2)*noise/(E-1) ~ 2.4e-4; allow 4 sigma.
    velocity_tolerance = 4 * np.sqrt(2) * noise / (n_epochs - 1)
    assert out["drift_velocity"] == pytest.approx(speed, abs=velocity_tolerance)
    # A step of 0.2 against step noise sqrt(2)*0.01 never flips sign.
    assert out["drift_persistence"] == 1.0
    assert out["explained_variance_ratio"][0] > 0.99
    assert abs(out["components"][0] @ direction) == pytest.approx(1.0, abs=1e-3)


def test_random_walk_has_persistence_near_one_half():
    rng = np.random.default_rng(4)
    walk = np.cumsum(rng.standard_normal(2001))
    drift = drift_along_axis(walk)
    # 2000 independent fair signs: standard error 0.011; allow 5 sigma.
    assert drift["persistence"] == pytest.approx(0.5, abs=0.056)


def test_blocks_argument_selects_the_columns_entering_the_pca():
    rng = np.random.default_rng(5)
    n_epochs = 10
    moving = np.linspace(0, 1, n_epochs)[:, None, None] * np.ones((1, 3, 3))
    still = np.ones((n_epochs, 2, 2)) + 1e-3 * rng.standard_normal((n_epochs, 2, 2))
    epochs = [{"rec.m": moving[e], "rec.pi": still[e]} for e in range(n_epochs)]
    out = synaptic_trajectory_pca(epochs, blocks=["rec.m"])
    assert out["components"].shape[1] == 9
    assert out["block_slices"] == {"rec.m": slice(0, 9)}
    assert out["drift_persistence"] == 1.0


def test_bad_inputs_raise_one_clear_value_error():
    with pytest.raises(ValueError, match="states"):
        neural_trajectory_pca(np.zeros((4, 5)))
    with pytest.raises(ValueError, match="NaN"):
        neural_trajectory_pca(np.full((3, 2, 4), np.nan))
    with pytest.raises(ValueError, match="unknown blocks"):
        synaptic_trajectory_pca({"rec.m": np.zeros((3, 2, 2))}, blocks=["rec.xi"])
    with pytest.raises(ValueError, match="identical"):
        synaptic_trajectory_pca({"rec.m": np.zeros((3, 2, 2))})


def test_a_straight_drift_beats_both_nulls_and_a_random_walk_does_not():
    from dynamics.projection import mean_successive_cosine, synaptic_null_models

    rng = np.random.default_rng(0)
    n_epochs, n_params = 40, 200
    direction = rng.standard_normal(n_params)
    drift = np.outer(np.arange(n_epochs), direction) + 0.3 * rng.standard_normal(
        (n_epochs, n_params)
    )
    walk = np.cumsum(rng.standard_normal((n_epochs, n_params)), axis=0)
    assert mean_successive_cosine(np.outer(np.arange(5), direction)) == pytest.approx(1.0)
    nulls = synaptic_null_models(drift, np.random.default_rng(1), n_replicates=40)
    observed = synaptic_trajectory_pca(drift)
    for key, value in (
        ("pc1_ratio", observed["explained_variance_ratio"][0]),
        ("variance_3_pcs", observed["variance_3_pcs"]),
        ("drift_persistence", observed["drift_persistence"]),
        ("mean_successive_cosine", observed["mean_successive_cosine"]),
    ):  # the Gram-matrix route gives the PCA's own numbers
        assert nulls["observed"][key] == pytest.approx(value, rel=1e-9, abs=1e-12), key
    random_walk = nulls["random_walk"]
    assert observed["explained_variance_ratio"][0] > random_walk["pc1_ratio"]["high"]
    assert observed["mean_successive_cosine"] > random_walk["mean_successive_cosine"]["high"]
    assert abs(random_walk["mean_successive_cosine"]["mean"]) < 0.05
    # shuffling the updates of a straight drift keeps it straight: no evidence against it
    assert nulls["shuffled"]["pc1_ratio"]["low"] > 0.9
    walk_nulls = synaptic_null_models(walk, np.random.default_rng(2), n_replicates=40)
    walk_pc1 = synaptic_trajectory_pca(walk)["explained_variance_ratio"][0]
    band = walk_nulls["random_walk"]["pc1_ratio"]
    assert band["low"] <= walk_pc1 <= band["high"]


def test_scaling_blocks_stops_a_block_with_large_units_from_dominating():
    rng = np.random.default_rng(3)
    n_epochs = 20
    big = np.cumsum(rng.standard_normal((n_epochs, 30)), axis=0) * 100.0
    small = np.outer(np.arange(n_epochs), rng.standard_normal(30))
    snapshots = {"rec.pi": big, "rec.m": small}
    unscaled = synaptic_trajectory_pca(snapshots)
    scaled = synaptic_trajectory_pca(snapshots, scale_blocks=True)
    loading = {
        name: [
            float(np.sum(out["components"][0, out["block_slices"][b]] ** 2))
            for b in ("rec.pi", "rec.m")
        ]
        for name, out in (("unscaled", unscaled), ("scaled", scaled))
    }
    assert loading["unscaled"][0] > 0.99  # PC1 is the π block's
    assert loading["scaled"][1] > 0.2  # the straight m drift now carries real weight
    assert np.var(
        scaled["matrix"][:, scaled["block_slices"]["rec.pi"]], axis=0
    ).sum() == pytest.approx(1.0)


def test_null_models_refuse_too_short_trajectories():
    from dynamics.projection import synaptic_null_models

    with pytest.raises(ValueError, match="E >= 3"):
        synaptic_null_models(np.zeros((2, 4)), np.random.default_rng(0))
