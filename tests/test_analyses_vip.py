"""VIP detection and target removal through the sims layer (paper Fig. 4, docs/official-code.md
§1.10)."""

import numpy as np
import pytest

from dynamics import SaSLayer, SaSNetwork, mean_field_forward, sampled_forward
from sims.analyses.common import batch_accuracies, crn_accuracies, network_pass, pass_draws
from sims.analyses.vip import pruned_network, vip_analysis
from sims.evaluate import sample_network
from sims.tasks import make_task

N_REC = 6
#: Planted VIPs: present (π = 0), nearly deterministic (Ξ = 0.01), strong (|m| = 0.5).
PLANTED = [(0, 1), (2, 3), (4, 5), (1, 0)]


def planted_network(n_in=28, n_out=10):
    """Recurrent layer with exactly the PLANTED VIPs; every other connection has m = Ξ = 0, so
    removing it changes neither the mean nor the variance of any input current."""
    rng = np.random.default_rng(3)
    m = np.zeros((N_REC, N_REC))
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


def planted_presence(net, rng):
    """Mean presence probability 1 − π of the planted VIPs (one 'batch')."""
    return np.array([np.mean([1.0 - net.rec.pi[i, j] for i, j in PLANTED])])


def test_vip_fraction_counts_exactly_the_planted_connections():
    summary, arrays = vip_analysis(
        planted_network(), task=None, accuracy_fn=planted_presence, fractions=[0.0, 1.0]
    )
    assert summary["n_vip"] == len(PLANTED)
    assert summary["n_connections"] == N_REC * N_REC
    assert summary["vip_fraction"] == len(PLANTED) / N_REC**2
    assert sorted(zip(*np.nonzero(arrays["vip_mask"]), strict=True)) == sorted(PLANTED)


def test_vip_removal_removes_floor_p_n_vips_and_random_removal_never_touches_them():
    fractions = [0.0, 0.25, 0.5, 0.75, 1.0]
    summary, _ = vip_analysis(
        planted_network(), task=None, accuracy_fn=planted_presence, fractions=fractions, seed=4
    )
    expected = [1.0 - np.floor(p * len(PLANTED)) / len(PLANTED) for p in fractions]
    np.testing.assert_allclose(summary["accuracy_vip_mean"], expected, rtol=0, atol=1e-15)
    assert summary["accuracy_random_mean"] == [1.0] * len(fractions)
    assert summary["n_removed"] == [0, 1, 2, 3, 4]


def test_legacy_first_n_removal_takes_the_first_flattened_indices():
    def presence_of_first_entries(net, rng):
        # W[0, 0] (non-VIP) and W[0, 1] (VIP) are flat indices 0, 1; the two lowest VIP flat
        # indices are W[0, 1] = 1 and W[1, 0] = 6.
        return np.array([1.0 - net.rec.pi[0, 0], 1.0 - net.rec.pi[0, 1], 1.0 - net.rec.pi[1, 0]])

    summary, arrays = vip_analysis(
        planted_network(),
        task=None,
        accuracy_fn=presence_of_first_entries,
        fractions=[0.5],
        legacy=True,
    )
    # ⌊0.5·4⌋ = 2 removals. Legacy "random": flat 0 and 1 (π = 1 there, W[1, 0] untouched).
    np.testing.assert_array_equal(arrays["accuracy_legacy_random"][0], [0.0, 0.0, 1.0])
    # Legacy "VIP": the two lowest VIP indices, W[0, 1] and W[1, 0]; W[0, 0] keeps π = 0.5.
    np.testing.assert_array_equal(arrays["accuracy_legacy_vip"][0], [0.5, 0.0, 0.0])
    for key in (
        "accuracy_legacy_vip_mean",
        "accuracy_legacy_vip_std",
        "accuracy_legacy_random_mean",
        "accuracy_legacy_random_std",
    ):
        assert len(summary[key]) == 1


@pytest.fixture(scope="module")
def row_task():
    return make_task("row-mnist")


def test_removing_vips_changes_outputs_but_removing_random_non_vips_does_not(row_task):
    net = planted_network()
    batch = next(row_task.test_batches(batch_size=50))
    rng = np.random.default_rng(0)
    intact = network_pass(net, batch.x, "meanfield_eps0", rng)
    vip_pi = net.rec.pi.copy()
    for i, j in PLANTED:
        vip_pi[i, j] = 1.0
    random_pi = np.where(net.rec.m == 0.0, 1.0, net.rec.pi)  # every non-VIP removed
    no_vips = network_pass(pruned_network(net, vip_pi), batch.x, "meanfield_eps0", rng)
    no_others = network_pass(pruned_network(net, random_pi), batch.x, "meanfield_eps0", rng)
    assert np.max(np.abs(no_vips - intact)) > 1e-3
    np.testing.assert_array_equal(no_others, intact)


def test_mnist_batch_accuracies_split_the_test_set_into_the_requested_batches(row_task):
    accuracies = batch_accuracies(
        planted_network(), row_task, np.random.default_rng(1), n_batches=20, mode="meanfield_eps0"
    )
    assert accuracies.shape == (20,)
    assert np.all((accuracies >= 0) & (accuracies <= 1))


def test_fraction_outside_unit_interval_is_rejected():
    with pytest.raises(ValueError, match="fractions"):
        vip_analysis(
            planted_network(), task=None, accuracy_fn=planted_presence, fractions=[0.0, 1.5]
        )


# -- many networks on common random numbers -----------------------------------------------------
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
    pruned = []
    for seed in (1, 2):
        pi = net.rec.pi.copy()
        pi.reshape(-1)[np.random.default_rng(seed).choice(pi.size, 20, replace=False)] = 1.0
        pruned.append(pruned_network(net, pi))
    return task, [net, *pruned]


def plain_accuracies(net, task, rng, n_batches, mode):
    """The accuracies written out plainly: one whole pass per test batch, no workers."""
    test_net = task.test_network(net)
    out = []
    for batch in task.accuracy_batches(rng, n_batches):
        run = sample_network(test_net, rng) if mode == "quenched" else test_net
        noise, eps, eps_out = pass_draws(run, *batch.x.shape[:2], mode, rng)
        if mode == "per_step":
            z = sampled_forward(run, batch.x, mode="per_step", rng=rng, rec_noise=noise)
        else:
            z = mean_field_forward(run, batch.x, eps=eps, eps_out=eps_out, rec_noise=noise).z
        out.append(np.mean(task.correct(z, batch)))
    return np.array(out)


@pytest.mark.parametrize("mode", ["meanfield", "meanfield_eps0", "quenched", "per_step"])
def test_crn_accuracies_on_one_or_two_workers_equal_plain_one_by_one_passes(tiny_msi, mode):
    task, nets = tiny_msi
    seed = np.random.SeedSequence(7)
    plain = np.stack(
        [plain_accuracies(net, task, np.random.default_rng(seed), 4, mode) for net in nets]
    )
    assert np.unique(plain).size > 2  # the choices depend on the noise draws
    for n_jobs in (1, 2):
        table = crn_accuracies(nets, task, np.random.default_rng(seed), 4, mode, n_jobs=n_jobs)
        np.testing.assert_array_equal(table, plain)
        one = batch_accuracies(nets[1], task, np.random.default_rng(seed), 4, mode, n_jobs=n_jobs)
        np.testing.assert_array_equal(one, plain[1])


def test_vip_analysis_numbers_do_not_depend_on_the_number_of_workers(tiny_msi):
    task, nets = tiny_msi
    runs = [
        vip_analysis(nets[0], task, seed=3, fractions=[0.0, 0.5, 1.0], n_batches=3, n_jobs=n_jobs)
        for n_jobs in (1, 2)
    ]
    assert runs[0][0]["n_removed"][0] == 0 and runs[0][0]["n_removed"][-1] > 0
    for key, value in runs[0][1].items():
        np.testing.assert_array_equal(runs[1][1][key], value)
    evaluation_seed = np.random.SeedSequence(3).spawn(2)[1]
    intact = plain_accuracies(nets[0], task, np.random.default_rng(evaluation_seed), 3, "meanfield")
    np.testing.assert_array_equal(runs[0][1]["accuracy_intact"], intact)


def test_crn_accuracies_reject_networks_of_different_sizes(tiny_msi):
    task, nets = tiny_msi
    other = planted_network(n_in=5, n_out=2)
    with pytest.raises(ValueError, match="one architecture"):
        crn_accuracies([nets[0], other], task, np.random.default_rng(0), n_batches=1)
