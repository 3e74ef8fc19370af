"""The design of the multisensory integration task (docs/model.md §3.3): channels, modalities,
the settings of its two variants, the choice read from the outputs and the structural input mask.

Two variants share one generator:

- ``variant="official"`` (default) follows ``RNN_SaS_cogni.py`` of the official code exactly;
- ``variant="pycog"`` restores pycog's ``multisensory.py`` in every point where the official code
  departs from it (docs/official-code.md §1 item 9). Each difference is a constructor parameter, so
  any mixture
  can be built:

  ===================== ============================== =====================================
  parameter             official                       pycog
  ===================== ============================== =====================================
  ``start_cue``         True (5 inputs, START = ch. 4) False (4 inputs)
  ``stimulus_offset``   0.4                            0.5
  ``stimulus_span``     0.8  (levels 0.4 … 1.2)        0.6  (levels 0.5 … 1.1)
  ``train_frequencies`` 9 … 16 Hz                      6 … 19 Hz (test still 9 … 16)
  ``sampling``          "grid": all 24 conditions      "random": each trial catch with
                        + ``n_catch`` = 6 catch trials ``catch_probability``, else a uniform
                        (deterministic, B = 30)        modality and training frequency
  ``catch_probability`` (unused; 6/30 = 0.2 de facto)  1/(24 + 1) = 0.04
  ``pad_to_ms``         2500 (all trials padded,       None (batch as long as its longest
                        mask 0 after the decision)     trial type, 1,400 ms at training)
  ``catch_duration_ms`` 2500                           1000 (mask 0 after it)
  ``rectify_inputs``    False                          True (inputs clipped at 0)
  ``input_groups``      "blocks" (50/50/50 units)      "pycog_ei" (thirds of the 80 % E
                                                       and of the 20 % I units)
  ``batch_size``        30                             20 (pycog ``n_gradient``)
  ===================== ============================== =====================================

  Not task properties, hence not parameters here: pycog's E/I sign constraint and E-only readout
  (network), and its stopping rule on performance instead of MSE (training).

The psychometric test grid (:func:`psychometric_frequencies`, the task's ``frequency_grid``) is
"paper" (9, 10, …, 16 Hz, the default) or "fine": the paper's grid with 0.25 Hz steps out to
1.5 Hz either side of the category boundary (11, 11.25, …, 12.25 and 12.75, …, 14 Hz for the
12.5 Hz boundary), no trial on the boundary itself, where no choice is correct.
"""

from __future__ import annotations

import numpy as np

from sims.tasks.base import Batch, check_positive_int

__all__ = [
    "AUDITORY_NEGATIVE",
    "AUDITORY_POSITIVE",
    "CHANNELS",
    "FINE_STEP_HZ",
    "FREQUENCY_GRIDS",
    "MODALITIES",
    "PSYCHOMETRIC_FREQUENCIES",
    "START",
    "VARIANTS",
    "VISUAL_NEGATIVE",
    "VISUAL_POSITIVE",
    "absent_inputs",
    "check_grid_size",
    "choose_high",
    "n_steps_of",
    "psychometric_frequencies",
    "trial_batch",
]

VISUAL_POSITIVE = 0  # V+: rises with the event rate
AUDITORY_POSITIVE = 1  # A+
VISUAL_NEGATIVE = 2  # V-: falls with the event rate
AUDITORY_NEGATIVE = 3  # A-
START = 4  # start cue (official variant only)
#: Modalities in the official condition order (trial index = modality·n_freq + frequency index).
MODALITIES = ("v", "a", "va")
CHANNELS = {
    "v": (VISUAL_POSITIVE, VISUAL_NEGATIVE),
    "a": (AUDITORY_POSITIVE, AUDITORY_NEGATIVE),
}
PSYCHOMETRIC_FREQUENCIES = tuple(range(9, 17))
#: The psychometric test grids: "paper" (the default) and "fine" (:func:`psychometric_frequencies`).
FREQUENCY_GRIDS = ("paper", "fine")
#: Spacing of the fine grid near the category boundary, Hz.
FINE_STEP_HZ = 0.25
#: Fine steps on each side of the boundary (out to 6 × 0.25 = 1.5 Hz: 11–14 Hz at 12.5 Hz).
FINE_STEPS_PER_SIDE = 6

#: The settings each variant fixes (see the module docstring for what each one means).
VARIANTS = {
    "official": {
        "start_cue": True,
        "stimulus_offset": 0.4,
        "stimulus_span": 0.8,
        "train_frequencies": PSYCHOMETRIC_FREQUENCIES,
        "sampling": "grid",
        "n_catch": 6,
        "catch_probability": 5 / (len(MODALITIES) * 8 + 1),  # defined but unused (grid sampling)
        "pad_to_ms": 2500.0,
        "catch_duration_ms": 2500.0,
        "rectify_inputs": False,
        "input_groups": "blocks",
        "batch_size": 30,
    },
    "pycog": {
        "start_cue": False,
        "stimulus_offset": 0.5,
        "stimulus_span": 0.6,
        "train_frequencies": (6, 7, 8, *PSYCHOMETRIC_FREQUENCIES, 17, 18, 19),
        "sampling": "random",
        "n_catch": 1,
        "catch_probability": 1 / (len(MODALITIES) * 8 + 1),
        "pad_to_ms": None,
        "catch_duration_ms": 1000.0,
        "rectify_inputs": True,
        "input_groups": "pycog_ei",
        "batch_size": 20,
    },
}


def psychometric_frequencies(grid: str, boundary: float) -> tuple[float, ...]:
    """The event rates (Hz) of the psychometric test, in increasing order.

    "paper": f = 9, 10, …, 16 Hz. "fine": the paper's rates together with
    f = b ± k·0.25 Hz, k = 1 … 6, for the boundary b (for b = 12.5: 9, 10, 11, 11.25, …, 12.25,
    12.75, …, 14, 15, 16 Hz, 16 rates). No fine rate lies on the boundary, where no choice is
    correct; the two nearest lie 0.25 Hz either side of it.

    Args:
        grid: one of :data:`FREQUENCY_GRIDS`.
        boundary: the category boundary b in Hz.

    Raises:
        ValueError: an unknown grid.
    """
    if grid not in FREQUENCY_GRIDS:
        raise ValueError(
            f"frequency_grid={grid!r} is unknown; use 'paper' (9–16 Hz in 1 Hz steps) or 'fine' "
            f"({FINE_STEP_HZ} Hz steps near the boundary)."
        )
    frequencies = {float(f) for f in PSYCHOMETRIC_FREQUENCIES}
    if grid == "fine":
        steps = FINE_STEP_HZ * np.arange(1, FINE_STEPS_PER_SIDE + 1)
        frequencies |= {float(f) for f in np.concatenate([boundary - steps, boundary + steps])}
    return tuple(sorted(frequencies))


def choose_high(z: np.ndarray) -> np.ndarray:
    """The MSI choice from the outputs at the final step: 1 = "high" (output 0 wins), 0 = "low".

    choice = 1 - argmax_k z_k(T_last) (docs/model.md §2.6.3; ties go to "high", as ``argmax`` does).

    Args:
        z: (B, 2) outputs at the last step, or (T, B, 2) outputs of which the last step is used.

    Returns:
        int64 (B,) choices.

    Raises:
        ValueError: z is not (B, 2) or (T, B, 2).
    """
    z = np.asarray(z)
    if z.ndim == 3:
        z = z[-1]
    if z.ndim != 2 or z.shape[1] != 2:
        raise ValueError(f"z must be (B, 2) or (T, B, 2) outputs; got shape {z.shape}.")
    return (1 - np.argmax(z, axis=1)).astype(np.int64)


def absent_inputs(input_groups: str, n_rec: int, n_in: int) -> np.ndarray:
    """Input connections that are structurally absent: bool (n_rec, n_in), True = forbidden.

    "blocks" (official, docs/model.md §3.3): units [0, n/3) get no visual channels (0, 2), units
    [n/3, 2n/3) no auditory channels (1, 3), units [2n/3, n) none of 0–3; for n = 150 these
    are 0–49, 50–99, 100–149. "pycog_ei": the first 80 % of units are E, the rest I; the first
    third of E and of I get only the visual channels, the second third of each only the
    auditory ones, all others none. START (channel 4), when present, reaches every unit.
    Pass it as ``SaSLayer(..., absent=mask)``: forbidden entries have m = 0, π = 1, Ξ = 0.

    Args:
        input_groups: "blocks" or "pycog_ei".
        n_rec: number of recurrent units (150), at least 3.
        n_in: number of input channels (4 or 5).
    """
    n_rec = check_positive_int(n_rec, "n_rec")
    if n_rec < 3:
        raise ValueError(f"n_rec must be at least 3 (three input groups); got {n_rec}.")
    absent = np.zeros((n_rec, n_in), dtype=bool)
    sensory = [VISUAL_POSITIVE, AUDITORY_POSITIVE, VISUAL_NEGATIVE, AUDITORY_NEGATIVE]
    if input_groups == "blocks":
        first, second = n_rec // 3, 2 * n_rec // 3
        absent[:first, list(CHANNELS["v"])] = True
        absent[first:second, list(CHANNELS["a"])] = True
        absent[second:, sensory] = True
        return absent
    n_exc = int(0.8 * n_rec)
    n_inh = n_rec - n_exc
    exc, inh = np.arange(n_exc), np.arange(n_exc, n_rec)
    visual = np.concatenate([exc[: n_exc // 3], inh[: n_inh // 3]])
    auditory = np.concatenate([exc[n_exc // 3 : 2 * n_exc // 3], inh[n_inh // 3 : 2 * n_inh // 3]])
    absent[:, sensory] = True
    absent[np.ix_(visual, list(CHANNELS["v"]))] = False
    absent[np.ix_(auditory, list(CHANNELS["a"]))] = False
    return absent


def check_grid_size(size: int, grid: int, name: str) -> None:
    """Raise one clear error unless ``size`` is a multiple of the ``grid``-trial condition grid."""
    if size % grid:
        raise ValueError(
            f"{name}={size} must be a multiple of the {grid}-trial condition grid "
            f"(sampling='grid'); use {grid} or a multiple of it, or sampling='random'."
        )


def n_steps_of(time_ms: float, dt: float) -> int:
    """Number of whole steps of ``dt`` in ``time_ms`` (floor, as the official ``int(t/dt)``)."""
    return int(np.floor(time_ms / dt + 1e-9))


def trial_batch(
    task,
    modality: np.ndarray,
    frequency: np.ndarray,
    phase: str,
    dt: float,
    rng: np.random.Generator,
) -> Batch:
    """The batch of trials of the given conditions (modality index, −1 = catch; frequency in Hz)
    in ``phase`` ("train" or "test") at step ``dt``, with input noise from ``rng`` (the trial
    structure of :class:`sims.tasks.multisensory.MultisensoryTask`)."""
    n_steps = task.batch_steps(phase, dt)
    epochs = task.epoch_steps(phase, dt)
    batch_size = modality.shape[0]
    catch = modality < 0
    x = np.zeros((n_steps, batch_size, task.n_in))
    target = np.zeros((n_steps, batch_size, task.n_out))
    mask = np.zeros((n_steps, batch_size, task.n_out))
    stimulus = slice(*epochs["stimulus"])
    fixation = slice(*epochs["fixation"])
    decision = slice(*epochs["decision"])
    for index, name in enumerate(MODALITIES):
        trials = np.flatnonzero(modality == index)
        for sense in ("v", "a"):
            if sense in name:
                positive, negative = CHANNELS[sense]
                x[stimulus, trials, positive] = task.positive_level(frequency[trials])
                x[stimulus, trials, negative] = task.negative_level(frequency[trials])
    trials = np.flatnonzero(~catch)
    if task.start_cue:
        x[epochs["stimulus"][0] : epochs["decision"][1], trials, START] = 1.0
    choice = np.where(catch, -1, task.correct_choice(np.nan_to_num(frequency)))
    target[fixation, trials, :] = task.target_low
    target[decision, trials, :] = task.target_low
    target[decision, trials, choice[trials]] = task.target_high
    mask[fixation, trials, :] = 1.0
    mask[decision, trials, :] = 1.0
    catch_steps = n_steps if phase == "test" else n_steps_of(task.catch_duration_ms, dt)
    catch_trials = np.flatnonzero(catch)
    target[:catch_steps, catch_trials, :] = task.target_low
    mask[:catch_steps, catch_trials, :] = 1.0

    x += task.baseline
    x += task.input_noise_std(dt) * rng.standard_normal(x.shape)
    if task.rectify_inputs:
        np.maximum(x, 0.0, out=x)
    return Batch(
        x=x.astype(task.dtype, copy=False),
        target=target.astype(task.dtype, copy=False),
        mask=mask.astype(task.dtype, copy=False),
        labels=choice.astype(np.int64),
        info={"modality": modality, "frequency": frequency, "catch": catch},
    )
