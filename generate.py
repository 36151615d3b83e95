"""Decoding: batched, KV-cached sampling from the Qwen3 of model.py, for many rows (episodes) at once.

KVCache holds every row's keys and values; Generator appends tokens to rows (extend) and samples from
them (sample), which is how rollout.py plays a batch of episodes; generate() is the one-shot form
(prompts in, samples out) that bench.py and the tests use.
"""
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from model import Qwen3, Qwen3Config

# ----------------------------------------------------------------------------------------------
# The KV cache


class KVCache:
    """One padded K/V tensor per layer for many rows of different lengths (slots, n_kv, capacity, head_dim).

    A forward over some slots writes each row's new tokens at its own positions (lens[r] + i) and attends
    with a mask that lets query i of row r see keys 0 .. lens[r] + i. Chunks are right-padded to the
    longest; the padding is computed but its K/V are never written, and the keys past a row's length
    (stale but finite) are hidden by the mask, so they get exactly zero weight.
    """

    def __init__(self, config: Qwen3Config, rows: int, device, dtype, capacity: int = 256,
                 max_len: int | None = None):
        self.max_len = max_len  # no row ever holds more tokens: capacity growth stops there
        shape = (rows, config.num_key_value_heads, min(capacity, max_len or capacity), config.head_dim)
        self.k = [torch.zeros(shape, device=device, dtype=dtype) for _ in range(config.num_hidden_layers)]
        self.v = [torch.zeros(shape, device=device, dtype=dtype) for _ in range(config.num_hidden_layers)]
        self.lens = torch.zeros(rows, dtype=torch.long, device=device)
        # The forward in progress, set by begin() and read by every layer's LayerCache.update(). Computed
        # once per forward, not once per layer.
        self.rows = None  # (R,) the slots this forward feeds
        self.all = False  # rows are every slot in order: each layer returns a view of the cache, no copy
        self.span = 0  # keys 0 .. span-1 are the most any row of this forward attends to
        self.mask = None  # (R, 1, n, span): query i of row r sees keys 0 .. lens[r] + i
        self.src_row = self.src_tok = None  # the real (not padding) tokens of the chunk: row, index ...
        self.dst_slot = self.dst_pos = None  # ... and where their K/V go in the cache: slot, position

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
        in_order = torch.arange(len(rows), device=rows.device)
        self.all = len(rows) == len(self.lens) and bool((rows == in_order).all())
        pos = start[:, None] + torch.arange(n, device=rows.device)  # (R, n)
        is_real = torch.arange(n, device=rows.device) < real[:, None]  # (R, n)
        self.src_row, self.src_tok = is_real.nonzero(as_tuple=True)
        self.dst_slot, self.dst_pos = rows[self.src_row], pos[self.src_row, self.src_tok]
        self.span = min(int(pos.max()) + 1, self.k[0].shape[2])  # padding may point past the capacity
        keys = torch.arange(self.span, device=rows.device)
        self.mask = (keys[None, None, :] <= pos[:, :, None])[:, None]  # (R, 1, n, span)
        return pos

    def layer(self, i: int) -> "LayerCache":
        """What layer i's attention gets as its cache (model.Attention calls its update())."""
        return LayerCache(self, i)

    def copy_row(self, src: int, dst: list[int]):
        for t in self.k + self.v:
            t[dst] = t[src].clone()  # (a view of t itself cannot be its own source)
        self.lens[dst] = int(self.lens[src])


class LayerCache:
    """Layer i of a KVCache, for the forward that KVCache.begin() prepared."""

    def __init__(self, cache: KVCache, i: int):
        self.cache, self.i = cache, i

    def update(self, k, v):
        """Write this chunk's k, v (R, n_kv, n, hd) into the cache; return the keys and values each row
        attends to, (R, n_kv, span, hd) each, and the mask (R, 1, n, span)."""
        c, i = self.cache, self.i
        # Advanced indices around a slice put their dimension first: both sides are (real tokens, n_kv, hd).
        c.k[i][c.dst_slot, :, c.dst_pos] = k[c.src_row, :, c.src_tok]
        c.v[i][c.dst_slot, :, c.dst_pos] = v[c.src_row, :, c.src_tok]
        if c.all:  # a view, no copy: the common case of every row decoding together
            return c.k[i][:, :, :c.span], c.v[i][:, :, :c.span], c.mask
        return c.k[i][c.rows, :, :c.span], c.v[i][c.rows, :, :c.span], c.mask


def _reslotted(t, keep: torch.Tensor, size: int):
    """A new tensor of `size` slots (dim 0) whose first len(keep) slots are t[keep]."""
    out = t.new_zeros((size, *t.shape[1:]))
    out[:len(keep)] = t[keep]
    return out


# ----------------------------------------------------------------------------------------------
# Sampling


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
        filtered = logp.clone()  # top-k / top-p change what is drawn, not the log-probs reported
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
    finished. The last sampled token of a row is fed at the start of the row's next extend (it has no K/V
    yet).

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
        self.model = model
        self.stop_ids = set(stop_ids)
        self.max_rows = rows
        self.max_tokens = max_tokens
        self.cache = KVCache(model.config, rows, w.device, w.dtype, capacity, max_len)
        self.slot = {}  # caller's row id -> cache slot
        # row id -> ids sampled but not yet fed: a sampled token gets its K/V in the row's next forward,
        # together with whatever the caller appends after it (an observation), not in a forward of its own
        self.pending = {}
        self.next_logits = torch.zeros(rows, model.config.vocab_size, device=w.device)  # per slot

    @torch.no_grad()
    def extend(self, rows, chunks):
        """Append chunks[j] (a list of ids) to row rows[j], after any ids it has pending."""
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
            # slot order: a batch of every slot is then the cache's no-copy view (KVCache.all)
            batch.sort(key=lambda j: slots[j])
            step = max(1, self.max_tokens // len(batch))
            for s in range(0, max(len(chunks[j]) for j in batch), step):
                part = [j for j in batch if len(chunks[j]) > s]
                self._forward([slots[j] for j in part], [chunks[j][s:s + step] for j in part])
        for r in rows:
            self.pending[r] = []

    def _forward(self, slots: list[int], pieces: list[list[int]]):
        """One forward appending pieces (right-padded) to cache slots; next logits from each piece's last
        token."""
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
        """The cache slots of rows; a new row takes the lowest free slot (the cache grows if none is
        free)."""
        new = [r for r in dict.fromkeys(rows) if r not in self.slot]
        if new:
            live, S = len(self.slot) + len(new), len(self.cache.lens)
            if live > self.max_rows:
                raise ValueError(f"Generator: {live} rows would hold a cache slot, over "
                                 f"rows={self.max_rows}; release() finished rows first")
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
    def sample(self, rows, max_new_tokens, temperature=1.0, top_p=1.0, top_k=0, generator=None):
        """Decode every row of rows until it samples a stop id or has max_new_tokens (one int for all rows,
        or one per row); one Sample per row."""
        rows = list(rows)
        caps = dict(zip(rows, max_new_tokens)) if isinstance(max_new_tokens, (list, tuple)) else \
            dict.fromkeys(rows, max_new_tokens)
        missing = [r for r in rows if r not in self.slot]
        if missing:
            raise KeyError(f"Generator.sample: rows {missing} hold no cache slot; extend them first")
        live = sorted(self.slot.values())
        if 2 * len(live) <= len(self.cache.lens) and live:  # released rows left half the slots empty: compact
            self._reslot(live, len(live))
        # A row that sampled before and got no observation since: feed its last token, so next_logits is
        # the distribution after it.
        waiting = [r for r in rows if self.pending.get(r)]
        if waiting:
            self.extend(waiting, [[] for _ in waiting])
        out = {r: Sample([], [], False) for r in rows}
        active = [r for r in rows if caps[r] > 0]
        for _ in range(max(caps.values(), default=0)):
            if not active:
                break
            slots = [self.slot[r] for r in active]
            ids, lps = sample_tokens(self.next_logits[slots], temperature, top_p, top_k, generator)
            still = []
            for r, t, lp in zip(active, ids.tolist(), lps.tolist()):
                s = out[r]
                s.ids.append(t)
                s.logprobs.append(lp)
                s.stopped = t in self.stop_ids
                self.pending[r] = [t]
                if not s.stopped and len(s.ids) < caps[r]:
                    still.append(r)
            if not still:
                break
            self.extend(still, [[] for _ in still])  # feed each row its new token: its next logits
            active = still
        return [out[r] for r in rows]


def generate(model, prompts, max_new_tokens, stop_ids, temperature=1.0, top_p=1.0, top_k=0, seed=0):
    """One-shot batched sampling: prompts (lists of ids, any lengths) -> one Sample per prompt."""
    longest = max(map(len, prompts), default=0)
    # max_len: no row ever needs more, so the cache never grows past it
    gen = Generator(model, len(prompts), stop_ids, max_len=longest + max_new_tokens)
    gen.extend(range(len(prompts)), prompts)
    g = torch.Generator(device=model.lm_head.weight.device).manual_seed(seed)
    return gen.sample(range(len(prompts)), max_new_tokens, temperature, top_p, top_k, g)
