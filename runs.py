"""A training run around echo.py's loop: its flags, the state it starts from, its checkpoints and its log.

Every default is the paper's (METHOD.md §4, §5) unless the run is the CPU demo (no --model), which shrinks
them to minutes on a laptop. A run directory holds metrics.jsonl, step-N checkpoints (a Hugging Face
checkpoint plus trainer.pt and args.json) and `latest`; --resume continues from it with the same settings.
"""
import argparse
import json
import math
import os
import shutil
import signal
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

import torch
import torch.distributed as dist

import harbor
import model as M
import rollout as R
from harbor import Outcome
from errors import ConfigError, MissingError
from scale import (is_dtensor, kv_cache_budget, optimizer, optimizer_state, plain_copy, rollout_rows, shard,
                   totals)


@dataclass(frozen=True)
class Defaults:
    """The flags whose default depends on the run: the paper's 8B run or the CPU demo."""
    steps: int
    tasks_per_step: int
    n: int                   # rollouts per task: the GRPO group size
    lr: float
    warmup: int              # linear warm-up steps, then a constant lr
    max_turns: int
    max_turn_tokens: int
    checkpointing: bool      # activation checkpointing: what lets Qwen3-8B train on one GPU (README "Scale")
    save_every: int          # checkpoint every this many steps (the demo: every step, so nothing is lost)
    tasks: str               # the task directory (the demo: the families the tiny agent was built for)


PAPER = Defaults(steps=500, tasks_per_step=16, n=16, lr=1e-6, warmup=20, max_turns=16, max_turn_tokens=2048,
                 checkpointing=True, save_every=50, tasks="tasks/train")      # METHOD.md §4, §5
DEMO = Defaults(steps=6, tasks_per_step=4, n=4, lr=1e-4, warmup=0, max_turns=8, max_turn_tokens=96,
                checkpointing=False, save_every=1, tasks="tasks/observe/train")
# The demo's starting point: the shipped tiny agent (README "The paper in miniature"; compare.py build-agent).
TINY_AGENT = Path(__file__).resolve().parent / "agent" / "tiny"
UNSET = object()


def count(low: int):
    """argparse type: an integer >= low; the error names the value and the range."""
    def check(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < low:
            raise argparse.ArgumentTypeError(f"must be an integer >= {low}, got {text!r}")
        return value
    return check


def number(low: float, high: float | None = None, strict: bool = False):
    """argparse type: a finite number >= low (> low if strict) and <= high; the error names both."""
    span = f"{'>' if strict else '>='} {low:g}" + (f" and <= {high:g}" if high is not None else "")
    def check(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and (value > low if strict else value >= low)
                and (high is None or value <= high)):
            raise argparse.ArgumentTypeError(f"must be a number {span}, got {text!r}")
        return value
    return check


def text_file(path: str) -> str:
    """argparse type: a readable, non-empty UTF-8 text file, read whole (its text is the value)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise argparse.ArgumentTypeError(f"cannot read {path!r} ({getattr(e, 'strerror', None) or e})")
    if not text.strip():
        raise argparse.ArgumentTypeError(f"{path!r} is empty")
    return text.strip("\n")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="GRPO + ECHO training of a Qwen3 terminal agent (METHOD.md). "
                                "With no --model: the CPU demo (the shipped tiny agent, tasks/observe/train).")
    a = p.add_argument
    a("--model", help="hub id or local checkpoint directory (default: the shipped tiny agent, agent/tiny)")
    a("--tasks", help="directory of Harbor-layout tasks (default tasks/train; the demo: tasks/observe/train)")
    a("--images", metavar="DIR", help="local image store: DIR/<name>/ or DIR/<name>.tar per FROM image "
      "(see images.py); default $ECHO_IMAGES")
    harbor.add_environment_flags(a)
    a("--out", default="runs/echo", help="run directory: metrics.jsonl, checkpoints")
    a("--overwrite", action="store_true", help="start over in an --out that already holds a run")
    a("--debug", action="store_true", help="show the traceback of an error, not just its one line")
    a("--steps", type=count(1), help=f"optimizer steps (paper {PAPER.steps}, demo {DEMO.steps})")
    a("--tasks-per-step", type=count(1), help="tasks per step (paper 16)")
    a("--n", "--group-size", type=count(1), dest="n", help="rollouts per task = GRPO group size (paper 16); "
      "under torchrun write --group-size (torchrun takes --n for an abbreviation of its own options)")
    a("--lam", type=number(0), default=0.05,
      help="λ of Eq. 1 (0 = GRPO baseline); --env-only trains λ·L_Env with the same default, as the released "
      "code does (METHOD.md, last table)")
    a("--lam-schedule", default="constant", choices=["constant", "linear", "step"])
    a("--lam-every", type=count(1), default=100,
      help="step schedule: multiply λ by --lam-gamma every this many steps")
    a("--lam-gamma", type=number(0), default=0.5)
    a("--env-only", action="store_true", help="verifier-free: L_Env only (METHOD.md §3)")
    a("--min-valid-frac", type=number(0, 1), default=0.0,
      help="env-only filter: min fraction of turns with a valid tool call (paper 1.0)")
    a("--min-clean-frac", type=number(0, 1), default=0.0,
      help="env-only filter: min fraction of format-clean turns (paper 1.0)")
    a("--sft", metavar="FILE", help="expert SFT on the action tokens of these demonstration episodes (JSONL)")
    a("--lr", type=number(0, strict=True), help="AdamW learning rate (paper 1e-6)")
    a("--beta2", type=number(0, 1, strict=True), default=0.999,
      help="AdamW β2 (paper appendix variant: 0.95)")
    a("--weight-decay", type=number(0), default=0.01)
    a("--grad-clip", type=number(0, strict=True), default=0.2)
    a("--warmup", type=count(0), help="linear warm-up steps, then constant (paper 20; 0 = none)")
    a("--eps-low", type=number(0, 1, strict=True), default=0.2)
    a("--eps-high", type=number(0), default=0.2, help="clip ε_high (paper appendix variant: 0.28)")
    a("--pg-norm", default="seq", choices=["seq", "token"],
      help="seq: released code; token: paper's printed Eq. 2")
    a("--temperature", type=number(0, strict=True), default=0.8,
      help="sampling temperature = T_train of the log-probs")
    a("--top-p", type=number(0, 1, strict=True), default=1.0)
    a("--top-k", type=count(0), default=0)
    a("--max-turns", type=count(1), help="turns per episode (paper 16)")
    a("--max-turn-tokens", type=count(1), help="generated tokens per turn (paper 2048)")
    a("--max-context", type=count(1), default=16_384)
    a("--max-total", type=count(1), default=34_096)
    a("--command-timeout", type=number(0, strict=True),
      help="cap on each command's seconds (default: none, the agent's bash timeout, 30 unless it asks, as the "
      "released harness runs it; the printed paper's 30 s: --command-timeout 30)")
    a("--episode-timeout", type=number(0, strict=True), default=600.0)
    a("--shell", choices=["persistent", "per-command"], default="persistent",
      help="persistent: one shell per episode, cwd and variables carry over (the paper, METHOD.md §4); "
      "per-command: each command starts afresh in the task's workdir, as one exec per command")
    a("--max-output-chars", type=count(1), default=50_000)
    a("--sft-tokens", choices=["action", "all"], default="action",
      help="with --sft: train the demonstrations' action tokens (expert SFT, METHOD.md §3) or every token "
      "(a language-model pass over transcripts, e.g. the miniature's world-model prior)")
    a("--system-prompt", metavar="FILE", type=text_file,
      help="the system message of every episode (default: METHOD.md §4's scaffold prompt, rollout.SYSTEM_PROMPT; "
      "the demo: agent/tiny/system_prompt.txt, the short one the tiny agent was built with)")
    a("--format-reminder", action="store_true",
      help="a turn that does not parse is shown a worked tool call after the parser's one-sentence error")
    a("--rollout-rows", type=count(1),
      help="rollouts decoding at once per GPU, admitted as whole groups (default: all "
      "of them on CPU; on a GPU as many as the free memory holds at the longest possible rollout)")
    a("--micro-batch-tokens", type=count(1), default=32_768,
      help="padded tokens per forward/backward micro-batch")
    a("--checkpointing", action=argparse.BooleanOptionalAction,
      help="activation checkpointing per block (default: on with --model, off for the demo)")
    a("--lora-rank", type=count(0), default=0,
      help="train LoRA adapters of this rank on q,k,v,o,gate,up,down only "
      "(0 = full fine-tuning); checkpoints hold the merged weights")
    a("--lora-alpha", type=number(0, strict=True), default=32.0,
      help="LoRA scale α (the adapter is multiplied by α/r)")
    a("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    a("--dtype", choices=["float32", "bfloat16"], help="default bfloat16 on GPU, float32 on CPU")
    a("--save-every", type=count(1),
      help="checkpoint every this many steps and at the end (paper run 50, demo 1)")
    a("--save-episodes", action="store_true", help="append every rollout to OUT/episodes.jsonl")
    a("--resume", metavar="DIR", help="continue a run from DIR (its latest checkpoint) or DIR/step-N")
    a("--seed", type=count(0), default=0)
    a("--stop-after", type=count(1),
      help="stop after this step (as if interrupted); the schedules still use --steps")
    args = p.parse_args(argv)
    if args.resume:  # a resumed run continues with its own settings, except the flags given now
        p.set_defaults(**dict.fromkeys(vars(args), UNSET))   # parsed again: what is not UNSET was given
        given = {k for k, v in vars(p.parse_args(argv)).items() if v is not UNSET}
        saved = json.loads((resume_dir(args.resume) / "args.json").read_text())
        for k, v in saved.items():
            if k not in given | {"resume", "stop_after"}:
                setattr(args, k, v)
    for k, v in asdict(DEMO if args.model is None else PAPER).items():  # unset: the paper's (or the demo's)
        if getattr(args, k) is None:
            setattr(args, k, v)
    if args.model is None and args.system_prompt is None:  # the demo: the prompt the tiny agent was built with
        args.system_prompt = (TINY_AGENT / "system_prompt.txt").read_text().strip("\n")
    if args.rollout_rows is not None and args.rollout_rows < args.n:
        p.error(f"--rollout-rows {args.rollout_rows} < --n {args.n}: a group's rollouts start together")
    if args.sft_tokens == "all" and not args.sft:
        p.error("argument --sft-tokens: 'all' trains on the transcripts of --sft, and no --sft was given")
    args.dtype = args.dtype or ("bfloat16" if args.device.startswith("cuda") else "float32")
    return args


# ---- checkpoints: the HF layout plus the trainer's state, written atomically ----

def save_checkpoint(out: Path, step, model, tok, opt, sched, args):
    """Under torchrun every rank calls this (the gathers are collectives) and rank 0 writes."""
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict
    full, opt_state = model, optimizer_state(model, opt)
    if is_dtensor(model.lm_head.weight):  # gathered onto rank 0's CPU (fp32 masters)
        state = get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
        if dist.get_rank() != 0:
            return
        full = plain_copy(model, state)
    lora = {n: p.detach().cpu() for n, p in full.named_parameters() if ".lora_" in n}
    final, tmp = out / f"step-{step}", out / f".tmp-step-{step}"
    shutil.rmtree(tmp, ignore_errors=True)
    M.save(full, tok, tmp)  # LoRA merged: a plain Qwen3 checkpoint
    trainer = {"step": step, "optimizer": opt_state, "scheduler": sched.state_dict(), "lora": lora}
    torch.save(trainer, tmp / "trainer.pt")
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
        raise MissingError(f"--resume {path}: no trainer.pt (want a run directory or one of its "
                           "step-N checkpoints)")
    return path


def prepare_out(args) -> tuple[Path, bool]:
    """(the run directory, whether this call created it). One that already holds a run is refused unless
    the run continues it (--resume) or starts over (--overwrite, which deletes the old run's files)."""
    out = Path(args.out)
    held = sorted(p for p in out.iterdir() if p.name in ("metrics.jsonl", "latest")
                  or p.name.startswith(("step-", "episodes"))) if out.is_dir() else []
    if held and not (args.resume or args.overwrite):
        raise ConfigError(f"--out {out} already holds a run ({', '.join(p.name for p in held[:3])}); "
                          f"--resume {out} continues it, --overwrite starts over")
    if held and args.overwrite and not args.resume:
        for p in held:
            shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / ".write-test").touch()
        (out / ".write-test").unlink()
    except OSError as e:
        raise ConfigError(f"--out {out}: cannot write there ({e.strerror})") from None
    return out, created


@contextmanager
def run_directory(args, rank: int):
    """(the run directory, the Ctrl-C/SIGTERM watch) for the length of a run (prepare_out). If the run
    fails before writing anything there, the directory it created is removed again."""
    out, created = prepare_out(args) if rank == 0 else (Path(args.out), False)
    interrupt = Interrupt()
    try:
        yield out, interrupt
    except BaseException:
        if created and out.is_dir() and not any(out.iterdir()):
            out.rmdir()
        raise
    finally:
        interrupt.restore()


def rollout_limits(args):
    return R.Limits(max_turns=args.max_turns, max_turn_tokens=args.max_turn_tokens,
                    max_context=args.max_context, max_total=args.max_total,
                    command_timeout=args.command_timeout, episode_timeout=args.episode_timeout,
                    output_chars=args.max_output_chars, format_reminder=args.format_reminder,
                    shell=args.shell, system_prompt=args.system_prompt or R.SYSTEM_PROMPT,
                    keep_agent_processes=not args.kill_agent_processes, live_verifier=args.live_verifier,
                    max_task_clock=args.max_task_clock)


class Interrupt:
    """Ctrl-C or SIGTERM: finish the step, save a checkpoint, stop (a second Ctrl-C stops at once)."""

    def __init__(self):
        self.signal, self.previous = None, {}
        if threading.current_thread() is threading.main_thread():   # (signals reach the main thread only)
            self.previous = {sig: signal.signal(sig, self._handle) for sig in (signal.SIGINT, signal.SIGTERM)}

    def restore(self) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)

    def _handle(self, signum, frame):
        if self.signal is not None:        # asked twice
            raise KeyboardInterrupt
        self.signal = signal.Signals(signum).name
        print(f"\n{self.signal}: finishing this step, then saving a checkpoint and stopping "
              "(Ctrl-C again to stop at once and lose the step)", file=sys.stderr, flush=True)


    def report(self, out: Path, step: int, saved: int, rank: int) -> None:
        if rank == 0:
            print(f"stopped by {self.signal or 'a signal on another rank'} after step {step}: checkpoint "
                  f"{out / f'step-{saved}'}; `python echo.py --resume {out}` continues", flush=True)


class Progress:
    """What a step is doing, at most every `every` seconds: one updating line on a terminal, plain lines
    otherwise, so a long step (minutes of rollouts at 8B) is never silent."""

    def __init__(self, step: int, steps: int, every: float = 10.0):
        self.step, self.steps, self.t0, self.last = step, steps, time.monotonic(), 0.0
        self.tty, self.every = sys.stderr.isatty(), (0.5 if sys.stderr.isatty() else every)

    def __call__(self, phase: str, finished: int, total: int, tokens: int) -> None:
        now = time.monotonic()
        if now - self.last < self.every:
            return
        self.last = now
        line = (f"step {self.step}/{self.steps}: {phase}, {finished}/{total} rollouts done, "
                f"{tokens:,} tokens generated ({tokens / max(now - self.t0, 1e-9):.0f} tok/s), "
                f"{now - self.t0:.0f} s")
        print(("\r" + line + "\033[K") if self.tty else line, end="" if self.tty else "\n", file=sys.stderr,
              flush=True)

    def done(self) -> None:
        if self.tty and self.last:
            print("\r\033[K", end="", file=sys.stderr, flush=True)



def start(args, rank: int, world: int):
    """(model, tokenizer, optimizer, lr scheduler, first step): fresh from --model (or the tiny agent), or
    resumed from --resume; with LoRA adapters if asked; sharded under torchrun (scale.py)."""
    # One process: the weights are in --dtype. Several (FSDP): fp32 master shards computed in --dtype.
    dtype = torch.float32 if world > 1 else getattr(torch, args.dtype)
    step, state = 0, None
    if args.resume:
        ck = resume_dir(args.resume)
        # mmap: the ranks share one copy of the file in the page cache instead of loading it N times
        try:
            state = torch.load(ck / "trainer.pt", map_location="cpu", weights_only=False, mmap=True)
        except Exception as e:  # a truncated file is a zip or pickle error that names no file
            raise ConfigError(f"{ck / 'trainer.pt'}: unreadable ({type(e).__name__}); resume from an "
                              "earlier step-N") from None
        step = state["step"]
    if args.resume and not args.lora_rank:
        model, tok = M.load(ck, args.device, dtype)
    else:  # with LoRA a resumed run rebuilds the base model and loads its adapters
        model, tok = M.load(args.model or TINY_AGENT, args.device, dtype)
        if args.model is None and rank == 0:
            size = sum(p.numel() for p in model.parameters())
            print(f"demo: the shipped tiny agent {TINY_AGENT} ({size:,} parameters, vocab {tok.vocab_size}) "
                  f"on the tasks in {args.tasks}")
    if args.lora_rank:
        M.add_lora(model, args.lora_rank, args.lora_alpha, seed=args.seed)
        if state:
            model.load_state_dict(state["lora"], strict=False)
    args.pad_id = tok.pad_id
    model.checkpointing = args.checkpointing
    if world > 1:
        shard(model, getattr(torch, args.dtype))
    opt = optimizer(model.parameters(), args)  # bf16 weights: AdamW with stochastic rounding (scale.py)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, partial(warmup_factor, warmup=args.warmup))
    if state:
        optimizer_state(model, opt, state["optimizer"])
        sched.load_state_dict(state["scheduler"])
    return model, tok, opt, sched, step


def warmup_factor(step: int, warmup: int) -> float:
    """The lr multiplier: linear warm-up over `warmup` steps, then constant (METHOD.md §5)."""
    return min(1.0, (step + 1) / warmup) if warmup else 1.0


def fit_rollout_rows(args, model, opt, rank: int) -> None:
    """On a GPU, unless --rollout-rows says: as many rollouts decode at once as the free memory holds a KV
    cache for at the longest a rollout gets (rollout.py)."""
    dev = model.lm_head.weight.device
    if args.rollout_rows is not None or dev.type != "cuda" or args.sft:
        return
    free = kv_cache_budget(model, opt, getattr(torch, args.dtype), dev)
    row_tokens = args.max_context + args.max_turn_tokens
    dtype = getattr(torch, args.dtype)
    args.rollout_rows, per_row = rollout_rows(model.config, args.n, row_tokens, free, dtype)
    if rank == 0:
        print(f"rollouts: {args.rollout_rows} at a time per GPU ({free / 2**30:.0f} GiB free for the KV "
              f"cache, "
              f"{per_row / 2**30:.2f} GiB per rollout at {row_tokens} tokens; --rollout-rows to choose)"
              + (" - warning: one group may not fit" if free < args.n * per_row else ""), flush=True)


# ---- the run's log: one line per step, and metrics.jsonl ----

SETUP = (Outcome.SETUP_TASK, Outcome.SETUP_MACHINE)
# A run whose first this many steps fail setup in every rollout stops (echo.py): it would train on nothing.
STOP_AFTER_FAILED_STEPS = 2


def rollout_metrics(batch, n, device) -> tuple[dict, float]:
    """The step's rollout metrics over every rank's rollouts (each holds whole groups of n), and the
    total token count."""
    groups = [batch[g:g + n] for g in range(0, len(batch), n)]
    (B, reward, passed, n_groups, n_obs, timeouts, cmd_timeouts, turns, clean, tokens, infra, setup,
     tampered) = totals([
        len(batch), sum(e.reward for e in batch), sum(max(e.reward for e in g) > 0 for g in groups),
        len(groups), sum(e.n_obs for e in batch), sum(e.timed_out for e in batch),
        sum(e.command_timeouts for e in batch), sum(e.turns for e in batch),
        sum(e.clean_turns for e in batch), sum(len(e.ids) for e in batch),
        sum(e.infra_error for e in batch), sum(e.outcome in SETUP for e in batch),
        sum(e.outcome == Outcome.TAMPERED for e in batch)], device)
    return dict(reward_mean=reward / B, pass_rate=passed / n_groups, n_obs_tokens=int(n_obs),
                episode_timeouts=int(timeouts), command_timeouts=int(cmd_timeouts),
                format_error_rate=1 - clean / turns if turns else 0.0, infra_errors=int(infra),
                rollouts=int(B), setup_failed=int(setup), tampered=int(tampered)), tokens


def first_setup_error(batch) -> str:
    """The first rollout's setup error of a step (its reason names the task), for the line a run stops on."""
    return next((e.reason for e in batch if e.outcome in SETUP), "none on this rank")


def step_line(rec: dict, steps: int) -> str:
    nan = float("nan")

    def f(key, spec=".3f"):  # a mean over no tokens (nan, or null in metrics.jsonl) shows as "-"
        v = rec.get(key)
        return "-" if v is None or v != v else format(v, spec)
    if "token_ce" in rec or "action_ce" in rec:  # SFT: no rollouts, no reward; the cross-entropy it trains
        which = "token" if "token_ce" in rec else "action"
        return (f"step {rec['step']}/{steps} | SFT on {'every' if which == 'token' else 'action'} token | "
                f"loss {rec['loss']:.4f} | "
                f"{which} CE {rec[which + '_ce']:.3f} | {rec['tokens_per_s']:.0f} tok/s | train {rec['train_s']:.1f}s"
                + (f" | SKIPPED: {rec['skipped']}" if rec["skipped"] else ""))
    return (f"step {rec['step']}/{steps} | reward {rec['reward_mean']:.3f} pass {rec['pass_rate']:.2f} | "
            f"loss {rec['loss']:.4f} grpo {rec.get('grpo_loss', 0):.4f} env {rec.get('env_loss', 0):.4f} | "
            f"env-ce {f('env_ce_t1')} (T=1) {f('env_ce_ttrain')} "
            f"(T={rec.get('temperature', nan):g}) warn-ce {f('warning_ce')} | "
            f"gap |Δ| {f('logp_gap_abs', '.1e')} max {f('logp_gap_max', '.1e')} kl {f('logp_gap_kl', '.1e')} | "
            f"|A| {rec['n_action_tokens']:.0f} |O| {rec['n_obs_tokens']} | "
            f"fmt-err {rec['format_error_rate']:.2f} | {rec['tokens_per_s']:.0f} tok/s | "
            f"rollout {rec['rollout_s']:.1f}s train {rec['train_s']:.1f}s"
            + (f" | EVERY ROLLOUT FAILED SETUP ({rec['setup_failed']})" if rec.get("rollouts")
               and rec.get("setup_failed") == rec["rollouts"] else
               f" | {rec['setup_failed']} rollouts failed setup" if rec.get("setup_failed") else "")
            + (f" | {rec['infra_errors']} machine failures" if rec.get("infra_errors") else "")
            + (f" | {rec['tampered']} tampered" if rec.get("tampered") else "")
            + (f" | SKIPPED: {rec['skipped']}" if rec["skipped"] else ""))
