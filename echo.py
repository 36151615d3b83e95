"""ECHO: the objective (top of this file) and the training loop (below it).

Equation numbers refer to PAPER.md §2. Every tensor is [B, T] per token or [B] per rollout, where
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
