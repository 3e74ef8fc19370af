"""The shape every task shares: a :class:`Batch` of trials and the :class:`Task` interface.

A task turns a :class:`numpy.random.Generator` into batches of time-major arrays (docs/model.md §1.1
conventions: ``(T, B, n)``). Everything random (input noise, which images, which conditions) is
drawn from the generator passed in, so a batch is replayed exactly by re-seeding.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

__all__ = [
    "PAPER_LINK",
    "PAPER_NAME",
    "Batch",
    "Task",
    "batch_size_or_default",
    "check_generator",
    "check_positive_int",
    "resolve_dtype",
]

#: DOI of Zou, Li & Huang, Phys. Rev. E 107, 024307 (2023).
PAPER_LINK = "https://doi.org/10.1103/PhysRevE.107.024307"
PAPER_NAME = (
    "Zou, Li & Huang, Ensemble perspective for understanding temporal credit assignment, "
    "Phys. Rev. E 107, 024307 (2023)"
)

_DTYPES = {"float64": np.float64, "float32": np.float32}


def resolve_dtype(dtype: Any) -> type:
    """Return ``np.float64`` or ``np.float32`` for a dtype spelled any usual way.

    Raises:
        ValueError: any other dtype.
    """
    try:
        name = np.dtype(dtype).name
    except TypeError:
        name = None
    if name not in _DTYPES:
        raise ValueError(f"dtype={dtype!r} is not supported; use 'float64' (default) or 'float32'.")
    return _DTYPES[name]


@dataclass(frozen=True)
class Batch:
    """One batch of trials, time-major.

    Attributes:
        x: inputs (T, B, n_in).
        target: (B, n_out) for a last-step readout (one-hot for classification, the scalar target
            for regression) or (T, B, n_out) for a readout at every step.
        mask: same shape as ``target`` with entries 0/1 (1 = the step counts in the loss), or None
            when every entry counts.
        labels: (B,) int64 class or correct choice, -1 for trials without one (catch trials), or
            None when the task has no labels.
        info: per-trial arrays of length B (e.g. "modality", "frequency", "catch", "index").
    """

    x: np.ndarray
    target: np.ndarray
    mask: np.ndarray | None = None
    labels: np.ndarray | None = None
    info: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self):
        if self.x.ndim != 3:
            raise ValueError(f"Batch.x must be (T, B, n_in); got shape {self.x.shape}.")
        n_steps, batch_size = self.x.shape[:2]
        if self.target.shape[:-1] not in ((batch_size,), (n_steps, batch_size)):
            raise ValueError(
                f"Batch.target must be (B, n_out) or (T, B, n_out) with T={n_steps}, "
                f"B={batch_size}; got shape {self.target.shape}."
            )
        if self.mask is not None and self.mask.shape != self.target.shape:
            raise ValueError(
                f"Batch.mask must have the target's shape {self.target.shape}; "
                f"got {self.mask.shape}."
            )
        if self.labels is not None and self.labels.shape != (batch_size,):
            raise ValueError(f"Batch.labels must be ({batch_size},); got {self.labels.shape}.")
        for key, value in self.info.items():
            if len(value) != batch_size:
                raise ValueError(f"Batch.info[{key!r}] must have length {batch_size}.")

    @property
    def n_steps(self) -> int:
        return int(self.x.shape[0])

    @property
    def batch_size(self) -> int:
        return int(self.x.shape[1])


class Task:
    """Interface of a task (one subclass per module in :mod:`sims.tasks`).

    Class attributes:
        metadata: ``paper_name``, ``paper_link``, ``section`` (of docs/model.md), ``source`` (where
        the
            trial structure comes from), ``tags`` and ``defaults`` (network and training settings
            docs/model.md gives for this task, e.g. ``n_rec``, ``alpha``, ``h0``).
        readout: "last" (read z at the last step only) or "all" (every step).
        loss: "cross_entropy" or "mse".

    Instance attributes: ``n_in``, ``n_out``, ``n_steps`` (length of a training trial) and
    ``dtype``.

    Methods: ``train_batch(rng, batch_size=None)`` returns one training :class:`Batch`;
    ``test_batches(rng, batch_size=None)`` yields the test batches of the task's protocol.
    """

    metadata: ClassVar[dict[str, Any]] = {}
    readout: ClassVar[str] = "last"
    loss: ClassVar[str] = "mse"
    n_in: int
    n_out: int
    n_steps: int
    dtype: type

    def train_batch(self, rng: np.random.Generator, batch_size: int | None = None) -> Batch:
        raise NotImplementedError

    def test_batches(
        self, rng: np.random.Generator | None = None, batch_size: int | None = None
    ) -> Iterator[Batch]:
        raise NotImplementedError

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(n_in={self.n_in}, n_out={self.n_out}, n_steps={self.n_steps}, "
            f"readout={self.readout!r}, loss={self.loss!r}, dtype={np.dtype(self.dtype).name})"
        )


def check_generator(rng: Any, name: str = "rng") -> np.random.Generator:
    """Return ``rng`` if it is a :class:`numpy.random.Generator`, else raise one clear error."""
    if not isinstance(rng, np.random.Generator):
        raise ValueError(
            f"{name} must be a numpy.random.Generator (e.g. numpy.random.default_rng(seed)); "
            f"got {type(rng).__name__}."
        )
    return rng


def batch_size_or_default(batch_size: Any, default: int) -> int:
    """``default`` when ``batch_size`` is None, else ``batch_size`` checked to be a positive int."""
    return default if batch_size is None else check_positive_int(batch_size, "batch_size")


def check_positive_int(value: Any, name: str) -> int:
    """Return ``value`` as an int if it is a positive integer, else raise one clear error."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive integer; got {value!r}.")
    return int(value)
