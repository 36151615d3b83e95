"""Qwen3, written out: the network, LoRA, loading and saving in the Hugging Face layout, and the fused
masked log-prob kernel that both ECHO loss terms are computed with (METHOD.md §2: one forward pass feeds
both terms). The tokenizer and chat format are in tokenizer.py, batched KV-cached sampling in generate.py.

Module and parameter names mirror the checkpoint's tensor names (model.layers.0.self_attn.q_proj.weight),
so loading is a loop over tensors with a shape check, and saving is the same loop backwards.
"""
import json
import math
from dataclasses import dataclass, field, fields
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

from errors import ConfigError, MissingError, one_line
from tokenizer import load_tokenizer

# ----------------------------------------------------------------------------------------------
# Config


@dataclass
class Qwen3Config:
    vocab_size: int = 151936
    hidden_size: int = 4096
    intermediate_size: int = 12288
    num_hidden_layers: int = 36
    num_attention_heads: int = 32
    num_key_value_heads: int = 8
    head_dim: int = 128  # read from config: it is NOT hidden_size / heads for Qwen3-0.6B and 4B
    rms_norm_eps: float = 1e-6
    rope_theta: float = 1_000_000.0
    tie_word_embeddings: bool = False
    max_position_embeddings: int = 40960
    extra: dict = field(default_factory=dict, repr=False)  # the rest of config.json, kept for save()

    @classmethod
    def from_dict(cls, d: dict, where: str = "config.json") -> "Qwen3Config":
        if d.get("model_type") != "qwen3":
            raise ConfigError(f"{where}: model_type {d.get('model_type')!r} is not 'qwen3' "
                              "(echo runs dense Qwen3 checkpoints only)")
        if d.get("attention_bias") or d.get("use_sliding_window"):
            raise ConfigError(f"{where}: attention_bias / use_sliding_window are set; Qwen3 uses neither")
        rope = d.get("rope_parameters") or d.get("rope_scaling") or {}
        if rope.get("rope_type", rope.get("type", "default")) != "default":
            raise ConfigError(f"{where}: rope type {rope.get('rope_type', rope.get('type'))!r} is not "
                              "supported (only Qwen3's default RoPE)")
        theta = d.get("rope_theta", rope.get("rope_theta"))
        if theta is None:
            raise ConfigError(f"{where}: no rope_theta (looked at rope_theta and rope_parameters.rope_theta)")
        known = {f.name for f in fields(cls)} - {"extra", "rope_theta"}
        optional = {"head_dim", "tie_word_embeddings", "max_position_embeddings"}
        missing = [k for k in known - optional if k not in d]
        if missing:
            raise ConfigError(f"{where}: missing keys {sorted(missing)}")
        kw = {k: d[k] for k in known if k in d}
        if kw.get("head_dim") is None:
            kw["head_dim"] = d["hidden_size"] // d["num_attention_heads"]
        return cls(**kw, rope_theta=float(theta), extra=d)

    def to_dict(self, dtype: torch.dtype) -> dict:
        d = dict(self.extra)
        d.update({f.name: getattr(self, f.name) for f in fields(self) if f.name != "extra"})
        d.update(model_type="qwen3", architectures=["Qwen3ForCausalLM"], hidden_act="silu",
                 attention_bias=False, dtype=str(dtype).removeprefix("torch."))
        d["torch_dtype"] = d["dtype"]  # older transformers read torch_dtype, newer ones dtype
        d.pop("rope_parameters", None), d.pop("rope_scaling", None)
        d["rope_scaling"] = None
        return d


# ----------------------------------------------------------------------------------------------
# The network


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        # Qwen3 normalises in fp32 and casts back to the input dtype BEFORE multiplying by the weight
        dtype = x.dtype
        x = x.float()
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x.to(dtype)


def rope(x, cos, sin):
    """Rotate-half RoPE: pairs are (i, i + head_dim/2), not interleaved neighbours."""
    x1, x2 = x.chunk(2, dim=-1)
    return x * cos + torch.cat((-x2, x1), dim=-1) * sin


def rope_cos_sin(positions, head_dim: int, theta: float, dtype):
    """positions (b, t) -> cos, sin (b, 1, t, head_dim); inverse frequencies and angles in fp32."""
    i = torch.arange(0, head_dim, 2, device=positions.device, dtype=torch.float)
    inv_freq = 1.0 / (theta ** (i / head_dim))  # (head_dim/2,)
    angles = positions[..., None].float() * inv_freq  # (b, t, head_dim/2)
    emb = torch.cat((angles, angles), dim=-1)[:, None]  # (b, 1, t, head_dim)
    return emb.cos().to(dtype), emb.sin().to(dtype)


class Linear(nn.Linear):
    """A bias-free projection that can carry a LoRA adapter (add_lora): y = x Wᵀ + (α/r)·(x Aᵀ) Bᵀ."""

    def __init__(self, in_features: int, out_features: int):
        super().__init__(in_features, out_features, bias=False)
        self.lora_scale = 0.0  # α/r once add_lora() gave this projection lora_A (r, in) and lora_B (out, r)

    def forward(self, x):
        y = F.linear(x, self.weight)
        if self.lora_scale:  # A and B are trained in fp32 and cast to the compute dtype here
            y = y + self.lora_scale * F.linear(F.linear(x, self.lora_A.to(x.dtype)), self.lora_B.to(x.dtype))
        return y


class Attention(nn.Module):
    def __init__(self, c: Qwen3Config):
        super().__init__()
        self.n_head, self.n_kv, self.head_dim = c.num_attention_heads, c.num_key_value_heads, c.head_dim
        self.q_proj = Linear(c.hidden_size, self.n_head * self.head_dim)
        self.k_proj = Linear(c.hidden_size, self.n_kv * self.head_dim)
        self.v_proj = Linear(c.hidden_size, self.n_kv * self.head_dim)
        self.o_proj = Linear(self.n_head * self.head_dim, c.hidden_size)
        self.q_norm = RMSNorm(self.head_dim, c.rms_norm_eps)  # per head, over head_dim, before RoPE
        self.k_norm = RMSNorm(self.head_dim, c.rms_norm_eps)

    def forward(self, x, cos, sin, cache=None):
        b, t, _ = x.shape
        q = self.q_norm(self.q_proj(x).view(b, t, self.n_head, self.head_dim))  # (b, t, n_head, hd)
        k = self.k_norm(self.k_proj(x).view(b, t, self.n_kv, self.head_dim))  # (b, t, n_kv, hd)
        v = self.v_proj(x).view(b, t, self.n_kv, self.head_dim)  # (b, t, n_kv, hd)
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)  # (b, heads, t, hd)
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        if cache is None:  # training / scoring: whole sequences, right-padded, so causal masking is enough
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
        else:  # decoding (generate.py): write this chunk into the cache, attend to each row's own prefix
            k, v, mask = cache.update(k, v)  # (R, n_kv, span, hd), mask (R, 1, t, span)
            # GQA by reshaping, not enable_gqa: with a mask, CUDA's flash kernel is out, and of the others
            # only the math kernel takes enable_gqa (copying K/V per query head and materialising the
            # scores). The g query heads that share a K/V head become g·t query positions of that head,
            # which the memory-efficient kernel takes, mask included.
            g = self.n_head // self.n_kv
            # (b, n_kv, g·t, hd): query heads kv·g … kv·g+g−1, then positions
            qg = q.reshape(b, self.n_kv, g * t, self.head_dim)
            y = F.scaled_dot_product_attention(qg, k, v, attn_mask=mask.repeat(1, 1, g, 1))
            y = y.view(b, self.n_head, t, self.head_dim)
        return self.o_proj(y.transpose(1, 2).reshape(b, t, -1))


class MLP(nn.Module):
    def __init__(self, c: Qwen3Config):
        super().__init__()
        self.gate_proj = Linear(c.hidden_size, c.intermediate_size)
        self.up_proj = Linear(c.hidden_size, c.intermediate_size)
        self.down_proj = Linear(c.intermediate_size, c.hidden_size)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))  # SwiGLU


class Block(nn.Module):
    def __init__(self, c: Qwen3Config):
        super().__init__()
        self.input_layernorm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        self.self_attn = Attention(c)
        self.post_attention_layernorm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        self.mlp = MLP(c)

    def forward(self, x, cos, sin, cache=None):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, cache)
        return x + self.mlp(self.post_attention_layernorm(x))


class Qwen3(nn.Module):
    def __init__(self, config: Qwen3Config):
        super().__init__()
        self.config = config
        self.model = nn.Module()
        self.model.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size)
        self.model.layers = nn.ModuleList(Block(config) for _ in range(config.num_hidden_layers))
        self.model.norm = RMSNorm(config.hidden_size, config.rms_norm_eps)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        if config.tie_word_embeddings:
            self.lm_head.weight = self.model.embed_tokens.weight
        self.checkpointing = False  # activation checkpointing per block (memory switch)

    def hidden(self, input_ids, positions=None, cache=None):
        """input_ids (b, t) -> final normed hidden states (b, t, hidden). The training loop feeds these to
        token_logprobs() so the [b, t, vocab] logits never exist. Decoding passes positions and a
        generate.KVCache."""
        if positions is None:
            positions = torch.arange(input_ids.shape[1], device=input_ids.device).expand(input_ids.shape)
        x = self.model.embed_tokens(input_ids)
        cos, sin = rope_cos_sin(positions, self.config.head_dim, self.config.rope_theta, x.dtype)
        for i, layer in enumerate(self.model.layers):
            if self.checkpointing and self.training and torch.is_grad_enabled():
                x = checkpoint(layer, x, cos, sin, use_reentrant=False)
            else:
                x = layer(x, cos, sin, cache.layer(i) if cache is not None else None)
        return self.model.norm(x)

    def forward(self, input_ids, positions=None, cache=None):
        """input_ids (b, t) -> logits (b, t, vocab)."""
        return self.lm_head(self.hidden(input_ids, positions, cache))


def init_weights(model: Qwen3, seed: int = 0, std: float = 0.02) -> Qwen3:
    """Random initialisation as Hugging Face does it (normal(0, 0.02) matrices, unit norm weights)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.fill_(1.0)
            else:
                p.copy_(torch.randn(p.shape, generator=g) * std)
    return model


def add_lora(model: Qwen3, rank: int, alpha: float, seed: int = 0) -> Qwen3:
    """LoRA (Hu et al., 2021) on every q, k, v, o, gate, up and down projection. Every other parameter is
    frozen; A (r, in) is uniform in ±1/√in (PEFT's init) and B (out, r) is zero, so the adapted model
    starts exactly equal to the base one. A and B are fp32 whatever the weights' dtype: with bf16 weights
    the adapter keeps full precision (an lr-1e-6 update to a bf16 weight would round away). save_model()
    writes the merged W + (α/r)·B·A, a plain Qwen3 checkpoint."""
    if rank < 1:
        raise ValueError(f"add_lora: rank {rank}; want r >= 1")
    g = torch.Generator().manual_seed(seed)
    for p in model.parameters():
        p.requires_grad_(False)
    for mod in model.modules():
        if isinstance(mod, Linear):
            d_out, d_in = mod.weight.shape
            A = (torch.rand(rank, d_in, generator=g) * 2 - 1) / math.sqrt(d_in)
            mod.lora_A = nn.Parameter(A.to(mod.weight.device))  # (r, in)
            mod.lora_B = nn.Parameter(torch.zeros(d_out, rank, device=mod.weight.device))  # (out, r)
            mod.lora_scale = alpha / rank
    return model


def merged_parameters(model: Qwen3) -> dict:
    """name -> tensor in the checkpoint's layout: LoRA adapters merged into their weight
    (W + (α/r)·B·A, computed in fp32, stored in W's dtype) and not listed themselves; the tied head
    once."""
    out = {}
    for name, p in model.named_parameters():  # named_parameters drops the tied duplicate
        mod_name, _, leaf = name.rpartition(".")
        if leaf.startswith("lora_"):
            continue
        mod = model.get_submodule(mod_name)
        if getattr(mod, "lora_scale", 0.0):
            p = (p.float() + mod.lora_scale * (mod.lora_B.float() @ mod.lora_A.float())).to(p.dtype)
        out[name] = p.detach()
    return out


# ----------------------------------------------------------------------------------------------
# Loading and saving (the Hugging Face layout)


def resolve(name_or_path) -> Path:
    """A local checkpoint directory, or a hub id fetched (or found in the cache) by huggingface_hub,
    which honours HF_HOME and HF_HUB_OFFLINE."""
    p = Path(name_or_path).expanduser()
    if p.is_dir():
        return p
    s = str(name_or_path)
    if p.exists() or s.startswith((".", "/", "~")) or s.count("/") != 1:
        raise MissingError(f"model {s!r}: no such checkpoint directory "
                           "(and not a hub id like Qwen/Qwen3-8B)")
    import huggingface_hub
    from huggingface_hub import constants
    try:
        return Path(huggingface_hub.snapshot_download(s, allow_patterns=["*.json", "*.safetensors", "*.txt"]))
    except Exception as e:
        if constants.HF_HUB_OFFLINE:
            raise MissingError(f"model {s!r}: HF_HUB_OFFLINE is set and it is not in the cache "
                               f"{constants.HF_HUB_CACHE}; download it once online or pass a local "
                               "directory") from None
        raise MissingError(f"model {s!r}: could not fetch it from the Hugging Face hub "
                           f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})") from None


def weight_files(path: Path) -> list[Path]:
    index = path / "model.safetensors.index.json"
    if index.exists():
        return [path / f for f in sorted(set(json.loads(index.read_text())["weight_map"].values()))]
    if (path / "model.safetensors").exists():
        return [path / "model.safetensors"]
    raise MissingError(f"{path}: no model.safetensors or model.safetensors.index.json")


def load_model(path, device=None, dtype=None) -> Qwen3:
    """Build the network on the meta device, then put each tensor of the checkpoint straight onto the
    target device in the target dtype: no second full copy of the weights ever exists in RAM."""
    from safetensors import safe_open
    path = resolve(path)
    cfg_file = path / "config.json"
    if not cfg_file.exists():
        raise MissingError(f"{path}: no config.json")
    try:
        raw = json.loads(cfg_file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{cfg_file}: not valid JSON ({e})") from None
    config = Qwen3Config.from_dict(raw, where=str(cfg_file))
    dtype = dtype or getattr(torch, raw.get("dtype") or raw.get("torch_dtype") or "float32")
    device = torch.device(device or "cpu")
    with torch.device("meta"):
        model = Qwen3(config)
    params = dict(model.named_parameters(remove_duplicate=False))
    tied = config.tie_word_embeddings
    seen, unexpected = set(), []
    for file in weight_files(path):
        try:
            handle = safe_open(file, framework="pt", device=str(device))
        except Exception as e:  # safetensors raises its own error type, naming no file
            why = one_line(str(e))
            raise ConfigError(f"{file}: not a readable safetensors file ({why})") from None
        with handle as f:
            for name in f.keys():
                if tied and name == "lm_head.weight":
                    continue  # a tied checkpoint that also stores the head stays tied to the embedding
                if name not in params:
                    unexpected.append(name)
                    continue
                t = f.get_tensor(name)
                if tuple(t.shape) != tuple(params[name].shape):
                    raise ConfigError(f"{file.name}: tensor {name} has shape {tuple(t.shape)}, "
                                      f"config.json implies {tuple(params[name].shape)}")
                mod, leaf = model.get_submodule(name.rpartition(".")[0]), name.rpartition(".")[2]
                setattr(mod, leaf, nn.Parameter(t.to(dtype)))
                seen.add(name)
    missing = sorted(set(params) - seen - ({"lm_head.weight"} if tied else set()))
    if unexpected:
        more = ' ...' if len(unexpected) > 5 else ''
        raise ConfigError(f"{path}: unexpected tensors {unexpected[:5]}{more} "
                          f"({len(unexpected)}) - is this a dense Qwen3 checkpoint?")
    if missing:
        more = ' ...' if len(missing) > 5 else ''
        raise ConfigError(f"{path}: missing tensors {missing[:5]}{more} ({len(missing)})")
    if tied:
        model.lm_head.weight = model.model.embed_tokens.weight
    return model.eval()


def load(name_or_path, device=None, dtype=None):
    """A checkpoint directory or hub id -> (model, tokenizer)."""
    path = resolve(name_or_path)
    return load_model(path, device, dtype), load_tokenizer(path)


def save_model(model: Qwen3, path, max_shard_bytes: int | None = 5 * 2**30):
    """Write config.json and safetensors (sharded with an index above max_shard_bytes) in the layout
    transformers and load_model read. A tied head is not written, as transformers does; LoRA adapters are
    merged into their weights (merged_parameters)."""
    from safetensors.torch import save_file
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    for old in path.glob("model*.safetensors*"):
        old.unlink()
    tensors = merged_parameters(model)
    dtype = next(iter(tensors.values())).dtype
    shards, size = [{}], 0
    for name, t in tensors.items():
        nbytes = t.numel() * t.element_size()
        if max_shard_bytes and shards[-1] and size + nbytes > max_shard_bytes:
            shards.append({})
            size = 0
        shards[-1][name], size = t, size + nbytes
    if len(shards) == 1:
        save_file({n: t.contiguous().cpu() for n, t in shards[0].items()}, path / "model.safetensors",
                  {"format": "pt"})
    else:
        weight_map = {}
        for i, shard in enumerate(shards):
            fname = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
            save_file({n: t.contiguous().cpu() for n, t in shard.items()}, path / fname, {"format": "pt"})
            weight_map.update(dict.fromkeys(shard, fname))
        total = sum(t.numel() * t.element_size() for t in tensors.values())
        (path / "model.safetensors.index.json").write_text(
            json.dumps({"metadata": {"total_size": total}, "weight_map": weight_map}, indent=2))
    (path / "config.json").write_text(json.dumps(model.config.to_dict(dtype), indent=2))


def save(model: Qwen3, tokenizer, path, max_shard_bytes: int | None = 5 * 2**30):
    """The whole checkpoint: weights, config and tokenizer files."""
    save_model(model, path, max_shard_bytes)
    tokenizer.save(path)


# ----------------------------------------------------------------------------------------------
# The fused masked log-prob kernel


class TokenLogprobs(torch.autograd.Function):
    """log p(target) per row without ever holding more than `chunk` rows of [rows x vocab] logits.

    Forward keeps only the log-normaliser per row; backward recomputes each chunk's logits and uses
    d log p(y)/d logits = onehot(y) - softmax(logits), divided by the temperature.
    """

    @staticmethod
    def forward(ctx, hidden, weight, targets, temperature, chunk):
        # softmax math in fp32 (fp64 for gradcheck)
        acc = torch.float64 if hidden.dtype == torch.float64 else torch.float32
        out = torch.empty(hidden.shape[0], dtype=acc, device=hidden.device)
        lse = torch.empty_like(out)
        for s in range(0, hidden.shape[0], chunk):
            # (rows, vocab): the one buffer of this size
            logits = (hidden[s:s + chunk] @ weight.T).to(acc).div_(temperature)
            target = logits.gather(1, targets[s:s + chunk, None]).squeeze(1)
            m = logits.amax(dim=-1, keepdim=True)  # logsumexp, computed in place to need no second buffer
            lse[s:s + chunk] = logits.sub_(m).exp_().sum(dim=-1).log_() + m.squeeze(1)
            out[s:s + chunk] = target - lse[s:s + chunk]
        ctx.save_for_backward(hidden, weight, targets, lse)
        ctx.temperature, ctx.chunk = temperature, chunk
        return out

    @staticmethod
    def backward(ctx, grad_out):
        hidden, weight, targets, lse = ctx.saved_tensors
        T, chunk, acc = ctx.temperature, ctx.chunk, lse.dtype
        grad_h = torch.empty_like(hidden) if ctx.needs_input_grad[0] else None
        grad_w = None
        if ctx.needs_input_grad[1]:
            grad_w = torch.zeros(weight.shape, dtype=acc, device=weight.device)
        for s in range(0, hidden.shape[0], chunk):
            h = hidden[s:s + chunk]
            g = (h @ weight.T).to(acc).div_(T)  # recompute this chunk's logits (rows, vocab) ...
            g.sub_(lse[s:s + chunk, None]).exp_().neg_()  # ... turn them into -softmax in place ...
            g.scatter_add_(1, targets[s:s + chunk, None], torch.ones_like(g[:, :1]))  # ... onehot - softmax
            g = g.mul_(grad_out[s:s + chunk, None].to(acc) / T).to(weight.dtype)  # d loss / d (h W^T)
            if grad_h is not None:
                grad_h[s:s + chunk] = g @ weight
            if grad_w is not None:  # accumulate over chunks in fp32 without a [vocab, hidden] temporary
                if g.dtype == acc:
                    grad_w.addmm_(g.T, h)
                else:  # bf16 matmuls (as the naive path does), added in slices of the vocabulary
                    for v in range(0, g.shape[1], 16384):
                        grad_w[v:v + 16384] += (g[:, v:v + 16384].T @ h).to(acc)
        return grad_h, None if grad_w is None else grad_w.to(weight.dtype), None, None, None


def token_logprobs(hidden, weight, targets, temperature: float = 1.0, chunk: int = 512):
    """hidden [N, H], lm_head weight [V, H], targets [N] -> log p(target) [N] (fp32) under softmax(hW^T / T).
    Used for both ECHO terms (METHOD.md §2): the action tokens (Eq. 2) and the env tokens (Eq. 3)."""
    if hidden.dim() != 2 or weight.dim() != 2 or targets.shape != hidden.shape[:1]:
        raise ValueError(f"token_logprobs: want hidden [N, H], weight [V, H], targets [N]; got "
                         f"{tuple(hidden.shape)}, {tuple(weight.shape)}, {tuple(targets.shape)}")
    return TokenLogprobs.apply(hidden, weight, targets, float(temperature), int(chunk))


