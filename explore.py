"""A noisy scripted explorer for the observe task families (tasks/observe/): episodes in which a value read
from one command's output is typed into a later command. Their transcripts pretrain a tiny agent before
GRPO / ECHO, so that it has seen the terminal matter before it is rewarded for using it.

    python explore.py --tasks tasks/observe/train --seeds 0-199 --out explore.jsonl --noise 0.3

Each family ships solution/explore.py with a generator `explore(rng)`. It yields bash commands and is sent,
with .send(), the raw output of each one (stdout+stderr, as the sandbox returned it); it parses the value
it needs out of that output and writes the literal value into a later command (`echo 42 > answer.txt`).
It never sees the seed: fed another instance's output, it writes the wrong answer
(tests/test_observe_tasks.py).

This module plays such a generator through the real scaffold, as eval.scripted plays solve.sh: one bash
turn per command, its observation exactly what the live loop shows (rollout.format_observation,
METHOD.md §4), then done(). With probability `noise` before each of the generator's commands it first
takes a detour: a read-only command a curious agent might run (ls, cat of a file seen earlier, pwd, a
typo that fails), so that the transcripts also show what many commands print, errors included. Every
episode is recorded, rewarded or not; its `reward` says which.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import random
import re
import shlex
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import eval as ev
import harbor
import rollout as R
from errors import ConfigError, MissingError, guard
from runs import count, number, text_file

PROGRESS_EVERY = 10.0   # seconds: record() says how far it is at least this often


def say(message: str) -> None:
    print(message, flush=True)          # flushed: progress must show through a pipe (| tee) too

# Detours. {dir} and {file} become a path seen earlier in the episode (or /app). None of them writes a
# file or changes the shell's directory or variables, so the files the verifier checks and the commands
# the explorer runs next are as they would be without them. The typos fail on purpose: an agent must
# know what an error looks like too.
DETOURS = ["ls", "ls -la", "pwd", "echo $HOME", "whoami", "ls {dir}", "ls -la {dir}", "ls -a {dir}",
           "cat {file}", "head -n 3 {file}", "wc -l {file}", "tail -n 2 {file}", "file {file}"]
TYPOS = ["sl {dir}", "cta {file}", "ls {dir}/nope", "cat {dir}", "grpe data {file}", "pyhton3 --version",
         "cd /nonexistent"]

THOUGHTS = {  # a short thought per kind of turn; the words do not matter much, their variety a little
    "detour": ["Let me look around first.", "Let me see what is here.", "A quick look before going on."],
    "read": ["Let me look at what I need.", "I need to read this first.", "Let me see the output."],
    "use": ["I read the value from the output; now I use it.", "Now I act on what the output showed.",
            "I use the value I just read."],
    "check": ["Let me check the result.", "Let me verify it.", "A last check."],
}


OWN_TASKS = Path(__file__).resolve().parent / "tasks"   # whose solution/explore.py main() runs unasked


def load_explorer(task: harbor.Task):
    """The family's `explore(rng)` generator function, from task.path/solution/explore.py. The file runs in
    THIS process, outside any sandbox (it is a generator driven with .send()): main() plays only the
    repository's own tasks unless told --trust-task-code (rt13b p20: a task's file ran as host root)."""
    path = task.path / "solution" / "explore.py"
    if not path.is_file():
        raise MissingError(f"task '{task.name}': solution/explore.py missing")
    spec = importlib.util.spec_from_file_location(f"explore_{task.name.replace('-', '_')}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not callable(getattr(module, "explore", None)):
        raise ConfigError(f"task '{task.name}': solution/explore.py defines no explore(rng)")
    return module.explore


# ---- one episode ----------------------------------------------------------------------------------------

def kind(command: str, ran: list[str]) -> str:
    """What a turn of the explorer does, for its thought: writes something ("use"), repeats an earlier
    command or shows the answer ("check"), or reads ("read")."""
    if command in ran or command.startswith("cat /app/answer.txt"):
        return "check"
    if re.search(r"(^|[^0-9&])>\s*/|sed -i|perl -pi|\b(cp|mv|mkdir|install)\b", command):
        return "use"
    return "read"


def remember(paths: list[str], command: str, output: str) -> None:
    """Add to `paths` the /app paths that a command or its output names, and the entries of a listed
    directory (`ls [-flags] DIR`: the last word of each line is a name in DIR)."""
    found = re.findall(r"/app(?:/[\w.-]+)*", command + "\n" + output)
    m = re.fullmatch(r"ls(?: -\w+)* (/app\S*)", command)
    if m and "No such file" not in output:
        for line in output.splitlines():
            name = line.split()[-1] if line.strip() and not line.startswith("total ") else ""
            if re.fullmatch(r"[\w.-]+", name) and name not in (".", ".."):
                found.append(f"{m[1].rstrip('/')}/{name}")
    paths.extend(p for p in dict.fromkeys(found) if p not in paths)


def detour(rng: random.Random, paths: list[str]) -> str:
    """A harmless command on a path seen so far: a name with an extension counts as a file, any other as
    a directory (a wrong guess only makes one more error to read)."""
    files = [p for p in paths if "." in p.rsplit("/", 1)[-1][1:]]
    dirs = [p for p in paths if p not in files]
    template = rng.choice(TYPOS if rng.random() < 0.2 else DETOURS)
    return template.format(dir=shlex.quote(rng.choice(dirs or ["/app"])),
                           file=shlex.quote(rng.choice(files or ["/app"])))


def explorer(sb, task: harbor.Task, rng: random.Random, noise: float = 0.3,
             system_prompt: str = R.SYSTEM_PROMPT) -> dict:
    """An agent in the shape of eval.scripted: the family's explorer plays the entered sandbox `sb`, each
    command one bash turn (with a detour before it, with probability `noise`), then done().
    Returns {"turns", "messages"}. An explorer that cannot find its value in an output raises."""
    explore = load_explorer(task)(rng)
    messages = [{"role": "system", "content": system_prompt}, {"role": "user", "content": task.instruction}]
    paths, ran = ["/app"], []            # paths seen so far (for detours), commands run so far

    def turn(command: str, what: str) -> str:
        thought = rng.choice(THOUGHTS[what])
        messages.append({"role": "assistant", "content": R.format_action(command, thought)})
        res = sb.run(command, R.DEFAULT_TIMEOUT)
        body = R.format_observation(command, res.output, res.exit_code, res.timed_out, R.DEFAULT_TIMEOUT)
        messages.append({"role": "tool", "content": body})
        remember(paths, command, res.output)
        ran.append(command)
        return res.output

    command = next(explore, None)
    while command is not None:
        if rng.random() < noise:
            turn(detour(rng, paths), "detour")
        output = turn(command, kind(command, ran))
        try:
            command = explore.send(output)   # the explorer reads the raw output and picks its next command
        except StopIteration:
            command = None
    messages.append({"role": "assistant", "content": R.format_action(None, "The task is done.")})
    return {"turns": len(ran) + 1, "messages": messages}


def play(task: harbor.Task, seed: int, noise: float, system_prompt: str = R.SYSTEM_PROMPT) -> dict:
    """One recorded episode, eval.play's record with {task, seed, turns, messages} (turns 0 and no messages
    when the explorer or the sandbox failed). Never raises; a sandbox that could not be started is tried
    once more (harbor.start_task). The rng depends only on the task and the seed."""
    agent = lambda sb, t: explorer(sb, t, random.Random(f"{t.name}-{seed}"), noise, system_prompt)  # noqa: E731
    return {"task": task.name, "seed": seed, "turns": 0, "messages": [], **ev.play(task, agent, seed)}


# ---- many episodes --------------------------------------------------------------------------------------

def record(tasks: list[harbor.Task], seeds: range, path, noise: float = 0.3, workers: int = 1,
           log=say, system_prompt: str = R.SYSTEM_PROMPT) -> dict:
    """Every task at every seed, `workers` episodes at a time, each appended to `path` as one JSONL record
    (all of them, rewarded or not), in seed-then-task order. Progress is logged at least every
    PROGRESS_EVERY seconds. Returns {"episodes", "rewarded" (reward >= 1), "errors", "mean_turns",
    "mean_tool_chars" (characters per tool message)}."""
    jobs = [(task, seed) for seed in seeds for task in tasks]
    n = {"episodes": 0, "rewarded": 0, "errors": 0, "turns": 0, "tool_messages": 0, "tool_chars": 0}
    start = last = time.monotonic()

    def progress():
        nonlocal last
        last = time.monotonic()
        log(f"[{n['episodes']}/{len(jobs)}] reward 1: {n['rewarded']}, errors: {n['errors']} "
            f"({last - start:.0f} s)")

    with ThreadPoolExecutor(workers) as pool, open(path, "a") as f:
        futures = [pool.submit(play, task, seed, noise, system_prompt) for task, seed in jobs]
        for future in futures:           # in submission order, so the file's order does not depend on timing
            while True:
                try:
                    rec = future.result(timeout=max(0.1, PROGRESS_EVERY - (time.monotonic() - last)))
                    break
                except TimeoutError:
                    progress()
            f.write(json.dumps(rec) + "\n")
            f.flush()
            tools = [m["content"] for m in rec["messages"] if m["role"] == "tool"]
            n["episodes"] += 1
            n["rewarded"] += rec["reward"] >= 1.0
            n["errors"] += rec["error"] is not None
            n["turns"] += rec["turns"]
            n["tool_messages"] += len(tools)
            n["tool_chars"] += sum(map(len, tools))
            if time.monotonic() - last >= PROGRESS_EVERY:
                progress()
    progress()
    return {"episodes": n["episodes"], "rewarded": n["rewarded"], "errors": n["errors"],
            "mean_turns": n["turns"] / max(1, n["episodes"]),
            "mean_tool_chars": n["tool_chars"] / max(1, n["tool_messages"])}


# ---- command line: every flag checked before any work; a bad one is one line naming flag and value ------

def main(argv=None) -> None:
    p = argparse.ArgumentParser(description="Record noisy scripted-explorer episodes of the observe task "
                                "families (JSONL: task, seed, reward, turns, messages).")
    p.add_argument("--tasks", type=ev.existing_dir, required=True, help="directory of task directories, each with "
                   "solution/explore.py (tasks/observe/train)")
    p.add_argument("--seeds", metavar="A-B", type=ev.seed_span, required=True, help="instance seeds, inclusive")
    p.add_argument("--out", metavar="PATH", type=ev.output_file, required=True, help="JSONL to append to")
    p.add_argument("--noise", type=number(0, 1), default=0.3,
                   help="chance of a detour before each of the explorer's commands")
    p.add_argument("--workers", type=count(1), default=2, help="episodes run in parallel")
    p.add_argument("--system-prompt", metavar="FILE", type=text_file,
                   help="the episodes' system message (default: METHOD.md §4's, rollout.SYSTEM_PROMPT)")
    p.add_argument("--trust-task-code", action="store_true", help="also play explorers of tasks outside this "
                   "repository's tasks/ (their solution/explore.py runs in this process, unsandboxed)")
    p.add_argument("--debug", action="store_true", help="show the traceback of an error, not just its line")
    args = p.parse_args(argv)
    tasks = harbor.load_tasks(args.tasks)
    foreign = [t for t in tasks if not t.path.resolve().is_relative_to(OWN_TASKS)]
    if foreign and not args.trust_task_code:
        p.error(f"argument --tasks: {foreign[0].path} is not one of this repository's tasks, and its "
                "solution/explore.py would run in this process, unsandboxed: --trust-task-code if you trust it")
    if missing := [t.name for t in tasks if not (t.path / "solution" / "explore.py").is_file()]:
        p.error(f"argument --tasks: {len(missing)} of the {len(tasks)} tasks under {args.tasks!r} have no "
                f"solution/explore.py, e.g. {missing[0]!r} (the observe families have one)")
    t0 = time.monotonic()
    lo, hi = ev.seed_bounds(args.seeds)
    n = record(tasks, range(lo, hi + 1), args.out, args.noise, args.workers,
               system_prompt=args.system_prompt or R.SYSTEM_PROMPT)
    share = n["rewarded"] / max(1, n["episodes"])
    print(f"{n['episodes']} episodes, reward 1 in {n['rewarded']} ({share:.1%}), {n['errors']} with an error;"
          f" on average {n['mean_turns']:.2f} turns and {n['mean_tool_chars']:.0f} characters a tool message;"
          f" {time.monotonic() - t0:.1f} s; appended to {args.out}")


if __name__ == "__main__":
    sys.exit(guard("explore.py", main))
