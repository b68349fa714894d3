import numpy as np

from models.pretrained import minilm_path
from models.tokenizer import Encoder, build_id_map, kept_ids


def test_pruned_vocabulary_keeps_used_pieces_and_sends_the_rest_to_unk():
    kept = kept_ids([[101, 2000, 102], [101, 3000, 102]], vocab_size=5000, pad_id=0, unk_id=100)
    assert kept.tolist() == [0, 100, 101, 102, 2000, 3000]
    id_map = build_id_map(kept, 5000, unk_id=100)
    assert id_map[0] == 0 and id_map[2000] == 4 and id_map[3000] == 5
    assert id_map[4999] == id_map[100] == 1  # unseen piece -> [UNK]


def test_encoder_pads_to_longest_and_masks():
    enc = Encoder.from_file(minilm_path() / "tokenizer.json", max_length=16)
    ids, mask = enc(["Apple beats estimates", "Nokia"])
    assert ids.shape == mask.shape and ids.shape[0] == 2
    assert mask[1].sum() < mask[0].sum()
    assert (ids[1][mask[1] == 0] == enc.pad_id).all()
    ids_long, _ = enc(["word " * 100])
    assert ids_long.shape[1] == 16
    mapped = Encoder.from_file(minilm_path() / "tokenizer.json", 16, id_map=np.zeros(30522, dtype=np.int64))
    assert int(mapped(["Apple beats estimates"])[0].max()) == 0
