"""Emergent single-unit selectivity of a trained multisensory network, beside its nulls (paper
Fig. 5).

Protocol (documented choices where the paper is open, docs/official-code.md §2; docs/model.md §4,
"Selectivity"):

* conditions N_s = 4: visual 14 Hz, visual 11 Hz, auditory 14 Hz, auditory 11 Hz (Fig. 5 legend),
  test trials at dt = 0.5 ms (α = 0.005; fixation 500, stimulus 1000, decision 300 ms: 3,600
  steps), with the task's input noise and the private noise σ_rec of the run (the official test
  keeps both, docs/official-code.md §1 item 11);
* network pass: the mean-field pass with fresh ε (as ``sub_tasks.py``), ``n_repeats`` trials per
  condition (10);
* response of a trial: its rate averaged over the stimulus + decision window, steps
  [1000, 3600); r_{i,s} is the mean over the trials of condition s
  (:func:`dynamics.window_responses` of the trial-averaged rates);
* SLI and classes of :func:`dynamics.classify_selectivity` (non-selective: silent, SLI < 0.1 or
  responding to all four conditions; uni-selective: exactly one condition reaches half the unit's
  peak response; mixed: 2 or 3 do), on raw rates: the paper's SLI implies no baseline
  subtraction, and none is made (:mod:`dynamics.selectivity`);
* counts per input group: auditory (units 0–49), visual (50–99), neither (100–149), read from the
  structural input mask.

Nulls, because a threshold rule sorts almost any varied ReLU population into all three classes:

* the untrained network: the same run at epoch 0 (its stored snapshot, or rebuilt from the run's
  seed), on the same trials with the same noise draws; compared unit by unit
  (:func:`dynamics.selectivity.paired_selectivity_test`: McNemar's exact test per class,
  Wilcoxon's signed-rank test of the SLI);
* the condition-shuffled control: the condition labels permuted across the 4·``n_repeats``
  trials before the rule, ``n_permutations`` times
  (:func:`dynamics.selectivity.shuffled_selectivity`: the null distribution of every class
  fraction and of the mean SLI, two-sided permutation p-values), for both networks.

Example units: for each class the non-silent unit of that class with the largest peak response.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from dynamics.network import SaSNetwork
from dynamics.selectivity import (
    MIN_SLI,
    NULL_STATISTICS,
    RESPONSE_FRACTION,
    SELECTIVITY_CLASSES,
    SILENT_RATE,
    classify_selectivity,
    paired_selectivity_test,
    selectivity_counts,
    shuffled_selectivity,
    window_responses,
)
from sims.analyses.common import mean_field_segments, msi_input_groups, network_pass, pass_draws
from sims.tasks import MultisensoryTask

__all__ = [
    "CONDITIONS",
    "N_PERMUTATIONS",
    "ConditionTrials",
    "condition_trials",
    "response_window",
    "selectivity_analysis",
    "untrained_network",
]

#: The four conditions of Fig. 5: (name, modality index into MODALITIES, frequency in Hz).
CONDITIONS = (
    ("visual_14Hz", 0, 14.0),
    ("visual_11Hz", 0, 11.0),
    ("auditory_14Hz", 1, 14.0),
    ("auditory_11Hz", 1, 11.0),
)
#: Condition shuffles of the null (the smallest permutation p-value is 1/1001).
N_PERMUTATIONS = 1000


class ConditionTrials(NamedTuple):
    """The test trials of one network under the N_s conditions.

    Attributes:
        rates: (T+1, N_s, N) rates averaged over the trials of each condition, r[0] the initial
            state.
        responses: (N_s, R, N) each trial's rate averaged over the response window.
    """

    rates: np.ndarray
    responses: np.ndarray


def response_window(task: MultisensoryTask, dt: float) -> tuple[int, int]:
    """The stimulus + decision window as rate indices [t0, t1) at step ``dt`` (r[t+1] is the rate
    after step t, so steps [s0, s1) are rates [s0 + 1, s1 + 1))."""
    epochs = task.epoch_steps("test", dt)
    return epochs["stimulus"][0] + 1, epochs["decision"][1] + 1


def condition_trials(
    net: SaSNetwork,
    task: MultisensoryTask,
    rng: np.random.Generator,
    conditions=CONDITIONS,
    n_repeats: int = 10,
    mode: str = "meanfield",
    test_dt: float | None = None,
    window: tuple[int, int] | None = None,
) -> ConditionTrials:
    """Trial-averaged rates per condition, and every trial's window response, at the test step.

    The ``len(conditions) × n_repeats`` trials run as one batch (on both cores); mean-field
    passes run in time segments (:func:`sims.analyses.common.mean_field_segments`), so only the
    (T+1, N_s, N) means and the (B, N) window sums are kept, not the rates of every trial.

    Args:
        net: the network (its α is replaced by test_dt/τ).
        task: the multisensory task.
        rng: Generator of the input noise, then ε and private noise.
        conditions: sequence of (name, modality index, frequency).
        n_repeats: trials per condition.
        mode: network pass (:data:`sims.evaluate.EVALUATION_MODES`).
        test_dt: step in ms (default ``task.test_dt``).
        window: (t0, t1) rate indices of the response window (default
            :func:`response_window`).

    Returns:
        :class:`ConditionTrials`.
    """
    if int(n_repeats) < 1:
        raise ValueError(f"n_repeats must be >= 1, got {n_repeats}")
    n_repeats, n_conditions = int(n_repeats), len(conditions)
    dt = task.test_dt if test_dt is None else float(test_dt)
    t0, t1 = response_window(task, dt) if window is None else (int(w) for w in window)
    test_net = task.test_network(net, dt)
    modality = np.repeat([c[1] for c in conditions], n_repeats)
    frequency = np.repeat([c[2] for c in conditions], n_repeats)
    batch = task.condition_batch(rng, modality, frequency, phase="test", dt=dt)
    if not 0 <= t0 < t1 <= batch.x.shape[0] + 1:
        raise ValueError(
            f"window ({t0}, {t1}) must satisfy 0 <= t0 < t1 <= T + 1 = {batch.x.shape[0] + 1}"
        )
    window_sums = np.zeros((modality.size, test_net.n_rec))

    def add(r, first):  # rates r at indices first, first + 1, ...: (steps, B, N)
        lo, hi = max(t0, first), min(t1, first + r.shape[0])
        if lo < hi:
            window_sums[:] += r[lo - first : hi - first].sum(axis=0)
        return r.reshape(r.shape[0], n_conditions, n_repeats, -1).mean(axis=2)

    if mode not in ("meanfield", "meanfield_eps0"):
        rates = add(network_pass(test_net, batch.x, mode, rng, True)[1], 0)
    else:  # the draws of network_pass; the pass in time segments, keeping only the means
        x = np.asarray(batch.x, dtype=test_net.dtype)
        noise, eps, _ = pass_draws(test_net, x.shape[0], x.shape[1], mode, rng)
        rates = np.empty((x.shape[0] + 1, n_conditions, test_net.n_rec))
        for first, trace in mean_field_segments(test_net, x, eps, noise):
            if first == 0:
                rates[0] = add(trace.r[:1], 0)[0]
            rates[first + 1 : first + trace.r.shape[0]] = add(trace.r[1:], first + 1)
    responses = (window_sums / (t1 - t0)).reshape(n_conditions, n_repeats, -1)
    return ConditionTrials(rates, responses)


def untrained_network(run) -> tuple[SaSNetwork, str]:
    """The run's network before training, and where it came from.

    The epoch-0 snapshot when the run stored one; otherwise the initial network rebuilt from the
    run's seed (:func:`sims.runs.build_network` on the first of
    :func:`sims.runs.seeded_streams`, as training does).

    Args:
        run: a :class:`sims.runs.Run`.

    Returns:
        (network, "snapshot of epoch 0" or "rebuilt from the run's seed").
    """
    if 0 in run.snapshots.epochs:
        return run.network(epoch=0), "snapshot of epoch 0"
    from sims.runs import build_network, seeded_streams

    initial = seeded_streams(run.config["seed"])[0]
    return build_network(run.config, run.task, initial), "rebuilt from the run's seed"


def _example_units(responses, classes) -> dict:
    peak = responses.max(axis=1)
    examples = {}
    for name in SELECTIVITY_CLASSES:
        members = np.flatnonzero((classes["labels"] == name) & ~classes["silent"])
        examples[name] = int(members[np.argmax(peak[members])]) if members.size else None
    return examples


def _shuffle_summary(shuffled: dict) -> dict:
    """Per statistic: the shuffled null's mean and 95% range, and the observed value's p."""
    return {
        name: {
            "observed": shuffled["observed"][name],
            "shuffled_mean": float(np.mean(shuffled["null"][name])),
            "shuffled_95": np.percentile(shuffled["null"][name], [2.5, 97.5]).tolist(),
            "p_shuffled": shuffled["p_value"][name],
        }
        for name in NULL_STATISTICS
    }


def selectivity_analysis(
    net: SaSNetwork,
    task: MultisensoryTask,
    *,
    untrained: SaSNetwork | None = None,
    untrained_source: str = "given",
    seed: int = 0,
    n_repeats: int = 10,
    n_permutations: int = N_PERMUTATIONS,
    mode: str = "meanfield",
    test_dt: float | None = None,
    window: tuple[int, int] | None = None,
    min_sli: float = MIN_SLI,
    response_fraction: float = RESPONSE_FRACTION,
    silent_rate: float = SILENT_RATE,
    trace_stride: int = 10,
    trials: tuple[ConditionTrials, ConditionTrials] | None = None,
) -> tuple[dict, dict]:
    """SLI, classes and counts per input group of the trained network, beside its two nulls
    (paper Fig. 5; module docstring).

    Random numbers: ``SeedSequence(seed)`` gives two streams; the first makes the trials (input
    noise, then ε and ξ) and is replayed for the untrained network, so both networks see the
    same trials and draws; the second makes the condition shuffles.

    Args:
        net, task: the trained multisensory network and its task.
        untrained: the same network before training (:func:`untrained_network`); needed unless
            ``trials`` is given.
        untrained_source: where ``untrained`` came from (stored in the summary).
        seed: seeds the test noise and the shuffles.
        n_repeats, mode, test_dt: see :func:`condition_trials`; the shuffled null needs
            n_repeats >= 2.
        n_permutations: condition shuffles of the null.
        window: (t0, t1) rate indices of the response window; default stimulus + decision.
        min_sli, response_fraction, silent_rate: classification thresholds.
        trace_stride: time stride of the all-unit traces saved to the npz.
        trials: optional precomputed (trained, untrained) :class:`ConditionTrials` (skips the
            simulation; tests).

    Returns:
        (summary, arrays). summary: conditions, window, thresholds, counts {group: {class: n}}
        (groups auditory, visual, neither and "all"), classes_found, sli (N,), labels (N,),
        groups (N,), example_units {class: unit or None}, evaluation; "untrained" (source,
        counts, sli, labels); "null" (n_permutations, trials_per_condition, the tests in words,
        and per statistic of :data:`dynamics.selectivity.NULL_STATISTICS` the trained and
        untrained values, the shuffled null's mean and 95% range for each network, the
        permutation p-values and the paired trained-against-untrained p-value). arrays:
        responses (N, 4), sli, responses_untrained, sli_untrained, null_<statistic> (K,) of
        both networks' shuffles, traces (T'/stride, 4, N), example_traces_<class> (T+1, 4) at
        full resolution, time_ms.

    Raises:
        ValueError: no untrained network and no trials; n_repeats < 2 (see
            :func:`dynamics.selectivity.shuffled_selectivity`).
    """
    dt = task.test_dt if test_dt is None else float(test_dt)
    window = response_window(task, dt) if window is None else tuple(int(w) for w in window)
    trial_seed, shuffle_seed = np.random.SeedSequence(seed).spawn(2)
    if trials is None:
        if untrained is None:
            raise ValueError(
                "selectivity_analysis needs the untrained network for its null: pass "
                "untrained=untrained_network(run)[0]."
            )
        trials = tuple(
            condition_trials(
                network,
                task,
                np.random.default_rng(trial_seed),
                CONDITIONS,
                n_repeats,
                mode,
                dt,
                window,
            )
            for network in (net, untrained)
        )
    trained_trials, untrained_trials = trials
    thresholds = (min_sli, response_fraction, silent_rate)
    rates = np.asarray(trained_trials.rates, dtype=float)
    responses = window_responses(rates, window)
    untrained_responses = window_responses(untrained_trials.rates, window)
    classes = classify_selectivity(responses, *thresholds)
    untrained_classes = classify_selectivity(untrained_responses, *thresholds)
    groups = msi_input_groups(task, net.n_rec)
    counts = selectivity_counts(classes["labels"], groups)

    shuffle_rng = np.random.default_rng(shuffle_seed)
    shuffled = shuffled_selectivity(
        trained_trials.responses, n_permutations, shuffle_rng, *thresholds
    )
    untrained_shuffled = shuffled_selectivity(
        untrained_trials.responses, n_permutations, shuffle_rng, *thresholds
    )
    paired = paired_selectivity_test(classes, untrained_classes)
    trained_null, untrained_null = _shuffle_summary(shuffled), _shuffle_summary(untrained_shuffled)
    statistics = {}
    for name in NULL_STATISTICS:
        pair = paired["sli"] if name == "mean_sli" else paired[name]
        statistics[name] = {
            "trained": trained_null[name]["observed"],
            "untrained": untrained_null[name]["observed"],
            "shuffled_mean": trained_null[name]["shuffled_mean"],
            "shuffled_95": trained_null[name]["shuffled_95"],
            "p_shuffled": trained_null[name]["p_shuffled"],
            "p_untrained": pair["p_value"],
            "untrained_shuffled_mean": untrained_null[name]["shuffled_mean"],
            "untrained_shuffled_95": untrained_null[name]["shuffled_95"],
            "untrained_p_shuffled": untrained_null[name]["p_shuffled"],
        }

    examples = _example_units(responses, classes)
    arrays = {
        f"example_traces_{name.replace('-', '_')}": rates[:, :, unit]
        for name, unit in examples.items()
        if unit is not None
    }
    time_ms = np.arange(rates.shape[0]) * dt
    arrays.update(
        {
            "responses": responses,
            "sli": classes["sli"],
            "responses_untrained": untrained_responses,
            "sli_untrained": untrained_classes["sli"],
            **{f"null_{k.replace('-', '_')}": v for k, v in shuffled["null"].items()},
            **{
                f"untrained_null_{k.replace('-', '_')}": v
                for k, v in untrained_shuffled["null"].items()
            },
            "traces": rates[::trace_stride],
            "time_ms": time_ms,
            "trace_time_ms": time_ms[::trace_stride],
        }
    )
    summary = {
        "conditions": [name for name, _, _ in CONDITIONS],
        "window_steps": [int(window[0]), int(window[1])],
        "window_ms": [window[0] * dt, window[1] * dt],
        "thresholds": {
            "min_sli": min_sli,
            "response_fraction": response_fraction,
            "silent_rate": silent_rate,
        },
        "baseline_subtraction": "none: the paper's SLI is a ratio of raw, non-negative rates",
        "counts": counts,
        "classes_found": [c for c in SELECTIVITY_CLASSES if counts["all"][c] > 0],
        "n_silent": int(classes["silent"].sum()),
        "sli": classes["sli"].tolist(),
        "labels": classes["labels"].tolist(),
        "groups": groups.tolist(),
        "example_units": examples,
        "untrained": {
            "source": untrained_source,
            "counts": selectivity_counts(untrained_classes["labels"], groups),
            "n_silent": int(untrained_classes["silent"].sum()),
            "sli": untrained_classes["sli"].tolist(),
            "labels": untrained_classes["labels"].tolist(),
        },
        "null": {
            "n_permutations": shuffled["n_permutations"],
            "tests": {
                "p_shuffled": "two-sided permutation test against condition labels shuffled "
                "across trials (scipy.stats.permutation_test)",
                "p_untrained": "trained against untrained, paired by unit: McNemar's exact "
                "test per class (scipy.stats.binomtest), Wilcoxon's signed-rank test for the "
                "SLI (scipy.stats.wilcoxon); two-sided",
            },
            "statistics": statistics,
        },
        "evaluation": {
            "mode": mode,
            "n_repeats": int(trained_trials.responses.shape[1]),
            "seed": int(seed),
            "test_dt": dt,
        },
    }
    return summary, arrays
