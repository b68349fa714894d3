import pandas as pd
import pytest

from training.data import load_labelled, load_unlabelled, parse_label_map, split
from training.errors import TrainingError



def write(tmp_path, name, frame):
    path = tmp_path / name
    if name.endswith(".csv"):
        frame.to_csv(path, index=False)
    elif name.endswith(".jsonl"):
        frame.to_json(path, orient="records", lines=True)
    else:
        frame.to_parquet(path)
    return path


@pytest.mark.parametrize("name", ["a.csv", "a.jsonl", "a.parquet"])
def test_reads_each_format_and_ignores_extra_columns(tmp_path, name):
    df = pd.DataFrame({"headline": ["Up a lot", "Down a lot", "Flat"], "sentiment": ["Bullish", "bearish", "neutral"],
                       "extra": [1, 2, 3]})
    data, report = load_labelled([write(tmp_path, name, df)], text_col="headline", label_col="sentiment")
    assert list(data["label"]) == ["positive", "negative", "neutral"]
    assert list(data.columns) == ["text", "label", "source", "agreement"] and report.rows == 3


def test_signed_numeric_labels_and_explicit_map(tmp_path):
    signed = write(tmp_path, "s.csv", pd.DataFrame({"text": ["a", "b", "c"], "label": [-1, 0, 1]}))
    assert list(load_labelled([signed])[0]["label"]) == ["negative", "neutral", "positive"]
    zero_two = write(tmp_path, "z.csv", pd.DataFrame({"text": ["a", "b", "c"], "label": [0, 1, 2]}))
    with pytest.raises(TrainingError, match=r"ambiguous.*--label-map"):
        load_labelled([zero_two])
    mapped = load_labelled([zero_two], label_map=parse_label_map("0=negative,1=neutral,2=positive"))[0]
    assert list(mapped["label"]) == ["negative", "neutral", "positive"]


def test_duplicates_and_empty_texts_are_dropped_with_a_count(tmp_path):
    df = pd.DataFrame({"text": ["Up!", "up!  https://t.co/x", "", None, "Down"],
                       "label": ["positive", "positive", "neutral", "neutral", "negative"]})
    data, report = load_labelled([write(tmp_path, "d.csv", df)])
    assert len(data) == 2 and report.empty == 2 and report.duplicates == 1
    assert "2 empty texts and 1 duplicates dropped" in str(report)


def test_bad_files_name_what_was_expected(tmp_path):
    with pytest.raises(TrainingError, match=r"missing column\(s\) \['label'\]; expected \['text', 'label'\], found \['text', 'y'\]"):
        load_labelled([write(tmp_path, "m.csv", pd.DataFrame({"text": ["a"], "y": [1]}))])
    with pytest.raises(TrainingError, match=r"unknown label 'great'"):
        load_labelled([write(tmp_path, "u.csv", pd.DataFrame({"text": ["a"], "label": ["great"]}))])
    empty = tmp_path / "e.csv"
    empty.write_text("text,label\n")
    with pytest.raises(TrainingError, match="no rows"):
        load_labelled([empty])
    with pytest.raises(TrainingError, match="unsupported file type '.txt'"):
        load_labelled([tmp_path / "x.txt"])
    with pytest.raises(TrainingError, match="no such file"):
        load_labelled([tmp_path / "missing.csv"])
    with pytest.raises(TrainingError, match="expected RAW=NAME"):
        parse_label_map("0=good")


def test_split_is_stratified_disjoint_and_seeded(tmp_path, make_frame):
    data, _ = load_labelled([write(tmp_path, "t.csv", make_frame(copies=8))])
    train, val, test = split(data, [0.2, 0.2], seed=3)
    assert len(train) + len(val) + len(test) == len(data)
    assert not set(train["text"]) & set(test["text"]) and not set(val["text"]) & set(test["text"])
    assert test["label"].value_counts().min() == test["label"].value_counts().max()  # balanced like the data
    again = split(data, [0.2, 0.2], seed=3)
    assert list(again[2]["text"]) == list(test["text"])
    assert list(split(data, [0.2, 0.2], seed=4)[2]["text"]) != list(test["text"])


def test_unlabelled_texts_are_distinct_and_exclude_labelled(tmp_path):
    path = write(tmp_path, "u.csv", pd.DataFrame({"headline": ["A up", "a up", "B down", "", "C flat"]}))
    assert load_unlabelled(path, "headline", exclude=["C flat"]) == ["A up", "B down"]
    assert load_unlabelled(path, "headline", limit=1) == ["A up"]
