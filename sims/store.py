"""Run-specific storage: TOML configs, npz arrays, checkpoints, config hashes and run metadata.

The result-file format itself (schemas, the atomic writer, the JSON converter, the readers) is
:mod:`figures.resultfiles`; this module re-exports it, so that ``sims`` writes every file through
``sims.store``. The layout of a training run directory is :mod:`sims.runs`.

Every write is atomic (:func:`atomic_write_bytes`: temporary file in the same directory, ``fsync``,
``os.replace``), so a reader, or a run resumed after ``SIGKILL``, sees either the old or the new
file, never half of one.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import numpy as np
import tomli_w
from threadpoolctl import threadpool_info

from figures.resultfiles import (
    FIGURES_DIR,
    PHASE_DIR,
    PHASE_SCANS,
    RESULT_STEMS,
    RESULTS_DIR,
    RUNS_DIR,
    SCAN_FILE,
    SCHEMAS,
    SUMMARY_FILE,
    DamagedFileError,
    Result,
    Schema,
    atomic_write_bytes,
    read_arrays,
    read_json,
    read_result,
    to_json,
    write_arrays,
    write_json,
    write_result,
)

try:
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "FIGURES_DIR",
    "PHASE_DIR",
    "PHASE_SCANS",
    "RESULTS_DIR",
    "RESULT_STEMS",
    "RUNS_DIR",
    "SCAN_FILE",
    "SCHEMAS",
    "SUMMARY_FILE",
    "TRACKED_PACKAGES",
    "DamagedFileError",
    "Result",
    "Schema",
    "atomic_write_bytes",
    "atomic_write_toml",
    "blas_libraries",
    "config_hash",
    "git_commit",
    "package_versions",
    "read_arrays",
    "read_checkpoint",
    "read_json",
    "read_result",
    "read_toml",
    "run_metadata",
    "to_json",
    "write_arrays",
    "write_checkpoint",
    "write_json",
    "write_result",
]

#: Packages whose versions every run records.
TRACKED_PACKAGES = (
    "sasrnn",
    "numpy",
    "scipy",
    "numba",
    "scikit-learn",
    "threadpoolctl",
    "tqdm",
    "tomli-w",
    "mlxtend",
)

_REPO_ROOT = Path(__file__).resolve().parent.parent
_STATE_KEY = "state"


def atomic_write_toml(path: str | os.PathLike, config: dict) -> Path:
    """Write a config dict as TOML with tomli_w, atomically (TOML has no null: no None values)."""
    return atomic_write_bytes(path, tomli_w.dumps(config).encode())


def read_toml(path: str | os.PathLike) -> dict:
    """Read a TOML file with tomllib.

    Raises:
        FileNotFoundError: the file is missing.
        DamagedFileError: the file is not valid TOML.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{str(path)!r} does not exist; is this a sasrnn run directory?")
    try:
        return tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise DamagedFileError(
            f"{str(path)!r} is not valid TOML ({error}); restore it or train the run again."
        ) from None


def write_checkpoint(path: str | os.PathLike, arrays: dict[str, np.ndarray], state: dict) -> Path:
    """One atomic ``.npz`` holding ``arrays`` and the JSON of ``state`` (counters, RNG states).

    Both live in one file, so a resumed run never sees arrays and state of different moments.
    """
    if _STATE_KEY in arrays:
        raise ValueError(f"checkpoint arrays may not be named {_STATE_KEY!r}.")
    text = json.dumps(to_json(state, allow_nan=True), allow_nan=False)
    return write_arrays(path, {**arrays, _STATE_KEY: np.array(text)})


def read_checkpoint(path: str | os.PathLike, *, fix: str = "") -> tuple[dict, dict]:
    """``(arrays, state)`` of a checkpoint written by :func:`write_checkpoint`.

    Raises:
        FileNotFoundError: the file is missing.
        DamagedFileError: truncated, or without a readable state.
    """
    arrays = read_arrays(path, fix=fix)
    try:
        state = json.loads(str(arrays.pop(_STATE_KEY)))
    except (KeyError, json.JSONDecodeError):
        raise DamagedFileError(
            f"{str(path)!r} holds no readable training state; "
            f"{fix or 'delete it to start the run afresh'}"
        ) from None
    return arrays, state


def config_hash(config: dict) -> str:
    """sha256 (hex) of the canonical JSON of ``config`` (sorted keys): the key of results caches.

    Equal configs hash equally whatever their key order; ints and floats of equal value do not
    (TOML distinguishes them too).
    """
    payload = json.dumps(to_json(config, allow_nan=True), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


def package_versions() -> dict[str, str]:
    """Installed versions of :data:`TRACKED_PACKAGES` ("not installed" where missing)."""
    versions = {"python": platform.python_version()}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def blas_libraries() -> list[dict[str, str]]:
    """The loaded BLAS libraries with their version and kernel family.

    OpenBLAS picks its kernels (``architecture``) from the CPU at load time, or from the
    ``OPENBLAS_CORETYPE`` environment variable; results are bit-for-bit repeatable only under
    the same kernels, so every run records them.
    """
    return [
        {
            "library": Path(lib["filepath"]).name,
            "internal_api": lib.get("internal_api", ""),
            "version": str(lib.get("version")),
            "architecture": str(lib.get("architecture")),
        }
        for lib in threadpool_info()
        if lib.get("user_api") == "blas"
    ]


def git_commit(directory: str | os.PathLike | None = None) -> str:
    """``git rev-parse HEAD`` of the source tree, or "unknown" (no git, no commits, not a repo)."""
    try:
        completed = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=directory or _REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    commit = completed.stdout.strip()
    return commit if completed.returncode == 0 and commit else "unknown"


def run_metadata(config: dict) -> dict:
    """What a run records about itself: seed, config hash, versions, git commit, host, command."""
    return {
        "task": config.get("task"),
        "seed": config.get("seed"),
        "config_hash": config_hash(config),
        "git_commit": git_commit(),
        "versions": package_versions(),
        "blas": blas_libraries(),
        "platform": platform.platform(),
        "command": list(sys.argv),
    }
