"""Row-by-row ("28-by-28") MNIST (docs/model.md §3.2): 28 steps of one 28-pixel image row."""

from __future__ import annotations

from sims.tasks._mnist import MnistSequenceTask, mnist_metadata

__all__ = ["RowMnistTask"]


class RowMnistTask(MnistSequenceTask):
    """Row-by-row MNIST: one image row per step, T = 28, N_in = 28, N_out = 10 (docs/model.md §3.2).

    Trial structure: x[t, b, k] = pixel 28·t + k of image b (row t, column k; ``data.T.reshape(28,
    28, B)`` in the official script), pixels in [0, 1]. No noise, no mask. The label is read at
    the last step only (softmax + cross-entropy): ``target`` is the one-hot label (B, 10).

    Protocol: as pixel-by-pixel MNIST (docs/model.md §2.4): minibatches of 128, 200 per "epoch",
    test in
    batches of 1,000. All three layers are SaS in this task (docs/model.md §1.4).

    Constructor arguments: those of :class:`sims.tasks._mnist.MnistSequenceTask`.
    """

    n_in = 28
    metadata = mnist_metadata(
        "3.2", "BPTT-SAS-28by28.py", "symmetry-breaking", ("inp", "rec", "out")
    )
