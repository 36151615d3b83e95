"""The demo itself (`python echo.py`, 6 steps of 4 tasks x 4 rollouts) is repeatable: run twice it gives
identical metrics, and a run resumed from any of its checkpoints repeats its next step, weights included.

Both hold step by step for as long as the sandboxes returned the same observations. They need not: a
command whose output depends on process scheduling (two processes of one pipeline writing to the same
terminal, or a pipeline stage that exits before the stage writing to it) can print differently from run to
run on any machine, and the demo's barely trained agent writes such commands now and then. So each
comparison runs up to the first step whose episodes differ, and says which command it was."""
import json

import pytest
import torch

import echo
import model as M
import rollout as R

PER_STEP = 16                      # the demo's 4 tasks x 4 rollouts
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
def two_demos(tmp_path_factory):
    runs = [tmp_path_factory.mktemp("demo") / "run" for _ in range(2)]
    for out in runs:
        echo.main(["--out", str(out), "--save-episodes"])
    return runs


def test_the_demo_run_twice_gives_identical_metrics(two_demos):
    a, b = two_demos
    ma, mb, ea, eb = metrics(a), metrics(b), episodes(a), episodes(b)
    assert sorted(ma) == sorted(mb) == list(range(1, 7))
    compared = 0
    for step in range(1, 7):
        if ea[step] != eb[step]:
            print(f"observations differ from step {step} on: {first_difference(ea[step], eb[step])}")
            break
        assert ma[step] == mb[step], step
        assert same_weights(a / f"step-{step}", b / f"step-{step}"), step
        compared += 1
    if not compared:
        pytest.skip(f"the two demos' observations differed at step 1: {first_difference(ea[1], eb[1])}")


def test_a_demo_resumed_from_each_checkpoint_repeats_the_next_step(two_demos, tmp_path):
    run = two_demos[1]
    full_m, full_e = metrics(run), episodes(run)
    compared = []
    for k in range(1, 6):
        out = tmp_path / f"from-{k}"
        echo.main(["--resume", str(run / f"step-{k}"), "--out", str(out), "--stop-after", str(k + 1),
                   "--save-episodes"])
        m, e = metrics(out), episodes(out, first_step=k + 1)
        assert list(m) == [k + 1]
        if e[k + 1] != full_e[k + 1]:
            print(f"step {k + 1}: observations differ on {first_difference(e[k + 1], full_e[k + 1])}")
            continue
        assert m[k + 1] == full_m[k + 1], k + 1
        assert same_weights(out / f"step-{k + 1}", run / f"step-{k + 1}"), k + 1
        compared.append(k + 1)
    print("steps compared after a resume:", compared)
    if not compared:
        pytest.skip("every resumed step met a command whose output differed")
