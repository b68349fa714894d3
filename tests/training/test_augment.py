import pytest

from training.augment import AugmentArgs, augment
from training.errors import TrainingError

TEXTS = [
    "Operating profit rose to EUR 13.1 mn from EUR 8.7 mn in the corresponding period",
    "The company expects net sales to fall short of last year's level",
    "$AAPL breaks out to a new high after earnings",
    "ok",  # a single word cannot be varied
]


def test_copies_are_new_deterministic_and_made_of_the_source_words():
    args = AugmentArgs(copies=3)
    out = augment(TEXTS, args, seed=1)
    assert out == augment(TEXTS, args, seed=1)
    assert out != augment(TEXTS, args, seed=2)
    assert len(out) == 9 and len(set(out)) == 9  # three per multi-word text, none twice
    assert not set(out) & set(TEXTS)
    corpus = {w for t in TEXTS for w in t.split()} | {args.mask_token}
    for copy in out:
        assert set(copy.split()) <= corpus


def test_exclude_and_zero_copies():
    assert augment(TEXTS, AugmentArgs(copies=0)) == []
    first = augment(TEXTS[:1], AugmentArgs(copies=2), seed=3)
    again = augment(TEXTS[:1], AugmentArgs(copies=2), seed=3, exclude=first[:1])
    assert first[0] not in again


def test_masking_only_keeps_length_and_masks_about_p_of_the_words():
    args = AugmentArgs(copies=1, p_mask=0.5, p_replace=0.0, p_span=0.0)
    words = " ".join(f"w{i}" for i in range(2000))
    (copy,) = augment([words], args, seed=0)
    tokens = copy.split()
    assert len(tokens) == 2000
    assert 900 < tokens.count("[MASK]") < 1100
    assert all(t == "[MASK]" or t == f"w{i}" for i, t in enumerate(tokens))


def test_spans_are_contiguous_runs_of_at_least_min_span_words():
    args = AugmentArgs(copies=5, p_mask=0.0, p_replace=0.0, p_span=1.0, min_span=3)
    source = TEXTS[0]
    for copy in augment([source], args, seed=0):
        assert copy in source and len(copy.split()) >= 3


@pytest.mark.parametrize("bad", [{"p_mask": 1.5}, {"p_mask": 0.6, "p_replace": 0.6}, {"copies": -1},
                                 {"min_span": 0}])
def test_bad_arguments_name_what_was_expected(bad):
    with pytest.raises(TrainingError, match="expected probabilities"):
        AugmentArgs(**bad)


def test_neighbours_are_the_nearest_whole_words_by_cosine():
    import numpy as np

    from training.augment import embedding_neighbours

    vocab = {"rose": 0, "rises": 1, "fell": 2, "##ing": 3, "profit": 4, "x": 5}
    emb = np.array([[1.0, 0.0], [0.9, 0.1], [-1.0, 0.0], [0.95, 0.05], [0.0, 1.0], [1.0, 0.01]])
    out = embedding_neighbours(["Rose", "profit", "unknown", "fell"], vocab, emb, k=2, min_cos=0.5)
    # "##ing" and "x" lie nearer to "rose" than "rises" does, but word pieces and one-letter pieces are never
    # proposed; "profit" and "fell" have nothing within min_cos; "unknown" is not in the vocabulary
    assert out == {"rose": ["rises"]}
    assert embedding_neighbours(["rose"], vocab, emb, k=2, min_cos=-1.0) == {"rose": ["rises", "profit"]}


def test_neighbour_replacement_draws_from_the_table_and_needs_one():
    args = AugmentArgs(copies=3, p_mask=0.0, p_replace=0.5, p_span=0.0, replace_with="neighbours")
    table = {"rose": ["climbed"], "profit": ["earnings"], "fall": ["drop"]}
    out = augment(TEXTS, args, seed=1, neighbours=table)
    corpus = {w for t in TEXTS for w in t.split()}
    replaced = {w for copy in out for w in copy.split()} - corpus
    assert replaced and replaced <= {"climbed", "earnings", "drop"}
    with pytest.raises(TrainingError, match="needs a neighbour table"):
        augment(TEXTS, args, seed=1)
    with pytest.raises(TrainingError, match="replace_with='synonyms'"):
        AugmentArgs(replace_with="synonyms")
