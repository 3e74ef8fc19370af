"""Entropy per epoch and its aggregation over runs through the sims layer (docs/model.md §5.5)."""

import numpy as np

from sims.analyses.entropy import aggregate_entropy, entropy_analysis


def test_deterministic_present_weights_have_entropy_two_of_the_floored_slab():
    # π = 0 everywhere (S_π = 0) and Ξ below the 1e-4 floor: S_II = ½ ln(2π·1e-4) + ½ exactly.
    shape = (3, 4, 4)
    snapshots = {
        f"{layer}.{p}": np.zeros(shape) for layer in ("rec", "out") for p in ("m", "pi", "xi")
    }
    snapshots["rec.m"] = np.ones(shape)
    result = entropy_analysis(snapshots, epochs=[0, 5, 10], n_draws=50)
    expected = 0.5 * np.log(2 * np.pi * 1e-4) + 0.5
    np.testing.assert_allclose(result["layers"]["rec"]["entropy_two"], [expected] * 3, rtol=1e-12)
    assert result["exclude_diagonal"] == {"rec": True, "out": False}  # only rec is recurrent
    assert result["epochs"] == [0, 5, 10]


def _result(epochs, values):
    layer = {
        key: list(values)
        for key in ("entropy_one", "entropy_two", "bernoulli_entropy", "slab_entropy")
    }
    return {"epochs": list(epochs), "layers": {"rec": layer}}


def test_aggregation_carries_a_stopped_runs_final_value_so_no_run_drops_out():
    summary, arrays = aggregate_entropy(
        [_result([0, 1, 2], [1.0, 2.0, 3.0]), _result([0, 1], [3.0, 4.0])]
    )
    assert summary["epochs"] == [0, 1, 2]
    assert summary["n_runs"] == [2, 2, 2]
    assert summary["n_stopped"] == [0, 0, 1]
    stats = summary["layers"]["rec"]["entropy_one"]
    np.testing.assert_allclose(stats["mean"], [2.0, 3.0, 3.5])
    np.testing.assert_allclose(stats["std"], [1.0, 1.0, 0.5])
    assert arrays["rec_entropy_two"][1, 2] == 4.0
    # 95% t-interval of the mean of two values a, b: mean ± t(0.975, 1) |a − b| / 2
    half = 12.706204736174698 * 1.0
    np.testing.assert_allclose(stats["low"][0], 2.0 - half)
    np.testing.assert_allclose(stats["high"][0], 2.0 + half)
