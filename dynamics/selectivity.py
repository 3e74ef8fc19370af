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
"""

from __future__ import annotations

import numpy as np

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
