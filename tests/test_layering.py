"""The folders are a pipeline: imports point one way (docs/model.md, "Layout")."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: For each top-level package, the sibling packages it must never import.
FORBIDDEN = {
    "theory": {"dynamics", "sims", "figures"},
    "dynamics": {"theory", "sims", "figures"},
    "sims": {"figures"},
    "figures": set(),
}


def imported_top_level_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_packages_upstream_of_it(package):
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"package {package}/ has no modules"
    offenders = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in files
        for name in imported_top_level_names(path) & FORBIDDEN[package]
    }
    assert not offenders, sorted(offenders)


def test_figures_never_import_training_code():
    """A figure draws only from stored results; it never trains."""
    training_modules = {"sims.train", "sims.training", "dynamics.optim"}
    offenders = []
    for path in sorted((ROOT / "figures").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module in training_modules:
                offenders.append(f"{path.name}: {node.module}")
            if isinstance(node, ast.Import):
                offenders += [
                    f"{path.name}: {a.name}" for a in node.names if a.name in training_modules
                ]
    assert not offenders
