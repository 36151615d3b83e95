"""model.py: parity with transformers' Qwen3 (committed fixture), loading/saving, the kernel; and
generation (generate.py) against full recomputation with the same network."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

import model as M
from generate import Generator, generate, sample_tokens

FIX = Path(__file__).parent / "fixtures"
EXPECTED = load_file(FIX / "qwen3-logits.safetensors")
EXPECTED_BF16 = load_file(FIX / "qwen3-logits-bf16.safetensors")


def tiny(tie=True, seed=0, layers=2):
    c = M.Qwen3Config(vocab_size=97, hidden_size=32, intermediate_size=64, num_hidden_layers=layers,
                      num_attention_heads=4, num_key_value_heads=2, head_dim=16, tie_word_embeddings=tie)
    return M.init_weights(M.Qwen3(c), seed).eval()


# ---- parity with transformers' Qwen3ForCausalLM (logits computed by tests/make_fixture.py)

@pytest.mark.parametrize("name", ["qwen3-untied", "qwen3-tied", "qwen3-sharded"])
def test_logits_match_transformers(name):
    m = M.load_model(FIX / name)
    with torch.no_grad():
        logits = m(EXPECTED["input_ids"])
    assert logits.shape == EXPECTED[name].shape
    assert (logits - EXPECTED[name]).abs().max().item() <= 1e-4


def test_fixture_has_gqa_and_odd_head_dim():
    c = M.load_model(FIX / "qwen3-untied").config
    assert c.num_key_value_heads < c.num_attention_heads and c.head_dim != c.hidden_size // c.num_attention_heads


def test_tied_checkpoint_that_stores_lm_head_stays_tied():
    assert "lm_head.weight" in load_file(FIX / "qwen3-tied" / "model.safetensors")
    m = M.load_model(FIX / "qwen3-tied")
    assert m.lm_head.weight is m.model.embed_tokens.weight


def test_bf16_load_and_forward_close_to_fp32():
    m = M.load_model(FIX / "qwen3-untied", dtype=torch.bfloat16)
    assert m.lm_head.weight.dtype == torch.bfloat16
    with torch.no_grad():
        logits = m(EXPECTED["input_ids"]).float()
    assert (logits - EXPECTED["qwen3-untied"]).abs().max().item() < 0.1


@pytest.mark.parametrize("name", ["qwen3-untied", "qwen3-tied", "qwen3-sharded"])
def test_bf16_forward_matches_transformers_in_bf16(name):
    """Same bf16 weights, same inputs: transformers' bf16 logits (make_fixture.py --bf16). Measured on CPU:
    every logit bit-identical, while bf16 itself is 0.004-0.005 from the fp32 logits; with RMSNorm's fp32
    normalisation dropped only 23% are identical. So: at least 99% identical, the rest within one bf16 step.
    oneDNN off: on a CPU with AMX its bf16 GEMM accumulates in another order than the fixture's CPU did (81%
    of the tied fixture's logits identical, 94% within a step); this compares our arithmetic, not the GEMM.
    The GEMM's order still differs from CPU to CPU with oneDNN off: on an AMD EPYC (2026-12-06) 87-92% of
    the logits are identical and every one is within 2^-8 of the logits' largest magnitude (one bf16 step
    at that scale), where the fixture's CPU had them all identical. So: at least 80% identical (the dropped
    fp32 normalisation: 23%), and none further than two bf16 steps at the logits' scale."""
    want = EXPECTED_BF16[name].float()
    m = M.load_model(FIX / name, dtype=torch.bfloat16)
    with torch.no_grad(), torch.backends.mkldnn.flags(enabled=False):
        got = m(EXPECTED_BF16["input_ids"]).float()
    assert (got == want).float().mean().item() >= 0.80
    assert (got - want).abs().max().item() <= 2 ** -7 * want.abs().max().item()


# ---- saving and loading

@pytest.mark.parametrize("name,shard", [("qwen3-untied", None), ("qwen3-tied", None), ("qwen3-untied", 40_000)])
def test_save_load_roundtrip_bit_exact(tmp_path, name, shard):
    m = M.load_model(FIX / name)
    M.save_model(m, tmp_path, max_shard_bytes=shard)
    assert (tmp_path / "model.safetensors.index.json").exists() == bool(shard)
    back = M.load_model(tmp_path)
    for (n, a), (_, b) in zip(m.state_dict().items(), back.state_dict().items()):
        assert torch.equal(a, b), n
    assert (back.lm_head.weight is back.model.embed_tokens.weight) == m.config.tie_word_embeddings


def test_missing_path_error():
    with pytest.raises(FileNotFoundError, match="no such checkpoint directory"):
        M.load_model("/nonexistent/ckpt")


def test_offline_hub_id_error(tmp_path):
    code = "import model; model.load_model('Qwen/Qwen3-0.6B')"
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path))
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                       cwd=Path(__file__).parents[1], timeout=120)
    assert r.returncode != 0
    assert "HF_HUB_OFFLINE is set and it is not in the cache" in r.stderr.splitlines()[-1]


def copy_fixture(tmp_path, name="qwen3-untied"):
    dst = tmp_path / name
    shutil.copytree(FIX / name, dst)
    return dst


def test_not_qwen3_config_error(tmp_path):
    d = copy_fixture(tmp_path)
    cfg = json.loads((d / "config.json").read_text())
    (d / "config.json").write_text(json.dumps(dict(cfg, model_type="llama")))
    with pytest.raises(ValueError, match="model_type 'llama' is not 'qwen3'"):
        M.load_model(d)


def test_missing_and_unexpected_tensor_errors(tmp_path):
    d = copy_fixture(tmp_path)
    sd = load_file(d / "model.safetensors")
    sd.pop("model.norm.weight")
    save_file(sd, d / "model.safetensors")
    with pytest.raises(ValueError, match=r"missing tensors \['model.norm.weight'\]"):
        M.load_model(d)
    sd["model.norm.weight"] = torch.ones(48)
    sd["model.layers.0.self_attn.q_proj.bias"] = torch.zeros(64)
    save_file(sd, d / "model.safetensors")
    with pytest.raises(ValueError, match="unexpected tensors.*q_proj.bias"):
        M.load_model(d)


def test_shape_mismatch_error(tmp_path):
    d = copy_fixture(tmp_path)
    sd = load_file(d / "model.safetensors")
    sd["model.norm.weight"] = torch.ones(47)
    save_file(sd, d / "model.safetensors")
    with pytest.raises(ValueError, match=r"model.norm.weight has shape \(47,\), config.json implies \(48,\)"):
        M.load_model(d)


# ---- generation

def test_batched_greedy_equals_one_row_at_a_time():
    m = tiny()
    prompts = [[1, 2, 3, 4, 5, 6], [7, 8], [9, 10, 11, 12]]
    batched = generate(m, prompts, 10, stop_ids=[0], temperature=0)
    for p, b in zip(prompts, batched):
        assert generate(m, [p], 10, stop_ids=[0], temperature=0)[0].ids == b.ids


def test_greedy_matches_full_recompute_and_logprobs():
    m = tiny(tie=False)
    s = generate(m, [[5, 6, 7]], 8, stop_ids=[0], temperature=0)[0]
    seq = [5, 6, 7]
    for t, lp in zip(s.ids, s.logprobs):
        logits = m(torch.tensor([seq]))[0, -1]
        assert logits.argmax().item() == t
        assert abs(torch.log_softmax(logits, -1)[t].item() - lp) < 1e-5
        seq.append(t)


def test_extend_row_equals_recompute_from_scratch():
    m = tiny()
    g = Generator(m, 2, stop_ids=[0])
    g.extend([0, 1], [[1, 2, 3], [4, 5]])
    first = g.sample([0, 1], 5, temperature=0)
    obs = [[20, 21, 22, 23], [30]]
    g.extend([0, 1], obs)
    for r, p in enumerate([[1, 2, 3], [4, 5]]):
        full = torch.tensor([p + first[r].ids + obs[r]])
        with torch.no_grad():
            ref = m(full)[0, -1]
        assert torch.allclose(g.next_logits[r], ref, atol=1e-5)


def test_shared_prompt_prefilled_once_then_copied():
    m = tiny()
    g = Generator(m, 3, stop_ids=[0])
    g.extend([0], [[3, 1, 4, 1, 5]])
    g.copy_row(0, [1, 2])
    g.extend([1], [[9]])  # rows diverge after the copy
    with torch.no_grad():
        assert torch.allclose(g.next_logits[1], m(torch.tensor([[3, 1, 4, 1, 5, 9]]))[0, -1], atol=1e-5)
        assert torch.allclose(g.next_logits[2], m(torch.tensor([[3, 1, 4, 1, 5]]))[0, -1], atol=1e-5)


def test_sampling_is_a_seeded_draw_from_softmax_over_t_and_stops_on_stop_ids():
    m = tiny(tie=False)
    with torch.no_grad():  # logits 10x the init's (sd 1, not 0.1): peaked enough that T changes the draws
        m.lm_head.weight.mul_(10)
    a = generate(m, [[1, 2]] * 4, 30, stop_ids=[5, 6], temperature=0.7, seed=3)
    # by hand: each step, a full forward of every row still going, one multinomial draw for them all from
    # softmax(logits / T), with a generator seeded alike (the draws depend on how many rows are going)
    g, seqs, going = torch.Generator().manual_seed(3), [[1, 2] for _ in range(4)], [0, 1, 2, 3]
    while going:
        with torch.no_grad():
            logits = torch.stack([m(torch.tensor([seqs[r]]))[0, -1] for r in going])
        drawn = torch.multinomial((logits / 0.7).softmax(-1), 1, generator=g).squeeze(1).tolist()
        for r, t in zip(going, drawn):
            seqs[r].append(t)
        going = [r for r, t in zip(going, drawn) if t not in (5, 6) and len(seqs[r]) < 2 + 30]
    assert [s.ids for s in a] == [q[2:] for q in seqs]
    assert any(s.stopped for s in a) and not all(s.stopped for s in a)  # both ways of ending are exercised
    for s in a:
        assert len(s.ids) == len(s.logprobs) <= 30
        assert s.stopped == (s.ids[-1] in (5, 6)) and not any(t in (5, 6) for t in s.ids[:-1])


def test_top_k_one_is_greedy():
    m = tiny()
    greedy = generate(m, [[1, 2, 3]], 6, stop_ids=[0], temperature=0)[0].ids
    assert generate(m, [[1, 2, 3]], 6, stop_ids=[0], temperature=0.7, top_k=1, seed=9)[0].ids == greedy


def test_top_p_keeps_only_the_nucleus():
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    g = torch.Generator().manual_seed(0)
    seen = {sample_tokens(logits, 1.0, top_p=0.7, generator=g)[0].item() for _ in range(200)}
    assert seen == {0, 1}


# ---- the fused masked log-prob kernel

def naive_logprobs(h, w, y, T=1.0):
    return torch.log_softmax((h @ w.T).float() / T, -1).gather(1, y[:, None]).squeeze(1)


def test_kernel_gradcheck_float64():
    g = torch.Generator().manual_seed(0)
    h = torch.randn(13, 8, dtype=torch.float64, generator=g, requires_grad=True)
    w = torch.randn(11, 8, dtype=torch.float64, generator=g, requires_grad=True)
    y = torch.randint(0, 11, (13,), generator=g)
    assert torch.autograd.gradcheck(lambda h, w: M.token_logprobs(h, w, y, 0.8, chunk=4), (h, w))


@pytest.mark.parametrize("T", [1.0, 0.8])
def test_kernel_equals_naive_value_and_gradient(T):
    g = torch.Generator().manual_seed(1)
    h = torch.randn(70, 24, generator=g, requires_grad=True)
    w = torch.randn(300, 24, generator=g, requires_grad=True)
    y = torch.randint(0, 300, (70,), generator=g)
    upstream = torch.randn(70, generator=g)
    ours = M.token_logprobs(h, w, y, T, chunk=16)
    (ours * upstream).sum().backward()
    gh, gw = h.grad.clone(), w.grad.clone()
    h.grad = w.grad = None
    ref = naive_logprobs(h, w, y, T)
    (ref * upstream).sum().backward()
    assert (ours - ref).abs().max() <= 1e-5
    assert (gh - h.grad).abs().max() <= 1e-5 and (gw - w.grad).abs().max() <= 1e-5


def test_kernel_with_tied_weights_through_the_model():
    m = tiny(tie=True).train()
    ids = torch.randint(0, 97, (2, 9), generator=torch.Generator().manual_seed(2))
    targets = ids[:, 1:].reshape(-1)

    def grads(fn):
        m.zero_grad()
        hid = m.hidden(ids[:, :-1]).reshape(-1, 32)
        fn(hid).sum().backward()
        return {n: p.grad.clone() for n, p in m.named_parameters()}

    ours = grads(lambda hid: M.token_logprobs(hid, m.lm_head.weight, targets, 0.8, chunk=5))
    ref = grads(lambda hid: naive_logprobs(hid, m.lm_head.weight, targets, 0.8))
    for n in ref:
        assert (ours[n] - ref[n]).abs().max() <= 1e-5, n


def test_activation_checkpointing_same_gradients():
    m = tiny().train()
    ids = torch.randint(0, 97, (2, 7), generator=torch.Generator().manual_seed(4))

    def grads():
        m.zero_grad()
        m(ids).logsumexp(-1).sum().backward()
        return [p.grad.clone() for p in m.parameters()]

    plain = grads()
    m.checkpointing = True
    for a, b in zip(plain, grads()):
        assert torch.allclose(a, b, atol=1e-6)
