"""One GPU, full fine-tuning in bf16: stochastic rounding makes the paper's lr 1e-6 actually move the
weights (plain bf16 AdamW rounds every update away), with torch's AdamW arithmetic and exact resumes."""
import copy
import json
from types import SimpleNamespace

import torch

import echo
import model as M
import runs
import scale


def test_round_stochastic_is_exact_in_expectation():
    lo, hi = 1.0, 1.0 + 2 ** -7  # neighbouring bf16 values
    x = torch.full((200_000,), lo + 0.3 * (hi - lo))
    r = scale.round_stochastic(x, torch.Generator().manual_seed(0))
    assert r.dtype == torch.bfloat16
    assert set(r.float().unique().tolist()) == {lo, hi}
    assert abs((r.float() == hi).float().mean().item() - 0.3) < 0.005
    assert abs(scale.round_stochastic(-x).float().mean().item() + x[0].item()) < 1e-4  # negative: same
    exact = torch.tensor([0.0, 1.0, -2.5, 0.02]).bfloat16().float()  # already bf16: unchanged
    assert torch.equal(scale.round_stochastic(exact).float(), exact)


def run(opt_cls, p0, grads, **kw):
    p = torch.nn.Parameter(p0.clone())
    opt = opt_cls([p], **kw)
    for g in grads:
        p.grad = g.to(p.dtype)
        opt.step()
    return p.detach(), opt


def test_fp32_parameters_get_exactly_torchs_adamw():
    g = torch.Generator().manual_seed(0)
    p0, grads = torch.randn(1000, generator=g), [torch.randn(1000, generator=g) for _ in range(5)]
    kw = dict(lr=1e-2, betas=(0.9, 0.95), weight_decay=0.1)
    ours, _ = run(scale.AdamW, p0, grads, **kw)
    ref, _ = run(torch.optim.AdamW, p0, grads, foreach=False, **kw)
    torch.testing.assert_close(ours, ref, rtol=0, atol=1e-7)


def test_bf16_weights_learn_at_lr_1e_6():
    # 4096 weights of 0.02 (bf16 spacing there: 1.2e-4), the same gradient every step: fp32 AdamW moves
    # each by lr per step. torch's AdamW in bf16 does not move them at all; ours moves them by the fp32
    # amount on average.
    p0, grads = torch.full((4096,), 0.02).bfloat16(), [torch.ones(4096)] * 200
    kw = dict(lr=1e-6, weight_decay=0.0)
    fp32, _ = run(torch.optim.AdamW, p0.float(), grads, **kw)
    plain, _ = run(torch.optim.AdamW, p0, grads, **kw)
    ours, opt = run(scale.AdamW, p0, grads, **kw)
    want = (p0.float() - fp32).mean().item()
    assert abs(want - 200e-6) < 1e-6
    assert torch.equal(plain, p0)  # the bug this optimizer fixes
    assert abs((p0.float() - ours.float()).mean().item() - want) < 0.05 * want
    st = opt.state[opt.param_groups[0]["params"][0]]
    assert ours.dtype == st["exp_avg"].dtype == st["exp_avg_sq"].dtype == torch.bfloat16  # 8 bytes/parameter


def test_bf16_resume_repeats_the_rounding():
    g = torch.Generator().manual_seed(1)
    p0, grads = torch.randn(3000, generator=g).bfloat16(), [torch.randn(3000, generator=g) for _ in range(5)]
    straight, _ = run(scale.AdamW, p0, grads, lr=1e-3, seed=7)
    half, opt = run(scale.AdamW, p0, grads[:3], lr=1e-3, seed=7)
    p = torch.nn.Parameter(half.clone())
    opt2 = scale.AdamW([p], lr=1e-3, seed=7)
    opt2.load_state_dict(copy.deepcopy(opt.state_dict()))
    for gr in grads[3:]:
        p.grad = gr.bfloat16()
        opt2.step()
    assert torch.equal(p.detach(), straight)


def test_optimizer_choice_follows_the_weights_dtype():
    args = SimpleNamespace(lr=1e-6, beta2=0.999, weight_decay=0.01, seed=0)
    cfg = M.Qwen3Config(vocab_size=32, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                        num_attention_heads=2, num_key_value_heads=1, head_dim=8)
    m = M.Qwen3(cfg)
    assert type(scale.optimizer(m.parameters(), args)) is torch.optim.AdamW  # fp32: torch's
    assert type(scale.optimizer(m.bfloat16().parameters(), args)) is scale.AdamW
    M.add_lora(m, 2, 4.0)  # frozen bf16 base, fp32 adapters: torch's, over the adapters only
    opt = scale.optimizer(m.parameters(), args)
    assert type(opt) is torch.optim.AdamW and all(p.dtype == torch.float32 for p in opt.param_groups[0]["params"])


def test_echo_main_in_bf16_moves_the_weights_by_lr(tmp_path):
    echo.main(["--tasks-per-step", "1", "--n", "2", "--max-turns", "1", "--max-turn-tokens", "8", "--steps", "1",
               "--dtype", "bfloat16", "--lr", "1e-6", "--out", str(tmp_path)])
    before, _ = M.load(runs.TINY_AGENT, dtype=torch.bfloat16)
    after, _ = M.load(tmp_path / "step-1", dtype=torch.bfloat16)
    # AdamW's first step moves a weight by lr·g/(|g| + ε), i.e. by lr once |g| ≫ ε = 1e-8 (weight decay adds
    # lr·0.01·|w| ≈ 1e-10), and stochastic rounding keeps the bf16 move lr on average: a 1e-6 step inside
    # a gap of ~5e-5 becomes the whole gap with probability lr/gap. So the projections' mean |change| is
    # lr. (Not the embedding: tied to the head, its rare tokens' rows get gradients near ε and move less,
    # 0.79 lr; nor the norms: weights of 1.0 move by their gap 7.8e-3 with probability 1.3e-4.)
    # Measured 0.980-0.982 lr on seeds 0-2 (a few gradients near ε; sampling sd ≈ 1%), so ±10% holds,
    # and still fails an update that is lost (0), lacks Adam's bias correction (0.1 lr) or is doubled.
    moved = [(a.float() - b.float()).abs() for (n, b), a in zip(before.named_parameters(), after.parameters())
             if n.endswith("_proj.weight")]
    assert abs(sum(d.sum().item() for d in moved) / sum(d.numel() for d in moved) - 1e-6) < 0.1e-6
    assert json.loads((tmp_path / "step-1" / "args.json").read_text())["dtype"] == "bfloat16"


def test_rollout_rows_fit_whole_groups_in_the_free_memory():
    c = M.Qwen3Config()  # Qwen3-8B's shape: K and V of 36 layers × 8 heads × 128 in bf16 = 144 KiB per token
    rows, per_row = scale.rollout_rows(c, 16, 18_432, 60e9)
    assert per_row == 18_432 * 2 * 36 * 8 * 128 * 2
    assert rows == 16  # 0.9 × 60 GB holds 19.9 such rows: one group of 16
    assert scale.rollout_rows(c, 16, 18_432, 100e9)[0] == 32
    assert scale.rollout_rows(c, 16, 18_432, 10e9)[0] == 16  # never less than one group


def test_rollout_rows_below_the_group_size_is_refused(capsys):
    import pytest
    with pytest.raises(SystemExit):
        echo.parse_args(["--n", "4", "--rollout-rows", "3"])
    assert "--rollout-rows 3 < --n 4" in capsys.readouterr().err
