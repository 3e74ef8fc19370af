"""Pixel-by-pixel MNIST (docs/model.md §3.1): 784 steps of one grey level, classified at the last
step."""

from __future__ import annotations

from sims.tasks._mnist import MNIST_DEFAULTS, MnistSequenceTask
from sims.tasks.base import PAPER_LINK, PAPER_NAME

__all__ = ["PixelMnistTask"]


class PixelMnistTask(MnistSequenceTask):
    """Pixel-by-pixel MNIST: one pixel per step, T = 784, N_in = 1, N_out = 10 (docs/model.md §3.1).

    Trial structure: x[t, b, 0] = pixel t of image b in row-major order (``data.T.reshape(784, 1,
    B)`` in the official script), pixels in [0, 1]. No noise, no mask. The label is read at the
    last step only (softmax + cross-entropy): ``target`` is the one-hot label (B, 10).

    Protocol (docs/model.md §2.4; docs/official-code.md §1.4): training minibatches of 128; an
    "epoch" is 200 minibatches
    from a fresh shuffle (:meth:`shuffled_batches`); test in order in batches of 1,000
    (:meth:`test_batches`).
    The official input layer is deterministic (docs/model.md §1.4; docs/official-code.md §1.1);
    that is a network setting.

    Args: see :class:`sims.tasks._mnist.MnistSequenceTask`.
    """

    n_in = 1
    metadata = {
        "paper_name": PAPER_NAME,
        "paper_link": PAPER_LINK,
        "section": "3.1",
        "source": "official script BPTT-SAS-pixelbypixel.py",
        "tags": ["supervised", "classification", "mnist", "long-sequence"],
        "defaults": {**MNIST_DEFAULTS, "sas_layers": ("rec", "out")},
    }
