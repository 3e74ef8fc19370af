"""One writer: no module but the store serialises JSON or npz itself."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: The store: the result-file format and the run-specific writers built on it.
STORE = {ROOT / "figures" / "resultfiles.py", ROOT / "sims" / "store.py"}
FORBIDDEN = {("json", "dump"), ("json", "dumps"), ("np", "savez"), ("numpy", "savez")}
MODULES = sorted(
    path
    for package in ("sims", "figures")
    for path in (ROOT / package).rglob("*.py")
    if path not in STORE
)


def _serialising_calls(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if isinstance(owner, ast.Name) and (owner.id, node.func.attr) in FORBIDDEN:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {owner.id}.{node.func.attr}")
    return found


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_module_writes_json_and_npz_only_through_the_store(path):
    assert _serialising_calls(path) == []
