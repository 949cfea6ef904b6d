"""Tokenisation of single sentences and pairs, truncation and dynamic padding."""

from __future__ import annotations

from shre_glue.data import tokenise
from shre_glue.encoders import shipped_tokenizer
from shre_glue.tsv import Examples


def test_pair_encoding_and_token_types(build):
    task, model = build("rte")
    dataset = task.dataset("validation", model)
    tokenizer = model.encoder.tokenizer
    row = dataset[0]
    tokens = tokenizer.convert_ids_to_tokens(row["input_ids"])
    first_sep = tokens.index("[SEP]")
    assert tokens[0] == "[CLS]"
    assert tokens[-1] == "[SEP]"
    assert tokens[first_sep + 1 : -1] == tokenizer.tokenize("Christopher Reeve had an accident.")
    assert row["token_type_ids"] == [0] * (first_sep + 1) + [1] * (len(tokens) - first_sep - 1)


def test_single_sentence_token_types(build):
    task, model = build("cola")
    row = task.dataset("train", model)[0]
    assert set(row["token_type_ids"]) == {0}
    assert row["labels"] == 1


def test_truncation_longest_first():
    examples = Examples(["one two three four five six seven eight"], ["nine ten"], [0], [0])
    row = tokenise(examples, shipped_tokenizer(), max_length=8)[0]
    tokens = shipped_tokenizer().convert_ids_to_tokens(row["input_ids"])
    assert tokens == ["[CLS]", "one", "two", "three", "[SEP]", "nine", "ten", "[SEP]"]


def test_max_length_option_caps_inputs(build):
    task, model = build("mrpc", task_options={"max_length": 24, "cache_dir": None})
    lengths = [len(ids) for ids in task.dataset("validation", model)["input_ids"]]
    assert max(lengths) == 24


def test_default_max_length_is_256(build, tmp_path):
    (tmp_path / "RTE").mkdir()
    long_text = " ".join(["word"] * 300)
    rows = f"index\tsentence1\tsentence2\tlabel\n0\t{long_text}\t{long_text}\tentailment\n"
    (tmp_path / "RTE" / "dev.tsv").write_text(rows)
    task, model = build("rte", data_dir=tmp_path)
    row = task.dataset("validation", model)[0]
    assert len(row["input_ids"]) == 256
    assert row["token_type_ids"].count(0) == 128
    assert row["token_type_ids"].count(1) == 128


def test_collate_pads_to_longest_in_batch(build):
    task, model = build("sst2")
    dataset = task.dataset("validation", model)
    rows = [dataset[i] for i in range(4)]
    batch = task.collate_fn("validation", model)(rows)
    longest = max(len(row["input_ids"]) for row in rows)
    assert batch["input_ids"].shape == (4, longest)
    assert batch["attention_mask"].sum().item() == sum(len(row["input_ids"]) for row in rows)
    assert batch["labels"].tolist() == [row["labels"] for row in rows]


def test_tokenised_split_is_cached(build, tmp_path):
    task, model = build("wnli", task_options={"cache_dir": str(tmp_path)})
    first = task.dataset("validation", model)
    second = task.dataset("validation", model)
    assert len(list(tmp_path.glob("glue-*.arrow"))) == 1
    assert first.cache_files[0]["filename"] == second.cache_files[0]["filename"]
