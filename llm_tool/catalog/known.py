"""What is known about common pretrained models: the languages they were trained on, and how to say it."""

from __future__ import annotations

MULTILINGUAL = "multilingual"

# Languages (ISO 639-1, upper case like the analysis) of models the studio recommends; "multilingual" covers many.
KNOWN_LANGUAGES: dict[str, tuple[str, ...]] = {
    "all-minilm-l6-v2": ("EN",),
    "sentence-transformers/all-minilm-l6-v2": ("EN",),
    "distilbert-base-uncased": ("EN",),
    "bert-base-uncased": ("EN",),
    "bert-base-cased": ("EN",),
    "roberta-base": ("EN",),
    "distilroberta-base": ("EN",),
    "microsoft/deberta-v3-base": ("EN",),
    "allenai/longformer-base-4096": ("EN",),
    "google/bigbird-roberta-base": ("EN",),
    "xlm-roberta-base": (MULTILINGUAL,),
    "facebookai/xlm-roberta-base": (MULTILINGUAL,),
    "xlm-roberta-large": (MULTILINGUAL,),
    "distilbert-base-multilingual-cased": (MULTILINGUAL,),
    "bert-base-multilingual-cased": (MULTILINGUAL,),
    "microsoft/mdeberta-v3-base": (MULTILINGUAL,),
    "markussagen/xlm-roberta-longformer-base-4096": (MULTILINGUAL,),
    "sentence-transformers/paraphrase-multilingual-minilm-l12-v2": (MULTILINGUAL,),
    "camembert-base": ("FR",),
    "almanach/camembert-base": ("FR",),
    "deepset/gbert-base": ("DE",),
    "dccuchile/bert-base-spanish-wwm-cased": ("ES",),
    "dbmdz/bert-base-italian-cased": ("IT",),
    "gronlp/bert-base-dutch-cased": ("NL",),
    "neuralmind/bert-base-portuguese-cased": ("PT",),
    "bert-base-chinese": ("ZH",),
    "cl-tohoku/bert-base-japanese-v3": ("JA",),
}

LANGUAGE_NAMES = {"EN": "English", "FR": "French", "DE": "German", "ES": "Spanish", "IT": "Italian",
                  "NL": "Dutch", "PT": "Portuguese", "ZH": "Chinese", "JA": "Japanese", "RU": "Russian",
                  "AR": "Arabic", "PL": "Polish", "SV": "Swedish", "DA": "Danish", "TR": "Turkish"}
SUGGESTED_MULTILINGUAL = "xlm-roberta-base"


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code.upper(), code.upper())


def describe_languages(languages: tuple[str, ...] | list[str]) -> str:
    if not languages:
        return "unknown"
    if MULTILINGUAL in languages:
        return "many languages"
    return ", ".join(language_name(code) for code in languages)


def language_mismatch(model: str, model_languages: tuple[str, ...] | list[str],
                      data_languages: dict[str, int]) -> str | None:
    """A plain-words warning when the model was not trained on the data's main languages, else None.

    ``data_languages``: texts per detected language (the analysis' language_distribution).
    """
    if not model_languages or MULTILINGUAL in model_languages or not data_languages:
        return None
    total = sum(data_languages.values()) or 1
    uncovered = {code: n for code, n in data_languages.items()
                 if code.upper() not in model_languages and n / total >= 0.05}
    if not uncovered:
        return None
    share = sum(uncovered.values()) / total
    codes = sorted(uncovered, key=lambda c: -uncovered[c])
    return (f"{model} learned {describe_languages(model_languages)} text only, but {share:.0%} of your texts are "
            f"in {', '.join(language_name(c) for c in codes)}: it will understand them poorly and the results will "
            f"be weak. Use a multilingual model such as {SUGGESTED_MULTILINGUAL} (get it once with "
            f"`llm-tool models add {SUGGESTED_MULTILINGUAL}` where there is an internet connection).")
