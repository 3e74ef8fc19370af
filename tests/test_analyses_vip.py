"""VIP detection, the target-removal curves and their controls through the sims layer (paper
Fig. 4, docs/official-code.md §1.10), and the common-random-number evaluation behind them."""

import numpy as np
import pytest

from dynamics import (
    CounterNormals,
    SaSLayer,
    SaSNetwork,
    generator_key,
    mean_field_forward,
    sampled_weights,
)
from sims.analyses.common import batch_accuracies, crn_accuracies, network_pass
from sims.analyses.vip import CONTROLS, pruned_network, vip_analysis
from sims.tasks import make_task

N_REC = 6
#: Planted VIPs: present (π = 0), nearly deterministic (Ξ = 0.01), strong (|m| = 0.5).
PLANTED = [(0, 1), (2, 3), (4, 5), (1, 0)]
FLAT_PLANTED = sorted(i * N_REC + j for i, j in PLANTED)
FRACTIONS = [0.0, 0.25, 0.5, 0.75, 1.0]


def planted_network(n_in=28, n_out=10, graded=False):
    """Recurrent layer with exactly the PLANTED VIPs. The other connections have π = 0.5 and
    Ξ = 0, and m = 0 (removing one changes no input current), or with ``graded`` distinct
    weak m = 0.001·(1 + flat index) < 0.08, so that |μ| ranks them."""
    rng = np.random.default_rng(3)
    m = np.zeros((N_REC, N_REC))
    if graded:
        m = 0.001 * (1.0 + np.arange(N_REC * N_REC)).reshape(N_REC, N_REC)
    pi = np.full((N_REC, N_REC), 0.5)
    xi = np.zeros((N_REC, N_REC))
    for i, j in PLANTED:
        m[i, j], pi[i, j], xi[i, j] = 0.5, 0.0, 0.01
    inp = SaSLayer(
        rng.standard_normal((N_REC, n_in)), np.zeros((N_REC, n_in)), np.zeros((N_REC, n_in))
    )
    out = SaSLayer(
        rng.standard_normal((n_out, N_REC)), np.zeros((n_out, N_REC)), np.zeros((n_out, N_REC))
    )
    return SaSNetwork(inp, SaSLayer(m, pi, xi), out, alpha=0.5, h0=0.1)


def removed(net):
    """Flat indices of the recurrent connections with π = 1 (the planted network has none)."""
    return np.flatnonzero(net.rec.pi.ravel() == 1.0)


def analysis(accuracy_fn, n_batches=3, **options):
    """vip_analysis of the graded planted network with a functional in place of the accuracy."""
    options = {"fractions": FRACTIONS, "seed": 4, **options}
    return vip_analysis(
        planted_network(graded=True),
        task=None,
        accuracy_fn=accuracy_fn,
        n_batches=n_batches,
        **options,
    )


def test_vip_fraction_counts_exactly_the_planted_connections():
    summary, arrays = analysis(lambda net, i: 0.0, fractions=[0.0, 1.0])
    assert summary["n_vip"] == len(PLANTED)
    assert summary["n_connections"] == N_REC * N_REC
    assert summary["vip_fraction"] == len(PLANTED) / N_REC**2
    assert sorted(zip(*np.nonzero(arrays["vip_mask"]), strict=True)) == sorted(PLANTED)


def test_every_curve_removes_floor_p_n_vip_connections_on_every_batch():
    summary, arrays = analysis(lambda net, i: removed(net).size, legacy=True)
    expected = [np.floor(p * len(PLANTED)) for p in FRACTIONS]
    assert summary["n_removed"] == expected
    assert summary["curves"] == ["vip", *CONTROLS, "legacy_vip", "legacy_random"]
    for curve in summary["curves"]:
        np.testing.assert_array_equal(arrays[f"accuracy_{curve}"], np.repeat([expected], 3, 0).T)


def test_vip_removal_takes_only_vips_and_the_non_vip_controls_none():
    summary, arrays = analysis(lambda net, i: np.isin(removed(net), FLAT_PLANTED).sum())
    n_removed = np.array(summary["n_removed"], dtype=float)
    np.testing.assert_array_equal(summary["accuracy_vip_mean"], n_removed)
    for control in ("random", "magnitude"):
        assert summary[f"accuracy_{control}_mean"] == [0.0] * len(FRACTIONS)
        assert summary[f"vips_removed_{control}"] == [0.0] * len(FRACTIONS)
    np.testing.assert_array_equal(summary["vips_removed_vip"], n_removed)


def test_uniform_removal_draws_from_all_connections_vips_included():
    # Over 40 draws of 4 out of 36 connections, VIPs (4 of 36) and non-VIPs are both removed.
    summary, arrays = analysis(
        lambda net, i: np.isin(removed(net), FLAT_PLANTED).sum(), n_batches=40, fractions=[1.0]
    )
    vips = arrays["accuracy_uniform"][0]
    assert vips.max() >= 1 and vips.min() < len(PLANTED)
    assert summary["vips_removed_uniform"] == [float(vips.mean())]


def test_magnitude_control_removes_the_strongest_non_vips_by_mean_weight():
    net = planted_network(graded=True)
    strength = np.abs(net.rec.mu).ravel()
    non_vip = np.setdiff1d(np.arange(N_REC * N_REC), FLAT_PLANTED)
    ranked = non_vip[np.argsort(-strength[non_vip], kind="stable")]
    summary, arrays = analysis(lambda net, i: float(np.sum(removed(net))), legacy=False)
    for f, p in enumerate(FRACTIONS):
        n = int(np.floor(p * len(PLANTED)))
        np.testing.assert_array_equal(arrays["accuracy_magnitude"][f], np.sum(ranked[:n]))
        mean_abs_mu = summary["mean_abs_mu_removed_magnitude"][f]
        assert mean_abs_mu == (pytest.approx(np.mean(strength[ranked[:n]])) if n else None)


def test_random_removals_are_drawn_anew_for_every_test_batch():
    summary, arrays = analysis(lambda net, i: float(np.sum(removed(net))), n_batches=8)
    half = FRACTIONS.index(0.5)
    for curve in ("vip", "random", "uniform"):  # 2 of 4 VIPs, 2 of 32 or 36 others
        assert np.unique(arrays[f"accuracy_{curve}"][half]).size > 1
    assert np.unique(arrays["accuracy_magnitude"][half]).size == 1  # deterministic
    assert np.unique(arrays["accuracy_vip"][-1]).size == 1  # p = 1: every VIP


def test_removal_m_zeroes_the_slab_mean_and_keeps_pi():
    def zeroed_vips(net, i):
        assert removed(net).size == 0  # π untouched
        return float(np.sum(net.rec.m.ravel()[FLAT_PLANTED] == 0.0))

    summary, _ = analysis(zeroed_vips, removal="m")
    np.testing.assert_array_equal(summary["accuracy_vip_mean"], summary["n_removed"])
    assert summary["evaluation"]["removal"] == "m = 0"


def test_legacy_first_n_removal_takes_the_first_flattened_indices():
    # ⌊0.5·4⌋ = 2 removals. Legacy "random": flat 0 and 1. Legacy "VIP": the two lowest VIP
    # indices, W[0, 1] = 1 and W[1, 0] = 6.
    def code(net, i):  # removed flat indices a < b as a + 100 b
        return float(np.dot(removed(net), 100.0 ** np.arange(removed(net).size)))

    summary, arrays = analysis(code, fractions=[0.5], legacy=True)
    assert arrays["accuracy_legacy_random"][0, 0] == 0 + 100 * 1
    assert arrays["accuracy_legacy_vip"][0, 0] == 1 + 100 * 6


def test_bad_fraction_mode_or_control_is_rejected_with_the_choices():
    with pytest.raises(ValueError, match="fractions"):
        analysis(lambda net, i: 0.0, fractions=[0.0, 1.5])
    with pytest.raises(ValueError, match="controls among"):
        analysis(lambda net, i: 0.0, controls=("strongest",))
    with pytest.raises(ValueError, match="modes among"):
        analysis(lambda net, i: 0.0, modes=("sampled",))


@pytest.fixture(scope="module")
def row_task():
    return make_task("row-mnist")


def test_removing_vips_changes_outputs_but_removing_zero_weight_non_vips_does_not(row_task):
    net = planted_network()
    batch = next(row_task.test_batches(batch_size=50))
    rng = np.random.default_rng(0)
    intact = network_pass(net, batch.x, "meanfield_eps0", rng)
    others = np.flatnonzero(net.rec.m.ravel() == 0.0)
    no_vips = network_pass(pruned_network(net, FLAT_PLANTED), batch.x, "meanfield_eps0", rng)
    no_others = network_pass(pruned_network(net, others), batch.x, "meanfield_eps0", rng)
    assert np.max(np.abs(no_vips - intact)) > 1e-3
    np.testing.assert_array_equal(no_others, intact)


def test_mnist_batch_accuracies_split_the_test_set_into_the_requested_batches(row_task):
    accuracies = batch_accuracies(
        planted_network(), row_task, np.random.default_rng(1), n_batches=20, mode="meanfield_eps0"
    )
    assert accuracies.shape == (20,)
    assert np.all((accuracies >= 0) & (accuracies <= 1))


# -- many networks on common random numbers -----------------------------------------------------
MODES = ["meanfield", "meanfield_eps0", "quenched", "per_step"]


@pytest.fixture(scope="module")
def tiny_msi():
    """An untrained 8-unit multisensory network at a 20 ms test step (90 steps) whose choices
    depend on the noise in every mode (σ_rec = 0.5), and two pruned copies."""
    from sims.presets import resolve_config
    from sims.runs import build_network
    from sims.tasks import task_from_config

    overrides = ["network.n_rec=8", "network.sigma_rec=0.5", "evaluation.test_dt=20.0"]
    config = resolve_config("multisensory", overrides=overrides)
    task = task_from_config(config)
    net = build_network(config, task, np.random.default_rng(2))
    pruned = [
        pruned_network(net, np.random.default_rng(seed).choice(64, 20, replace=False))
        for seed in (1, 2)
    ]
    return task, [net, *pruned]


def plain_accuracies(net, task, rng, n_batches, mode):
    """The documented draws of crn_accuracies written out plainly for the mean-field and
    quenched modes: materialised stream blocks, one whole pass per test batch, no workers."""
    test_net = task.test_network(net)
    test_net = SaSNetwork(
        test_net.inp, test_net.rec, test_net.out, **{**test_net.options(), "readout": "last"}
    )
    batches = list(task.accuracy_batches(rng, n_batches))
    eps_key, noise_key, weights_key = (generator_key(rng) for _ in range(3))
    out = []
    for i, batch in enumerate(batches):
        eps_out = rng.standard_normal((batch.x.shape[1], net.n_out))
        shape = (*batch.x.shape[:2], net.n_rec)
        noise = CounterNormals(noise_key, i).array(shape)
        run, eps = test_net, np.zeros(shape)
        if mode == "quenched":  # network i of the weight stream, as a deterministic network
            layers = [
                SaSLayer(w, np.zeros_like(w), np.zeros_like(w))
                for w in sampled_weights(test_net, key=weights_key, network=i)
            ]
            run = SaSNetwork(*layers, **test_net.options())
        if mode == "meanfield":
            eps = CounterNormals(eps_key, i).array(shape)
        else:
            eps_out = np.zeros_like(eps_out)
        z = mean_field_forward(run, batch.x, eps=eps, eps_out=eps_out, rec_noise=noise).z
        out.append(np.mean(task.correct(z, batch)))
    return np.array(out)


@pytest.mark.parametrize("mode", ["meanfield", "meanfield_eps0", "quenched"])
def test_crn_accuracies_equal_plain_passes_on_the_documented_stream_blocks(tiny_msi, mode):
    task, nets = tiny_msi
    seed = np.random.SeedSequence(7)
    plain = np.stack(
        [plain_accuracies(net, task, np.random.default_rng(seed), 4, mode) for net in nets]
    )
    assert np.unique(plain).size > 2  # the choices depend on the noise draws
    table = crn_accuracies(nets, task, np.random.default_rng(seed), 4, mode)
    np.testing.assert_array_equal(table, plain)


@pytest.mark.parametrize("mode", MODES)
def test_every_row_is_the_network_alone_whatever_the_company_and_workers(tiny_msi, mode):
    task, nets = tiny_msi
    seed = np.random.SeedSequence(7)
    alone = np.stack(
        [
            batch_accuracies(net, task, np.random.default_rng(seed), 4, mode, n_jobs=1)
            for net in nets
        ]
    )
    for n_jobs in (1, 2):
        table = crn_accuracies(nets[::-1], task, np.random.default_rng(seed), 4, mode, None, n_jobs)
        np.testing.assert_array_equal(table, np.stack(alone[::-1]))


@pytest.mark.parametrize("mode", MODES)
def test_a_copy_with_nothing_removed_scores_exactly_the_intact_network(tiny_msi, mode):
    task, nets = tiny_msi
    unchanged = pruned_network(nets[0], [])
    table = crn_accuracies([nets[0], unchanged], task, np.random.default_rng(5), 3, mode)
    np.testing.assert_array_equal(table[1], table[0])


def test_a_network_per_batch_is_run_on_its_own_batch_only(tiny_msi):
    task, nets = tiny_msi
    rng = np.random.SeedSequence(9)
    whole = crn_accuracies(nets, task, np.random.default_rng(rng), 3)
    mixed = crn_accuracies([lambda i: nets[i]], task, np.random.default_rng(rng), 3)
    np.testing.assert_array_equal(mixed[0], np.diag(whole))


def test_vip_analysis_numbers_do_not_depend_on_the_number_of_workers(tiny_msi):
    task, nets = tiny_msi
    runs = [
        vip_analysis(
            nets[0],
            task,
            seed=3,
            fractions=[0.0, 0.5, 1.0],
            n_batches=3,
            modes=("meanfield", "per_step"),
            n_jobs=n_jobs,
        )
        for n_jobs in (1, 2)
    ]
    assert runs[0][0]["n_removed"][0] == 0 and runs[0][0]["n_removed"][-1] > 0
    for key, value in runs[0][1].items():
        np.testing.assert_array_equal(runs[1][1][key], value)
    evaluation_seed = np.random.SeedSequence(3).spawn(2)[1]
    intact = batch_accuracies(nets[0], task, np.random.default_rng(evaluation_seed), 3)
    np.testing.assert_array_equal(runs[0][1]["accuracy_intact"], intact)


def test_crn_accuracies_reject_networks_of_different_sizes(tiny_msi):
    task, nets = tiny_msi
    other = planted_network(n_in=5, n_out=2)
    with pytest.raises(ValueError, match="one architecture"):
        crn_accuracies([nets[0], other], task, np.random.default_rng(0), n_batches=1)
