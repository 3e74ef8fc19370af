"""Analyses of trained runs, over every analysed seed of a task: what the headline claims read
(docs/model.md §6).

Each function takes the per-seed summaries of one analysis, in seed order, and returns the
per-seed values of the numbers a claim reads, their seed means with 95% t-intervals over seeds
(:func:`seed_statistic`, :func:`sims.analyses.training.t_interval`) beside the null or control
of each, and the paired differences (network − its null or control, seed by seed) a claim is
judged on:

* :func:`vip_over_seeds` (Fig. 4): the VIP fraction; the accuracy with all VIPs removed and with
  as many connections removed by each control (:mod:`sims.analyses.vip`), each against the
  intact network and the VIP removal against each control;
* :func:`selectivity_over_seeds` (Fig. 5): the class fractions against the untrained network
  and the condition-shuffled null, and each seed's tests (:mod:`sims.analyses.selectivity`);
* :func:`neural_pca_over_seeds` (Fig. 7): the top-3 variance of the trained network against the
  untrained network on the same trials;
* :func:`synaptic_over_seeds` (Fig. 8): the top-3 variance, the PC1 drift persistence and the
  mean cosine of successive updates against the random-walk and shuffled-increment nulls of each
  run
  (:func:`dynamics.projection.synaptic_null_models`);
* :func:`symmetry_over_seeds` (Fig. 9): the per-seed verdict of
  :func:`dynamics.symmetry.first_to_order` and the ordering epochs of both parts.

Example:
    >>> vip_over_seeds([vip_analysis(run.network(), run.task)[0] for run in runs])  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from dynamics.selectivity import NULL_STATISTICS
from dynamics.symmetry import ORDER_VERDICTS
from sims.analyses.training import INTERVAL_METHOD, t_interval

__all__ = [
    "neural_pca_over_seeds",
    "seed_statistic",
    "selectivity_over_seeds",
    "symmetry_over_seeds",
    "synaptic_over_seeds",
    "vip_over_seeds",
]

#: The removal curves of a VIP summary that does not list its "curves" (schema 1).
_FIRST_CURVES = ("vip", "random")
#: The statistics of the synaptic PCA compared with its nulls (block-scaled trajectory).
SYNAPTIC_STATISTICS = ("variance_3_pcs", "drift_persistence", "mean_successive_cosine")
#: The nulls of the synaptic PCA (:func:`dynamics.projection.synaptic_null_models`).
SYNAPTIC_NULLS = ("random_walk", "shuffled")


def seed_statistic(values) -> dict:
    """The per-seed values (n,) with their mean and 95% t-interval over seeds.

    Returns:
        {"per_seed": [n values], "mean", "low", "high", "sd", "n"} (low = high = sd = None for
        one seed).

    Raises:
        ValueError: no values, or a value that is not finite.
    """
    values = [float(v) for v in values]
    return {"per_seed": values, **t_interval(values)}


def _common(summaries: Sequence) -> dict:
    if not summaries:
        raise ValueError("an analysis over seeds needs the summary of at least one seed.")
    return {"n_seeds": len(summaries), "interval_method": INTERVAL_METHOD}


def vip_over_seeds(summaries: Sequence[Mapping]) -> dict:
    """The VIP fraction and the removal of all VIPs against every control, over seeds.

    Reads, of each seed's :func:`sims.analyses.vip.vip_analysis` summary, the accuracy of every
    curve (its "curves": the VIPs and the controls) at removed fraction p = 1, i.e. with as many
    connections removed as the run has VIPs, and the intact accuracy on the same test batches.

    Returns:
        {"n_seeds", "curves", "n_removed" (per seed), "vip_fraction", "accuracy_intact",
        "accuracy_removed" {curve: statistic}, "removed_minus_intact" {curve: statistic},
        "vip_minus_control" {control: statistic of accuracy(VIPs removed) − accuracy(control)}}.

    Raises:
        ValueError: no summaries, or a removal curve without p = 1.
    """
    common = _common(summaries)
    curves = list(summaries[0].get("curves", _FIRST_CURVES))
    columns = []
    for summary in summaries:
        fractions = list(summary["fractions"])
        if 1.0 not in fractions:
            raise ValueError(
                f"the VIP analysis removed the fractions {fractions}; the claims read p = 1 "
                "(all VIPs): add 1.0 to vip_fractions."
            )
        columns.append(fractions.index(1.0))
    removed = {
        curve: [s[f"accuracy_{curve}_mean"][k] for s, k in zip(summaries, columns, strict=True)]
        for curve in curves
    }
    intact = [summary["accuracy_intact"] for summary in summaries]
    return {
        **common,
        "curves": curves,
        "n_removed": [s["n_removed"][k] for s, k in zip(summaries, columns, strict=True)],
        "vip_fraction": seed_statistic([summary["vip_fraction"] for summary in summaries]),
        "accuracy_intact": seed_statistic(intact),
        "accuracy_removed": {curve: seed_statistic(removed[curve]) for curve in curves},
        "removed_minus_intact": {
            curve: seed_statistic(np.subtract(removed[curve], intact)) for curve in curves
        },
        "vip_minus_control": {
            curve: seed_statistic(np.subtract(removed["vip"], removed[curve]))
            for curve in curves
            if curve != "vip"
        },
    }


def _null_tests(null: Mapping) -> dict:
    """One seed's selectivity tests: per statistic the trained and untrained values, the
    shuffled null's mean and both p-values; and the number of shuffles."""
    keys = ("trained", "untrained", "shuffled_mean", "p_shuffled", "p_untrained")
    return {
        "n_permutations": null["n_permutations"],
        **{name: {k: entry[k] for k in keys} for name, entry in null["statistics"].items()},
    }


def selectivity_over_seeds(summaries: Sequence[Mapping]) -> dict:
    """Class fractions and mean SLI of the trained networks against their nulls, over seeds.

    Returns:
        {"n_seeds", "per_seed": [{"counts": {class: units}, "null": the seed's tests}],
        "trained", "untrained", "shuffled_mean": {statistic: statistic over seeds},
        "trained_minus_untrained", "trained_minus_shuffled": {statistic: paired statistic}},
        statistics of :data:`dynamics.selectivity.NULL_STATISTICS` (class fractions, mean SLI).
    """
    common = _common(summaries)
    tests = [_null_tests(summary["null"]) for summary in summaries]

    def over(key):
        return {name: seed_statistic([t[name][key] for t in tests]) for name in NULL_STATISTICS}

    trained = {name: np.array([t[name]["trained"] for t in tests]) for name in NULL_STATISTICS}
    return {
        **common,
        "per_seed": [
            {"counts": summary["counts"]["all"], "null": test}
            for summary, test in zip(summaries, tests, strict=True)
        ],
        "trained": over("trained"),
        "untrained": over("untrained"),
        "shuffled_mean": over("shuffled_mean"),
        "trained_minus_untrained": {
            name: seed_statistic(trained[name] - [t[name]["untrained"] for t in tests])
            for name in NULL_STATISTICS
        },
        "trained_minus_shuffled": {
            name: seed_statistic(trained[name] - [t[name]["shuffled_mean"] for t in tests])
            for name in NULL_STATISTICS
        },
    }


def neural_pca_over_seeds(trained: Sequence[Mapping], untrained: Sequence[Mapping]) -> dict:
    """Top-3 variance of the neural trajectories of the trained networks and of the same
    networks before training on the same trials (:func:`sims.analyses.projection.
    neural_projection` summaries, seed by seed).

    Returns:
        {"n_seeds", "variance_3_pcs", "untrained_variance_3_pcs", "trained_minus_untrained"
        (statistics over seeds), "n_pcs_80", "untrained_n_pcs_80" (per seed)}.
    """
    common = _common(trained)
    if len(untrained) != len(trained):
        raise ValueError(f"{len(trained)} trained but {len(untrained)} untrained summaries.")
    ours = np.array([s["variance_3_pcs"] for s in trained])
    control = np.array([s["variance_3_pcs"] for s in untrained])
    return {
        **common,
        "variance_3_pcs": seed_statistic(ours),
        "untrained_variance_3_pcs": seed_statistic(control),
        "trained_minus_untrained": seed_statistic(ours - control),
        "n_pcs_80": [s["n_pcs_80"] for s in trained],
        "untrained_n_pcs_80": [s["n_pcs_80"] for s in untrained],
    }


def synaptic_over_seeds(summaries: Sequence[Mapping]) -> dict:
    """The synaptic PCA's statistics (:data:`SYNAPTIC_STATISTICS`) against its nulls, over seeds
    (:func:`sims.analyses.projection.synaptic_projection` summaries).

    For each statistic of :data:`SYNAPTIC_STATISTICS` and null of :data:`SYNAPTIC_NULLS`: the
    null's mean (statistic over seeds) and its 97.5th percentile per seed, how many seeds lie
    above that percentile, and the paired difference observed − null mean.

    Returns:
        {"n_seeds", "n_epochs" (per seed), "drift_velocity_per_epoch" (statistic), and per
        statistic {"observed": statistic, "<null>": {"mean", "high" (per seed), "n_above_high",
        "observed_minus_mean"}}}.

    Raises:
        ValueError: a run with fewer than three snapshots (no nulls).
    """
    common = _common(summaries)
    short = [s["n_epochs"] for s in summaries if s.get("nulls") is None]
    if short:
        raise ValueError(f"runs with {short} snapshots have no synaptic nulls; they need >= 3.")
    out = {
        **common,
        "n_epochs": [s["n_epochs"] for s in summaries],
        "drift_velocity_per_epoch": seed_statistic(
            [s["drift_velocity_per_epoch"] for s in summaries]
        ),
    }
    for key in SYNAPTIC_STATISTICS:
        observed = np.array([s[key] for s in summaries])
        entry = {"observed": seed_statistic(observed)}
        for null in SYNAPTIC_NULLS:
            mean = np.array([s["nulls"][null][key]["mean"] for s in summaries])
            high = np.array([s["nulls"][null][key]["high"] for s in summaries])
            entry[null] = {
                "mean": seed_statistic(mean),
                "high": high.tolist(),
                "n_above_high": int(np.sum(observed > high)),
                "observed_minus_mean": seed_statistic(observed - mean),
            }
        out[key] = entry
    return out


def symmetry_over_seeds(summaries: Sequence[Mapping], layer: str = "rec") -> dict:
    """Which symmetry orders first in ``layer``, seed by seed, and by how many epochs
    (:func:`sims.analyses.symmetry.symmetry_analysis` summaries).

    The ordering epochs are those :func:`dynamics.symmetry.first_to_order` compares. A part that
    never ordered is censored at one epoch past the last snapshot (the earliest it could order),
    so that every seed has a difference discrete − continuous: a lower bound when only the
    discrete part never ordered, an upper bound when only the continuous part did not.

    Returns:
        {"n_seeds", "layer", "first_to_order" (per seed), "verdict_counts" {verdict: seeds},
        "continuous_order_epoch", "discrete_order_epoch" (per seed, None: never),
        "censored_at" (per seed), "discrete_minus_continuous" (statistic of the censored
        differences), "first_to_break", "continuous_break_epoch", "discrete_break_epoch" (per
        seed), "continuous_entropy_change", "discrete_entropy_change" (statistics)}.
    """
    common = _common(summaries)
    entries = [summary["layers"][layer] for summary in summaries]
    censored_at = [summary["epochs"][-1] + 1 for summary in summaries]

    def censored(epoch, bound):
        return bound if epoch is None else epoch

    differences = [
        censored(e["discrete_order_epoch"], bound) - censored(e["continuous_order_epoch"], bound)
        for e, bound in zip(entries, censored_at, strict=True)
    ]
    verdicts = [e["first_to_order"] for e in entries]

    def per_seed(key):
        return [e[key] for e in entries]

    return {
        **common,
        "layer": layer,
        "first_to_order": verdicts,
        "verdict_counts": {verdict: verdicts.count(verdict) for verdict in ORDER_VERDICTS},
        "continuous_order_epoch": per_seed("continuous_order_epoch"),
        "discrete_order_epoch": per_seed("discrete_order_epoch"),
        "censored_at": censored_at,
        "discrete_minus_continuous": seed_statistic(differences),
        "first_to_break": per_seed("first_to_break"),
        "continuous_break_epoch": per_seed("continuous_break_epoch"),
        "discrete_break_epoch": per_seed("discrete_break_epoch"),
        "continuous_entropy_change": seed_statistic(per_seed("continuous_entropy_change")),
        "discrete_entropy_change": seed_statistic(per_seed("discrete_entropy_change")),
    }
