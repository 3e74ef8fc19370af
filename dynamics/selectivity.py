"""Single-unit selectivity: the selectivity index and the mixed / uni / non-selective split.

paper Fig. 5. For unit i with responses r_{i,s} ≥ 0 to N_s stimulus conditions,

    SLI(i) = [1 - ((1/N_s) Σ_s r_{i,s})² / ((1/N_s) Σ_s r_{i,s}²)] / (1 - 1/N_s),

0 for equal responses to all conditions, 1 for a response to exactly one. A unit responding
equally to exactly k of the N_s conditions has SLI = (N_s - k)/(N_s - 1): for N_s = 4 this is
1, 2/3, 1/3 and 0 for k = 1, 2, 3, 4.

Responses r_{i,s} are time averages of the rate over a window of steps (:func:`window_responses`);
the window is the caller's choice (the paper leaves it open, docs/official-code.md §2). For the MSI
test trials at
dt = 0.5 ms (fixation 500 ms, stimulus 1000 ms, decision 300 ms) the natural window is the stimulus
period plus the decision period, steps [1000, 3600).

Classification (documented thresholds, all configurable):

* non-selective: a silent unit (max_s r_{i,s} <= ``silent_rate``), or SLI < ``min_sli`` (0.1),
  or a unit that responds to every condition;
* uni-selective: responds to exactly one condition;
* mixed: responds to more than one but not all conditions;

where unit i "responds" to condition s if r_{i,s} >= ``response_fraction`` (½) × max_s r_{i,s}.
Silent units get SLI = 0, never NaN.

Baseline: the paper's SLI is a ratio of raw (non-negative) rates, so its rule implies no baseline
subtraction, and none is made: a response relative to a pre-stimulus baseline can be negative,
where the index is undefined. A unit with a large tonic rate therefore gets a small SLI (the rule
is conservative for it).

Nulls (a threshold rule sorts almost any varied population into all three classes, so the class
fractions mean something only beside a null):

* :func:`shuffled_selectivity`: the condition labels permuted across trials before the rule
  (``scipy.stats.permutation_test``, the same permutations for every statistic), so that
  responses differ between "conditions" by trial-to-trial noise only;
* :func:`paired_selectivity_test`: the same units in another network (e.g. the untrained one),
  unit by unit: McNemar's exact test per class and Wilcoxon's signed-rank test of the SLI.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

MIXED = "mixed"
UNI_SELECTIVE = "uni-selective"
NON_SELECTIVE = "non-selective"
#: The three classes, in reporting order.
SELECTIVITY_CLASSES = (MIXED, UNI_SELECTIVE, NON_SELECTIVE)

#: Units with SLI below this are non-selective (equal responses give 0; with N_s = 4, one
#: preferred condition 1.79 times the other three, (1.79, 1, 1, 1), gives 0.1).
MIN_SLI = 0.1
#: A condition counts as driving the unit if its response reaches this fraction of the unit's
#: largest response.
RESPONSE_FRACTION = 0.5
#: A unit whose largest time-averaged rate is at or below this is silent (rate units of r).
SILENT_RATE = 1e-6


def window_responses(rates, window: tuple[int, int]) -> np.ndarray:
    """Time-averaged responses per unit and condition over a window of steps.

    r_{i,s} = (1/(t1 - t0)) Σ_{t=t0}^{t1-1} rates[t, s, i].

    Args:
        rates: (T, N_s, N) rates, time-major, one trial (or trial average) per condition.
        window: (t0, t1) step indices, half-open [t0, t1), 0 <= t0 < t1 <= T.

    Returns:
        (N, N_s) responses (units × conditions).

    Raises:
        ValueError: on a non-3-D or non-finite ``rates`` array or an empty/out-of-range window.
    """
    rates = np.asarray(rates, dtype=float)
    if rates.ndim != 3:
        raise ValueError(f"rates must be (T, conditions, units), got shape {rates.shape}")
    if not np.all(np.isfinite(rates)):
        raise ValueError("rates contain NaN or inf")
    t0, t1 = (int(t) for t in window)
    if not 0 <= t0 < t1 <= rates.shape[0]:
        raise ValueError(f"window {window} must satisfy 0 <= t0 < t1 <= T = {rates.shape[0]}")
    return rates[t0:t1].mean(axis=0).T


def _check_responses(responses) -> np.ndarray:
    r = np.asarray(responses, dtype=float)
    if r.ndim != 2 or r.shape[1] < 2:
        raise ValueError(
            f"responses must be (units, conditions) with at least 2 conditions, got {r.shape}"
        )
    if not np.all(np.isfinite(r)):
        raise ValueError("responses contain NaN or inf")
    if np.any(r < 0.0):
        raise ValueError("responses must be non-negative rates (the SLI assumes r >= 0)")
    return r


def selectivity_index(responses) -> np.ndarray:
    """SLI(i) = [1 - ⟨r_i⟩² / ⟨r_i²⟩] / (1 - 1/N_s), averages over conditions (paper Fig. 5).

    Args:
        responses: (N, N_s) non-negative responses, N_s >= 2.

    Returns:
        (N,) indices in [0, 1]; 0 for silent units.

    Raises:
        ValueError: on a wrong shape, NaN or negative responses.
    """
    r = _check_responses(responses)
    n_conditions = r.shape[1]
    mean = r.mean(axis=1)
    mean_square = (r**2).mean(axis=1)
    safe = np.where(mean_square > 0.0, mean_square, 1.0)
    sli = np.where(mean_square > 0.0, (1.0 - mean**2 / safe) / (1.0 - 1.0 / n_conditions), 0.0)
    return np.clip(sli, 0.0, 1.0)


def classify_selectivity(
    responses,
    min_sli: float = MIN_SLI,
    response_fraction: float = RESPONSE_FRACTION,
    silent_rate: float = SILENT_RATE,
) -> dict:
    """Split units into mixed, uni-selective and non-selective (module docstring rules).

    Args:
        responses: (N, N_s) non-negative responses.
        min_sli: SLI below which a unit is non-selective.
        response_fraction: fraction of the unit's maximum that a condition must reach to count.
        silent_rate: maximum response at or below which a unit is silent.

    Returns:
        {"sli": (N,), "labels": (N,) str array of SELECTIVITY_CLASSES, "n_responsive": (N,) int
         (0 for silent units), "silent": (N,) bool}.

    Raises:
        ValueError: see :func:`selectivity_index`; also for response_fraction outside (0, 1].
    """
    if not 0.0 < response_fraction <= 1.0:
        raise ValueError(f"response_fraction must lie in (0, 1], got {response_fraction}")
    r = _check_responses(responses)
    sli = selectivity_index(r)
    peak = r.max(axis=1)
    silent = peak <= silent_rate
    n_responsive = np.where(silent, 0, np.sum(r >= response_fraction * peak[:, None], axis=1))
    labels = np.full(r.shape[0], MIXED, dtype=object)
    labels[n_responsive == 1] = UNI_SELECTIVE
    labels[silent | (sli < min_sli) | (n_responsive == r.shape[1])] = NON_SELECTIVE
    return {
        "sli": sli,
        "labels": labels.astype(str),
        "n_responsive": n_responsive.astype(int),
        "silent": silent,
    }


def selectivity_counts(labels, groups=None) -> dict:
    """Number of units of each selectivity class, per group of units and overall.

    Args:
        labels: (N,) labels from :func:`classify_selectivity`.
        groups: (N,) group label per unit (e.g. the MSI input groups 0, 1, 2), or None.

    Returns:
        {group: {class: count}} for every group (sorted), plus the key "all".

    Raises:
        ValueError: if ``groups`` does not have one entry per unit or a label is unknown.
    """
    labels = np.asarray(labels).astype(str)
    unknown = set(labels.tolist()) - set(SELECTIVITY_CLASSES)
    if unknown:
        raise ValueError(
            f"unknown selectivity labels {sorted(unknown)}; expected {SELECTIVITY_CLASSES}"
        )

    def count(selected):
        return {c: int(np.sum(selected == c)) for c in SELECTIVITY_CLASSES}

    counts = {}
    if groups is not None:
        groups = np.asarray(groups)
        if groups.shape != labels.shape:
            raise ValueError(f"groups has shape {groups.shape}, expected {labels.shape}")
        for g in np.unique(groups):
            counts[g.item()] = count(labels[groups == g])
    counts["all"] = count(labels)
    return counts


#: The statistics of the nulls: the fraction of units in each class, and the mean SLI.
NULL_STATISTICS = (*SELECTIVITY_CLASSES, "mean_sli")


def _statistics(responses, min_sli, response_fraction, silent_rate) -> dict[str, float]:
    classes = classify_selectivity(responses, min_sli, response_fraction, silent_rate)
    fractions = {c: float(np.mean(classes["labels"] == c)) for c in SELECTIVITY_CLASSES}
    return {**fractions, "mean_sli": float(classes["sli"].mean())}


def shuffled_selectivity(
    trial_responses,
    n_permutations: int,
    rng: np.random.Generator,
    min_sli: float = MIN_SLI,
    response_fraction: float = RESPONSE_FRACTION,
    silent_rate: float = SILENT_RATE,
) -> dict:
    """Class fractions and mean SLI against the condition-shuffled null.

    The N_s·R trials are dealt to the N_s conditions at random (all units of a trial move
    together), the responses averaged per condition, r_{i,s} = (1/R) Σ_{trials of s} r_i, and
    the classification rule applied. The p-value of each statistic is two-sided,
    min(1, 2·min(P(null ≥ observed), P(null ≤ observed))), from ``scipy.stats.permutation_test``
    (randomized with ``n_permutations`` resamples and the +1 correction, or exact when there are
    no more distinct deals than that). The classification does not depend on the order of the
    conditions, so with one trial per condition every deal would give the observed value: the
    null needs R >= 2.

    Args:
        trial_responses: (N_s, R, N) non-negative responses of every trial (R trials per
            condition, N units).
        n_permutations: resamples of the randomized test, >= 1.
        rng: Generator of the permutations (one seed drawn from it; every statistic sees the
            same permutations).
        min_sli, response_fraction, silent_rate: the thresholds of :func:`classify_selectivity`.

    Returns:
        {"observed": {statistic: value}, "null": {statistic: (K,) array}, "p_value":
        {statistic: p}, "n_permutations": K} for the statistics of :data:`NULL_STATISTICS`.

    Raises:
        ValueError: ``trial_responses`` not 3-D, negative or non-finite, or with fewer than 2
            trials per condition; n_permutations < 1.
    """
    trials = np.asarray(trial_responses, dtype=float)
    if trials.ndim != 3:
        raise ValueError(
            f"trial_responses must be (conditions, trials, units), got shape {trials.shape}"
        )
    if int(n_permutations) < 1:
        raise ValueError(f"n_permutations must be >= 1, got {n_permutations}")
    if not np.all(np.isfinite(trials)) or np.any(trials < 0.0):
        raise ValueError("trial_responses must be finite, non-negative rates")
    n_conditions, n_repeats, n_units = trials.shape
    if n_repeats < 2:
        raise ValueError(
            f"the condition-shuffled null needs at least 2 trials per condition, got "
            f"{n_repeats} (with one, a shuffle only renames the conditions); run more trials"
        )
    pooled = trials.reshape(n_conditions * n_repeats, n_units)
    thresholds = (min_sli, response_fraction, silent_rate)
    seed = int(rng.integers(2**63))
    groups = [np.arange(s * n_repeats, (s + 1) * n_repeats) for s in range(n_conditions)]
    out = {"observed": {}, "null": {}, "p_value": {}}
    for name in NULL_STATISTICS:

        def statistic(*indices, name=name):
            responses = np.stack([pooled[np.asarray(i, dtype=int)].mean(axis=0) for i in indices])
            return _statistics(responses.T, *thresholds)[name]

        test = stats.permutation_test(
            groups,
            statistic,
            permutation_type="independent",
            vectorized=False,
            n_resamples=int(n_permutations),
            alternative="two-sided",
            rng=np.random.default_rng(seed),
        )
        out["observed"][name] = float(test.statistic)
        out["null"][name] = np.asarray(test.null_distribution, dtype=float)
        out["p_value"][name] = float(min(1.0, test.pvalue))
    out["n_permutations"] = int(out["null"][NULL_STATISTICS[0]].size)
    return out


def paired_selectivity_test(classes, reference) -> dict:
    """The same units in two networks (e.g. trained against untrained), compared unit by unit.

    Per class, McNemar's exact test: of the units in the class in exactly one of the two
    networks, b are in it only in ``classes`` and c only in ``reference``; under the null
    b ~ Binomial(b + c, ½) (``scipy.stats.binomtest``, two-sided; p = 1 when b + c = 0). The SLI:
    Wilcoxon's signed-rank test of the paired differences (``scipy.stats.wilcoxon``, two-sided,
    zero differences dropped; p = 1 when every difference is zero). The units are paired (the
    same unit with the same inputs in both), so these paired tests match the data rather than
    two-sample ones.

    Args:
        classes, reference: outputs of :func:`classify_selectivity` for the same N units.

    Returns:
        {class: {"fraction", "reference_fraction", "only_here", "only_reference", "p_value"}
        for every class, and "sli": {"mean", "reference_mean", "median_difference", "p_value"}}.

    Raises:
        ValueError: the two have different numbers of units.
    """
    labels, reference_labels = np.asarray(classes["labels"]), np.asarray(reference["labels"])
    if labels.shape != reference_labels.shape:
        raise ValueError(
            f"the networks have {labels.size} and {reference_labels.size} units; "
            "a paired comparison needs the same units"
        )
    out = {}
    for name in SELECTIVITY_CLASSES:
        here, there = labels == name, reference_labels == name
        only_here, only_there = int(np.sum(here & ~there)), int(np.sum(~here & there))
        discordant = only_here + only_there
        p = stats.binomtest(only_here, discordant, 0.5).pvalue if discordant else 1.0
        out[name] = {
            "fraction": float(here.mean()),
            "reference_fraction": float(there.mean()),
            "only_here": only_here,
            "only_reference": only_there,
            "p_value": float(p),
        }
    difference = np.asarray(classes["sli"], float) - np.asarray(reference["sli"], float)
    p = stats.wilcoxon(difference, zero_method="wilcox").pvalue if np.any(difference) else 1.0
    out["sli"] = {
        "mean": float(np.mean(classes["sli"])),
        "reference_mean": float(np.mean(reference["sli"])),
        "median_difference": float(np.median(difference)),
        "p_value": float(p),
    }
    return out
