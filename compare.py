"""The paper in miniature: GRPO vs ECHO vs env-only on a tiny terminal agent, on a CPU.

    python compare.py build-agent --out agent/tiny --overwrite   # the shipped agent, rebuilt (see README)
    python compare.py run --out results --overwrite              # the pre-registered comparison
    python compare.py report --out results                       # the tables and the plot again

`build-agent` records noisy scripted-explorer transcripts of the observe task families (explore.py),
writes a random 2M-parameter Qwen3 with its tokenizer (`init-agent` alone does that step), gives it a
world-model prior by training on every token of the transcripts, then expert SFT on clean demonstrations.
`run` trains each arm (METHOD.md §3) from that checkpoint with echo.py for several paired seeds, then
measures every final checkpoint as METHOD.md §6 does: pass@1 over k attempts on held-out instances (fresh
instances of the training families, and families never trained on), and env CE on another agent's
held-out episodes (the explorer's: the transfer test), split by segment, next to a unigram baseline. It
writes OUT/compare.json, OUT/compare.md (the tables and the verdicts of the paper's claims under the rule
the README states) and OUT/compare.svg. An --out that already holds results or a checkpoint (the shipped
ones are tracked) is refused unless --overwrite is given.
"""
import argparse
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
from errors import ConfigError, MissingError, guard, read_jsonl
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
TRAIN, HELDOUT = "tasks/observe/train", "tasks/observe/heldout"   # families trained on / never trained on
TRANSCRIPT_SEEDS = range(0, 375)        # 8 families x 375 instances: the pretraining transcripts
SFT_SEEDS = range(375, 500)             # clean explorer demonstrations for the action-only SFT
EVAL_SEEDS = range(100_000, 100_008)    # held-out instances (RL draws random 31-bit seeds; these never repeat)


def texts_of(records) -> list[str]:
    return [m["content"] for r in records for m in r["messages"]]


def init_agent(transcripts: str, seed: int, out: str, config: dict = TINY) -> None:
    """A random tiny Qwen3 and a tokenizer trained on the transcripts' messages (prompt, instructions,
    actions, observations), with the miniature's system prompt beside it (system_prompt.txt)."""
    tok = build_tokenizer([PROMPT, R.FORMAT_REMINDER] + texts_of(read_jsonl(transcripts)), vocab_size=VOCAB)
    model = M.init_weights(M.Qwen3(M.Qwen3Config(vocab_size=tok.vocab_size, **config)), seed)
    M.save(model, tok, out)
    (Path(out) / "system_prompt.txt").write_text(PROMPT + "\n")
    n = sum(p.numel() for p in model.parameters())
    print(f"{out}: random Qwen3, {n:,} parameters, vocab {tok.vocab_size}, seed {seed}", flush=True)


def record_transcripts(tasks_dir: str, seeds: range, path: Path, noise: float) -> Path:
    """Explorer episodes (explore.py) with the miniature's prompt; the ones that crashed before a turn are
    dropped (no messages to learn from). Returns the file of the kept ones."""
    raw = path.with_suffix(".raw.jsonl")
    raw.unlink(missing_ok=True)
    explore.record(harbor.load_tasks(tasks_dir), seeds, raw, noise=noise, workers=2, system_prompt=PROMPT)
    with open(path, "w") as f:
        for rec in read_jsonl(raw):
            if len(rec["messages"]) > 2:
                f.write(json.dumps(rec) + "\n")
    return path


def build_agent(out: str, seed: int, work: str, pretrain_steps: int, sft_steps: int) -> None:
    """The shipped agent, rebuilt from nothing (README "The paper in miniature"):
    1. transcripts: the noisy scripted explorer on 375 instances of each training family (3,000 episodes);
    2. a random tiny Qwen3 and its tokenizer (init_agent);
    3. a world-model prior, as pretraining gives a real LM: cross-entropy on EVERY token of the transcripts,
       env tokens included (echo.py --sft-tokens all);
    4. expert SFT (METHOD.md §3) on clean explorer demonstrations of other instances: action tokens only."""
    work = Path(work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    t0 = time.monotonic()
    transcripts = record_transcripts(TRAIN, TRANSCRIPT_SEEDS, work / "transcripts.jsonl", noise=0.3)
    demos = record_transcripts(TRAIN, SFT_SEEDS, work / "demos.jsonl", noise=0.0)
    print(f"transcripts recorded in {time.monotonic() - t0:.0f} s", flush=True)
    init_agent(str(transcripts), seed, str(work / "init"))
    prompt = ["--system-prompt", str(work / "init" / "system_prompt.txt")]
    common = ["--tasks", TRAIN, "--n", "1", "--seed", str(seed), "--no-checkpointing"] + prompt
    echo.main(["--model", str(work / "init"), "--sft", str(transcripts), "--sft-tokens", "all",
               "--steps", str(pretrain_steps), "--tasks-per-step", "32", "--lr", "2e-3", "--warmup", "20",
               "--save-every", str(pretrain_steps), "--out", str(work / "pretrain")] + common)
    last = work / "pretrain" / f"step-{pretrain_steps}"
    if sft_steps:
        echo.main(["--model", str(last), "--sft", str(demos), "--steps", str(sft_steps),
                   "--tasks-per-step", "16", "--lr", "5e-4", "--warmup", "0", "--save-every", str(sft_steps),
                   "--out", str(work / "sft")] + common)
        last = work / "sft" / f"step-{sft_steps}"
    M.save(*M.load(last), out)  # weights + tokenizer only, no optimizer state
    shutil.copy(work / "init" / "system_prompt.txt", Path(out) / "system_prompt.txt")
    print(f"{out}: pretrained {pretrain_steps} steps, SFT {sft_steps} steps; {time.monotonic() - t0:.0f} s in all")


# ---- the pre-registered comparison (README "The paper in miniature": the rule was written before the run) ----

# METHOD.md §3 modes as echo.py flags; every arm starts from the same checkpoint with the same settings, and
# within a seed every arm draws the same tasks and instances at every step (echo.py derives them from
# (seed, step)). env-only trains, without rewards, on one family the others never see (the paper trains
# it on a held-out Python-heavy set): missing-file, where a Python traceback names what to fix.
ARMS = {"grpo": ["--lam", "0"], "echo": ["--lam", "0.05"], "echo-0.2": ["--lam", "0.2"],
        "env-only": ["--env-only", "--min-valid-frac", "1.0", "--min-clean-frac", "1.0"]}
ENV_ONLY_FAMILY = "missing-file"
SEGMENTS = ("output", "command", "exit code", "harness")
T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}
MARGIN = {"pass": 0.03, "nats": 0.03}  # a CI inside ±MARGIN refutes a claim at this scale


def train_arm(arm: str, seed: int, args) -> Path:
    """One echo.py run; returns its final checkpoint."""
    out = Path(args.out) / "runs" / f"{arm}-seed{seed}"
    shutil.rmtree(out, ignore_errors=True)
    tasks = args.tasks
    if arm == "env-only":  # a task directory holding the one family env-only trains on
        tasks = Path(args.out) / "env-only-tasks"
        shutil.rmtree(tasks, ignore_errors=True)
        shutil.copytree(Path(args.heldout) / ENV_ONLY_FAMILY, tasks / ENV_ONLY_FAMILY)
    echo.main(["--model", args.agent, "--tasks", str(tasks), "--out", str(out), "--steps", str(args.steps),
               "--tasks-per-step", str(args.tasks_per_step), "--n", str(args.n), "--lr", str(args.lr),
               "--warmup", "0", "--max-turns", str(args.max_turns), "--max-turn-tokens", str(args.max_turn_tokens),
               "--max-output-chars", str(args.max_output_chars), "--max-total", str(args.max_total),
               "--save-every", str(args.steps), "--seed", str(seed), "--no-checkpointing",
               "--system-prompt", str(Path(args.agent) / "system_prompt.txt")] + ARMS[arm])
    return out / f"step-{args.steps}"


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
    out["env_ce"] = segment_ce(model, heldout_env, args.temperature)
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


def env_table(tok, records: list[dict]) -> list[tuple]:
    """(ids, roles, segment of each env token) per episode: the tokenizer's work, done once per run and
    shared by every checkpoint (they all have the start's tokenizer)."""
    rows = []
    for rec in records:
        ids, roles = R.tokenize_messages(tok, rec["messages"])
        labels = env_segments(tok, rec["messages"])
        assert sum(r == R.ENV for r in roles[1:]) == len(labels), "segments and env tokens disagree"
        rows.append((ids, roles, labels))
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
    """Env CE (nats per env token) of env_table's episodes, per segment and in all, at T = 1 and T_train."""
    def values():
        for ids, roles, labels in rows:
            nll1, nllt = ev.env_token_nll(model, ids, roles, (1.0, t_train))
            yield from zip(labels, nll1.tolist(), nllt.tolist())
    return {k: {"t1": a / n if n else float("nan"), "ttrain": b / n if n else float("nan"), "tokens": n}
            for k, (a, b, n) in per_segment(values(), 2).items()}


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
        for ids, roles, labels in rows:
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
    """The rule written before the run: supported if the 95% CI of the claimed effect excludes 0 on the
    claimed side; refuted at this scale if it lies within ±margin or excludes 0 on the other side;
    otherwise inconclusive."""
    if lo != lo:
        return "inconclusive (one seed)"
    if lo > 0:
        return "supported"
    if hi < 0:
        return "refuted (the opposite holds)"
    if -margin <= lo and hi <= margin:
        return "refuted at this scale"
    return "inconclusive"


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


def run(args) -> dict:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    jobs = heldout_jobs(args)
    tok = M.load(args.agent)[1]
    # the other agent's episodes for the transfer test: the explorer on the held-out instances; and, for the
    # unigram baseline, its episodes of training instances (seeds 0-49, inside the pretraining range)
    episodes_file, train_file = out / "heldout-episodes.jsonl", out / "train-episodes.jsonl"
    for f in (episodes_file, train_file):
        f.unlink(missing_ok=True)
    explore.record([t for t, _, _ in jobs[::args.instances]], range(args.eval_seed, args.eval_seed + args.instances),
                   episodes_file, noise=0.3, workers=2, system_prompt=PROMPT)
    explore.record(harbor.load_tasks(args.tasks), range(0, 50 if not args.max_tasks else 1), train_file,
                   noise=0.3, workers=2, system_prompt=PROMPT)
    heldout_env = env_table(tok, [r for r in read_jsonl(episodes_file) if len(r["messages"]) > 2])
    result = {"settings": {k: v for k, v in vars(args).items() if k not in ("cmd", "overwrite", "debug")},
              "unigram": unigram_ce(tok, read_jsonl(train_file), heldout_env), "runs": {}}
    t0 = time.monotonic()
    result["start"] = evaluate_checkpoint(args.agent, args, jobs, heldout_env)
    print(f"start: pass@1 {result['start']['pass_at_1_all']:.3f} ({time.monotonic() - t0:.0f} s to evaluate)", flush=True)
    seeds, side = [int(s) for s in args.seeds.split(",")], [int(s) for s in args.side_seeds.split(",")]
    for seed in seeds:  # seed-major: a run cut short still has every arm for the seeds it finished
        for arm in args.arms.split(","):
            if arm not in ("grpo", "echo") and seed not in side:
                continue
            t0 = time.monotonic()
            ck = train_arm(arm, seed, args)
            steps = read_jsonl(ck.parent / "metrics.jsonl")
            t1 = time.monotonic()
            result["runs"][f"{arm}-seed{seed}"] = {
                "arm": arm, "seed": seed, **evaluate_checkpoint(ck, args, jobs, heldout_env),
                "reward": [s["reward_mean"] for s in steps],  # a step with no env tokens logs null: nan here
                "env_ce_t1": [math.nan if s["env_ce_t1"] is None else s["env_ce_t1"] for s in steps],
                "train_s": round(t1 - t0, 1), "eval_s": round(time.monotonic() - t1, 1)}
            (out / "compare.json").write_text(json.dumps(result, indent=1))  # partial results survive a kill
            write_report(out, result)
            print(f"{arm} seed {seed}: trained {t1 - t0:.0f} s, evaluated {time.monotonic() - t1:.0f} s", flush=True)
    print(table(result))
    return result


def write_report(out: Path, result: dict) -> None:
    """OUT/compare.md (the tables) and OUT/compare.svg (the curves) from a result."""
    (out / "compare.md").write_text(table(result))
    (out / "compare.svg").write_text(plot(result))


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
        rows.append(row(f"{arm} `{' '.join(ARMS[arm])}`", [r for r in result["runs"].values() if r["arm"] == arm]))
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
    b = sub.add_parser("build-agent", parents=[common], help="rebuild the shipped agent: demos, init, SFT")
    b.add_argument("--out", type=out_dir, default="agent/tiny")
    b.add_argument("--overwrite", action="store_true",
                   help="replace a checkpoint in --out (agent/tiny is one)")
    b.add_argument("--seed", type=count(0), default=0)
    b.add_argument("--pretrain-steps", type=count(1), default=500)
    b.add_argument("--sft-steps", type=count(0), default=100, help="0: no action-only SFT after pretraining")
    b.add_argument("--work", type=out_dir, default="runs/agent",
                   help="demos, the random init and the SFT run go here (deleted first)")
    r = sub.add_parser("run", parents=[common],
                       help="train every arm x seed from the agent, evaluate, write table + plot")
    r.add_argument("--agent", type=ev.checkpoint, default="agent/tiny",
                   help="every arm's starting checkpoint")
    r.add_argument("--tasks", type=ev.existing_dir, default=TRAIN, help="the families the arms train on")
    r.add_argument("--heldout", type=ev.existing_dir, default=HELDOUT, help="families no arm trains on but env-only")
    r.add_argument("--out", type=out_dir, default="results")
    r.add_argument("--overwrite", action="store_true",
                   help="replace the results in --out (results/ has some)")
    r.add_argument("--arms", type=arm_list, default=",".join(ARMS))
    r.add_argument("--seeds", type=seed_list, default="0,1,2,3,4", help="seeds of every arm")
    r.add_argument("--side-seeds", type=seed_list, default="0,1,2",
                   help="the seeds of --seeds that echo-0.2 and env-only also run")
    r.add_argument("--steps", type=count(1), default=30)
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
    if args.cmd in WRITES and not args.overwrite:
        refuse_overwrite(args.cmd, args.out)
    if args.cmd == "run":
        run(args)
    if args.cmd == "report":  # the table and the plot again, from OUT/compare.json
        result = read_result(Path(args.out) / "compare.json")
        write_report(Path(args.out), result)
        print(table(result))
    if args.cmd == "build-agent":
        build_agent(args.out, args.seed, args.work, args.pretrain_steps, args.sft_steps)
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
