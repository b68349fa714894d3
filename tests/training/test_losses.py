import math

import pytest
import torch
import torch.nn.functional as F

from training.losses import FeatureProjection, distillation_loss, feature_loss, kd_kl


def test_kl_is_zero_for_identical_logits():
    logits = torch.randn(8, 3)
    assert kd_kl(logits, logits.clone(), temperature=2.0).item() == pytest.approx(0.0, abs=1e-7)


def test_kl_carries_the_t_squared_factor():
    s, t = torch.randn(16, 3), torch.randn(16, 3)
    for temp in (1.0, 2.0, 4.0):
        p_t = F.softmax(t / temp, -1)
        manual = (p_t * (p_t.log() - F.log_softmax(s / temp, -1))).sum(-1).mean()
        assert kd_kl(s, t, temp).item() == pytest.approx(temp ** 2 * manual.item(), rel=1e-5)


def test_kl_is_positive_and_gradient_pulls_student_to_teacher():
    s = torch.zeros(4, 3, requires_grad=True)
    t = torch.tensor([[5.0, 0.0, 0.0]] * 4)
    loss = kd_kl(s, t, 1.0)
    loss.backward()
    assert loss.item() > 0 and (s.grad[:, 0] < 0).all()  # descending the gradient raises class 0


def test_projection_maps_widths_and_learns():
    proj = FeatureProjection(8, 16)
    assert isinstance(proj.proj, torch.nn.Linear)
    assert isinstance(FeatureProjection(16, 16).proj, torch.nn.Identity)
    h_s, h_t = torch.randn(5, 8), torch.randn(5, 16)
    loss = feature_loss(proj(h_s), h_t, "mse")
    loss.backward()
    assert proj.proj.weight.grad is not None and proj.proj.weight.grad.abs().sum() > 0


def test_feature_loss_forms():
    a = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    assert feature_loss(a, a, "mse").item() == 0.0
    assert feature_loss(a, 3 * a, "cosine").item() == pytest.approx(0.0, abs=1e-6)
    b = torch.tensor([[0.0, 1.0], [0.0, 1.0]])  # cos = 0 for row 0, 1 for row 1
    assert feature_loss(a, b, "cosine").item() == pytest.approx(0.5)
    # (cos - a)^2 with target a = 1: rows give 1 and 0
    assert feature_loss(a, b, "cosine_target", target=1.0).item() == pytest.approx(0.5)
    assert feature_loss(a, b, "cosine_target", target=0.0).item() == pytest.approx(0.5)
    with pytest.raises(ValueError, match="expected one of"):
        feature_loss(a, b, "l1")


def test_combined_loss_uses_only_labelled_rows_for_ce():
    s = torch.randn(4, 3)
    labels = torch.tensor([0, 1, -1, -1])
    has = labels >= 0
    total, parts = distillation_loss(s, s.clone(), labels, has, None, None, None, alpha=1.0, beta=1.0, gamma=0.0,
                                     temperature=2.0)
    ce = F.cross_entropy(s[:2], labels[:2]).item()
    assert parts["loss_ce"] == pytest.approx(ce) and parts["loss_kl"] == pytest.approx(0.0, abs=1e-6)
    assert total.item() == pytest.approx(ce, rel=1e-5)
    assert not math.isnan(distillation_loss(s, s, labels, torch.zeros(4, dtype=torch.bool), None, None, None,
                                            1.0, 1.0, 0.0, 2.0)[0].item())


def test_token_level_feature_loss_ignores_padding_and_sums_cosine_targets_per_text():
    torch.manual_seed(0)
    s, t = torch.randn(2, 4, 6), torch.randn(2, 4, 6)
    mask = torch.tensor([[1, 1, 1, 0], [1, 1, 0, 0]])
    real = mask.bool()
    for kind in ("mse", "cosine", "cosine_target"):
        base = feature_loss(s, t, kind, mask=mask)
        s2, t2 = s.clone(), t.clone()
        s2[~real], t2[~real] = 100.0, -100.0  # whatever sits at padding positions counts for nothing
        assert feature_loss(s2, t2, kind, mask=mask).item() == pytest.approx(base.item(), rel=1e-6)
    assert feature_loss(s, t, "mse", mask=mask).item() == pytest.approx(((s - t) ** 2).mean(-1)[real].mean().item())
    cos = F.cosine_similarity(s, t, dim=-1)
    assert feature_loss(s, t, "cosine", mask=mask).item() == pytest.approx((1 - cos[real]).mean().item(), rel=1e-6)
    per_text = [((cos[i][real[i]] - 0.5) ** 2).sum() for i in range(2)]  # sum_i (cos - a)^2 over a text's pieces
    assert feature_loss(s, t, "cosine_target", 0.5, mask).item() == pytest.approx(
        (sum(per_text) / 2).item(), rel=1e-6)
    assert feature_loss(s, s.clone(), "mse", mask=mask).item() == 0.0


def test_logit_matching_ignores_a_shift_and_pulls_the_margins_to_the_teachers():
    from training.losses import kd_logit_mse

    t = torch.tensor([[4.0, 1.0, -2.0], [0.0, 0.5, 3.0]])
    assert kd_logit_mse(t + torch.tensor([[7.0], [-3.0]]), t).item() == pytest.approx(0.0, abs=1e-6)
    s = torch.zeros(2, 3, requires_grad=True)
    loss = kd_logit_mse(s, t)
    centred = t - t.mean(-1, keepdim=True)
    assert loss.item() == pytest.approx((centred ** 2).sum(-1).mean().item())
    loss.backward()
    # descending the gradient moves each logit towards the teacher's centred one
    assert torch.equal(torch.sign(-s.grad), torch.sign(centred))
    # unlike KL at T=1, it still sees a margin the softmax has squashed: 10 vs 20 both give p ~ 1
    big, bigger = torch.tensor([[10.0, 0.0, 0.0]]), torch.tensor([[20.0, 0.0, 0.0]])
    assert kd_kl(big, bigger, 1.0).item() < 1e-3 < kd_logit_mse(big, bigger).item()


def test_combined_loss_takes_the_soft_term_asked_for():
    s, t = torch.randn(4, 3), torch.randn(4, 3)
    labels, has = torch.full((4,), -1), torch.zeros(4, dtype=torch.bool)
    from training.losses import kd_logit_mse

    total, parts = distillation_loss(s, t, labels, has, None, None, None, 0.5, 0.5, 0.0, 2.0, kd="mse")
    assert set(parts) == {"loss_mse"} and total.item() == pytest.approx(0.5 * kd_logit_mse(s, t).item())
    _, parts = distillation_loss(s, t, labels, has, None, None, None, 0.5, 0.5, 0.0, 2.0)
    assert set(parts) == {"loss_kl"} and parts["loss_kl"] == pytest.approx(kd_kl(s, t, 2.0).item())
    with pytest.raises(ValueError, match="expected one of"):
        distillation_loss(s, t, labels, has, None, None, None, 0.5, 0.5, 0.0, 2.0, kd="l1")
