"""Row-by-row ("28-by-28") MNIST (docs/model.md §3.2): 28 steps of one 28-pixel image row."""

from __future__ import annotations

from sims.tasks._mnist import MNIST_DEFAULTS, MnistSequenceTask
from sims.tasks.base import PAPER_LINK, PAPER_NAME

__all__ = ["RowMnistTask"]


class RowMnistTask(MnistSequenceTask):
    """Row-by-row MNIST: one image row per step, T = 28, N_in = 28, N_out = 10 (docs/model.md §3.2).

    Trial structure: x[t, b, k] = pixel 28·t + k of image b (row t, column k; ``data.T.reshape(28,
    28, B)`` in the official script), pixels in [0, 1]. No noise, no mask. The label is read at
    the last step only (softmax + cross-entropy): ``target`` is the one-hot label (B, 10).

    Protocol: as pixel-by-pixel MNIST (docs/model.md §2.4): minibatches of 128, 200 per "epoch",
    test in
    batches of 1,000. All three layers are SaS in this task (docs/model.md §1.4).

    Args: see :class:`sims.tasks._mnist.MnistSequenceTask`.
    """

    n_in = 28
    metadata = {
        "paper_name": PAPER_NAME,
        "paper_link": PAPER_LINK,
        "section": "3.2",
        "source": "official script BPTT-SAS-28by28.py",
        "tags": ["supervised", "classification", "mnist", "symmetry-breaking"],
        "defaults": {**MNIST_DEFAULTS, "sas_layers": ("inp", "rec", "out")},
    }
