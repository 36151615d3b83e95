"""ECHO: the objective (top of this file), one optimizer step, and the training loop (below it).

Equation numbers refer to METHOD.md §2. Every tensor is [B, T] per token or [B] per rollout, where
logp[i, t] = log p(x_t | x_<t) is aligned with token t, and the masks pick out each token's role (§1).
Where the released code and the printed paper differ, the code is the default (METHOD.md, last table):
sequence-mean aggregation of L_GRPO (`--pg-norm token` for the printed Eq. 2), ε_high = 0.2, β2 = 0.999
and 20 warm-up steps. Everything only real scale needs (several GPUs, bf16 on one) is in scale.py, and
the run around the loop (flags, resume, checkpoints) in runs.py: read this file as single-process code.
"""
import json
import math
import random
import sys
import time
from functools import partial
from pathlib import Path

import torch
from torch import Tensor

import harbor
import model as M
import rollout as R
import sandbox
import scale
from errors import EchoError, guard, read_jsonl
from runs import (STOP_AFTER_FAILED_STEPS, Progress, first_setup_error, fit_rollout_rows, parse_args,
                  rollout_limits, rollout_metrics, run_directory, save_checkpoint, start, step_line)

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


def sampler_gap(logp_train: Tensor, logp_sample: Tensor, mask: Tensor) -> dict:
    """How far the training forward's log-probs at θ_old = θ are from the sampler's on the masked tokens
    (README "Sampler-trainer gap"). With Δ = log p_sample − log p_train per token: the mean and max |Δ|, and
    KL(sampler ‖ trainer) by the k3 estimator, the mean of r − 1 − log r with r = p_train / p_sample = e^−Δ
    (each term ≥ 0; unbiased on tokens the sampler drew, i.e. without top-p / top-k). All 0 when the two
    agree exactly; nan (no tokens) when nothing sampled is in the mask."""
    d = (logp_sample - logp_train)[mask > 0].double()
    if not d.numel():
        return dict(logp_gap_abs=float("nan"), logp_gap_max=float("nan"), logp_gap_kl=float("nan"),
                    n_gap_tokens=0)
    return dict(logp_gap_abs=d.abs().mean().item(), logp_gap_max=d.abs().max().item(),
                logp_gap_kl=(torch.expm1(-d) + d).mean().item(), n_gap_tokens=d.numel())


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


# ---- batching: rollouts to tensors ----

# per-token statistics of echo_loss / sft_loss and the token counts that weight them across micro-batches
MEANS = {"env_ce_ttrain": "n_env_tokens", "env_ce_t1": "n_env_tokens", "warning_ce": "n_warning_tokens",
         "clip_frac": "n_action_tokens", "action_ce": "n_action_tokens", "token_ce": "n_tokens",
         "logp_gap_abs": "n_gap_tokens", "logp_gap_kl": "n_gap_tokens"}
MAXES = {"logp_gap_max": "n_gap_tokens"}  # maxima over micro-batches and ranks, and the count they need


def batch_tensors(episodes, pad_id, device):
    """Right-padded ids [B, T] and the per-target masks [B, T-1]: position t predicts token t+1."""
    T = max(len(e.ids) for e in episodes)
    ids = torch.tensor([e.ids + [pad_id] * (T - len(e.ids)) for e in episodes], device=device)
    A, E, W = (torch.tensor([m[1:] + [0] * (T - len(m)) for m in ms], device=device, dtype=torch.float32)
               for ms in zip(*(R.masks(e) for e in episodes)))
    n_obs = torch.tensor([float(e.n_obs) for e in episodes], device=device)
    return ids, A, E, W, n_obs


def sample_logprobs(episodes, T: int, device) -> tuple[Tensor, Tensor]:
    """[B, T-1] aligned like the masks: each ACTION target's log-prob recorded when it was sampled
    (Episode.sample_logprobs), else 0; and [B, 1]: 1 for the rows that recorded them all (not a
    demonstration or an episode file that predates the record)."""
    rows, has = [], []
    for e in episodes:
        row = [0.0] * T
        actions = [i for i, r in enumerate(e.roles) if r == R.ACTION]
        has.append([float(bool(actions) and len(e.sample_logprobs) == len(actions))])
        if has[-1][0]:
            for i, lp in zip(actions, e.sample_logprobs):
                row[i] = lp
        rows.append(row[1:])
    return torch.tensor(rows, device=device), torch.tensor(has, device=device)


def token_logp(model, ids, select, temperature, plain=None):
    """log p_θ(x_t | x_<t) / T_train at the selected targets, 0 elsewhere: one forward pass, and logits
    only where a loss term needs them, through the fused kernel (METHOD.md §2). With a `plain` mask, also
    (no gradient) the log-probs at T = 1 there, the temperature eval.py scores env CE at (METHOD.md §6)."""
    hidden = model.hidden(ids[:, :-1])  # (b, T-1, H)
    targets, w = ids[:, 1:], model.lm_head.weight
    logp = torch.zeros(select.shape, device=ids.device)
    logp[select] = M.token_logprobs(hidden[select], w, targets[select], temperature)
    if plain is None:
        return logp
    with torch.no_grad():  # a second pass through the head on these tokens only: no gradient, no graph
        logp1 = torch.zeros(select.shape, device=ids.device)
        logp1[plain] = M.token_logprobs(hidden[plain], w, targets[plain], 1.0)
    return logp, logp1


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


# ---- one optimizer step ----

def advantages(episodes, args, device):
    """Â per rollout (Eq. 2a), or None when there is no GRPO term: SFT, or env-only (METHOD.md §3), whose
    filters zero a rollout's env mask while it keeps its place in B."""
    if args.sft:
        return None
    if args.env_only:
        for e in episodes:
            turns = max(e.turns, 1)
            e.filtered = (e.valid_turns / turns < args.min_valid_frac
                          or e.clean_turns / turns < args.min_clean_frac)
        return None
    rewards = torch.tensor([e.reward for e in episodes])
    return grpo_advantages(rewards, args.n).to(device) if episodes else None  # Eq. 2a


def train_step(model, opt, episodes, args, lam):
    """One optimizer step on all B rollouts (METHOD.md §2): the micro-batches' gradients sum to the whole
    batch's, because B and Σ|A_i| are the whole batch's. (Under torchrun `episodes` is this rank's share,
    whole GRPO groups, and scale.py sums B, Σ|A_i|, gradients and stats over ranks.)"""
    dev = model.lm_head.weight.device
    B = scale.total(len(episodes), dev)                                  # every rollout of the step
    n_action = scale.total(sum(sum(R.masks(e)[0]) for e in episodes), dev)  # Σ_i |A_i| (--pg-norm token)
    adv = advantages(episodes, args, dev)
    opt.zero_grad(set_to_none=True)
    sums = {}
    for mb in scale.same_count_on_every_rank(micro_batches([len(e.ids) for e in episodes],
                                                           args.micro_batch_tokens), dev):
        # an empty micro-batch runs a padding row, two context tokens: it takes part in FSDP's collectives
        # and adds nothing to any loss
        rows = [episodes[i] for i in mb] or [R.Episode("padding", 0, [], [args.pad_id] * 2, [R.CONTEXT] * 2)]
        ids, A, E, W, n_obs = batch_tensors(rows, args.pad_id, dev)
        if args.sft and args.sft_tokens == "action":
            # expert SFT (§3): plain cross-entropy (T = 1) on the demonstrations' action tokens
            loss, stats = sft_loss(token_logp(model, ids, A > 0, 1.0), A, n_rollouts=B)
        elif args.sft:  # --sft-tokens all: every token of the transcripts, a language-model pass (no §3 mode)
            n_pred = torch.tensor([len(e.ids) - 1 for e in rows], device=dev)
            every = (torch.arange(ids.shape[1] - 1, device=dev)[None] < n_pred[:, None]).float()
            loss, stats = sft_loss(token_logp(model, ids, every > 0, 1.0), every, n_rollouts=B)
            stats = dict(loss=stats["loss"], token_ce=stats["action_ce"], n_tokens=stats["n_action_tokens"],
                         n_action_tokens=A.sum().item())
        else:  # θ_old = θ: one optimizer step per rollout batch, so ρ = 1 in value (§2, Eq. 2b)
            logp, logp1 = token_logp(model, ids, (A + E + W) > 0, args.temperature, plain=E > 0)  # / T_train
            sampled, has = sample_logprobs(rows, ids.shape[1], dev)  # the sampler's; logp is θ_old's too
            mb_adv = adv[mb] if adv is not None and mb else None  # a padding row's masks are all 0
            loss, stats = echo_loss(logp, logp.detach(), A, E, n_obs, mb_adv, lam, eps_low=args.eps_low,
                                    eps_high=args.eps_high, pg_norm=args.pg_norm, warning_mask=W,
                                    n_rollouts=B, n_action_tokens=n_action)
            # env CE labelled by temperature: at T_train (what L_Env trains) and at T = 1 (what eval.py scores)
            n_env, stats["env_ce_ttrain"] = stats["n_env_tokens"], stats.pop("env_ce")
            stats["env_ce_t1"] = (-(logp1 * E).sum()).item() / n_env if n_env else float("nan")
            stats.update(sampler_gap(logp.detach(), sampled, A * has))  # README "Sampler-trainer gap"
        loss.backward()
        add_stats(sums, stats)
    totals = finish_stats(sums, dev)
    grad_norm = scale.clip_grad_norm(model, args.grad_clip)
    bad = [k for k, v in (("loss", totals["loss"]), ("gradient", grad_norm)) if not math.isfinite(v)]
    if bad:  # guard: a non-finite step never reaches the weights
        opt.zero_grad(set_to_none=True)
        return dict(totals, grad_norm=grad_norm, skipped=f"non-finite {bad[0]}")
    opt.step()
    opt.zero_grad(set_to_none=True)  # free the gradients: the next rollouts need the memory (16 GB for 8B)
    return dict(totals, grad_norm=grad_norm, skipped="")


def add_stats(sums: dict, stats: dict) -> None:
    """Losses are each micro-batch's share, so they add up; per-token means are added weighted by their
    token counts (MEANS) and divided back in finish_stats; maxima (MAXES) keep the largest."""
    for k, v in stats.items():
        if k in MAXES:
            sums[k] = max(sums.get(k, 0.0), v if stats[MAXES[k]] else 0.0)
            continue
        n = stats.get(MEANS.get(k), 1.0)
        sums[k] = sums.get(k, 0.0) + (v * n if n else 0.0)


def finish_stats(sums: dict, device) -> dict:
    keys = sorted(k for k in sums if k not in MAXES)
    totals = dict(zip(keys, scale.totals([sums[k] for k in keys], device)))  # every rank's share
    for k, n in MEANS.items():
        if k in totals:
            totals[k] = totals[k] / totals[n] if totals[n] else float("nan")
    for k, n in MAXES.items():
        if k in sums:
            top = scale.all_reduce([sums[k]], device, op="max")[0]
            totals[k] = top if totals[n] else float("nan")
    return totals


# ---- the training loop ----

def main(argv=None):
    args = parse_args(argv)
    rank, world = scale.init_distributed(args)
    with run_directory(args, rank) as (out, interrupt):  # refused if it holds another run
        train(args, out, interrupt, rank, world)


def train(args, out: Path, interrupt, rank: int, world: int):
    sandbox.ALLOW_NO_CGROUP = args.allow_no_cgroup
    tasks = harbor.load_tasks(args.tasks)      # a bad task is reported in one line; the others load
    start_task = partial(harbor.start_task, store=Path(args.images) if args.images else None,
                         internet=not args.no_internet, registry_nets=tuple(args.registry_net))
    demo_records = read_jsonl(args.sft) if args.sft else []   # a bad line fails before the model loads
    model, tok, opt, sched, first = start(args, rank, world)
    dev = model.lm_head.weight.device
    demos = [R.tokenize_messages(tok, rec["messages"]) for rec in demo_records]
    fit_rollout_rows(args, model, opt, rank)
    limits, saved, setup_failures = rollout_limits(args), first, 0
    for step in range(first, min(args.steps, args.stop_after or args.steps)):
        # every random choice of a step derives from (seed, step), so a resumed run repeats it exactly
        rng = random.Random(f"{args.seed}-{step}")
        t0 = time.monotonic()
        if demos:  # expert SFT: a sample of the demonstrations instead of rollouts
            picked = rng.sample(range(len(demos)), min(len(demos), args.tasks_per_step * args.n))
            batch = [R.Episode("demo", 0, [], *demos[i]) for i in picked][rank::world]
        else:
            picked = rng.sample(tasks, min(len(tasks), args.tasks_per_step))
            jobs = [(t, rng.randrange(2**31)) for t in picked]
            jobs = jobs[rank::world]  # each rank runs whole GRPO groups, so Â stays per group (Eq. 2a)
            policy = scale.full_model(model, getattr(torch, args.dtype)).eval()  # FSDP: unsharded to decode
            progress = Progress(step + 1, args.steps) if rank == 0 else None
            batch = R.run_episodes(policy, tokenizer=tok, jobs=jobs, n=args.n, limits=limits,
                                   temperature=args.temperature, top_p=args.top_p, top_k=args.top_k,
                                   seed=(args.seed * 1_000_003 + step) * world + rank,
                                   max_rows=args.rollout_rows, progress=progress,
                                   start_task=start_task) if jobs else []
            if progress:
                progress.done()
            del policy
        t1 = time.monotonic()
        lam = lam_schedule(step, total_steps=args.steps, lam=args.lam, kind=args.lam_schedule,
                           gamma=args.lam_gamma, every=args.lam_every)
        model.train()
        stats = train_step(model, opt, batch, args, lam)
        sched.step()
        t2 = time.monotonic()
        roll, tokens = rollout_metrics(batch, args.n, dev)
        rec = dict(step=step + 1, lam=lam, lr=sched.get_last_lr()[0], temperature=args.temperature, **stats, **roll,
                   tokens_per_s=tokens / (t2 - t1), rollout_s=t1 - t0, train_s=t2 - t1)
        if args.save_episodes and not demos:  # one file per rank
            R.save_episodes(out / ("episodes.jsonl" if world == 1 else f"episodes-rank{rank}.jsonl"), batch)
        if rank == 0:
            with open(out / "metrics.jsonl", "a") as f:  # a mean over no tokens (nan) is written as null
                f.write(json.dumps({k: None if v != v else v for k, v in rec.items()}) + "\n")
            print(step_line(rec, args.steps), flush=True)
        if not demos:
            setup_failures = setup_failures + 1 if roll["setup_failed"] == roll["rollouts"] else 0
            if setup_failures == step + 1 - first == STOP_AFTER_FAILED_STEPS:
                raise EchoError(f"stopped: every rollout of the first {STOP_AFTER_FAILED_STEPS} "
                                 f"steps failed setup; first: {first_setup_error(batch)}")
        stop = scale.any_rank(interrupt.signal is not None, dev)  # every rank stops after the same step
        if (step + 1) % args.save_every == 0 or step + 1 == args.steps or stop:
            save_checkpoint(out, step=step + 1, model=model, tok=tok, opt=opt, sched=sched, args=args)
            saved = step + 1
        if stop:
            interrupt.report(out, step=step + 1, saved=saved, rank=rank)
            break
    scale.finish_distributed(world)


if __name__ == "__main__":
    sys.exit(guard("echo.py", main))
