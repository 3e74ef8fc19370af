"""Quenched against annealed readings over modified ensembles (sims/analyses/quenched.py)."""

import numpy as np
import pytest

from dynamics import SaSLayer, SaSNetwork
from sims.analyses.quenched import modified_network, quenched_analysis
from sims.tasks import make_task


def _network(rng, n_rec=9):
    def layer(shape):
        return SaSLayer(
            rng.normal(0, 0.4, shape), rng.uniform(0, 0.6, shape), rng.uniform(0, 0.2, shape)
        )

    return SaSNetwork(layer((n_rec, 28)), layer((n_rec, n_rec)), layer((10, n_rec)), alpha=0.5)


def test_modified_network_scales_xi_and_zeroes_pi_but_keeps_absences():
    rng = np.random.default_rng(0)
    net = _network(rng)
    absent = np.zeros(net.inp.m.shape, bool)
    absent[0, :3] = True
    net = SaSNetwork(
        SaSLayer(net.inp.m, net.inp.pi, net.inp.xi, absent=absent), net.rec, net.out, alpha=0.5
    )
    half = modified_network(net, 0.5, "kept")
    np.testing.assert_array_equal(half.rec.xi, 0.5 * net.rec.xi)
    np.testing.assert_array_equal(half.rec.pi, net.rec.pi)
    zero = modified_network(net, 1.0, "zero")
    assert np.all(zero.rec.pi == 0) and np.all(zero.inp.pi[absent] == 1)
    assert np.all(net.rec.pi > 0)  # the original is untouched
    with pytest.raises(ValueError, match="pi_mode"):
        modified_network(net, 1.0, "half")


def test_a_deterministic_cell_reads_the_same_three_ways_and_the_grid_has_its_shape():
    """With Ξ = 0 and π = 0 every network of the ensemble is the mean network: quenched,
    per-step and mean-field accuracies coincide exactly."""
    net = _network(np.random.default_rng(1))
    task = make_task("row-mnist", test_batch_size=32)
    summary, arrays = quenched_analysis(
        net, task, seed=3, xi_factors=(0.0, 1.0), n_networks=2, max_samples=64
    )
    deterministic = next(
        c for c in summary["cells"] if c["xi_factor"] == 0.0 and c["pi_mode"] == "zero"
    )
    assert deterministic["quenched_mean"] == deterministic["per_step_mean"]
    assert deterministic["quenched_mean"] == deterministic["meanfield_mean"]
    assert deterministic["quenched_std"] == 0.0
    assert arrays["quenched"].shape == (2, 2, 2)
    noisy = next(c for c in summary["cells"] if c["xi_factor"] == 1.0 and c["pi_mode"] == "kept")
    assert noisy["quenched_std"] > 0.0  # different sampled networks, different accuracies


def test_analyze_quenched_on_a_row_run_and_refused_on_the_msi(row_run, msi_run, tmp_path, capsys):
    from sims.cli import main

    out = tmp_path / "quenched.json"
    assert main(["analyze", "quenched", str(row_run.directory), "--out", str(out)]) == 0
    assert out.is_file() and out.with_suffix(".npz").is_file()
    assert main(["analyze", "quenched", str(msi_run.directory), "--out", str(out)]) == 2
    assert "applies to pixel-mnist or row-mnist runs" in capsys.readouterr().err
