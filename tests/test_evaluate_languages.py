"""What the data analysis confirmed is what is shown: `evaluate` breaks scores down only by the languages the
training analysis confirmed (a few English tweets read as Latin get no rows of their own: they count as 'other';
an English-only model gets none), and the studio's column descriptions say when they cover the first 2,000 rows."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.helpers import run_main

ENGLISH = ["I loved this phone, the battery lasts all day", "Terrible service and the food was cold",
           "Great value for the money, would buy again", "The screen broke after two days, awful",
           "Works perfectly and shipping was fast", "Not worth it, it stopped working quickly"]
LATIN = ["Lorem ipsum dolor sit amet, consectetur adipiscing elit", "Gallia est omnis divisa in partes tres",
         "Veni vidi vici et cetera in omnia saecula", "Carpe diem quam minimum credula postero"]
GERMAN = ["Der Hund schläft im Garten und die Katze spielt", "Das Essen war kalt und der Service schlecht",
          "Ich liebe dieses Telefon, der Akku hält lange", "Die Lieferung war schnell und alles funktioniert"]


def _home(trained, tmp_path: Path, languages: list[str]) -> Path:
    home = tmp_path / "copied_home"
    shutil.copytree(trained.home, home, symlinks=True)
    (session,) = (home / "logs" / "training_sessions").glob("training_metadata_*.json")
    data = json.loads(session.read_text(encoding="utf-8"))
    data["language_config"]["confirmed_languages"] = languages
    session.write_text(json.dumps(data), encoding="utf-8")
    rows = [(t, "positive" if i % 2 == 0 else "negative") for i, t in enumerate(ENGLISH * 3 + LATIN * 3 + GERMAN * 3)]
    (home / "mixed.csv").write_text("text,label\n" + "".join(f'"{t}",{lab}\n' for t, lab in rows), encoding="utf-8")
    return home


def _evaluate(home: Path) -> dict:
    result = run_main("evaluate", "1", "--data", "mixed.csv", "--json",
                      env={"LLM_TOOL_HOME": str(home), "HF_HUB_OFFLINE": "1"}, cwd=home)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_an_english_only_model_gets_no_language_rows(trained, tmp_path: Path) -> None:
    evaluation = _evaluate(_home(trained, tmp_path, ["EN"]))["evaluation"]
    assert "per_language" not in evaluation  # not LA 12 rows, DE 12 rows on an English model


def test_only_confirmed_languages_get_rows_the_rest_is_other(trained, tmp_path: Path) -> None:
    evaluation = _evaluate(_home(trained, tmp_path, ["EN", "DE"]))["evaluation"]
    assert set(evaluation["per_language"]) == {"EN", "DE", "other"}
    assert evaluation["per_language"]["other"]["num_samples"] >= 10  # the Latin texts


def test_column_descriptions_say_when_they_are_sampled() -> None:
    from llm_tool.data.formats import Table
    from llm_tool.wizard.detect import column_hints

    def table(n: int) -> Table:
        rows = [{"text": f"text number {i}", "label": "a" if i % 2 else "b"} for i in range(n)]
        return Table(columns=["text", "label"], rows=rows, row_numbers=list(range(2, n + 2)), format="csv")

    big = column_hints(table(2500))
    assert big["text"].startswith("2000 distinct, avg") and "in the first 2,000 rows" in big["text"]
    assert "first" not in column_hints(table(30))["label"]  # every row was read: nothing to say
