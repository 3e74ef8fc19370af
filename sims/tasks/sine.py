"""Toy sine task of the feature-learning / stochastic-plasticity illustration (docs/model.md §3.6,
§5.3)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from sims.tasks.base import (
    Batch,
    Task,
    check_positive_int,
    paper_metadata,
    resolve_dtype,
)

__all__ = ["SineTask"]


class SineTask(Task):
    """Reproduce the input: x(t) = y(t) = sin(s_t), s_t = linspace(2, 10, 21) (docs/model.md §3.6).

    Trial structure: one deterministic sequence of ``n_points`` (21) steps with a scalar input
    and a scalar target equal to it, scored at every step (L = Σ_t ½ (r(t) − y(t))², docs/model.md
    §1.5).
    There is no noise and no mask; every trial of a batch is the same sequence. In the toy model
    (a single leaky tanh unit with 10,000 SaS synapses, α = 0.9) the unit's own rate r(t) is the
    output.

    Args:
        n_points: sequence length (21).
        start, stop: the range of s_t (2.0, 10.0).
        dtype: "float64" (default) or "float32".
    """

    readout = "all"
    loss = "mse"
    has_network = False
    metadata = paper_metadata(
        section="3.6",
        source="official script toymodel.py",
        tags=["regression", "toy", "feature-learning", "stochastic-plasticity"],
        defaults={
            "n_synapses": 10_000,
            "alpha": 0.9,
            "h0": 0.0,
            "activation": "tanh",
            "lr": {"m": 0.005, "pi": 0.01, "xi": 0.01},
            "halve_every": 100,
            "epochs": 600,
            "n_runs": 10,
        },
    )

    def __init__(
        self,
        n_points: int = 21,
        start: float = 2.0,
        stop: float = 10.0,
        dtype: str | type = "float64",
    ):
        self.n_points = check_positive_int(n_points, "n_points")
        self.start = float(start)
        self.stop = float(stop)
        self.dtype = resolve_dtype(dtype)
        self.n_in = 1
        self.n_out = 1
        self.n_steps = self.n_points

    @property
    def phases(self) -> np.ndarray:
        """s_t = linspace(start, stop, n_points), float64 (T,)."""
        return np.linspace(self.start, self.stop, self.n_points)

    def sequence(self) -> np.ndarray:
        """sin(s_t), float64 (T,): both the input and the target."""
        return np.sin(self.phases)

    def train_batch(self, rng: np.random.Generator | None = None, batch_size: int = 1) -> Batch:
        """``batch_size`` copies of the sequence: x = target = sin(s_t), shapes (T, B, 1).

        Args:
            rng: unused (the task is deterministic); accepted for a uniform interface.
            batch_size: copies (1).
        """
        size = 1 if batch_size is None else check_positive_int(batch_size, "batch_size")
        values = np.broadcast_to(self.sequence()[:, None, None], (self.n_steps, size, 1))
        return Batch(
            x=np.array(values, dtype=self.dtype),
            target=np.array(values, dtype=self.dtype),
            mask=None,
            labels=None,
            info={},
        )

    def test_batches(
        self, rng: np.random.Generator | None = None, batch_size: int | None = None
    ) -> Iterator[Batch]:
        """One batch: the training sequence itself (the task has no held-out data)."""
        yield self.train_batch(rng, batch_size)
