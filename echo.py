"""ECHO: the objective (top of this file) and the training loop (below it).

Equation numbers refer to METHOD.md §2. Every tensor is [B, T] per token or [B] per rollout, where
logp[i, t] = log p(x_t | x_<t) is aligned with token t, and the masks pick out each token's role (§1).
"""
import torch
from torch import Tensor

# ---- the objective ----


def grpo_advantages(rewards: Tensor, group_size: int) -> Tensor:
    """Â_i per rollout (Eq. 2a). Groups are consecutive blocks of `group_size` rollouts of one task."""
    B = rewards.shape[0]
    if group_size < 1 or B % group_size:
        raise ValueError(f"grpo_advantages: {B} rewards do not split into groups of {group_size}; "
                         f"order rollouts task by task, group_size rollouts each")
    r = rewards.float().view(-1, group_size)  # (tasks, n)
    if group_size == 1:  # Eq. 2a: a group of 1 has mean 0, std 1, so Â = r / (1 + 1e-6)
        mean, std = torch.zeros_like(r), torch.ones_like(r)
    else:
        mean, std = r.mean(1, keepdim=True), r.std(1, keepdim=True)  # std unbiased (n−1), Eq. 2a
    return ((r - mean) / (std + 1e-6)).view(B)  # Eq. 2a


def echo_loss(logp, old_logp, action_mask, env_mask, n_obs, advantages, lam,
              eps_low=0.2, eps_high=0.2, pg_norm="seq", warning_mask=None,
              n_rollouts=None, n_action_tokens=None) -> tuple[Tensor, dict]:
    """L_ECHO = L_GRPO + λ·L_Env (Eq. 1) for B rollouts; returns (loss, stats).

    logp [B,T] under θ (with grad); old_logp [B,T] under θ_old (detached here); action_mask (A),
    env_mask (O′), warning_mask [B,T] in {0,1}; n_obs [B] = |O_i| = warning + env tokens; advantages [B]
    = Â, or None for env-only mode (no GRPO term: L = λ·L_Env, so pass lam=1.0 to train L_Env itself).
    Masked-out positions must hold finite log-probs (0 is fine).

    Micro-batches: the batch normalisers are GLOBAL. Pass n_rollouts = B of the whole optimizer batch
    (default: this call's B) and, for pg_norm="token", n_action_tokens = Σ_i |A_i| over the whole batch
    (default: this call's); then summing echo_loss over micro-batches gives the whole-batch loss and
    gradient exactly. |A_i| and |O_i| are per rollout and need nothing global. Under several GPUs, pass
    the all-reduced values the same way.

    stats (python floats): loss / grpo_loss / env_loss are this call's share (they sum over
    micro-batches); env_ce, warning_ce (nats per token, nan if none) and clip_frac are means over this
    call's tokens, with n_action_tokens / n_env_tokens / n_warning_tokens to weight them when combining.
    """
    A, E = action_mask.to(logp.dtype), env_mask.to(logp.dtype)
    n_rollouts = logp.shape[0] if n_rollouts is None else n_rollouts
    n_A = A.sum(1)  # |A_i|
    clip_frac = 0.0
    if advantages is None:  # env-only mode (§3): no GRPO term, no reward needed
        grpo = logp.new_zeros(())
    else:
        adv = advantages.to(logp.dtype).unsqueeze(1)  # Â_i broadcast over tokens, (B, 1)
        ratio = torch.exp(logp - old_logp.detach())  # ρ_t, Eq. 2b
        clipped = torch.clamp(ratio, 1 - eps_low, 1 + eps_high)
        ell = -torch.min(ratio * adv, clipped * adv) * A  # ℓ_t on action tokens, Eq. 2b
        if pg_norm == "seq":  # released code: per-rollout mean, then mean over B (Eq. 2)
            grpo = (ell.sum(1) / n_A.clamp(min=1)).sum() / n_rollouts  # |A_i| = 0 contributes 0
        elif pg_norm == "token":  # paper's printed Eq. 2: one mean over all action tokens
            n_tok = n_A.sum() if n_action_tokens is None else n_action_tokens
            grpo = ell.sum() / max(float(n_tok), 1.0)
        else:
            raise ValueError(f"echo_loss: pg_norm={pg_norm!r}; use 'seq' (released code) or 'token' (paper)")
        # PPO clip fraction: action tokens where the clipped term is the one min() picks and it differs
        active = ((ratio > 1 + eps_high) & (adv > 0)) | ((ratio < 1 - eps_low) & (adv < 0))
        clip_frac = ((active * A).sum() / n_A.sum().clamp(min=1)).item()
    nll = -logp
    env = ((nll * E).sum(1) / (n_obs.to(logp.dtype) + 1e-3)).sum() / n_rollouts  # L_Env, Eq. 3
    loss = grpo + lam * env  # Eq. 1

    def ce(mask):  # mean −log p per token over this mask's tokens only
        n = mask.sum().item()
        return ((nll.detach() * mask).sum().item() / n if n else float("nan")), n

    env_ce, n_env = ce(E)
    warning_ce, n_warn = ce(warning_mask.to(logp.dtype)) if warning_mask is not None else (float("nan"), 0.0)
    stats = dict(loss=loss.item(), grpo_loss=grpo.item(), env_loss=env.item(), env_ce=env_ce,
                 warning_ce=warning_ce, clip_frac=clip_frac, n_action_tokens=n_A.sum().item(),
                 n_env_tokens=n_env, n_warning_tokens=n_warn)
    return loss, stats


def sft_loss(logp: Tensor, action_mask: Tensor, n_rollouts=None) -> tuple[Tensor, dict]:
    """Expert SFT (§3): −log p on the action tokens of demonstrations, averaged per rollout, then
    summed / n_rollouts — the same sequence-mean shape as Eq. 2 (seq), with the same global-B rule for
    micro-batches. A rollout with no action tokens contributes 0."""
    A = action_mask.to(logp.dtype)
    n_rollouts = logp.shape[0] if n_rollouts is None else n_rollouts
    n_A = A.sum(1)
    loss = ((-logp * A).sum(1) / n_A.clamp(min=1)).sum() / n_rollouts
    n = n_A.sum().item()
    nll = (-logp.detach() * A).sum().item() / n if n else float("nan")
    return loss, dict(loss=loss.item(), action_ce=nll, n_action_tokens=n)


def lam_schedule(step: int, total_steps: int, lam: float, kind="constant", gamma=0.5, every=100) -> float:
    """λ at optimizer `step` (§2): constant (default); linear decay from λ to 0 at total_steps;
    step decay λ·gamma^(step // every), e.g. halve every 100 steps (gamma=0 drops to 0 after `every`)."""
    if kind == "constant":
        return lam
    if kind == "linear":
        return lam * max(0.0, 1.0 - step / total_steps)
    if kind == "step":
        return lam * gamma ** (step // every)
    raise ValueError(f"lam_schedule: kind={kind!r}; use 'constant', 'linear' or 'step'")


# ---- the training loop (below) ----
import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import torch.distributed as dist  # noqa: E402
from torch.distributed.tensor import DTensor  # noqa: E402

import model as M  # noqa: E402
import rollout as R  # noqa: E402
import harbor  # noqa: E402
from scale import (all_reduce, full_model, init_distributed, kv_cache_budget, optimizer,  # noqa: E402
                   optimizer_state, plain_copy, rollout_rows, shard)

# METHOD.md §5 (released config for Qwen3-8B) and §4 limits; the demo shrinks them to minutes on a laptop CPU.
PAPER = dict(steps=500, tasks_per_step=16, n=16, lr=1e-6, warmup=20, max_turns=16, max_turn_tokens=2048,
             checkpointing=True)  # (checkpointing: what lets Qwen3-8B train on one GPU; README "Scale")
DEMO = dict(steps=6, tasks_per_step=4, n=4, lr=2e-4, warmup=0, max_turns=4, max_turn_tokens=160, checkpointing=False)
# The demo's starting point: the shipped tiny agent (README "The paper in miniature"; compare.py build-agent).
TINY_AGENT = Path(__file__).resolve().parent / "agent" / "tiny"


# per-token statistics of echo_loss / sft_loss and the token counts that weight them across micro-batches
MEANS = {"env_ce": "n_env_tokens", "warning_ce": "n_warning_tokens", "clip_frac": "n_action_tokens",
         "action_ce": "n_action_tokens"}


def batch_tensors(episodes, pad_id, device):
    """Right-padded ids [B, T] and the per-target masks [B, T-1]: position t predicts token t+1."""
    T = max(len(e.ids) for e in episodes)
    ids = torch.tensor([e.ids + [pad_id] * (T - len(e.ids)) for e in episodes], device=device)
    A, E, W = (torch.tensor([m[1:] + [0] * (T - len(m)) for m in ms], device=device, dtype=torch.float32)
               for ms in zip(*(R.masks(e) for e in episodes)))
    n_obs = torch.tensor([float(e.n_obs) for e in episodes], device=device)
    return ids, A, E, W, n_obs


def token_logp(model, ids, select, temperature):
    """log p_θ(x_t | x_<t) / T_train at the selected targets, 0 elsewhere: one forward pass, and logits
    only where a loss term needs them, through the fused kernel (METHOD.md §2)."""
    hidden = model.hidden(ids[:, :-1])  # (b, T-1, H)
    logp = torch.zeros(select.shape, device=ids.device)
    logp[select] = M.token_logprobs(hidden[select], model.lm_head.weight, ids[:, 1:][select], temperature)
    return logp


def micro_batches(lengths, max_tokens):
    """Consecutive rows packed so that rows x longest row stays within max_tokens (at least one row)."""
    out, cur, longest = [], [], 0
    for i, n in enumerate(lengths):
        if cur and (len(cur) + 1) * max(longest, n) > max_tokens:
            out.append(cur)
            cur, longest = [], 0
        cur.append(i)
        longest = max(longest, n)
    return out + [cur]


def train_step(model, opt, episodes, args, lam):
    """One optimizer step on all B rollouts (METHOD.md §2): micro-batch gradients sum to the full batch's.
    Under torchrun, `episodes` are this rank's share (whole GRPO groups) and B, Σ|A_i| and the gradient
    are summed over ranks, so N ranks make the same update as one process on the whole batch."""
    dev = model.lm_head.weight.device
    B = int(all_reduce([len(episodes)], dev)[0])  # B = every rollout of the step, on all ranks (METHOD.md §2)
    if args.sft:
        adv = None
    elif args.env_only:  # METHOD.md §3 filters: a filtered rollout keeps its place in B with a zero env mask
        adv = None
        for e in episodes:
            turns = max(e.turns, 1)
            e.filtered = e.valid_turns / turns < args.min_valid_frac or e.clean_turns / turns < args.min_clean_frac
    else:
        rewards = torch.tensor([e.reward for e in episodes])  # (a rank may hold none: tasks < GPUs)
        adv = (grpo_advantages(rewards, args.n) if episodes else rewards).to(dev)  # Eq. 2a
    n_act = all_reduce([sum(sum(R.masks(e)[0]) for e in episodes)], dev)[0]  # Σ_i |A_i| of the whole batch (token)
    opt.zero_grad(set_to_none=True)
    totals = {}
    mbs = micro_batches([len(e.ids) for e in episodes], args.micro_batch_tokens)
    # FSDP all-gathers and reduce-scatters inside every forward and backward, so every rank must run as
    # many as the busiest: the others run empty micro-batches (one padding row, all masks 0, gradient 0).
    mbs += [[] for _ in range(int(all_reduce([len(mbs)], dev, "max")[0]) - len(mbs))]
    for mb in mbs:
        rows = [episodes[i] for i in mb] or [R.Episode("padding", 0, [], [args.pad_id] * 2, [R.CONTEXT] * 2)]
        ids, A, E, W, n_obs = batch_tensors(rows, args.pad_id, dev)
        logp = token_logp(model, ids, (A + E + W) > 0, args.temperature)  # logits / T_train (METHOD.md §2)
        if args.sft:  # expert SFT (METHOD.md §3): cross-entropy on the demonstrations' action tokens
            loss, st = sft_loss(logp, A, n_rollouts=B)
        else:  # θ_old = θ: one optimizer step per rollout batch, so ρ = 1 in value (METHOD.md §2, Eq. 2b)
            a = None if adv is None else adv[mb] if mb else adv.new_zeros(1)
            loss, st = echo_loss(logp, logp.detach(), A, E, n_obs, a, lam,
                                 args.eps_low, args.eps_high, args.pg_norm, W, n_rollouts=B, n_action_tokens=n_act)
        loss.backward()
        for k, v in st.items():  # losses are shares: they sum; per-token means are re-weighted by counts
            n = st.get(MEANS.get(k), 1.0)
            totals[k] = totals.get(k, 0.0) + (v * n if n else 0.0)
    totals = dict(zip(sorted(totals), all_reduce([totals[k] for k in sorted(totals)], dev)))  # shares sum over ranks
    for k, n in MEANS.items():
        if k in totals:
            totals[k] = totals[k] / totals[n] if totals[n] else float("nan")
    gnorm = torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], args.grad_clip)
    gnorm = (gnorm.full_tensor() if isinstance(gnorm, DTensor) else gnorm).item()  # FSDP: the global norm
    if not (math.isfinite(totals["loss"]) and math.isfinite(gnorm)):  # guard: never corrupt the weights
        opt.zero_grad(set_to_none=True)
        return dict(totals, grad_norm=gnorm, skipped=f"non-finite {'loss' if not math.isfinite(totals['loss']) else 'gradient'}")
    opt.step()
    opt.zero_grad(set_to_none=True)  # free the gradients now: the next rollouts need the memory (16 GB for 8B)
    return dict(totals, grad_norm=gnorm, skipped="")


# ---- checkpoints: the HF layout plus the trainer's state, written atomically ----

def save_checkpoint(out: Path, step, model, tok, opt, sched, args):
    """Under torchrun every rank calls this (the gathers are collectives) and rank 0 writes."""
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict
    full, opt_state = model, optimizer_state(model, opt)
    if isinstance(model.lm_head.weight, DTensor):  # gathered one tensor at a time onto rank 0's CPU (fp32 masters)
        state = get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
        if dist.get_rank() != 0:
            return
        full = plain_copy(model, state)
    lora = {n: p.detach().cpu() for n, p in full.named_parameters() if ".lora_" in n}
    final, tmp = out / f"step-{step}", out / f".tmp-step-{step}"
    shutil.rmtree(tmp, ignore_errors=True)
    M.save(full, tok, tmp)  # LoRA merged: a plain Qwen3 checkpoint
    torch.save({"step": step, "optimizer": opt_state, "scheduler": sched.state_dict(), "lora": lora}, tmp / "trainer.pt")
    (tmp / "args.json").write_text(json.dumps(vars(args), indent=1))
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)  # a kill before this line leaves the previous checkpoint as the latest
    (out / "latest.tmp").write_text(final.name)
    os.replace(out / "latest.tmp", out / "latest")


def resume_dir(path) -> Path:
    path = Path(path)
    if (path / "latest").exists():
        path = path / (path / "latest").read_text().strip()
    if not (path / "trainer.pt").exists():
        raise FileNotFoundError(f"--resume {path}: no trainer.pt (want a run directory or one of its step-N checkpoints)")
    return path


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="GRPO + ECHO training of a Qwen3 terminal agent (METHOD.md). "
                                "With no --model: the CPU demo (the shipped tiny agent, tasks/train).")
    a = p.add_argument
    a("--model", help="hub id or local checkpoint directory (default: the shipped tiny agent, agent/tiny)")
    a("--tasks", default="tasks/train", help="directory of Harbor-layout tasks")
    a("--images", metavar="DIR", help="local image store: DIR/<name>/ or DIR/<name>.tar per FROM image "
      "(see images.py); default $ECHO_IMAGES")
    a("--no-internet", action="store_true", help="no network in episodes, even for tasks that allow it")
    a("--out", default="runs/echo", help="run directory: metrics.jsonl, checkpoints")
    a("--steps", type=int, help=f"optimizer steps (paper {PAPER['steps']}, demo {DEMO['steps']})")
    a("--tasks-per-step", type=int, help="tasks per step (paper 16)")
    a("--n", "--group-size", type=int, dest="n", help="rollouts per task = GRPO group size (paper 16); "
      "under torchrun write --group-size (torchrun takes --n for an abbreviation of its own options)")
    a("--lam", type=float, help="λ of Eq. 1 (default 0.05; 0 = GRPO baseline; 1.0 with --env-only)")
    a("--lam-schedule", default="constant", choices=["constant", "linear", "step"])
    a("--lam-every", type=int, default=100, help="step schedule: multiply λ by --lam-gamma every this many steps")
    a("--lam-gamma", type=float, default=0.5)
    a("--env-only", action="store_true", help="verifier-free: L_Env only (METHOD.md §3)")
    a("--min-valid-frac", type=float, default=0.0, help="env-only filter: min fraction of turns with a valid tool call (paper 1.0)")
    a("--min-clean-frac", type=float, default=0.0, help="env-only filter: min fraction of format-clean turns (paper 1.0)")
    a("--sft", metavar="FILE", help="expert SFT on the action tokens of these demonstration episodes (JSONL)")
    a("--lr", type=float, help="AdamW learning rate (paper 1e-6)")
    a("--beta2", type=float, default=0.999, help="AdamW β2 (paper appendix variant: 0.95)")
    a("--weight-decay", type=float, default=0.01)
    a("--grad-clip", type=float, default=0.2)
    a("--warmup", type=int, help="linear warm-up steps, then constant (paper 20; 0 = none)")
    a("--eps-low", type=float, default=0.2)
    a("--eps-high", type=float, default=0.2, help="clip ε_high (paper appendix variant: 0.28)")
    a("--pg-norm", default="seq", choices=["seq", "token"], help="seq: released code; token: paper's printed Eq. 2")
    a("--temperature", type=float, default=0.8, help="sampling temperature = T_train of the log-probs")
    a("--top-p", type=float, default=1.0)
    a("--top-k", type=int, default=0)
    a("--max-turns", type=int, help="turns per episode (paper 16)")
    a("--max-turn-tokens", type=int, help="generated tokens per turn (paper 2048)")
    a("--max-context", type=int, default=16_384)
    a("--max-total", type=int, default=34_096)
    a("--command-timeout", type=float, default=30.0)
    a("--episode-timeout", type=float, default=600.0)
    a("--max-output-chars", type=int, default=50_000)
    a("--rollout-rows", type=int, help="rollouts decoding at once per GPU, admitted as whole groups (default: all "
      "of them on CPU; on a GPU as many as the free memory holds at the longest possible rollout)")
    a("--micro-batch-tokens", type=int, default=32_768, help="padded tokens per forward/backward micro-batch")
    a("--checkpointing", action=argparse.BooleanOptionalAction,
      help="activation checkpointing per block (default: on with --model, off for the demo)")
    a("--lora-rank", type=int, default=0, help="train LoRA adapters of this rank on q,k,v,o,gate,up,down only "
      "(0 = full fine-tuning); checkpoints hold the merged weights")
    a("--lora-alpha", type=float, default=32.0, help="LoRA scale α (the adapter is multiplied by α/r)")
    a("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    a("--dtype", choices=["float32", "bfloat16"], help="default bfloat16 on GPU, float32 on CPU")
    a("--save-every", type=int, default=50, help="checkpoint every this many steps (and at the end)")
    a("--save-episodes", action="store_true", help="append every rollout to OUT/episodes.jsonl")
    a("--resume", metavar="DIR", help="continue a run from DIR (its latest checkpoint) or DIR/step-N")
    a("--seed", type=int, default=0)
    a("--stop-after", type=int, help="stop after this step (as if interrupted); the schedules still use --steps")
    args = p.parse_args(argv)
    given = {t.split("=")[0] for t in (sys.argv[1:] if argv is None else argv) if t.startswith("-")}
    explicit = {a.dest for a in p._actions if given & set(a.option_strings)}
    if args.resume:  # a resumed run continues with its own settings, except the flags given now
        saved = json.loads((resume_dir(args.resume) / "args.json").read_text())
        for k, v in saved.items():
            if k not in explicit | {"resume", "stop_after"}:
                setattr(args, k, v)
    for k, v in (DEMO if args.model is None else PAPER).items():  # unset: the paper's values (or the demo's)
        if getattr(args, k) is None:
            setattr(args, k, v)
    if args.lam is None:
        args.lam = 1.0 if args.env_only else 0.05
    if args.rollout_rows is not None and args.rollout_rows < args.n:
        p.error(f"--rollout-rows {args.rollout_rows} < --n {args.n}: a group's rollouts start together")
    args.dtype = args.dtype or ("bfloat16" if args.device.startswith("cuda") else "float32")
    return args


def rollout_metrics(batch, n, device) -> tuple[dict, float]:
    """The step's rollout metrics over every rank's rollouts (each rank holds whole groups of n), and the
    total token count."""
    groups = [batch[g:g + n] for g in range(0, len(batch), n)]
    B, reward, passed, n_groups, n_obs, timeouts, cmd_timeouts, turns, clean, tokens = all_reduce([
        len(batch), sum(e.reward for e in batch), sum(max(e.reward for e in g) > 0 for g in groups), len(groups),
        sum(e.n_obs for e in batch), sum(e.timed_out for e in batch), sum(e.command_timeouts for e in batch),
        sum(e.turns for e in batch), sum(e.clean_turns for e in batch), sum(len(e.ids) for e in batch)], device)
    return dict(reward_mean=reward / B, pass_rate=passed / n_groups, n_obs_tokens=int(n_obs),
                episode_timeouts=int(timeouts), command_timeouts=int(cmd_timeouts),
                format_error_rate=1 - clean / turns if turns else 0.0), tokens


def main(argv=None):
    args = parse_args(argv)
    rank, world = init_distributed(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tasks = harbor.load_tasks(args.tasks)      # a bad task is reported in one line; the others load
    harbor.IMAGES, harbor.INTERNET = (Path(args.images) if args.images else None), not args.no_internet
    # One process: the weights are in --dtype. Several (FSDP): fp32 master shards, computed in --dtype (shard()).
    dtype = torch.float32 if world > 1 else getattr(torch, args.dtype)
    start, state = 0, None
    if args.resume:
        ck = resume_dir(args.resume)
        # mmap: the ranks share one copy of the file in the page cache instead of loading it N times
        state = torch.load(ck / "trainer.pt", map_location="cpu", weights_only=False, mmap=True)
        start = state["step"]
    if args.resume and not args.lora_rank:
        model, tok = M.load(ck, args.device, dtype)
    elif args.model:  # with LoRA a resumed run rebuilds the base model and loads its adapters
        model, tok = M.load(args.model, args.device, dtype)
    else:
        model, tok = M.load(TINY_AGENT, args.device, dtype)
        if rank == 0:
            print(f"demo: the shipped tiny agent {TINY_AGENT} ({sum(p.numel() for p in model.parameters()):,} "
                  f"parameters, vocab {tok.vocab_size}) on {len(tasks)} tasks from {args.tasks}")
    if args.lora_rank:
        M.add_lora(model, args.lora_rank, args.lora_alpha, seed=args.seed)
        if state:
            model.load_state_dict(state["lora"], strict=False)
    args.pad_id = tok.pad_id
    model.checkpointing = args.checkpointing
    if world > 1:
        shard(model, getattr(torch, args.dtype))
    dev = model.lm_head.weight.device
    opt = optimizer(model.parameters(), args)  # bf16 weights: AdamW with stochastic rounding (scale.py)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / args.warmup) if args.warmup else 1.0)
    if state:
        optimizer_state(model, opt, state["optimizer"]), sched.load_state_dict(state["scheduler"])
    demos = [R.tokenize_messages(tok, json.loads(line)["messages"]) for line in open(args.sft)] if args.sft else None
    if args.rollout_rows is None and dev.type == "cuda" and not demos:  # fit the KV cache to the free memory
        free = kv_cache_budget(model, opt, getattr(torch, args.dtype), dev)
        row_tokens = args.max_context + args.max_turn_tokens  # the longest a rollout's cache gets (rollout.py)
        args.rollout_rows, per_row = rollout_rows(model.config, args.n, row_tokens, free, getattr(torch, args.dtype))
        if rank == 0:
            print(f"rollouts: {args.rollout_rows} at a time per GPU ({free / 2**30:.0f} GiB free for the KV cache, "
                  f"{per_row / 2**30:.2f} GiB per rollout at {row_tokens} tokens; --rollout-rows to choose)"
                  + (" - warning: one group may not fit" if free < args.n * per_row else ""), flush=True)
    limits = R.Limits(args.max_turns, args.max_turn_tokens, args.max_context, args.max_total,
                      args.command_timeout, args.episode_timeout, args.max_output_chars)
    for step in range(start, min(args.steps, args.stop_after or args.steps)):
        # every random choice of a step derives from (seed, step), so a resumed run repeats it exactly
        rng = random.Random(f"{args.seed}-{step}")
        t0 = time.monotonic()
        if demos:
            batch = [R.Episode("demo", 0, [], *demos[i]) for i in rng.sample(range(len(demos)), min(len(demos), args.tasks_per_step * args.n))]
            batch = batch[rank::world]
        else:
            jobs = [(t, rng.randrange(2**31)) for t in rng.sample(tasks, min(len(tasks), args.tasks_per_step))]
            jobs = jobs[rank::world]  # each rank runs whole GRPO groups, so Â stays per group (Eq. 2a)
            gen = full_model(model, getattr(torch, args.dtype)).eval()  # FSDP: an unsharded copy to decode with
            batch = R.run_episodes(gen, tok, jobs, args.n, limits, args.temperature, args.top_p, args.top_k,
                                   seed=(args.seed * 1_000_003 + step) * world + rank, max_rows=args.rollout_rows) if jobs else []
            del gen
        t1 = time.monotonic()
        lam = lam_schedule(step, args.steps, args.lam, args.lam_schedule, args.lam_gamma, args.lam_every)
        model.train()
        st = train_step(model, opt, batch, args, lam)
        sched.step()
        t2 = time.monotonic()
        roll, tokens = rollout_metrics(batch, args.n, dev)
        rec = dict(step=step + 1, lam=lam, lr=sched.get_last_lr()[0], **st, **roll,
                   tokens_per_s=tokens / (t2 - t1), rollout_s=t1 - t0, train_s=t2 - t1)
        if args.save_episodes and not demos:  # one file per rank
            R.save_episodes(out / ("episodes.jsonl" if world == 1 else f"episodes-rank{rank}.jsonl"), batch)
        if rank == 0:
            with open(out / "metrics.jsonl", "a") as f:
                f.write(json.dumps(rec) + "\n")
            print(f"step {step + 1}/{args.steps} | reward {rec['reward_mean']:.3f} pass {rec['pass_rate']:.2f} | "
                  f"loss {st['loss']:.4f} grpo {st.get('grpo_loss', 0):.4f} env {st.get('env_loss', 0):.4f} | "
                  f"env-ce {st.get('env_ce', float('nan')):.3f} warn-ce {st.get('warning_ce', float('nan')):.3f} | "
                  f"|A| {st['n_action_tokens']:.0f} |O| {rec['n_obs_tokens']} | fmt-err {rec['format_error_rate']:.2f} | "
                  f"{rec['tokens_per_s']:.0f} tok/s | rollout {t1 - t0:.1f}s train {t2 - t1:.1f}s"
                  + (f" | SKIPPED: {st['skipped']}" if st["skipped"] else ""), flush=True)
        if (step + 1) % args.save_every == 0 or step + 1 == args.steps:
            save_checkpoint(out, step + 1, model, tok, opt, sched, args)
    if world > 1:
        dist.destroy_process_group()


if __name__ == "__main__":
    sys.exit(main())
