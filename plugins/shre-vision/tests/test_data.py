"""npz and image folder loaders, and their errors on bad input."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from shre.errors import DataError
from shre_vision.data import (
    detect_layout,
    load_local_splits,
    load_npz_split,
    read_class_names,
    sample_indices,
)


def test_npz_split_loads_slice(slice_dir):
    split = load_npz_split(
        slice_dir / "train.npz", "train", read_class_names(slice_dir / "classes.txt")
    )
    assert len(split) == 200
    assert split.classes[0] == "airplane"
    assert np.bincount(split.labels).tolist() == [20] * 10


def test_npz_split_image_is_rgb(slice_dir):
    split = load_npz_split(slice_dir / "test.npz", "test")
    image = split.load_image(0)
    assert image.mode == "RGB"
    assert image.size == (32, 32)


def test_npz_split_without_classes_file(slice_dir):
    split = load_npz_split(slice_dir / "test.npz", "test")
    assert split.classes == [str(index) for index in range(10)]


def test_npz_missing_key(tmp_path):
    path = tmp_path / "train.npz"
    np.savez(path, images=np.zeros((2, 8, 8, 3), np.uint8))
    with pytest.raises(DataError, match="has no 'labels' array"):
        load_npz_split(path, "train")


def test_npz_mismatched_lengths(tmp_path):
    path = tmp_path / "train.npz"
    np.savez(path, images=np.zeros((3, 8, 8, 3), np.uint8), labels=np.array([0, 1]))
    with pytest.raises(DataError, match="3 images but 2 labels"):
        load_npz_split(path, "train")


def test_npz_label_out_of_range(tmp_path):
    path = tmp_path / "train.npz"
    np.savez(path, images=np.zeros((3, 8, 8, 3), np.uint8), labels=np.array([0, 1, 5]))
    with pytest.raises(DataError, match=r"label 5 at index 2 is outside \[0, 2\)"):
        load_npz_split(path, "train", ["a", "b"])


def test_npz_negative_label(tmp_path):
    path = tmp_path / "train.npz"
    np.savez(path, images=np.zeros((2, 8, 8, 3), np.uint8), labels=np.array([-1, 0]))
    with pytest.raises(DataError, match="label -1 at index 0"):
        load_npz_split(path, "train", ["a", "b"])


def test_npz_float_images_rejected(tmp_path):
    path = tmp_path / "train.npz"
    np.savez(path, images=np.zeros((2, 8, 8, 3), np.float32), labels=np.array([0, 1]))
    with pytest.raises(DataError, match="dtype float32; store uint8"):
        load_npz_split(path, "train")


def test_npz_grayscale_becomes_rgb(tmp_path):
    path = tmp_path / "train.npz"
    gray = np.arange(2 * 4 * 4, dtype=np.uint8).reshape(2, 4, 4)
    np.savez(path, images=gray, labels=np.array([0, 1]))
    pixels = np.asarray(load_npz_split(path, "train").load_image(1))
    assert pixels.shape == (4, 4, 3)
    assert (pixels[..., 2] == gray[1]).all()


def test_npz_rgba_drops_alpha(tmp_path):
    path = tmp_path / "train.npz"
    rgba = np.full((2, 4, 4, 4), 7, dtype=np.uint8)
    rgba[..., 3] = 0
    np.savez(path, images=rgba, labels=np.array([0, 1]))
    pixels = np.asarray(load_npz_split(path, "train").load_image(0))
    assert pixels.shape == (4, 4, 3)
    assert (pixels == 7).all()


def test_npz_bad_shape(tmp_path):
    path = tmp_path / "train.npz"
    np.savez(path, images=np.zeros((2, 4, 4, 2), np.uint8), labels=np.array([0, 1]))
    with pytest.raises(DataError, match=r"expected N x H x W x 3"):
        load_npz_split(path, "train")


def test_npz_missing_file(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_npz_split(tmp_path / "test.npz", "test")


def test_classes_file_empty_line(tmp_path):
    path = tmp_path / "classes.txt"
    path.write_text("cat\n\ndog\n", encoding="utf-8")
    with pytest.raises(DataError, match="classes.txt:2: empty class name"):
        read_class_names(path)


def test_local_splits_npz(npz_copy):
    splits = load_local_splits(npz_copy, ["train", "test"])
    assert len(splits["test"]) == 100
    assert splits["test"].classes[-1] == "truck"


def test_local_splits_folder(image_folder):
    splits = load_local_splits(image_folder, ["train", "test"])
    assert len(splits["train"]) == 40
    assert len(splits["test"]) == 20
    assert splits["train"].classes == sorted(splits["train"].classes)


def test_folder_labels_follow_sorted_classes(image_folder):
    split = load_local_splits(image_folder, ["train"])["train"]
    assert split.labels[0] == split.classes.index("airplane")
    assert split.labels[-1] == split.classes.index("truck")


def test_folder_val_serves_test(image_folder):
    (image_folder / "test").rename(image_folder / "val")
    assert len(load_local_splits(image_folder, ["test"])["test"]) == 20


def test_folder_image_matches_npz(image_folder, slice_dir):
    folder = load_local_splits(image_folder, ["train"])["train"]
    npz = load_npz_split(slice_dir / "train.npz", "train")
    assert np.array_equal(np.asarray(folder.load_image(0)), np.asarray(npz.load_image(0)))


def test_folder_grayscale_and_rgba(image_folder):
    class_dir = image_folder / "train" / "cat"
    Image.new("L", (8, 8), 100).save(class_dir / "gray.png")
    Image.new("RGBA", (8, 8), (10, 20, 30, 0)).save(class_dir / "rgba.png")
    split = load_local_splits(image_folder, ["train"])["train"]
    modes = {split.load_image(index).mode for index in range(len(split))}
    assert modes == {"RGB"}


def test_folder_undecodable_file(image_folder):
    bad = image_folder / "train" / "airplane" / "broken.jpg"
    bad.write_bytes(b"not an image")
    split = load_local_splits(image_folder, ["train"])["train"]
    with pytest.raises(DataError, match="cannot decode image .*broken.jpg"):
        for index in range(len(split)):
            split.load_image(index)


def test_folder_empty_class(image_folder):
    (image_folder / "train" / "unicorn").mkdir()
    with pytest.raises(DataError, match="unicorn contains no images"):
        load_local_splits(image_folder, ["train"])


def test_folder_test_class_unknown(image_folder):
    (image_folder / "test" / "unicorn").mkdir()
    with pytest.raises(DataError, match=r"class folders \['unicorn'\]"):
        load_local_splits(image_folder, ["train", "test"])


def test_folder_missing_split(image_folder):
    (image_folder / "test").rename(image_folder / "holdout")
    with pytest.raises(DataError, match="split 'test' not found"):
        load_local_splits(image_folder, ["train", "test"])


def test_detect_layout_unknown(tmp_path):
    with pytest.raises(DataError, match="neither train.npz"):
        detect_layout(tmp_path)


def test_detect_layout_missing_dir(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        detect_layout(tmp_path / "nowhere")


def test_sample_indices_keeps_every_class(slice_dir):
    labels = load_npz_split(slice_dir / "train.npz", "train").labels
    indices = sample_indices(len(labels), 50, seed=0)
    assert len(indices) == 50
    assert len(set(labels[indices].tolist())) == 10


def test_sample_indices_none_when_not_needed():
    assert sample_indices(10, None, seed=0) is None
    assert sample_indices(10, 10, seed=0) is None
