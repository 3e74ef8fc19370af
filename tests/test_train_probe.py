"""The ``train`` probe of ``sasrnn phase``: a scan cell is a training run (sims/train_probe.py)."""

import math

import numpy as np
import pytest

from sims.probes import get_probe
from sims.scan import load_scan, parse_axis, run_scan
from sims.train_probe import g_eff, training_config

#: Tiny row-MNIST runs: a 2 × 2 grid trains in seconds.
TINY = {
    "N": 12,
    "epochs": 2,
    "batches_per_epoch": 2,
    "batch_size": 16,
    "test_samples": 32,
    "n_samples": 1,
}


def test_cell_values_reach_the_recurrent_initial_ensemble():
    config = get_probe("train").resolve({**TINY, "g": 1.5, "pi": 0.25, "xi": 0.5, "alpha": 0.3})
    run = training_config(config)
    rec = run["init"]["rec"]
    assert rec["m"] == "normal" and rec["m_scale"] == pytest.approx(1.5 / math.sqrt(12))
    assert (
        rec["pi"] == 0.25 and rec["xi"] == "constant" and rec["xi_scale"] == pytest.approx(0.5 / 12)
    )
    assert run["network"]["alpha"] == 0.3 and run["network"]["n_rec"] == 12
    default = training_config(get_probe("train").resolve(TINY))["init"]["rec"]
    assert default["m"] == "identity" and default["xi"] == "constant"  # ξ₀ = 0 by default
    assert default["xi_scale"] == 0.0
    preset = training_config(get_probe("train").resolve({**TINY, "xi": -1.0}))["init"]["rec"]
    assert preset["m"] == "identity" and preset["xi"] == "uniform"  # g, ξ < 0: the preset's
    assert g_eff(1.5, 0.25, 0.5) == pytest.approx(math.sqrt(0.75 * 2.75))
    scaled = training_config(get_probe("train").resolve({**TINY, "lr_scale": 2.0}))
    assert scaled["optimizer"]["lr"]["rec"]["m"] == 2 * run["optimizer"]["lr"]["rec"]["m"]


def test_a_two_by_two_train_scan_runs_caches_and_draws_its_theory_boundary(tmp_path):
    fixed = {**{key: str(value) for key, value in TINY.items()}, "xi": "0"}

    def scan_grid():
        axes = (parse_axis("g=0.5,2.0"), parse_axis("pi=0,0.5"))
        return run_scan(
            "train",
            *axes,
            "test_accuracy_meanfield",
            out=tmp_path / "scan",
            fixed=fixed,
            progress=False,
        )

    scan = scan_grid()
    stored = load_scan(tmp_path / "scan")
    accuracy = stored["metrics"]["test_accuracy_meanfield"]
    assert accuracy.shape == (2, 2) and np.all((accuracy >= 0) & (accuracy <= 1))
    assert np.all(stored["metrics"]["censored"] >= 0)
    np.testing.assert_allclose(
        stored["metrics"]["g_eff"], [[0.5, 2.0], [math.sqrt(0.5) * 0.5, math.sqrt(0.5) * 2.0]]
    )
    assert scan["theory"] is not None  # ReLU sampled networks: g_eff² = 2 crosses the plane
    again = scan_grid()
    assert again["cells"]["computed"] == 0  # every cell came from the cache
