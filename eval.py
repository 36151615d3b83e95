"""Evaluate an agent on a task suite: one sandboxed episode per task, scored by the task's verifier
(METHOD.md §6, §8).

    python eval.py --agent oracle --tasks tasks/train    # every task's solution/solve.sh: must score 1
    python eval.py --agent null --tasks tasks/train      # an agent that does nothing: must score 0
    python eval.py --agent scripted --tasks tasks/train --seeds 0-7 --episodes demos.jsonl   # solve.sh as
                                                         # agent turns: demonstrations for SFT / env CE
    python eval.py --agent model --model runs/echo/step-6 --tasks tasks/heldout -k 8   # pass@1, pass@k
    python eval.py --env-ce episodes.jsonl --model Qwen/Qwen3-8B   # nats per env token (transfer test)

An agent is a plain function `agent(sb, task) -> dict | None` that works in the entered sandbox `sb`;
whatever dict it returns (turns, tokens, ...) is kept in that episode's record. Adding an agent means
writing one such function and adding it to AGENTS.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import time
from pathlib import Path
from concurrent.futures import ThreadPoolExecutor

import torch

import model as M
import rollout as R
import harbor
import sandbox


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from n attempts of which c succeeded: 1 - C(n-c, k) / C(n, k) (METHOD.md §6)."""
    if not (0 <= c <= n and 1 <= k <= n):
        raise ValueError(f"pass_at_k needs 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)   # math.comb is 0 when n - c < k: pass@k = 1


# ---- agents ---------------------------------------------------------------------------------------------

def oracle(sb: sandbox.Sandbox, task: harbor.Task) -> dict:
    """The task's reference solution (solution/solve.sh). Its exit code is recorded; the verifier decides."""
    return {"solve_exit": harbor.run_solution(sb, task).exit_code}


def null(sb: sandbox.Sandbox, task: harbor.Task) -> dict:
    """Does nothing: a task this agent passes has a verifier that does not check anything."""
    return {}


def split_script(script: str) -> list[str]:
    """A shell script as its top-level commands, one per agent turn: lines are gathered until bash's own
    parser (`bash -n`) accepts them, so if/for/while blocks, functions, heredocs and `\\` continuations
    stay whole. Blank and comment lines between commands are dropped, and so are `set -e`-style lines and a
    top-level `exit`, which in the agent's one persistent shell would end that shell (METHOD.md §4)."""
    commands, lines = [], []
    for line in script.splitlines():
        if not lines and (not line.strip() or line.lstrip().startswith("#")):
            continue
        lines.append(line)
        chunk = "\n".join(lines)
        check = subprocess.run(["bash", "-n"], input=chunk, capture_output=True, text=True)
        if check.returncode == 0 and not check.stderr and not line.endswith("\\"):  # complete command
            if not re.match(r"\s*(set -[a-z]|exit\b)", chunk):
                commands.append(chunk)
            lines = []
    if lines:
        raise ValueError(f"split_script: the script ends inside a command: {chr(10).join(lines)[:200]!r}")
    return commands


def scripted(sb: sandbox.Sandbox, task: harbor.Task) -> dict:
    """The oracle played through the scaffold: each top-level command of solution/solve.sh is one bash turn,
    its observation is exactly what the live loop shows (rollout.format_observation), then done(). The
    messages are a demonstration episode for expert SFT (`echo.py --sft`) and for env CE (`--env-ce`)."""
    messages = [{"role": "system", "content": R.SYSTEM_PROMPT}, {"role": "user", "content": task.instruction}]
    commands = split_script((task.path / "solution" / "solve.sh").read_text())
    for i, command in enumerate(commands):
        thought = f"Step {i + 1} of {len(commands)}."
        messages.append({"role": "assistant", "content": R.format_action(command, thought)})
        res = sb.run(command, R.DEFAULT_TIMEOUT)
        body = R.format_observation(command, res.output, res.exit_code, res.timed_out, R.DEFAULT_TIMEOUT)
        messages.append({"role": "tool", "content": body})
    messages.append({"role": "assistant", "content": R.format_action(None, "The task is done.")})
    return {"turns": len(commands) + 1, "messages": messages}


AGENTS = {"oracle": oracle, "null": null, "scripted": scripted}


# ---- episodes -------------------------------------------------------------------------------------------

def run_episode(task: harbor.Task, agent, seed: int = 0) -> dict:
    """Build the task's environment for `seed`, let the agent work, run the verifier.
    Never raises: a sandbox or setup failure is reward 0 with the error recorded (METHOD.md §4)."""
    t0 = time.monotonic()
    try:
        with harbor.start_task(task, seed) as sb:
            info = agent(sb, task) or {}
            reward, reason = harbor.verify(sb, task, seed)
        record = {"reward": reward, "error": reason or None, **info}
    except Exception as e:
        record = {"reward": 0.0, "error": f"{type(e).__name__}: {e}"}
    return {**record, "seconds": round(time.monotonic() - t0, 2)}


def evaluate(tasks: list[harbor.Task], agent, seed: int = 0, workers: int = 1) -> dict[str, dict]:
    """{task name: episode record}, episodes run `workers` at a time (the work is in subprocesses)."""
    with ThreadPoolExecutor(max(1, workers)) as pool:
        records = pool.map(lambda t: run_episode(t, agent, seed), tasks)
        return dict(zip((t.name for t in tasks), records))


def summarize(results: dict[str, dict]) -> dict:
    rewards = [r["reward"] for r in results.values()]
    return {"pass_at_1": sum(rewards) / len(rewards) if rewards else 0.0, "n_tasks": len(rewards),
            "errors": sum(r["error"] is not None for r in results.values())}


def record_demos(tasks, seeds: str, path, workers: int = 1) -> dict[str, dict]:
    """Scripted-oracle episodes of every task at every seed in "A-B", appended to `path` as JSONL records
    {task, seed, reward, turns, messages}; only reward-1 episodes are written (a demonstration must be
    correct). Returns {task name: the last seed's record, with pass_at_1 = its mean reward over seeds}."""
    lo, _, hi = seeds.partition("-")
    results = {}
    for seed in range(int(lo), int(hi or lo) + 1):
        for name, rec in evaluate(tasks, scripted, seed, workers).items():
            if rec["reward"] >= 1.0:
                with open(path, "a") as f:
                    f.write(json.dumps({"task": name, "seed": seed, **rec}) + "\n")
            prev = results.get(name, {}).get("rewards", [])
            results[name] = {**rec, "rewards": prev + [rec["reward"]]}
    for rec in results.values():
        rec["reward"] = sum(rec.pop("rewards")) / (int(hi or lo) - int(lo) + 1)
    return results


# ---- the model agent: k attempts per task at the eval temperature (METHOD.md §6) ----------------------------

def attempts_summary(eps: list[R.Episode]) -> dict:
    """pass@1 = mean success over the k attempts; unbiased pass@k; timeouts, turns, tokens per episode."""
    n, c = len(eps), sum(e.reward >= 1.0 for e in eps)
    mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
    return {"reward": mean([e.reward for e in eps]), "pass_at_1": pass_at_k(n, c, 1), f"pass_at_{n}": pass_at_k(n, c, n),
            "successes": c, "attempts": n, "timeout_rate": mean([e.timed_out for e in eps]),
            "command_timeouts": mean([e.command_timeouts for e in eps]), "turns": mean([e.turns for e in eps]),
            "completion_tokens": mean([e.completion_tokens for e in eps]),
            "error": "; ".join(sorted({e.reason for e in eps if "error" in e.reason})) or None}


def evaluate_model(model, tok, tasks, k: int, seed: int, limits: R.Limits, temperature=0.6, top_p=1.0, top_k=0,
                   batch_tasks: int = 8, episodes_path=None) -> dict[str, dict]:
    """{task name: attempts_summary}; batch_tasks tasks x k attempts decode together."""
    results = {}
    for b in range(0, len(tasks), batch_tasks):
        chunk = tasks[b:b + batch_tasks]
        eps = R.run_episodes(model, tok, [(t, seed) for t in chunk], k, limits, temperature, top_p, top_k, seed=seed + b)
        if episodes_path:
            R.save_episodes(episodes_path, eps)
        for i, t in enumerate(chunk):
            results[t.name] = attempts_summary(eps[i * k:(i + 1) * k])
    return results


@torch.no_grad()
def env_ce(model, tok, records: list[dict]) -> dict:
    """Environment-token cross-entropy (nats per env token, METHOD.md §6) of saved episodes, any model's or
    harness's: their chat messages are re-tokenized with this model's tokenizer."""
    total, count, per_episode = 0.0, 0, []
    w = model.lm_head.weight
    for rec in records:
        ids, roles = R.tokenize_messages(tok, rec["messages"])
        x = torch.tensor(ids, device=w.device)
        sel = torch.tensor([r == R.ENV for r in roles[1:]], device=w.device)
        if not sel.any():
            continue
        hidden = model.hidden(x[None, :-1])[0]
        nll = -M.token_logprobs(hidden[sel], w, x[1:][sel])
        total, count = total + nll.sum().item(), count + int(sel.sum())
        per_episode.append(nll.mean().item())
    return {"env_ce": total / count if count else float("nan"), "env_tokens": count,
            "episodes": len(per_episode), "env_ce_per_episode": sum(per_episode) / len(per_episode) if per_episode else float("nan")}


def main() -> None:
    p = argparse.ArgumentParser(description="Evaluate an agent on a task suite (pass@1, pass@k) or a model's "
                                "environment-token cross-entropy on saved episodes.")
    p.add_argument("--agent", choices=sorted(AGENTS) + ["model"], help="which agent plays the episodes")
    p.add_argument("--model", help="hub id or checkpoint directory (for --agent model and --env-ce)")
    p.add_argument("--tasks", default="tasks/train", help="directory of Harbor task directories")
    p.add_argument("--images", metavar="DIR", help="local image store (see images.py); default $ECHO_IMAGES")
    p.add_argument("--no-internet", action="store_true", help="no network in episodes, even where allowed")
    p.add_argument("-k", type=int, default=8, help="attempts per task for --agent model (paper: 8; 5 for TB2)")
    p.add_argument("--temperature", type=float, default=0.6, help="eval sampling temperature (METHOD.md §6)")
    p.add_argument("--top-p", type=float, default=1.0)
    p.add_argument("--top-k", type=int, default=0)
    p.add_argument("--batch-tasks", type=int, default=8, help="tasks whose k attempts decode together")
    p.add_argument("--max-turns", type=int, default=16)
    p.add_argument("--max-turn-tokens", type=int, default=2048)
    p.add_argument("--episodes", metavar="PATH", help="append the model's episodes here (JSONL)")
    p.add_argument("--env-ce", metavar="EPISODES", help="JSONL of episodes (or {messages: [...]}) to score")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--dtype", choices=["float32", "bfloat16"], help="default bfloat16 on GPU, float32 on CPU")
    p.add_argument("--seed", type=int, default=0, help="instance seed (TASK_SEED) for every task")
    p.add_argument("--seeds", metavar="A-B", help="scripted agent: record every task at seeds A..B (inclusive)")
    p.add_argument("--workers", type=int, default=min(8, os.cpu_count() or 1),
                   help="episodes run in parallel for oracle/null (default: min(8, CPU count))")
    p.add_argument("--json", metavar="PATH", help="also write the results here")
    args = p.parse_args()
    if (args.agent == "model" or args.env_ce) and not args.model:
        p.error("--agent model and --env-ce need --model")
    if not args.agent and not args.env_ce:
        p.error("give --agent or --env-ce")
    t0 = time.monotonic()
    if args.model:
        dtype = getattr(torch, args.dtype or ("bfloat16" if args.device.startswith("cuda") else "float32"))
        model, tok = M.load(args.model, args.device, dtype)
    if args.env_ce:
        with open(args.env_ce) as f:
            out = env_ce(model, tok, [json.loads(line) for line in f if line.strip()])
        print(f"env CE = {out['env_ce']:.4f} nats/token over {out['env_tokens']} env tokens of {out['episodes']} "
              f"episodes (mean per episode {out['env_ce_per_episode']:.4f}); model {args.model}")
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"model": args.model, "episodes_file": args.env_ce, **out}, f, indent=2)
        return
    tasks = harbor.load_tasks(args.tasks)      # a bad task is reported in one line; the others load
    harbor.IMAGES, harbor.INTERNET = (Path(args.images) if args.images else None), not args.no_internet
    if args.agent == "model":
        limits = R.Limits(max_turns=args.max_turns, max_turn_tokens=args.max_turn_tokens)
        results = evaluate_model(model, tok, tasks, args.k, args.seed, limits, args.temperature, args.top_p,
                                 args.top_k, args.batch_tasks, args.episodes)
    elif args.agent == "scripted" and args.episodes:
        results = record_demos(tasks, args.seeds or f"{args.seed}-{args.seed}", args.episodes, args.workers)
    else:
        results = evaluate(tasks, AGENTS[args.agent], args.seed, args.workers)
    width = max(len(name) for name in results)
    cols = list(dict.fromkeys(c for r in results.values() for c in r
                              if c not in ("error", "attempts", "successes", "messages")))
    print(f"{'task':<{width}}  " + "  ".join(f"{c:>10.10}" for c in cols) + "  error")
    for name, r in results.items():
        print(f"{name:<{width}}  " + "  ".join(f"{r[c]:10.3f}" if c in r else f"{'-':>10}" for c in cols)
              + f"  {r['error'] or ''}")
    s = summarize(results)
    overall = {c: sum(r.get(c, 0.0) for r in results.values()) / len(results) for c in cols}
    print("mean".ljust(width) + "  " + "  ".join(f"{overall[c]:10.3f}" for c in cols))
    print(f"pass@1 = {s['pass_at_1']:.3f} over {s['n_tasks']} tasks, {s['errors']} with errors "
          f"(agent {args.agent}, seed {args.seed}, {time.monotonic() - t0:.1f} s)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({**overall, "pass_at_1": s["pass_at_1"], "agent": args.agent, "model": args.model,
                       "seed": args.seed, "tasks": results}, f, indent=2)


if __name__ == "__main__":
    main()
