"""TableEvaluator: lookups in any member order, reproducible noise, and errors that say where."""

from __future__ import annotations

import pytest

from mtlsearch.evaluation import table as evaluators
from mtlsearch.evaluation.table import (
    MissingCombinationError,
    TableEvaluator,
    TableFormatError,
    UnknownDatasetError,
)

TABLE = """datasets,score,score_a,score_b
t,0.60,,
a+t,0.62,0.81,
t+b,0.58,,0.70
b+t+a,0.65,0.80,0.72
"""


@pytest.fixture
def table(tmp_path):
    path = tmp_path / "scores.csv"
    path.write_text(TABLE)
    return path


def write(tmp_path, text: str):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    return path


def test_lookup_in_any_order_with_member_scores(table):
    evaluator = TableEvaluator(table, "t")
    assert evaluator.ids == ("a", "b", "t")
    assert evaluator.evaluate(["t"]) == {"t": 0.60}
    assert evaluator.evaluate(("t", "a")) == {"t": 0.62, "a": 0.81}
    assert evaluator.evaluate(["a", "b", "t"]) == {"t": 0.65, "a": 0.80, "b": 0.72}
    assert evaluator.evaluate(["b", "t", "a"]) == evaluator.evaluate(["t", "a", "b"])
    # The target is a member whether or not it is named.
    assert evaluator.evaluate(["b"]) == {"t": 0.58, "b": 0.70}


def test_table_with_per_member_columns_serves_another_target(table):
    evaluator = TableEvaluator(table, "a")
    # The score of "a" comes from score_a, the others' from their own score_<id> columns (there
    # is no score_t); rows without "a" are not this target's.
    assert evaluator.ids == ("a", "b", "t")
    assert evaluator.evaluate(["t"]) == {"a": 0.81}
    assert evaluator.evaluate(["t", "b"]) == {"a": 0.80, "b": 0.72}
    assert evaluator.optimum() == (("a", "t"), 0.81)
    with pytest.raises(MissingCombinationError, match="'a'"):
        evaluator.evaluate([])


def test_optimum_over_allowed_candidates(table):
    evaluator = TableEvaluator(table, "t")
    assert evaluator.optimum() == (("a", "b", "t"), 0.65)
    assert evaluator.optimum(["b"]) == (("t",), 0.60)
    with pytest.raises(UnknownDatasetError, match="'z'"):
        evaluator.optimum(["z"])


def test_noise_is_reproducible_and_seeded_by_combination(table):
    noisy = TableEvaluator(table, "t", noise=0.05, seed=3)
    first = noisy.evaluate(["a"])
    assert first != {"t": 0.62, "a": 0.81}
    noisy.evaluate(["b"])
    assert noisy.evaluate(["a"]) == first  # asked again, after other lookups
    assert TableEvaluator(table, "t", noise=0.05, seed=3).evaluate(["a"]) == first
    assert TableEvaluator(table, "t", noise=0.05, seed=4).evaluate(["a"]) != first
    # The optimum is the noiseless one.
    assert noisy.optimum() == (("a", "b", "t"), 0.65)


def test_fingerprint_follows_content_and_noise(table, tmp_path):
    plain = TableEvaluator(table, "t").fingerprint
    assert len(plain) == 64
    assert TableEvaluator(table, "t", delay_s=0.5).fingerprint == plain
    assert TableEvaluator(table, "t", noise=0.01).fingerprint != plain
    other = write(tmp_path, TABLE.replace("0.65", "0.66"))
    assert TableEvaluator(other, "t").fingerprint != plain


def test_delay_sleeps_before_answering(table, monkeypatch):
    slept = []
    monkeypatch.setattr(evaluators.time, "sleep", slept.append)
    TableEvaluator(table, "t", delay_s=0.25).evaluate(["a"])
    assert slept == [0.25]


def test_unknown_dataset_names_the_id_and_file(table):
    with pytest.raises(UnknownDatasetError) as error:
        TableEvaluator(table, "t").evaluate(["a", "zz"])
    assert "'zz'" in str(error.value) and str(table) in str(error.value)
    assert isinstance(error.value, ValueError)


def test_missing_combination_names_it_and_the_file(tmp_path):
    path = write(tmp_path, "datasets,score\nt,0.5\na+t,0.6\nb+t,0.55\n")
    with pytest.raises(MissingCombinationError) as error:
        TableEvaluator(path, "t").evaluate(["b", "a"])
    assert "'a+b+t'" in str(error.value) and str(path) in str(error.value)


def test_missing_column_names_file_and_header_line(tmp_path):
    path = write(tmp_path, "datasets,value\nt,0.5\n")
    with pytest.raises(TableFormatError) as error:
        TableEvaluator(path, "t")
    assert f"{path}, line 1" in str(error.value) and "'score'" in str(error.value)


def test_non_numeric_score_names_file_and_line(tmp_path):
    path = write(tmp_path, "datasets,score\nt,0.5\na+t,n/a\n")
    with pytest.raises(TableFormatError) as error:
        TableEvaluator(path, "t")
    assert f"{path}, line 3" in str(error.value) and "'n/a'" in str(error.value)


def test_non_numeric_member_score_names_its_column(tmp_path):
    path = write(tmp_path, "datasets,score,score_a\nt,0.5,\na+t,0.6,high\n")
    with pytest.raises(TableFormatError, match=r"line 3: column 'score_a'"):
        TableEvaluator(path, "t")


def test_duplicate_combination_names_both_lines(tmp_path):
    path = write(tmp_path, "datasets,score\nt,0.5\na+t,0.6\nb+t,0.7\nt+a,0.61\n")
    with pytest.raises(TableFormatError) as error:
        TableEvaluator(path, "t")
    message = str(error.value)
    assert f"{path}, line 5" in message and "first on line 3" in message and "'a+t'" in message


def test_quoted_newline_does_not_shift_line_numbers(tmp_path):
    path = write(tmp_path, 'datasets,score,note\nt,0.5,"two\nlines"\na+t,x,\n')
    with pytest.raises(TableFormatError, match="line 4"):
        TableEvaluator(path, "t")


@pytest.mark.parametrize(
    "row, expected",
    [
        ("a+t+a,0.5", "listed twice"),
        ("a+b,0.5", "target 't'"),
        ("a++t,0.5", "ids joined by"),
        ("t,0.5,9", "more fields"),
    ],
)
def test_malformed_rows_name_the_line(tmp_path, row, expected):
    path = write(
        tmp_path,
        f"datasets,score\nt,0.4\n{row}\n"
        if not row.startswith("t,")
        else f"datasets,score\n{row}\n",
    )
    line = 3 if not row.startswith("t,") else 2
    with pytest.raises(TableFormatError, match=f"line {line}: .*{expected}"):
        TableEvaluator(path, "t")


def test_empty_table_is_rejected(tmp_path):
    with pytest.raises(TableFormatError, match="no"):
        TableEvaluator(write(tmp_path, "datasets,score\n"), "t")
