"""The shape every task shares: a :class:`Batch` of trials and the :class:`Task` interface.

A task turns a :class:`numpy.random.Generator` into batches of time-major arrays (docs/model.md §1.1
conventions: ``(T, B, n)``). Everything random (input noise, which images, which conditions) is
drawn from the generator passed in, so a batch is replayed exactly by re-seeding.
"""

from __future__ import annotations

import inspect
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
    "paper_metadata",
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

    Everything that differs between tasks is answered by the task itself, so the trainer, the
    evaluation and the analyses never ask which task they hold.

    Class attributes:
        metadata: ``paper_name``, ``paper_link``, ``section`` (of docs/model.md), ``source`` (where
            the trial structure comes from), ``tags`` and ``defaults`` (network and training
            settings docs/model.md gives for this task, e.g. ``n_rec``, ``alpha``, ``h0``).
        readout: "last" (read z at the last step only) or "all" (every step).
        loss: "cross_entropy" or "mse".
        has_network: whether a run of the task trains a :class:`dynamics.SaSNetwork` (the toy
            model trains a single unit instead).
        final_accuracy_key: the final metrics' headline test accuracy (mean-field for MNIST,
            docs/official-code.md §3; the psychometric test's accuracy for the multisensory task).
        final_train_loss_key: the key under which the final metrics repeat the last epoch's
            training loss, or None.

    Instance attributes: ``n_in``, ``n_out``, ``n_steps`` (length of a training trial) and
    ``dtype``.

    Data: ``train_batch(rng, batch_size=None)`` returns one training :class:`Batch`;
    ``test_batches(rng, batch_size=None)`` yields the test batches of the task's protocol;
    ``epoch_batches(rng, config)`` the minibatches of one training epoch.

    Runs: ``from_config(config)`` builds the task of a run config; ``input_mask(n_rec)`` is the
    structural input mask; ``test_network(net)`` the network as it is run at test time;
    ``evaluate(net, rng, config)`` the final metrics; ``epoch_metrics(net, rng, config)`` the
    per-epoch test metrics; ``accuracy_batches`` and ``correct`` the per-batch accuracy protocol
    of the removal experiments.
    """

    metadata: ClassVar[dict[str, Any]] = {}
    readout: ClassVar[str] = "last"
    loss: ClassVar[str] = "mse"
    has_network: ClassVar[bool] = True
    final_train_loss_key: ClassVar[str | None] = None
    final_accuracy_key: ClassVar[str] = "test_accuracy_meanfield"
    n_in: int
    n_out: int
    n_steps: int
    dtype: type

    # -- construction ----------------------------------------------------------------------------
    @classmethod
    def option_defaults(cls) -> dict[str, Any]:
        """The constructor's options with their defaults."""
        parameters = inspect.signature(cls.__init__).parameters
        return {key: p.default for key, p in parameters.items() if key != "self"}

    @classmethod
    def with_options(cls, name: str = "", **options: Any) -> Task:
        """The task built from keyword ``options``, checked against the constructor's.

        Raises:
            ValueError: options the task does not accept (the message lists the valid ones).
        """
        valid = cls.option_defaults()
        unknown = sorted(set(options) - set(valid))
        if unknown:
            raise ValueError(
                f"task {name or cls.__name__!r} does not accept option(s) {', '.join(unknown)}; "
                f"valid options: {', '.join(valid)}."
            )
        return cls(**options)

    @classmethod
    def config_options(cls, config: dict) -> dict[str, Any]:
        """Constructor options a run config sets (before its ``[task_options]``)."""
        return {"dtype": config["dtype"]}

    @classmethod
    def from_config(cls, config: dict) -> Task:
        """The task of a run config: its data source, batch sizes, dtype and ``[task_options]``.

        Raises:
            FileNotFoundError / ValueError: missing or corrupt data, bad task options.
        """
        options = {**cls.config_options(config), **config.get("task_options", {})}
        return cls.with_options(config["task"], **options)

    # -- data ------------------------------------------------------------------------------------
    def train_batch(self, rng: np.random.Generator, batch_size: int | None = None) -> Batch:
        raise NotImplementedError

    def test_batches(
        self, rng: np.random.Generator | None = None, batch_size: int | None = None
    ) -> Iterator[Batch]:
        raise NotImplementedError

    def epoch_batches(self, rng: np.random.Generator, config: dict) -> Iterator[Batch]:
        """The ``batches_per_epoch`` minibatches of one epoch: independent draws from ``rng``."""
        return (
            self.train_batch(rng, config["batch_size"]) for _ in range(config["batches_per_epoch"])
        )

    # -- networks --------------------------------------------------------------------------------
    def input_mask(self, n_rec: int) -> np.ndarray | None:
        """(n_rec, n_in) bool: input connections that do not exist (True), or None (all exist)."""
        return None

    def test_network(self, net, dt: float | None = None):
        """The network as it is run at test time (here ``net`` itself)."""
        return net

    def evaluate(self, net, rng: np.random.Generator, config: dict) -> dict:
        """The final metrics of a run (the "final" block of metrics.json): test accuracies in
        every evaluation mode (:func:`sims.evaluate.evaluate_classification`)."""
        from sims.evaluate import evaluate_classification

        evaluation = config["evaluation"]
        return evaluate_classification(
            net,
            self,
            rng,
            n_samples=evaluation["n_samples"],
            max_samples=evaluation["test_samples"],
        )

    def epoch_metrics(self, net, rng: np.random.Generator, config: dict) -> dict:
        """Per-epoch test metrics: the mean-field test accuracy."""
        from sims.evaluate import classification_accuracy

        accuracy = classification_accuracy(
            net, self, mode="meanfield", rng=rng, max_samples=config["evaluation"]["test_samples"]
        )
        return {"test_accuracy_meanfield": accuracy}

    def accuracy_batches(
        self, rng: np.random.Generator, n_batches: int, dt: float | None = None
    ) -> Iterator[Batch]:
        """``n_batches`` test batches for per-batch accuracies (the removal protocol, Fig. 4b).

        Raises:
            ValueError: the task has no such protocol.
        """
        raise ValueError(
            f"per-batch accuracy is defined for the multisensory and MNIST tasks, not "
            f"{type(self).__name__}."
        )

    def projection_trials(
        self, rng: np.random.Generator, n_per_digit: int, digits, dt: float | None = None
    ) -> tuple[Batch, np.ndarray, dict]:
        """The test trials of the neural-trajectory PCA (docs/model.md §5.2, Fig. 7).

        Returns:
            (batch, label per trial, description of the trials).

        Raises:
            ValueError: the task has no such protocol.
        """
        raise ValueError(
            f"neural projection is defined for MNIST and multisensory runs, not "
            f"{type(self).__name__}"
        )

    def correct(self, z: np.ndarray, batch: Batch) -> np.ndarray:
        """(B,) bool: which trials of ``batch`` the readout ``z`` answers correctly."""
        return np.argmax(z, axis=1) == batch.labels

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(n_in={self.n_in}, n_out={self.n_out}, n_steps={self.n_steps}, "
            f"readout={self.readout!r}, loss={self.loss!r}, dtype={np.dtype(self.dtype).name})"
        )


def paper_metadata(*, section: str, source: str, tags: list[str], defaults: dict) -> dict:
    """A task's ``metadata``: the paper's name and link, the section of docs/model.md that
    describes the task, where its trial structure comes from, tags and default settings."""
    return {
        "paper_name": PAPER_NAME,
        "paper_link": PAPER_LINK,
        "section": section,
        "source": source,
        "tags": tags,
        "defaults": defaults,
    }


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
