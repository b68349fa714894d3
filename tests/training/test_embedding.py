import pytest
import torch

from training.distill import DistillArgs
from training.embedding import AdaptedEmbedding
from training.errors import TrainingError


def test_adapted_embedding_starts_at_its_base_learns_one_function_and_folds_into_a_table():
    torch.manual_seed(0)
    base, source = torch.randn(50, 8), torch.randn(50, 24)
    emb = AdaptedEmbedding(base, source, hidden=16)
    ids = torch.tensor([[3, 7, 0], [49, 3, 1]])
    torch.testing.assert_close(emb(ids), base[ids])  # zero-initialised last layer: the frozen start
    opt = torch.optim.Adam(emb.parameters(), lr=1e-2)
    target = torch.randn(2, 3, 8)
    for _ in range(20):
        opt.zero_grad()
        ((emb(ids) - target) ** 2).mean().backward()
        opt.step()
    assert not torch.allclose(emb(ids), base[ids])
    torch.testing.assert_close(emb.base, base)  # the start itself never trains
    assert {n for n, p in emb.named_parameters()} == {n for n, _ in emb.mlp.named_parameters(prefix="mlp")}
    # rows the training never touched moved too: the same MLP maps every piece's teacher embedding
    assert not torch.allclose(emb(torch.tensor([20])), base[20:21])
    table = emb.materialise(pad_id=0)
    all_ids = torch.arange(50)
    torch.testing.assert_close(table(all_ids), emb(all_ids))


def test_embedding_modes_are_checked():
    with pytest.raises(TrainingError, match="embed_mode='free'"):
        DistillArgs(teacher="t", embed_mode="free")
    with pytest.raises(TrainingError, match="adapter_width=0"):
        DistillArgs(teacher="t", embed_mode="adapter", adapter_width=0)


@pytest.mark.parametrize("dim", [4, 24, 32])
def test_pca_start_keeps_the_rows_geometry_at_any_width(dim):
    from training.distill import _pca_init

    torch.manual_seed(0)
    # four strong directions and twenty weak ones, off the origin
    w = torch.randn(200, 24) @ torch.diag(torch.tensor([3.0] * 4 + [0.05] * 20)) + 3.0
    start = _pca_init(w, dim)
    assert start.shape == (200, min(dim, 24)) and abs(start.std().item() - 0.5) < 1e-4
    dist = lambda x: torch.cdist(x, x, compute_mode="donot_use_mm_for_euclid_dist").flatten()
    near, far = dist(start), dist(w)
    if dim >= 24:  # the full width keeps every distance, up to one scale
        torch.testing.assert_close(near, far * (near.max() / far.max()), atol=1e-4, rtol=1e-4)
    else:  # the top directions keep the distances' order
        assert torch.corrcoef(torch.stack([near, far]))[0, 1] > 0.99


def test_student_table_at_most_as_wide_as_the_teachers(tiny_bert):
    import numpy as np

    from training.distill import make_student
    from training.hf import load_classifier

    teacher, tok, _ = load_classifier(str(tiny_bert))
    rows = np.arange(teacher.get_input_embeddings().weight.shape[0])
    with pytest.raises(TrainingError, match=r"embed_dim=48 is wider than the teacher's embedding \(32\)"):
        make_student(DistillArgs(teacher=str(tiny_bert), embed_dim=48), teacher, rows, 3, tok)
    student = make_student(DistillArgs(teacher=str(tiny_bert), embed_dim=32), teacher, rows, 3, tok)
    table, source = student.embed.weight.detach(), teacher.get_input_embeddings().weight.detach()
    assert table.shape == source.shape and not student.embed.weight.requires_grad
    # the full width is the teacher's own table, centred, scaled and rounded to float16 (stored so, losslessly)
    torch.testing.assert_close(table / table.std(), (source - source.mean(0)) / (source - source.mean(0)).std(),
                               atol=2e-3, rtol=2e-3)
    torch.testing.assert_close(table.half().float(), table, atol=0, rtol=0)


@pytest.mark.parametrize("arch", ["bilstm", "cnn"])
def test_dropout_reaches_the_student_and_a_bad_one_is_named(tiny_bert, arch):
    import numpy as np

    from models.student import config_dict
    from training.distill import make_student
    from training.hf import load_classifier

    teacher, tok, _ = load_classifier(str(tiny_bert))
    rows = np.arange(teacher.get_input_embeddings().weight.shape[0])
    student = make_student(DistillArgs(teacher=str(tiny_bert), student=arch, embed_dim=16, dropout=0.1),
                           teacher, rows, 3, tok)
    assert student.drop.p == 0.1 and config_dict(student)["dropout"] == 0.1  # what the artifact stores
    with pytest.raises(TrainingError, match=r"dropout=1.0 \(expected a probability in \[0, 1\)\)"):
        DistillArgs(teacher="t", dropout=1.0)
