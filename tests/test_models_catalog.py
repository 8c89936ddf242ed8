"""`llm-tool models`, the offline models list, and the studio's language-fit warning and model pointer."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from llm_tool.catalog.known import language_mismatch
from llm_tool.cli import main
from tests.helpers import write_csv
from tests.wizard_helpers import Keys, pick, replace, run_studio, to_data_file

FRENCH = [
    ("Le service était excellent et le personnel très aimable avec nous.", "positif"),
    ("Nous avons adoré ce restaurant, la cuisine est délicieuse.", "positif"),
    ("Le film était magnifique, les acteurs sont vraiment formidables.", "positif"),
    ("Ce téléphone fonctionne parfaitement, je le recommande à tous.", "positif"),
    ("Une soirée merveilleuse, nous reviendrons bientôt avec nos amis.", "positif"),
    ("Le repas était froid et le serveur très désagréable.", "négatif"),
    ("Je suis déçu, la batterie ne tient pas une journée entière.", "négatif"),
    ("Ce film est ennuyeux, je me suis endormi avant la fin.", "négatif"),
    ("La livraison était en retard et le produit est cassé.", "négatif"),
    ("Nous ne reviendrons jamais, le prix est beaucoup trop élevé.", "négatif"),
]


def _safetensors_parameters(folder: Path) -> int:
    from safetensors import safe_open

    total = 0
    for file in folder.glob("*.safetensors"):
        with safe_open(str(file), framework="numpy") as handle:
            for key in handle.keys():  # noqa: SIM118 - safe_open is not a mapping
                shape = handle.get_slice(key).get_shape()
                count = 1
                for dim in shape:
                    count *= dim
                total += count
    return total


def test_models_lists_the_bundled_model_with_language_and_size(capsys: pytest.CaptureFixture[str]) -> None:
    from llm_tool.catalog.offline import bundled_model_path

    assert main(["models", "--json"]) == 0
    entries = json.loads(capsys.readouterr().out)
    bundled = next(e for e in entries if e["source"] == "bundled")
    assert bundled["name"] == "all-MiniLM-L6-v2" and bundled["languages"] == ["EN"]
    folder = bundled_model_path()
    assert folder is not None and bundled["parameters"] == _safetensors_parameters(folder)
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "Models usable offline" in out and "English" in out and "22.7 M" in out


def test_add_a_folder_then_use_it_by_name(isolated_home: Path, tiny_model: Path, sample_csv: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    folder = Path(shutil.copytree(tiny_model, isolated_home / "my model"))
    assert main(["models", "add", str(folder), "--name", "tiny-fr", "--language", "fr"]) == 0
    assert "added tiny-fr (French;" in capsys.readouterr().out
    assert main(["models", "list", "--json"]) == 0
    entry = next(e for e in json.loads(capsys.readouterr().out) if e["name"] == "tiny-fr")
    assert entry["languages"] == ["FR"] and entry["path"] == str(folder)
    assert entry["parameters"] == _safetensors_parameters(folder)
    config = isolated_home / "cfg.json"
    config.write_text(json.dumps({"dataset_config": {"primary_file": str(sample_csv)},
                                  "model_config": {"selected_model": "tiny-fr"}}))
    assert main(["train", str(config), "--dry-run"]) == 0  # the registered name resolves offline
    assert "config, data and model are valid" in capsys.readouterr().out


def test_adding_what_cannot_be_had_is_one_line(isolated_home: Path, tiny_model: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "add", "xlm-roberta-base"]) == 2  # HF_HUB_OFFLINE=1 in every test
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "cannot download xlm-roberta-base" in err
    assert "llm-tool models add FOLDER" in " ".join(err.split())
    pickled = isolated_home / "pickled"
    pickled.mkdir()
    shutil.copy(tiny_model / "config.json", pickled / "config.json")
    (pickled / "pytorch_model.bin").write_bytes(b"not loaded")
    assert main(["models", "add", str(pickled)]) == 2
    assert "no .safetensors weights" in capsys.readouterr().err
    assert main(["models", "add", "../../etc;rm -rf"]) == 2
    assert "neither a folder nor a Hugging Face id" in capsys.readouterr().err
    assert not (isolated_home / "pretrained" / "registry.json").exists()


def test_language_mismatch_in_plain_words() -> None:
    french = {"FR": 95, "EN": 5}
    message = language_mismatch("all-MiniLM-L6-v2", ("EN",), french)
    assert message is not None and "learned English text only" in message and "95% of your texts" in message
    assert "xlm-roberta-base" in message and "llm-tool models add" in message
    assert language_mismatch("xlm-roberta-base", ("multilingual",), french) is None
    assert language_mismatch("camembert-base", ("FR",), {"FR": 99, "EN": 1}) is None  # 1% is noise
    assert language_mismatch("some/unknown", (), french) is None  # unknown: no claim either way
    assert language_mismatch("all-MiniLM-L6-v2", ("EN",), {"EN": 100}) is None


def test_the_model_pointer_fits_the_language_and_missing_models_say_how_to_get_them() -> None:
    from llm_tool.wizard.analyse import default_model, recommend_models

    french = recommend_models(["FR"], long_documents=False)
    assert default_model(french, ["FR"]) == "camembert-base"  # fits, even though it must be downloaded
    english = recommend_models(["EN"], long_documents=False)
    assert default_model(english, ["EN"]) == "all-MiniLM-L6-v2"


@pytest.mark.usefixtures("interactive")
def test_studio_on_french_data(isolated_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [{"text": f"{text} ({i})", "label": label} for i in range(4) for text, label in FRENCH]
    write_csv(isolated_home / "avis.csv", rows)
    # file, text, label, task, split; quick, 1 epoch, batch 8; model: Enter on the pointer (camembert-base,
    # not on this machine: said so, asked again), then 5 = the bundled English model; save; save only
    ctx = run_studio(*to_data_file(), *[Keys.ENTER] * 4, Keys.ENTER, Keys.ENTER, replace("1"), replace("8"),
                     Keys.ENTER, pick(5), "y\r", pick(3), pick(3), pick(6))
    assert ctx.prompter.asked.count("model") == 2 and ctx.prompter.asked[-3] == "where"
    captured = capsys.readouterr()
    err = " ".join(captured.err.split())
    assert "camembert-base is not on this machine and the hub is offline" in err
    assert "llm-tool models add camembert-base" in err
    assert "all-MiniLM-L6-v2 learned English text only" in err and "in French" in err
