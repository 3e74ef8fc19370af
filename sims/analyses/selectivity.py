"""Emergent single-unit selectivity of a trained multisensory network (paper Fig. 5).

Protocol (documented choices where the spec is open, docs/official-code.md §2):

* conditions N_s = 4: visual 14 Hz, visual 11 Hz, auditory 14 Hz, auditory 11 Hz (Fig. 5 legend),
  test trials at dt = 0.5 ms (α = 0.005; fixation 500, stimulus 1000, decision 300 ms: 3,600
  steps), with the task's input noise and the private noise σ_rec of the run (the official test
  keeps both, docs/official-code.md §1 item 11);
* network pass: the mean-field pass with fresh ε (as ``sub_tasks.py``), rates r(t) averaged over
  ``n_repeats`` trials per condition (10);
* response r_{i,s}: the trial-averaged rate over the stimulus + decision window, steps
  [1000, 3600) (:func:`dynamics.window_responses`);
* SLI and classes of :func:`dynamics.classify_selectivity` (non-selective: silent, SLI < 0.1 or
  responding to all four conditions; uni-selective: exactly one condition reaches half the unit's
  peak response; mixed: 2 or 3 do);
* counts per input group: auditory (units 0–49), visual (50–99), neither (100–149), read from the
  structural input mask.

Example units: for each class the non-silent unit of that class with the largest peak response.
"""

from __future__ import annotations

import numpy as np

from dynamics.network import SaSNetwork
from dynamics.selectivity import (
    MIN_SLI,
    RESPONSE_FRACTION,
    SELECTIVITY_CLASSES,
    SILENT_RATE,
    classify_selectivity,
    selectivity_counts,
    window_responses,
)
from sims.analyses.common import mean_field_segments, msi_input_groups, network_pass, pass_draws
from sims.tasks import MultisensoryTask

__all__ = ["CONDITIONS", "condition_rates", "selectivity_analysis"]

#: The four conditions of Fig. 5: (name, modality index into MODALITIES, frequency in Hz).
CONDITIONS = (
    ("visual_14Hz", 0, 14.0),
    ("visual_11Hz", 0, 11.0),
    ("auditory_14Hz", 1, 14.0),
    ("auditory_11Hz", 1, 11.0),
)


def condition_rates(
    net: SaSNetwork,
    task: MultisensoryTask,
    rng: np.random.Generator,
    conditions=CONDITIONS,
    n_repeats: int = 10,
    mode: str = "meanfield",
    test_dt: float | None = None,
) -> np.ndarray:
    """Trial-averaged rates per condition at the test step.

    The ``len(conditions) × n_repeats`` trials run as one batch (on both cores); mean-field
    passes run in time segments (:func:`sims.analyses.common.mean_field_segments`), so only the
    (T+1, N_s, N) means are kept, not the rates of every trial.

    Args:
        net: the trained network (its α is replaced by test_dt/τ).
        task: the multisensory task.
        rng: Generator of the input noise, ε and private noise.
        conditions: sequence of (name, modality index, frequency).
        n_repeats: trials per condition averaged.
        mode: network pass (:data:`sims.evaluate.EVALUATION_MODES`).
        test_dt: step in ms (default ``task.test_dt``).

    Returns:
        (T+1, N_s, N) rates, r[0] the initial state.
    """
    if int(n_repeats) < 1:
        raise ValueError(f"n_repeats must be >= 1, got {n_repeats}")
    n_repeats = int(n_repeats)
    dt = task.test_dt if test_dt is None else float(test_dt)
    test_net = task.test_network(net, dt)
    modality = np.repeat([c[1] for c in conditions], n_repeats)
    frequency = np.repeat([c[2] for c in conditions], n_repeats)
    batch = task.condition_batch(rng, modality, frequency, phase="test", dt=dt)

    def condition_means(r):  # (steps, conditions × repeats, N) -> (steps, conditions, N)
        return r.reshape(r.shape[0], len(conditions), n_repeats, -1).mean(axis=2)

    if mode not in ("meanfield", "meanfield_eps0"):
        return condition_means(network_pass(test_net, batch.x, mode, rng, True)[1])
    # The draws of network_pass; the pass in time segments, keeping only the condition means.
    x = np.asarray(batch.x, dtype=test_net.dtype)
    noise, eps, _ = pass_draws(test_net, x.shape[0], x.shape[1], mode, rng)
    rates = np.empty((x.shape[0] + 1, len(conditions), test_net.n_rec))
    for first, trace in mean_field_segments(test_net, x, eps, noise):
        if first == 0:
            rates[0] = condition_means(trace.r[:1])[0]
        rates[first + 1 : first + trace.r.shape[0]] = condition_means(trace.r[1:])
    return rates


def selectivity_analysis(
    net: SaSNetwork,
    task: MultisensoryTask,
    seed: int = 0,
    n_repeats: int = 10,
    mode: str = "meanfield",
    test_dt: float | None = None,
    window: tuple[int, int] | None = None,
    min_sli: float = MIN_SLI,
    response_fraction: float = RESPONSE_FRACTION,
    silent_rate: float = SILENT_RATE,
    trace_stride: int = 10,
    rates: np.ndarray | None = None,
) -> tuple[dict, dict]:
    """SLI, selectivity classes and their counts per input group (paper Fig. 5; module docstring).

    Args:
        net, task: the trained multisensory network and its task.
        seed: seeds the test noise.
        n_repeats, mode, test_dt: see :func:`condition_rates`.
        window: (t0, t1) steps of the response window; default stimulus + decision at ``test_dt``.
        min_sli, response_fraction, silent_rate: classification thresholds.
        trace_stride: time stride of the all-unit traces saved to the npz.
        rates: optional precomputed (T+1, 4, N) rates (skips the simulation; tests).

    Returns:
        (summary, arrays). summary: conditions, window, thresholds, counts {group: {class: n}}
        (groups auditory, visual, neither and "all"), sli (N,), labels (N,), groups (N,),
        example_units {class: unit or None}, evaluation. arrays: responses (N, 4), sli,
        traces (T'/stride, 4, N), example_traces_<class> (T+1, 4) full resolution, time_ms.
    """
    dt = task.test_dt if test_dt is None else float(test_dt)
    if rates is None:
        rates = condition_rates(
            net, task, np.random.default_rng(seed), CONDITIONS, n_repeats, mode, dt
        )
    rates = np.asarray(rates, dtype=float)
    if window is None:
        epochs = task.epoch_steps("test", dt)
        # r[t+1] is the rate after step t, so steps [t0, t1) are rates[t0+1 : t1+1].
        window = (epochs["stimulus"][0] + 1, epochs["decision"][1] + 1)
    responses = window_responses(rates, window)
    classes = classify_selectivity(responses, min_sli, response_fraction, silent_rate)
    groups = msi_input_groups(task, net.n_rec)
    counts = selectivity_counts(classes["labels"], groups)
    peak = responses.max(axis=1)
    examples, arrays = {}, {}
    for name in SELECTIVITY_CLASSES:
        members = np.flatnonzero((classes["labels"] == name) & ~classes["silent"])
        unit = int(members[np.argmax(peak[members])]) if members.size else None
        examples[name] = unit
        if unit is not None:
            arrays[f"example_traces_{name.replace('-', '_')}"] = rates[:, :, unit]
    arrays.update(
        {
            "responses": responses,
            "sli": classes["sli"],
            "traces": rates[::trace_stride],
            "time_ms": np.arange(rates.shape[0]) * dt,
            "trace_time_ms": (np.arange(rates.shape[0]) * dt)[::trace_stride],
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
        "counts": counts,
        "classes_found": [c for c in SELECTIVITY_CLASSES if counts["all"][c] > 0],
        "n_silent": int(classes["silent"].sum()),
        "sli": classes["sli"].tolist(),
        "labels": classes["labels"].tolist(),
        "groups": groups.tolist(),
        "example_units": examples,
        "evaluation": {"mode": mode, "n_repeats": int(n_repeats), "seed": int(seed), "test_dt": dt},
    }
    return summary, arrays
