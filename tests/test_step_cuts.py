"""Step cuts (model_config.word_embeddings / dropout): a run applies them, records them in its session, a relaunch
repeats them and a bad value is one line with exit 2. A resume keeping them exactly: tests/test_resume.py."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import read_json, run_main, sample_rows, session_files, write_config, write_csv


def _weight(folder: Path, name: str):
    from safetensors.torch import load_file

    weights = load_file(str(folder / "model.safetensors"))
    return next(v for k, v in weights.items() if k.endswith(name))


def test_frozen_word_embeddings_and_no_dropout_are_applied_recorded_and_relaunched(tmp_path, isolated_home,
                                                                                  sample_csv, tiny_model):
    import torch

    data = write_csv(tmp_path / "rows.csv", sample_rows(sample_csv, 80))
    cfg = write_config(tmp_path / "config.json", data, tiny_model, word_embeddings="frozen", dropout="off")
    result = run_main("train", str(cfg))
    assert result.returncode == 0, result.stderr[-3000:]
    (path,) = session_files(isolated_home)
    meta = read_json(path)
    assert meta["environment"]["word_embeddings"] == "frozen" and meta["environment"]["dropout"] == "off"
    trained = Path(meta["output_paths"]["model_dir"])
    assert torch.equal(_weight(trained, "word_embeddings.weight"), _weight(tiny_model, "word_embeddings.weight"))
    assert not torch.equal(_weight(trained, "0.attention.self.query.weight"),
                           _weight(tiny_model, "0.attention.self.query.weight"))  # the rest trained

    again = run_main("sessions", "relaunch", meta["training_session"]["session_id"])
    assert again.returncode == 0, again.stderr[-2000:]
    newest = read_json(session_files(isolated_home)[-1])
    assert newest["model_config"]["word_embeddings"] == "frozen" and newest["model_config"]["dropout"] == "off"


def test_by_default_every_weight_trains_with_the_models_dropout(trained):
    meta = read_json(trained.session_file)
    assert meta["environment"]["word_embeddings"] == "train" and meta["environment"]["dropout"] == "model"


def test_an_unknown_cut_is_one_line_and_exit_2(tmp_path, isolated_home, sample_csv, tiny_model):
    data = write_csv(tmp_path / "rows.csv", sample_rows(sample_csv, 20))
    cfg = write_config(tmp_path / "config.json", data, tiny_model, word_embeddings="sparse")
    result = run_main("train", str(cfg))
    assert result.returncode == 2
    assert "word_embeddings" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not session_files(isolated_home)



def test_a_resume_takes_the_recorded_cuts_and_an_older_session_ran_without_any():
    from llm_tool.config import parse_config
    from llm_tool.sessions.schema import Environment
    from llm_tool.training.step_cuts import StepCuts, resolve_cuts

    asked = parse_config({"dataset_config": {"primary_file": "x.csv"},
                          "model_config": {"word_embeddings": "train", "dropout": "off"}}).model
    assert resolve_cuts(asked, None) == StepCuts("train", "off")
    assert resolve_cuts(asked, Environment(word_embeddings="frozen", dropout="model")) == StepCuts("frozen", "model")
    assert resolve_cuts(asked, Environment()) == StepCuts("train", "model")  # recorded before cuts existed
