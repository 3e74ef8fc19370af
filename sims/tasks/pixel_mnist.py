"""Pixel-by-pixel MNIST (docs/model.md §3.1): 784 steps of one grey level, classified at the last
step."""

from __future__ import annotations

from sims.tasks._mnist import MnistSequenceTask, mnist_metadata

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

    Constructor arguments: those of :class:`sims.tasks._mnist.MnistSequenceTask`.
    """

    n_in = 1
    metadata = mnist_metadata("3.1", "BPTT-SAS-pixelbypixel.py", "long-sequence", ("rec", "out"))
