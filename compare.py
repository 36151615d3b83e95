"""The paper in miniature: GRPO vs ECHO vs env-only on a tiny terminal agent, on a CPU.

    python compare.py build-agent --out agent/read --overwrite   # the comparison's start (README)
    python compare.py run --out results/read --overwrite         # the registered comparison
    python compare.py report --out results/read                  # the tables and the plot again

`build-agent` records noisy scripted-explorer transcripts (explore.py) of other families than the ones the
comparison trains on (PRIOR, tasks/observe) and clean demonstrations of its training families (TRAIN,
tasks/read/train), writes a random 2M-parameter Qwen3 with its tokenizer (`init-agent` alone does that
step), gives it a general terminal prior by training on every token of the PRIOR transcripts, then expert
SFT on the demonstrations' action tokens only, and writes build.json: which tokens each stage trained on.
`run` refuses a start whose build.json shows env tokens of its families; trains each arm (METHOD.md §3)
from it with echo.py for several paired seeds, audits each run's settings against the registration, then
measures every final checkpoint as METHOD.md §6 does: pass@1 over k attempts on held-out instances (fresh
instances of the training families, and families never trained on, apart), and env CE on another agent's
held-out episodes (the explorer's: the transfer test), split by segment and by fresh/unseen, at T = 1 and
at the calibration temperature 1/T_train. It writes OUT/compare.json, OUT/compare.md (the endpoints and
their verdicts under the rule the README states, with their power) and OUT/compare.svg. An --out that
already holds results or a checkpoint is refused unless --overwrite is given.
"""
import argparse
import hashlib
import json
import math
import os
import re
import shutil
import statistics
import sys
import time
from pathlib import Path

import echo
import eval as ev
import explore
import model as M
import rollout as R
import harbor
from errors import ConfigError, EchoError, MissingError, guard, read_jsonl
from runs import count, number
from tokenizer import build_tokenizer

# The tiny agent: Qwen3's architecture at 2.0M parameters (Qwen3-8B has ~4,000 times more), with a 2,048-token
# byte-level BPE trained on its transcripts, so that a command or a file name is a few tokens.
TINY = dict(hidden_size=192, intermediate_size=512, num_hidden_layers=4, num_attention_heads=4,
            num_key_value_heads=2, head_dim=48, tie_word_embeddings=True)
VOCAB = 2048
# The miniature's system prompt: METHOD.md §4's 448-token prompt would be most of every rollout here.
PROMPT = ("You are a Linux terminal agent. Each turn, think, then run one bash command and read its output; "
          "call done when the task is finished.")
# The registered comparison's families (README "The paper in miniature"): the action that solves an instance
# depends on what an earlier command printed. Its start learns a general terminal prior only from PRIOR, other
# families with other commands and outputs, so no env token of TRAIN or HELDOUT is trained before RL.
TRAIN, HELDOUT = "tasks/read/train", "tasks/read/heldout"   # families trained on / never trained on
PRIOR = "tasks/observe/train,tasks/observe/heldout"          # the general prior's families (every token)
TRANSCRIPT_SEEDS = range(0, 200)        # instances of each PRIOR family: the general prior's transcripts
SFT_SEEDS = range(0, 125)               # clean explorer demonstrations of TRAIN for the action-only SFT
EVAL_SEEDS = range(100_000, 100_008)    # held-out instances (RL draws random 31-bit seeds; these never repeat)
ROLE_NAMES = {R.CONTEXT: "context", R.ACTION: "action", R.WARNING: "warning", R.ENV: "env"}


def texts_of(records, roles=("system", "user", "assistant", "tool")) -> list[str]:
    return [m["content"] for r in records for m in r["messages"] if m["role"] in roles]


def init_agent(transcripts: str, seed: int, out: str, config: dict = TINY, demos: str | None = None) -> None:
    """A random tiny Qwen3 and a byte-level BPE trained on the transcripts' messages (prompt, instructions,
    actions, observations) and, when given, the demonstrations' messages but their observations, with the
    miniature's system prompt beside it (system_prompt.txt)."""
    texts = texts_of(read_jsonl(transcripts))
    if demos:
        texts += texts_of(read_jsonl(demos), roles=("system", "user", "assistant"))
    tok = build_tokenizer([PROMPT, R.FORMAT_REMINDER] + texts, vocab_size=VOCAB)
    model = M.init_weights(M.Qwen3(M.Qwen3Config(vocab_size=tok.vocab_size, **config)), seed)
    M.save(model, tok, out)
    (Path(out) / "system_prompt.txt").write_text(PROMPT + "\n")
    n = sum(p.numel() for p in model.parameters())
    print(f"{out}: random Qwen3, {n:,} parameters, vocab {tok.vocab_size}, seed {seed}", flush=True)


def record_transcripts(tasks_dirs: str, seeds: range, path: Path, noise: float) -> Path:
    """Explorer episodes (explore.py) of every family under the comma-separated task directories, with the
    miniature's prompt; the ones that crashed before a turn are dropped (no messages to learn from).
    Returns the file of the kept ones."""
    raw = path.with_suffix(".raw.jsonl")
    raw.unlink(missing_ok=True)
    tasks = [t for d in tasks_dirs.split(",") for t in harbor.load_tasks(d)]
    explore.record(tasks, seeds, raw, noise=noise, workers=2, system_prompt=PROMPT)
    with open(path, "w") as f:
        for rec in read_jsonl(raw):
            if len(rec["messages"]) > 2:
                f.write(json.dumps(rec) + "\n")
    return path


def token_source(path: Path, tok, trained: str, task_dirs: str) -> dict:
    """What one stage of the build trains on: the file, its families, and its tokens by role, trained
    ("all": every token but the first; "action": the action tokens) or not."""
    counts = {"trained": dict.fromkeys(ROLE_NAMES.values(), 0), "seen": dict.fromkeys(ROLE_NAMES.values(), 0)}
    records = list(read_jsonl(path))
    for rec in records:
        ids, roles = R.tokenize_messages(tok, rec["messages"])
        for r in roles[1:]:                         # the first token is never a target
            counts["seen"][ROLE_NAMES[r]] += 1
            counts["trained"][ROLE_NAMES[r]] += trained == "all" or r == R.ACTION
    return {"file": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "episodes": len(records), "task_dirs": task_dirs.split(","),
            "families": sorted({r["task"] for r in records}), "tokens_trained": trained, "tokens": counts}


def build_agent(out: str, seed: int, work: str, pretrain_steps: int, sft_steps: int, train: str = TRAIN,
                prior: str = PRIOR, transcript_seeds: range = TRANSCRIPT_SEEDS, sft_seeds: range = SFT_SEEDS,
                config: dict = TINY) -> dict:
    """The comparison's start, built from nothing (README "The paper in miniature"):
    1. transcripts: the noisy scripted explorer on the PRIOR families (not the training families);
       demonstrations: the clean explorer on the training families;
    2. a random tiny Qwen3 and its tokenizer (init_agent; the demonstrations' observations left out);
    3. a general terminal prior, as pretraining gives a real LM: cross-entropy on EVERY token of the PRIOR
       transcripts (echo.py --sft-tokens all);
    4. expert SFT (METHOD.md §3) on the demonstrations: ACTION tokens only, no env token trained.
    Writes OUT/build.json, the build record (which files, families and token roles each stage trained on),
    and returns it. `compare.py run` refuses a start whose record shows env tokens of its families."""
    work = Path(work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    t0 = time.monotonic()
    transcripts = record_transcripts(prior, transcript_seeds, work / "transcripts.jsonl", noise=0.3)
    demos = record_transcripts(train, sft_seeds, work / "demos.jsonl", noise=0.0)
    print(f"transcripts recorded in {time.monotonic() - t0:.0f} s", flush=True)
    init_agent(str(transcripts), seed, str(work / "init"), config, demos=str(demos))
    tok = M.load(work / "init")[1]
    prompt = ["--system-prompt", str(work / "init" / "system_prompt.txt")]
    common = ["--tasks", train, "--n", "1", "--seed", str(seed), "--no-checkpointing"] + prompt
    stages, last = [], work / "init"
    # each stage's --sft-tokens is passed to echo.py and to its record from one variable, so they cannot differ
    if pretrain_steps:
        tokens = "all"
        echo.main(["--model", str(last), "--sft", str(transcripts), "--sft-tokens", tokens,
                   "--steps", str(pretrain_steps), "--tasks-per-step", "32", "--lr", "2e-3", "--warmup", "20",
                   "--save-every", str(pretrain_steps), "--out", str(work / "pretrain")] + common)
        last = work / "pretrain" / f"step-{pretrain_steps}"
        stages.append({"stage": "general prior", "steps": pretrain_steps,
                       **token_source(transcripts, tok, tokens, prior)})
    if sft_steps:
        tokens = "action"
        echo.main(["--model", str(last), "--sft", str(demos), "--sft-tokens", tokens,
                   "--steps", str(sft_steps), "--tasks-per-step", "16", "--lr", "5e-4", "--warmup", "0",
                   "--save-every", str(sft_steps), "--out", str(work / "sft")] + common)
        last = work / "sft" / f"step-{sft_steps}"
        stages.append({"stage": "action-only SFT", "steps": sft_steps,
                       **token_source(demos, tok, tokens, train)})
    M.save(*M.load(last), out)  # weights + tokenizer only, no optimizer state
    shutil.copy(work / "init" / "system_prompt.txt", Path(out) / "system_prompt.txt")
    record = {"seed": seed, "config": config, "stages": stages,
              "tokenizer": [{"file": transcripts.name, "roles": ["system", "user", "assistant", "tool"]},
                            {"file": demos.name, "roles": ["system", "user", "assistant"]}],
              "env_token_families": sorted({f for st in stages if st["tokens"]["trained"]["env"]
                                            for f in st["families"]})}
    (Path(out) / "build.json").write_text(json.dumps(record, indent=1) + "\n")
    print(f"{out}: general prior {pretrain_steps} steps, action-only SFT {sft_steps} steps; "
          f"{time.monotonic() - t0:.0f} s in all; build record {out}/build.json")
    return record


def check_start(agent: str, task_dirs: list[str]) -> dict:
    """The start's build record, refused (ConfigError) when it is missing or shows that env tokens of any
    family under task_dirs were trained: the comparison's start must not have seen their output."""
    path = Path(agent) / "build.json"
    if not path.is_file():
        raise ConfigError(f"--agent {agent}: no build.json, so what it was trained on is unknown "
                          f"(compare.py build-agent --out {agent} writes one)")
    record = json.loads(path.read_text())
    ours = {t.name for d in task_dirs for t in harbor.load_tasks(d)}
    if seen := sorted(ours & set(record["env_token_families"])):
        raise ConfigError(f"--agent {agent}: its build trained the env tokens of {', '.join(seen)}, "
                          f"families this comparison trains or holds out; build a start without them")
    return record


# ---- the pre-registered comparison (README "The paper in miniature": the rule was written before the run) ----

# METHOD.md §3 modes as echo.py flags; every arm starts from the same checkpoint with the same settings, and
# within a seed every arm draws the same tasks and instances at every step (echo.py derives them from
# (seed, step)). env-only trains, without rewards, on the held-out families, all of them at every step (the
# paper trains it on a held-out, Python-heavy set), with the released code's λ = 0.05.
ARMS = {"grpo": ["--lam", "0"], "echo": ["--lam", "0.05"], "echo-0.2": ["--lam", "0.2"],
        "env-only": ["--env-only", "--lam", "0.05", "--min-valid-frac", "1.0", "--min-clean-frac", "1.0"]}
# The first design (results/compare.json, tasks/observe): its arms' flags and env-only family, for its report.
FIRST_ARMS = {**ARMS, "env-only": ["--env-only", "--min-valid-frac", "1.0", "--min-clean-frac", "1.0"]}
ENV_ONLY_FAMILY = "missing-file"
SEGMENTS = ("output", "command", "exit code", "harness")
T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}
MARGIN = {"pass": 0.03, "nats": 0.03}  # a CI inside ±MARGIN refutes a claim at this scale


def train_arm(arm: str, seed: int, args) -> Path:
    """One echo.py run; returns its final checkpoint."""
    out = Path(args.out) / "runs" / f"{arm}-seed{seed}"
    shutil.rmtree(out, ignore_errors=True)
    tasks = args.heldout if arm == "env-only" else args.tasks
    echo.main(["--model", args.agent, "--tasks", str(tasks), "--out", str(out), "--steps", str(args.steps),
               "--tasks-per-step", str(args.tasks_per_step), "--n", str(args.n), "--lr", str(args.lr),
               "--warmup", "0", "--max-turns", str(args.max_turns), "--max-turn-tokens", str(args.max_turn_tokens),
               "--max-output-chars", str(args.max_output_chars), "--max-total", str(args.max_total),
               "--save-every", str(args.steps), "--seed", str(seed), "--no-checkpointing",
               "--temperature", str(args.temperature),
               "--system-prompt", str(Path(args.agent) / "system_prompt.txt")] + ARMS[arm])
    if not (out / f"step-{args.steps}").is_dir():   # Ctrl-C/SIGTERM: echo.py saved an earlier step and stopped
        raise EchoError(f"{arm} seed {seed} stopped before step {args.steps}; the arms finished before it are "
                        f"kept in {Path(args.out) / 'compare.json'}, and `compare.py run --resume` goes on")
    return out / f"step-{args.steps}"


def registered_lam(arm: str) -> float:
    flags = ARMS[arm]
    return float(flags[flags.index("--lam") + 1]) if "--lam" in flags else 0.05


def audit_run(run_dir: Path, arm: str, seed: int, args) -> list[str]:
    """How a finished run differs from its registration (empty: none): the settings echo.py saved
    (args.json in the final checkpoint) and, step by step, metrics.jsonl's λ and rollout count. The first
    design's env-only arm trained 1 task x 4 rollouts a step where 4 x 4 was registered; this catches that."""
    saved = json.loads((run_dir / f"step-{args.steps}" / "args.json").read_text())
    want = {"lam": registered_lam(arm), "env_only": arm == "env-only", "steps": args.steps, "seed": seed,
            "tasks": str(args.heldout if arm == "env-only" else args.tasks),
            "tasks_per_step": args.tasks_per_step, "n": args.n, "lr": args.lr,
            "temperature": args.temperature, "max_turns": args.max_turns}
    problems = [f"{k}: ran {saved.get(k)!r}, registered {v!r}" for k, v in want.items() if saved.get(k) != v]
    steps = read_jsonl(run_dir / "metrics.jsonl")
    if len(steps) != args.steps:
        problems.append(f"steps logged: {len(steps)}, registered {args.steps}")
    for s in steps:
        if s["lam"] != want["lam"]:
            problems.append(f"step {s['step']}: λ {s['lam']}, registered {want['lam']}")
        if s["rollouts"] != args.tasks_per_step * args.n:
            problems.append(f"step {s['step']}: {s['rollouts']} rollouts, registered "
                            f"{args.tasks_per_step} tasks x {args.n}")
    return problems


# ---- measuring a checkpoint ----

def heldout_jobs(args) -> list[tuple]:
    """(task, instance seed, group) for every held-out instance: fresh instances of the training families,
    and instances of the families no arm trains on (env-only's own family among them)."""
    fresh = [(t, s, "fresh") for t in harbor.load_tasks(args.tasks) for s in range(args.eval_seed, args.eval_seed + args.instances)]
    unseen = [(t, s, "unseen") for t in harbor.load_tasks(args.heldout)
              for s in range(args.eval_seed, args.eval_seed + args.instances)]
    return (fresh + unseen)[:args.max_tasks]


TRIVIAL = re.compile(r"\s*(ls|pwd|true|:|echo|whoami|clear|cd|ls -la|ls -l)?\s*")


def evaluate_checkpoint(path, args, jobs, heldout_env) -> dict:
    """METHOD.md §6 on the held-out instances (pass@1 over k attempts at T = 0.6, pass@k), the signs of
    collapse the paper describes (env tokens per observation, trivial commands, turns), and env CE by
    segment on the explorer's held-out episodes (the transfer test)."""
    model, tok = M.load(path)
    limits = R.Limits(max_turns=args.max_turns, max_turn_tokens=args.max_turn_tokens, max_total=args.max_total,
                      output_chars=args.max_output_chars, system_prompt=(Path(args.agent) / "system_prompt.txt").read_text().strip("\n"))
    eps = []
    for b in range(0, len(jobs), args.batch_jobs):
        chunk = [(t, s) for t, s, _ in jobs[b:b + args.batch_jobs]]
        eps += R.run_episodes(model, tok, chunk, args.k, limits, temperature=0.6, seed=args.eval_seed + b)
    out = {"jobs": [], "infra_errors": sum(e.infra_error for e in eps)}
    for j, (task, seed, group) in enumerate(jobs):
        c = sum(e.reward >= ev.SUCCESS for e in eps[j * args.k:(j + 1) * args.k])
        out["jobs"].append({"task": task.name, "seed": seed, "group": group, "successes": c})
    for group in ("fresh", "unseen", "all"):
        cs = [x["successes"] for x in out["jobs"] if group in ("all", x["group"])]
        out[f"pass_at_1_{group}"] = sum(cs) / (len(cs) * args.k) if cs else float("nan")
        out[f"pass_at_k_{group}"] = sum(ev.pass_at_k(args.k, c, args.k) for c in cs) / len(cs) if cs else float("nan")
    fam = [x["successes"] for x in out["jobs"] if x["task"] == ENV_ONLY_FAMILY]
    out["pass_at_1_env_only_family"] = sum(fam) / (len(fam) * args.k) if fam else float("nan")
    commands = [m["content"] for e in eps for m in e.messages if m["role"] == "assistant"]
    parsed = [R.parse_action(c.removeprefix("<think>\n")) for c in commands]
    bash = [a.command for a in parsed if a.tool == "bash"]
    tool_msgs = sum(m["role"] == "tool" for e in eps for m in e.messages)
    out["env_tokens_per_observation"] = sum(r == R.ENV for e in eps for r in e.roles) / max(1, tool_msgs)
    out["trivial_command_share"] = sum(bool(TRIVIAL.fullmatch(c)) for c in bash) / max(1, len(bash))
    out["turns"] = sum(e.turns for e in eps) / max(1, len(eps))
    ce = segment_ce(model, heldout_env, args.temperature)
    out["env_ce"], out["env_ce_group"] = ce["all"], {"fresh": ce["fresh"], "unseen": ce["unseen"]}
    return out


def body_segments(body: str) -> list[tuple[int, int, str]]:
    """(start, end, segment) over an observation body's characters: the command echoed back, its output,
    the exit code, and the harness's own words around them (a parse error is all harness)."""
    m = re.fullmatch(r"(Command ')(.*)(' (?:executed successfully|failed)\. Output: )(.*)(\n\n\(exit_code=)(-?\d+)(\))",
                     body, re.S)
    kinds = ["harness", "command", "harness", "output", "harness", "exit code", "harness"]
    if not m:
        m = re.fullmatch(r"(Command ')(.*)(' timed out after \d+ seconds\.)()(\n\n\(exit_code=)(-1)(\))", body, re.S)
    if not m:
        return [(0, len(body), "harness")]
    return [(m.start(i + 1), m.end(i + 1), k) for i, k in enumerate(kinds)]


def env_segments(tok, messages: list[dict]) -> list[str]:
    """The segment of every env token of a conversation, in the order R.tokenize_messages gives them."""
    labels = []
    for m in messages[2:]:
        if m["role"] == "tool":
            warn, body = R.split_tool_message(m["content"])
            _, offsets, roles, b0 = R.tool_response_tokens(tok, warn, body)
            spans = body_segments(body)
            for (s, _), role in zip(offsets, roles):
                if role == R.ENV:
                    c = max(s, b0) - b0   # the body character the token starts at
                    labels.append(next(k for lo, hi, k in spans if lo <= c < hi))
    return labels


def env_table(tok, records: list[dict], fresh: set[str] = frozenset()) -> list[tuple]:
    """(ids, roles, segment of each env token, group) per episode: the tokenizer's work, done once per run
    and shared by every checkpoint (they all have the start's tokenizer). group: "fresh" for an episode of
    a family in `fresh` (the training families), else "unseen"."""
    rows = []
    for rec in records:
        ids, roles = R.tokenize_messages(tok, rec["messages"])
        labels = env_segments(tok, rec["messages"])
        assert sum(r == R.ENV for r in roles[1:]) == len(labels), "segments and env tokens disagree"
        rows.append((ids, roles, labels, "fresh" if rec.get("task") in fresh else "unseen"))
    return rows


def per_segment(values, width: int) -> dict:
    """{segment and "all": [sum of each of the `width` values, count]} from (segment, *values) per token."""
    sums = {k: [0.0] * width + [0] for k in SEGMENTS + ("all",)}
    for k, *xs in values:
        for key in (k, "all"):
            for i, x in enumerate(xs):
                sums[key][i] += x
            sums[key][-1] += 1
    return sums


def segment_ce(model, rows: list[tuple], t_train: float) -> dict:
    """Env CE (nats per env token) of env_table's episodes per segment, at T = 1, at T_train and at the
    calibration temperature 1 / T_train ("tcal": L_Env trained at T_train has its fixed point where
    softmax(z / T_train) fits the data, so at T = 1 it is that fit flattened to the power T_train; a model
    never trained on env tokens, read at T = 1 / T_train, is flattened the same way). Returns
    {"all": ..., "fresh": ..., "unseen": ...}, each {segment: {"t1", "ttrain", "tcal", "tokens"}}."""
    temps = (1.0, t_train, 1.0 / t_train)
    values = {"all": [], "fresh": [], "unseen": []}
    for ids, roles, labels, group in rows:
        nlls = [n.tolist() for n in ev.env_token_nll(model, ids, roles, temps)]
        for row in zip(labels, *nlls):
            values["all"].append(row)
            values[group].append(row)
    return {g: {k: {"t1": a / n if n else float("nan"), "ttrain": b / n if n else float("nan"),
                    "tcal": c / n if n else float("nan"), "tokens": n}
                for k, (a, b, c, n) in per_segment(v, 3).items()} for g, v in values.items()}


def unigram_ce(tok, train_records, rows: list[tuple]) -> dict:
    """The trivial baseline: env CE of a unigram model of the training transcripts' env tokens (add-one
    smoothing over the vocabulary), per segment, on env_table's held-out episodes."""
    counts = [1.0] * tok.vocab_size
    for rec in train_records:
        ids, roles = R.tokenize_messages(tok, rec["messages"])
        for t, r in zip(ids, roles):
            if r == R.ENV:
                counts[t] += 1
    total = sum(counts)
    def values():
        for ids, roles, labels, _ in rows:
            env = [t for t, r in zip(ids[1:], roles[1:]) if r == R.ENV]
            yield from ((k, -math.log(counts[t] / total)) for k, t in zip(labels, env))
    return {k: {"t1": a / n if n else float("nan"), "tokens": n} for k, (a, n) in per_segment(values(), 1).items()}


# ---- statistics and the pre-registered decision rule ----

def mean_ci(xs: list[float]) -> tuple[float, float, float]:
    """Mean and 95% t-interval of xs (nan bounds for fewer than two values)."""
    xs = [x for x in xs if x == x]
    if not xs:
        return float("nan"), float("nan"), float("nan")
    m = sum(xs) / len(xs)
    if len(xs) < 2:
        return m, float("nan"), float("nan")
    half = T95[len(xs) - 1] * statistics.stdev(xs) / math.sqrt(len(xs))
    return m, m - half, m + half


def verdict(lo: float, hi: float, margin: float) -> str:
    """The first comparison's rule, in its own words: verdict2's decision ("refuted at this scale" for a CI
    within ±margin, "refuted (the opposite holds)" for one that excludes 0 on the other side)."""
    v = verdict2(lo, hi, margin)
    return {"the opposite holds": "refuted (the opposite holds)", "refuted": "refuted at this scale"}.get(v, v)


def claims(result: dict) -> list[dict]:
    """The paper's four claims as paired effects over seeds (effect > 0 is what the paper claims)."""
    runs = result["runs"]
    def paired(a, b, f):
        seeds = sorted({r["seed"] for r in runs.values() if r["arm"] == a} & {r["seed"] for r in runs.values() if r["arm"] == b})
        return [f(runs[f"{a}-seed{s}"], runs[f"{b}-seed{s}"]) for s in seeds]
    start = result["start"]
    rows = [
        ("ECHO (λ 0.05) raises held-out pass@1 over GRPO", "pass",
         paired("echo", "grpo", lambda e, g: e["pass_at_1_all"] - g["pass_at_1_all"])),
        ("ECHO lowers env CE on another agent's held-out episodes, on actual command output (T = 1)", "nats",
         paired("echo", "grpo", lambda e, g: g["env_ce"]["output"]["t1"] - e["env_ce"]["output"]["t1"])),
        ("Too large a λ (0.2) lowers held-out pass@1 below λ 0.05", "pass",
         paired("echo", "echo-0.2", lambda e, h: e["pass_at_1_all"] - h["pass_at_1_all"])),
        (f"Env-only training, without rewards, raises pass@1 on the family it trains on ({ENV_ONLY_FAMILY})", "pass",
         [r["pass_at_1_env_only_family"] - start["pass_at_1_env_only_family"] for r in runs.values() if r["arm"] == "env-only"]),
    ]
    out = []
    for claim, unit, diffs in rows:
        m, lo, hi = mean_ci(diffs)
        out.append({"claim": claim, "unit": unit, "n": len(diffs), "mean": m, "lo": lo, "hi": hi,
                    "verdict": verdict(lo, hi, MARGIN[unit]) if diffs else "not run"})
    return out


# ---- the registered design (README "The second comparison, pre-registered") ----

DESIGN = 2          # settings["design"] of a result; the first design's results (tasks/observe) have none
T80 = {1: 1.376, 2: 1.061, 3: 0.978, 4: 0.941, 5: 0.920, 6: 0.906, 7: 0.896, 8: 0.889, 9: 0.883}
PRIMARY_MARGIN = 0.03   # ±3 pp of pass@1 on fresh instances: the equivalence margin on the primary scale


def power(xs: list[float]) -> dict:
    """What an interval over these paired differences could tell apart: `excludes`, the smallest |effect|
    the observed 95% interval excludes on both sides (max |bound|), and `mde80`, the effect a fresh run of
    this many seeds with this spread would detect 4 times in 5 ((t.975 + t.80) * sd / sqrt(n))."""
    xs = [x for x in xs if x == x]
    if len(xs) < 2:
        return {"excludes": float("nan"), "mde80": float("nan")}
    m, lo, hi = mean_ci(xs)
    df = len(xs) - 1
    return {"excludes": max(abs(lo), abs(hi)),
            "mde80": (T95[df] + T80[df]) * statistics.stdev(xs) / math.sqrt(len(xs))}


def verdict2(lo: float, hi: float, margin: float) -> str:
    """The registered rule: "supported" if the 95% CI excludes 0 on the claimed side; "the opposite holds"
    if it excludes 0 on the other; "refuted" only when the whole CI lies within ±margin on this scale;
    otherwise "inconclusive" (the interval is too wide to tell; the power columns say how wide)."""
    if lo != lo:
        return "inconclusive (one seed)"
    if lo > 0:
        return "supported"
    if hi < 0:
        return "the opposite holds"
    if -margin <= lo and hi <= margin:
        return "refuted"
    return "inconclusive"


def auc(rewards: list[float]) -> float:
    """Area under the training-reward curve, per step: the mean train reward over the run's steps (a step
    that logged none, nan, skipped). ECHO − GRPO in it is the sample-efficiency endpoint."""
    xs = [x for x in rewards if x == x]
    return sum(xs) / len(xs) if xs else float("nan")


def endpoints(result: dict) -> list[dict]:
    """The registered endpoints as paired effects over seeds (effect > 0 is what the paper claims), each
    with its verdict under verdict2 and its power. Only "primary" decides claim 1; the others are
    reported beside it, each on its own scale and margin."""
    runs, start = result["runs"], result["start"]
    def paired(a, b, f):
        seeds = lambda arm: {r["seed"] for r in runs.values() if r["arm"] == arm}  # noqa: E731
        return [f(runs[f"{a}-seed{s}"], runs[f"{b}-seed{s}"]) for s in sorted(seeds(a) & seeds(b))]
    out_ce = lambda r, g, t="t1": r["env_ce_group"][g]["output"][t]  # noqa: E731
    rows = [
        ("primary", "ECHO − GRPO: pass@1 on fresh instances of the training families", "pass",
         paired("echo", "grpo", lambda e, g: e["pass_at_1_fresh"] - g["pass_at_1_fresh"])),
        ("sample efficiency", "ECHO − GRPO: area under the training-reward curve (mean reward per step)",
         "pass",
         paired("echo", "grpo", lambda e, g: auc(e["reward"]) - auc(g["reward"]))),
        ("unseen families", "ECHO − GRPO: pass@1 on families never trained on", "pass",
         paired("echo", "grpo", lambda e, g: e["pass_at_1_unseen"] - g["pass_at_1_unseen"])),
        ("claim 2, fresh", "GRPO − ECHO: env CE of the output, fresh instances' episodes (T = 1)", "nats",
         paired("echo", "grpo", lambda e, g: out_ce(g, "fresh") - out_ce(e, "fresh"))),
        ("claim 2, unseen", "GRPO − ECHO: env CE of the output, unseen families' episodes (T = 1)", "nats",
         paired("echo", "grpo", lambda e, g: out_ce(g, "unseen") - out_ce(e, "unseen"))),
        ("claim 2, calibrated, fresh", "GRPO at T = 1/T_train − ECHO at T = 1: env CE of the output, fresh",
         "nats",
         paired("echo", "grpo", lambda e, g: out_ce(g, "fresh", "tcal") - out_ce(e, "fresh"))),
        ("claim 2, calibrated, unseen", "GRPO at T = 1/T_train − ECHO at T = 1: env CE of the output, unseen",
         "nats",
         paired("echo", "grpo", lambda e, g: out_ce(g, "unseen", "tcal") - out_ce(e, "unseen"))),
        ("claim 3", "λ 0.05 − λ 0.2: pass@1 on fresh instances", "pass",
         paired("echo", "echo-0.2", lambda e, h: e["pass_at_1_fresh"] - h["pass_at_1_fresh"])),
        ("claim 4", "env-only − start: pass@1 on the held-out families env-only trains on, without rewards",
         "pass", [r["pass_at_1_unseen"] - start["pass_at_1_unseen"] for r in runs.values()
                  if r["arm"] == "env-only"]),
    ]
    out = []
    for key, claim, unit, diffs in rows:
        m, lo, hi = mean_ci(diffs)
        margin = PRIMARY_MARGIN if unit == "pass" else MARGIN["nats"]
        out.append({"endpoint": key, "claim": claim, "unit": unit, "n": len(diffs), "mean": m, "lo": lo,
                    "hi": hi, "margin": margin, **power(diffs),
                    "verdict": verdict2(lo, hi, margin) if diffs else "not run"})
    return out


def table2(result) -> str:
    """The registered design's tables: per arm, then the endpoints with their verdicts and power."""
    s, start = result["settings"], result["start"]
    rows = ["| arm | seeds | pass@1, fresh | pass@1, unseen | reward AUC "
            "| env CE output, fresh (T=1 / T=1/T_train) "
            "| env CE output, unseen (T=1 / T=1/T_train) | turns |",
            "|" + "---|" * 8]
    def row(name, runs):
        v = lambda f: fmt(*mean_ci([f(r) for r in runs]))  # noqa: E731
        at = lambda g, t: mean_ci([r["env_ce_group"][g]["output"][t] for r in runs])[0]  # noqa: E731
        ce = lambda g: f"{at(g, 't1'):.3f} / {at(g, 'tcal'):.3f}"  # noqa: E731
        return (f"| {name} | {len(runs)} | {v(lambda r: r['pass_at_1_fresh'])} | "
                f"{v(lambda r: r['pass_at_1_unseen'])} | {v(lambda r: auc(r.get('reward', [])))} | "
                f"{ce('fresh')} | {ce('unseen')} | {v(lambda r: r['turns'])} |")
    rows.append(row(f"start ({s['agent']})", [start]))
    for arm in arms_of(result):
        runs = [r for r in result["runs"].values() if r["arm"] == arm]
        rows.append(row(f"{arm} `{' '.join(ARMS[arm])}`", runs))
    ep = ["", "**Endpoints**, effect > 0 in the paper's direction, mean over paired seeds [95% CI]; rule: "
          "supported if the CI excludes 0 on that side, the opposite holds if it excludes 0 on the other, "
          "refuted only if the whole CI lies within ±margin, else inconclusive. Power: the smallest |effect| "
          "the CI excludes, and the effect this many seeds would detect 4 times in 5 (MDE80):", "",
          "| endpoint | effect | seeds | mean [95% CI] | margin | excludes beyond | MDE80 | verdict |",
          "|---|---|---|---|---|---|---|---|"]
    for e in endpoints(result):
        k, unit = (100, " pp") if e["unit"] == "pass" else (1, " nats")
        d = 1 if k == 100 else 3
        effect = fmt(e["mean"] * k, e["lo"] * k, e["hi"] * k, d)
        ep.append(f"| {e['endpoint']} | {e['claim']} | {e['n']} | {effect}{unit} | "
                  f"±{e['margin'] * k:g}{unit} | {e['excludes'] * k:.{d}f}{unit} | "
                  f"{e['mde80'] * k:.{d}f}{unit} | {e['verdict']} |")
    note = (f"\n\nHeld-out: {s['instances']} fresh instances (seeds {s['eval_seed']}+) of each family in "
            f"{s['tasks']} and of each never-trained family in {s['heldout']}; pass@1 over k = {s['k']} "
            f"attempts "
            f"at T = 0.6. Training: {s['steps']} steps of {s['tasks_per_step']} tasks x {s['n']} rollouts, "
            f"lr {s['lr']}, T_train {s['temperature']}. Means with 95% t-intervals over seeds.\n")
    return "\n".join(rows + ep) + note


def run(args) -> dict:
    check_start(args.agent, [args.tasks, args.heldout])  # its build record: no env token of these families
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    jobs = heldout_jobs(args)
    tok = M.load(args.agent)[1]
    settings = {"design": DESIGN, **{k: v for k, v in vars(args).items()
                                     if k not in ("cmd", "overwrite", "debug", "resume")}}
    done = resumed(out, settings) if args.resume else None
    # the other agent's episodes for the transfer test: the explorer on the held-out instances; and, for the
    # unigram baseline, its episodes of training instances (seeds 0-49, inside the pretraining range)
    episodes_file, train_file = out / "heldout-episodes.jsonl", out / "train-episodes.jsonl"
    if done is None:
        for f in (episodes_file, train_file):
            f.unlink(missing_ok=True)
        explore.record([t for t, _, _ in jobs[::args.instances]],
                       range(args.eval_seed, args.eval_seed + args.instances),
                       episodes_file, noise=0.3, workers=2, system_prompt=PROMPT)
        explore.record(harbor.load_tasks(args.tasks), range(0, 50 if not args.max_tasks else 1), train_file,
                       noise=0.3, workers=2, system_prompt=PROMPT)
    heldout_env = env_table(tok, [r for r in read_jsonl(episodes_file) if len(r["messages"]) > 2],
                            fresh={t.name for t in harbor.load_tasks(args.tasks)})
    result = done or {"settings": settings, "build": json.loads((Path(args.agent) / "build.json").read_text()),
                      "unigram": unigram_ce(tok, read_jsonl(train_file), heldout_env), "runs": {}}
    if "start" not in result:
        t0 = time.monotonic()
        result["start"] = evaluate_checkpoint(args.agent, args, jobs, heldout_env)
        (out / "compare.json").write_text(json.dumps(result, indent=1))
        print(f"start: pass@1 {result['start']['pass_at_1_all']:.3f} ({time.monotonic() - t0:.0f} s to evaluate)",
              flush=True)
    seeds, side = [int(s) for s in args.seeds.split(",")], [int(s) for s in args.side_seeds.split(",")]
    for seed in seeds:  # seed-major: a run cut short still has every arm for the seeds it finished
        for arm in args.arms.split(","):
            if arm not in ("grpo", "echo") and seed not in side:
                continue
            if f"{arm}-seed{seed}" in result["runs"]:   # --resume: finished before the run was cut short
                print(f"{arm} seed {seed}: done before, kept", flush=True)
                continue
            t0 = time.monotonic()
            ck = train_arm(arm, seed, args)
            problems = audit_run(ck.parent, arm, seed, args)
            if problems:   # each arm trains exactly as registered, or the comparison stops
                raise ConfigError(f"{arm} seed {seed} did not train as registered: "
                                  + "; ".join(problems[:5]))
            steps = read_jsonl(ck.parent / "metrics.jsonl")
            t1 = time.monotonic()
            result["runs"][f"{arm}-seed{seed}"] = {
                "arm": arm, "seed": seed, "audit": problems,
                **evaluate_checkpoint(ck, args, jobs, heldout_env),
                "reward": [s["reward_mean"] for s in steps],  # a step with no env tokens logs null: nan here
                "env_ce_t1": [math.nan if s["env_ce_t1"] is None else s["env_ce_t1"] for s in steps],
                "train_s": round(t1 - t0, 1), "eval_s": round(time.monotonic() - t1, 1)}
            (out / "compare.json").write_text(json.dumps(result, indent=1))  # partial results survive a kill
            write_report(out, result)
            print(f"{arm} seed {seed}: trained {t1 - t0:.0f} s, evaluated {time.monotonic() - t1:.0f} s", flush=True)
    print(report_text(result))
    return result


def resumed(out: Path, settings: dict) -> dict | None:
    """--resume: the partial result in OUT/compare.json of a run cut short (a kill, a session's end), if it
    ran with exactly these settings and its explorer episodes are still there; None: nothing to resume.
    Any other difference is an error: a comparison is never stitched from two registrations."""
    path = out / "compare.json"
    if not path.is_file():
        return None
    result = read_result(path)
    if result.get("settings") != settings:
        diff = sorted(k for k in set(settings) | set(result.get("settings", {}))
                      if settings.get(k) != result.get("settings", {}).get(k))
        raise ConfigError(f"--resume: {path} ran with other settings ({', '.join(diff)}); "
                          f"--overwrite starts again")
    missing = [f for f in ("heldout-episodes.jsonl", "train-episodes.jsonl") if not (out / f).is_file()]
    if missing:
        raise ConfigError(f"--resume: {out} lacks {', '.join(missing)}; --overwrite starts again")
    return result


def write_report(out: Path, result: dict) -> None:
    """OUT/compare.md (the tables) and OUT/compare.svg (the curves) from a result."""
    (out / "compare.md").write_text(report_text(result))
    (out / "compare.svg").write_text(plot(result))


def report_text(result) -> str:
    """The tables of a result: the registered design's (table2), or the first design's (table)."""
    return table2(result) if result["settings"].get("design") == DESIGN else table(result)


def arms_of(result) -> list[str]:
    return list(dict.fromkeys(r["arm"] for r in result["runs"].values()))


def fmt(m, lo, hi, d=3) -> str:
    return f"{m:.{d}f}" if lo != lo else f"{m:.{d}f} [{lo:.{d}f}, {hi:.{d}f}]"


def table(result) -> str:
    s, start = result["settings"], result["start"]
    cols = ["pass_at_1_all", "pass_at_1_fresh", "pass_at_1_unseen", "pass_at_k_all", "pass_at_1_env_only_family"]
    head = ("| arm | seeds | held-out pass@1 | fresh instances | unseen families | pass@k | "
            f"{ENV_ONLY_FAMILY} | env CE, output (T=1) | env CE, all (T=1 / T_train) | env tokens per obs | "
            "trivial commands | turns |")
    rows = [head, "|" + "---|" * 12]
    def row(name, runs):
        v = lambda k: mean_ci([r[k] for r in runs])  # noqa: E731
        ce = lambda seg, t: mean_ci([r["env_ce"][seg][t] for r in runs])  # noqa: E731
        return (f"| {name} | {len(runs)} | " + " | ".join(fmt(*v(c)) for c in cols) + f" | {fmt(*ce('output', 't1'))} | "
                f"{ce('all', 't1')[0]:.3f} / {ce('all', 'ttrain')[0]:.3f} | {v('env_tokens_per_observation')[0]:.1f} | "
                f"{v('trivial_command_share')[0]:.3f} | {v('turns')[0]:.2f} |")
    rows.append(row(f"start ({s['agent']})", [start]))
    for arm in arms_of(result):
        runs = [r for r in result["runs"].values() if r["arm"] == arm]
        rows.append(row(f"{arm} `{' '.join(FIRST_ARMS[arm])}`", runs))
    seg = ["", "**Env CE by segment** (nats per env token at T = 1, the explorer's held-out episodes; "
           "share of env tokens in brackets):", "",
           "| model | " + " | ".join(f"{k} ({result['unigram'][k]['tokens'] / max(1, result['unigram']['all']['tokens']):.0%})"
                                      for k in SEGMENTS) + " | all |", "|" + "---|" * (len(SEGMENTS) + 2),
           "| unigram of the training env tokens | " + " | ".join(f"{result['unigram'][k]['t1']:.3f}" for k in SEGMENTS + ("all",)) + " |",
           f"| start ({s['agent']}) | " + " | ".join(f"{start['env_ce'][k]['t1']:.3f}" for k in SEGMENTS + ("all",)) + " |"]
    for arm in arms_of(result):
        runs = [r for r in result["runs"].values() if r["arm"] == arm]
        seg.append(f"| {arm} | " + " | ".join(f"{mean_ci([r['env_ce'][k]['t1'] for r in runs])[0]:.3f}"
                                             for k in SEGMENTS + ("all",)) + " |")
    cl = ["", "**The paper's claims**, effect > 0 in the paper's direction, mean over paired seeds [95% CI]; "
          f"the rule: supported if the CI excludes 0 on that side, refuted at this scale if it lies within "
          f"±{MARGIN['pass'] * 100:g} pp (pass@1) or ±{MARGIN['nats']:g} nats, or excludes 0 on the other side, else inconclusive:", "",
          "| claim | seeds | effect | verdict |", "|---|---|---|---|"]
    for c in claims(result):
        unit = " pp" if c["unit"] == "pass" else " nats"
        k = 100 if c["unit"] == "pass" else 1
        cl.append(f"| {c['claim']} | {c['n']} | {fmt(c['mean'] * k, c['lo'] * k, c['hi'] * k, 1 if k == 100 else 3)}{unit} "
                  f"| {c['verdict']} |")
    note = (f"\n\nHeld-out: {s['instances']} fresh instances (seeds {s['eval_seed']}+) of each family in {s['tasks']} and of each "
            f"never-trained family in {s['heldout']}; pass@1 over k = {s['k']} attempts at T = 0.6, pass@k with the "
            f"unbiased estimator. Training: {s['steps']} steps of {s['tasks_per_step']} tasks x {s['n']} rollouts, "
            f"lr {s['lr']}, T_train {s['temperature']}. Means with 95% t-intervals over seeds.\n")
    return "\n".join(rows + seg + cl) + note


def plot(result, w=420, h=260, pad=44) -> str:
    """SVG, written by hand: train reward and env CE (T = 1) of each step's rollouts per arm, the mean over
    seeds with its 95% band."""
    colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"]
    panels = []
    for j, (key, title) in enumerate([("reward", "train reward (mean over rollouts)"),
                                      ("env_ce_t1", "env CE of the training rollouts (T=1)")]):
        curves = {}
        for arm in arms_of(result):
            runs = [r[key] for r in result["runs"].values() if r["arm"] == arm]
            curves[arm] = [mean_ci([run[i] for run in runs]) for i in range(min(map(len, runs)))]
        vals = [v for c in curves.values() for p in c for v in p if v == v]
        lo, hi = (min(vals), max(vals)) if vals else (0.0, 1.0)
        lo, hi = (lo - 0.05, hi + 0.05) if hi - lo < 1e-9 else (lo, hi)
        steps = max(map(len, curves.values()), default=1)
        x = lambda i: pad + i / max(steps - 1, 1) * (w - 10 - pad)  # noqa: E731
        y = lambda v: h - pad - (v - lo) / (hi - lo) * (h - pad - 30)  # noqa: E731
        g = [f'<g transform="translate({j * (w + 20)},0)"><text x="{w / 2}" y="16" text-anchor="middle">{title}</text>',
             f'<line x1="{pad}" y1="{h - pad}" x2="{w - 10}" y2="{h - pad}" stroke="black"/>',
             f'<line x1="{pad}" y1="30" x2="{pad}" y2="{h - pad}" stroke="black"/>',
             f'<text x="{pad - 4}" y="34" text-anchor="end">{hi:.2f}</text>',
             f'<text x="{pad - 4}" y="{h - pad}" text-anchor="end">{lo:.2f}</text>',
             f'<text x="{w / 2}" y="{h - 12}" text-anchor="middle">step</text>',
             f'<text x="{pad}" y="{h - pad + 14}" text-anchor="middle">1</text>',
             f'<text x="{w - 10}" y="{h - pad + 14}" text-anchor="middle">{steps}</text>']
        for k, (arm, c) in enumerate(curves.items()):
            color = colors[k % 5]
            band = [(i, p[1], p[2]) for i, p in enumerate(c) if p[1] == p[1]]
            if band:
                pts = [f"{x(i):.1f},{y(top):.1f}" for i, _, top in band] + \
                      [f"{x(i):.1f},{y(bot):.1f}" for i, bot, _ in reversed(band)]
                g.append(f'<polygon fill="{color}" fill-opacity="0.15" stroke="none" points="{" ".join(pts)}"/>')
            line = " ".join(f"{x(i):.1f},{y(p[0]):.1f}" for i, p in enumerate(c) if p[0] == p[0])
            g.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{line}"/>')
            g.append(f'<text x="{w - 12}" y="{44 + 14 * k}" text-anchor="end" fill="{color}">{arm}</text>')
        panels.append("\n".join(g) + "</g>")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * w + 20}" height="{h}" font-family="sans-serif" '
            f'font-size="11">\n<rect width="100%" height="100%" fill="white"/>\n' + "\n".join(panels) + "\n</svg>\n")


# ---- flags: every value is checked before any work starts (numbers: runs.count / runs.number) --------------

def arm_list(text: str) -> str:
    unknown = [arm for arm in text.split(",") if arm not in ARMS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown arm {unknown[0]!r} in {text!r} (arms: {','.join(ARMS)})")
    return text


def seed_list(text: str) -> str:
    seeds = text.split(",")
    if not all(s.strip().isdigit() for s in seeds) or len(set(map(int, seeds))) < len(seeds):
        raise argparse.ArgumentTypeError(f"must be distinct integers >= 0 joined by commas, got {text!r}")
    return text


def dir_list(text: str) -> str:
    for d in text.split(","):
        ev.existing_dir(d)
    return text


def out_dir(text: str) -> str:
    if os.path.exists(text) and not os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"not a directory: {text!r}")
    return text


# What each command writes in --out: if any of it is there already, the command refuses unless --overwrite.
CHECKPOINT = ["config.json", "model.safetensors", "tokenizer.json"]
WRITES = {"run": ("results", ["compare.json", "compare.md", "compare.svg", "heldout-episodes.jsonl",
                              "train-episodes.jsonl", "runs"]),
          "build-agent": ("a checkpoint", CHECKPOINT), "init-agent": ("a checkpoint", CHECKPOINT)}


def refuse_overwrite(cmd: str, out) -> None:
    what, names = WRITES[cmd]
    held = [name for name in names if (Path(out) / name).exists()]
    if held:
        raise ConfigError(f"--out {out} already holds {what} ({', '.join(held)}); --overwrite replaces "
                          f"{'them' if len(held) > 1 else 'it'}, or choose another --out")


def main(argv=None) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true",
                        help="show the traceback of an error, not just one line")
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0], parents=[common])
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("init-agent", parents=[common],
                       help="write the tiny agent's random starting checkpoint")
    a.add_argument("--transcripts", required=True, type=ev.existing_file,
                   help="explorer episodes (explore.py) to train the tokenizer on")
    a.add_argument("--seed", type=count(0), default=0)
    a.add_argument("--out", type=out_dir, default="agent/init")
    a.add_argument("--overwrite", action="store_true", help="replace a checkpoint already in --out")
    b = sub.add_parser("build-agent", parents=[common],
                       help="build the comparison's start: general prior on other families, action-only SFT")
    b.add_argument("--out", type=out_dir, default="agent/read")
    b.add_argument("--overwrite", action="store_true", help="replace a checkpoint in --out")
    b.add_argument("--seed", type=count(0), default=0)
    b.add_argument("--train", type=ev.existing_dir, default=TRAIN,
                   help="the families whose demonstrations' action tokens the SFT trains on")
    b.add_argument("--prior", type=dir_list, default=PRIOR,
                   help="comma-separated task directories whose transcripts the general prior trains on, "
                        "every token (env output included): not --train's families")
    b.add_argument("--transcripts", type=count(1), default=len(TRANSCRIPT_SEEDS),
                   help="instances of each --prior family (seeds 0..N-1)")
    b.add_argument("--demos", type=count(1), default=len(SFT_SEEDS), help="instances of each --train family")
    b.add_argument("--pretrain-steps", type=count(0), default=500, help="0: no general prior")
    b.add_argument("--sft-steps", type=count(0), default=100, help="0: no action-only SFT")
    b.add_argument("--work", type=out_dir, default="runs/agent",
                   help="transcripts, the random init and the training runs go here (deleted first)")
    r = sub.add_parser("run", parents=[common],
                       help="train every arm x seed from the agent, evaluate, write table + plot")
    r.add_argument("--agent", type=ev.checkpoint, default="agent/read",
                   help="every arm's starting checkpoint (with build.json: compare.py build-agent)")
    r.add_argument("--tasks", type=ev.existing_dir, default=TRAIN, help="the families the arms train on")
    r.add_argument("--heldout", type=ev.existing_dir, default=HELDOUT,
                   help="families no arm trains on but env-only (all of them, without rewards)")
    r.add_argument("--out", type=out_dir, default="results")
    r.add_argument("--overwrite", action="store_true",
                   help="replace the results in --out (results/ has some)")
    r.add_argument("--resume", action="store_true",
                   help="go on with a run cut short in --out: its finished arms are kept (same settings only)")
    r.add_argument("--arms", type=arm_list, default=",".join(ARMS))
    r.add_argument("--seeds", type=seed_list, default="0,1,2,3,4", help="seeds of every arm")
    r.add_argument("--side-seeds", type=seed_list, default="0,1,2",
                   help="the seeds of --seeds that echo-0.2 and env-only also run")
    r.add_argument("--steps", type=count(1), default=40)
    r.add_argument("--tasks-per-step", type=count(1), default=4)
    r.add_argument("--n", type=count(1), default=4)
    r.add_argument("--lr", type=number(0, strict=True), default=1e-4)
    r.add_argument("--temperature", type=number(0, strict=True), default=0.8, help="T_train")
    r.add_argument("--max-turns", type=count(1), default=8)
    r.add_argument("--max-turn-tokens", type=count(1), default=96)
    r.add_argument("--max-total", type=count(1), default=2048)
    r.add_argument("--max-output-chars", type=count(1), default=2000,
                   help="command output cut to this many characters (paper 50,000): one runaway `cat` of a "
                        "big file would otherwise cost minutes of CPU")
    r.add_argument("-k", type=count(1), default=4, help="attempts per held-out instance")
    r.add_argument("--eval-seed", type=count(0), default=EVAL_SEEDS.start, help="first held-out instance seed")
    r.add_argument("--instances", type=count(1), default=len(EVAL_SEEDS), help="held-out instances per family")
    r.add_argument("--batch-jobs", type=count(1), default=26, help="held-out instances decoded together")
    r.add_argument("--max-tasks", type=count(1), help="only the first N held-out instances (the CI smoke run)")
    rep = sub.add_parser("report", parents=[common],
                         help="rewrite OUT/compare.md and OUT/compare.svg from OUT/compare.json")
    rep.add_argument("--out", type=ev.existing_dir, default="results")
    args = p.parse_args(argv)
    if args.cmd in WRITES and not args.overwrite and not getattr(args, "resume", False):
        refuse_overwrite(args.cmd, args.out)
    if args.cmd == "run":
        run(args)
    if args.cmd == "report":  # the table and the plot again, from OUT/compare.json
        result = read_result(Path(args.out) / "compare.json")
        write_report(Path(args.out), result)
        print(report_text(result))
    if args.cmd == "build-agent":
        build_agent(args.out, args.seed, args.work, args.pretrain_steps, args.sft_steps, train=args.train,
                    prior=args.prior, transcript_seeds=range(args.transcripts), sft_seeds=range(args.demos))
    if args.cmd == "init-agent":
        init_agent(args.transcripts, args.seed, args.out)


def read_result(path: Path) -> dict:
    if not path.is_file():
        raise MissingError(f"{path}: no such file (compare.py run --out {path.parent} writes it)")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ConfigError(f"{path}: not JSON ({e.msg}, line {e.lineno})") from None


if __name__ == "__main__":
    sys.exit(guard("compare.py", main))
