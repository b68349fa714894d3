import shutil

import pandas as pd
import pytest

from models.pretrained import minilm_path

POS = ["Profit rose sharply and the company raised its outlook", "Shares jump after record sales",
       "$AAPL beats estimates, guidance raised", "Net sales increased by 20 percent", "Bullish breakout on strong demand"]
NEG = ["Profit fell and the company cut jobs", "Shares plunge after profit warning",
       "$TSLA misses estimates, guidance cut", "Net loss widened in the quarter", "Bearish: demand collapses"]
NEU = ["The annual general meeting is on Monday", "The company is based in Helsinki",
       "$MSFT to report results on Thursday", "The board has five members", "The report is available online"]


def labelled_frame(copies: int = 3) -> pd.DataFrame:
    rows = [(f"{t} (case {i})", lab) for i in range(copies) for lab, ts in
            (("positive", POS), ("negative", NEG), ("neutral", NEU)) for t in ts]
    return pd.DataFrame(rows, columns=["text", "label"])


@pytest.fixture
def make_frame():
    return labelled_frame


@pytest.fixture
def tiny_data(tmp_path):
    path = tmp_path / "tiny.csv"
    labelled_frame().to_csv(path, index=False)
    return path


def save_tiny_bert(out, seed: int = 0):
    """A tiny random BERT classifier with the real MiniLM tokenizer, saved like any HF model directory."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(seed)
    cfg = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=128, num_labels=3,
                     id2label={0: "positive", 1: "negative", 2: "neutral"},
                     label2id={"positive": 0, "negative": 1, "neutral": 2})
    BertForSequenceClassification(cfg).save_pretrained(out)
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        shutil.copyfile(minilm_path() / name, out / name)
    return out


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory):
    return save_tiny_bert(tmp_path_factory.mktemp("tiny_bert"), seed=0)


@pytest.fixture(scope="session")
def tiny_bert2(tmp_path_factory):
    """A second member for ensembles: same tokenizer, other weights."""
    return save_tiny_bert(tmp_path_factory.mktemp("tiny_bert2"), seed=1)
