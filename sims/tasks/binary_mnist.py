"""MNIST 0/1 subset read row by row, for the lazy-regime kernel analysis (docs/model.md §3.4)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np

from sims.data import IMAGE_SIDE, load_mnist
from sims.tasks.base import (
    Batch,
    Task,
    check_generator,
    check_positive_int,
    paper_metadata,
    resolve_dtype,
)

__all__ = ["BinaryMnistTask"]


class BinaryMnistTask(Task):
    """Digits 0 and 1 read row by row with a scalar target y ∈ {0, 1} (docs/model.md §3.4).

    Trial structure: x[t, b, k] = pixel 28·t + k (T = 28, N_in = 28, pixels in [0, 1]); the
    scalar output f is read at the last step, target (B, 1) = y, error ½ Σ (f − y)², prediction
    1[f > 0.5]. No noise, no mask.

    Data: the official ``mnist_data01.npy`` is missing from the code snapshot, so the set is
    rebuilt from the training split of :func:`sims.data.load_mnist`: every image of the two digits,
    permuted by ``numpy.random.default_rng(split_seed)``; the first ``n_train`` (512) train, the
    next ``n_test`` (128) test. The label y is 1 for ``digits[1]``, 0 for ``digits[0]``.
    Training is full-batch gradient descent: :meth:`train_batch` with the default batch size
    returns the whole training set in its fixed order.

    Args:
        source, kind: passed to :func:`sims.data.load_mnist` ("embedded" by default).
        n_train: training samples (512).
        n_test: test samples (128).
        split_seed: seed of the permutation that splits the pool (0).
        digits: the two classes (0, 1); y = 0 for the first, 1 for the second.
        dtype: "float64" (default) or "float32".

    Raises:
        ValueError: two identical or out-of-range digits, or fewer pooled images than
            n_train + n_test; errors of :func:`sims.data.load_mnist`.
    """

    readout = "last"
    loss = "mse"
    metadata = paper_metadata(
        section="3.4",
        source="official scripts SaS_RNTK.py / RNTK_task1.py (mnist_data01.npy rebuilt)",
        tags=["supervised", "binary", "mnist", "kernel", "lazy-regime"],
        defaults={
            "n_rec": 64,
            "alpha": 1.0,
            "h0": "normal(0, sigma_h0^2) per sample, sigma_h0 = 1",
            "activation": "relu",
            "sigma_in": 1.0,
            "sigma_rec": 1.0,
            "sigma_out": 1.0,
            "lr": 1e-3,
            "epochs": 100,
            "batch": "full",
        },
    )

    def __init__(
        self,
        source: str | os.PathLike | None = "embedded",
        kind: str = "mnist",
        n_train: int = 512,
        n_test: int = 128,
        split_seed: int = 0,
        digits: tuple[int, int] = (0, 1),
        dtype: str | type = "float64",
    ):
        self.source = source
        self.kind = kind
        self.n_train = check_positive_int(n_train, "n_train")
        self.n_test = check_positive_int(n_test, "n_test")
        self.split_seed = int(split_seed)
        digits = tuple(int(d) for d in digits)
        if len(digits) != 2 or digits[0] == digits[1] or not all(0 <= d <= 9 for d in digits):
            raise ValueError(f"digits must be two different classes in 0–9; got {digits!r}.")
        self.digits = digits
        self.dtype = resolve_dtype(dtype)
        self.n_in = IMAGE_SIDE
        self.n_out = 1
        self.n_steps = IMAGE_SIDE

        data = load_mnist(source, kind)
        pool = np.flatnonzero(np.isin(data.train_labels, digits))
        if pool.size < self.n_train + self.n_test:
            raise ValueError(
                f"the training split of {data.source!r} holds {pool.size} images of digits "
                f"{digits}, fewer than n_train + n_test = {self.n_train + self.n_test}; lower them "
                f"or use a larger source."
            )
        order = pool[np.random.default_rng(self.split_seed).permutation(pool.size)]
        self.train_index = order[: self.n_train]
        self.test_index = order[self.n_train : self.n_train + self.n_test]
        self._train = self._batch(data.train_images, data.train_labels, self.train_index)
        self._test = self._batch(data.train_images, data.train_labels, self.test_index)

    @classmethod
    def config_options(cls, config: dict) -> dict:
        return {"dtype": config["dtype"], "source": config["data"]}

    def epoch_batches(self, rng: np.random.Generator, config: dict) -> Iterator[Batch]:
        """The minibatches of one epoch: the full training set in its fixed order when
        ``batch_size >= n_train``, else independent draws without replacement."""
        count, size = config["batches_per_epoch"], config["batch_size"]
        if size >= self.n_train:
            return (self.train_batch(rng) for _ in range(count))
        return (self.train_batch(rng, size) for _ in range(count))

    def _batch(self, images: np.ndarray, labels: np.ndarray, index: np.ndarray) -> Batch:
        # The fixed sets are handed out repeatedly, so their arrays are made read-only.
        y = (labels[index] == self.digits[1]).astype(np.int64)
        x = images[index].reshape(index.size, IMAGE_SIDE, IMAGE_SIDE).transpose(1, 0, 2)
        arrays = {
            "x": np.ascontiguousarray(x, dtype=self.dtype),
            "target": y[:, None].astype(self.dtype),
            "labels": y,
            "index": index.astype(np.int64),
        }
        for array in arrays.values():
            array.flags.writeable = False
        return Batch(
            x=arrays["x"],
            target=arrays["target"],
            mask=None,
            labels=arrays["labels"],
            info={"index": arrays["index"]},
        )

    @property
    def train_set(self) -> Batch:
        """The whole training set (n_train samples, fixed order)."""
        return self._train

    @property
    def test_set(self) -> Batch:
        """The whole test set (n_test samples, fixed order)."""
        return self._test

    def train_batch(
        self, rng: np.random.Generator | None = None, batch_size: int | None = None
    ) -> Batch:
        """The full training set (default), or ``batch_size`` samples drawn without replacement.

        Args:
            rng: the generator choosing a sub-batch; unused for the full batch.
            batch_size: None (full batch) or at most n_train.
        """
        if batch_size is None:
            return self._train
        size = check_positive_int(batch_size, "batch_size")
        if size > self.n_train:
            raise ValueError(f"batch_size={size} exceeds n_train={self.n_train}.")
        pick = check_generator(rng).choice(self.n_train, size=size, replace=False)
        return Batch(
            x=self._train.x[:, pick],
            target=self._train.target[pick],
            mask=None,
            labels=self._train.labels[pick],
            info={"index": self._train.info["index"][pick]},
        )

    def test_batches(
        self, rng: np.random.Generator | None = None, batch_size: int | None = None
    ) -> Iterator[Batch]:
        """The test set in one batch (default) or consecutive batches of ``batch_size``.

        Args:
            rng: unused (the test set is fixed); accepted for a uniform interface.
            batch_size: None (one batch) or a positive size.
        """
        size = self.n_test if batch_size is None else check_positive_int(batch_size, "batch_size")
        for start in range(0, self.n_test, size):
            pick = slice(start, min(start + size, self.n_test))
            yield Batch(
                x=self._test.x[:, pick],
                target=self._test.target[pick],
                mask=None,
                labels=self._test.labels[pick],
                info={"index": self._test.info["index"][pick]},
            )
