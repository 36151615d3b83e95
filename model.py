"""Qwen3, written out: the network, loading and saving in the Hugging Face layout, the tokenizer and
its chat format, batched KV-cached sampling, and the fused masked log-prob kernel that both ECHO loss
terms are computed with (PAPER.md §2: one forward pass feeds both terms).

Module and parameter names mirror the checkpoint's tensor names (model.layers.0.self_attn.q_proj.weight),
so loading is a loop over tensors with a shape check, and saving is the same loop backwards.
"""
import json
import math
from dataclasses import dataclass, field, fields
from pathlib import Path

import tokenizers
import torch
import torch.nn as nn
import torch.nn.functional as F
from tokenizers import AddedToken, Regex, decoders, models, normalizers, pre_tokenizers, processors, trainers
from torch.utils.checkpoint import checkpoint

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
            raise ValueError(f"{where}: model_type {d.get('model_type')!r} is not 'qwen3' "
                             "(echo runs dense Qwen3 checkpoints only)")
        if d.get("attention_bias") or d.get("use_sliding_window"):
            raise ValueError(f"{where}: attention_bias / use_sliding_window are set; Qwen3 uses neither")
        rope = d.get("rope_parameters") or d.get("rope_scaling") or {}
        if rope.get("rope_type", rope.get("type", "default")) != "default":
            raise ValueError(f"{where}: rope type {rope.get('rope_type', rope.get('type'))!r} is not supported "
                             "(only Qwen3's default RoPE)")
        theta = d.get("rope_theta", rope.get("rope_theta"))
        if theta is None:
            raise ValueError(f"{where}: no rope_theta (looked at rope_theta and rope_parameters.rope_theta)")
        known = {f.name for f in fields(cls)} - {"extra", "rope_theta"}
        missing = [k for k in known - {"head_dim", "tie_word_embeddings", "max_position_embeddings"} if k not in d]
        if missing:
            raise ValueError(f"{where}: missing keys {sorted(missing)}")
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
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, device=positions.device, dtype=torch.float) / head_dim))
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
        q = self.q_norm(self.q_proj(x).view(b, t, self.n_head, self.head_dim)).transpose(1, 2)  # (b, n_head, t, hd)
        k = self.k_norm(self.k_proj(x).view(b, t, self.n_kv, self.head_dim)).transpose(1, 2)  # (b, n_kv, t, hd)
        v = self.v_proj(x).view(b, t, self.n_kv, self.head_dim).transpose(1, 2)  # (b, n_kv, t, hd)
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        if cache is None:  # training / scoring: whole sequences, right-padded, so causal masking is enough
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
        else:  # generation: write this chunk into the cache, attend to each row's own prefix
            k, v, mask = cache.update(k, v)  # (R, n_kv, span, hd), mask (R, 1, t, span)
            # GQA by reshaping, not enable_gqa: with a mask, CUDA's flash kernel is out, and of the others
            # only the math kernel takes enable_gqa (copying K/V per query head and materialising the
            # scores). The g query heads that share a K/V head become g·t query positions of that head,
            # which the memory-efficient kernel takes, mask included.
            g = self.n_head // self.n_kv
            qg = q.reshape(b, self.n_kv, g * t, self.head_dim)  # query heads kv·g … kv·g+g−1, then positions
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
        token_logprobs() so the [b, t, vocab] logits never exist."""
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
    frozen; A (r, in) is uniform in ±1/√in (PEFT's init) and B (out, r) is zero, so the adapted model starts
    exactly equal to the base one. A and B are fp32 whatever the weights' dtype: with bf16 weights the
    adapter keeps full precision (an lr-1e-6 update to a bf16 weight would round away). save_model()
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
    (W + (α/r)·B·A, computed in fp32, stored in W's dtype) and not listed themselves; the tied head once."""
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
# Tokenizer: Qwen3's byte-level BPE and its chat template, without transformers or jinja2.
# load_tokenizer() reads a Hugging Face tokenizer directory (a Qwen/Qwen3-8B snapshot);
# build_tokenizer() trains a small tokenizer of the same shape for tests and the CPU demo.

# Files a Hugging Face tokenizer directory may hold; whichever exist are kept byte for byte, so that
# saving a loaded Qwen3 tokenizer writes back exactly what was read.
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "vocab.json", "merges.txt")
# Qwen2/Qwen3 pre-tokenizer: splits text into words, numbers (one digit each), punctuation runs, newlines.
QWEN2_SPLIT_REGEX = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
# The subset of Qwen3's added tokens the agent uses, in Qwen3's id order. The first three are "special"
# (dropped by skip_special_tokens); the tag tokens are not, exactly as in Qwen3's tokenizer.json.
SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
TAG_TOKENS = ("<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>", "<think>", "</think>")


@dataclass
class Tokenizer:
    hf: tokenizers.Tokenizer
    chat_template: str               # the Jinja source; render() is a Python port of QWEN3_CHAT_TEMPLATE
    files: dict[str, bytes]          # file name -> exact bytes, written back by save()
    source: str = "<built>"          # where it was loaded from, for error messages
    stop_ids: list[int] = field(init=False)  # generation ends at <|im_end|> (end of turn) or <|endoftext|>
    pad_id: int = field(init=False)

    def __post_init__(self):
        self.stop_ids = [self.token_id("<|im_end|>"), self.token_id("<|endoftext|>")]
        self.pad_id = self.token_id("<|endoftext|>")

    @property
    def vocab_size(self) -> int:
        return self.hf.get_vocab_size(with_added_tokens=True)

    def encode(self, text: str) -> list[int]:
        # No BOS/EOS: Qwen adds none. Added tokens written in the text (<|im_start|>, <think>) become one id.
        return self.hf.encode(text, add_special_tokens=False).ids

    def decode(self, ids: list[int]) -> str:
        # Keep special tokens so decode(encode(s)) == s for rendered chats (s NFC-normalized).
        return self.hf.decode(ids, skip_special_tokens=False)

    def token_id(self, token: str) -> int:
        i = self.hf.token_to_id(token)
        if i is None:
            raise KeyError(f"token {token!r} is not in the vocabulary of tokenizer {self.source}")
        return i

    def save(self, path: str | Path) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        for name, data in self.files.items():
            (path / name).write_bytes(data)

    def render(self, messages: list[dict], add_generation_prompt: bool = True, enable_thinking: bool = True) -> str:
        """Byte-identical to Qwen3's Jinja chat template called without tools=.

        Subtleties carried over from the template: earlier assistant turns lose their <think> block unless
        they come after the last real user query (a multi-step tool chain keeps its reasoning); a user
        message wrapped in <tool_response>...</tool_response> does not count as a query; consecutive tool
        messages share one user turn; a system message that is not first renders like a user message.
        """
        if self.chat_template != QWEN3_CHAT_TEMPLATE:
            raise NotImplementedError(f"tokenizer {self.source}: its chat template is not Qwen3-8B's, "
                                      "and render() is a port of that one template only")
        if not messages:
            raise ValueError("render: messages is empty")
        # ns.last_query_index: the last user message that is a real query, not a wrapped tool response.
        last_query = len(messages) - 1
        for i in reversed(range(len(messages))):
            role, c = messages[i]["role"], messages[i]["content"]
            if role == "user" and not (c.startswith("<tool_response>") and c.endswith("</tool_response>")):
                last_query = i
                break
        out = []
        for i, m in enumerate(messages):
            role, content, last = m["role"], m["content"], i == len(messages) - 1
            if role in ("user", "system"):
                out.append(f"<|im_start|>{role}\n{content}<|im_end|>\n")
            elif role == "assistant":
                if m.get("reasoning_content") is not None:
                    reasoning = m["reasoning_content"]
                elif "</think>" in content:
                    reasoning = content.split("</think>")[0].rstrip("\n").split("<think>")[-1].lstrip("\n")
                    content = content.split("</think>")[-1].lstrip("\n")
                else:
                    reasoning = ""
                # Reasoning is shown only after the last query, and for a mid-chain turn only if non-empty.
                if i > last_query and (last or reasoning):
                    think = reasoning.strip("\n")
                    out.append("<|im_start|>assistant\n<think>\n" + think + "\n</think>\n\n" + content.lstrip("\n"))
                else:
                    out.append(f"<|im_start|>assistant\n{content}")
                for j, call in enumerate(m.get("tool_calls") or []):  # we never send these; mirrored for fidelity
                    call = call.get("function") or call
                    args = call["arguments"]
                    args = args if isinstance(args, str) else json.dumps(args, ensure_ascii=False)  # HF's tojson
                    out.append("\n" if content or j > 0 else "")
                    out.append(f'<tool_call>\n{{"name": "{call["name"]}", "arguments": {args}}}\n</tool_call>')
                out.append("<|im_end|>\n")
            elif role == "tool":
                if i == 0 or messages[i - 1]["role"] != "tool":
                    out.append("<|im_start|>user")
                out.append(f"\n<tool_response>\n{content}\n</tool_response>")
                if last or messages[i + 1]["role"] != "tool":
                    out.append("<|im_end|>\n")
            else:  # the template silently drops unknown roles; a typo here would silently drop a turn
                raise ValueError(f"render: message {i} has role {role!r}; expected system, user, assistant or tool")
        if add_generation_prompt:
            out.append("<|im_start|>assistant\n" + ("" if enable_thinking else "<think>\n\n</think>\n\n"))
        return "".join(out)


def load_tokenizer(path: str | Path) -> Tokenizer:
    path = Path(path)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        if not (path / name).is_file():
            raise FileNotFoundError(f"tokenizer {path}: {name} missing "
                                    "(expected a Hugging Face tokenizer directory, e.g. a Qwen/Qwen3-8B snapshot)")
    files = {name: (path / name).read_bytes() for name in TOKENIZER_FILES if (path / name).is_file()}
    config = json.loads(files["tokenizer_config.json"])
    # transformers >= 4.47 may save the template to chat_template.jinja instead of the config.
    template = config.get("chat_template") or files.get("chat_template.jinja", b"").decode()
    hf = tokenizers.Tokenizer.from_str(files["tokenizer.json"].decode())
    return Tokenizer(hf, template, files, source=str(path))


def build_tokenizer(texts: list[str], vocab_size: int = 2048) -> Tokenizer:
    """Train a Qwen3-shaped byte-level BPE on texts; vocab_size counts the added tokens too."""
    byte_level = dict(add_prefix_space=False, trim_offsets=False, use_regex=False)
    hf = tokenizers.Tokenizer(models.BPE(unk_token=None, fuse_unk=False, byte_fallback=False))
    hf.normalizer = normalizers.NFC()
    hf.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_SPLIT_REGEX), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(**byte_level),  # use_regex=False: the Split above already did the splitting
    ])
    hf.post_processor = processors.ByteLevel(**byte_level)
    hf.decoder = decoders.ByteLevel(**byte_level)
    n_added = len(SPECIAL_TOKENS) + len(TAG_TOKENS)
    # All 256 byte symbols in the alphabet, so any text encodes even if the corpus never showed its bytes.
    trainer = trainers.BpeTrainer(vocab_size=vocab_size - n_added, min_frequency=2, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    hf.train_from_iterator(texts, trainer)
    # Added after training so their ids follow the BPE vocabulary, as in Qwen3 (151643 onwards).
    hf.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS])
    hf.add_tokens([AddedToken(t, special=False, normalized=False) for t in TAG_TOKENS])
    added = {str(hf.token_to_id(t)): dict(content=t, lstrip=False, normalized=False, rstrip=False, single_word=False,
                                          special=t in SPECIAL_TOKENS) for t in SPECIAL_TOKENS + TAG_TOKENS}
    config = {  # the fields of Qwen3-8B's tokenizer_config.json
        "add_bos_token": False, "add_prefix_space": False, "added_tokens_decoder": added,
        "additional_special_tokens": ["<|im_start|>", "<|im_end|>"], "bos_token": None,
        "chat_template": QWEN3_CHAT_TEMPLATE, "clean_up_tokenization_spaces": False, "eos_token": "<|im_end|>",
        "errors": "replace", "model_max_length": 131072, "pad_token": "<|endoftext|>",
        "split_special_tokens": False, "tokenizer_class": "Qwen2Tokenizer", "unk_token": None,
    }
    files = {"tokenizer.json": hf.to_str(pretty=True).encode(),
             "tokenizer_config.json": json.dumps(config, indent=2, ensure_ascii=False).encode()}
    return Tokenizer(hf, QWEN3_CHAT_TEMPLATE, files)


# Qwen3-8B's chat template, verbatim from its tokenizer_config.json (a raw string: the Jinja source has
# backslash-n inside its string literals). Written into built tokenizers so transformers renders them too.
QWEN3_CHAT_TEMPLATE = r"""{%- if tools %}
    {{- '<|im_start|>system\n' }}
    {%- if messages[0].role == 'system' %}
        {{- messages[0].content + '\n\n' }}
    {%- endif %}
    {{- "# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>" }}
    {%- for tool in tools %}
        {{- "\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" }}
{%- else %}
    {%- if messages[0].role == 'system' %}
        {{- '<|im_start|>system\n' + messages[0].content + '<|im_end|>\n' }}
    {%- endif %}
{%- endif %}
{%- set ns = namespace(multi_step_tool=true, last_query_index=messages|length - 1) %}
{%- for message in messages[::-1] %}
    {%- set index = (messages|length - 1) - loop.index0 %}
    {%- if ns.multi_step_tool and message.role == "user" and not(message.content.startswith('<tool_response>') and message.content.endswith('</tool_response>')) %}
        {%- set ns.multi_step_tool = false %}
        {%- set ns.last_query_index = index %}
    {%- endif %}
{%- endfor %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) %}
        {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
    {%- elif message.role == "assistant" %}
        {%- set content = message.content %}
        {%- set reasoning_content = '' %}
        {%- if message.reasoning_content is defined and message.reasoning_content is not none %}
            {%- set reasoning_content = message.reasoning_content %}
        {%- else %}
            {%- if '</think>' in message.content %}
                {%- set content = message.content.split('</think>')[-1].lstrip('\n') %}
                {%- set reasoning_content = message.content.split('</think>')[0].rstrip('\n').split('<think>')[-1].lstrip('\n') %}
            {%- endif %}
        {%- endif %}
        {%- if loop.index0 > ns.last_query_index %}
            {%- if loop.last or (not loop.last and reasoning_content) %}
                {{- '<|im_start|>' + message.role + '\n<think>\n' + reasoning_content.strip('\n') + '\n</think>\n\n' + content.lstrip('\n') }}
            {%- else %}
                {{- '<|im_start|>' + message.role + '\n' + content }}
            {%- endif %}
        {%- else %}
            {{- '<|im_start|>' + message.role + '\n' + content }}
        {%- endif %}
        {%- if message.tool_calls %}
            {%- for tool_call in message.tool_calls %}
                {%- if (loop.first and content) or (not loop.first) %}
                    {{- '\n' }}
                {%- endif %}
                {%- if tool_call.function %}
                    {%- set tool_call = tool_call.function %}
                {%- endif %}
                {{- '<tool_call>\n{"name": "' }}
                {{- tool_call.name }}
                {{- '", "arguments": ' }}
                {%- if tool_call.arguments is string %}
                    {{- tool_call.arguments }}
                {%- else %}
                    {{- tool_call.arguments | tojson }}
                {%- endif %}
                {{- '}\n</tool_call>' }}
            {%- endfor %}
        {%- endif %}
        {{- '<|im_end|>\n' }}
    {%- elif message.role == "tool" %}
        {%- if loop.first or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\n<tool_response>\n' }}
        {{- message.content }}
        {{- '\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
    {%- if enable_thinking is defined and enable_thinking is false %}
        {{- '<think>\n\n</think>\n\n' }}
    {%- endif %}
{%- endif %}"""


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
        raise FileNotFoundError(f"model {s!r}: no such checkpoint directory (and not a hub id like Qwen/Qwen3-8B)")
    import huggingface_hub
    from huggingface_hub import constants
    try:
        return Path(huggingface_hub.snapshot_download(s, allow_patterns=["*.json", "*.safetensors", "*.txt"]))
    except Exception as e:
        if constants.HF_HUB_OFFLINE:
            raise FileNotFoundError(f"model {s!r}: HF_HUB_OFFLINE is set and it is not in the cache "
                                    f"{constants.HF_HUB_CACHE}; download it once online or pass a local directory") from None
        raise FileNotFoundError(f"model {s!r}: could not fetch it from the Hugging Face hub "
                                f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})") from None


def weight_files(path: Path) -> list[Path]:
    index = path / "model.safetensors.index.json"
    if index.exists():
        return [path / f for f in sorted(set(json.loads(index.read_text())["weight_map"].values()))]
    if (path / "model.safetensors").exists():
        return [path / "model.safetensors"]
    raise FileNotFoundError(f"{path}: no model.safetensors or model.safetensors.index.json")


def load_model(path, device=None, dtype=None) -> Qwen3:
    """Build the network on the meta device, then put each tensor of the checkpoint straight onto the
    target device in the target dtype: no second full copy of the weights ever exists in RAM."""
    from safetensors import safe_open
    path = resolve(path)
    cfg_file = path / "config.json"
    if not cfg_file.exists():
        raise FileNotFoundError(f"{path}: no config.json")
    raw = json.loads(cfg_file.read_text())
    config = Qwen3Config.from_dict(raw, where=str(cfg_file))
    dtype = dtype or getattr(torch, raw.get("dtype") or raw.get("torch_dtype") or "float32")
    device = torch.device(device or "cpu")
    with torch.device("meta"):
        model = Qwen3(config)
    params = dict(model.named_parameters(remove_duplicate=False))
    tied = config.tie_word_embeddings
    seen, unexpected = set(), []
    for file in weight_files(path):
        with safe_open(file, framework="pt", device=str(device)) as f:
            for name in f.keys():
                if tied and name == "lm_head.weight":
                    continue  # a tied checkpoint that also stores the head stays tied to the embedding
                if name not in params:
                    unexpected.append(name)
                    continue
                t = f.get_tensor(name)
                if tuple(t.shape) != tuple(params[name].shape):
                    raise ValueError(f"{file.name}: tensor {name} has shape {tuple(t.shape)}, "
                                     f"config.json implies {tuple(params[name].shape)}")
                mod, leaf = model.get_submodule(name.rpartition(".")[0]), name.rpartition(".")[2]
                setattr(mod, leaf, nn.Parameter(t.to(dtype)))
                seen.add(name)
    missing = sorted(set(params) - seen - ({"lm_head.weight"} if tied else set()))
    if unexpected:
        raise ValueError(f"{path}: unexpected tensors {unexpected[:5]}{' ...' if len(unexpected) > 5 else ''} "
                         f"({len(unexpected)}) - is this a dense Qwen3 checkpoint?")
    if missing:
        raise ValueError(f"{path}: missing tensors {missing[:5]}{' ...' if len(missing) > 5 else ''} ({len(missing)})")
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
        save_file({n: t.contiguous().cpu() for n, t in shards[0].items()}, path / "model.safetensors", {"format": "pt"})
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
        acc = torch.float64 if hidden.dtype == torch.float64 else torch.float32  # softmax math in fp32 (fp64 for gradcheck)
        out = torch.empty(hidden.shape[0], dtype=acc, device=hidden.device)
        lse = torch.empty_like(out)
        for s in range(0, hidden.shape[0], chunk):
            logits = (hidden[s:s + chunk] @ weight.T).to(acc).div_(temperature)  # (rows, vocab), the one buffer
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
        grad_w = torch.zeros(weight.shape, dtype=acc, device=weight.device) if ctx.needs_input_grad[1] else None
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
    Used for both ECHO terms (PAPER.md §2): the action tokens (Eq. 2) and the env tokens (Eq. 3)."""
    if hidden.dim() != 2 or weight.dim() != 2 or targets.shape != hidden.shape[:1]:
        raise ValueError(f"token_logprobs: want hidden [N, H], weight [V, H], targets [N]; got "
                         f"{tuple(hidden.shape)}, {tuple(weight.shape)}, {tuple(targets.shape)}")
    return TokenLogprobs.apply(hidden, weight, targets, float(temperature), int(chunk))


# ----------------------------------------------------------------------------------------------
# Batched generation with a KV cache


class KVCache:
    """One padded K/V tensor per layer for many rows of different lengths (slots, n_kv, capacity, head_dim).

    A forward over some slots writes each row's new tokens at its own positions (lens[r] + i) and attends
    with a mask that lets query i of row r see keys 0 .. lens[r] + i. Chunks are right-padded to the
    longest; the padding is computed but its K/V are never written, and the keys past a row's length
    (stale but finite) are hidden by the mask, so they get exactly zero weight.
    """

    def __init__(self, config: Qwen3Config, rows: int, device, dtype, capacity: int = 256, max_len: int | None = None):
        self.max_len = max_len  # no row ever holds more tokens: capacity growth stops there
        shape = (rows, config.num_key_value_heads, min(capacity, max_len or capacity), config.head_dim)
        self.k = [torch.zeros(shape, device=device, dtype=dtype) for _ in range(config.num_hidden_layers)]
        self.v = [torch.zeros(shape, device=device, dtype=dtype) for _ in range(config.num_hidden_layers)]
        self.lens = torch.zeros(rows, dtype=torch.long, device=device)

    def begin(self, rows: torch.Tensor, n: int, real: torch.Tensor):
        """Prepare a forward of n tokens for slots `rows`, the first real[r] of row r's not padding;
        returns their positions (R, n)."""
        start = self.lens[rows]
        if self.max_len is not None and int((start + real).max()) > self.max_len:
            raise ValueError(f"KVCache: a row would hold {int((start + real).max())} tokens, "
                             f"over max_len={self.max_len}")
        need, cap = int(start.max()) + n, self.k[0].shape[2]  # need counts padding, which is never written
        if need > cap and cap != self.max_len:  # grow geometrically (O(log T) copies), but never past max_len
            new = max(need, 2 * cap) if self.max_len is None else min(max(need, 2 * cap), self.max_len)
            for kv in (self.k, self.v):
                for i, t in enumerate(kv):  # layer by layer: the old and new caches never coexist whole
                    kv[i] = F.pad(t, (0, 0, 0, new - cap))
        self.rows = rows
        self.all = len(rows) == len(self.lens) and bool((rows == torch.arange(len(rows), device=rows.device)).all())
        self.pos = start[:, None] + torch.arange(n, device=rows.device)  # (R, n)
        b, t = (torch.arange(n, device=rows.device) < real[:, None]).nonzero(as_tuple=True)  # the real tokens
        self.write = b, t, rows[b], self.pos[b, t]  # integer indices, found once per forward, not per layer
        self.span = min(int(self.pos.max()) + 1, self.k[0].shape[2])  # padding may point past the capacity
        keys = torch.arange(self.span, device=rows.device)
        self.mask = (keys[None, None, :] <= self.pos[:, :, None])[:, None]  # (R, 1, n, span)
        return self.pos

    def layer(self, i: int):
        cache = self

        class _Layer:
            @staticmethod
            def update(k, v):  # k, v: (R, n_kv, n, hd)
                b, t, r, p = cache.write
                cache.k[i][r, :, p] = k[b, :, t]  # advanced indices first: (real tokens, n_kv, hd)
                cache.v[i][r, :, p] = v[b, :, t]
                if cache.all:  # a view, no copy: the common case of every row decoding together
                    return cache.k[i][:, :, :cache.span], cache.v[i][:, :, :cache.span], cache.mask
                return cache.k[i][cache.rows, :, :cache.span], cache.v[i][cache.rows, :, :cache.span], cache.mask
        return _Layer

    def copy_row(self, src: int, dst: list[int]):
        for t in self.k + self.v:
            t[dst] = t[src].clone()  # (a view of t itself cannot be its own source)
        self.lens[dst] = int(self.lens[src])


def _reslotted(t, keep: torch.Tensor, size: int):
    """A new tensor of `size` slots (dim 0) whose first len(keep) slots are t[keep]."""
    out = t.new_zeros((size, *t.shape[1:]))
    out[:len(keep)] = t[keep]
    return out


@dataclass
class Sample:
    ids: list[int]  # the sampled ids exactly as sampled, the stop id included when one was sampled
    logprobs: list[float]  # log p of each id under softmax(logits / temperature), before top-p / top-k
    stopped: bool  # ended on a stop id (False: ran into max_new_tokens)


def sample_tokens(logits, temperature=1.0, top_p=1.0, top_k=0, generator=None):
    """logits (R, V) -> (ids (R,), logprobs (R,)). temperature 0 is greedy."""
    logits = logits.float()
    logp = torch.log_softmax(logits / max(temperature, 1e-6) if temperature > 0 else logits, dim=-1)
    if temperature == 0:
        ids = logits.argmax(-1)
    else:
        filtered = logp.clone()
        if 0 < top_k < filtered.shape[-1]:
            kth = torch.topk(filtered, top_k, dim=-1).values[:, -1:]
            filtered[filtered < kth] = -math.inf
        if top_p < 1.0:
            sorted_lp, order = filtered.sort(dim=-1, descending=True)
            probs = sorted_lp.exp()
            drop = probs.cumsum(-1) - probs >= top_p  # keep the smallest prefix whose mass reaches top_p
            filtered.scatter_(1, order, sorted_lp.masked_fill(drop, -math.inf))
        ids = torch.multinomial(filtered.softmax(-1), 1, generator=generator).squeeze(1)
    return ids, logp.gather(1, ids[:, None]).squeeze(1)


class Generator:
    """Batched, KV-cached decoding for many rows (episodes) that advance together.

    extend(rows, chunks) appends tokens to rows (a prompt, or an observation) without recomputing their
    prefix; sample(rows, ...) decodes every listed row until it samples a stop id or max_new_tokens;
    copy_row() gives a group's rollouts one prefill of their shared prompt; release(rows) says rows are
    finished. The last sampled token of a row is fed at the start of the row's next extend (it has no K/V yet).

    Memory at scale (256 rows, 12k-token observations, a 151,936-word vocabulary): rows are the caller's
    ids, each holding one cache slot, at most `rows` at once (a released row's slot is reused); logits are
    computed for each row's last position only, (R, V), never (R, n, V); no forward holds more than
    max_tokens (padded) tokens; a row's capacity never passes max_len when one is given; and once at most
    half the slots are live, the next sample() compacts the live rows into a smaller cache, so decoding
    every live row stays a no-copy view of the cache.
    """

    def __init__(self, model: Qwen3, rows: int, stop_ids, capacity: int = 256, max_len: int | None = None,
                 max_tokens: int = 8192):
        w = model.lm_head.weight
        self.model, self.stop_ids, self.max_rows, self.max_tokens = model, set(stop_ids), rows, max_tokens
        self.cache = KVCache(model.config, rows, w.device, w.dtype, capacity, max_len)
        self.slot = {}  # caller's row id -> cache slot
        self.pending = {}  # row id -> ids sampled but not yet fed
        self.next_logits = torch.zeros(rows, model.config.vocab_size, device=w.device)  # per slot

    @torch.no_grad()
    def extend(self, rows, chunks):
        rows = list(rows)
        chunks = [self.pending.get(r, []) + list(c) for r, c in zip(rows, chunks)]
        if any(not c for c in chunks):
            raise ValueError("Generator.extend: a row got no tokens (and had none pending)")
        slots = self._assign(rows)
        # Pack rows shortest first into sub-batches of at most max_tokens padded tokens; a row longer than
        # that alone is fed in consecutive pieces (chunked prefill: a piece attends to the earlier ones
        # through the cache), so an observation of 12k tokens x 256 rows never makes one huge activation.
        batches = [[]]
        for j in sorted(range(len(rows)), key=lambda j: len(chunks[j])):
            if batches[-1] and (len(batches[-1]) + 1) * len(chunks[j]) > self.max_tokens:
                batches.append([])
            batches[-1].append(j)
        for batch in batches:
            batch.sort(key=lambda j: slots[j])  # slot order: a batch of every slot is the cache's no-copy view
            step = max(1, self.max_tokens // len(batch))
            for s in range(0, max(len(chunks[j]) for j in batch), step):
                part = [j for j in batch if len(chunks[j]) > s]
                self._forward([slots[j] for j in part], [chunks[j][s:s + step] for j in part])
        for r in rows:
            self.pending[r] = []

    def _forward(self, slots: list[int], pieces: list[list[int]]):
        """One forward appending pieces (right-padded) to cache slots; next logits from each piece's last token."""
        dev = self.cache.lens.device
        idx, real = torch.tensor(slots, device=dev), torch.tensor([len(p) for p in pieces], device=dev)
        n = int(real.max())
        ids = torch.tensor([p + [0] * (n - len(p)) for p in pieces], device=dev)
        pos = self.cache.begin(idx, n, real)
        h = self.model.hidden(ids, pos, self.cache)  # (R, n, hidden)
        last = h[torch.arange(len(slots), device=dev), real - 1]  # (R, hidden): gather before the head ...
        self.next_logits[idx] = self.model.lm_head(last).float()  # ... so logits are (R, V), not (R, n, V)
        self.cache.lens[idx] += real

    def _assign(self, rows) -> list[int]:
        """The cache slots of rows; a new row takes the lowest free slot (the cache grows if none is free)."""
        new = [r for r in dict.fromkeys(rows) if r not in self.slot]
        if new:
            live, S = len(self.slot) + len(new), len(self.cache.lens)
            if live > self.max_rows:
                raise ValueError(f"Generator: {live} rows would hold a cache slot, over rows={self.max_rows}; "
                                 "release() finished rows first")
            if live > S:  # after a compaction: grow geometrically, up to `rows` slots
                self._reslot(list(range(S)), min(self.max_rows, max(live, 2 * S)))
            free = sorted(set(range(len(self.cache.lens))) - set(self.slot.values()))[:len(new)]
            self.slot.update(zip(new, free))
            self.cache.lens[free] = 0  # a reused slot starts empty
        return [self.slot[r] for r in rows]

    def _reslot(self, keep: list[int], size: int):
        """Slots `keep` move to slots 0 .. len(keep)-1 of new tensors of `size` slots."""
        c, idx = self.cache, torch.tensor(keep, dtype=torch.long, device=self.cache.lens.device)
        for kv in (c.k, c.v):
            for i, t in enumerate(kv):  # layer by layer: the old and new caches never coexist whole
                kv[i] = _reslotted(t, idx, size)
        c.lens, self.next_logits = _reslotted(c.lens, idx, size), _reslotted(self.next_logits, idx, size)
        moved = {s: j for j, s in enumerate(keep)}
        self.slot = {r: moved[s] for r, s in self.slot.items()}

    def release(self, rows):
        """Rows are finished: their slots go to new rows, or are compacted away by the next sample()."""
        for r in rows:
            del self.slot[r]
            self.pending.pop(r, None)

    def copy_row(self, src: int, dst: list[int]):
        """Rows dst become copies of row src (its prompt was prefilled once)."""
        d = self._assign(dst)
        s = self.slot[src]
        self.cache.copy_row(s, d)
        self.next_logits[d] = self.next_logits[s].clone()
        for r in dst:
            self.pending[r] = list(self.pending.get(src, []))

    @torch.no_grad()
    def sample(self, rows, max_new_tokens: int, temperature=1.0, top_p=1.0, top_k=0, generator=None):
        rows = list(rows)
        missing = [r for r in rows if r not in self.slot]
        if missing:
            raise KeyError(f"Generator.sample: rows {missing} hold no cache slot; extend them first")
        live = sorted(self.slot.values())
        if 2 * len(live) <= len(self.cache.lens) and live:  # released rows left half the slots empty: compact
            self._reslot(live, len(live))
        if any(self.pending.get(r) for r in rows):  # a row sampled before and got no observation: feed its last token
            self.extend([r for r in rows if self.pending.get(r)], [[] for r in rows if self.pending.get(r)])
        out = {r: Sample([], [], False) for r in rows}
        active = rows
        for _ in range(max_new_tokens):
            slots = [self.slot[r] for r in active]
            ids, lps = sample_tokens(self.next_logits[slots], temperature, top_p, top_k, generator)
            still = []
            for r, t, lp in zip(active, ids.tolist(), lps.tolist()):
                s = out[r]
                s.ids.append(t), s.logprobs.append(lp)
                s.stopped = t in self.stop_ids
                self.pending[r] = [t]
                if not s.stopped and len(s.ids) < max_new_tokens:
                    still.append(r)
            if not still:
                break
            self.extend(still, [[] for _ in still])
            active = still
        return [out[r] for r in rows]


def generate(model, prompts, max_new_tokens, stop_ids, temperature=1.0, top_p=1.0, top_k=0, seed=0):
    """One-shot batched sampling: prompts (lists of ids, any lengths) -> one Sample per prompt."""
    gen = Generator(model, len(prompts), stop_ids, max_len=max(map(len, prompts), default=0) + max_new_tokens)
    gen.extend(range(len(prompts)), prompts)
    g = torch.Generator(device=model.lm_head.weight.device).manual_seed(seed)
    return gen.sample(range(len(prompts)), max_new_tokens, temperature, top_p, top_k, g)
