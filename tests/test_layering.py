"""The folders are a pipeline and imports point one way (docs/model.md, "Layout").

- ``theory`` (symbolic and analytic results) and ``dynamics`` (the numerical model) are
  independent of each other and of everything else in the repository.
- ``sims`` (experiments, commands, stored results) may import ``theory``, ``dynamics`` and
  ``figures``.
- ``figures`` imports nothing of ``sims``, ``dynamics`` or ``theory``, nor numba or sympy: it
  reads result files only (:mod:`figures.resultfiles`), so drawing a figure never trains,
  simulates or compiles anything.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: For each top-level package, the packages it must never import.
FORBIDDEN = {
    "theory": {"dynamics", "sims", "figures"},
    "dynamics": {"theory", "sims", "figures"},
    "sims": set(),
    "figures": {"sims", "dynamics", "theory", "numba", "sympy"},
}


def imported_top_level_names(path: Path) -> set[str]:
    """Top-level names of every absolute import in ``path``, at any depth (functions too)."""
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


def test_importing_every_figure_module_loads_no_simulation_code():
    """In a fresh interpreter, importing all of ``figures`` leaves sims, dynamics, theory, numba
    and sympy out of ``sys.modules`` (an indirect import would show here, not in the AST)."""
    modules = sorted(
        "figures" if path.stem == "__init__" else f"figures.{path.stem}"
        for path in (ROOT / "figures").glob("*.py")
    )
    forbidden = sorted(FORBIDDEN["figures"])
    program = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"loaded = sorted({{m.split('.')[0] for m in sys.modules}} & set({forbidden!r}))\n"
        "print(','.join(loaded))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "", f"figures loaded: {completed.stdout.strip()}"
