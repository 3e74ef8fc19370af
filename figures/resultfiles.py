"""The result-file format: names, schemas, one atomic writer, one JSON converter, one reader.

Every result sasrnn stores is a *result*: ``STEM.json`` (a summary dict) and, where arrays are
needed, ``STEM.npz`` beside it. The JSON carries ``"schema": {"name": ..., "version": ...}``, so
a reader knows what it holds; reading a file whose schema name differs from the expected one, or
whose version this code does not know, is one clear error. The figures read only such files, and
``sims.store`` writes them through this module, so the format is written down once and owned by
the leaf package that reads it (this module imports nothing of sasrnn and nothing numerical but
NumPy).

Writes are atomic (temporary file in the same directory, ``fsync``, ``os.replace``): a reader, or a
run resumed after ``SIGKILL``, sees the old file or the new one, never half of one.

JSON conversion (:func:`to_json`) accepts dicts, lists, tuples, strings, bools, ints, floats,
None, paths and NumPy scalars and arrays, and refuses anything else with the key path it found.
A non-finite float is an error unless the schema admits it (``Schema.nullable``); then it is
written as ``null``.

A reproduction's output directory OUT holds::

    OUT/summary.json            headline claims, reductions, stage timings (schema "summary")
    OUT/figures/NAME.png|pdf    the figures
    OUT/runs/<task>-seed<k>-<hash12>/   training runs (layout: sims.runs)
    OUT/results/STEM.json|npz   the results the figures draw from (:data:`RESULT_STEMS`)

Example:
    >>> import tempfile, numpy as np
    >>> from pathlib import Path
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = write_result(folder / "vip", "vip", {"vip_fraction": 0.01}, {"fractions": np.ones(3)})
    >>> result = read_result(folder / "vip", "vip")
    >>> result.summary["vip_fraction"], result.arrays["fractions"].shape
    (0.01, (3,))
"""

from __future__ import annotations

import io
import json
import math
import os
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "FIGURES_DIR",
    "RESULTS_DIR",
    "RESULT_STEMS",
    "RUNS_DIR",
    "SCHEMAS",
    "SUMMARY_FILE",
    "DamagedFileError",
    "Result",
    "Schema",
    "atomic_write_bytes",
    "read_arrays",
    "read_json",
    "read_result",
    "to_json",
    "write_arrays",
    "write_json",
    "write_result",
]


@dataclass(frozen=True)
class Schema:
    """A kind of result file.

    Attributes:
        version: the current version; bump it when the meaning or layout of the file changes.
        nullable: whether non-finite floats may be stored (as JSON ``null``, read back as None).
        description: what the file holds.
    """

    version: int
    nullable: bool = False
    description: str = ""


#: Every kind of stored file, whichever command writes it.
SCHEMAS: dict[str, Schema] = {
    # files of a training run (sims.runs)
    "run-info": Schema(1, description="run.json: seed, config hash, versions, git commit, status"),
    "metrics": Schema(1, nullable=True, description="metrics.json: per-epoch and final metrics"),
    # results of analyses and reproduction stages
    "runs-index": Schema(1, description="training run directories per task, relative paths"),
    "stages": Schema(1, description="per stage: cache key, seconds, files"),
    "summary": Schema(1, nullable=True, description="headline claims, reductions, timings"),
    "training-curves": Schema(
        2,
        nullable=True,
        description="per-epoch test accuracy and final accuracies per run; seed means with "
        "95% t-intervals",
    ),
    "preset-comparison": Schema(
        1,
        nullable=True,
        description="final accuracy of the ensemble minus ordinary BPTT, paired by seed, with "
        "its 95% t-interval",
    ),
    "trained-parameters": Schema(1, description="trained (m, π, Ξ) blocks of one run"),
    "msi-example": Schema(1, description="one training trial and test outputs of the MSI task"),
    "psychometric": Schema(
        3, nullable=True, description="P(high) curves, their fits, bands and seed intervals"
    ),
    "vip": Schema(
        2,
        nullable=True,
        description="VIP fraction; target-removal curves of the VIPs and of three controls, one "
        "removal draw per test batch",
    ),
    "selectivity": Schema(
        2,
        nullable=True,
        description="SLI, classes and example traces, beside the untrained network and "
        "condition shuffles",
    ),
    "over-seeds": Schema(
        1,
        nullable=True,
        description="an analysis of every analysed seed of a task: per-seed values, seed means "
        "with 95% t-intervals beside their nulls or controls, paired differences",
    ),
    "projection": Schema(1, nullable=True, description="PCA of neural trajectories"),
    "synaptic-projection": Schema(1, nullable=True, description="PCA of (m, π, Ξ) snapshots"),
    "symmetry": Schema(1, nullable=True, description="symmetry breaking of π and Ξ"),
    "entropy": Schema(1, nullable=True, description="ensemble entropy I and II per iteration"),
    "plasticity": Schema(1, nullable=True, description="stochastic-plasticity ablation"),
    "toy": Schema(1, nullable=True, description="toy-model curves over runs"),
    "quenched": Schema(
        1, nullable=True, description="quenched vs annealed accuracies over scaled Ξ and π = 0"
    ),
    "kernel-circle": Schema(
        2, nullable=True, description="analytic vs empirical RNTK over φ, slope with interval"
    ),
    "kernel-curves": Schema(
        2, nullable=True, description="BPTT vs RNTK learning curves, gaps with intervals"
    ),
    "scan": Schema(1, nullable=True, description="a two-parameter scan: axes, cells, theory"),
    "scan-cell": Schema(1, nullable=True, description="one cell of a scan"),
    "trainability": Schema(
        1, nullable=True, description="best initial g per pi0 row and the edge-of-chaos verdict"
    ),
    "evaluation": Schema(1, nullable=True, description="sasrnn evaluate of a stored run"),
    "benchmark": Schema(1, nullable=True, description="timings of sasrnn bench"),
    "benchmark-suite": Schema(
        1, nullable=True, description="sasrnn bench --suite: the whole job's timings as ratios"
    ),
}

RESULTS_DIR = "results"
FIGURES_DIR = "figures"
RUNS_DIR = "runs"
SUMMARY_FILE = "summary.json"

#: Stem (under OUT/results) → schema name, for every result a reproduction writes.
RESULT_STEMS: dict[str, str] = {
    "runs": "runs-index",
    "stages": "stages",
    "training_pixel": "training-curves",
    "training_row": "training-curves",
    "training_msi": "training-curves",
    "training_fashion": "training-curves",
    "training_symmetry": "training-curves",
    "training_pixel_bptt": "training-curves",
    "training_row_bptt": "training-curves",
    "training_msi_bptt": "training-curves",
    "training_fashion_bptt": "training-curves",
    "comparison_pixel": "preset-comparison",
    "comparison_row": "preset-comparison",
    "comparison_msi": "preset-comparison",
    "comparison_fashion": "preset-comparison",
    "parameters_msi": "trained-parameters",
    "parameters_pixel": "trained-parameters",
    "parameters_row": "trained-parameters",
    "parameters_fashion": "trained-parameters",
    "msi_example": "msi-example",
    "psychometric": "psychometric",
    "vip": "vip",
    "vip_seeds": "over-seeds",
    "selectivity": "selectivity",
    "selectivity_seeds": "over-seeds",
    "kernel_circle": "kernel-circle",
    "kernel_curves": "kernel-curves",
    "projection_mnist": "projection",
    "projection_msi": "projection",
    "projection_seeds": "over-seeds",
    "synaptic_row": "synaptic-projection",
    "synaptic_msi": "synaptic-projection",
    "synaptic_seeds": "over-seeds",
    "symmetry_row": "symmetry",
    "symmetry_seeds": "over-seeds",
    "entropy_msi": "entropy",
    "toy": "toy",
}

#: The phase scans a reproduction runs, each in OUT/results/phase/<name>/scan.json.
PHASE_DIR = "phase"
PHASE_SCANS = ("tanh-quenched-g-pi", "tanh-meanfield-g-pi")
SCAN_FILE = "scan.json"


class DamagedFileError(ValueError):
    """A stored file exists but cannot be used: truncated, not the format, or an unknown schema.

    The message names the file, what is wrong with it and the way forward.
    """


@dataclass
class Result:
    """A result read back: its summary dict (schema key removed) and its arrays (or {})."""

    path: Path
    schema: str
    version: int
    summary: dict
    arrays: dict[str, np.ndarray] = field(default_factory=dict)


# -- writing -------------------------------------------------------------------------------------
def _file_mode() -> int:
    """Permissions of an ordinary new file under the current umask (mkstemp would use 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


_FILE_MODE = _file_mode()


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically: temporary file, fsync, ``os.replace``.

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


def to_json(value: Any, *, allow_nan: bool = False, where: str = "") -> Any:
    """``value`` as plain JSON types; refuses what JSON cannot hold faithfully.

    Args:
        value: dicts (keys become strings), lists, tuples, str, bool, int, float, None, paths,
            NumPy scalars and arrays.
        allow_nan: write non-finite floats as None (null); otherwise they are an error.
        where: the key path of ``value``, for error messages.

    Raises:
        TypeError: a value of another type (the message gives its key path and type).
        ValueError: a non-finite float where ``allow_nan`` is False.
    """
    if isinstance(value, Mapping):
        return {
            str(key): to_json(item, allow_nan=allow_nan, where=f"{where}.{key}")
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [
            to_json(item, allow_nan=allow_nan, where=f"{where}[{index}]")
            for index, item in enumerate(value)
        ]
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise TypeError(f"{where or 'value'}: arrays of dtype {value.dtype} are not stored.")
        return to_json(value.tolist(), allow_nan=allow_nan, where=where)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if math.isfinite(value):
            return value
        if allow_nan:
            return None
        raise ValueError(f"{where or 'value'} is {value}; this result kind stores finite numbers.")
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"{where or 'value'}: a {type(value).__name__} cannot be stored as JSON.")


def _check_schema(schema: str) -> Schema:
    if schema not in SCHEMAS:
        raise ValueError(f"unknown result schema {schema!r}; known: {', '.join(SCHEMAS)}.")
    return SCHEMAS[schema]


def write_json(path: str | os.PathLike, schema: str, content: Mapping) -> Path:
    """Write ``content`` with its schema as indented JSON, atomically; returns the path."""
    kind = _check_schema(schema)
    if "schema" in content:
        raise ValueError("a result's own keys may not include 'schema'.")
    document = {"schema": {"name": schema, "version": kind.version}, **content}
    text = json.dumps(to_json(document, allow_nan=kind.nullable), indent=1, allow_nan=False)
    return atomic_write_bytes(path, (text + "\n").encode())


def write_arrays(path: str | os.PathLike, arrays: Mapping[str, Any]) -> Path:
    """Save named arrays as an uncompressed ``.npz``, atomically; returns the path.

    Numbers and strings only: object arrays (which would need pickle to read) are refused.

    Raises:
        TypeError: an array of another dtype.
    """
    converted = {}
    for key, array in arrays.items():
        array = np.asarray(array)
        if array.dtype.kind not in "biufU":
            raise TypeError(f"array {key!r}: dtype {array.dtype} is not stored.")
        converted[key] = array
    buffer = io.BytesIO()
    np.savez(buffer, **converted)
    return atomic_write_bytes(path, buffer.getvalue())


def write_result(
    stem: str | os.PathLike,
    schema: str,
    summary: Mapping,
    arrays: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Write ``stem.json`` (and ``stem.npz`` when ``arrays`` is non-empty); returns the paths.

    The npz is written first, so a summary never names arrays that are not there.

    Raises:
        TypeError / ValueError: content JSON cannot hold (see :func:`to_json`), object arrays,
            an unknown schema.
    """
    stem = Path(stem)
    paths = []
    summary = dict(summary)
    if arrays:
        paths.append(write_arrays(stem.with_suffix(".npz"), arrays))
        summary["arrays_file"] = stem.with_suffix(".npz").name
    paths.insert(0, write_json(stem.with_suffix(".json"), schema, summary))
    return paths


# -- reading -------------------------------------------------------------------------------------
def _damaged(path: Path, what: str, fix: str) -> DamagedFileError:
    return DamagedFileError(f"{str(path)!r} {what}; {fix}")


def read_json(path: str | os.PathLike, schema: str | None = None, *, fix: str = "") -> dict:
    """Read a JSON file written by :func:`write_json` and check its schema.

    Args:
        path: the file.
        schema: the expected schema name (None: any known schema).
        fix: what to do about a damaged file (appended to the error message).

    Returns:
        The content without its ``schema`` key.

    Raises:
        FileNotFoundError: the file is missing (the message names it).
        DamagedFileError: not valid JSON, no schema, another schema, or an unknown version.
    """
    path = Path(path)
    fix = fix or "delete it and run the command that writes it again"
    if not path.is_file():
        raise FileNotFoundError(f"{str(path)!r} does not exist.")
    try:
        document = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise _damaged(path, f"is not valid JSON ({error})", fix) from None
    stored = document.get("schema") if isinstance(document, dict) else None
    if not isinstance(stored, dict) or not {"name", "version"} <= set(stored):
        raise _damaged(path, "has no schema name and version (not a sasrnn result file)", fix)
    name, version = stored["name"], stored["version"]
    if schema is not None and name != schema:
        raise _damaged(path, f"holds a {name!r} result, not {schema!r}", fix)
    if name not in SCHEMAS:
        raise _damaged(path, f"has the unknown schema {name!r}", fix)
    if version != SCHEMAS[name].version:
        raise _damaged(
            path,
            f"has version {version} of the {name!r} schema; this sasrnn reads version "
            f"{SCHEMAS[name].version}",
            "recompute it with this version of sasrnn",
        )
    return {key: value for key, value in document.items() if key != "schema"}


def read_arrays(path: str | os.PathLike, *, fix: str = "") -> dict[str, np.ndarray]:
    """All arrays of an ``.npz`` file, loaded eagerly and checked to be complete.

    Raises:
        FileNotFoundError: the file is missing.
        DamagedFileError: truncated, not an npz, or holding objects (pickles are never read).
    """
    path = Path(path)
    fix = fix or "delete it and run the command that writes it again"
    if not path.is_file():
        raise FileNotFoundError(f"{str(path)!r} does not exist.")
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise _damaged(path, f"is not a complete npz archive ({reason})", fix) from None


def read_result(stem: str | os.PathLike, schema: str) -> Result:
    """Read ``stem.json`` and, if the summary names one, its ``.npz``.

    Raises:
        FileNotFoundError / DamagedFileError: see :func:`read_json` and :func:`read_arrays`.
    """
    stem = Path(stem)
    path = stem.with_suffix(".json")
    summary = read_json(path, schema)
    arrays = {}
    if summary.get("arrays_file"):
        arrays = read_arrays(path.parent / summary["arrays_file"])
    return Result(path, schema, SCHEMAS[schema].version, summary, arrays)
