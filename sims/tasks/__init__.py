"""The tasks of the paper, one class per module, looked up by their CLI names.

=============== ============================ ======= ======================================
name            class                        model.md trial
=============== ============================ ======= ======================================
pixel-mnist     :class:`PixelMnistTask`      §3.1    784 steps × 1 pixel, 10-way at the end
row-mnist       :class:`RowMnistTask`        §3.2    28 steps × 28 pixels, 10-way at the end
multisensory    :class:`MultisensoryTask`    §3.3    125 steps × 5 channels, 2 outputs always
binary-mnist    :class:`BinaryMnistTask`     §3.4    28 steps × 28 pixels, scalar 0/1 target
sine            :class:`SineTask`            §3.6    21 steps, reproduce sin(s_t)
=============== ============================ ======= ======================================

Example:
    >>> import numpy as np
    >>> task = make_task("multisensory", variant="official")
    >>> batch = task.train_batch(np.random.default_rng(0))
    >>> batch.x.shape, batch.target.shape
    ((125, 30, 5), (125, 30, 2))
"""

from __future__ import annotations

from typing import Any

from sims.tasks.base import PAPER_LINK, Batch, Task
from sims.tasks.binary_mnist import BinaryMnistTask
from sims.tasks.multisensory import MultisensoryTask, choose_high
from sims.tasks.pixel_mnist import PixelMnistTask
from sims.tasks.row_mnist import RowMnistTask
from sims.tasks.sine import SineTask

__all__ = [
    "PAPER_LINK",
    "TASKS",
    "Batch",
    "BinaryMnistTask",
    "MultisensoryTask",
    "PixelMnistTask",
    "RowMnistTask",
    "SineTask",
    "Task",
    "choose_high",
    "make_task",
    "task_from_config",
    "task_options",
]

#: CLI name → task class.
TASKS: dict[str, type[Task]] = {
    "pixel-mnist": PixelMnistTask,
    "row-mnist": RowMnistTask,
    "multisensory": MultisensoryTask,
    "binary-mnist": BinaryMnistTask,
    "sine": SineTask,
}


def _task_class(name: str) -> type[Task]:
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; choose one of: {', '.join(TASKS)}.")
    return TASKS[name]


def task_options(name: str) -> dict[str, Any]:
    """The options a task accepts, with their defaults (from its constructor signature).

    Raises:
        ValueError: unknown task name (the message lists the known ones).
    """
    return _task_class(name).option_defaults()


def make_task(name: str, **options: Any) -> Task:
    """Build the task registered as ``name`` with keyword ``options`` for its constructor.

    Args:
        name: one of :data:`TASKS` ("pixel-mnist", "row-mnist", "multisensory", "binary-mnist",
            "sine").
        **options: constructor arguments of that task (see :func:`task_options`).

    Raises:
        ValueError: unknown name, or options the task does not accept (the message lists the
            valid ones); errors of the task's constructor.
    """
    return _task_class(name).with_options(name, **options)


def task_from_config(config: dict) -> Task:
    """The task of a run config (:meth:`Task.from_config` of the class ``config["task"]`` names).

    Raises:
        FileNotFoundError / ValueError: unknown task, missing or corrupt data, bad task options.
    """
    return _task_class(config["task"]).from_config(config)
