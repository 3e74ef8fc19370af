"""Shared machinery of the sequential MNIST tasks (pixel-by-pixel and row-by-row)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np

from sims.data import IMAGE_SIDE, ImageData, load_mnist
from sims.tasks.base import (
    Batch,
    Task,
    batch_size_or_default,
    check_generator,
    check_positive_int,
    paper_metadata,
    resolve_dtype,
)

N_PIXELS = IMAGE_SIDE * IMAGE_SIDE
N_CLASSES = 10
#: Network and training settings the paper gives for both MNIST tasks (docs/model.md §2.4, §3.1).
#: The row task differs only in its SaS layers.
MNIST_DEFAULTS = {
    "n_rec": 100,
    "alpha": 0.1,
    "h0": 0.1,
    "activation": "relu",
    "sigma_rec": 0.0,
    "batch_size": 128,
    "minibatches_per_epoch": 200,
    "epochs": 200,
    "test_batch_size": 1000,
}


def mnist_metadata(section: str, script: str, tag: str, sas_layers: tuple[str, ...]) -> dict:
    """The ``metadata`` of a sequential-MNIST task: ``section`` of docs/model.md, the official
    ``script`` it follows, one ``tag`` of its own and the layers that are spike-and-slab."""
    return paper_metadata(
        section=section,
        source=f"official script {script}",
        tags=["supervised", "classification", "mnist", tag],
        defaults={**MNIST_DEFAULTS, "sas_layers": sas_layers},
    )


class MnistSequenceTask(Task):
    """An image read as a sequence of ``n_steps`` chunks of ``n_in`` pixels, classified at the end.

    x[t, b, k] = pixel ``n_in·t + k`` of image b (row-major), target = one-hot label (B, 10),
    read out at the last step with softmax + cross-entropy (docs/model.md §1.5, §3.1–3.2).

    Training protocol of the official scripts (docs/model.md §2.4; docs/official-code.md §1.4):
    each "epoch" reshuffles the
    training set and takes ``minibatches_per_epoch`` consecutive minibatches of ``batch_size``
    (200 × 128 = 25,600 samples, not a full pass): :meth:`shuffled_batches`. The test set is read in
    order in batches of ``test_batch_size`` (1,000): :meth:`test_batches`.

    Args:
        source, kind: passed to :func:`sims.data.load_mnist` ("embedded" by default).
        batch_size: training minibatch size (128).
        test_batch_size: test batch size (1000).
        minibatches_per_epoch: minibatches per "epoch" (200).
        dtype: "float64" (default) or "float32" for x and target.

    Raises:
        ValueError / FileNotFoundError: from :func:`sims.data.load_mnist`, a bad dtype or a
            non-positive size.
    """

    readout = "last"
    loss = "cross_entropy"
    n_in: int  # set by subclasses: pixels per step

    def __init__(
        self,
        source: str | os.PathLike | None = "embedded",
        kind: str = "mnist",
        batch_size: int = 128,
        test_batch_size: int = 1000,
        minibatches_per_epoch: int = 200,
        dtype: str | type = "float64",
    ):
        self.source = source
        self.kind = kind
        self.batch_size = check_positive_int(batch_size, "batch_size")
        self.test_batch_size = check_positive_int(test_batch_size, "test_batch_size")
        self.minibatches_per_epoch = check_positive_int(
            minibatches_per_epoch, "minibatches_per_epoch"
        )
        self.dtype = resolve_dtype(dtype)
        self.n_out = N_CLASSES
        self.n_steps = N_PIXELS // self.n_in
        self.data: ImageData = load_mnist(source, kind)

    def inputs_from_images(self, images: np.ndarray) -> np.ndarray:
        """Time-major inputs from flattened images: x[t, b, k] = images[b, n_in·t + k].

        Args:
            images: (B, 784) pixels.

        Returns:
            (n_steps, B, n_in) array of the task's dtype.
        """
        images = np.asarray(images)
        if images.ndim != 2 or images.shape[1] != N_PIXELS:
            raise ValueError(
                f"images must be (B, {N_PIXELS}) flattened pixels; got shape {images.shape}."
            )
        batch_size = images.shape[0]
        sequence = images.reshape(batch_size, self.n_steps, self.n_in).transpose(1, 0, 2)
        return np.ascontiguousarray(sequence, dtype=self.dtype)

    def batch_from_images(
        self, images: np.ndarray, labels: np.ndarray, index: np.ndarray | None = None
    ) -> Batch:
        """A :class:`Batch` from flattened images (B, 784) and int labels (B,).

        ``info["index"]`` holds ``index`` (positions in the source split) when given.
        """
        labels = np.asarray(labels, dtype=np.int64)
        target = np.zeros((labels.shape[0], N_CLASSES), dtype=self.dtype)
        target[np.arange(labels.shape[0]), labels] = 1.0
        info = {} if index is None else {"index": np.asarray(index, dtype=np.int64)}
        return Batch(
            x=self.inputs_from_images(images), target=target, mask=None, labels=labels, info=info
        )

    def train_batch(self, rng: np.random.Generator, batch_size: int | None = None) -> Batch:
        """One minibatch drawn without replacement from the training split.

        Args:
            rng: the generator choosing the images.
            batch_size: default ``self.batch_size`` (128).
        """
        rng = check_generator(rng)
        size = batch_size_or_default(batch_size, self.batch_size)
        if size > self.data.n_train:
            raise ValueError(
                f"batch_size={size} exceeds the {self.data.n_train} training images of "
                f"{self.data.source!r}; use a smaller batch or a larger data source."
            )
        index = rng.choice(self.data.n_train, size=size, replace=False)
        return self.batch_from_images(
            self.data.train_images[index], self.data.train_labels[index], index
        )

    @classmethod
    def config_options(cls, config: dict) -> dict:
        return {
            "dtype": config["dtype"],
            "source": config["data"],
            "batch_size": config["batch_size"],
            "test_batch_size": config["evaluation"]["test_batch_size"],
            "minibatches_per_epoch": config["batches_per_epoch"],
        }

    def epoch_batches(self, rng: np.random.Generator, config: dict) -> Iterator[Batch]:
        """The minibatches of one epoch of a run: :meth:`shuffled_batches` of its sizes."""
        return self.shuffled_batches(rng, config["batch_size"], config["batches_per_epoch"])

    def shuffled_batches(
        self,
        rng: np.random.Generator,
        batch_size: int | None = None,
        n_minibatches: int | None = None,
    ) -> Iterator[Batch]:
        """The minibatches of one official "epoch": a fresh shuffle, then consecutive slices.

        When ``batch_size · n_minibatches`` exceeds the training set (e.g. the 4,000 embedded
        images), further independent shuffles are appended, so every pass is without replacement.

        Args:
            rng: the generator shuffling the training set.
            batch_size: default ``self.batch_size`` (128).
            n_minibatches: default ``self.minibatches_per_epoch`` (200).
        """
        rng = check_generator(rng)
        size = batch_size_or_default(batch_size, self.batch_size)
        count = (
            self.minibatches_per_epoch
            if n_minibatches is None
            else check_positive_int(n_minibatches, "n_minibatches")
        )
        n_train = self.data.n_train
        n_passes = -(-size * count // n_train)
        order = np.concatenate([rng.permutation(n_train) for _ in range(n_passes)])
        for start in range(0, size * count, size):
            index = order[start : start + size]
            yield self.batch_from_images(
                self.data.train_images[index], self.data.train_labels[index], index
            )

    def test_batches(
        self, rng: np.random.Generator | None = None, batch_size: int | None = None
    ) -> Iterator[Batch]:
        """The test split in order, in batches of ``test_batch_size`` (the last may be smaller).

        Args:
            rng: unused (the test protocol is deterministic); accepted for a uniform interface.
            batch_size: default ``self.test_batch_size`` (1000).
        """
        size = (
            self.test_batch_size
            if batch_size is None
            else check_positive_int(batch_size, "batch_size")
        )
        for start in range(0, self.data.n_test, size):
            index = np.arange(start, min(start + size, self.data.n_test))
            yield self.batch_from_images(
                self.data.test_images[index], self.data.test_labels[index], index
            )

    def accuracy_batches(
        self, rng: np.random.Generator, n_batches: int, dt: float | None = None
    ) -> Iterator[Batch]:
        """The test set in order, split into ``n_batches`` near-equal batches (no randomness).

        Raises:
            ValueError: more batches than test images.
        """
        n_test = self.data.n_test
        if int(n_batches) > n_test:
            raise ValueError(f"n_batches={n_batches} exceeds the {n_test} test images")
        for index in np.array_split(np.arange(n_test), int(n_batches)):
            yield self.batch_from_images(
                self.data.test_images[index], self.data.test_labels[index], index
            )

    def projection_trials(
        self, rng: np.random.Generator, n_per_digit: int, digits, dt: float | None = None
    ) -> tuple[Batch, np.ndarray, dict]:
        """The first ``n_per_digit`` test images of each of ``digits`` (no randomness)."""
        index = []
        for digit in digits:
            found = np.flatnonzero(self.data.test_labels == digit)[:n_per_digit]
            if found.size < n_per_digit:
                raise ValueError(
                    f"the test set has only {found.size} images of digit {digit}; lower n_per_digit"
                )
            index.extend(found.tolist())
        index = np.asarray(index)
        batch = self.batch_from_images(
            self.data.test_images[index], self.data.test_labels[index], index
        )
        trials = {
            "digits": list(digits),
            "n_per_digit": int(n_per_digit),
            "test_indices": index.tolist(),
        }
        return batch, batch.labels, trials
