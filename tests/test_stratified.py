"""The split without scikit-learn gives scikit-learn's very rows: old sessions relaunch onto the same split."""

from __future__ import annotations

import random

import pytest

from llm_tool.data.stratified import train_test_cut


def _sklearn(items, share, seed, stratify):
    from sklearn.model_selection import train_test_split

    try:
        keep, out = train_test_split(items, test_size=share, random_state=seed, stratify=stratify)
        return list(keep), list(out)
    except ValueError:
        return "ValueError"


def _ours(items, share, seed, stratify):
    try:
        return train_test_cut(items, share, seed, stratify)
    except ValueError:
        return "ValueError"


def _cases(count: int):
    chooser = random.Random(7)
    for case in range(count):
        n = chooser.choice([2, 3, 5, 9, 10, 17, 40, 101, 240, 997])
        classes = [f"c{k}" for k in range(chooser.randint(1, 7))]
        weights = [chooser.random() ** 3 + 0.01 for _ in classes]  # some classes tiny or absent
        labels = chooser.choices(classes, weights=weights, k=n)
        share = chooser.choice([0.1, 0.1111111111111111, 0.2, 0.25, 0.5, 0.9])
        items = chooser.sample(range(10 * n), n)  # any row numbers, not just 0..n-1
        yield case, items, share, chooser.randint(0, 2**32 - 1), labels


@pytest.mark.parametrize("stratified", [True, False])
def test_same_rows_same_order_same_errors_as_sklearn(stratified):
    compared = errors = 0
    for case, items, share, seed, labels in _cases(400):
        stratify = labels if stratified else None
        expected = _sklearn(items, share, seed, stratify)
        assert _ours(items, share, seed, stratify) == expected, f"case {case}"
        compared += 1
        errors += expected == "ValueError"
    assert compared == 400 and 10 < errors < 200  # rows cut and ValueErrors both compared


def test_multi_label_keys_and_the_sample_split():
    keys = ["a|b", "a", "b", "a|b", "a", "b"] * 20
    assert _ours(list(range(120)), 0.1, 42, keys) == _sklearn(list(range(120)), 0.1, 42, keys)


def test_importing_the_data_layer_does_not_import_sklearn():
    import subprocess
    import sys

    code = ("import sys\nfrom llm_tool.data.prepare import prepare\nfrom llm_tool.data.splits import make_splits\n"
            "print('sklearn' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"
