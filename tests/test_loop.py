"""echo.py's training step: micro-batch accumulation gives exactly the full batch's gradient."""
import copy
import math
import random
from types import SimpleNamespace

import pytest
import torch

import echo
import model as M
import rollout as R
from generate import Generator


def fake_episodes(B=6, seed=0, vocab=97):
    rng = random.Random(seed)
    eps = []
    for i in range(B):
        roles = [R.CONTEXT] * 5
        for _ in range(rng.randint(1, 3)):
            roles += [R.ACTION] * rng.randint(2, 6) + [R.CONTEXT] * 2 + [R.WARNING] * rng.randint(0, 2) \
                + [R.ENV] * rng.randint(1, 7) + [R.CONTEXT] * 2
        ids = [rng.randrange(vocab) for _ in roles]
        eps.append(R.Episode("t", 0, [], ids, roles, reward=float(rng.random() < 0.5), turns=2))
    return eps


def args(**kw):
    base = dict(sft=None, sft_tokens="action", env_only=False, n=3, micro_batch_tokens=10**9, pad_id=0, temperature=0.8, eps_low=0.2,
                eps_high=0.2, pg_norm="seq", grad_clip=1e9, min_valid_frac=0.0, min_clean_frac=0.0)
    return SimpleNamespace(**{**base, **kw})


def tiny():
    c = M.Qwen3Config(vocab_size=97, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, head_dim=16, tie_word_embeddings=True)
    return M.init_weights(M.Qwen3(c), 0)


@pytest.mark.parametrize("mode", [dict(pg_norm="seq"), dict(pg_norm="token"), dict(env_only=True), dict(sft="x")])
def test_micro_batches_give_the_full_batch_gradient(mode):
    eps = fake_episodes()
    grads = []
    for mbt in (10**9, 40):  # one micro-batch vs rows split into several
        m = tiny()
        opt = torch.optim.SGD(m.parameters(), lr=0.0)  # lr 0: keep the weights, look at the gradient
        seen = []  # train_step frees the gradients after the step: look at them just before it
        opt.register_step_pre_hook(lambda *_: seen.append([p.grad.clone() for p in m.parameters()]))
        st = echo.train_step(m, opt, copy.deepcopy(eps), args(micro_batch_tokens=mbt, **mode), lam=0.05)
        assert all(p.grad is None for p in m.parameters())
        grads.append((seen[0], st))
    assert len(echo.micro_batches([len(e.ids) for e in eps], 40)) > 1
    (g1, s1), (g2, s2) = grads
    for a, b in zip(g1, g2):
        assert torch.allclose(a, b, atol=1e-6, rtol=1e-5)
    assert s1["loss"] == pytest.approx(s2["loss"], rel=1e-5, abs=1e-7)


def test_micro_batches_pack_consecutive_rows_within_the_budget():
    assert echo.micro_batches([10, 10, 10, 30, 5], 30) == [[0, 1, 2], [3], [4]]
    assert echo.micro_batches([50], 10) == [[0]]  # a row longer than the budget still gets its own batch


def test_non_finite_loss_skips_the_step():
    m = tiny()
    opt = torch.optim.AdamW(m.parameters(), lr=1.0)
    eps = fake_episodes()
    with torch.no_grad():
        m.model.norm.weight[0] = float("nan")
    before = {n: p.detach().clone() for n, p in m.named_parameters()}
    st = echo.train_step(m, opt, eps, args(), lam=0.05)
    assert st["skipped"].startswith("non-finite")
    for n, p in m.named_parameters():           # exactly as before, the planted NaN included
        assert torch.equal(before[n].nan_to_num(7.0), p.detach().nan_to_num(7.0)), n


def test_sampler_gap_of_a_hand_made_pair():
    # Δ = log p_sample − log p_train = (0.1, −0.2) on the two masked tokens; the third is not an action
    train, sample = torch.tensor([[-1.0, -2.0, -3.0]]), torch.tensor([[-0.9, -2.2, 0.0]])
    mask = torch.tensor([[1, 1, 0]])
    st = echo.sampler_gap(train, sample, mask)
    k3 = ((math.exp(-0.1) - 1 + 0.1) + (math.exp(0.2) - 1 - 0.2)) / 2  # mean of r − 1 − log r, r = e^−Δ
    assert st["n_gap_tokens"] == 2 and st["logp_gap_abs"] == pytest.approx(0.15)
    assert st["logp_gap_max"] == pytest.approx(0.2) and st["logp_gap_kl"] == pytest.approx(k3)
    assert math.isnan(echo.sampler_gap(train, sample, mask * 0)["logp_gap_abs"])


def sampled_episodes(policy, temperature, seed=0):
    """Three two-turn rollouts the way rollout.py builds them: the Generator samples 6 ACTION tokens per
    turn (recording their log-probs), then an ENV observation is appended through the KV cache."""
    gen = Generator(policy, 3, stop_ids=[])
    prompts = [[1, 2, 3, 4, 5], [6, 7], [8, 9, 10]]
    eps = [R.Episode("t", 0, [], list(p), [R.CONTEXT] * len(p), reward=float(i == 0))
           for i, p in enumerate(prompts)]
    gen.extend(range(3), prompts)
    rng = torch.Generator().manual_seed(seed)
    for turn in range(2):
        for e, s in zip(eps, gen.sample(range(3), 6, temperature=temperature, generator=rng)):
            e.ids, e.roles = e.ids + s.ids, e.roles + [R.ACTION] * len(s.ids)
            e.sample_logprobs = e.sample_logprobs + s.logprobs
        obs = [[11 + turn, 12, 13], [14], [15, 16]]
        gen.extend(range(3), obs)
        for e, o in zip(eps, obs):
            e.ids, e.roles = e.ids + o, e.roles + [R.ENV] * len(o)
    return eps


@pytest.mark.parametrize("micro_batch_tokens", [10**9, 20])
def test_sampler_and_trainer_agree_in_fp32(micro_batch_tokens):
    # The same Qwen3 code samples (KV cache, one token at a time) and trains (one forward over the rollout):
    # in fp32 on CPU their log-probs at θ_old = θ differ by rounding only (README "Sampler-trainer gap").
    m = tiny()
    st = echo.train_step(m, torch.optim.SGD(m.parameters(), lr=0.0), sampled_episodes(m.eval(), 0.8),
                         args(temperature=0.8, micro_batch_tokens=micro_batch_tokens), lam=0.05)
    assert st["n_gap_tokens"] == 36
    assert st["logp_gap_abs"] < 1e-5 and st["logp_gap_max"] < 1e-4 and 0 <= st["logp_gap_kl"] < 1e-9


def test_sampler_gap_shows_a_sampler_that_differs_from_the_trainer():
    # sampled at T = 1, trained at T_train = 0.8: the measure must see it (0.025 nats per token here)
    m = tiny()
    st = echo.train_step(m, torch.optim.SGD(m.parameters(), lr=0.0), sampled_episodes(m.eval(), 1.0),
                         args(temperature=0.8), lam=0.05)
    assert st["logp_gap_abs"] > 1e-2 and st["logp_gap_kl"] > 1e-4
