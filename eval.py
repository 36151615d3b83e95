"""Evaluate an agent on a task suite: one sandboxed episode per task, scored by the task's verifier
(METHOD.md §6, §8).

    python eval.py --agent oracle --tasks tasks/train    # every task's solution/solve.sh: must score 1
    python eval.py --agent null --tasks tasks/train      # an agent that does nothing: must score 0
    python eval.py --agent scripted --tasks tasks/train --seeds 0-7 --episodes demos.jsonl   # solve.sh as
                                                         # agent turns: demonstrations for SFT / env CE
    python eval.py --agent model --model runs/echo/step-6 --tasks tasks/heldout -k 8   # pass@1, pass@k
    python eval.py --env-ce episodes.jsonl --model Qwen/Qwen3-8B   # nats per env token (transfer test)

An agent is a plain function `agent(env, task) -> dict | None` that works in the task's environment `env`
(harbor.Environment: env.run(command, timeout), env.solve(), ...);
whatever dict it returns (turns, tokens, ...) is kept in that episode's record. Adding an agent means
writing one such function and adding it to AGENTS.

Each task is reported as it ends, with the pass rate so far. An episode's outcome (Outcome) says
who failed when not the agent: the machine (its sandbox did not start in start_task's two attempts, or died)
is an infrastructure error, reward 0 like any failed episode (METHOD.md §4) but counted apart in the summary
and in --json, as are verifiers that could not run. Nothing is replayed here: start_task's retry is the one.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
import threading
import time
from functools import partial
from pathlib import Path
from concurrent.futures import ThreadPoolExecutor, as_completed

import torch

import model as M
import rollout as R
import harbor
import sandbox
import errors
from errors import ConfigError, guard, read_jsonl
from harbor import Outcome
from runs import count, number, text_file


SUCCESS = 0.5  # an attempt succeeded when its reward is at least this (METHOD.md §6)


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from n attempts of which c succeeded: 1 - C(n-c, k) / C(n, k) (METHOD.md §6)."""
    if not (0 <= c <= n and 1 <= k <= n):
        raise ValueError(f"pass_at_k needs 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)   # math.comb is 0 when n - c < k: pass@k = 1


# ---- agents ---------------------------------------------------------------------------------------------

def oracle(env: harbor.Environment, task: harbor.Task) -> dict:
    """The task's reference solution (solution/solve.sh). Its exit code is recorded; the verifier decides."""
    return {"solve_exit": env.solve().exit_code}


def null(env: harbor.Environment, task: harbor.Task) -> dict:
    """Does nothing: a task this agent passes has a verifier that does not check anything."""
    return {}


# solve.sh is split by bash's own parser, once per task (_solution_commands), within a size and time budget:
# rt10b p09's solve.sh of one long heredoc cost one `bash -n` per line on a growing chunk (quadratic: 44.6 s
# for 1,000 lines of 500 bytes, a 4 MiB one ~47 min) and had no cap at all.
SCRIPT_BYTES, SPLIT_SECONDS = harbor.MAX_FILE_BYTES, 60.0
# What bash -n says of a chunk that stops inside a heredoc, or inside a quote, `$(`, `${` or backquote: the
# chunk cannot end before a line that holds the heredoc's delimiter, or that character, so the lines between
# are not parsed one by one (bash 5.2's wording; another wording just parses every line, as before).
_HEREDOC = re.compile(r"here-document at line \d+ delimited by end-of-file \(wanted `(.*)'\)")
_OPEN = re.compile(r"unexpected EOF while looking for matching `(.)'")


def _bash_n(text: str, deadline: float) -> tuple[int, str]:
    """bash -n on `text`: (status, its messages); ValueError past the deadline."""
    left = deadline - time.monotonic()
    try:
        if left <= 0:
            raise subprocess.TimeoutExpired("bash -n", 0)
        check = subprocess.run(["bash", "-n"], input=text, capture_output=True, text=True, timeout=left)
    except subprocess.TimeoutExpired:
        raise ValueError(f"split_script: over {SPLIT_SECONDS:g} s parsing the script") from None
    return check.returncode, check.stderr


def split_script(script: str) -> list[str]:
    """A shell script as its top-level commands, one per agent turn: lines are gathered until bash's own
    parser (`bash -n`) accepts them, so if/for/while blocks, functions, heredocs and `\\` continuations
    stay whole. Blank and comment lines between commands are dropped, and so are `set -e`-style lines and a
    top-level `exit`, which in the agent's one persistent shell would end that shell (METHOD.md §4).
    Bounded: SCRIPT_BYTES, SPLIT_SECONDS, one parse of the whole script first (a script bash refuses is
    refused there, not after a parse per line), and a heredoc's or a quote's lines are not parsed one by
    one. A long if/for/while block is still parsed once per line of it (bash tells no more)."""
    if len(script.encode()) > SCRIPT_BYTES:
        raise ValueError(f"split_script: the script is over {SCRIPT_BYTES >> 20} MiB")
    deadline = time.monotonic() + SPLIT_SECONDS
    status, said = _bash_n(script, deadline)
    if status or said:
        raise ValueError(f"split_script: bash cannot parse the script: {errors.one_line(said)[:200]}")
    commands, lines, until = [], [], None
    for line in script.splitlines():
        if not lines and (not line.strip() or line.lstrip().startswith("#")):
            continue
        lines.append(line)
        if until and not until(line):          # still inside the heredoc or quote bash named
            continue
        chunk = "\n".join(lines)
        status, said = _bash_n(chunk, deadline)
        if status == 0 and not said and not line.endswith("\\"):  # complete command
            if not re.match(r"\s*(set -[a-z]|exit\b)", chunk):
                commands.append(chunk)
            lines, until = [], None
        elif m := _HEREDOC.search(said):       # its end: the delimiter alone (<<-: after tabs)
            until = lambda l, end=m[1]: l.lstrip("\t") == end                            # noqa: E731
        elif m := _OPEN.search(said):
            until = lambda l, c=m[1]: c in l                                                # noqa: E731
        else:
            until = None
    if lines:
        raise ValueError(f"split_script: the script ends inside a command: {chr(10).join(lines)[:200]!r}")
    return commands


_split: dict[tuple, list[str]] = {}


def _solution_commands(task: harbor.Task) -> list[str]:
    """split_script of the task's solve.sh, once per task and version of the file (every seed's episode asks
    again): read at most SCRIPT_BYTES + 1 bytes, so a larger file costs nothing before it is refused."""
    path = task.path / "solution" / "solve.sh"
    st = path.stat()
    key = (str(path), st.st_ino, st.st_size, st.st_mtime_ns)
    if key not in _split:
        with open(path, "rb") as f:
            data = f.read(SCRIPT_BYTES + 1)
        try:
            _split[key] = split_script(data.decode("utf-8", errors="replace"))
        except ValueError as e:
            raise ValueError(f"task '{task.name}': solution/solve.sh: {e}") from None
    return _split[key]


def scripted(env: harbor.Environment, task: harbor.Task) -> dict:
    """The oracle played through the scaffold: each top-level command of solution/solve.sh is one bash turn,
    its observation is exactly what the live loop shows (rollout.format_observation), then done(). The
    messages are a demonstration episode for expert SFT (`echo.py --sft`) and for env CE (`--env-ce`)."""
    messages = [{"role": "system", "content": R.SYSTEM_PROMPT}, {"role": "user", "content": task.instruction}]
    commands = _solution_commands(task)
    for i, command in enumerate(commands):
        thought = f"Step {i + 1} of {len(commands)}."
        messages.append({"role": "assistant", "content": R.format_action(command, thought)})
        res = env.run(command, R.DEFAULT_TIMEOUT)
        body = R.format_observation(command, res.output, res.exit_code, res.timed_out, R.DEFAULT_TIMEOUT)
        messages.append({"role": "tool", "content": body})
    messages.append({"role": "assistant", "content": R.format_action(None, "The task is done.")})
    return {"turns": len(commands) + 1, "messages": messages}


AGENTS = {"oracle": oracle, "null": null, "scripted": scripted}


# ---- episodes -------------------------------------------------------------------------------------------

def run_episode(task: harbor.Task, agent, seed: int = 0, start_task=None) -> dict:
    """Build the task's environment for `seed` (start_task: harbor.start_task unless given), let the agent
    work, run the verifier. Never raises: a failure is reward 0 with its outcome and error (METHOD.md §4)."""
    t0 = time.monotonic()
    try:
        with (start_task or harbor.start_task)(task, seed) as env:
            info = agent(env, task) or {}
            reward, reason = env.verify()
        record = {"reward": reward, "error": reason or None, "outcome": Outcome.DONE, **info}
    except Exception as e:
        record = {"reward": 0.0, "error": f"{type(e).__name__}: {e}", "outcome": harbor.outcome_of(e)}
    return {**record, "seconds": round(time.monotonic() - t0, 2)}


def failure_kind(outcome: str) -> str | None:
    """Who failed, when not the agent, from an episode's outcome (Outcome): "infrastructure" when the
    machine did (the sandbox did not start, or died), "verifier" when the tests could not run, "tampered"
    when the agent prepared the verifier's ground (harbor.check_ground: the tests were not run). All score
    0 (METHOD.md §4); the summary counts them apart so that a broken machine or task does not read as a weak
    agent, and a policy that learns to tamper shows. A task whose own build fails (Outcome.SETUP_TASK) is the
    task's error, not the machine's."""
    if not outcome:                    # an episode saved before outcomes were recorded, or a demonstration
        return None
    outcome = Outcome(outcome)
    return "infrastructure" if outcome.machine else "verifier" if outcome == Outcome.VERIFIER_ERROR \
        else "tampered" if outcome == Outcome.TAMPERED else None


def play(task: harbor.Task, agent, seed: int = 0, start_task=None) -> dict:
    """run_episode, with its infrastructure and verifier errors counted (failure_kind)."""
    rec = run_episode(task, agent, seed, start_task)
    kind = failure_kind(rec["outcome"])
    return {**rec, "infrastructure_errors": int(kind == "infrastructure"),
            "verifier_errors": int(kind == "verifier"), "tampered": int(kind == "tampered")}


def say(message: str) -> None:
    errors.say(message, sys.stdout)     # a task's name, an episode's reason: one line, escaped (rt9 p14)


class Progress:
    """A line per finished task with the pass rate so far, `[12/26] links-dedupe: reward 1.0 (3.1 s) | pass
    so far 0.917`, and while work runs a line whenever nothing was said for `every` seconds."""

    def __init__(self, total: int, log=say, every: float = 10.0):
        self.total, self.log, self.every = total, log, every
        self.done, self.score, self.doing = 0, 0.0, "running"   # doing: what the heartbeat line says
        self.start = self.last = time.monotonic()
        self._lock, self._stop = threading.Lock(), threading.Event()
        self._heartbeat = threading.Thread(target=self._beat, daemon=True)

    def __enter__(self):
        self._heartbeat.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._heartbeat.join()

    def task(self, name: str, score: float, what: str) -> None:
        with self._lock:
            self.done, self.score = self.done + 1, self.score + score
            self._say(f"{name}: {what} | pass so far {self.score / self.done:.3f}")

    def _beat(self):
        while not self._stop.wait(1.0):
            with self._lock:
                if time.monotonic() - self.last >= self.every:
                    self._say(f"{self.doing} ({time.monotonic() - self.start:.0f} s in)")

    def _say(self, message: str):
        self.log(f"[{self.done}/{self.total}] {message}")
        self.last = time.monotonic()


def failure_note(rec: dict) -> str:
    return ("; infrastructure error: " + rec["outcome"] if rec["infrastructure_errors"] else "") + \
           ("; verifier error" if rec["verifier_errors"] else "") + \
           ("; tampered" if rec.get("tampered") else "")


def evaluate(tasks: list[harbor.Task], agent, seed: int = 0, workers: int = 1, log=say,
             start_task=None) -> dict[str, dict]:
    """{task name: episode record} in task order; episodes run `workers` at a time (the work is in
    subprocesses), each reported as it ends."""
    with Progress(len(tasks), log) as progress, ThreadPoolExecutor(workers) as pool:
        progress.doing = f"episodes running, {workers} at a time"
        futures = {pool.submit(play, t, agent, seed, start_task): t.name for t in tasks}
        for future in as_completed(futures):
            rec = future.result()
            progress.task(futures[future], rec["reward"],
                          f"reward {round(rec['reward'], 3)} ({rec['seconds']:.1f} s{failure_note(rec)})")
        return {name: future.result() for future, name in futures.items()}


def summarize(results: dict[str, dict]) -> dict:
    """pass@1 over the tasks; the episodes that failed outside the agent (infrastructure: the machine failed;
    verifier: the tests could not run), counted apart; `errors`: the other tasks with an error recorded."""
    rewards = [r["reward"] for r in results.values()]
    # pass@1 as METHOD.md §6 defines it: per task the share of attempts that succeeded (reward >= 0.5), then
    # the mean over tasks. (Mean reward is reported too; it differs when a verifier gives partial credit.)
    passes = [r["pass_at_1"] if "pass_at_1" in r else float(r["reward"] >= SUCCESS) for r in results.values()]
    apart = lambda r: r.get("infrastructure_errors", 0) + r.get("verifier_errors", 0)  # noqa: E731
    return {"pass_at_1": sum(passes) / len(passes) if passes else 0.0,
            "reward_mean": sum(rewards) / len(rewards) if rewards else 0.0, "n_tasks": len(rewards),
            "infrastructure_errors": sum(r.get("infrastructure_errors", 0) for r in results.values()),
            "verifier_errors": sum(r.get("verifier_errors", 0) for r in results.values()),
            "errors": sum(r["error"] is not None and not apart(r) for r in results.values())}


def record_demos(tasks, seeds: str, path, workers: int = 1, log=say, start_task=None) -> dict[str, dict]:
    """Scripted-oracle episodes of every task at every seed in "A-B", appended to `path` as JSONL records
    {task, seed, reward, turns, messages}; only reward-1 episodes are written (a demonstration must be
    correct). Returns {task name: the last seed's record, with reward = its mean over the seeds and the
    error counts summed over them}."""
    lo, hi = seed_bounds(seeds)
    results = {}
    for seed in range(lo, hi + 1):
        episodes = evaluate(tasks, scripted, seed, workers, log=lambda m: log(f"seed {seed} {m}"),
                            start_task=start_task)
        for name, rec in episodes.items():
            if rec["reward"] >= 1.0:
                with open(path, "a") as f:
                    f.write(json.dumps({"task": name, "seed": seed, **rec}) + "\n")
            for key in ("reward", "infrastructure_errors", "verifier_errors"):
                rec[key] += results[name][key] if name in results else 0
            results[name] = rec
    for rec in results.values():
        rec["reward"] /= hi - lo + 1
    return results


def seed_bounds(seeds: str) -> tuple[int, int]:
    """"A-B" (or "A") as (A, B) with 0 <= A <= B."""
    m = re.fullmatch(r"(\d+)(?:-(\d+))?", seeds.strip())
    if not m or int(m[2] or m[1]) < int(m[1]):
        raise ValueError(f"seeds must be A-B with integers 0 <= A <= B, got {seeds!r}")
    return int(m[1]), int(m[2] or m[1])


# ---- the model agent: k attempts per task at the eval temperature (METHOD.md §6) ----------------------------

def attempts_summary(eps: list[R.Episode]) -> dict:
    """pass@1 = mean success over the k attempts; unbiased pass@k; timeouts, turns, tokens per episode; the
    attempts that failed outside the agent (failure_kind)."""
    n, c = len(eps), sum(e.reward >= SUCCESS for e in eps)
    mean = lambda key: sum(getattr(e, key) for e in eps) / n  # noqa: E731
    kinds = [failure_kind(e.outcome) for e in eps]
    return {"reward": mean("reward"), "pass_at_1": pass_at_k(n, c, 1), f"pass_at_{n}": pass_at_k(n, c, n),
            "successes": c, "attempts": n, "timeout_rate": mean("timed_out"),
            "command_timeouts": mean("command_timeouts"), "turns": mean("turns"),
            "completion_tokens": mean("completion_tokens"), "verifier_errors": kinds.count("verifier"),
            "infrastructure_errors": kinds.count("infrastructure"), "tampered": kinds.count("tampered"),
            "error": "; ".join(sorted({e.reason for e in eps if e.outcome and Outcome(e.outcome).error}))
                     or None}


def evaluate_model(model, tok, tasks, k: int, seed: int, limits: R.Limits, temperature=0.6, top_p=1.0,
                   top_k=0, batch_tasks: int = 8, episodes_path=None, log=say,
                   start_task=None) -> dict[str, dict]:
    """{task name: attempts_summary}; batch_tasks tasks x k attempts decode together, and a batch's tasks are
    reported when it ends."""
    results = {}
    with Progress(len(tasks), log) as progress:
        for b in range(0, len(tasks), batch_tasks):
            chunk, t0 = tasks[b:b + batch_tasks], time.monotonic()
            which = f"task {b + 1}" if len(chunk) == 1 else f"tasks {b + 1}-{b + len(chunk)}"
            progress.doing = f"{which}: {k} attempts each, starting"

            def heard(phase, finished, total, tokens, which=which):   # run_episodes, after every turn
                progress.doing = f"{which}: {phase}, {finished}/{total} episodes done, {tokens} tokens out"
            sampling = dict(temperature=temperature, top_p=top_p, top_k=top_k, seed=seed + b, log=log,
                            progress=heard, start_task=start_task)
            eps = R.run_episodes(model, tok, [(t, seed) for t in chunk], k, limits, **sampling)
            if episodes_path:
                R.save_episodes(episodes_path, eps)
            seconds = time.monotonic() - t0
            for j, t in enumerate(chunk):
                s = attempts_summary(eps[j * k:(j + 1) * k])
                results[t.name] = s
                notes = [f"batch {seconds:.1f} s"] + [plural(s[f"{kind}_errors"], f"{kind} error")
                                                      for kind in ("infrastructure", "verifier")
                                                      if s[f"{kind}_errors"]]
                progress.task(t.name, s["pass_at_1"],
                              f"pass@1 {s['pass_at_1']:.3f} over {k} attempts ({'; '.join(notes)})")
    return results


def read_episodes(path) -> list[dict]:
    """Saved episodes: JSONL records, each with its chat `messages` ({role, content} dicts), as eval.py
    --episodes, echo.py and the scripted agent write them. A record that is not one is an error naming
    its line."""
    records = read_jsonl(path)
    with open(path) as f:
        numbers = [n for n, line in enumerate(f, 1) if line.strip()]  # read_jsonl's records, line by line
    for n, rec in zip(numbers, records):
        messages = rec.get("messages") if isinstance(rec, dict) else None
        if not (isinstance(messages, list) and messages and all(
                isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str)
                for m in messages)):
            raise ConfigError(f"{path}:{n}: not an episode: expected a record with \"messages\", a list of "
                              "{\"role\", \"content\"} strings")
    return records


@torch.no_grad()
def env_token_nll(model, ids: list[int], roles: list[int], temperatures=(1.0,)) -> list[torch.Tensor]:
    """−log p of every ENV token of one tokenized episode, under softmax(logits / T) for each T: one forward
    pass for all of them."""
    w = model.lm_head.weight
    x = torch.tensor(ids, device=w.device)
    sel = torch.tensor([r == R.ENV for r in roles[1:]], device=w.device)
    if not sel.any():
        return [torch.zeros(0) for _ in temperatures]
    h = model.hidden(x[None, :-1])[0][sel]
    return [-M.token_logprobs(h, w, x[1:][sel], t) for t in temperatures]


def env_ce(model, tok, records: list[dict], train_temperature: float = 0.8) -> dict:
    """Environment-token cross-entropy (nats per env token, METHOD.md §6) of saved episodes, any model's or
    harness's: their chat messages are re-tokenized with this model's tokenizer. env_ce is at T = 1 (the
    model's own distribution); env_ce_ttrain at the training temperature, the scale echo.py logs L_Env on."""
    total, total_t, count, per_episode = 0.0, 0.0, 0, []
    for rec in records:
        nll, nll_t = env_token_nll(model, *R.tokenize_messages(tok, rec["messages"]), (1.0, train_temperature))
        if not len(nll):
            continue
        total, total_t, count = total + nll.sum().item(), total_t + nll_t.sum().item(), count + len(nll)
        per_episode.append(nll.mean().item())
    mean = lambda x: x / count if count else float("nan")  # noqa: E731
    return {"env_ce": mean(total), "env_ce_ttrain": mean(total_t), "train_temperature": train_temperature,
            "env_tokens": count, "episodes": len(per_episode),
            "env_ce_per_episode": sum(per_episode) / len(per_episode) if per_episode else float("nan")}


# ---- flags: every value is checked before any work starts; a bad one is one line naming the flag ---------
# Numbers: runs.count and runs.number, as echo.py's flags; here the paths, seed ranges and devices.

def seed_span(text: str) -> str:
    """--seeds: "A-B" checked, and kept as text for record_demos."""
    try:
        seed_bounds(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be A-B with integers 0 <= A <= B, got {text!r}") from None
    return text


def existing_dir(text: str) -> str:
    if not os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"no such directory: {text!r}")
    return text


def existing_file(text: str) -> str:
    if not os.path.isfile(text):
        why = "not a file" if os.path.exists(text) else "no such file"
        raise argparse.ArgumentTypeError(f"{why}: {text!r}")
    return text


def output_file(text: str) -> str:
    """A file to write: its directory must exist now, not after an hour of work."""
    folder = os.path.dirname(text) or "."
    if os.path.isdir(text) or not os.path.isdir(folder):
        why = "it is a directory" if os.path.isdir(text) else f"no directory {folder!r}"
        raise argparse.ArgumentTypeError(f"cannot write {text!r}: {why}")
    return text


def checkpoint(text: str) -> str:
    """A local checkpoint directory (with config.json), or a hub id like Qwen/Qwen3-8B (model.resolve's
    rule); the hub is not asked here."""
    path = Path(text).expanduser()
    if path.is_dir() and not (path / "config.json").is_file():
        raise argparse.ArgumentTypeError(f"no config.json in {text!r}: not a checkpoint directory")
    if not path.is_dir() and (path.exists() or text.startswith((".", "/", "~")) or text.count("/") != 1):
        raise argparse.ArgumentTypeError(f"no such checkpoint directory (and not a hub id like "
                                         f"Qwen/Qwen3-8B): {text!r}")
    return text


def torch_device(text: str) -> str:
    try:
        device = torch.device(text)
    except RuntimeError:
        raise argparse.ArgumentTypeError(f"must be a device (cpu, cuda, cuda:1), got {text!r}") from None
    visible = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if device.type == "cuda" and (device.index or 0) >= visible:
        raise argparse.ArgumentTypeError(f"no such CUDA device here ({visible} visible), got {text!r}")
    return text


def plural(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description="Evaluate an agent on a task suite (pass@1, pass@k) or a model's "
                                "environment-token cross-entropy on saved episodes.")
    a = p.add_argument
    a("--agent", choices=sorted(AGENTS) + ["model"], help="which agent plays the episodes")
    a("--model", type=checkpoint, help="hub id or checkpoint directory (for --agent model and --env-ce)")
    # A Path default skips the type check, so --env-ce works from any directory; harbor names a missing one.
    a("--tasks", type=existing_dir, default=Path("tasks/train"), help="directory of Harbor task directories")
    a("--images", metavar="DIR", type=existing_dir,
      help="local image store (see images.py); default $ECHO_IMAGES")
    harbor.add_environment_flags(a)
    a("-k", type=count(1), default=8, help="attempts per task for --agent model (paper: 8; 5 for TB2)")
    a("--temperature", type=number(0, strict=True), default=0.6,
      help="eval sampling temperature (METHOD.md §6)")
    a("--top-p", type=number(0, 1, strict=True), default=1.0)
    a("--top-k", type=count(0), default=0, help="0: no top-k cut")
    a("--batch-tasks", type=count(1), default=8, help="tasks whose k attempts decode together")
    a("--max-turns", type=count(1), default=16)
    a("--max-turn-tokens", type=count(1), default=2048)
    a("--system-prompt", metavar="FILE", type=text_file,
      help="as echo.py --system-prompt: the system message of every episode (default METHOD.md §4's)")
    a("--format-reminder", action="store_true",
      help="as echo.py --format-reminder: a parse error's observation also shows a worked tool call")
    a("--episodes", metavar="PATH", type=output_file, help="append the model's episodes here (JSONL)")
    a("--env-ce", metavar="EPISODES", type=existing_file,
      help="JSONL of episodes (or {messages: [...]}) to score")
    a("--train-temperature", type=number(0, strict=True), default=0.8,
      help="--env-ce also scores at this temperature, echo.py's T_train (default: the paper's 0.8)")
    a("--device", type=torch_device, default="cuda" if torch.cuda.is_available() else "cpu")
    a("--dtype", choices=["float32", "bfloat16"], help="default bfloat16 on GPU, float32 on CPU")
    a("--seed", type=count(0), default=0, help="instance seed (TASK_SEED) for every task")
    a("--seeds", metavar="A-B", type=seed_span,
      help="scripted agent with --episodes: record every task at seeds A..B (inclusive)")
    a("--workers", type=count(1), default=min(8, os.cpu_count() or 1),
      help="episodes run in parallel for oracle/null/scripted (default: min(8, CPU count))")
    a("--json", metavar="PATH", type=output_file, help="also write the results here")
    a("--debug", action="store_true", help="show the traceback of an error, not just its one line")
    args = p.parse_args(argv)
    if bool(args.agent) == bool(args.env_ce):
        p.error("give --agent or --env-ce (one of them)")
    if (args.agent == "model" or args.env_ce) and not args.model:
        p.error("argument --model: --agent model and --env-ce need a model")
    if args.episodes and args.agent not in ("model", "scripted"):
        p.error(f"argument --episodes: --agent {args.agent} writes no episodes (model and scripted do)")
    if args.seeds and not (args.agent == "scripted" and args.episodes):
        p.error("argument --seeds: only --agent scripted with --episodes PATH records several seeds")
    t0 = time.monotonic()
    if args.env_ce:
        records = read_episodes(args.env_ce)   # before the model loads: a bad line fails in a second
    if args.model:
        dtype = getattr(torch, args.dtype or ("bfloat16" if args.device.startswith("cuda") else "float32"))
        model, tok = M.load(args.model, args.device, dtype)
    if args.env_ce:
        out = env_ce(model, tok, records, args.train_temperature)
        print(f"env CE = {out['env_ce']:.4f} nats/token at T=1, {out['env_ce_ttrain']:.4f} at the training "
              f"T={args.train_temperature:g}, over {out['env_tokens']} env tokens of {out['episodes']} "
              f"episodes (mean per episode at T=1 {out['env_ce_per_episode']:.4f}); model {args.model}")
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"model": args.model, "episodes_file": args.env_ce, **out}, f, indent=2)
        return
    sandbox.ALLOW_NO_CGROUP = args.allow_no_cgroup
    tasks = harbor.load_tasks(args.tasks)      # a bad task is reported in one line; the others load
    start = partial(harbor.start_task, store=Path(args.images) if args.images else None,
                    internet=not args.no_internet, registry_nets=tuple(args.registry_net))
    if args.agent != "model":                  # the model's episodes take it from their R.Limits
        start = partial(start, limits=harbor.Limits(keep_agent_processes=not args.kill_agent_processes,
                                                    live_verifier=args.live_verifier,
                                                    max_task_clock=args.max_task_clock))
    if args.agent == "model":
        limits = R.Limits(max_turns=args.max_turns, max_turn_tokens=args.max_turn_tokens,
                          format_reminder=args.format_reminder,
                          system_prompt=args.system_prompt or R.SYSTEM_PROMPT,
                          keep_agent_processes=not args.kill_agent_processes,
                          live_verifier=args.live_verifier, max_task_clock=args.max_task_clock)
        results = evaluate_model(model, tok, tasks, args.k, args.seed, limits, temperature=args.temperature,
                                 top_p=args.top_p, top_k=args.top_k, batch_tasks=args.batch_tasks,
                                 episodes_path=args.episodes, start_task=start)
    elif args.agent == "scripted" and args.episodes:
        results = record_demos(tasks, args.seeds or f"{args.seed}-{args.seed}", args.episodes, args.workers,
                               start_task=start)
    else:
        results = evaluate(tasks, AGENTS[args.agent], args.seed, args.workers, start_task=start)
    width = max(len(name) for name in results)
    not_columns = ("error", "outcome", "attempts", "successes", "messages", "infrastructure_errors",
                   "verifier_errors", "tampered")
    cols = list(dict.fromkeys(c for r in results.values() for c in r if c not in not_columns))
    print(f"{'task':<{width}}  " + "  ".join(f"{c:>10.10}" for c in cols) + "  error")
    for name, r in results.items():
        print(f"{name:<{width}}  " + "  ".join(f"{r[c]:10.3f}" if c in r else f"{'-':>10}" for c in cols)
              + f"  {errors.one_line(r['error'] or '')}")         # it quotes the task: escaped (rt10b p34)
    s = summarize(results)
    overall = {c: sum(r.get(c, 0.0) for r in results.values()) / len(results) for c in cols}
    print("mean".ljust(width) + "  " + "  ".join(f"{overall[c]:10.3f}" for c in cols))
    print(f"pass@1 = {s['pass_at_1']:.3f} (mean reward {s['reward_mean']:.3f}) over {s['n_tasks']} tasks; "
          f"{plural(s['infrastructure_errors'], 'infrastructure error')} (the machine failed), "
          f"{plural(s['verifier_errors'], 'verifier error')}, "
          f"{plural(s['errors'], 'task')} with other errors "
          f"(agent {args.agent}, seed {args.seed}, {time.monotonic() - t0:.1f} s)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({**overall, **s, "agent": args.agent, "model": args.model, "seed": args.seed,
                       "tasks": results}, f, indent=2)


if __name__ == "__main__":
    sys.exit(guard("eval.py", main))
