"""What real scale takes beyond the objective: memory on one GPU, and many GPUs.

One GPU: full fine-tuning of Qwen3-8B fits 80 GB only with everything in bf16 (weights, gradients and both
AdamW moments: 8 bytes per parameter, 66 GB). Plain bf16 AdamW does not learn at the paper's lr 1e-6: bf16
keeps 8 significant bits, so a weight of 0.02 moves in steps of 1.2e-4 and an update of ~1e-6 rounds back
to the same weight every time (so does β2's 0.1% change of the second moment). `AdamW` below does the
arithmetic in fp32 and rounds each result to bf16 *stochastically*: up with probability equal to the
fraction of the gap, so every rounding is exact in expectation and the weights follow the fp32 trajectory
on average, at no extra memory.

Many GPUs: FSDP2 under torchrun. Each helper here is a no-op in a single process.
"""
import math
import os
import sys

import torch
import torch.distributed as dist

import model as M


def is_dtensor(x) -> bool:
    """Whether x is a DTensor (FSDP's sharded tensor). Only shard() makes one, after importing FSDP: until
    then nothing is one, and the demo does not pay torch.distributed.tensor's import (~1 s alone, ~3 s on a
    loaded machine, in every command that imports this file)."""
    tensor = sys.modules.get("torch.distributed.tensor")
    return tensor is not None and isinstance(x, tensor.DTensor)

# ---- one GPU: bf16 AdamW with stochastic rounding ----


def round_stochastic(x: torch.Tensor, generator=None) -> torch.Tensor:
    """fp32 -> bf16, rounding to one of the two neighbouring bf16 values with probabilities that make the
    result exact in expectation. bf16 is the top 16 bits of fp32: add uniform noise below them, then cut.
    (Bits are sign + magnitude, so for a negative x this rounds the magnitude, which is just as unbiased.
    Only finite values: train_step skips a step whose gradient is not finite.)"""
    bits = x.float().contiguous().view(torch.int32)
    noise = torch.randint(0, 1 << 16, x.shape, dtype=torch.int32, device=x.device, generator=generator)
    return ((bits + noise) & -65536).view(torch.float32).to(torch.bfloat16)  # exact: the low bits are 0


class AdamW(torch.optim.Optimizer):
    """torch.optim.AdamW's update (decoupled weight decay, bias-corrected moments), computed in fp32 and
    stored in the parameters' own dtype: fp32 parameters get exactly torch's AdamW; bf16 parameters keep
    bf16 moments, and weights and moments are rounded stochastically. The rounding noise of step t for
    parameter i comes from a generator seeded with (seed, t, i), so a resumed run repeats it exactly
    with no extra state to save. Large tensors are updated in chunks, to bound the fp32 temporaries."""

    CHUNK = 1 << 24  # elements per chunk: ~6 fp32 temporaries of 64 MiB each

    def __init__(self, params, lr=1e-6, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01, seed=0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))
        self.seed = seed

    @torch.no_grad()
    def step(self):
        i = -1
        for group in self.param_groups:
            lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            for p in group["params"]:
                i += 1
                if p.grad is None:
                    continue
                st = self.state[p]
                if not st:  # same keys as torch's AdamW, so checkpoints move between the two
                    st["step"] = torch.zeros((), dtype=torch.float32)
                    st["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    st["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                st["step"] += 1
                t = int(st["step"])
                g = torch.Generator(device=p.device).manual_seed(hash((self.seed, t, i)) % 2**63)
                bc1, bc2 = 1 - b1 ** t, 1 - b2 ** t
                flat = [x.view(-1) for x in (p, st["exp_avg"], st["exp_avg_sq"])] + [p.grad.reshape(-1)]
                for w, m, v, grad in zip(*(x.split(self.CHUNK) for x in flat)):
                    w32, g32, m32, v32 = w.float(), grad.float(), m.float(), v.float()
                    w32.mul_(1 - lr * wd)  # decoupled weight decay
                    m32.lerp_(g32, 1 - b1)  # m = β1 m + (1 - β1) g
                    v32.mul_(b2).addcmul_(g32, g32, value=1 - b2)  # v = β2 v + (1 - β2) g²
                    w32.addcdiv_(m32, (v32.sqrt() / math.sqrt(bc2)).add_(eps), value=-lr / bc1)
                    for dst, src in ((w, w32), (m, m32), (v, v32)):
                        dst.copy_(round_stochastic(src, g) if dst.dtype == torch.bfloat16 else src)


def optimizer(params, args):
    """AdamW with the paper's settings (METHOD.md §5). bf16 parameters (one GPU, full fine-tuning) get the
    stochastic-rounding AdamW above; fp32 ones (CPU, LoRA adapters, FSDP's fp32 masters) torch's."""
    params = [p for p in params if p.requires_grad]
    kw = dict(lr=args.lr, betas=(0.9, args.beta2), weight_decay=args.weight_decay)
    if any(p.dtype == torch.bfloat16 for p in params):
        if any(is_dtensor(p) for p in params):
            raise ValueError("optimizer: bf16 DTensor parameters; FSDP keeps fp32 masters (scale.shard)")
        return AdamW(params, seed=args.seed, **kw)
    return torch.optim.AdamW(params, **kw)


def rollout_rows(config, n: int, row_tokens: int, free_bytes: float, dtype=torch.bfloat16) -> tuple[int, float]:
    """How many rollouts (whole GRPO groups of n) may hold a KV cache at once in free_bytes (keeping 10%
    spare) if every row reached row_tokens: (rows, the worst-case bytes of one row). At least one group."""
    per_token = 2 * config.num_hidden_layers * config.num_key_value_heads * config.head_dim * dtype.itemsize  # K and V
    per_row = row_tokens * per_token
    return max(n, int(0.9 * free_bytes // per_row) // n * n), per_row


def kv_cache_budget(model, opt, dtype, device) -> float:
    """Bytes the rollouts' KV cache may take on this GPU (the least over ranks): free memory now, minus what
    the rollouts will find allocated that is not yet — AdamW's two moments (before the first step) and,
    under FSDP, the unsharded rollout copy of the weights in `dtype` (full_model)."""
    later = 0 if opt.state else sum(2 * (p.to_local() if is_dtensor(p) else p).nbytes
                                    for p in model.parameters() if p.requires_grad)
    if is_dtensor(model.lm_head.weight):
        later += sum(p.numel() for p in model.parameters()) * dtype.itemsize
    return all_reduce([torch.cuda.mem_get_info(device)[0] - later], device, "min")[0]  # the fullest GPU decides


# ---- several GPUs: FSDP2 under torchrun ----

def init_distributed(args) -> tuple[int, int]:
    """(rank, world size). torchrun sets WORLD_SIZE, RANK and LOCAL_RANK: one process per GPU over NCCL,
    or CPU processes over gloo (the tests)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return 0, 1
    if args.device.startswith("cuda"):
        args.device = f"cuda:{int(os.environ['LOCAL_RANK'])}"
        torch.cuda.set_device(args.device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if args.device.startswith("cuda") else "gloo")
    return dist.get_rank(), dist.get_world_size()


def all_reduce(values: list[float], device, op="sum") -> list[float]:
    """Python numbers summed (op "sum"), or their max or min, over ranks; float64, so token counts stay exact."""
    if not (dist.is_initialized() and dist.get_world_size() > 1):
        return [float(v) for v in values]
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t, op={"sum": dist.ReduceOp.SUM, "max": dist.ReduceOp.MAX, "min": dist.ReduceOp.MIN}[op])
    return t.tolist()


def total(value: float, device) -> float:
    """One Python number summed over ranks (B, Σ|A_i|): the whole batch's, whatever share a rank holds."""
    return all_reduce([value], device)[0]


def totals(values: list[float], device) -> list[float]:
    return all_reduce(values, device)


def same_count_on_every_rank(micro_batches: list[list[int]], device) -> list[list[int]]:
    """FSDP all-gathers and reduce-scatters inside every forward and backward, so every rank must run as
    many as the busiest: the others get empty micro-batches (train_step runs a padding row with all masks
    0, whose gradient is 0)."""
    most = int(all_reduce([len(micro_batches)], device, "max")[0])
    return micro_batches + [[] for _ in range(most - len(micro_batches))]


def clip_grad_norm(model, max_norm: float) -> float:
    """Clip the trainable parameters' gradient to max_norm; the norm before clipping (under FSDP the
    global one, not this rank's shard's)."""
    norm = torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], max_norm)
    return (norm.full_tensor() if is_dtensor(norm) else norm).item()


def any_rank(flag: bool, device) -> bool:
    """True on every rank if it is true on any (a Ctrl-C reaches the ranks at different moments)."""
    return all_reduce([float(flag)], device, "max")[0] > 0


def finish_distributed(world: int) -> None:
    if world > 1:
        dist.destroy_process_group()


def shard(model, compute_dtype):
    """FSDP2: each Block is one all-gather unit, the root (embedding, final norm, head) another.
    The parameters (the optimizer's master weights) stay fp32 and are all-gathered in compute_dtype;
    gradients are reduced in fp32."""
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import FSDPModule, MixedPrecisionPolicy, fully_shard, register_fsdp_forward_method
    mesh = init_device_mesh(model.lm_head.weight.device.type, (dist.get_world_size(),))
    mp = MixedPrecisionPolicy(param_dtype=compute_dtype, reduce_dtype=torch.float32)
    for block in model.model.layers:
        fully_shard(block, mesh=mesh, mp_policy=mp)
    fully_shard(model, mesh=mesh, mp_policy=mp)
    register_fsdp_forward_method(model, "hidden")  # token_logp calls model.hidden(), not model()
    for m in model.modules():
        if isinstance(m, FSDPModule):
            # FSDP averages gradients over ranks by default; echo_loss already divides by the global B
            # (or Σ|A_i|), so the ranks' gradients must be SUMMED: divide by 1, with a plain SUM collective.
            m.set_gradient_divide_factor(1.0)
            m.set_force_sum_reduction_for_comms(True)
    return model


def plain_copy(model, state: dict):
    """A plain Qwen3 with model's config (and its LoRA adapters, if any) holding `state`, whole tensors."""
    with torch.device("meta"):
        copy = M.Qwen3(model.config)
    lora = next((m for m in model.modules() if getattr(m, "lora_scale", 0.0)), None)
    if lora is not None:  # add_lora gives every projection the same α/r
        M.add_lora(copy, lora.lora_A.shape[0], lora.lora_scale * lora.lora_A.shape[0])
    copy.load_state_dict(state, strict=False, assign=True)
    if model.config.tie_word_embeddings:  # named_parameters lists the tied head once
        copy.lm_head.weight = copy.model.embed_tokens.weight
    missing = [n for n, p in copy.named_parameters() if p.is_meta]
    if missing:
        raise RuntimeError(f"plain_copy: no tensor for {missing[:3]} ({len(missing)} missing)")
    return copy.eval()


def full_model(model, dtype):
    """For rollouts: an unsharded copy of a sharded model on every rank, weights in `dtype` (LoRA adapters
    stay fp32; their forward casts). A sharded forward all-gathers collectively and ranks decode different
    numbers of tokens, so decoding needs whole weights; each parameter's full_tensor() is one all-gather
    (every rank calls this). Costs one copy of the weights per GPU while it lives (16 GB for 8B in bf16)."""
    if not is_dtensor(model.lm_head.weight):
        return model
    return plain_copy(model, {n: p.full_tensor().detach().to(torch.float32 if ".lora_" in n else dtype)
                              for n, p in model.named_parameters()})


def optimizer_state(model, opt, state=None):
    """The optimizer state keyed by parameter name, gathered whole (works sharded and unsharded, so a
    checkpoint resumes on any number of GPUs); with `state`, load it instead."""
    from torch.distributed.checkpoint.state_dict import (StateDictOptions, get_optimizer_state_dict,
                                                         set_optimizer_state_dict)
    if state is not None:
        return set_optimizer_state_dict(model, opt, state, options=StateDictOptions(full_state_dict=True))
    return get_optimizer_state_dict(model, opt, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
