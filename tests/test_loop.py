"""echo.py's training step: micro-batch accumulation gives exactly the full batch's gradient."""
import copy
import random
from types import SimpleNamespace

import pytest
import torch

import echo
import model as M
import rollout as R


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
