"""The paper in miniature: GRPO vs ECHO vs env-only on a tiny terminal agent, on a CPU.

    python compare.py build-agent --out agent/tiny --overwrite   # the shipped agent, rebuilt (~15-30 min)
    python compare.py run --out results --overwrite              # every arm x seed, evaluated (~30-40 min)

`build-agent` records scripted-oracle demonstrations, writes a random tiny Qwen3 (`init-agent` alone does
just that step) and trains it by expert SFT with echo.py. `run` trains each arm (METHOD.md §3) from the shipped checkpoint with
echo.py for a fixed number of steps and several seeds, then evaluates every final checkpoint the way
METHOD.md §6 does: pass@1 over k attempts on held-out tasks, and env-token cross-entropy on held-out
episodes recorded by another agent (the scripted oracle: the transfer test). It writes
OUT/compare.json, OUT/compare.md (the table) and OUT/compare.svg (reward and env CE per step). An --out that
already holds results or a checkpoint (the shipped ones are tracked) is refused unless --overwrite is given.
"""
import argparse
import json
import os
import shutil
import sys
from pathlib import Path

import echo
import eval as ev
import model as M
import rollout as R
import harbor
from errors import ConfigError, MissingError, guard, read_jsonl
from runs import count, number
from tokenizer import build_tokenizer

# The tiny agent: Qwen3's architecture, 1.1M parameters (Qwen3-8B has ~7,000 times more). A small byte-level BPE trained on
# the scaffold's text and the demonstrations makes a command a few tokens, which is what lets so small a
# network learn them.
TINY = dict(hidden_size=128, intermediate_size=384, num_hidden_layers=4, num_attention_heads=4,
            num_key_value_heads=2, head_dim=32, tie_word_embeddings=True)
VOCAB = 3072


def init_agent(demos: str, seed: int, out: str, config: dict = TINY) -> None:
    """A random tiny Qwen3 and a tokenizer trained on the system prompt, the parse-error reminder and the
    demonstrations' messages (instructions, actions, observations)."""
    records = ev.read_episodes(demos)
    texts = [R.SYSTEM_PROMPT, R.FORMAT_REMINDER] + [m["content"] for r in records for m in r["messages"][1:]]
    tok = build_tokenizer(texts, vocab_size=VOCAB)
    model = M.init_weights(M.Qwen3(M.Qwen3Config(vocab_size=tok.vocab_size, **config)), seed)
    M.save(model, tok, out)
    n = sum(p.numel() for p in model.parameters())
    print(f"{out}: random Qwen3, {n:,} parameters, vocab {tok.vocab_size}, seed {seed}")


def build_agent(out: str, seed: int, steps: int, work: str) -> None:
    """The shipped agent, rebuilt from nothing: scripted-oracle demonstrations of tasks/train (seeds 0-7,
    real observations), a random tiny Qwen3, then expert SFT (METHOD.md §3) with echo.py."""
    work = Path(work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    demos = work / "demos.jsonl"
    ev.record_demos(harbor.load_tasks("tasks/train"), "0-7", demos, workers=2)
    init_agent(str(demos), seed, str(work / "init"))
    echo.main(["--model", str(work / "init"), "--sft", str(demos), "--steps", str(steps), "--tasks-per-step", "6",
               "--n", "1", "--lr", "3e-3", "--warmup", "10", "--seed", str(seed), "--save-every", str(steps),
               "--out", str(work / "sft"), "--no-checkpointing"])  # tiny model: no memory to save
    M.save(*M.load(work / "sft" / f"step-{steps}"), out)  # weights + tokenizer only, no optimizer state
    print(f"{out}: the tiny agent after {steps} SFT steps")


# METHOD.md §3 modes as echo.py flags; every arm starts from the same checkpoint with the same settings.
ARMS = {"grpo": ["--lam", "0"],
        "echo": ["--lam", "0.05"],
        "echo-0.01": ["--lam", "0.01"],
        "echo-0.2": ["--lam", "0.2"],
        "env-only": ["--env-only", "--min-valid-frac", "1.0", "--min-clean-frac", "1.0"]}


def train_arm(arm: str, seed: int, args) -> Path:
    """One echo.py run; returns its final checkpoint."""
    out = Path(args.out) / "runs" / f"{arm}-seed{seed}"
    shutil.rmtree(out, ignore_errors=True)  # metrics.jsonl appends: start clean
    echo.main(["--model", args.agent, "--tasks", args.tasks, "--out", str(out), "--steps", str(args.steps),
               "--tasks-per-step", str(args.tasks_per_step), "--n", str(args.n), "--lr", str(args.lr),
               "--warmup", "0", "--max-turns", str(args.max_turns), "--max-turn-tokens", str(args.max_turn_tokens),
               "--max-output-chars", str(args.max_output_chars), "--save-every", str(args.steps),
               "--seed", str(seed), "--no-checkpointing"] + ARMS[arm])
    return out / f"step-{args.steps}"


def evaluate_checkpoint(path, args, heldout_tasks, heldout_episodes) -> dict:
    """METHOD.md §6: pass@1 over k attempts on the held-out tasks (eval temperature 0.6), and env CE on
    episodes of the held-out tasks that another agent played (the transfer test)."""
    model, tok = M.load(path)
    limits = R.Limits(max_turns=args.max_turns, max_turn_tokens=args.max_turn_tokens)
    res = ev.evaluate_model(model, tok, heldout_tasks, args.k, args.eval_seed, limits, temperature=0.6,
                            batch_tasks=len(heldout_tasks))  # one batched decode for all of them
    ce = ev.env_ce(model, tok, heldout_episodes)
    return {"heldout_pass_at_1": sum(r["pass_at_1"] for r in res.values()) / len(res), "heldout_env_ce": ce["env_ce"]}


def mean_sd(xs):
    xs = [x for x in xs if x == x]  # drop nan
    if not xs:
        return float("nan"), float("nan")
    m = sum(xs) / len(xs)
    return m, (sum((x - m) ** 2 for x in xs) / (len(xs) - 1)) ** 0.5 if len(xs) > 1 else 0.0


def run(args) -> dict:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    heldout = harbor.load_tasks(args.heldout)[:args.max_tasks]
    episodes_file = out / "heldout-episodes.jsonl"  # the other agent's episodes: scripted oracle, seeds 0-1
    episodes_file.unlink(missing_ok=True)
    ev.record_demos(heldout, "0-1", episodes_file)
    episodes = read_jsonl(episodes_file)
    result = {"settings": {k: v for k, v in vars(args).items() if k not in ("cmd", "overwrite", "debug")},
              "start": evaluate_checkpoint(args.agent, args, heldout, episodes), "runs": {}}
    for seed in (int(s) for s in args.seeds.split(",")):  # seed-major: a cut-short run still has every arm
        for arm in args.arms.split(","):
            ck = train_arm(arm, seed, args)
            steps = read_jsonl(ck.parent / "metrics.jsonl")
            result["runs"][f"{arm}-seed{seed}"] = {
                "arm": arm, "seed": seed, **evaluate_checkpoint(ck, args, heldout, episodes),
                "reward": [s["reward_mean"] for s in steps], "env_ce": [s["env_ce_t1"] for s in steps]}
            (out / "compare.json").write_text(json.dumps(result, indent=1))  # partial results survive a kill
            write_report(out, result, args.plot_arms)
    print(table(result))
    return result


def write_report(out: Path, result: dict, plot_arms: str) -> None:
    """OUT/compare.md (the table) and OUT/compare.svg (the plot) from a result."""
    (out / "compare.md").write_text(table(result))
    (out / "compare.svg").write_text(plot(result, plot_arms.split(",")))


def table(result) -> str:
    s = result["settings"]
    first = lambda xs: sum(xs[:2]) / len(xs[:2])  # noqa: E731  (16 rollouts a step: average two steps)
    last = lambda xs: sum(xs[-2:]) / len(xs[-2:])  # noqa: E731
    rows = ["| arm | flags | train reward, steps 1-2 → last 2 | train env CE, steps 1-2 → last 2 | held-out pass@1 "
            "| env CE on held-out oracle episodes (transfer) |", "|---|---|---|---|---|---|",
            f"| start: agent/tiny | | | | {result['start']['heldout_pass_at_1']:.3f} | {result['start']['heldout_env_ce']:.3f} |"]
    for arm in dict.fromkeys(r["arm"] for r in result["runs"].values()):
        runs = [r for r in result["runs"].values() if r["arm"] == arm]
        cells = []
        for key in ("reward", "env_ce"):
            a, b = mean_sd([first(r[key]) for r in runs]), mean_sd([last(r[key]) for r in runs])
            cells.append(f"{a[0]:.3f} → {b[0]:.3f} ± {b[1]:.3f}")
        p, ce = mean_sd([r["heldout_pass_at_1"] for r in runs]), mean_sd([r["heldout_env_ce"] for r in runs])
        rows.append(f"| {arm} | `{' '.join(ARMS[arm])}` | {cells[0]} | {cells[1]} | {p[0]:.3f} ± {p[1]:.3f} | "
                    f"{ce[0]:.3f} ± {ce[1]:.3f} |")
    seeds = sorted({r["seed"] for r in result["runs"].values()})
    return "\n".join(rows) + (
        f"\n\nMean ± sd over seeds {','.join(map(str, seeds))}; {s['steps']} steps of {s['tasks_per_step']} tasks × "
        f"{s['n']} rollouts from agent/tiny, lr {s['lr']}; env CE in nats per env token; held-out pass@1 over "
        f"k = {s['k']} attempts per task at T = 0.6 on {s['heldout']}.\n")


def plot(result, arms, w=420, h=260, pad=44) -> str:
    """SVG, written by hand: reward and env CE (training rollouts) per step, mean over seeds, one line per arm."""
    colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"]
    panels = []
    for j, (key, title) in enumerate([("reward", "train reward (mean over rollouts)"), ("env_ce", "env CE of the training rollouts (nats/token)")]):
        curves = {}
        for arm in arms:
            runs = [r[key] for r in result["runs"].values() if r["arm"] == arm]
            if runs:
                curves[arm] = [mean_sd([run[i] for run in runs])[0] for i in range(min(map(len, runs)))]
        vals = [v for c in curves.values() for v in c if v == v]
        lo, hi = (min(vals), max(vals)) if vals else (0.0, 1.0)
        lo, hi = (lo - 0.05, hi + 0.05) if hi - lo < 1e-9 else (lo, hi)
        x0 = j * (w + 20)
        g = [f'<g transform="translate({x0},0)"><text x="{w / 2}" y="16" text-anchor="middle">{title}</text>',
             f'<line x1="{pad}" y1="{h - pad}" x2="{w - 10}" y2="{h - pad}" stroke="black"/>',
             f'<line x1="{pad}" y1="30" x2="{pad}" y2="{h - pad}" stroke="black"/>',
             f'<text x="{pad - 4}" y="34" text-anchor="end">{hi:.2f}</text>',
             f'<text x="{pad - 4}" y="{h - pad}" text-anchor="end">{lo:.2f}</text>',
             f'<text x="{w / 2}" y="{h - 12}" text-anchor="middle">step</text>',
             f'<text x="{pad}" y="{h - pad + 14}" text-anchor="middle">1</text>',
             f'<text x="{w - 10}" y="{h - pad + 14}" text-anchor="middle">{max(map(len, curves.values()), default=1)}</text>']
        for k, (arm, c) in enumerate(curves.items()):
            n = max(len(c) - 1, 1)
            pts = " ".join(f"{pad + i / n * (w - 10 - pad):.1f},{h - pad - (v - lo) / (hi - lo) * (h - pad - 30):.1f}"
                           for i, v in enumerate(c) if v == v)
            g.append(f'<polyline fill="none" stroke="{colors[k % 5]}" stroke-width="2" points="{pts}"/>')
            g.append(f'<text x="{w - 12}" y="{44 + 14 * k}" text-anchor="end" fill="{colors[k % 5]}">{arm}</text>')
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
WRITES = {"run": ("results", ["compare.json", "compare.md", "compare.svg", "heldout-episodes.jsonl", "runs"]),
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
    a.add_argument("--demos", required=True, type=ev.existing_file,
                   help="scripted-oracle episodes (eval.py --agent scripted)")
    a.add_argument("--seed", type=count(0), default=0)
    a.add_argument("--out", type=out_dir, default="agent/init")
    a.add_argument("--overwrite", action="store_true", help="replace a checkpoint already in --out")
    b = sub.add_parser("build-agent", parents=[common], help="rebuild the shipped agent: demos, init, SFT")
    b.add_argument("--out", type=out_dir, default="agent/tiny")
    b.add_argument("--overwrite", action="store_true",
                   help="replace a checkpoint in --out (agent/tiny is one)")
    b.add_argument("--seed", type=count(0), default=0)
    b.add_argument("--steps", type=count(1), default=360)
    b.add_argument("--work", type=out_dir, default="runs/agent",
                   help="demos, the random init and the SFT run go here (deleted first)")
    r = sub.add_parser("run", parents=[common],
                       help="train every arm x seed from the agent, evaluate, write table + plot")
    r.add_argument("--agent", type=ev.checkpoint, default="agent/tiny",
                   help="every arm's starting checkpoint")
    r.add_argument("--tasks", type=ev.existing_dir, default="tasks/train")
    r.add_argument("--heldout", type=ev.existing_dir, default="tasks/heldout")
    r.add_argument("--out", type=out_dir, default="results")
    r.add_argument("--overwrite", action="store_true",
                   help="replace the results in --out (results/ has some)")
    r.add_argument("--arms", type=arm_list, default=",".join(ARMS))
    r.add_argument("--plot-arms", type=arm_list, default="grpo,echo")
    r.add_argument("--seeds", type=seed_list, default="0,1,2")
    r.add_argument("--steps", type=count(1), default=8)
    r.add_argument("--tasks-per-step", type=count(1), default=4)
    r.add_argument("--n", type=count(1), default=4)
    r.add_argument("--lr", type=number(0, strict=True), default=2e-4)
    r.add_argument("--max-turns", type=count(1), default=4)
    r.add_argument("--max-turn-tokens", type=count(1), default=160)
    r.add_argument("--max-output-chars", type=count(1), default=2000,
                   help="command output cut to this many characters (paper 50,000): one runaway `cat` of a "
                        "big file would otherwise cost minutes of CPU")
    r.add_argument("-k", type=count(1), default=2, help="attempts per held-out task")
    r.add_argument("--eval-seed", type=count(0), default=1000, help="instance seed of the held-out episodes")
    r.add_argument("--max-tasks", type=count(1), help="only the first N held-out tasks (the CI smoke run)")
    rep = sub.add_parser("report", parents=[common],
                         help="rewrite OUT/compare.md and OUT/compare.svg from OUT/compare.json")
    rep.add_argument("--out", type=ev.existing_dir, default="results")
    rep.add_argument("--plot-arms", type=arm_list, default="grpo,echo")
    args = p.parse_args(argv)
    if args.cmd in WRITES and not args.overwrite:
        refuse_overwrite(args.cmd, args.out)
    if args.cmd == "run":
        run(args)
    if args.cmd == "report":  # the table and the plot again, from OUT/compare.json
        result = read_result(Path(args.out) / "compare.json")
        write_report(Path(args.out), result, args.plot_arms)
        print(table(result))
    if args.cmd == "build-agent":
        build_agent(args.out, args.seed, args.steps, args.work)
    if args.cmd == "init-agent":
        init_agent(args.demos, args.seed, args.out)


def read_result(path: Path) -> dict:
    if not path.is_file():
        raise MissingError(f"{path}: no such file (compare.py run --out {path.parent} writes it)")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ConfigError(f"{path}: not JSON ({e.msg}, line {e.lineno})") from None


if __name__ == "__main__":
    sys.exit(guard("compare.py", main))
