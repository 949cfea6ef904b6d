"""distill:shre through the engine: training, retrieval and zero-shot evaluation."""

import json

import numpy as np
import pytest
from shre.engine import evaluate, fit


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, make_tiny_config):
    folder = tmp_path_factory.mktemp("distill")
    zeroshot = folder / "zeroshot"
    zeroshot.mkdir()
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, size=(6, 32, 32, 3), dtype=np.uint8)
    np.savez(zeroshot / "test.npz", images=images, labels=np.array([0, 1, 2, 0, 1, 2]))
    (zeroshot / "classes.txt").write_text("dog\ngirl\nbicycle\n")

    config = make_tiny_config(
        folder / "run",
        "train.batch_size=8",
        "train.max_steps=2",
        "train.log_every=1",
        f"task_options.zeroshot_dir={zeroshot}",
        "task_options.zeroshot_templates=simple",
    )
    fit(config)
    return folder / "run"


@pytest.mark.slow
def test_fit_logs_kd_and_itc_losses(run_dir):
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    train = [json.loads(line) for line in lines if '"split": "train"' in line]
    assert "kd_loss" in train[-1]
    assert "itc_loss" in train[-1]


@pytest.mark.slow
def test_fit_reports_retrieval_and_zeroshot(run_dir):
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["main_metric"] == "proj_mean_recall"
    assert summary["final_metrics"]["validation"]["num_images"] == 16
    assert 0 <= summary["final_metrics"]["zeroshot"]["zeroshot_top1"] <= 100


@pytest.mark.slow
def test_evaluate_scores_training_pairs(run_dir):
    results = evaluate(run_dir, split="train_eval")
    assert results["train_eval"]["num_images"] == 48
    assert results["train_eval"]["num_texts"] == 240


@pytest.mark.slow
def test_fit_trains_on_webdataset_shards(tmp_path, make_tiny_config):
    import shutil
    import tarfile
    from pathlib import Path

    source = Path(__file__).parent / "data" / "flickr8k_64"
    lines = (source / "captions.jsonl").read_text().splitlines()
    with tarfile.open(tmp_path / "00000.tar", "w") as archive:
        for position, line in enumerate(lines[:16]):
            record = json.loads(line)
            archive.add(source / record["image"], arcname=f"{position:05d}.jpg")
            caption = tmp_path / "caption.txt"
            caption.write_text(record["captions"][0])
            archive.add(caption, arcname=f"{position:05d}.txt")
    (tmp_path / "images").mkdir()
    for line in lines[16:24]:
        shutil.copy(source / json.loads(line)["image"], tmp_path / "images")
    (tmp_path / "validation.jsonl").write_text("\n".join(lines[16:24]) + "\n")

    config = make_tiny_config(tmp_path / "run", "train.batch_size=8", "train.max_steps=2")
    config["data"]["dir"] = str(tmp_path)
    summary = fit(config)
    assert summary["steps"] == 2
    assert summary["final_metrics"]["validation"]["num_images"] == 8
