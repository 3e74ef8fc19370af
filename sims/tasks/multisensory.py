"""Multisensory integration (MSI) task (docs/model.md §3.3), after pycog's ``multisensory.py`` /
Raposo 2014.

The task's design (channels, the two variants ``"official"`` and ``"pycog"`` and what each
fixes, the choice rule, the structural input mask) is :mod:`sims.tasks.multisensory_design`.

Time is in ms; ``dt`` is the training step (20 ms, α = dt/τ = 0.2) and ``test_dt`` the test step
(0.5 ms, α = 0.005). Epoch boundaries are converted to steps as ``floor(time/dt)``, as in the
official ``time_step``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from sims.tasks import base
from sims.tasks.base import Batch, Task, paper_metadata
from sims.tasks.multisensory_design import (
    AUDITORY_NEGATIVE,
    AUDITORY_POSITIVE,
    FREQUENCY_GRIDS,
    MODALITIES,
    PSYCHOMETRIC_FREQUENCIES,
    START,
    VARIANTS,
    VISUAL_NEGATIVE,
    VISUAL_POSITIVE,
    absent_inputs,
    check_grid_size,
    choose_high,
    n_steps_of,
    psychometric_frequencies,
    trial_batch,
)

__all__ = [
    "AUDITORY_NEGATIVE",
    "AUDITORY_POSITIVE",
    "FREQUENCY_GRIDS",
    "MODALITIES",
    "START",
    "VARIANTS",
    "VISUAL_NEGATIVE",
    "VISUAL_POSITIVE",
    "MultisensoryTask",
    "choose_high",
]


class MultisensoryTask(Task):
    """Multisensory integration: report whether an event rate is above 12.5 Hz (docs/model.md §3.3).

    Channels: 0 = V+, 1 = A+, 2 = V−, 3 = A−, 4 = START (official only). Outputs: 0 = "high",
    1 = "low"; read out at every step, masked MSE (docs/model.md §1.5).

    Trial structure (official, training dt = 20 ms, 125 steps):

    - fixation 0–100 ms (steps 0–4): no stimulus; targets 0.2 / 0.2, mask 1;
    - stimulus 100–1100 ms (steps 5–54): the presented modality's two channels carry
      positive = offset + span·(f − f_min)/(f_max − f_min), negative = offset + span·(f_max − f)/
      (f_max − f_min) ("va": all four); START = 1; no target (mask 0);
    - decision 1100–1400 ms (steps 55–69): START = 1; correct output 1.0, other 0.2, mask 1;
    - padding 1400–2500 ms (steps 70–124): no stimulus, START = 0, mask 0.

    Every channel carries baseline 0.2 at all times plus input noise (1/α)·√(2α σ_in²)·N(0, 1)
    per step and channel (std 0.0316 at dt = 20 ms, 0.2 at dt = 0.5 ms; docs/model.md §3.3;
    docs/official-code.md §1.11).
    Catch trials have no stimulus and no START; targets 0.2 / 0.2 with mask 1 for
    ``catch_duration_ms``. f_min, f_max are the extremes of ``train_frequencies``.

    Training minibatch (official): all 3 modalities × 8 frequencies once (trial index
    8·modality + frequency index) followed by 6 catch trials, B = 30. Psychometric test
    batches: all 3 modalities × the ``frequency_grid`` rates (24 conditions on the paper's grid,
    48 on the fine one) at ``test_dt`` with fixation 500 ms, 1,800 ms in total, no catch and no
    padding. The removal accuracy (Fig. 4) and the projection trials (Fig. 7) keep the paper's
    grid whatever ``frequency_grid`` is.

    ``Batch.labels`` is the correct choice (0 = high if f > 12.5, 1 = low; −1 for catch);
    ``Batch.info`` has "modality" (index into :data:`MODALITIES`, −1 for catch), "frequency" (Hz,
    NaN for catch) and "catch" (bool).

    Args:
        variant: "official" or "pycog"; supplies every parameter left as None below.
        dt: training time step in ms (20).
        test_dt: test time step in ms (0.5).
        tau: membrane time constant in ms (100); α = dt/τ.
        sigma_in: input noise scale σ_in (0.01).
        baseline: constant added to every channel (0.2).
        frequency_grid: the psychometric test rates: "paper" (9, 10, …, 16 Hz) or "fine" (the
            paper's with 0.25 Hz steps out to 1.5 Hz either side of the boundary, none on it;
            :func:`sims.tasks.multisensory_design.psychometric_frequencies`).
        boundary: category boundary in Hz (12.5).
        target_high, target_low: target levels (1.0, 0.2).
        fixation_ms, test_fixation_ms, stimulus_ms, decision_ms: epoch durations
            (100, 500, 1000, 300).
        start_cue, stimulus_offset, stimulus_span, train_frequencies, sampling, n_catch,
        catch_probability, pad_to_ms, catch_duration_ms, rectify_inputs, input_groups,
        batch_size: variant settings (table in the module docstring); None takes the
            variant's value. ``pad_to_ms`` uses the string "variant" for that instead, because
            ``pad_to_ms=None`` means "no padding".
        dtype: "float64" (default) or "float32".

    Raises:
        ValueError: unknown variant, frequency_grid, sampling or input_groups; non-positive
            times; a padding shorter than a trial; a bad dtype.
    """

    readout = "all"
    loss = "mse"
    final_train_loss_key = "final_train_mse"
    final_accuracy_key = "test_accuracy"
    metadata = paper_metadata(
        section="3.3",
        source=(
            "official script RNN_SaS_cogni.py (variant='official'); pycog "
            "examples/models/multisensory.py (variant='pycog')"
        ),
        tags=["supervised", "cognitive", "two-alternative", "perceptual-decision", "msi"],
        defaults={
            "n_rec": 150,
            "tau": 100.0,
            "dt": 20.0,
            "alpha": 0.2,
            "test_dt": 0.5,
            "h0": 0.0,
            "activation": "relu",
            "sigma_rec": 0.15,
            "sas_layers": ("inp", "rec", "out"),
            "batch_size": 30,
            "max_iterations": 500,
            "n_test_batches": 20,
        },
    )

    def __init__(
        self,
        variant: str = "official",
        dt: float = 20.0,
        test_dt: float = 0.5,
        tau: float = 100.0,
        sigma_in: float = 0.01,
        baseline: float = 0.2,
        frequency_grid: str = "paper",
        boundary: float = 12.5,
        target_high: float = 1.0,
        target_low: float = 0.2,
        fixation_ms: float = 100.0,
        test_fixation_ms: float = 500.0,
        stimulus_ms: float = 1000.0,
        decision_ms: float = 300.0,
        start_cue: bool | None = None,
        stimulus_offset: float | None = None,
        stimulus_span: float | None = None,
        train_frequencies: Sequence[float] | None = None,
        sampling: str | None = None,
        n_catch: int | None = None,
        catch_probability: float | None = None,
        pad_to_ms: float | None | str = "variant",
        catch_duration_ms: float | None = None,
        rectify_inputs: bool | None = None,
        input_groups: str | None = None,
        batch_size: int | None = None,
        dtype: str | type = "float64",
    ):
        if variant not in VARIANTS:
            raise ValueError(f"variant={variant!r} is unknown; use one of {sorted(VARIANTS)}.")
        preset = VARIANTS[variant]
        given = {
            "start_cue": start_cue,
            "stimulus_offset": stimulus_offset,
            "stimulus_span": stimulus_span,
            "train_frequencies": train_frequencies,
            "sampling": sampling,
            "n_catch": n_catch,
            "catch_probability": catch_probability,
            "catch_duration_ms": catch_duration_ms,
            "rectify_inputs": rectify_inputs,
            "input_groups": input_groups,
            "batch_size": batch_size,
        }
        settings = {key: preset[key] if value is None else value for key, value in given.items()}
        # pad_to_ms=None is meaningful (no padding), so "variant" marks "take the preset".
        settings["pad_to_ms"] = preset["pad_to_ms"] if pad_to_ms == "variant" else pad_to_ms

        self.variant = variant
        for name, value in (("dt", dt), ("test_dt", test_dt), ("tau", tau)):
            if not value > 0:
                raise ValueError(f"{name} must be a positive time in ms; got {value!r}.")
        for name, value in (
            ("fixation_ms", fixation_ms),
            ("test_fixation_ms", test_fixation_ms),
            ("stimulus_ms", stimulus_ms),
            ("decision_ms", decision_ms),
            ("catch_duration_ms", settings["catch_duration_ms"]),
        ):
            if not value > 0:
                raise ValueError(f"{name} must be a positive duration in ms; got {value!r}.")
        if settings["sampling"] not in ("grid", "random"):
            raise ValueError(
                f"sampling={settings['sampling']!r} is unknown; use 'grid' or 'random'."
            )
        if settings["input_groups"] not in ("blocks", "pycog_ei"):
            raise ValueError(
                f"input_groups={settings['input_groups']!r} is unknown; use 'blocks' or 'pycog_ei'."
            )
        if not 0.0 <= settings["catch_probability"] <= 1.0:
            raise ValueError(
                f"catch_probability must lie in [0, 1]; got {settings['catch_probability']!r}."
            )
        if isinstance(settings["n_catch"], bool) or int(settings["n_catch"]) < 0:
            raise ValueError(
                f"n_catch must be a non-negative integer; got {settings['n_catch']!r}."
            )
        self.dt = float(dt)
        self.test_dt = float(test_dt)
        self.tau = float(tau)
        self.sigma_in = float(sigma_in)
        self.baseline = float(baseline)
        self.boundary = float(boundary)
        self.frequency_grid = frequency_grid
        self.frequencies = psychometric_frequencies(frequency_grid, self.boundary)
        self.target_high = float(target_high)
        self.target_low = float(target_low)
        self.fixation_ms = float(fixation_ms)
        self.test_fixation_ms = float(test_fixation_ms)
        self.stimulus_ms = float(stimulus_ms)
        self.decision_ms = float(decision_ms)
        self.start_cue = bool(settings["start_cue"])
        self.stimulus_offset = float(settings["stimulus_offset"])
        self.stimulus_span = float(settings["stimulus_span"])
        self.train_frequencies = tuple(float(f) for f in settings["train_frequencies"])
        self.sampling = settings["sampling"]
        self.n_catch = int(settings["n_catch"])
        self.catch_probability = float(settings["catch_probability"])
        self.pad_to_ms = None if settings["pad_to_ms"] is None else float(settings["pad_to_ms"])
        self.catch_duration_ms = float(settings["catch_duration_ms"])
        self.rectify_inputs = bool(settings["rectify_inputs"])
        self.input_groups = settings["input_groups"]
        self.batch_size = base.check_positive_int(settings["batch_size"], "batch_size")
        self.dtype = base.resolve_dtype(dtype)
        if len(self.train_frequencies) < 2:
            raise ValueError("train_frequencies needs at least two values.")
        self.f_min = min(self.train_frequencies)
        self.f_max = max(self.train_frequencies)

        self.n_in = 5 if self.start_cue else 4
        self.n_out = 2
        trial_ms = self.fixation_ms + self.stimulus_ms + self.decision_ms
        longest_ms = max(trial_ms, self.catch_duration_ms)
        if self.pad_to_ms is not None and n_steps_of(self.pad_to_ms, self.dt) < n_steps_of(
            longest_ms, self.dt
        ):
            raise ValueError(
                f"pad_to_ms={self.pad_to_ms} is shorter than the longest training trial "
                f"({longest_ms} ms); use pad_to_ms >= {longest_ms} or None."
            )
        train_ms = longest_ms if self.pad_to_ms is None else self.pad_to_ms
        self.n_steps = n_steps_of(train_ms, self.dt)
        if self.sampling == "grid":
            check_grid_size(self.batch_size, self.n_grid_train, "batch_size")

    # ------------------------------------------------------------------ conditions and timing

    @property
    def alpha(self) -> float:
        """α = dt/τ at the training step."""
        return self.dt / self.tau

    @property
    def n_grid_train(self) -> int:
        """Trials in one training grid: 3 modalities × training frequencies + n_catch."""
        return len(MODALITIES) * len(self.train_frequencies) + self.n_catch

    def input_noise_std(self, dt: float | None = None) -> float:
        """Per-step input noise std (1/α)·√(2α σ_in²) = σ_in·√(2/α), α = dt/τ (docs/model.md
        §3.3)."""
        alpha = (self.dt if dt is None else float(dt)) / self.tau
        return float(np.sqrt(2.0 * alpha * self.sigma_in**2) / alpha)

    def positive_level(self, frequency) -> np.ndarray:
        """Positively tuned channel level offset + span·(f − f_min)/(f_max − f_min)."""
        frequency = np.asarray(frequency, dtype=np.float64)
        return self.stimulus_offset + self.stimulus_span * (frequency - self.f_min) / (
            self.f_max - self.f_min
        )

    def negative_level(self, frequency) -> np.ndarray:
        """Negatively tuned channel level offset + span·(f_max − f)/(f_max − f_min)."""
        frequency = np.asarray(frequency, dtype=np.float64)
        return self.stimulus_offset + self.stimulus_span * (self.f_max - frequency) / (
            self.f_max - self.f_min
        )

    def correct_choice(self, frequency) -> np.ndarray:
        """0 ("high") where f > boundary, else 1 ("low"); int64."""
        return np.where(np.asarray(frequency) > self.boundary, 0, 1).astype(np.int64)

    def epoch_steps(self, phase: str = "train", dt: float | None = None) -> dict[str, tuple]:
        """Half-open step ranges [start, stop) of each epoch of a non-catch trial.

        Args:
            phase: "train" (fixation ``fixation_ms``, padded to the batch length) or "test"
                (fixation ``test_fixation_ms``, no padding).
            dt: step in ms; default ``dt`` for "train", ``test_dt`` for "test".

        Returns:
            {"fixation", "stimulus", "decision"} and, when the trial is padded, "padding":
            (start, stop) step indices. E.g. official training: (0, 5), (5, 55), (55, 70),
            (70, 125).
        """
        if phase not in ("train", "test"):
            raise ValueError(f"phase={phase!r} is unknown; use 'train' or 'test'.")
        dt = (self.dt if phase == "train" else self.test_dt) if dt is None else float(dt)
        if not dt > 0:
            raise ValueError(f"dt must be a positive time in ms; got {dt!r}.")
        fixation = self.fixation_ms if phase == "train" else self.test_fixation_ms
        bounds = np.cumsum([0.0, fixation, self.stimulus_ms, self.decision_ms])
        steps = [n_steps_of(b, dt) for b in bounds]
        epochs = {
            "fixation": (steps[0], steps[1]),
            "stimulus": (steps[1], steps[2]),
            "decision": (steps[2], steps[3]),
        }
        total = self.batch_steps(phase, dt)
        if total > steps[3]:
            epochs["padding"] = (steps[3], total)
        return epochs

    def batch_steps(self, phase: str, dt: float) -> int:
        if phase == "test":
            return n_steps_of(self.test_fixation_ms + self.stimulus_ms + self.decision_ms, dt)
        trial_ms = self.fixation_ms + self.stimulus_ms + self.decision_ms
        if self.pad_to_ms is not None:
            return n_steps_of(self.pad_to_ms, dt)
        return n_steps_of(max(trial_ms, self.catch_duration_ms), dt)

    # ------------------------------------------------------------------ structural input mask

    def input_mask(self, n_rec: int = 150) -> np.ndarray:
        """Structurally absent input connections, bool (n_rec, n_in), True = forbidden
        (:func:`sims.tasks.multisensory_design.absent_inputs` of this task's ``input_groups``)."""
        return absent_inputs(self.input_groups, n_rec, self.n_in)

    # ------------------------------------------------------------------ runs

    @classmethod
    def config_options(cls, config: dict) -> dict:
        evaluation = config["evaluation"]
        return {
            "dtype": config["dtype"],
            "batch_size": config["batch_size"],
            "test_dt": evaluation["test_dt"],
        }

    def test_network(self, net, dt: float | None = None):
        """``net`` run at the test step: α = dt/τ (default ``test_dt``: 0.5/100 = 0.005)."""
        from sims.evaluate import with_alpha

        return with_alpha(net, (self.test_dt if dt is None else float(dt)) / self.tau)

    def evaluate(self, net, rng: np.random.Generator, config: dict) -> dict:
        """Psychometric curves and fits at the test step
        (:func:`sims.evaluate.evaluate_multisensory`)."""
        from sims.evaluate import evaluate_multisensory

        evaluation = config["evaluation"]
        return evaluate_multisensory(
            net,
            self,
            rng,
            mode=evaluation["psychometric_mode"],
            n_batches=evaluation["n_test_batches"],
            test_dt=evaluation["test_dt"],
            n_boot=evaluation["n_boot"],
        )

    def epoch_metrics(self, net, rng: np.random.Generator, config: dict) -> dict:
        return {}  # the psychometric test runs once, at the end

    def accuracy_batches(self, rng, n_batches: int, dt: float | None = None) -> Iterator[Batch]:
        """Batches of the removal accuracy (Fig. 4): the paper's 24 conditions, fresh noise."""
        return self._condition_grid_batches(rng, PSYCHOMETRIC_FREQUENCIES, None, n_batches, dt)

    def projection_trials(
        self, rng: np.random.Generator, n_per_digit: int, digits, dt: float | None = None
    ) -> tuple[Batch, np.ndarray, dict]:
        """Visual trials at every rate of the paper's grid, 9 … 16 Hz, at the test step (Fig. 7)."""
        dt = self.test_dt if dt is None else float(dt)
        frequencies = np.asarray(PSYCHOMETRIC_FREQUENCIES, dtype=float)
        modality = np.zeros(frequencies.size, dtype=int)
        batch = self.condition_batch(rng, modality, frequencies, phase="test", dt=dt)
        trials = {"modality": "v", "frequencies_hz": frequencies.tolist(), "test_dt": dt}
        return batch, frequencies, trials

    def correct(self, z: np.ndarray, batch: Batch) -> np.ndarray:
        """choice = 1 − argmax z(T_last) equals the correct one (0 = high)."""
        return choose_high(z) == (batch.labels == 0)

    # ------------------------------------------------------------------ batches

    def train_batch(self, rng: np.random.Generator, batch_size: int | None = None) -> Batch:
        """One training minibatch at ``dt``.

        "grid" sampling: every (modality, training frequency) condition once, in the official
        order, then ``n_catch`` catch trials; a multiple of that grid repeats it. "random": each
        trial is a catch trial with ``catch_probability``, otherwise a uniform modality and
        training frequency. Inputs carry fresh noise from ``rng`` either way.

        Args:
            rng: the generator for conditions (random sampling) and input noise.
            batch_size: default ``self.batch_size`` (30 official, 20 pycog).
        """
        rng = base.check_generator(rng)
        size = base.batch_size_or_default(batch_size, self.batch_size)
        if self.sampling == "grid":
            check_grid_size(size, self.n_grid_train, "batch_size")
            modality, frequency = self._grid(self.train_frequencies, self.n_catch)
            repeats = size // self.n_grid_train
            modality, frequency = np.tile(modality, repeats), np.tile(frequency, repeats)
        else:
            catch = rng.random(size) < self.catch_probability
            modality = rng.integers(len(MODALITIES), size=size)
            frequency = np.asarray(self.train_frequencies)[
                rng.integers(len(self.train_frequencies), size=size)
            ]
            modality = np.where(catch, -1, modality)
            frequency = np.where(catch, np.nan, frequency)
        return trial_batch(self, modality, frequency, "train", self.dt, rng)

    def test_batches(
        self,
        rng: np.random.Generator,
        batch_size: int | None = None,
        n_batches: int = 20,
        dt: float | None = None,
    ) -> Iterator[Batch]:
        """Psychometric test batches: all modalities × ``frequencies``, no catch, no padding.

        Each batch is the condition grid (official order: 24 conditions on the paper's grid, 48
        on the fine one) of 1,800 ms trials at ``test_dt`` with fresh input noise, so every
        condition has ``n_batches`` trials; ``sub_tasks.py`` averages 20 such batches, the
        notebook 100.

        Args:
            rng: the generator for the input noise.
            batch_size: a multiple of the grid; default one grid.
            n_batches: number of batches (20).
            dt: step in ms; default ``test_dt`` (0.5).
        """
        return self._condition_grid_batches(rng, self.frequencies, batch_size, n_batches, dt)

    def _condition_grid_batches(self, rng, frequencies, batch_size, n_batches, dt):
        rng = base.check_generator(rng)
        n_batches = base.check_positive_int(n_batches, "n_batches")
        dt = self.test_dt if dt is None else float(dt)
        if not dt > 0:
            raise ValueError(f"dt must be a positive time in ms; got {dt!r}.")
        modality, frequency = self._grid(frequencies, 0)
        grid = len(modality)
        size = grid if batch_size is None else base.check_positive_int(batch_size, "batch_size")
        check_grid_size(size, grid, "batch_size")
        modality, frequency = np.tile(modality, size // grid), np.tile(frequency, size // grid)
        for _ in range(n_batches):
            yield trial_batch(self, modality, frequency, "test", dt, rng)

    def condition_batch(
        self,
        rng: np.random.Generator,
        modality: Sequence[int],
        frequency: Sequence[float],
        phase: str = "test",
        dt: float | None = None,
    ) -> Batch:
        """A batch of chosen conditions (modality index, −1 for catch; frequency in Hz).

        Args:
            rng: the generator for the input noise.
            modality: (B,) indices into :data:`MODALITIES`, −1 for a catch trial.
            frequency: (B,) Hz (ignored for catch trials).
            phase: "train" (training timing and padding) or "test" (test timing).
            dt: step in ms; default ``dt`` for "train", ``test_dt`` for "test".
        """
        rng = base.check_generator(rng)
        if phase not in ("train", "test"):
            raise ValueError(f"phase={phase!r} is unknown; use 'train' or 'test'.")
        modality = np.asarray(modality, dtype=np.int64)
        frequency = np.asarray(frequency, dtype=np.float64)
        if modality.ndim != 1 or modality.shape != frequency.shape:
            raise ValueError("modality and frequency must be 1-D arrays of the same length.")
        if np.any((modality < -1) | (modality >= len(MODALITIES))):
            raise ValueError(f"modality entries must lie in -1 … {len(MODALITIES) - 1}.")
        frequency = np.where(modality < 0, np.nan, frequency)
        dt = (self.dt if phase == "train" else self.test_dt) if dt is None else float(dt)
        return trial_batch(self, modality, frequency, phase, dt, rng)

    @staticmethod
    def _grid(frequencies: Sequence[float], n_catch: int) -> tuple[np.ndarray, np.ndarray]:
        modality = np.repeat(np.arange(len(MODALITIES)), len(frequencies))
        frequency = np.tile(np.asarray(frequencies, dtype=np.float64), len(MODALITIES))
        modality = np.concatenate([modality, np.full(n_catch, -1)])
        frequency = np.concatenate([frequency, np.full(n_catch, np.nan)])
        return modality.astype(np.int64), frequency
