"""Long documents: head_tail keeps the first and last tokens, chunks' windows cover every token with the stated
overlap, a text's prediction is the mean of its windows' probabilities, every metric counts texts, a chunked run
resumes exactly, and a session from before long_text still truncates."""

from __future__ import annotations

import json
import random
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from llm_tool.training.long_text import HEAD_SHARE, LongText, evenly_spaced, planned, windows
from tests.helpers import read_json, run_main, sample_rows, session_files, write_config, write_csv

pytestmark = pytest.mark.xdist_group("long_text")
MAX_LENGTH, STRIDE, CAP = 16, 4, 3


def _long_rows(sample_csv: Path, texts: int, sentences: int = 5) -> list[dict[str, str]]:
    """``texts`` reviews of ``sentences`` sample sentences of one label each (60 to 90 tokens: several windows)."""
    rows = sample_rows(sample_csv, texts * sentences)
    by_label: dict[str, list[str]] = {}
    for row in rows:
        by_label.setdefault(row["label"], []).append(row["text"])
    out = []
    for label, found in sorted(by_label.items()):
        for start in range(0, len(found) - sentences + 1, sentences):
            out.append({"text": " ".join(found[start:start + sentences]), "label": label})
    return out


@pytest.fixture(scope="module")
def chunked(tmp_path_factory: pytest.TempPathFactory, tiny_model: Path) -> dict:
    """The tiny model trained once with chunks (40 long texts, 1 epoch, `llm-tool train` in process)."""
    from tests.conftest import SAMPLE_CSV

    home = tmp_path_factory.mktemp("chunked") / "home"
    home.mkdir()
    data = write_csv(home / "long.csv", _long_rows(SAMPLE_CSV, 40))
    config = write_config(home / "config.json", data, tiny_model, num_threads=1, max_length=MAX_LENGTH,
                          long_text="chunks", chunk_stride=STRIDE, max_chunks_per_text=CAP)
    result = run_main("train", str(config), env={"LLM_TOOL_HOME": str(home)}, cwd=home)
    assert result.returncode == 0, result.stderr[-3000:]
    (session_file,) = session_files(home)
    meta = read_json(session_file)
    return {"home": home, "meta": meta, "model_dir": Path(meta["output_paths"]["model_dir"]), "data": data,
            "config": config}


def _tokenizer(tiny_model: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tiny_model))


def test_head_tail_keeps_exactly_the_first_and_last_tokens(tiny_model, sample_csv):
    from llm_tool.training.features import encode_long

    tokenizer = _tokenizer(tiny_model)
    text = _long_rows(sample_csv, 2)[0]["text"]
    short = "great phone"
    body = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert len(body) > 3 * MAX_LENGTH
    rows = encode_long([text, short], tokenizer, MAX_LENGTH, LongText("head_tail")).ids
    room = MAX_LENGTH - 2
    head = int(room * HEAD_SHARE)
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    assert head == 3
    assert rows[0] == [cls, *body[:head], *body[-(room - head):], sep]
    assert len(rows[0]) == MAX_LENGTH
    assert rows[1] == tokenizer(short)["input_ids"]  # a text that fits is left as it is


def test_windows_cover_every_token_with_the_stated_overlap():
    rng = random.Random(7)
    for _ in range(300):
        max_length = rng.randint(5, 40)
        stride = rng.randint(0, max_length - 3)
        length = rng.randint(1, 400)
        ids = [-1, *range(length), -2]  # [CLS] body [SEP]
        found = windows(ids, 1, 1, max_length, stride)
        assert all(len(w) <= max_length and w[0] == -1 and w[-1] == -2 for w in found)
        bodies = [w[1:-1] for w in found]
        assert sorted(set().union(*map(set, bodies))) == list(range(length))  # every token is seen
        for before, after in pairwise(bodies):
            assert after[0] > before[0]
            shared = len(set(before) & set(after))
            assert shared >= stride and shared < max_length - 2  # the last window may share more: it ends at the end
        for before, after in pairwise(bodies[:-1]):
            assert len(set(before) & set(after)) == stride
    kept = evenly_spaced(10, 4)
    assert kept == [0, 3, 6, 9] and evenly_spaced(3, 8) == [0, 1, 2] and evenly_spaced(5, 1) == [0]


def test_mean_of_window_probabilities_equals_a_hand_computation(chunked, tiny_model, sample_csv):
    import torch
    from transformers import AutoModelForSequenceClassification

    from llm_tool.training.inference import Predictor

    model_dir = chunked["model_dir"]
    mapping = json.loads((model_dir / "label_mapping.json").read_text())
    assert mapping["long_text"] == {"strategy": "chunks", "chunk_stride": STRIDE}
    text = _long_rows(sample_csv, 4, sentences=7)[-1]["text"]
    tokenizer = _tokenizer(model_dir)
    body = tokenizer(text, add_special_tokens=False)["input_ids"]
    room, by_hand = MAX_LENGTH - 2, []
    start = 0
    while True:  # windows by hand: every room - stride tokens, the last one ending at the last token
        start = min(start, len(body) - room)
        by_hand.append([tokenizer.cls_token_id, *body[start:start + room], tokenizer.sep_token_id])
        if start + room >= len(body):
            break
        start += room - STRIDE
    assert len(by_hand) >= 4
    model = AutoModelForSequenceClassification.from_pretrained(str(model_dir)).eval()
    with torch.no_grad():
        each = [torch.softmax(model(input_ids=torch.tensor([w])).logits[0], -1).numpy() for w in by_hand]
    expected = np.mean(each, axis=0)
    predicted = Predictor(model_dir, backend="torch", precision="fp32").predict([text])[0]
    labels = mapping["labels"]
    assert [predicted.probabilities[name] for name in labels] == pytest.approx(list(expected), abs=1e-5)
    assert predicted.labels == [labels[int(expected.argmax())]]


def test_every_metric_counts_texts_not_windows(chunked, sample_csv):
    from llm_tool.training.evaluate import evaluate_file

    meta, model_dir = chunked["meta"], chunked["model_dir"]
    section = meta["model_config"]
    assert section["long_text_used"] == "chunks" and section["chunk_stride_used"] == STRIDE
    windows = section["windows"]
    sizes = meta["dataset_config"]["split_sizes"]
    assert windows["texts"] == sizes["train"] and windows["windows"] > 2 * sizes["train"]
    assert windows["windows_before_cap"] > windows["windows"] and windows["texts_capped"] > 0
    metrics = json.loads((model_dir / "metrics.json").read_text())
    for split in ("validation", "test"):
        assert metrics[split]["num_samples"] == sizes[split]
        assert sum(c["support"] for c in metrics[split]["per_class"].values()) == sizes[split]
    saved = np.load(model_dir / "predictions.npz")
    assert {name: len(saved[name]) for name in saved.files if name.endswith("probabilities")} == \
        {"validation_probabilities": sizes["validation"], "test_probabilities": sizes["test"]}
    card = (model_dir / "README.md").read_text()
    assert f"Texts longer than {MAX_LENGTH} tokens are read in overlapping windows" in card
    extra = write_csv(chunked["home"] / "more.csv", _long_rows(sample_csv, 6, sentences=6))
    result = evaluate_file(model_dir, extra)
    assert result["evaluation"]["num_samples"] == len(result["predictions"]) == 6


def test_dry_run_counts_the_windows(chunked):
    result = run_main("train", str(chunked["config"]), "--dry-run", env={"LLM_TOOL_HOME": str(chunked["home"]),
                                                                         "COLUMNS": "300"})
    assert result.returncode == 0, result.stderr[-2000:]
    windows = chunked["meta"]["model_config"]["windows"]["windows"]
    assert f"{windows} training windows" in result.stdout
    assert f"{-(-windows // 8)} / {-(-windows // 8)}" in result.stdout  # steps per epoch: windows / batch 8


def test_auto_truncates_texts_that_fit_and_says_why():
    fits, why = planned("auto", [10] * 96 + [40] * 4, 16, 2, None, 8)
    assert fits == LongText("truncate") and "4.0% of texts exceed max_length 16" in why
    long, why = planned("auto", [10] * 90 + [40] * 10, 16, 2, None, 8)
    assert long.strategy == "head_tail" and why.startswith("auto: 10.0% of texts exceed")
    chunks, _ = planned("chunks", [40], 16, 2, None, 8)
    assert chunks == LongText("chunks", 4, 8)  # default stride: max_length // 4


def test_a_session_from_before_long_text_still_truncates(trained):
    from llm_tool.config import parse_config

    meta = read_json(trained.session_file)
    assert meta["model_config"]["long_text_used"] == "truncate"  # auto on texts that fit
    assert meta["model_config"]["long_text_reason"].startswith("auto:")
    older = json.loads(json.dumps(meta))
    for key in ("long_text", "long_text_used", "long_text_reason"):
        older["model_config"].pop(key, None)
    assert parse_config(older).model.long_text == "truncate"  # resume and relaunch: as that session ran
    assert parse_config({"dataset_config": meta["dataset_config"]}).model.long_text == "auto"  # a new config


def test_bad_long_text_settings_are_one_line_exit_2(tmp_path, tiny_model, sample_csv, isolated_home):
    data = write_csv(tmp_path / "long.csv", _long_rows(sample_csv, 4))
    config = write_config(tmp_path / "bad.json", data, tiny_model, max_length=16, long_text="chunks", chunk_stride=14)
    result = run_main("train", str(config))
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "chunk_stride (14)" in result.stderr
    assert session_files(isolated_home) == []
    wrong = write_config(tmp_path / "wrong.json", data, tiny_model, long_text="windows")
    result = run_main("train", str(wrong))
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "long_text" in result.stderr


def test_a_model_folder_with_an_unknown_long_text_is_refused(chunked, tmp_path):
    import shutil

    from llm_tool.errors import ModelError
    from llm_tool.training.inference import Predictor

    copy = Path(shutil.copytree(chunked["model_dir"], tmp_path / "model"))
    mapping = json.loads((copy / "label_mapping.json").read_text())
    mapping["long_text"] = {"strategy": "chunks", "chunk_stride": 99}
    (copy / "label_mapping.json").write_text(json.dumps(mapping))
    with pytest.raises(ModelError, match="chunk_stride"):
        Predictor(copy)


def test_resume_in_the_middle_of_a_chunked_epoch_is_exact(tmp_path, isolated_home, sample_csv, tiny_model):
    """kill -9 in the middle of epoch 2 of a chunked run, `sessions resume`: the uninterrupted run's weights,
    metrics and history (tests/test_resume.py's check)."""
    from tests.test_resume import _train_and_kill, assert_resumed_equals_uninterrupted

    data = write_csv(tmp_path / "reviews.csv", sample_rows(sample_csv, 120))
    settings = {"epochs": 2, "save_steps": 5, "learning_rate": 3e-3, "save_total_limit": 3, "num_threads": 1,
                "long_text": "chunks", "max_length": 12, "chunk_stride": 3, "precision": "fp32"}
    done = run_main("train", str(write_config(tmp_path / "baseline.json", data, tiny_model, **settings)))
    assert done.returncode == 0, done.stderr[-2000:]
    (baseline,) = session_files(isolated_home)
    windows = read_json(baseline)["model_config"]["windows"]
    assert windows["windows"] > windows["texts"] + 40  # many texts are several windows
    per_epoch = -(-windows["windows"] // 8)
    killed = _train_and_kill(write_config(tmp_path / "killed.json", data, tiny_model, **settings), isolated_home,
                             kill_after_step=per_epoch + 3)
    killed_id = read_json(killed)["training_session"]["session_id"]
    resumed = run_main("sessions", "resume", killed_id)
    assert resumed.returncode == 0, resumed.stderr[-3000:] + resumed.stdout[-3000:]
    assert_resumed_equals_uninterrupted(baseline, killed)
    assert read_json(killed)["model_config"]["windows"] == windows


def test_the_studio_counts_long_texts_and_offers_the_three_ways(tmp_path, sample_csv):
    from llm_tool.data.formats import read_table
    from llm_tool.wizard.analyse import analyse
    from llm_tool.wizard.draft import Draft
    from llm_tool.wizard.long_text_question import ask_long_text
    from llm_tool.wizard.views import analysis_panel

    rows = [{"text": " ".join(["good"] * 600) if i < 3 else "short and good", "label": "a" if i % 2 else "b"}
            for i in range(8)]
    path = write_csv(tmp_path / "long.csv", rows)
    d = Draft(data_path=path, table=read_table(path), text_column="text", label_column="label")
    d.analysis = analyse(d.table, d.dataset())
    assert d.analysis["texts_over_limit"] == 3
    from rich.console import Console

    console = Console(width=200, record=True)
    console.print(analysis_panel(d.analysis))
    assert "3 of 8 exceed 512 tokens" in console.export_text()
    asked = []

    class Answers:
        def ask(self, question):
            asked.append(question)
            return "chunks"
    ask_long_text(Answers(), d)
    (question,) = asked
    assert [c.value for c in question.choices] == ["auto", "truncate", "head_tail", "chunks"]
    assert question.default == "auto" and "3 of 8 texts are longer than 512 tokens" in question.message
    assert d.raw_config()["model_config"]["long_text"] == "chunks"
    d.analysis = {**d.analysis, "texts_over_limit": 0}
    ask_long_text(Answers(), d)
    assert len(asked) == 1 and "long_text" not in d.raw_config()["model_config"]  # texts that fit: not asked


def test_multi_label_windows_average_each_label_then_the_thresholds_apply():
    from llm_tool.results.metrics import predictions, probabilities
    from llm_tool.training.long_text import per_text

    logits = np.array([[2.0, -1.0], [-2.0, 0.5], [0.0, 0.0], [1.0, -3.0]], dtype=np.float32)
    owner = [0, 0, 0, 1]  # text 0 has three windows, text 1 one
    folded, labels = per_text(logits, np.array([[1, 0], [1, 0], [1, 0], [0, 1]]), owner, 2, True)
    sigmoid = 1 / (1 + np.exp(-logits.astype(np.float64)))
    expected = np.array([sigmoid[:3].mean(axis=0), sigmoid[3]])
    assert probabilities(folded, True) == pytest.approx(expected, abs=1e-6)
    assert labels.tolist() == [[1, 0], [0, 1]]  # each text's own labels, once
    cut = np.array([0.5, 0.4])
    assert predictions(folded, True, cut).tolist() == (expected >= cut).astype(int).tolist()


def test_the_onnx_tokenizer_gives_the_same_windows(chunked, sample_csv):
    from types import SimpleNamespace

    from tokenizers import Tokenizer

    from llm_tool.training.inference_runners import OnnxRunner
    from llm_tool.training.long_text import encode

    texts = [row["text"] for row in _long_rows(sample_csv, 4, sentences=6)] + ["fine"]
    plan = LongText("chunks", STRIDE)
    onnx = OnnxRunner.encode_full(SimpleNamespace(tokenizer=Tokenizer.from_file(
        str(chunked["model_dir"] / "tokenizer.json"))), texts)
    tokenizer = _tokenizer(chunked["model_dir"])
    full = tokenizer(texts, return_special_tokens_mask=True)
    assert encode(*onnx, MAX_LENGTH, plan).ids == encode(full["input_ids"], full["special_tokens_mask"], MAX_LENGTH,
                                                         plan).ids


def test_sessions_show_says_how_long_texts_were_read(chunked):
    result = run_main("sessions", "show", chunked["meta"]["training_session"]["session_id"],
                      env={"LLM_TOOL_HOME": str(chunked["home"]), "COLUMNS": "400"})
    assert result.returncode == 0, result.stderr
    windows = chunked["meta"]["model_config"]["windows"]
    assert f"chunks (set in the config (long_text: chunks)); {windows['windows']} training windows from " \
           f"{windows['texts']} texts, stride {STRIDE}" in result.stdout
