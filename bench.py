"""Speed and memory of echo's pieces, each next to the obvious reference on the same machine in one run:

  kernel   token_logprobs (model.py) vs the naive full-logits log_softmax, forward + backward
  forward  our Qwen3 forward vs transformers' Qwen3ForCausalLM on the same weights
  decode   generate.generate vs transformers' generate, tokens/s, and vs the GPU's memory-bandwidth limit
  train    one ECHO step (forward + backward + AdamW) vs the same step on transformers + full-logits log_softmax
  memory   peak memory of one echo.train_step per way of training (full bf16, LoRA) at Qwen3-0.6B/8B/14B shapes
  sandbox  Sandbox start/teardown and run("true") vs a plain `bash -c true` subprocess

Rows lead with the ratio ours/reference (absolute numbers differ from machine to machine; ratios mostly
do not), then the target, then the absolute numbers. Tables are markdown, to paste into the README.

    python bench.py                     # everything, sizes suited to the device (cuda if present)
    python bench.py --only kernel --quick
    python bench.py --json bench.json   # also write the numbers
    python bench.py --only train,decode --shape 8b   # Qwen3-8B's shape (GPU; train: bf16, checkpointing)
    python bench.py --only memory       # GPU: measured whole where it fits; CPU: 2-3 layers, extrapolated
"""
import argparse
import ctypes
import gc
import importlib.util
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from echo import echo_loss, grpo_advantages, parse_args, token_logp, train_step
from errors import guard
from eval import output_file, torch_device
from generate import generate
from model import Qwen3, Qwen3Config, add_lora, init_weights, save_model, token_logprobs
from rollout import ACTION, CONTEXT, ENV, Episode
from runs import count, number
from scale import AdamW, optimizer

SECTIONS = ("kernel", "forward", "decode", "train", "memory", "sandbox")  # the order they run in
DTYPES = {"bf16": torch.bfloat16, "fp32": torch.float32}
PEAK_TFLOPS = {("H100", "bf16"): 989, ("H200", "bf16"): 989}  # dense bf16 tensor-core peaks (SXM)
BANDWIDTH_GBS = {"H200": 4800, "H100 PCIe": 2000, "H100 NVL": 3900, "H100": 3350}  # HBM GB/s; first match wins
SHAPES = {  # Qwen3's published shapes; --layers overrides the layer count
    "0.6b": dict(vocab_size=151936, hidden_size=1024, intermediate_size=3072, num_hidden_layers=28,
                 num_attention_heads=16, num_key_value_heads=8, head_dim=128, tie_word_embeddings=True),
    "8b": dict(vocab_size=151936, hidden_size=4096, intermediate_size=12288, num_hidden_layers=36,
               num_attention_heads=32, num_key_value_heads=8, head_dim=128, tie_word_embeddings=False),
    "14b": dict(vocab_size=151936, hidden_size=5120, intermediate_size=17408, num_hidden_layers=40,
                num_attention_heads=40, num_key_value_heads=8, head_dim=128, tie_word_embeddings=False)}
# Default sizes as (cuda, cpu, --quick). The full-size kernel pair is ~9 TFLOP of matmul: minutes on a CPU.
SIZES = {"rows": (4096, 4096, 2048), "hidden": (1024, 1024, 128), "vocab": (151936, 151936, 16384),
         "layers": (None, 4, 2), "batch": (4, 2, 2), "seq": (512, 256, 128), "new_tokens": (128, 32, 8)}

# ---- measuring ----


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()  # CUDA kernels run asynchronously; time only finished work


CPU = torch.device("cpu")


def median_time(fn, repeats, device):
    """(median, min, max) wall time of fn() over `repeats` calls: the spread says how far the median
    can be trusted (one noisy run moves min or max, not the median of three)."""
    times = []
    for _ in range(repeats):
        sync(device)
        t = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - t)
    return statistics.median(times), min(times), max(times)


def mid(x):
    """The median of a (median, min, max) time spread; a plain number as it is."""
    return x[0] if isinstance(x, (tuple, list)) else x


def per_second(work, t):
    """work / t for a (median, min, max) time spread: (median, min, max) rate, the fastest run the highest."""
    return None if t is None else (work / t[0], work / t[2], work / t[1])


def proc_status(key):
    return int(re.search(rf"^{key}:\s+(\d+) kB", open("/proc/self/status").read(), re.M).group(1)) * 1024


def mem_mark(device):
    """Start a peak-memory window; mem_peak() returns the most allocated above this point since.
    CUDA: the allocator's own counters. CPU: peak RSS (VmHWM), which Linux resets to the current RSS
    when "5" is written to /proc/self/clear_refs; malloc_trim first hands freed heap pages back to the
    OS, so memory an earlier measurement freed but glibc kept does not hide this one's allocations."""
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        return torch.cuda.memory_allocated()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return proc_status("VmRSS")


def mem_peak(device, mark):
    if device.type == "cuda":
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() - mark
    return proc_status("VmHWM") - mark


def nbytes(*tensors):
    return sum(t.numel() * t.element_size() for t in tensors)


def fmt_time(s):
    return "n/a" if s is None else f"{s:.2f} s" if s >= 1 else f"{s * 1e3:.2f} ms" if s >= 1e-3 else f"{s * 1e6:.0f} µs"


def fmt_bytes(b):
    return f"{b / 2**30:.2f} GiB" if abs(b) >= 2**30 else f"{b / 2**20:.1f} MiB"


def cell(x, fmt):
    """A number, or a (median, min, max) spread as "median (min–max)"."""
    if x is None:
        return "n/a"
    return f"{fmt(x[0])} ({fmt(x[1])}–{fmt(x[2])})" if isinstance(x, (tuple, list)) else fmt(x)


def row(what, ours, ref, fmt, target=None, higher_is_better=False):
    """One table row: what | ratio | target (✓/✗) | ours | reference. A (median, min, max) spread is
    compared by its median and shown whole."""
    if ours is None or ref is None or mid(ref) == 0:
        return [what, "n/a", target or "—", cell(ours, fmt), cell(ref, fmt)]
    ratio = mid(ours) / mid(ref)
    if target is None:
        mark = "—"
    else:  # target is "≤ 1.05×" or "≥ 0.9×"
        bound = float(target.split()[1].rstrip("×"))
        mark = f"{target} {'✓' if (ratio >= bound if target[0] == '≥' else ratio <= bound) else '✗'}"
    return [what, f"{ratio:.3f}×", mark, cell(ours, fmt), cell(ref, fmt)]


def table(title, reference, rows, notes=(), columns=None):
    """A markdown table; columns: (name, alignment) pairs, by default what | ratio | target | ours | reference."""
    columns = columns or [("what", "---"), ("ratio", "---:"), ("target", "---"), ("ours", "---:"), (reference, "---:")]
    print(f"\n### {title}\n")
    print("| " + " | ".join(name for name, _ in columns) + " |")
    print("|" + "|".join(align for _, align in columns) + "|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    for n in notes:
        print(f"\n{n}")
    sys.stdout.flush()


# ---- (a) the log-prob kernel ----


def naive_logprobs(h, w, y, T=1.0):
    """What token_logprobs replaces: the whole [N, V] logits in fp32, then log_softmax."""
    return torch.log_softmax((h @ w.T).float() / T, -1).gather(1, y[:, None]).squeeze(1)


KERNELS = {"ours": token_logprobs, "naive": naive_logprobs}


def kernel_inputs(n, hidden, vocab, dtype, device, seed=0):
    g = torch.Generator().manual_seed(seed)
    h = torch.randn(n, hidden, generator=g).to(device, dtype).requires_grad_()
    w = (torch.randn(vocab, hidden, generator=g) * 0.02).to(device, dtype).requires_grad_()
    y = torch.randint(0, vocab, (n,), generator=g).to(device)
    dout = torch.randn(n, generator=g).to(device)  # a random upstream gradient d loss / d log p
    return h, w, y, dout


def kernel_child(args, device, dtype):
    """Runs in its own process (one per variant), so each starts from a clean heap; prints one JSON line."""
    fn = KERNELS[args.child.removeprefix("kernel-")]
    step = lambda h, w, y, dout: torch.autograd.grad(fn(h, w, y), (h, w), dout)
    # Warm up at a small size: loads the BLAS/CUDA libraries without raising the peak we read below.
    step(*kernel_inputs(64, args.hidden, args.vocab, dtype, device))
    h, w, y, dout = kernel_inputs(args.rows, args.hidden, args.vocab, dtype, device)
    times, peaks = [], []
    for _ in range(args.repeats):
        mark = mem_mark(device)
        sync(device)
        t = time.perf_counter()
        grads = step(h, w, y, dout)
        sync(device)
        times.append(time.perf_counter() - t)
        peaks.append(mem_peak(device, mark) - nbytes(*grads))  # extra = peak minus the grads it must return
        del grads
    spread = (statistics.median(times), min(times), max(times))
    print(json.dumps({"time_s": spread, "extra_bytes": max(peaks), "repeats": args.repeats}))


def run_child(name, args, device, *flags):
    """Run one measurement (`--child name`) in a fresh process, so each starts from a clean heap; its JSON."""
    cmd = [sys.executable, os.path.abspath(__file__), "--child", name, "--device", str(device),
           "--dtype", args.dtype, "--repeats", str(args.repeats), *flags]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"child '{name}' failed (exit {p.returncode}):\n{p.stderr[-3000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def bench_kernel(args, device, dtype, models=None):
    res = {v: run_child(f"kernel-{v}", args, device, "--rows", str(args.rows), "--hidden", str(args.hidden),
                        "--vocab", str(args.vocab)) for v in ("ours", "naive")}
    N, V, H = args.rows, args.vocab, args.hidden
    flops = 8 * N * V * H  # forward 2NVH; backward: recompute 2NVH + grad_h 2NVH + grad_w 2NVH
    gpu = torch.cuda.get_device_name() if device.type == "cuda" else ""
    peak = args.peak_tflops or next((p for (name, dt), p in PEAK_TFLOPS.items() if name in gpu and dt == args.dtype), None)
    floor = flops / (peak * 1e12) if peak else None
    o, n = res["ours"], res["naive"]
    table(f"token_logprobs vs naive log_softmax: N={N} rows, V={V}, H={H}, {args.dtype}, forward + backward",
          "naive", [
              row("peak extra memory (beyond inputs and grads)", o["extra_bytes"], n["extra_bytes"], fmt_bytes, "≤ 0.10×"),
              row(f"time (median (min–max) of {o['repeats']})", o["time_s"], n["time_s"], fmt_time, "≤ 1.4×"),
              row(f"time vs FLOP limit (8NVH = {flops / 1e12:.2f} TFLOP @ {peak or 'n/a'} TFLOP/s)",
                  mid(o["time_s"]), floor, fmt_time)],
          ([] if peak else ["FLOP limit: n/a (no known peak for this device; pass --peak-tflops)."]) +
          ([f"--quick: N = {N} is only a few 512-row chunks, so the memory ratio here says little."] if args.quick else []))
    return {"ours": o, "naive": n, "flops": flops, "peak_tflops": peak, "flop_limit_s": floor}


# ---- (b) forward vs transformers, and (d) decode ----


def qwen3_config(args):
    """--shape's Qwen3 (0.6B: tied head, head_dim 128 != hidden / heads) with --layers layers; --quick: tiny."""
    if args.quick:
        return Qwen3Config(vocab_size=4096, hidden_size=128, intermediate_size=384, num_hidden_layers=2,
                           num_attention_heads=4, num_key_value_heads=2, head_dim=64, tie_word_embeddings=True)
    shape = SHAPES[args.shape]
    return Qwen3Config(**{**shape, "num_hidden_layers": args.layers or shape["num_hidden_layers"]})


def two_models(args, device, dtype):
    """Ours with random weights, and transformers' loaded from what save_model wrote; (ours, hf or None)."""
    ours = init_weights(Qwen3(qwen3_config(args))).to(device, dtype).eval()
    try:
        import transformers
    except ImportError:
        return ours, None
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    with tempfile.TemporaryDirectory() as d:
        save_model(ours, d)
        hf = transformers.AutoModelForCausalLM.from_pretrained(d, dtype=dtype, attn_implementation="sdpa")
    return ours, hf.to(device).eval()


def bench_forward(args, device, dtype, models):
    ours, hf = models
    if hf is None:
        print("\n### forward vs transformers\n\nskipped: transformers not installed")
        return {"skipped": "transformers not installed"}
    c = ours.config
    ids = torch.randint(0, c.vocab_size, (args.batch, args.seq), generator=torch.Generator().manual_seed(0)).to(device)
    res = {}
    with torch.no_grad():
        runs = {"ours": lambda: ours(ids), "hf": lambda: hf(input_ids=ids, use_cache=False).logits}
        diff = (runs["ours"]().float() - runs["hf"]().float()).abs().max().item()  # also the warm-up
        for name, fn in runs.items():
            mark = mem_mark(device)
            fn()
            res[f"{name}_peak_bytes"] = mem_peak(device, mark)
            res[f"{name}_time_s"] = median_time(fn, args.repeats, device)
    tol = 1e-3 if dtype == torch.float32 else 5e-2
    table(f"forward (logits, no grad) vs transformers Qwen3ForCausalLM: {c.num_hidden_layers} layers, "
          f"hidden {c.hidden_size}, vocab {c.vocab_size}, batch {args.batch} x {args.seq} tokens, {args.dtype}",
          "transformers", [
              row(f"time (median (min–max) of {args.repeats})", res["ours_time_s"], res["hf_time_s"], fmt_time, "≤ 1.05×"),
              row("peak memory above the weights", res["ours_peak_bytes"], res["hf_peak_bytes"], fmt_bytes),
              ["max abs logits difference (same weights)", "—", f"≤ {tol:g} {'✓' if diff <= tol else '✗'}",
               f"{diff:.2e}", ""]])
    return {**res, "max_abs_logits_diff": diff}


def bandwidth_limit_s(model, rows, prompt, new, gbs):
    """Fastest possible time for `new` decode steps of `rows` rows when memory-bound: every step reads each
    weight once plus the K/V of every row at its current length (prompt + k), at `gbs` GB/s. An untied input
    embedding is left out: a step reads `rows` rows of it, not the table."""
    c = model.config
    weights = sum(nbytes(p) for n, p in model.named_parameters() if c.tie_word_embeddings or "embed_tokens" not in n)
    kv_token = 2 * c.num_hidden_layers * c.num_key_value_heads * c.head_dim * model.lm_head.weight.element_size()
    return sum(weights + rows * kv_token * (prompt + k) for k in range(new)) / (gbs * 1e9)


def bench_decode(args, device, dtype, models):
    ours, hf = models
    c, new = ours.config, args.new_tokens
    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else ""
    gbs = args.bandwidth_gbs or next((v for k, v in BANDWIDTH_GBS.items() if k in gpu), None)
    res, rows, limit_rows = {}, [], []
    for b in (16, 64):
        prompts = torch.randint(0, c.vocab_size, (b, 16), generator=torch.Generator().manual_seed(b))
        ids = prompts.to(device)

        def ours_gen(n=new):  # stop_ids=[]: every row decodes exactly n tokens, as transformers does with no eos
            generate(ours, prompts.tolist(), n, stop_ids=[], temperature=1.0)

        def hf_gen(n=new):  # top_k=0: transformers samples with top_k=50 unless told otherwise
            out = hf.generate(ids, attention_mask=torch.ones_like(ids), do_sample=True, temperature=1.0,
                              top_k=0, top_p=1.0, max_new_tokens=n, min_new_tokens=n, pad_token_id=0)
            assert out.shape == (b, 16 + n), f"transformers made {out.shape[1] - 16} tokens per row, not {n}"

        ours_gen(2)  # warm-up
        t_ours, t_hf = median_time(ours_gen, args.repeats, device), None
        if hf is not None:
            hf_gen(2)
            t_hf = median_time(hf_gen, args.repeats, device)
        limit = gbs and b * new / bandwidth_limit_s(ours, b, 16, new, gbs)
        ours_tok_s, hf_tok_s = per_second(b * new, t_ours), per_second(b * new, t_hf)
        res[f"batch{b}"] = {"ours_tok_s": ours_tok_s, "hf_tok_s": hf_tok_s, "limit_tok_s": limit}
        rows.append(row(f"tokens/s, batch {b} (higher is better)", ours_tok_s, hf_tok_s, lambda x: f"{x:,.0f}"))
        at = f"{gbs:g} GB/s" if gbs else "n/a"
        limit_rows.append(row(f"tokens/s, batch {b}, vs memory-bandwidth limit (weights + KV cache per step @ {at})",
                              ours_tok_s, limit, lambda x: f"{x:,.0f}", "≥ 0.5×"))
    table(f"decode (16-token prompts, {new} new tokens, sampled, median (min–max) of {args.repeats}): "
          f"{c.num_hidden_layers} layers, hidden {c.hidden_size}, vocab {c.vocab_size}, {args.dtype}",
          "transformers", rows + limit_rows, ([] if hf else ["transformers: skipped: transformers not installed"]) +
          ([] if gbs else ["bandwidth limit: n/a (no known bandwidth for this device; pass --bandwidth-gbs)."]))
    return res


# ---- (e) one ECHO training step vs transformers ----


def synthetic_rollouts(B, T, vocab, device, seed=0):
    """B rollouts of T random tokens with an episode's target roles: the first 20% context (the task), then
    32-token turns alternating action / env (~40% / 40%); rewards 0/1 alternating in groups of 2."""
    ids = torch.randint(0, vocab, (B, T), generator=torch.Generator().manual_seed(seed))
    t = torch.arange(T - 1)  # target positions: position t predicts token t + 1
    turn = (t - T // 5).div(32, rounding_mode="floor")
    A = ((t >= T // 5) & (turn % 2 == 0)).float().repeat(B, 1)  # (B, T-1)
    E = ((t >= T // 5) & (turn % 2 == 1)).float().repeat(B, 1)
    adv = grpo_advantages(torch.arange(B) % 2, 2 if B % 2 == 0 else 1)  # Eq. 2a
    return [x.to(device) for x in (ids, A, E, E.sum(1), adv)]  # n_obs = |O_i| (no warning tokens here)


def hf_logp(model, ids):
    """The obvious path: all [b, t, vocab] logits, in fp32, through log_softmax (echo_loss masks them)."""
    logits = model(input_ids=ids[:, :-1], use_cache=False).logits
    return torch.log_softmax(logits.float(), -1).gather(-1, ids[:, 1:, None]).squeeze(-1)


def naive_logp(model, ids):
    """Our network, then the naive [N, V] log_softmax at every position (the kernel row's reference)."""
    hidden = model.hidden(ids[:, :-1])  # (b, T-1, H)
    logp = naive_logprobs(hidden.flatten(0, 1), model.lm_head.weight, ids[:, 1:].flatten())  # (b * (T-1),)
    return logp.view(hidden.shape[:2])


# The step's log-probs, per variant: ours (echo.py: loss positions only, fused kernel), all (the fused kernel
# at every position), naive (our network + full log_softmax at every position), hf (transformers + hf_logp).
TRAIN_LOGP = {"ours": lambda m, ids, select: token_logp(m, ids, select, 1.0),
              "all": lambda m, ids, select: token_logp(m, ids, torch.ones_like(select), 1.0),
              "naive": lambda m, ids, select: naive_logp(m, ids),
              "hf": lambda m, ids, select: hf_logp(m, ids)}


def train_child(args, device, dtype):
    """One variant of the step (TRAIN_LOGP), in its own process."""
    variant = args.child.removeprefix("train-")
    hf = variant == "hf"
    model = init_weights(Qwen3(qwen3_config(args))).to(dtype)
    if hf:
        import transformers
        transformers.logging.set_verbosity_error()
        with tempfile.TemporaryDirectory() as d:
            save_model(model, d)
            model = transformers.AutoModelForCausalLM.from_pretrained(d, dtype=dtype, attn_implementation="sdpa")
        for p in model.parameters():  # CPU: they are a copy-on-write map of the file, which the first step
            p.data = p.data.clone()  # would fault in and count; copy them to plain memory (ties kept: same p)
        if args.shape == "8b":
            model.gradient_checkpointing_enable({"use_reentrant": False})  # as model.py's checkpointing
    else:
        model.checkpointing = args.shape == "8b"  # 8B: weights + grads + AdamW state leave little for activations
    model = model.to(device).train()
    weight_bytes = sum(nbytes(p) for p in model.parameters())
    # AdamW keeps its state in the parameters' dtype. fused: no parameter-sized temporaries (foreach makes some)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-6, weight_decay=0.01, fused=device.type == "cuda")
    ids, A, E, n_obs, adv = synthetic_rollouts(args.batch, args.seq, model.config.vocab_size, device)
    select = (A + E) > 0

    def forward_backward():
        opt.zero_grad(set_to_none=True)
        logp = TRAIN_LOGP[variant](model, ids, select)
        loss, _ = echo_loss(logp, logp.detach(), A, E, n_obs, adv, lam=0.05)  # θ_old = θ, as in train_step
        loss.backward()

    mark = mem_mark(device)
    try:
        forward_backward()  # warm-up; opt.step() allocates AdamW's state, which the peak includes
        opt.step()
        t = median_time(lambda: (forward_backward(), opt.step()), args.repeats, device)
        peak = mem_peak(device, mark)
        mark = mem_mark(device)  # the AdamW state exists now: what forward + backward alone add to it
        forward_backward()
    except torch.cuda.OutOfMemoryError:
        return print(json.dumps({"oom": True}))
    print(json.dumps({"time_s": t, "peak_bytes": peak, "fwd_bwd_peak_bytes": mem_peak(device, mark),
                      "weight_bytes": weight_bytes}))


def bench_train(args, device, dtype, models=None):
    flags = ["--shape", args.shape, "--batch", str(args.batch), "--seq", str(args.seq)]
    flags += (["--layers", str(args.layers)] if args.layers else []) + (["--quick"] if args.quick else [])
    have_hf = importlib.util.find_spec("transformers") is not None
    variants = ("ours", "all", "naive", "hf")[:3 + have_hf]
    res = {v: run_child(f"train-{v}", args, device, *flags) for v in variants}
    o, h = res["ours"], res.get("hf", {})
    c, tokens = qwen3_config(args), args.batch * args.seq
    shape = "tiny" if args.quick else args.shape
    if o.get("oom"):
        raise RuntimeError(f"train: ours ran out of memory at {args.batch} x {args.seq}; pass a smaller --batch/--seq")
    notes = (["reference skipped: transformers not installed"] if not have_hf else
             ["transformers: out of memory at this size"] if h.get("oom") else [])
    notes += ["--quick: at this size the memory rows mostly measure library warm-up."] if args.quick else []
    table(f"one ECHO training step (forward + backward + AdamW) vs transformers Qwen3ForCausalLM + full-logits "
          f"log_softmax, same echo_loss: {shape} shape, {c.num_hidden_layers} layers, {args.batch} x {args.seq} "
          f"tokens (20% context, 40% action, 40% env), {args.dtype} weights"
          f"{', activation checkpointing' if args.shape == '8b' else ''}", "transformers", [
              row(f"step time (median (min–max) of {args.repeats})", o["time_s"], h.get("time_s"), fmt_time,
                  "≤ 1.0×"),
              row("tokens/s (higher is better)", per_second(tokens, o["time_s"]),
                  per_second(tokens, h.get("time_s")), lambda x: f"{x:,.0f}"),
              row(f"peak memory above the weights ({fmt_bytes(o['weight_bytes'])}): grads, AdamW state "
                  f"({args.dtype}), activations", o["peak_bytes"], h.get("peak_bytes"), fmt_bytes),
              row("peak memory of forward + backward alone (activations, logits, grads)", o["fwd_bwd_peak_bytes"],
                  h.get("fwd_bwd_peak_bytes"), fmt_bytes)], notes)
    # Where the step's gain comes from, both effects from this one run and with no transformers: the kernel
    # (same positions, fused vs naive) and the positions skipped (same kernel, loss positions vs all).
    a, n = res["all"], res["naive"]
    if a.get("oom") or n.get("oom"):
        raise RuntimeError(f"train: an all-positions variant ran out of memory at {args.batch} x {args.seq}; "
                           "pass a smaller --batch/--seq")
    table(f"the training step's two effects, our network, {shape} shape, {args.batch} x {args.seq} tokens",
          "", [row(f"kernel: step time, fused token_logprobs vs naive log_softmax, both at all "
                   f"{args.seq - 1} positions", a["time_s"], n["time_s"], fmt_time),
               row("kernel: peak memory of forward + backward", a["fwd_bwd_peak_bytes"],
                   n["fwd_bwd_peak_bytes"], fmt_bytes),
               row("positions skipped: step time, fused kernel at the loss positions (80%) vs at all",
                   o["time_s"], a["time_s"], fmt_time),
               row("positions skipped: peak memory of forward + backward", o["fwd_bwd_peak_bytes"],
                   a["fwd_bwd_peak_bytes"], fmt_bytes)],
          [f"times are median (min–max) of {args.repeats}."],
          columns=[("effect", "---"), ("ratio", "---:"), ("target", "---"), ("with", "---:"),
                   ("without", "---:")])
    return res


# ---- (f) memory of one training step, per way of training ----

MEMORY_OPTIONS = ("full", "lora")  # full: bf16 weights, scale.AdamW; lora: frozen bf16 base, fp32 adapters
LORA_RANK = 16  # α is echo.py's default (32); it does not change the memory
PHASES = ("head", "backward", "optimizer")  # memory_child's windows


def memory_model(config, option, targs, device, dtype):
    """A random Qwen3 of `config` in `dtype` on `device`, set up as echo.py sets it up for `option` (activation
    checkpointing; LoRA adapters), and the optimizer echo.py gives it (scale.optimizer)."""
    torch.set_default_dtype(dtype)  # built in bf16 on the device: no fp32 copy of the model at any point
    with torch.device(device):
        model = Qwen3(config)  # PyTorch's default random init: the values do not change the memory
    torch.set_default_dtype(torch.float32)
    if option == "lora":
        add_lora(model, targs.lora_rank, targs.lora_alpha)
    model.checkpointing = True
    opt = optimizer(model.parameters(), targs)
    for p in (p for group in opt.param_groups for p in group["params"]):  # the state a first step would create
        # (scale.AdamW uses torch's keys), so the measured step is like every later one: moments held throughout
        opt.state[p] = {"step": torch.zeros(()), "exp_avg": torch.zeros_like(p), "exp_avg_sq": torch.zeros_like(p)}
    return model.train(), opt


def synthetic_episodes(B, T, vocab, seed=0):
    """synthetic_rollouts' layout as the rollout.Episodes that echo.train_step takes: 20% context, then
    32-token turns alternating action / env; rewards 0/1 alternating (GRPO groups of 2)."""
    g = torch.Generator().manual_seed(seed)
    roles = [CONTEXT] * (T // 5) + [(ACTION, ENV)[t // 32 % 2] for t in range(T - T // 5)]
    return [Episode("synthetic", 0, [], torch.randint(0, vocab, (T,), generator=g).tolist(), roles,
                    reward=float(i % 2)) for i in range(B)]


def memory_child(args, device, dtype):
    """One echo.train_step (forward + backward + optimizer step, with echo.py's settings for a real model)
    for `--child memory-full` / `memory-lora` at --shape with --layers layers and a --vocab vocabulary.
    Prints one JSON line of bytes above what was in use before the model was built."""
    if device.type == "cpu":  # glibc keeps freed blocks under 32 MiB in its heap, where they still count in RSS;
        ctypes.CDLL("libc.so.6").mallopt(-3, 1 << 16)  # M_MMAP_THRESHOLD fixed at 64 KiB: larger blocks get their
        # own mapping, unmapped when freed, so RSS follows the live tensors (as max_memory_allocated does on CUDA)
    option = args.child.removeprefix("memory-")
    targs = parse_args(["--model", "Qwen/Qwen3-8B", "--group-size", str(2 if args.batch % 2 == 0 else 1),
                        "--lora-rank", str(LORA_RANK)])  # the paper's settings; --model is only a name here
    targs.pad_id, targs.micro_batch_tokens = 0, args.batch * args.seq  # one micro-batch
    config = memory_config(args.shape, args.layers, args.vocab)
    # Warm-up on a tiny model: loads the libraries and kernels the step uses, before the window opens.
    tiny = Qwen3Config(vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=1,
                       num_attention_heads=2, num_key_value_heads=1, head_dim=32)
    model, opt = memory_model(tiny, option, targs, device, dtype)
    train_step(model, opt, synthetic_episodes(args.batch, args.seq, tiny.vocab_size), targs, lam=0.05)
    del model, opt
    gc.collect()
    base = mem_mark(device)
    try:
        model, opt = memory_model(config, option, targs, device, dtype)
        episodes = synthetic_episodes(args.batch, args.seq, config.vocab_size)
        peaks = {}

        def phase_end(name):  # this phase's peak; then a new window for the next one
            peaks[f"{name}_peak_bytes"] = mem_peak(device, base)
            mem_mark(device)

        # One window per phase, so that each peak has one make-up and extrapolates linearly in L and V:
        # forward + the head's backward (weights, saved layer inputs, the head's vocabulary-sized temporaries,
        # no layer grads yet), the rest of backward (the grads pile up), the optimizer step.
        model.model.norm.register_full_backward_pre_hook(lambda *_: phase_end("head"))
        opt.register_step_pre_hook(lambda *_: phase_end("backward"))
        mem_mark(device)  # the window opens after the build (whose temporaries are not the step's), counts from base
        st = train_step(model, opt, episodes, targs, lam=0.05)
        phase_end("optimizer")
    except torch.cuda.OutOfMemoryError:
        return print(json.dumps({"oom": True}))
    if st["skipped"]:
        raise RuntimeError(f"memory: train_step skipped the optimizer step ({st['skipped']}); nothing measured")
    state = [t for s in opt.state.values() for t in s.values() if torch.is_tensor(t)]
    print(json.dumps({**peaks, "resident_bytes": mem_mark(device) - base,  # train_step has freed the grads
                      "weight_bytes": nbytes(*model.parameters()), "state_bytes": nbytes(*state)}))


def param_counts(config, option):
    """(trainable, total) parameters, counted on a meta-device model (no memory)."""
    with torch.device("meta"):
        model = Qwen3(config)
    if option == "lora":
        add_lora(model, LORA_RANK, 1.0)
    return sum(p.numel() for p in model.parameters() if p.requires_grad), sum(p.numel() for p in model.parameters())


def arithmetic_bytes(config, option):
    """Weights + grads + optimizer state (all there at once in the optimizer step), by arithmetic. full: bf16
    weights 2 + grads 2 + AdamW moments 2 × 2 = 8 bytes per parameter. lora: 2 bytes per frozen bf16
    parameter; fp32 adapter, grad and 2 moments: 16 bytes per adapter parameter."""
    trainable, total = param_counts(config, option)
    return 8 * total if option == "full" else 2 * (total - trainable) + 16 * trainable


def small_vocab(shape):
    """The vocabulary of the 2- and 3-layer runs: small, yet with an embedding of at least scale.AdamW.CHUNK
    elements, so that the optimizer's temporaries are already full size there and what is left grows
    linearly in the vocabulary (0.6B: 16,384 rows of 1,024)."""
    return max(4096, AdamW.CHUNK // SHAPES[shape]["hidden_size"])


def memory_config(shape, layers, vocab):
    return Qwen3Config(**{**SHAPES[shape], "num_hidden_layers": layers, "vocab_size": vocab})


def measure_memory(args, device, shape, option):
    """(quantities, method, runs) of one way of training at `shape`. A GPU measures the whole model where it
    fits. Otherwise: 2 and 3 layers at a small vocabulary Vs and 2 layers at the real vocabulary V (on a CPU, the
    largest Vc that fits --max-child-gib), and each quantity extrapolated linearly in the layers and the
    vocabulary. 2 and 3, not 1 and 2: a LoRA model's bottom layer is cheaper than the others (its input, the
    frozen embedding, needs no gradient), so the slope from 1 to 2 layers is not the per-layer cost."""
    L, V, Vs = SHAPES[shape]["num_hidden_layers"], SHAPES[shape]["vocab_size"], small_vocab(shape)
    flags = ["--shape", shape, "--batch", "1", "--seq", str(args.seq), "--dtype", "bf16"]  # bf16 whatever --dtype says
    runs = {}

    def run(layers, vocab):
        runs[f"L={layers} V={vocab}"] = r = run_child(f"memory-{option}", args, device, *flags, "--layers",
                                                      str(layers), "--vocab", str(vocab))
        return r

    if device.type == "cuda" and not run(L, V).get("oom"):
        return runs[f"L={L} V={V}"], f"measured, {L} layers", runs
    Vc = V
    if device.type == "cpu":
        room = args.max_child_gib * 2**30 - 2**30  # 1 GiB for activations and temporaries beyond the arithmetic
        lo, hi = (arithmetic_bytes(memory_config(shape, 2, v), option) for v in (Vs, V))
        if hi > room:  # the largest vocabulary (a multiple of 4096) whose 2-layer run fits, by arithmetic
            Vc = Vs + int((room - lo) / (hi - lo) * (V - Vs)) // 4096 * 4096
            if Vc <= Vs:
                raise RuntimeError(f"memory: {shape} {option}: 2 layers do not fit --max-child-gib "
                                   f"{args.max_child_gib:g}; raise it")
    a, b, c = run(2, Vs), run(3, Vs), run(2, Vc)
    if any(r.get("oom") for r in (a, b, c)):
        raise RuntimeError(f"memory: {shape} {option}: out of memory even at 2 or 3 layers ({runs})")
    m = {k: a[k] + (L - 2) * (b[k] - a[k]) + (V - Vs) * (c[k] - a[k]) / (Vc - Vs) for k in a}
    if Vc == V:  # = c + (L − 2)(b − a)
        return m, f"L=2 at V={V:,} measured + {L - 2} × per-layer slope (L=3 − L=2 at V={Vs:,})", runs
    return m, (f"L=2 at V={Vs:,} measured + {L - 2} × per-layer slope (L=3 − L=2) + {V - Vs:,} × per-vocab-row "
               f"slope (V={Vc:,} − V={Vs:,}, L=2)"), runs


def fmt_count(n):
    return f"{n / 1e9:.2f} B" if n >= 1e9 else f"{n / 1e6:.1f} M"


def bench_memory(args, device, dtype, models=None):
    t0 = time.perf_counter()
    res, rows = {}, []
    for shape in ("0.6b",) if args.quick else ("0.6b", "8b", "14b"):
        for option in MEMORY_OPTIONS:
            m, method, runs = measure_memory(args, device, shape, option)
            L, V = SHAPES[shape]["num_hidden_layers"], SHAPES[shape]["vocab_size"]
            trainable, total = param_counts(memory_config(shape, L, V), option)
            arith = arithmetic_bytes(memory_config(shape, L, V), option)
            peak = max(m[f"{phase}_peak_bytes"] for phase in PHASES)
            res.setdefault(shape, {})[option] = dict(
                trainable=trainable, total=total, arithmetic_bytes=arith, peak_bytes=peak, method=method, runs=runs,
                **{k: m[k] for k in [f"{phase}_peak_bytes" for phase in PHASES] + ["resident_bytes", "state_bytes"]})
            rows.append([shape, option, f"{fmt_count(trainable)} / {fmt_count(total)}", fmt_bytes(peak),
                         *(fmt_bytes(m[f"{phase}_peak_bytes"]) for phase in PHASES), fmt_bytes(arith),
                         f"{peak / arith:.3f}×", fmt_bytes(m["resident_bytes"]), method])
    wall = time.perf_counter() - t0
    table(f"memory of an echo.train_step (forward + backward + optimizer step) per way of training, one GPU: "
          f"bf16 weights, activation checkpointing, one micro-batch of 1 x {args.seq} tokens", "", rows, [
              "full: scale.AdamW (bf16 moments, stochastic rounding, fp32 temporaries in chunks of 2^24 elements). "
              f"lora: rank {LORA_RANK} on q, k, v, o, gate, up, down; frozen bf16 base; fp32 adapters, torch AdamW.",
              "Peaks per phase: forward + the head's backward (token_logprobs) | the rest of backward (and the "
              "grad-norm clip) | the optimizer step; peak = the largest. The optimizer state exists before the "
              "step, as in every step after the first.",
              "arithmetic = weights + grads + optimizer state, all there at once in the optimizer step: full 8 B per "
              "parameter (bf16 weights 2, grads 2, AdamW moments 2 × 2); lora 2 B per frozen parameter + 16 B per "
              "adapter parameter (fp32 weight, grad, 2 moments). No activations, no temporaries. Resident after "
              "the step: weights + optimizer state (train_step frees the grads).",
              "Measured above the memory in use before the model was built: " + (
                  "torch.cuda.max_memory_allocated." if device.type == "cuda" else "peak RSS (VmHWM; blocks over "
                  "64 KiB are mapped on their own, so freed memory leaves RSS at once). CPU: the runs have 2 or 3 "
                  "layers and are extrapolated linearly in the layer count (and in the vocabulary where the real "
                  f"one does not fit --max-child-gib {args.max_child_gib:g}), each phase on its own."),
              f"section wall time: {wall:.0f} s"],
          columns=[("shape", "---"), ("training", "---"), ("parameters (trainable / total)", "---:"),
                   ("peak", "---:"), ("fwd + head bwd", "---:"), ("rest of bwd", "---:"), ("optimizer step", "---:"),
                   ("arithmetic", "---:"), ("peak / arithmetic", "---:"), ("resident after the step", "---:"),
                   ("method", "---")])
    return {"shapes": res, "wall_s": wall, "tokens": args.seq}


# ---- (c) the sandbox ----


def fmt_spread(m):
    return f"{fmt_time(m[0])} ({fmt_time(m[1])}–{fmt_time(m[2])})"


BENCH_DOCKERFILE = """FROM {base}
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update && apt-get install -y --no-install-recommends jq && rm -rf /var/lib/apt/lists/*
WORKDIR /home/user
COPY data.txt ./
"""


def bench_sandbox(args, device=None, dtype=None, models=None):
    """Task environments: a real build, then cached episode starts next to bwrap and bare unshare, and what
    one episode costs in memory and disk. The build and the cached start need a base image in the cache
    (python images.py debootstrap --as '*'); without one those rows say so."""
    import dataclasses
    import shutil
    import harbor
    import images
    import sandbox
    n = 5 if args.quick else 30
    res = {}

    def first_run(make):             # from the call that makes a sandbox to the end of its first command
        box = None
        def go():
            nonlocal box
            box = make()
            box.run("true")
        t = time.perf_counter()
        go()
        dt = time.perf_counter() - t
        box.close()
        return dt

    def spread(make):
        ts = [first_run(make) for _ in range(n)]
        return statistics.median(ts), min(ts), max(ts)

    bases = sorted(d.name for d in (images.CACHE / "images").glob("*") if (d / "image.json").is_file()) \
        if (images.CACHE / "images").is_dir() else []
    rows, notes = [], []
    bare_argv = ["unshare", "-U", "-r", "-m", "-p", "-f", "-n", "true"]
    bare = median_time(lambda: subprocess.run(bare_argv, check=True), n, CPU)
    bwrap = None
    if shutil.which("bwrap"):
        argv = ["bwrap", "--unshare-all", "--die-with-parent", "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin",
                "/bin", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64", "--proc", "/proc",
                "--dev", "/dev", "--tmpfs", "/tmp", "/bin/true"]
        bwrap = median_time(lambda: subprocess.run(argv, check=True), n, CPU)
    else:
        notes.append("bwrap is not installed (apt-get install bubblewrap): its row is n/a.")
    host_task = harbor.load_task(os.path.join(os.path.dirname(__file__), "tasks/train/files-flatten-txt"))
    host = spread(lambda: harbor.start_task(host_task, seed=0, log=lambda m: None))
    rows.append(["host-fallback episode (a built-in task): start_task to first run() done", fmt_spread(host),
                 "—", fmt_spread(bare), fmt_spread(bwrap) if bwrap else "n/a"])
    res.update(host_start_s=host[0], unshare_true_s=bare[0], bwrap_true_s=bwrap[0] if bwrap else None)
    if sandbox.network_available():           # the same with the network on: pasta's start on top
        net_task = dataclasses.replace(host_task, agent_network=True)
        net = spread(lambda: harbor.start_task(net_task, seed=0, log=lambda m: None))
        rows.append(["the same with the network on (pasta)", fmt_spread(net), "—", "—", "—"])
        res.update(host_network_start_s=net[0])
    else:
        notes.append("pasta is not installed (apt-get install passt): no networked row.")
    base = next((b for b in bases if b.startswith("debian")), None)
    if base is None:
        notes.append("No base image in the cache: run `python images.py debootstrap --as '*'` (root) for the build "
                     "and cached-start rows.")
    else:
        with tempfile.TemporaryDirectory(dir=images.CACHE) as tmp:
            task_dir = os.path.join(tmp, "task")
            for rel, text in {"task.toml": "[environment]\nallow_internet = false\n",   # as before pasta
                              "instruction.md": "x\n", "tests/test.sh": "true\n",
                              "environment/data.txt": "x\n",
                              "environment/Dockerfile": BENCH_DOCKERFILE.format(base=base.replace("_", ":", 1))}.items():
                os.makedirs(os.path.dirname(os.path.join(task_dir, rel)), exist_ok=True)
                open(os.path.join(task_dir, rel), "w").write(text)
            task = harbor.load_task(task_dir)
            fresh = os.path.join(tmp, "cache")   # a fresh layer cache over the real base: the build runs
            os.makedirs(fresh)
            os.chmod(tmp, 0o755)
            os.chmod(fresh, 0o755)
            os.symlink(images.CACHE / "images", os.path.join(fresh, "images"))
            quiet = dict(log=lambda m: None, cache=Path(fresh))
            try:
                t = time.perf_counter()
                harbor.build_task(task, **quiet)
                build = time.perf_counter() - t
                t = time.perf_counter()
                harbor.forget_builds()
                harbor.build_task(task, **quiet)
                lookup = time.perf_counter() - t
                cached = spread(lambda: harbor.start_task(task, seed=0, **quiet))
                layer_bytes = int(subprocess.run(["du", "-sb", fresh + "/layers"], capture_output=True,
                                                 text=True).stdout.split()[0])
                with harbor.start_task(task, seed=0, **quiet) as box:
                    idle = box.memory_bytes()
                    box.run("jq --version > /dev/null; echo '{\"a\": 1}' | jq .a > out.json; "
                            "head -c 10M /dev/urandom > blob")
                    busy = box.memory_bytes()
                    used = box.run("df -k / | tail -1").output.split()
                    upper_kib = int(used[2]) if len(used) > 2 and used[2].isdigit() else None
            finally:
                harbor.forget_builds()
        rows.insert(0, ["cached episode (overlay on the build): start_task to first run() done", fmt_spread(cached),
                        "≤ 50 ms median " + ("✓" if cached[0] <= 0.05 else "✗"), fmt_spread(bare),
                        fmt_spread(bwrap) if bwrap else "n/a"])
        table(f"environment build on the cached base {base} (one run)", "", [
            ["build: apt-get install jq + COPY (2 layers, fresh layer cache)", fmt_time(build)],
            ["build again: every layer found in the cache", fmt_time(lookup)],
            ["disk: the two layers", fmt_bytes(layer_bytes)],
            ["memory: an idle episode (its cgroup)", fmt_bytes(idle) if idle else "n/a (no cgroup)"],
            ["memory: after jq and a 10 MB file in the writable tmpfs layer", fmt_bytes(busy) if busy else "n/a"],
            ["disk: the episode's writable layer after that (tmpfs, gone at close)",
             fmt_bytes(upper_kib * 1024) if upper_kib is not None else "n/a"]],
            columns=[("what", "---"), ("value", "---:")])
        res.update(build_s=build, build_cached_s=lookup, cached_start_s=cached[0], layer_bytes=layer_bytes,
                   episode_idle_bytes=idle, episode_busy_bytes=busy)
    table(f"episode start, median (min–max) of {n}, next to bare namespaces", "", rows, notes, columns=[
        ("what", "---"), ("ours", "---:"), ("target", "---"), ("`unshare -Urmpfn true`", "---:"),
        ("`bwrap --unshare-all ... /bin/true`", "---:")])
    with harbor.start_task(host_task, seed=0, log=lambda m: None) as box:   # a host-fallback episode
        rt = median_time(lambda: box.run("true"), 10 * n, CPU)
        rt_exec = median_time(lambda: box.run("/bin/true"), 10 * n, CPU)
    table("commands in a started sandbox", "", [
        ["run('true'): a pipe round trip to the persistent shell's builtin", fmt_spread(rt)],
        ["run('/bin/true'): the same plus a fork and exec", fmt_spread(rt_exec)]],
        columns=[("what", "---"), ("median (min–max)", "---:")])
    res.update(run_true_s=rt[0], run_bin_true_s=rt_exec[0])
    return res


# ---- main ----


def sections(text: str) -> list[str]:
    """--only: section names joined by commas."""
    only = [s.strip() for s in text.split(",")]
    if unknown := [s for s in only if s not in SECTIONS]:
        raise argparse.ArgumentTypeError(f"unknown section {unknown[0]!r} in {text!r} "
                                         f"(sections: {','.join(SECTIONS)})")
    return only


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    a = p.add_argument
    a("--only", type=sections, default=list(SECTIONS), help="comma-separated subset of " + ",".join(SECTIONS))
    a("--device", type=torch_device, default="cuda" if torch.cuda.is_available() else "cpu")
    a("--dtype", choices=DTYPES, help="default: bf16 on cuda, fp32 on cpu")
    a("--quick", action="store_true", help="small sizes: a smoke check (< 30 s on CPU)")
    a("--json", type=output_file, help="also write the numbers to this file")
    a("--rows", type=count(1), help="kernel: N (default 4096)")
    a("--hidden", type=count(1), help="kernel: H (default 1024)")
    a("--vocab", type=count(1), help="kernel: V (default 151936, Qwen3's)")
    a("--peak-tflops", type=number(0, strict=True),
      help="device peak for the FLOP limit (default: known GPUs only)")
    a("--shape", choices=SHAPES, default="0.6b", help="forward/decode/train: Qwen3 shape (default 0.6b)")
    a("--layers", type=count(1), help="forward/decode/train: layers (default: the shape's on cuda, 4 on cpu)")
    a("--batch", type=count(1), help="forward/train: batch (default 4 on cuda, 2 on cpu)")
    a("--seq", type=count(2), help="forward/train: tokens per row; memory: tokens of its one row "
      "(default 512 on cuda, 256 on cpu)")   # >= 2: a training row predicts at least one next token
    a("--new-tokens", type=count(1), help="decode: new tokens per row (default 128 on cuda, 32 on cpu)")
    a("--bandwidth-gbs", type=number(0, strict=True),
      help="decode: memory bandwidth, GB/s (default: known GPUs only)")
    a("--max-child-gib", type=number(0, strict=True), default=12.0,
      help="memory, CPU: the most one measurement may plan to use (GiB); larger ones are extrapolated")
    a("--repeats", type=count(1),
      help="timed repeats; each time is shown as median (min–max) (default 5 on cuda, 3 on cpu)")
    a("--debug", action="store_true", help="show the traceback of an error, not just its one line")
    a("--child", help=argparse.SUPPRESS)  # internal: one kernel / train / memory run in a fresh process
    args = p.parse_args(argv)
    device = torch.device(args.device)
    gpu, q = device.type == "cuda", args.quick
    args.dtype = args.dtype or ("bf16" if gpu else "fp32")
    dtype = DTYPES[args.dtype]
    if args.child:
        {"kernel": kernel_child, "train": train_child, "memory": memory_child}[args.child.split("-")[0]](
            args, device, dtype)
        return

    for name, (on_gpu, on_cpu, quick) in SIZES.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if q else on_gpu if gpu else on_cpu)
    name = torch.cuda.get_device_name(device) if gpu else f"cpu ({torch.get_num_threads()} threads)"
    print(f"device: {name} · torch {torch.__version__} · dtype {args.dtype}{' · --quick' if q else ''}")
    out = {"device": name, "torch": torch.__version__, "dtype": args.dtype, "quick": q}
    bench = {"kernel": bench_kernel, "forward": bench_forward, "decode": bench_decode, "train": bench_train,
             "memory": bench_memory, "sandbox": bench_sandbox}
    models, repeats = None, args.repeats
    for section in (s for s in SECTIONS if s in args.only):
        args.repeats = repeats or (5 if gpu else 3)  # fewer than 3 runs give no spread worth reading
        if section in ("forward", "decode") and models is None:
            models = two_models(args, device, dtype)
        out[section] = bench[section](args, device, dtype, models)
        if args.json:  # after every section, so a later failure keeps the numbers already measured
            with open(args.json, "w") as f:
                json.dump(out, f, indent=2)


if __name__ == "__main__":
    sys.exit(guard("bench.py", main))
