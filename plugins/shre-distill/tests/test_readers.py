"""Caption readers on the real Flickr8k slice and on broken files written here."""

import json
import shutil
import tarfile
from pathlib import Path

import pytest
import torch
from shre.errors import ConfigError, DataError
from shre_distill.data.layout import detect_format, read_split
from shre_distill.data.readers import read_jsonl, read_karpathy, read_tsv
from shre_distill.data.webdataset import WebDatasetPairs, iter_shard
from torchvision import transforms as T

DATA = Path(__file__).parent / "data" / "flickr8k_64"


def test_jsonl_reads_real_slice():
    records = read_jsonl(DATA / "captions.jsonl")
    assert len(records) == 64
    assert all(len(record.captions) == 5 for record in records)
    assert records[0].image.name == "1000268201_693b08cb0e.jpg"
    assert records[3].image_id == 3


def test_jsonl_rejects_invalid_json_with_line(tmp_path):
    path = tmp_path / "captions.jsonl"
    path.write_text('{"image": "a.jpg", "captions": ["x"]}\nnot json\n')
    with pytest.raises(DataError, match=r"captions.jsonl:2: line is not valid JSON"):
        read_jsonl(path, check_images=False)


def test_jsonl_rejects_missing_key_with_line(tmp_path):
    path = tmp_path / "captions.jsonl"
    path.write_text('{"image": "a.jpg"}\n')
    with pytest.raises(DataError, match=r"captions.jsonl:1: missing key 'captions'"):
        read_jsonl(path, check_images=False)


def test_jsonl_rejects_missing_image(tmp_path):
    path = tmp_path / "captions.jsonl"
    path.write_text('{"image": "images/missing.jpg", "captions": ["a dog"]}\n')
    with pytest.raises(DataError, match=r"missing.jpg.*does not exist"):
        read_jsonl(path)


def test_missing_caption_file_names_it(tmp_path):
    with pytest.raises(DataError, match="nothere.jsonl"):
        read_jsonl(tmp_path / "nothere.jsonl")


def write_karpathy(folder: Path) -> Path:
    records = [json.loads(line) for line in (DATA / "captions.jsonl").read_text().splitlines()[:4]]
    (folder / "images").mkdir()
    images = []
    splits = ("train", "restval", "val", "test")
    for position, (record, split) in enumerate(zip(records, splits, strict=True)):
        shutil.copy(DATA / record["image"], folder / "images")
        images.append(
            {
                "filepath": "images",
                "filename": Path(record["image"]).name,
                "split": split,
                "cocoid": 100 + position,
                "sentences": [{"raw": text} for text in record["captions"]],
            }
        )
    path = folder / "dataset_coco.json"
    path.write_text(json.dumps({"images": images, "dataset": "coco"}))
    return path


def test_karpathy_train_includes_restval(tmp_path):
    path = write_karpathy(tmp_path)
    assert [record.image_id for record in read_karpathy(path, "train")] == [100, 101]


def test_karpathy_test_split_has_all_captions(tmp_path):
    records = read_karpathy(write_karpathy(tmp_path), "test")
    assert len(records) == 1
    assert len(records[0].captions) == 5


def test_karpathy_missing_key_is_data_error(tmp_path):
    path = tmp_path / "dataset_flickr30k.json"
    path.write_text(json.dumps({"images": [{"split": "test", "sentences": []}]}))
    with pytest.raises(DataError, match=r"images\[0\] is missing the key 'filename'"):
        read_karpathy(path, "test")


def test_tsv_with_header(tmp_path):
    shutil.copy(DATA / "images" / "1000268201_693b08cb0e.jpg", tmp_path / "a.jpg")
    (tmp_path / "train.tsv").write_text("caption\tfilepath\na girl on stairs\ta.jpg\n")
    records = read_tsv(tmp_path / "train.tsv")
    assert records[0].captions == ("a girl on stairs",)


def test_tsv_without_header(tmp_path):
    shutil.copy(DATA / "images" / "1000268201_693b08cb0e.jpg", tmp_path / "a.jpg")
    (tmp_path / "train.tsv").write_text("a girl on stairs\ta.jpg\n")
    assert read_tsv(tmp_path / "train.tsv")[0].image == tmp_path / "a.jpg"


def test_tsv_rejects_urls(tmp_path):
    (tmp_path / "train.tsv").write_text("a dog\thttp://example.invalid/a.jpg\n")
    with pytest.raises(DataError, match=r"train.tsv:1: .* is a URL"):
        read_tsv(tmp_path / "train.tsv")


def test_layout_holds_out_last_images():
    options = {"val_images": 16}
    train = read_split(DATA, "train", options)
    validation = read_split(DATA, "validation", options)
    assert len(train) == 48
    assert len(validation) == 16
    assert validation[0].image_id == 48


def test_layout_rejects_holding_out_everything():
    with pytest.raises(ConfigError, match="val_images"):
        read_split(DATA, "train", {"val_images": 64})


def write_jsonl(path: Path, lines: list[str]) -> None:
    """Write caption lines of the slice with absolute image paths, so any folder can hold them."""
    entries = [json.loads(line) for line in lines]
    for entry in entries:
        entry["image"] = str(DATA / entry["image"])
    path.write_text("".join(json.dumps(entry) + "\n" for entry in entries))


def test_layout_captions_jsonl_has_no_test_split():
    with pytest.raises(DataError, match=r"no 'test' split in .*flickr8k_64.*add test\.jsonl"):
        read_split(DATA, "test", {"val_images": 16})


def test_layout_rejects_unknown_split():
    with pytest.raises(DataError, match=r"no 'val' split .*splits found: 'train', 'validation'"):
        read_split(DATA, "val", {"val_images": 16})


def test_layout_reads_test_jsonl_next_to_captions(tmp_path):
    lines = (DATA / "captions.jsonl").read_text().splitlines()
    write_jsonl(tmp_path / "captions.jsonl", lines[:8])
    write_jsonl(tmp_path / "test.jsonl", lines[60:])
    records = read_split(tmp_path, "test", {"val_images": 2})
    assert [record.image.name for record in records] == [
        Path(json.loads(line)["image"]).name for line in lines[60:]
    ]


def test_layout_train_jsonl_turns_off_holdout(tmp_path):
    lines = (DATA / "captions.jsonl").read_text().splitlines()
    write_jsonl(tmp_path / "captions.jsonl", lines[:8])
    write_jsonl(tmp_path / "train.jsonl", lines[:8])
    with pytest.raises(DataError, match=r"no 'validation' split"):
        read_split(tmp_path, "validation", {})


def test_layout_tsv_needs_validation_jsonl(tmp_path):
    shutil.copy(DATA / "images" / "1000268201_693b08cb0e.jpg", tmp_path / "a.jpg")
    (tmp_path / "train.tsv").write_text("a girl on stairs\ta.jpg\n")
    with pytest.raises(DataError, match=r"no 'validation' split .*\(tsv layout; splits found: 'train'\)"):
        read_split(tmp_path, "validation", {})


def test_layout_webdataset_needs_test_jsonl(tmp_path):
    write_shards(tmp_path)
    with pytest.raises(DataError, match=r"no 'test' split .*webdataset layout; splits found: 'train'"):
        read_split(tmp_path, "test", {})


def test_layout_webdataset_train_needs_jsonl_to_score(tmp_path):
    write_shards(tmp_path)
    with pytest.raises(DataError, match=r"only training reads; add train\.jsonl"):
        read_split(tmp_path, "train", {})


def test_karpathy_unknown_split_names_file(tmp_path):
    path = write_karpathy(tmp_path)
    with pytest.raises(DataError, match=r"no 'val' split in .*dataset_coco\.json"):
        read_split(tmp_path, "val", {})


def test_karpathy_empty_split_is_data_error(tmp_path):
    path = tmp_path / "dataset_flickr30k.json"
    path.write_text(json.dumps({"images": [{"split": "train", "filename": "a.jpg", "sentences": []}]}))
    with pytest.raises(DataError, match=r"'test' split is empty"):
        read_karpathy(path, "test", check_images=False)


def test_layout_detects_jsonl():
    assert detect_format(DATA) == "jsonl"


def test_layout_empty_folder_is_data_error(tmp_path):
    with pytest.raises(DataError, match="no image-caption data"):
        detect_format(tmp_path)


def write_shards(folder: Path, per_shard: int = 3, shards: int = 2) -> list[Path]:
    """Write img2dataset-style shards: NNNNN.jpg + NNNNN.txt (+ a lone .json) per sample."""
    records = [json.loads(line) for line in (DATA / "captions.jsonl").read_text().splitlines()]
    paths = []
    for shard in range(shards):
        path = folder / f"{shard:05d}.tar"
        with tarfile.open(path, "w") as archive:
            for offset in range(per_shard):
                key = f"{shard * per_shard + offset:09d}"
                record = records[shard * per_shard + offset]
                archive.add(DATA / record["image"], arcname=f"{key}.jpg")
                caption = folder / f"{key}.txt"
                caption.write_text(record["captions"][0])
                archive.add(caption, arcname=f"{key}.txt")
            failed = folder / "failed.json"
            failed.write_text("{}")
            archive.add(failed, arcname="999999999.json")
        paths.append(path)
    return paths


def test_webdataset_shard_yields_complete_samples(tmp_path):
    shard = write_shards(tmp_path)[0]
    samples = list(iter_shard(shard))
    assert [key for key, _, _ in samples] == ["000000000", "000000001", "000000002"]
    assert samples[0][2].startswith("A child in a pink dress")


def test_webdataset_streams_every_sample_once(tmp_path):
    shards = write_shards(tmp_path)
    dataset = WebDatasetPairs(
        shards, T.Compose([T.Resize((16, 16)), T.ToTensor()]), shuffle_buffer=4
    )
    items = list(dataset)
    assert sorted(item["image_id"] for item in items) == list(range(6))
    assert items[0]["image"].shape == (3, 16, 16)
    assert len(dataset) == 6


def test_webdataset_splits_shards_across_workers(tmp_path):
    shards = write_shards(tmp_path, per_shard=2, shards=4)
    dataset = WebDatasetPairs(shards, T.Compose([T.Resize((8, 8)), T.ToTensor()]), shuffle_buffer=0)
    loader = torch.utils.data.DataLoader(dataset, batch_size=None, num_workers=2)
    ids = sorted(item["image_id"] for item in loader)
    assert ids == list(range(8))


def test_indexed_shards_match_streamed_samples(tmp_path):
    from shre_distill.data.webdataset import IndexedShards

    shards = write_shards(tmp_path)
    transform = T.Compose([T.Resize((16, 16)), T.ToTensor()])
    indexed = IndexedShards(shards, transform)
    streamed = {
        item["image_id"]: item for item in WebDatasetPairs(shards, transform, shuffle_buffer=0)
    }
    assert len(indexed) == 6
    for index in range(len(indexed)):
        item = indexed[index]
        assert item["caption"] == streamed[item["image_id"]]["caption"]
        assert torch.equal(item["image"], streamed[item["image_id"]]["image"])


def test_indexed_shards_reject_compressed(tmp_path):
    from shre_distill.data.webdataset import IndexedShards

    path = tmp_path / "00000.tar"
    with tarfile.open(path, "w:gz") as archive:
        archive.add(DATA / "captions.jsonl", arcname="000.txt")
    with pytest.raises(DataError, match="only uncompressed .tar"):
        IndexedShards([path], lambda image: image)
