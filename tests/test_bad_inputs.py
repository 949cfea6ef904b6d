"""Every bad user input makes ``shre`` exit 2 with an error message, and changes no file.

One table of cases covers the CLI itself (unknown names, option values,
``--set``), YAML config files, GLUE TSV files, image folders, npz arrays,
caption files and checkpoints. Each case builds its bad input in
``tmp_path`` from the real data slices in this repository, runs the real
``shre`` group in-process, and checks four things:

- exit code 2 (``ShreGroup`` maps every ``ShreError`` to it; click's own
  usage errors use it too);
- the output names the offending value: a file name with its line, a key
  or the value itself;
- no Python traceback is printed;
- every file that existed before the run is still there, byte for byte.

Cases that need a trained run share one ``glue:cola`` run of one step on
``shre-tiny``, trained once per module and copied when a case damages it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from shre_cli.main import cli

ROOT = Path(__file__).resolve().parents[1]
GLUE_DATA = ROOT / "plugins" / "shre-glue" / "tests" / "data" / "glue"
CIFAR_SLICE = ROOT / "plugins" / "shre-vision" / "tests" / "data" / "cifar10_slice"
FLICKR_SLICE = ROOT / "plugins" / "shre-distill" / "tests" / "data" / "flickr8k_64"

# One optimiser step on the download-free model, tiny batches, capped splits.
TINY = [
    "--model", "shre-tiny", "--max-steps", "1", "--batch-size", "2",
    "--set", "data.max_train_samples=8", "--set", "data.max_eval_samples=8",
]  # fmt: skip

# timm's test_resnet with random weights replaces the ImageNet teacher (no download).
TINY_TEACHER = [
    "--teacher", "timm:test_resnet",
    "--set", "task_options.teacher_pretrained=false", "--set", "task_options.val_images=2",
]  # fmt: skip


@dataclass
class Shared:
    """Inputs built once per module: a trained run and a second, different one."""

    run: Path
    other_run: Path


@dataclass
class Invocation:
    """What one case runs and what its output must contain."""

    args: list[str]
    expected: str
    watched: list[Path] = field(default_factory=list)


Builder = Callable[[Path, Shared], Invocation]


def sha256_tree(*roots: Path) -> dict[Path, str]:
    """Return the sha256 of every file under ``roots`` (a file root counts as itself)."""
    digests = {}
    for root in roots:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            digests[path] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


def run_shre(args: list[str]):
    """Run the ``shre`` click group in-process and return click's ``Result``.

    ``ShreGroup.invoke`` turns a ``ShreError`` into exit code 2 inside the
    group, so the runner sees the same code and message as the console script.
    """
    return CliRunner().invoke(cli, args, prog_name="shre")


def train_args(task: str, data_dir: Path, output_dir: Path, *extra: str) -> list[str]:
    """Return a one-step ``shre train`` command line for ``task``."""
    return [
        "train", "--task", task, "--data-dir", str(data_dir),
        "--output-dir", str(output_dir), *TINY, *extra,
    ]  # fmt: skip


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> Shared:
    """Train two one-step runs: ``glue:cola`` on text and ``vision:npz`` on images."""
    base = tmp_path_factory.mktemp("bad_inputs_shared")
    glue = base / "glue"
    shutil.copytree(GLUE_DATA / "CoLA", glue / "CoLA")
    run = base / "cola-run"
    result = run_shre(train_args("glue:cola", glue, run))
    assert result.exit_code == 0, result.output

    npz = base / "npz"
    shutil.copytree(CIFAR_SLICE, npz)
    other_run = base / "npz-run"
    result = run_shre(train_args("vision:npz", npz, other_run))
    assert result.exit_code == 0, result.output
    return Shared(run=run, other_run=other_run)


# --- builders of bad inputs -------------------------------------------------


def glue_copy(tmp_path: Path, folder: str) -> Path:
    """Copy the GLUE slice's ``folder`` (e.g. ``CoLA``) into ``tmp_path/glue``."""
    shutil.copytree(GLUE_DATA / folder, tmp_path / "glue" / folder)
    return tmp_path / "glue"


def edit_line(path: Path, line: int, edit: Callable[[str], str]) -> None:
    """Replace 1-based ``line`` of a text file by ``edit(line)``."""
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[line - 1] = edit(lines[line - 1])
    path.write_text("\n".join(lines), encoding="utf-8")


def set_column(column: int, value: str) -> Callable[[str], str]:
    def edit(row: str) -> str:
        cells = row.split("\t")
        cells[column] = value
        return "\t".join(cells)

    return edit


def glue_case(task: str, folder: str, damage: Callable[[Path], str]) -> Builder:
    """Copy ``folder``, let ``damage(folder_path)`` break it and return the expected text."""

    def build(tmp_path: Path, shared: Shared) -> Invocation:
        data = glue_copy(tmp_path, folder)
        expected = damage(data / folder)
        return Invocation(train_args(task, data, tmp_path / "out"), expected, [data])

    return build


def cli_case(args: list[str], expected: str) -> Builder:
    """A command line that needs no files beyond ``tmp_path/out`` as output dir."""

    def build(tmp_path: Path, shared: Shared) -> Invocation:
        watched = [glue_copy(tmp_path, "CoLA")] if "{glue}" in args else []
        places = {
            "{out}": str(tmp_path / "out"),
            "{glue}": str(tmp_path / "glue"),
            "{missing}": str(tmp_path / "missing.yaml"),
        }
        return Invocation([places.get(arg, arg) for arg in args], expected, watched)

    return build


def dry_run(*options: str) -> list[str]:
    """Return ``shre train --dry-run`` on glue:cola and shre-tiny with ``options``."""
    return ["train", "--task", "glue:cola", "--model", "shre-tiny", *options, "--dry-run"]


def cola_run(*options: str) -> list[str]:
    """Return a one-step glue:cola ``shre train`` on the CoLA copy with ``options``."""
    return ["train", "--task", "glue:cola", "--data-dir", "{glue}", "--output-dir", "{out}"] + [
        *TINY,
        *options,
    ]


def config_case(text: str, expected: str) -> Builder:
    """``shre train --config bad.yaml`` on glue:cola with ``text`` as the file."""

    def build(tmp_path: Path, shared: Shared) -> Invocation:
        config = tmp_path / "bad.yaml"
        config.write_text(text, encoding="utf-8")
        args = ["train", "--task", "glue:cola", "--model", "shre-tiny", "--config", str(config)]
        return Invocation([*args, "--dry-run"], expected.replace("{file}", config.name), [config])

    return build


def npz_case(damage: Callable[[dict[str, np.ndarray], Path], str]) -> Builder:
    """Copy the CIFAR-10 slice, rewrite ``train.npz`` from ``damage(arrays, dir)``."""

    def build(tmp_path: Path, shared: Shared) -> Invocation:
        data = tmp_path / "npz"
        shutil.copytree(CIFAR_SLICE, data)
        with np.load(data / "train.npz") as archive:
            arrays = {key: archive[key][:16] for key in archive.files}
        expected = damage(arrays, data)
        if arrays:
            np.savez(data / "train.npz", **arrays)
        return Invocation(train_args("vision:npz", data, tmp_path / "out"), expected, [data])

    return build


def image_folder(tmp_path: Path) -> Path:
    """Write train/ and test/ image folders (classes cat, dog) from the Flickr8k slice."""
    images = sorted((FLICKR_SLICE / "images").glob("*.jpg"))
    data = tmp_path / "folder"
    for split, start in (("train", 0), ("test", 4)):
        for offset, name in enumerate(("cat", "dog")):
            (data / split / name).mkdir(parents=True)
            for image in images[start + 2 * offset : start + 2 * offset + 2]:
                shutil.copy(image, data / split / name / image.name)
    return data


def folder_case(damage: Callable[[Path], str], *extra: str) -> Builder:
    def build(tmp_path: Path, shared: Shared) -> Invocation:
        data = image_folder(tmp_path)
        expected = damage(data)
        args = train_args("vision:folder", data, tmp_path / "out", *extra)
        return Invocation(args, expected, [data])

    return build


def captions_folder(tmp_path: Path) -> Path:
    """Copy the first 6 image-caption lines of the Flickr8k slice with their images."""
    data = tmp_path / "captions"
    (data / "images").mkdir(parents=True)
    lines = (FLICKR_SLICE / "captions.jsonl").read_text(encoding="utf-8").splitlines()[:6]
    for line in lines:
        image = json.loads(line)["image"]
        shutil.copy(FLICKR_SLICE / image, data / image)
    (data / "captions.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return data


def captions_case(line: int, replacement: str | None, expected: str) -> Builder:
    """Replace 1-based ``line`` of captions.jsonl.

    With ``replacement=None`` the line stays and its image file is deleted;
    the expected text is then that image's file name.
    """

    def build(tmp_path: Path, shared: Shared) -> Invocation:
        data = captions_folder(tmp_path)
        captions = data / "captions.jsonl"
        text = expected
        if replacement is None:
            image = json.loads(captions.read_text().splitlines()[line - 1])["image"]
            (data / image).unlink()
            text = Path(image).name
        else:
            edit_line(captions, line, lambda _: replacement)
        args = train_args("distill:shre", data, tmp_path / "out", *TINY_TEACHER)
        return Invocation(args, text, [data])

    return build


def run_copy(tmp_path: Path, source: Path) -> Path:
    run = tmp_path / "run"
    shutil.copytree(source, run)
    return run


def only_checkpoint(run: Path) -> Path:
    (checkpoint,) = sorted((run / "checkpoints").iterdir())
    return checkpoint


def checkpoint_case(
    damage: Callable[[Path], str], command: str = "evaluate", *extra: str
) -> Builder:
    """Copy the trained run, break it with ``damage(run)``, then evaluate or resume it."""

    def build(tmp_path: Path, shared: Shared) -> Invocation:
        run = run_copy(tmp_path, shared.run)
        expected = damage(run)
        if command == "evaluate":
            args = ["evaluate", "--checkpoint", str(run)]
        else:
            args = ["train", "--resume", str(run), *extra]
        return Invocation(args, expected, [run])

    return build


def truncate_weights(run: Path) -> str:
    weights = only_checkpoint(run) / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])
    return "model.safetensors"


def junk_weights(run: Path) -> str:
    (only_checkpoint(run) / "model.safetensors").write_bytes(b"not a safetensors file\n" * 8)
    return "model.safetensors"


def pickled_weights(run: Path) -> str:
    from safetensors.torch import load_file

    checkpoint = only_checkpoint(run)
    state = load_file(checkpoint / "model.safetensors")
    (checkpoint / "model.safetensors").unlink()
    torch.save(state, checkpoint / "pytorch_model.bin")
    return "pytorch_model.bin"


def corrupt_trainer_state(run: Path) -> str:
    (only_checkpoint(run) / "trainer_state.pt").write_bytes(b"\x80\x04garbage")
    return "trainer_state.pt"


def corrupt_meta(run: Path) -> str:
    (only_checkpoint(run) / "meta.json").write_text("{not json", encoding="utf-8")
    return "meta.json"


def no_checkpoints(run: Path) -> str:
    shutil.rmtree(run / "checkpoints")
    return str(run)


def init_other_architecture(tmp_path: Path, shared: Shared) -> Invocation:
    """``--init`` from an image run into a text task: no encoders.text weight matches."""
    data = glue_copy(tmp_path, "CoLA")
    args = train_args("glue:cola", data, tmp_path / "out", "--init", str(shared.other_run))
    return Invocation(args, "npz-run", [data])


def init_other_width(tmp_path: Path, shared: Shared) -> Invocation:
    """``--init`` from a text run whose first embedding tensor is 8 entries shorter."""
    from safetensors.torch import load_file, save_file

    run = run_copy(tmp_path, shared.run)
    weights = only_checkpoint(run) / "model.safetensors"
    state = load_file(weights)
    name = next(key for key in state if key.startswith("encoders.text.") and "embeddings" in key)
    state[name] = state[name][:-8].clone()
    save_file(state, weights)
    data = glue_copy(tmp_path, "CoLA")
    args = train_args("glue:cola", data, tmp_path / "out", "--init", str(run))
    return Invocation(args, name, [run, data])


def init_missing(tmp_path: Path, shared: Shared) -> Invocation:
    data = glue_copy(tmp_path, "CoLA")
    missing = tmp_path / "no-such-run"
    args = train_args("glue:cola", data, tmp_path / "out", "--init", str(missing))
    return Invocation(args, "no-such-run", [data])


def resume_missing(tmp_path: Path, shared: Shared) -> Invocation:
    return Invocation(["train", "--resume", str(tmp_path / "gone-run")], "gone-run")


def output_dir_taken(tmp_path: Path, shared: Shared) -> Invocation:
    """Train glue:cola into a directory that contains the vision:npz run."""
    run = run_copy(tmp_path, shared.other_run)
    data = glue_copy(tmp_path, "CoLA")
    return Invocation(train_args("glue:cola", data, run), "--overwrite", [run, data])


def evaluate_missing(tmp_path: Path, shared: Shared) -> Invocation:
    return Invocation(["evaluate", "--checkpoint", str(tmp_path / "nothing-here")], "nothing-here")


def evaluate_bad_split(tmp_path: Path, shared: Shared) -> Invocation:
    run = run_copy(tmp_path, shared.run)
    return Invocation(["evaluate", "--checkpoint", str(run), "--split", "tset"], "'tset'", [run])


# --- damage functions for data files ------------------------------------------


def cola_wrong_columns(folder: Path) -> str:
    edit_line(folder / "train.tsv", 3, lambda row: row.replace("\t", " ", 1))
    return "train.tsv, line 3"


def cola_text_label(folder: Path) -> str:
    edit_line(folder / "train.tsv", 5, set_column(1, "yes"))
    return "'yes'"


def sst2_label_outside(folder: Path) -> str:
    edit_line(folder / "train.tsv", 4, set_column(1, "2"))
    return "train.tsv, line 4: invalid SST-2 label '2'"


def sst2_missing_dev(folder: Path) -> str:
    (folder / "dev.tsv").unlink()
    return "dev.tsv"


def cola_empty_train(folder: Path) -> str:
    (folder / "train.tsv").write_text("", encoding="utf-8")
    return "train.tsv"


def stsb_score(value: str) -> Callable[[Path], str]:
    def damage(folder: Path) -> str:
        edit_line(folder / "train.tsv", 3, set_column(9, value))
        return value

    return damage


def mrpc_missing_column(folder: Path) -> str:
    edit_line(folder / "dev.tsv", 4, lambda row: row.rsplit("\t", 1)[0])
    return "dev.tsv, line 4"


def glue_missing_task_folder(tmp_path: Path, shared: Shared) -> Invocation:
    data = glue_copy(tmp_path, "CoLA")
    return Invocation(train_args("glue:sst2", data, tmp_path / "out"), "SST-2", [data])


def missing_data_dir(tmp_path: Path, shared: Shared) -> Invocation:
    return Invocation(train_args("glue:cola", tmp_path / "no-data", tmp_path / "out"), "no-data")


def drop_key(key: str) -> Callable[[dict, Path], str]:
    def damage(arrays: dict, data: Path) -> str:
        del arrays[key]
        return f"'{key}'"

    return damage


def short_labels(arrays: dict, data: Path) -> str:
    arrays["labels"] = arrays["labels"][:10]
    return "16 images but 10 labels"


def label_out_of_range(arrays: dict, data: Path) -> str:
    arrays["labels"][3] = 10
    return "label 10 at index 3"


def float_images(arrays: dict, data: Path) -> str:
    arrays["images"] = arrays["images"].astype(np.float32)
    return "float32"


def two_channels(arrays: dict, data: Path) -> str:
    arrays["images"] = arrays["images"][..., :2]
    return "(16, 32, 32, 2)"


def matrix_labels(arrays: dict, data: Path) -> str:
    arrays["labels"] = arrays["labels"].reshape(8, 2)
    return "(8, 2)"


def float_labels(arrays: dict, data: Path) -> str:
    arrays["labels"] = arrays["labels"].astype(np.float64)
    return "float64"


def junk_npz(arrays: dict, data: Path) -> str:
    arrays.clear()
    (data / "train.npz").write_bytes(b"this is not a zip archive")
    return "train.npz"


def duplicate_class(arrays: dict, data: Path) -> str:
    (data / "classes.txt").write_text("cat\ndog\ncat\n", encoding="utf-8")
    return "classes.txt"


def empty_class_folder(data: Path) -> str:
    for image in (data / "train" / "dog").iterdir():
        image.unlink()
    return "dog"


def undecodable_image(data: Path) -> str:
    (data / "train" / "cat" / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    return "broken.jpg"


def class_only_in_test(data: Path) -> str:
    shutil.copytree(data / "test" / "dog", data / "test" / "bird")
    return "bird"


def no_train_folder(data: Path) -> str:
    shutil.rmtree(data / "train")
    return "train/"


def no_test_folder(data: Path) -> str:
    shutil.rmtree(data / "test")
    return "'test'"


def no_caption_data(tmp_path: Path, shared: Shared) -> Invocation:
    data = captions_folder(tmp_path)
    (data / "captions.jsonl").rename(data / "captions.txt")
    args = train_args("distill:shre", data, tmp_path / "out", *TINY_TEACHER)
    return Invocation(args, "no image-caption data", [data])


CASES = [
    # The CLI: names, option values, overrides.
    pytest.param(
        cli_case(dry_run("--task", "glue:cola2"), "did you mean 'glue:cola'"), id="unknown-task"
    ),
    pytest.param(cli_case(dry_run("--model", "shre-tinyy"), "'shre-tinyy'"), id="unknown-model"),
    pytest.param(cli_case(dry_run("--model", "hf:"), "'hf:'"), id="encoder-without-argument"),
    pytest.param(
        cli_case(cola_run("--set", "components.pooler=maen"), "'maen'"), id="unknown-pooler"
    ),
    pytest.param(
        cli_case(cola_run("--set", "components.loss=cross-entropi"), "'cross-entropi'"),
        id="unknown-loss",
    ),
    pytest.param(
        cli_case(cola_run("--set", "optimizer.name=adamx"), "'adamx'"), id="unknown-optimizer"
    ),
    pytest.param(cli_case(["trian"], "'trian'"), id="unknown-command"),
    pytest.param(cli_case(dry_run("--precision", "fp64"), "'fp64'"), id="bad-precision"),
    pytest.param(cli_case(dry_run("--max-steps", "0"), "--max-steps"), id="zero-max-steps"),
    pytest.param(cli_case(dry_run("--lr", "-1"), "--lr"), id="negative-lr"),
    pytest.param(cli_case(dry_run("--batch-size", "many"), "'many'"), id="text-batch-size"),
    pytest.param(
        cli_case(dry_run("--set", "optimizer.lr"), "'optimizer.lr'"), id="set-without-value"
    ),
    pytest.param(cli_case(dry_run("--set", "=1"), "'=1'"), id="set-without-key"),
    pytest.param(
        cli_case(dry_run("--set", "optimizer.lrr=1"), "'optimizer.lrr'"), id="set-unknown-key"
    ),
    pytest.param(
        cli_case(dry_run("--set", "train.batch_size=many"), "train.batch_size"),
        id="set-wrong-type",
    ),
    pytest.param(
        cli_case(dry_run("--set", "train.precision=fp64"), "fp64"), id="set-bad-precision"
    ),
    pytest.param(cli_case(["train", "--model", "shre-tiny", "--dry-run"], "--task"), id="no-task"),
    pytest.param(
        cli_case(dry_run("--config", "{missing}"), "missing.yaml"), id="yaml-missing-file"
    ),
    # YAML config files.
    pytest.param(config_case("train: [1, 2\n", "{file}"), id="yaml-invalid"),
    pytest.param(config_case("- train\n- optimizer\n", "{file}"), id="yaml-not-mapping"),
    pytest.param(config_case("optimizer:\n  lrr: 0.1\n", "lrr"), id="yaml-unknown-key"),
    pytest.param(config_case("train:\n  max_steps: many\n", "max_steps"), id="yaml-wrong-type"),
    pytest.param(config_case("train: 3\n", "train"), id="yaml-section-not-mapping"),
    # GLUE TSV files.
    pytest.param(glue_case("glue:cola", "CoLA", cola_wrong_columns), id="tsv-wrong-columns"),
    pytest.param(glue_case("glue:cola", "CoLA", cola_text_label), id="tsv-text-label"),
    pytest.param(glue_case("glue:sst2", "SST-2", sst2_label_outside), id="tsv-label-outside"),
    pytest.param(glue_case("glue:sst2", "SST-2", sst2_missing_dev), id="tsv-missing-split"),
    pytest.param(glue_case("glue:cola", "CoLA", cola_empty_train), id="tsv-empty-file"),
    pytest.param(glue_case("glue:stsb", "STS-B", stsb_score("7.5")), id="tsv-stsb-above-5"),
    pytest.param(glue_case("glue:stsb", "STS-B", stsb_score("nan")), id="tsv-stsb-nan"),
    pytest.param(glue_case("glue:mrpc", "MRPC", mrpc_missing_column), id="tsv-pair-missing-column"),
    pytest.param(glue_missing_task_folder, id="tsv-missing-task-folder"),
    pytest.param(missing_data_dir, id="missing-data-dir"),
    # npz arrays.
    pytest.param(npz_case(drop_key("labels")), id="npz-missing-labels"),
    pytest.param(npz_case(drop_key("images")), id="npz-missing-images"),
    pytest.param(npz_case(short_labels), id="npz-length-mismatch"),
    pytest.param(npz_case(label_out_of_range), id="npz-label-out-of-range"),
    pytest.param(npz_case(float_images), id="npz-float-images"),
    pytest.param(npz_case(two_channels), id="npz-two-channels"),
    pytest.param(npz_case(matrix_labels), id="npz-2d-labels"),
    pytest.param(npz_case(float_labels), id="npz-float-labels"),
    pytest.param(npz_case(junk_npz), id="npz-not-an-archive"),
    pytest.param(npz_case(duplicate_class), id="npz-duplicate-class-name"),
    # Image folders.
    pytest.param(folder_case(empty_class_folder), id="folder-empty-class"),
    pytest.param(
        folder_case(undecodable_image, "--batch-size", "5"), id="folder-undecodable-image"
    ),
    pytest.param(folder_case(class_only_in_test), id="folder-class-only-in-test"),
    pytest.param(folder_case(no_train_folder), id="folder-no-train"),
    pytest.param(folder_case(no_test_folder), id="folder-no-test"),
    # Caption files.
    pytest.param(captions_case(3, "{not json", "captions.jsonl:3"), id="captions-not-json"),
    pytest.param(
        captions_case(2, '{"image": "images/x.jpg"}', "'captions'"), id="captions-missing-key"
    ),
    pytest.param(captions_case(1, None, ""), id="captions-missing-image"),
    pytest.param(
        captions_case(4, '{"image": "images/x.jpg", "captions": []}', "captions.jsonl:4"),
        id="captions-empty-list",
    ),
    pytest.param(no_caption_data, id="captions-no-data"),
    # Checkpoints and run directories.
    pytest.param(checkpoint_case(truncate_weights), id="ckpt-truncated-safetensors"),
    pytest.param(checkpoint_case(junk_weights), id="ckpt-junk-safetensors"),
    pytest.param(checkpoint_case(pickled_weights), id="ckpt-pickled-weights"),
    pytest.param(checkpoint_case(corrupt_meta), id="ckpt-corrupt-meta"),
    pytest.param(checkpoint_case(no_checkpoints), id="ckpt-run-without-checkpoints"),
    pytest.param(
        checkpoint_case(corrupt_trainer_state, "resume"), id="resume-corrupt-trainer-state"
    ),
    pytest.param(
        checkpoint_case(corrupt_trainer_state, "resume", "--max-steps", "2"),
        id="resume-corrupt-trainer-state-new-max-steps",
    ),
    pytest.param(resume_missing, id="resume-missing-dir"),
    pytest.param(init_other_architecture, id="init-other-architecture"),
    pytest.param(init_other_width, id="init-other-shape"),
    pytest.param(init_missing, id="init-missing-dir"),
    pytest.param(output_dir_taken, id="output-dir-holds-other-run"),
    pytest.param(evaluate_missing, id="evaluate-missing-checkpoint"),
    pytest.param(evaluate_bad_split, id="evaluate-unknown-split"),
]


@pytest.mark.slow
@pytest.mark.parametrize("build", CASES)
def test_cli_rejects_bad_input(build: Builder, tmp_path, shared):
    invocation = build(tmp_path, shared)
    watched = [tmp_path, shared.run.parent, *invocation.watched]
    before = sha256_tree(*watched)

    result = run_shre(invocation.args)

    after = sha256_tree(*watched)
    assert result.exit_code == 2, result.output
    assert invocation.expected in result.stderr
    # The runner catches an unexpected exception (exit code 1, asserted above)
    # instead of printing it, so this checks tracebacks that the CLI prints itself.
    assert "Traceback" not in result.output
    assert {path: after.get(path) for path in before} == before
