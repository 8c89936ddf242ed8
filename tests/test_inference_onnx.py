"""Inference through the model's ONNX copy: same outputs as torch, built once and shared, torch-free start, and a
clean fall-back when a model cannot be exported. The file exports the shared model once (`exported`); a test that
reads or damages a copy gets its own cache holding a copy of that export (`copied_cache`), and the two tests about
the background builder export for real."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import run_main, wait_until

pytestmark = pytest.mark.xdist_group("onnx")  # one worker makes the file's one export (`exported`)

TEXTS = ["great phone", "awful food, the worst service I have had in years " * 12, "ok",
         "the battery died after two days and support never answered", "x"]


def _cache_entries(cache: Path) -> list[Path]:
    root = cache / "onnx"
    return sorted(p for p in root.iterdir() if not p.name.startswith(".")) if root.exists() else []


@pytest.fixture(autouse=True)
def background_copies(monkeypatch) -> None:
    """This file is about the copies: `auto` may start its background export (the suite turns it off elsewhere)."""
    monkeypatch.delenv("LLM_TOOL_ONNX_BACKGROUND", raising=False)


@pytest.fixture
def own_cache(tmp_path, monkeypatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("LLM_TOOL_CACHE", str(cache))
    return cache


@pytest.fixture(scope="module")
def exported(trained, tmp_path_factory) -> Path:
    """The file's one export: `Predictor(backend="onnx")` on a cache folder that does not exist yet (the tool makes
    it, private). Tests read it through `copied_cache`, never change it."""
    from llm_tool.training.inference import Predictor

    cache = tmp_path_factory.mktemp("onnx_export") / "fresh" / "cache"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("LLM_TOOL_CACHE", str(cache))
        assert Predictor(trained.model_dir, backend="onnx").open().name == "onnx"
    return cache


@pytest.fixture
def copied_cache_factory(exported, own_cache):
    """Fills the test's own cache with a copy of the module's export (modes kept: the cache checks them)."""
    def fill() -> Path:
        shutil.copytree(exported, own_cache, symlinks=True, dirs_exist_ok=True)
        return own_cache
    return fill


@pytest.fixture
def copied_cache(copied_cache_factory) -> Path:
    """The test's own cache, holding a copy of the module's export."""
    return copied_cache_factory()


def test_the_onnx_copy_gives_the_logits_of_the_fp32_model(trained, copied_cache):
    from llm_tool.training.inference import Predictor

    onnx = Predictor(trained.model_dir, backend="onnx", batch_size=2)
    torch_fp32 = Predictor(trained.model_dir, backend="torch", precision="fp32", batch_size=2)
    assert onnx.runner.name == "onnx" and torch_fp32.runner.name == "torch"
    assert onnx.runner.encode(TEXTS, onnx.max_length) == torch_fp32.runner.encode(TEXTS, onnx.max_length)
    assert max(len(ids) for ids in onnx.runner.encode(TEXTS, onnx.max_length)) == onnx.max_length  # truncated
    ours, reference = onnx.logits(TEXTS), torch_fp32.logits(TEXTS)
    assert np.abs(ours - reference).max() < 1e-4
    assert np.abs(onnx.logits(TEXTS[:1]) - reference[:1]).max() < 1e-4  # a batch of one
    assert [p.labels for p in onnx.predict(TEXTS)] == [p.labels for p in torch_fp32.predict(TEXTS)]
    assert (copied_cache / "onnx").is_dir() and len(_cache_entries(copied_cache)) == 1


def test_the_bundled_model_tokenizes_the_same_without_transformers(sample_csv):
    import csv

    from tokenizers import Tokenizer
    from transformers import AutoTokenizer

    from llm_tool.catalog.offline import bundled_model_path

    folder = bundled_model_path()
    assert folder is not None
    texts = [*[row["text"] for row in csv.DictReader(sample_csv.open(encoding="utf-8"))][:500], "Ünïcödé  ÉTÉ 😀"]
    fast = Tokenizer.from_file(str(folder / "tokenizer.json"))
    fast.no_padding()
    fast.enable_truncation(24)
    reference = AutoTokenizer.from_pretrained(str(folder))(texts, truncation=True, max_length=24)["input_ids"]
    assert [e.ids for e in fast.encode_batch(texts)] == reference


def test_the_copy_is_made_once_and_shared_by_identical_model_folders(trained, copied_cache, tmp_path, monkeypatch):
    from llm_tool.training import onnx_copy
    from llm_tool.training.inference import Predictor

    first = Predictor(trained.model_dir, backend="onnx").logits(TEXTS)
    (entry,) = _cache_entries(copied_cache)
    copy = tmp_path / "copy_of_model"
    shutil.copytree(trained.model_dir, copy)

    def no_export(*_args: object) -> None:
        raise AssertionError("exported again")

    monkeypatch.setattr(onnx_copy, "export", no_export)
    assert np.array_equal(Predictor(copy, backend="onnx").logits(TEXTS), first)
    assert _cache_entries(copied_cache) == [entry]

    config = json.loads((copy / "config.json").read_text())  # other weights or architecture: another copy
    config["id2label"] = {"0": "neg", "1": "pos"}
    (copy / "config.json").write_text(json.dumps(config))
    exported_folders = []

    def export_of_the_same_graph(model_dir: Path, destination: Path) -> None:  # a real export: `exported`
        exported_folders.append(model_dir)
        for part in entry.iterdir():
            if part.name != "manifest.json":
                shutil.copy2(part, destination.parent / part.name)

    monkeypatch.setattr(onnx_copy, "export", export_of_the_same_graph)
    assert Predictor(copy, backend="onnx").open().name == "onnx"
    assert exported_folders == [copy] and len(_cache_entries(copied_cache)) == 2


def test_a_model_that_cannot_be_exported_runs_through_torch(trained, own_cache, monkeypatch, capsys):
    from llm_tool.errors import ModelError
    from llm_tool.training import onnx_copy
    from llm_tool.training.environment import cpu_supports_bf16
    from llm_tool.training.inference import Predictor

    calls = []

    def failing_export(model_dir: Path, destination: Path) -> None:
        calls.append(model_dir)
        raise RuntimeError("unsupported operator aten::weird")

    monkeypatch.setattr(onnx_copy, "export", failing_export)
    with pytest.raises(ModelError, match=r"\.failed records that its export failed \(RuntimeError: unsupported "
                                         r"operator aten::weird\); delete that file to try again, or use --backend"):
        Predictor(trained.model_dir, backend="onnx").open()
    runner = Predictor(trained.model_dir).open()  # auto: torch with the training's precision rule, no new try
    assert runner.name == "torch" and runner.bf16 is cpu_supports_bf16() and len(calls) == 1
    assert not list((own_cache / "onnx").glob("*.building"))
    (failed,) = (own_cache / "onnx").glob("*.failed")
    assert "unsupported operator" in json.loads(failed.read_text())["reason"]
    result = run_main("infer", "--model-dir", str(trained.model_dir), "--text", "hi", "--backend", "onnx")
    assert result.returncode == 2 and ".failed records that its export failed" in result.stderr  # names the marker
    assert not list((own_cache / "onnx").glob(".*"))  # no half-written copy left


def test_infer_with_a_copy_starts_without_torch(trained, copied_cache):
    code = ("import sys, json\nfrom llm_tool.training.inference import Predictor\n"
            f"p = Predictor(__import__('pathlib').Path({str(trained.model_dir)!r}))\n"
            "labels = [x.labels[0] for x in p.predict(['great phone', 'awful food'])]\n"
            "print(json.dumps({'labels': labels, 'runner': p.runner.name,"
            " 'heavy': [m for m in ('torch', 'transformers') if m in sys.modules]}))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    out = json.loads(proc.stdout)
    assert out["runner"] == "onnx" and out["heavy"] == [] and set(out["labels"]) <= {"negative", "positive"}


def test_the_first_infer_runs_torch_fp32_while_the_copy_is_made_in_the_background(trained, own_cache):
    from llm_tool.training import onnx_copy

    first = run_main("infer", "--model-dir", str(trained.model_dir), "--text", "great phone", "--text", "ok",
                     "--json")
    assert first.returncode == 0, first.stderr
    assert first.stderr == ""  # nothing to wait for, nothing to say
    onnx_file = wait_until(lambda: onnx_copy.ready_copy(trained.model_dir), timeout=180, what="the ONNX copy")
    wait_until(lambda: not list(onnx_file.parent.parent.glob("*.building")), timeout=60, what="the builder to end")
    again = run_main("infer", "--model-dir", str(trained.model_dir), "--text", "great phone", "--text", "ok",
                     "--json")
    assert again.returncode == 0 and again.stderr == ""
    before, after = json.loads(first.stdout), json.loads(again.stdout)
    assert [p["labels"] for p in before] == [p["labels"] for p in after]
    for old, new in zip(before, after, strict=True):  # fp32 torch, then the fp32 copy: the same numbers
        assert all(abs(old["probabilities"][k] - new["probabilities"][k]) < 1e-4 for k in old["probabilities"])


@pytest.mark.parametrize("word", ["0", "off"])
def test_background_copies_can_be_turned_off_and_a_made_copy_is_still_used(trained, own_cache, copied_cache_factory,
                                                                            monkeypatch, word):
    from llm_tool.training.inference import Predictor

    monkeypatch.setenv("LLM_TOOL_ONNX_BACKGROUND", word)
    runner = Predictor(trained.model_dir).open()
    assert runner.name == "torch" and runner.bf16 is False  # fp32: the numbers a copy would give
    assert not (own_cache / "onnx").exists() or not list((own_cache / "onnx").iterdir())  # no builder, no copy
    copied_cache_factory()
    assert Predictor(trained.model_dir).open().name == "onnx"  # a copy that exists is used


def test_one_background_builder_at_a_time(trained, own_cache):
    import os

    from llm_tool.training import onnx_copy
    from llm_tool.training.inference import Predictor

    marker = onnx_copy.copy_folder(trained.model_dir).with_suffix(".building")
    marker.parent.mkdir(parents=True)
    marker.write_text(str(os.getpid()))  # a live process is making the copy
    runner = Predictor(trained.model_dir).open()
    assert runner.name == "torch" and runner.bf16 is False  # fp32 until the copy is there
    assert marker.read_text() == str(os.getpid()) and not onnx_copy.export_in_background(trained.model_dir)
    marker.write_text("999999999")  # its process is gone: a new builder takes over
    assert onnx_copy.export_in_background(trained.model_dir)
    wait_until(lambda: onnx_copy.ready_copy(trained.model_dir), timeout=180, what="the ONNX copy")
    wait_until(lambda: not marker.exists(), timeout=60, what="the builder to end")
    assert Predictor(trained.model_dir).open().name == "onnx"


def test_auto_sends_large_jobs_to_torch_where_the_cpu_does_bf16(trained, copied_cache):
    from llm_tool.training import onnx_copy
    from llm_tool.training.environment import cpu_supports_bf16
    from llm_tool.training.inference import Predictor
    from llm_tool.training.inference_runners import LARGE_JOB

    def backend(expected: int | None, **options: str) -> str:
        return Predictor(trained.model_dir, **options).open(expected).name

    assert onnx_copy.ready_copy(trained.model_dir) is not None  # the copy exists
    assert backend(None) == backend(6) == backend(LARGE_JOB) == "onnx"
    assert backend(LARGE_JOB + 1) == ("torch" if cpu_supports_bf16() else "onnx")
    assert backend(LARGE_JOB + 1, precision="fp32") == "onnx"  # fp32 either way: ONNX Runtime starts sooner
    assert backend(LARGE_JOB + 1, backend="onnx") == "onnx" and backend(3, backend="torch") == "torch"


def test_infer_checks_the_output_name_before_loading_the_model(trained, tmp_path):
    source = tmp_path / "new.csv"
    source.write_text("text\nhello\n")
    result = run_main("infer", "--model-dir", str(trained.model_dir), "--input", str(source),
                      "--output", str(tmp_path / "out.xlsx"))
    assert result.returncode == 2 and "output must end in .csv, .tsv or .jsonl" in result.stderr
    assert "Preparing" not in result.stderr and not (tmp_path / "out.xlsx").exists()


def test_an_unwritable_cache_falls_back_to_torch(trained, tmp_path, monkeypatch):
    from llm_tool.training.inference import Predictor

    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the cache should be")
    monkeypatch.setenv("LLM_TOOL_CACHE", str(blocker))
    predictor = Predictor(trained.model_dir)
    assert predictor.open().name == "torch" and len(predictor.predict(["great phone"])) == 1


def test_a_damaged_copy_falls_back_to_torch(trained, copied_cache):
    from llm_tool.training import onnx_copy
    from llm_tool.training.inference import Predictor

    onnx_file = onnx_copy.ready_copy(trained.model_dir)
    assert onnx_file is not None
    onnx_file.write_bytes(b"not a protobuf")
    predictor = Predictor(trained.model_dir)
    assert predictor.open().name == "torch" and len(predictor.predict(["great phone"])) == 1
    assert Predictor(trained.model_dir, precision="bf16").open().name == "torch"  # bf16 by name: torch
    result = run_main("infer", "--model-dir", str(trained.model_dir), "--text", "hi", "--backend", "onnx")
    assert result.returncode == 2 and "does not match the sha256 recorded when it was built" in result.stderr


def test_a_broken_model_file_is_one_line_and_exit_2(trained, tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(trained.model_dir, folder)
    (folder / "config.json").write_text("{not json")
    result = run_main("infer", "--model-dir", str(folder), "--text", "hi")
    assert result.returncode == 2 and "config.json" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    (folder / "config.json").write_text("[1, 2]")
    result = run_main("infer", "--model-dir", str(folder), "--text", "hi")
    assert result.returncode == 2 and "is not a JSON object" in result.stderr

    for config in ({"id2label": {"zero": "neg"}}, {"id2label": ["neg", "pos"]}):  # not a transformers config
        (folder / "config.json").write_text(json.dumps(config))
        result = run_main("infer", "--model-dir", str(folder), "--text", "hi")
        assert result.returncode == 2 and "does not describe a classifier" in result.stderr, result.stderr
    (folder / "config.json").write_text((trained.model_dir / "config.json").read_text())
    (folder / "label_mapping.json").write_text(json.dumps({"labels": ["a", "b"], "max_length": "long"}))
    result = run_main("infer", "--model-dir", str(folder), "--text", "hi")
    assert result.returncode == 2 and "does not describe a classifier" in result.stderr


# ----- the cache trusts nothing it finds: private folders only, every file checked against its manifest -----------
def _planted_graph(destination: Path) -> None:
    """A 4-node graph with the copy's inputs and output that answers 'positive' with certainty for every text."""
    import onnx
    from onnx import TensorProto, helper

    nodes = [helper.make_node("Cast", ["input_ids"], ["ids"], to=TensorProto.FLOAT),
             helper.make_node("Mul", ["ids", "zero"], ["nothing"]),
             helper.make_node("ReduceSum", ["nothing", "axis"], ["row"], keepdims=1),
             helper.make_node("Add", ["row", "verdict"], ["logits"])]
    graph = helper.make_graph(
        nodes, "planted",
        [helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "length"])
         for name in ("input_ids", "attention_mask")],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 2])],
        [helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0]), helper.make_tensor("axis", TensorProto.INT64,
                                                                                       [1], [1]),
         helper.make_tensor("verdict", TensorProto.FLOAT, [1, 2], [-9.0, 9.0])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), str(destination))


def test_a_planted_graph_is_refused_and_inference_runs_through_torch(trained, copied_cache, caplog):
    from llm_tool.training import onnx_copy
    from llm_tool.training.inference import Predictor

    onnx_file = onnx_copy.ready_copy(trained.model_dir)
    assert onnx_file is not None
    for extra in onnx_file.parent.iterdir():
        extra.unlink()
    _planted_graph(onnx_file)  # the planter knows the key: the copy folder is the one the model's files name
    predictor = Predictor(trained.model_dir)
    with caplog.at_level("WARNING"):
        assert predictor.open().name == "torch"
    assert "sha256" in caplog.text or "manifest" in caplog.text
    result = run_main("infer", "--model-dir", str(trained.model_dir), "--text", "awful, terrible", "--backend",
                      "onnx", "--json")
    assert result.returncode == 2 and "ONNX copy" in result.stderr and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1


def _plant_consistent_copy(trained, cache: Path) -> Path:
    """A planted graph with a manifest that matches it: only the folder's ownership and mode can give it away."""
    from llm_tool.training import onnx_copy
    from llm_tool.training.onnx_cache import write_manifest

    folder = onnx_copy.copy_folder(trained.model_dir)
    folder.mkdir(parents=True)
    _planted_graph(folder / "model.onnx")
    write_manifest(folder, onnx_copy.RECIPE)
    return folder


@pytest.mark.parametrize("how", ["others-write-the-cache", "others-write-the-copy", "another-owner"])
def test_a_cache_others_can_write_is_refused(trained, own_cache, how):
    from llm_tool.training.inference import Predictor

    folder = _plant_consistent_copy(trained, own_cache)
    if how == "others-write-the-cache":
        own_cache.chmod(0o777)
    elif how == "others-write-the-copy":
        folder.chmod(0o757)
    else:
        if os.getuid() != 0:
            pytest.skip("chown to another user needs root")
        os.chown(folder, 65534, 65534)
    assert Predictor(trained.model_dir).open().name == "torch"
    result = run_main("infer", "--model-dir", str(trained.model_dir), "--text", "awful, terrible", "--backend",
                      "onnx")
    words = "belongs to another user" if how == "another-owner" else "is writable by other users"
    assert result.returncode == 2 and words in result.stderr and "LLM_TOOL_CACHE" in result.stderr, result.stderr
    own_cache.chmod(0o700)


def test_the_cache_is_made_private(trained, exported, monkeypatch):
    """`exported` made its cache from nothing with `Predictor(backend="onnx")` (and asserted it ran through ONNX)."""
    from llm_tool.training import onnx_copy
    from llm_tool.training.inference import Predictor

    monkeypatch.setenv("LLM_TOOL_CACHE", str(exported))
    copy = onnx_copy.copy_folder(trained.model_dir)
    for folder in (exported, exported / "onnx"):
        assert folder.stat().st_mode & 0o777 == 0o700
    manifest = json.loads((copy / "manifest.json").read_text())
    assert set(manifest["files"]) == {p.name for p in copy.iterdir()} - {"manifest.json"}
    assert Predictor(trained.model_dir).open().name == "onnx"  # verified, then used
