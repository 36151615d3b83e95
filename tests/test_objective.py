"""The ECHO objective on hand-made tensors whose right answers can be checked by hand (METHOD.md §2)."""
import math

import pytest
import torch

from echo import echo_loss, grpo_advantages, lam_schedule, sft_loss

S2 = 0.5 ** 0.5  # unbiased std of a group {1, 0}


def t(*rows):
    return torch.tensor(rows, dtype=torch.float64)


# ---- Eq. 2a ----

def test_advantages_groups_of_two_and_four():
    r = torch.tensor([1.0, 0.0, 0.0, 1.0])
    a = 0.5 / (S2 + 1e-6)  # group {1,0}: mean .5, std .70711
    assert torch.allclose(grpo_advantages(r, 2), torch.tensor([a, -a, -a, a]), atol=1e-6)
    b = 0.5 / ((1 / 3) ** 0.5 + 1e-6)  # group {1,0,0,1}: mean .5, std sqrt(1/3) = .57735
    assert torch.allclose(grpo_advantages(r, 4), torch.tensor([b, -b, -b, b]), atol=1e-6)


def test_advantages_all_equal_group_is_zero():
    assert torch.equal(grpo_advantages(torch.tensor([1.0, 1.0, 0.0, 0.0]), 2), torch.zeros(4))


def test_advantages_group_of_one_is_r_over_one():  # "a group of 1: mean 0, std 1"
    adv = grpo_advantages(torch.tensor([1.0, 0.0, 1.0]), 1)
    assert torch.allclose(adv, torch.tensor([1.0, 0.0, 1.0]) / (1 + 1e-6))


def test_advantages_bad_group_size():
    with pytest.raises(ValueError, match=r"5 rewards .* groups of 2"):
        grpo_advantages(torch.ones(5), 2)
    with pytest.raises(ValueError, match="groups of 0"):
        grpo_advantages(torch.ones(4), 0)


# ---- Eq. 2, 2b ----

def test_on_policy_seq_loss_is_minus_mean_advantage():
    torch.manual_seed(0)
    logp = -torch.rand(3, 6, dtype=torch.float64)
    mask = (torch.rand(3, 6) < 0.5).double()
    mask[:, 0] = 1  # every rollout has an action token
    adv = t(0.7, -1.2, 0.3)
    loss, st = echo_loss(logp, logp.clone(), mask, torch.zeros(3, 6), torch.zeros(3), adv, lam=0.0)
    assert loss.item() == pytest.approx(-adv.mean().item())
    assert st["clip_frac"] == 0.0


def hand_2x4():
    """Row 0: Â=1, A = tokens 0,1 with ρ = 1, 1.1. Row 1: Â=−.5, A = tokens 1..3 with ρ = .9, 1, 1.3.
    Non-action tokens carry ρ = 5 to show they are ignored."""
    ratio = t([1.0, 1.1, 5.0, 5.0], [5.0, 0.9, 1.0, 1.3])
    old = -torch.ones(2, 4, dtype=torch.float64)
    logp = (old + ratio.log()).requires_grad_()
    A = t([1, 1, 0, 0], [0, 1, 1, 1])
    return logp, old, A, t(1.0, -0.5)


@pytest.mark.parametrize("pg_norm, expected", [
    # ℓ row 0: −1, −1.1 (sum −2.1); row 1: .45, .5, .65 (ρ=1.3 with Â<0: unclipped −.65 is the min)
    ("seq", (-2.1 / 2 + 1.6 / 3) / 2),
    ("token", (-2.1 + 1.6) / 5),
])
def test_hand_made_grpo_both_norms(pg_norm, expected):
    logp, old, A, adv = hand_2x4()
    loss, st = echo_loss(logp, old, A, torch.zeros(2, 4), torch.zeros(2), adv, lam=0.05, pg_norm=pg_norm)
    assert loss.item() == pytest.approx(expected)
    assert st["grpo_loss"] == pytest.approx(expected) and st["env_loss"] == 0.0
    assert st["clip_frac"] == 0.0 and st["n_action_tokens"] == 5


@pytest.mark.parametrize("ratio, adv, ell, clipped", [
    (1.5, 2.0, -1.2 * 2.0, True),   # ρ > 1+ε, Â > 0: clipped at 1.2, no gradient
    (0.5, -1.0, 0.8 * 1.0, True),   # ρ < 1−ε, Â < 0: clipped at 0.8, no gradient
    (1.5, -1.0, 1.5 * 1.0, False),  # ρ > 1+ε but Â < 0: the unclipped term is the min, gradient flows
])
def test_clipping(ratio, adv, ell, clipped):
    logp = torch.tensor([[math.log(ratio)]], dtype=torch.float64, requires_grad=True)
    loss, st = echo_loss(logp, torch.zeros(1, 1), torch.ones(1, 1), torch.zeros(1, 1), torch.zeros(1),
                         t(adv), lam=0.0)
    loss.backward()
    assert loss.item() == pytest.approx(ell)
    assert (logp.grad.item() == 0.0) == clipped
    assert st["clip_frac"] == (1.0 if clipped else 0.0)


def test_bad_pg_norm():
    logp, old, A, adv = hand_2x4()
    with pytest.raises(ValueError, match="'mean'"):
        echo_loss(logp, old, A, torch.zeros(2, 4), torch.zeros(2), adv, lam=0.0, pg_norm="mean")


# ---- Eq. 3, Eq. 1 ----

def hand_env():
    """Row 0: [action, warning, env, env]; row 1: [context, env, env, env]. |O| = 3 for both."""
    logp = t([-0.2, -4.0, -0.5, -1.5], [-9.0, -1.0, -1.0, -1.0]).requires_grad_()
    A = t([1, 0, 0, 0], [0, 0, 0, 0])
    E = t([0, 0, 1, 1], [0, 1, 1, 1])
    W = t([0, 1, 0, 0], [0, 0, 0, 0])
    return logp, A, E, W, t(3, 3)


def test_env_term_hand_made():
    logp, A, E, W, n_obs = hand_env()
    l_env = (2.0 / 3.001 + 3.0 / 3.001) / 2  # |O| counts the warning token, CE only the env tokens
    loss, st = echo_loss(logp, logp.detach(), A, E, n_obs, t(0.0, 0.0), lam=0.05, warning_mask=W)
    assert loss.item() == pytest.approx(0.05 * l_env)  # Â = 0, so L_GRPO = 0
    assert st["env_loss"] == pytest.approx(l_env)
    assert st["env_ce"] == pytest.approx(5.0 / 5) and st["n_env_tokens"] == 5
    assert st["warning_ce"] == pytest.approx(4.0) and st["n_warning_tokens"] == 1
    _, st = echo_loss(logp, logp.detach(), A, E, n_obs, t(0.0, 0.0), lam=0.05)
    assert math.isnan(st["warning_ce"])


def test_env_only_mode_skips_grpo():
    logp, A, E, W, n_obs = hand_env()
    loss, st = echo_loss(logp, logp.detach(), A, E, n_obs, None, lam=1.0)
    assert loss.item() == pytest.approx(5.0 / 3.001 / 2) and st["grpo_loss"] == 0.0
    loss.backward()
    assert torch.equal(logp.grad != 0, E.bool())  # only env tokens are trained


def test_gradient_flows_to_action_and_env_tokens_only():
    logp, A, E, W, n_obs = hand_env()
    A = t([1, 0, 0, 0], [1, 0, 0, 0])
    echo_loss(logp, logp.detach(), A, E, n_obs, t(1.0, -1.0), lam=0.05, warning_mask=W)[0].backward()
    assert torch.equal(logp.grad != 0, (A + E).bool())  # context and warning tokens get nothing
    logp.grad = None
    echo_loss(logp, logp.detach(), A, E, n_obs, t(1.0, -1.0), lam=0.0)[0].backward()
    assert torch.equal(logp.grad != 0, A.bool())  # λ = 0: GRPO baseline, env tokens untouched


# ---- gradient accumulation ----

@pytest.mark.parametrize("pg_norm", ["seq", "token"])
def test_micro_batches_sum_to_whole_batch(pg_norm):
    torch.manual_seed(1)
    B, T = 6, 7
    logp = (-3 * torch.rand(B, T, dtype=torch.float64)).requires_grad_()
    old = logp.detach() + 0.4 * torch.randn(B, T, dtype=torch.float64)  # some tokens get clipped
    role = torch.randint(0, 4, (B, T))  # 0 context, 1 action, 2 warning, 3 env
    role[4] = torch.tensor([0, 3, 3, 2, 3, 0, 0])  # a rollout with no action tokens
    A, W, E = (role == 1).double(), (role == 2).double(), (role == 3).double()
    n_obs, adv = (W + E).sum(1), torch.randn(B, dtype=torch.float64)
    kw = dict(lam=0.05, pg_norm=pg_norm)

    whole, _ = echo_loss(logp, old, A, E, n_obs, adv, warning_mask=W, **kw)
    (g_whole,) = torch.autograd.grad(whole, logp)
    total, g_acc = 0.0, torch.zeros_like(logp)
    for s in (slice(0, 2), slice(2, 6)):
        mb = logp.detach()[s].clone().requires_grad_()
        loss, _ = echo_loss(mb, old[s], A[s], E[s], n_obs[s], adv[s], warning_mask=W[s], n_rollouts=B,
                            n_action_tokens=A.sum(), **kw)
        loss.backward()
        total, g_acc[s] = total + loss.item(), mb.grad
    assert total == pytest.approx(whole.item(), abs=1e-6)
    assert torch.allclose(g_acc, g_whole, atol=1e-6)


# ---- expert SFT, λ schedule ----

def test_sft_loss_hand_made():
    logp = t([-1.0, -3.0, -7.0], [-7.0, -0.5, -1.5], [-7.0, -7.0, -7.0])
    A = t([1, 1, 0], [0, 1, 1], [0, 0, 0])  # per-rollout means 2 and 1; the empty rollout adds 0
    loss, st = sft_loss(logp, A)
    assert loss.item() == pytest.approx(3.0 / 3)
    assert st["action_ce"] == pytest.approx(6.0 / 4) and st["n_action_tokens"] == 4
    assert sft_loss(logp, A, n_rollouts=6)[0].item() == pytest.approx(3.0 / 6)


def test_lam_schedule():
    assert lam_schedule(123, 500, 0.05) == 0.05
    linear = [lam_schedule(s, 500, 0.05, "linear") for s in (0, 250, 500, 600)]
    assert linear == pytest.approx([0.05, 0.025, 0, 0])
    assert [lam_schedule(s, 500, 0.05, "step", gamma=0.5, every=100) for s in (0, 99, 100, 250)] == \
        pytest.approx([0.05, 0.05, 0.025, 0.0125])
    assert lam_schedule(100, 500, 0.05, "step", gamma=0.0, every=100) == 0.0
    with pytest.raises(ValueError, match="'cosine'"):
        lam_schedule(0, 500, 0.05, "cosine")
