"""The headline claims table: every number has a path in the stored results, every verdict a
rule that can go either way, and the summary and the report are generated from it."""

import numpy as np
import pytest
from training_fakes import mnist_runs, write_idx_directory

from sims import reproduce, store
from sims.analyses.over_seeds import (
    neural_pca_over_seeds,
    selectivity_over_seeds,
    symmetry_over_seeds,
    synaptic_over_seeds,
    vip_over_seeds,
)
from sims.analyses.projection import synaptic_projection
from sims.analyses.training import preset_comparison, training_curves
from sims.kernels import loglog_slope, slope_interval
from sims.reproduce.claims import (
    AccuracyAtLeast,
    At,
    Comparable,
    FallsWithWidth,
    LearnsBy,
    WithinBand,
    headline,
    markdown_table,
)


def _ats(spec):
    if isinstance(spec, At):
        return [spec]
    return [at for item in spec.values() for at in _ats(item)]


def test_every_claim_reads_a_result_that_a_planned_stage_writes(tmp_path):
    fashion = write_idx_directory(tmp_path / "fashion")
    settings = reproduce.settings_for("standard", fashion=str(fashion))
    stages = reproduce.plan_stages(settings, reproduce.Context(tmp_path))
    written = {name for stage in stages for name in stage.outputs}
    for claim in reproduce.CLAIMS:
        for at in _ats(claim.ours):
            assert at.stem in store.RESULT_STEMS, (claim.quantity, at)
            assert f"{store.RESULTS_DIR}/{at.stem}.json" in written, (claim.quantity, at)


#: Removal curves of the VIP analysis: the VIPs and the three controls.
VIP_CURVES = ("vip", "magnitude", "random", "uniform")


def _vip_summary(fraction, removed: dict, intact=0.99):
    """One seed's VIP analysis at p = 0 and 1: accuracy ``removed[curve]`` at p = 1."""
    summary = {
        "vip_fraction": fraction,
        "fractions": [0.0, 1.0],
        "n_removed": [0, 12],
        "accuracy_intact": intact,
        "curves": list(VIP_CURVES),
    }
    for curve in VIP_CURVES:
        summary[f"accuracy_{curve}_mean"] = [intact, removed.get(curve, intact)]
    return summary


def _write_vip_results(results, fractions, vip=(0.52, 0.5, 0.48), magnitude=(0.9, 0.92, 0.88)):
    """vip_seeds of three seeds: VIP fractions, and the accuracy with all VIPs and with as many
    strongest non-VIPs removed (random and uniform removals leave the accuracy unchanged)."""
    summaries = [
        _vip_summary(f, {"vip": v, "magnitude": m})
        for f, v, m in zip(fractions, vip, magnitude, strict=True)
    ]
    store.write_result(results / "vip_seeds", "over-seeds", vip_over_seeds(summaries))


#: Three seeds' VIP fractions inside, outside and across the 0.5–2% band of the "≈ 1%" claim.
VIP_FRACTIONS = [
    ([0.009, 0.011, 0.010], "holds"),
    ([0.05, 0.06, 0.055], "does not hold"),
    ([0.005, 0.035, 0.02], "not resolvable"),
]


@pytest.mark.parametrize(("fractions", "verdict"), VIP_FRACTIONS)
def test_the_vip_fraction_claim_judges_the_seed_mean_interval_against_its_band(
    tmp_path, fractions, verdict
):
    _write_vip_results(tmp_path, fractions)
    rows = {row["quantity"]: row for row in headline(tmp_path, reproduce.settings_for("quick"))}
    row = rows["fraction of VIP recurrent weights"]
    assert row["ours"]["per_seed"] == fractions
    assert row["ours"]["mean"] == pytest.approx(np.mean(fractions))
    assert row["source"] == "vip_seeds.vip_fraction"
    assert row["verdict"] == verdict
    assert row["rule"]["rule"] == "WithinBand" and row["rule"]["low"] == 0.005


@pytest.mark.parametrize(
    ("vip", "magnitude", "verdict"),
    [
        ((0.52, 0.5, 0.48), (0.9, 0.92, 0.88), "holds"),  # the VIPs matter more
        ((0.52, 0.5, 0.48), (0.42, 0.4, 0.38), "does not hold"),  # the strongest matter more
        ((0.52, 0.5, 0.48), (0.6, 0.4, 0.5), "not resolvable"),  # seeds disagree
    ],
)
def test_removing_the_vips_is_judged_against_the_magnitude_control_paired_by_seed(
    tmp_path, vip, magnitude, verdict
):
    _write_vip_results(tmp_path, VIP_FRACTIONS[0][0], vip, magnitude)
    rows = {row["quantity"]: row for row in headline(tmp_path, reproduce.settings_for("quick"))}
    row = rows["removing all VIPs against removing as many of the strongest non-VIPs"]
    difference = row["ours"]["vip_minus_magnitude"]
    assert difference["per_seed"] == pytest.approx(np.subtract(vip, magnitude))
    assert row["verdict"] == verdict, row["reason"]
    assert set(row["ours"]) >= {f"{curve}_removed" for curve in ("magnitude", "random", "uniform")}
    chance = rows["accuracy after removing all VIP weights"]
    assert chance["ours"]["all_vips_removed"]["mean"] == pytest.approx(0.5)
    assert chance["verdict"] == "holds"
    unchanged = rows["accuracy after removing an equal number of random weights"]
    assert unchanged["ours"]["random_minus_intact"]["per_seed"] == [0.0, 0.0, 0.0]
    assert unchanged["verdict"] == "holds"


def test_a_claim_whose_result_is_missing_is_not_tested_and_says_which_file(tmp_path):
    rows = headline(tmp_path, reproduce.settings_for("smoke"))
    assert len(rows) == len(reproduce.CLAIMS)
    for row in rows:
        assert "does not exist" in row["ours"]["missing"]
        assert row["verdict"] == "not tested"


def test_the_markdown_table_has_one_row_per_claim_with_its_verdict(tmp_path):
    _write_vip_results(tmp_path, VIP_FRACTIONS[0][0])
    table = markdown_table(headline(tmp_path, reproduce.settings_for("quick"))).splitlines()
    assert len(table) == 2 + len(reproduce.CLAIMS)
    vip_row = next(line for line in table if line.startswith("| fraction of VIP"))
    assert "| 0.01 [0.00752, 0.0125] (n = 3) |" in vip_row, vip_row
    assert "**holds** (0.01 [0.00752, 0.0125] (n = 3) in [0.005, 0.02])" in vip_row


#: The paired differences (ensemble − BPTT) of three seeds, and the comparison's verdict.
COMPARISONS = [
    ([0.004, 0.0, 0.008], "holds", "within ±0.03"),  # [−0.006, +0.014]
    ([0.10, 0.12, 0.11], "does not hold", "ensemble better"),
    ([-0.10, -0.12, -0.11], "does not hold", "ensemble worse"),
    ([0.05, -0.05, 0.0], "not resolvable", "crosses the ±0.03 margin"),
]


def _write_comparison(results, prefix, differences, bptt=0.8):
    ensemble = mnist_runs("paper", [bptt + d for d in differences])
    baseline = mnist_runs("bptt", [bptt] * len(differences))
    summary = preset_comparison(ensemble, baseline)
    store.write_result(results / f"comparison_{prefix}", "preset-comparison", summary)


@pytest.mark.parametrize(("differences", "verdict", "reason"), COMPARISONS)
def test_ensemble_against_bptt_is_judged_by_its_paired_interval(
    tmp_path, differences, verdict, reason
):
    _write_comparison(tmp_path, "row", differences)
    rows = {row["quantity"]: row for row in headline(tmp_path, reproduce.settings_for("quick"))}
    row = rows["row-MNIST: ensemble − BPTT final test accuracy, paired by seed"]
    assert row["ours"]["n_pairs"] == 3
    assert row["ours"]["mean_difference"] == pytest.approx(np.mean(differences))
    assert (row["verdict"], reason in row["reason"]) == (verdict, True)
    assert row["rule"] == {"rule": "Comparable", "margin": 0.03, "min_pairs": 2}
    table = markdown_table([row])
    assert f"**{verdict}** ({row['reason']})" in table


def test_one_seed_pair_is_not_resolvable_and_a_missing_task_is_not_tested(tmp_path):
    _write_comparison(tmp_path, "pixel", [0.0])
    rows = {row["quantity"]: row for row in headline(tmp_path, reproduce.settings_for("quick"))}
    pixel = rows["pixel-MNIST: ensemble − BPTT final test accuracy, paired by seed"]
    assert pixel["verdict"] == "not resolvable" and "1 seed pair" in pixel["reason"]
    fashion = rows["Fashion-MNIST rows: ensemble − BPTT final test accuracy, paired by seed"]
    assert fashion["verdict"] == "not tested" and "comparison_fashion" in fashion["ours"]["missing"]


@pytest.mark.parametrize(
    ("finals", "n_epochs", "verdict"),
    [
        ([0.62, 0.66, 0.70], 15, "holds"),
        ([0.50, 0.55, 0.60], 15, "does not hold"),
        ([0.70], 15, "not resolvable"),  # the criterion needs 3 seeds
        ([0.62, 0.66, 0.70], 12, "not tested"),  # epoch 15 was never reached
    ],
)
def test_the_pixel_learning_criterion_reads_epoch_15_of_three_seeds(
    tmp_path, finals, n_epochs, verdict
):
    curves = training_curves(mnist_runs("paper", finals, n_epochs=n_epochs))
    store.write_result(tmp_path / "training_pixel", "training-curves", curves)
    rows = {row["quantity"]: row for row in headline(tmp_path, reproduce.settings_for("quick"))}
    row = rows["pixel-MNIST: the ensemble learns by epoch 15"]
    assert row["verdict"] == verdict
    if verdict != "not tested":
        assert row["ours"]["mean"] == pytest.approx(np.mean(finals))
        assert row["rule"] == {"rule": "LearnsBy", "epoch": 15, "threshold": 0.6, "min_seeds": 3}


def test_criteria_state_their_thresholds_in_words():
    assert "±0.03" in Comparable().text and "before the runs" in Comparable().text
    assert "epoch 15" in LearnsBy(15, 0.6, 3).text and "≥ 0.6" in LearnsBy(15, 0.6, 3).text


def _selectivity_summary(mixed, uni, untrained=0.1, shuffled=0.1, p=0.001):
    """One seed's selectivity tests: trained class fractions against both nulls, with the
    p-value ``p`` of every test."""
    trained = {"mixed": mixed, "uni-selective": uni, "non-selective": 1 - mixed - uni}
    statistics = {
        name: {
            "trained": value,
            "untrained": untrained,
            "shuffled_mean": shuffled,
            "p_shuffled": p,
            "p_untrained": p,
        }
        for name, value in {**trained, "mean_sli": 0.3}.items()
    }
    counts = {name: round(150 * value) for name, value in trained.items()}
    return {"counts": {"all": counts}, "null": {"n_permutations": 1000, "statistics": statistics}}


@pytest.mark.parametrize(
    ("seeds", "verdict"),
    [
        ([(0.3, 0.3), (0.35, 0.25), (0.32, 0.28)], "holds"),
        ([(0.1, 0.1), (0.1, 0.1), (0.3, 0.3)], "does not hold"),  # one seed of three passes
        ([(0.3, 0.3), (0.35, 0.25)], "not resolvable"),  # the majority needs three seeds
    ],
)
def test_the_selectivity_claim_counts_seeds_beyond_both_nulls(tmp_path, seeds, verdict):
    summaries = [_selectivity_summary(mixed, uni) for mixed, uni in seeds]
    store.write_result(
        tmp_path / "selectivity_seeds", "over-seeds", selectivity_over_seeds(summaries)
    )
    rows = {row["quantity"]: row for row in headline(tmp_path, reproduce.settings_for("quick"))}
    row = rows["neural selectivity types"]
    passing = [mixed > 0.1 and uni > 0.1 for mixed, uni in seeds]
    assert [v == "holds" for v in row["ours"]["per_seed_verdicts"]] == passing
    assert row["ours"]["trained"]["mixed"]["per_seed"] == [mixed for mixed, _ in seeds]
    assert row["verdict"] == verdict, row["reason"]


def _synaptic_summaries(drift: float, n_seeds=3, n_epochs=20, n=6):
    """The synaptic PCA (with its nulls) of ``n_seeds`` trajectories whose every step is
    ``drift`` along one direction plus a unit-variance random step."""
    summaries = []
    for seed in range(n_seeds):
        rng = np.random.default_rng(seed)
        direction = rng.standard_normal((n, n))
        steps = drift * direction + rng.standard_normal((n_epochs - 1, n, n))
        start = rng.random((n, n))
        path = np.concatenate([start[None], start + np.cumsum(steps, axis=0)])
        snapshots = {"rec.m": path, "rec.pi": np.clip(path / 10 + 0.5, 0, 1), "rec.xi": path**2}
        summaries.append(synaptic_projection(snapshots, seed=seed, n_null=200)[0])
    return summaries


@pytest.mark.parametrize(("drift", "verdict"), [(3.0, "holds"), (0.0, "does not hold")])
def test_the_synaptic_claim_holds_for_a_drift_and_not_for_a_random_walk(tmp_path, drift, verdict):
    summaries = _synaptic_summaries(drift)
    result = {task: synaptic_over_seeds(summaries) for task in ("row_mnist", "msi")}
    store.write_result(tmp_path / "synaptic_seeds", "over-seeds", result)
    rows = {row["quantity"]: row for row in headline(tmp_path, reproduce.settings_for("quick"))}
    row = rows["synaptic-dynamics PCA"]
    assert row["ours"]["msi"]["drift_persistence"]["observed"]["n"] == 3
    assert row["verdict"] == verdict, row["reason"]


def _symmetry_summary(continuous, discrete, last=9):
    """One seed's recurrent-layer ordering epochs (None: never ordered) and its verdict."""
    if continuous is None and discrete is None:
        first = "none"
    elif discrete is None or (continuous is not None and continuous < discrete):
        first = "continuous"
    else:
        first = "discrete"
    rec = {
        "first_to_order": first,
        "continuous_order_epoch": continuous,
        "discrete_order_epoch": discrete,
        "first_to_break": first,
        "continuous_break_epoch": continuous,
        "discrete_break_epoch": discrete,
        "continuous_entropy_change": -1.0,
        "discrete_entropy_change": -0.2,
    }
    return {"epochs": list(range(last + 1)), "layers": {"rec": rec}}


@pytest.mark.parametrize(
    ("epochs", "verdict"),
    [
        ([(2, 5), (6, None), (1, 4)], "holds"),  # the second seed's π never ordered: censored
        ([(5, 2), (6, 3), (1, 4)], "does not hold"),
        ([(2, 5), (6, 3), (1, 4)], "not resolvable"),  # a majority, but the interval spans 0
    ],
)
def test_the_symmetry_claim_reads_the_ordering_of_every_seed(tmp_path, epochs, verdict):
    summaries = [_symmetry_summary(c, d) for c, d in epochs]
    store.write_result(tmp_path / "symmetry_seeds", "over-seeds", symmetry_over_seeds(summaries))
    curves = training_curves(mnist_runs("paper", [0.8, 0.82, 0.81], task="row-mnist"))
    store.write_result(tmp_path / "training_symmetry", "training-curves", curves)
    rows = {row["quantity"]: row for row in headline(tmp_path, reproduce.settings_for("quick"))}
    row = rows["symmetry breaking order"]
    censored = [(10 if d is None else d) - c for c, d in epochs]
    assert row["ours"]["discrete_minus_continuous"]["per_seed"] == censored
    assert row["verdict"] == verdict, row["reason"]


@pytest.mark.parametrize(
    ("pixel", "verdict"),
    [((0.9, 0.92, 0.91), "holds"), ((0.6, 0.62, 0.61), "does not hold")],
)
def test_the_neural_pca_claim_judges_both_tasks_beside_the_untrained_networks(
    tmp_path, pixel, verdict
):
    def over(values):
        trained = [{"variance_3_pcs": v, "n_pcs_80": 2} for v in values]
        untrained = [{"variance_3_pcs": v - 0.1, "n_pcs_80": 4} for v in values]
        return neural_pca_over_seeds(trained, untrained)

    result = {"pixel_mnist": over(pixel), "msi": over((0.95, 0.96, 0.97))}
    store.write_result(tmp_path / "projection_seeds", "over-seeds", result)
    rows = {row["quantity"]: row for row in headline(tmp_path, reproduce.settings_for("quick"))}
    row = rows["PCA of neural dynamics"]
    assert row["ours"]["pixel_mnist_untrained"]["mean"] == pytest.approx(np.mean(pixel) - 0.1)
    assert row["verdict"] == verdict, row["reason"]


@pytest.mark.parametrize(
    ("interval", "verdict"),
    [
        ((0.1, 0.2), "holds"),
        ((-0.3, -0.1), "does not hold"),
        ((0.3, 0.4), "does not hold"),
        ((-0.1, 0.1), "not resolvable"),
        ((None, None), "not resolvable"),
    ],
)
def test_a_band_criterion_goes_either_way_on_the_interval(interval, verdict):
    low, high = interval
    statistic = {"mean": 0.15, "low": low, "high": high, "n": 1 if low is None else 3}
    assert WithinBand("x", 0.0, 0.25).judge(statistic)[0] == verdict


@pytest.mark.parametrize(
    ("n_seeds", "interval", "verdict"),
    [
        (3, [0.84, 0.86], "holds"),
        (3, [0.80, 0.82], "does not hold"),
        (3, [0.82, 0.85], "not resolvable"),
        (2, [0.84, 0.86], "not resolvable"),
        (1, None, "not resolvable"),
    ],
)
def test_the_accuracy_criterion_reads_the_interval_over_seeds(n_seeds, interval, verdict):
    ours = {"n_seeds": n_seeds, "meanfield_95ci": interval, "meanfield": 0.85}
    assert AccuracyAtLeast(0.83).judge(ours)[0] == verdict


@pytest.mark.parametrize(
    ("n_networks", "slope_ci", "verdict"),
    [
        (5, [-1.4, -0.6], "holds"),
        (5, [0.2, 0.9], "does not hold"),
        (5, [-0.8, 0.3], "not resolvable"),
        (2, [-1.4, -0.6], "not resolvable"),
        (1, None, "not resolvable"),
    ],
)
def test_the_width_criterion_reads_the_slope_interval(n_networks, slope_ci, verdict):
    ours = {"n_networks": n_networks, "slope": -1.0, "slope_ci": slope_ci}
    assert FallsWithWidth().judge(ours)[0] == verdict


@pytest.mark.parametrize(("exponent", "verdict"), [(-1.0, "holds"), (0.0, "not resolvable")])
def test_the_slope_interval_finds_a_planted_power_law(exponent, verdict):
    """Per-network values c·N^exponent·(1 + 10% noise), 5 a width: the bootstrap interval of the
    log-log slope contains the planted exponent, and the criterion reads it."""
    rng = np.random.default_rng(3)
    widths = [64, 128, 256, 512]
    values = [0.2 * n**exponent * (1 + 0.1 * rng.standard_normal(5)) for n in widths]
    low, high = slope_interval(widths, values, seed=1)
    assert low < exponent < high and high - low < 0.4
    ours = {"n_networks": 5, "slope": loglog_slope(widths, [v.mean() for v in values])}
    assert FallsWithWidth().judge({**ours, "slope_ci": [low, high]})[0] == verdict
    assert slope_interval(widths, [v[:1] for v in values]) is None
