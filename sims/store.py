"""Results store: run directories, atomic JSON / TOML / npz writes, run metadata, config hashes.

Every file a run writes goes through :func:`atomic_write_bytes` (temporary file in the same
directory, ``fsync``, then ``os.replace``), so a reader (or a resumed run after ``SIGKILL``) sees
either the old or the new file, never half of one.

A training run directory (:mod:`sims.train`) holds::

    config.toml        the fully resolved config (read back with tomllib)
    run.json           seed, config hash, package versions, git commit, command, status, times
    metrics.json       {"epochs": [per-epoch dicts], "final": {...}}
    params.npz         final parameters, nine blocks "inp.m" ... "out.xi"
    checkpoint.npz     parameters, optimizer state, RNG states and counters (for --resume)
    snapshots/epoch_000000.npz ...   parameters after every epoch (epoch 0 = initial state)
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import tomli_w
from threadpoolctl import threadpool_info

try:
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "CHECKPOINT_FILE",
    "CONFIG_FILE",
    "METRICS_FILE",
    "PARAMS_FILE",
    "RUN_FILE",
    "SNAPSHOT_DIR",
    "TRACKED_PACKAGES",
    "atomic_savez",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_toml",
    "blas_libraries",
    "config_hash",
    "git_commit",
    "jsonable",
    "package_versions",
    "read_json",
    "read_toml",
    "run_metadata",
]

CONFIG_FILE = "config.toml"
RUN_FILE = "run.json"
METRICS_FILE = "metrics.json"
PARAMS_FILE = "params.npz"
CHECKPOINT_FILE = "checkpoint.npz"
SNAPSHOT_DIR = "snapshots"

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


def _file_mode() -> int:
    """Permissions of an ordinary new file under the current umask (mkstemp would use 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


_FILE_MODE = _file_mode()


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically: temporary file + fsync + ``os.replace``.

    Creates the parent directory if needed. Returns the path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, _FILE_MODE)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return path


def jsonable(value: Any) -> Any:
    """Convert numpy scalars/arrays, tuples and paths to JSON types; non-finite floats → None."""
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, os.PathLike):
        return str(value)
    return value


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Write ``obj`` as indented JSON (NaN/inf stored as null), atomically."""
    text = json.dumps(jsonable(obj), indent=1, sort_keys=False, allow_nan=False)
    return atomic_write_bytes(path, (text + "\n").encode())


def read_json(path: str | os.PathLike) -> Any:
    """Read a JSON file.

    Raises:
        FileNotFoundError: the file is missing (the message names it).
        ValueError: the file is not valid JSON.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{str(path)!r} does not exist; is this a sasrnn run directory?")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(
            f"{str(path)!r} is not valid JSON ({error}); the file is corrupt."
        ) from None


def atomic_write_toml(path: str | os.PathLike, config: dict) -> Path:
    """Write a config dict as TOML with tomli_w, atomically (TOML has no null: no None values)."""
    return atomic_write_bytes(path, tomli_w.dumps(config).encode())


def read_toml(path: str | os.PathLike) -> dict:
    """Read a TOML file with tomllib.

    Raises:
        FileNotFoundError: the file is missing.
        ValueError: the file is not valid TOML.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{str(path)!r} does not exist; is this a sasrnn run directory?")
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{str(path)!r} is not valid TOML ({error}).") from None


def atomic_savez(path: str | os.PathLike, arrays: dict[str, np.ndarray]) -> Path:
    """Save a dict of arrays as an uncompressed ``.npz``, atomically."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return atomic_write_bytes(path, buffer.getvalue())


def config_hash(config: dict) -> str:
    """sha256 (hex) of the canonical JSON of ``config`` (sorted keys): the key of results caches.

    Equal configs hash equally whatever their key order; ints and floats of equal value do not
    (TOML distinguishes them too).
    """
    payload = json.dumps(jsonable(config), sort_keys=True, separators=(",", ":"))
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
