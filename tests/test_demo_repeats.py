"""The demo (`python echo.py`) is repeatable over its first STEPS steps: run twice it gives identical
metrics, and a run resumed from any of those checkpoints repeats its next step, weights included. Run here
at 2 tasks x 2 rollouts a step (SMALLER), not the demo's 4 x 4: the same code with fewer rows. Every source
of a difference is still there: the step's tasks drawn from (--seed, step), several groups' rows sampled
in one batch from one generator seeded so, run in their sandboxes and verified at once (threads, finishing
in any order), a group's advantages, the batch's loss and the update; a row that took another's place or
random numbers would change a step's episodes or weights here as it would at 4 x 4. (At 16 rows a step the
3 runs took 53 s of a loaded suite.)

Both hold step by step for as long as the sandboxes returned the same observations. They need not: a
command whose output depends on process scheduling (two processes of one pipeline writing to the same
terminal, or a pipeline stage that exits before the stage writing to it) can print differently from run to
run on any machine, and the demo's barely trained agent writes such commands now and then. So a step
whose episodes differ is not compared, and the test says which command it was.

The demo runs its first STEPS steps (`--stop-after`: the schedules still use the demo's 6); the second run
is its first step run afresh, then each later step resumed from the demo's checkpoint before it. Each
resumed step starts from the demo's own state, so every step is compared unless its own episodes differ.
The demo's later steps are the same computation from a later state, and two whole demos usually part at
step 3 to 5 (README), after which their steps compared nothing: they ran 12 demo steps here, 162 s of a
loaded suite's 17 minutes. Two steps and their repeats (a fresh step 1, step 2 resumed from the demo's
step-1 checkpoint) check both halves of the claim; a third step was the same check from a later state, ~25
s of a suite over its budget. That any checkpoint, a resumed run's included, continues as the
uninterrupted run does is test_echo_run's test_resume_repeats_the_uninterrupted_run."""
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import torch

import model as M
import rollout as R
import sandbox

ROOT = Path(__file__).resolve().parents[1]

SMALLER = ["--tasks-per-step", "2", "--n", "2"]   # the demo's flags but these (docstring)
PER_STEP = 4                       # 2 tasks x 2 rollouts
STEPS = 2                          # the demo's first steps compared (docstring)
TIMING = {"tokens_per_s", "rollout_s", "train_s"}


def metrics(run_dir) -> dict[int, dict]:
    recs = [json.loads(line) for line in open(run_dir / "metrics.jsonl")]
    return {r["step"]: {k: v for k, v in r.items() if k not in TIMING} for r in recs}


def episodes(run_dir, first_step=1) -> dict[int, list]:
    eps = R.load_episodes(run_dir / "episodes.jsonl")
    assert len(eps) % PER_STEP == 0
    return {first_step + i // PER_STEP: [(e.task, e.seed, e.ids) for e in eps[i:i + PER_STEP]]
            for i in range(0, len(eps), PER_STEP)}


def first_difference(a: list, b: list) -> str:
    for (task, seed, x), (_, _, y) in zip(a, b):
        if x != y:
            n = next(i for i, (u, v) in enumerate(zip(x, y)) if u != v)
            return f"{task} (seed {seed}) at token {n}"
    return "?"


def same_weights(a, b) -> bool:
    m1, _ = M.load(a)
    m2, _ = M.load(b)
    return all(torch.equal(x, y) for x, y in zip(m1.state_dict().values(), m2.state_dict().values()))


@pytest.fixture(scope="module")
def runs(tmp_path_factory, image_cache):
    """(the demo's run directory, its first STEPS steps; {step: the run directory of that step run again}):
    step 1 from scratch, step k + 1 resumed from the demo's checkpoint step-k. Each is `python echo.py`, the
    repeats beside the demo, 2 at a time: step 1 at once, step k + 1 as soon as the demo has saved step-k
    (it saves every step, whole: a step-k directory appears complete). One after another in this process
    they kept the second core idle for the length of 2 x STEPS demo steps; now it is about STEPS and one."""
    base = tmp_path_factory.mktemp("demo")
    demo = base / "run"
    # the session's image cache, as in this process (conftest); one torch thread each, so that the three
    # runs do not fight over 2 cores with 2 threads apiece (every run here uses the same, so steps compare)
    env = {**os.environ, "ECHO_CACHE": str(image_cache), "OMP_NUM_THREADS": "1"}
    flags = ["--allow-no-cgroup"] if sandbox.ALLOW_NO_CGROUP else []

    def echo(*args, log: Path):
        with open(log, "w") as f:
            return subprocess.Popen([sys.executable, str(ROOT / "echo.py"), *flags, *map(str, args)],
                                    cwd=ROOT, env=env, stdout=f, stderr=subprocess.STDOUT)

    def finished(proc, log: Path):
        assert proc.wait(timeout=1800) == 0, log.read_text()[-3000:]

    def again(k: int) -> Path:
        out = base / f"from-{k}"
        while k and not (demo / f"step-{k}").is_dir() and demo_run.poll() is None:
            time.sleep(0.5)
        resume = ["--resume", demo / f"step-{k}"] if k else SMALLER     # (a resumed run keeps its flags)
        log = base / f"from-{k}.log"
        finished(echo(*resume, "--out", out, "--stop-after", k + 1, "--save-episodes", log=log), log)
        return out

    demo_run = echo(*SMALLER, "--out", demo, "--stop-after", STEPS, "--save-episodes", log=base / "run.log")
    with ThreadPoolExecutor(2) as pool:
        repeats = {k + 1: pool.submit(again, k) for k in range(0, STEPS)}
        try:
            finished(demo_run, base / "run.log")
        finally:
            demo_run.kill()        # (if it is still running: then the repeats waiting for it go on at once)
        return demo, {step: f.result() for step, f in repeats.items()}


def compare(demo, again, steps) -> list[int]:
    """The steps of `steps` whose repeat gave the demo's metrics and weights; a step whose episodes differ
    is said and left out."""
    full_m, full_e = metrics(demo), episodes(demo)
    compared = []
    for step in steps:
        out = again[step]
        m, e = metrics(out), episodes(out, first_step=step)
        assert list(m) == [step]
        if e[step] != full_e[step]:
            print(f"step {step}: observations differ on {first_difference(e[step], full_e[step])}")
            continue
        assert m[step] == full_m[step], step
        assert same_weights(out / f"step-{step}", demo / f"step-{step}"), step
        compared.append(step)
    return compared


def test_the_demo_run_twice_gives_identical_metrics(runs):
    demo, again = runs
    assert sorted(metrics(demo)) == list(range(1, STEPS + 1))
    compared = compare(demo, again, range(1, STEPS + 1))
    print("steps compared:", compared)
    if not compared:
        pytest.skip("every step's episodes differed from the demo's")


def test_a_demo_resumed_from_each_checkpoint_repeats_the_next_step(runs):
    demo, again = runs
    compared = compare(demo, again, range(2, STEPS + 1))
    print("steps compared after a resume:", compared)
    if not compared:
        pytest.skip("every resumed step met a command whose output differed")
