"""Nothing outside a task branches on which task it is; every task answers the interface."""

import ast
from pathlib import Path

import numpy as np
import pytest

from sims.tasks import TASKS, Task

ROOT = Path(__file__).resolve().parent.parent
#: Modules that must hold no task switch.
TASK_BLIND = [
    ROOT / "sims" / "train.py",
    ROOT / "sims" / "evaluate.py",
    ROOT / "sims" / "runs.py",
    *sorted((ROOT / "sims" / "analyses").glob("*.py")),
]
INTERFACE = (
    "from_config",
    "epoch_batches",
    "evaluate",
    "epoch_metrics",
    "input_mask",
    "test_network",
    "accuracy_batches",
    "correct",
    "projection_trials",
)


def _task_names_in(node) -> list[str]:
    constants = [n.value for n in ast.walk(node) if isinstance(n, ast.Constant)]
    return [value for value in constants if isinstance(value, str) and value in TASKS]


def _switches(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Compare):
            if _task_names_in(node):
                found.append(f"{path.name}:{node.lineno} compares with a task name")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in ("isinstance", "hasattr") and node.args:
                target = ast.unparse(node.args[0])
                if "task" in target:
                    found.append(f"{path.name}:{node.lineno} {node.func.id}({target}, ...)")
    return found


@pytest.mark.parametrize("path", TASK_BLIND, ids=lambda p: p.name)
def test_module_holds_no_task_name_comparison_isinstance_or_hasattr_on_the_task(path):
    assert _switches(path) == []


def test_the_scan_finds_a_planted_switch(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text(
        'if config["task"] == "multisensory":\n    pass\n'
        "ok = hasattr(task, 'x') or isinstance(self.task_, int)\n"
        'if name in ("row-mnist", "sine"):\n    pass\n'
    )
    assert len(_switches(planted)) == 4


@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_task_implements_the_interface(name):
    cls = TASKS[name]
    assert issubclass(cls, Task)
    for method in INTERFACE:
        assert callable(getattr(cls, method)), method
    assert cls.readout in ("last", "all") and cls.loss in ("mse", "cross_entropy")


@pytest.mark.parametrize("name", ["row-mnist", "multisensory", "binary-mnist", "sine"])
def test_from_config_builds_the_task_of_the_paper_config(name):
    from sims.presets import paper_config

    config = paper_config(name)
    task = TASKS[name].from_config(config)
    assert task.dtype == np.float64
    mask = task.input_mask(16)
    assert mask is None or mask.shape == (16, task.n_in)
