"""The observe task families (tasks/observe/): tasks where the terminal matters. Each family loads; its oracle
scores 1 and doing nothing scores 0; its scripted explorer (explore.py) solves fresh instances, detours
included; and the same explorer shown another instance's outputs, or none, fails: the answer has to be read
from the terminal. All episodes run once, in parallel, in a module fixture; each test looks up one
family's records so that a failure names the family."""
import importlib.util
import json
import random
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import explore as X
import harbor

ROOT = Path(__file__).resolve().parent.parent / "tasks" / "observe"
SPLITS = {split: sorted(d for d in (ROOT / split).iterdir() if (d / "task.toml").is_file())
          for split in ("train", "heldout")}
TASK_DIRS = SPLITS["train"] + SPLITS["heldout"]
IDS = [f"{d.parent.name}/{d.name}" for d in TASK_DIRS]
SEEDS = (0, 1)


def answer(task_dir: Path, seed: int) -> str:
    """The answer the verifier expects at `seed`: the family's gen.build() run here, on the host."""
    spec = importlib.util.spec_from_file_location(f"gen_{task_dir.name.replace('-', '_')}",
                                                  task_dir / "tests" / "gen.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    return gen.build(random.Random(seed))[1]


def episode(task, seed: int, agent) -> dict:
    with harbor.start_task(task, seed) as sb:
        agent(sb, task)
        reward, reason = harbor.verify(sb, task, seed)
    return {"reward": reward, "error": reason or None}


def oracle(sb, task):
    harbor.run_solution(sb, task)


def null(sb, task):
    pass


def blind(task, seed: int, shown) -> dict:
    """The family's explorer plays instance `seed`, but each output it is sent comes from `shown(command)`
    instead: its commands' effects land in this instance, its reading does not. A crash (nothing to
    parse) counts as a failure too."""
    explore = X.load_explorer(task)(random.Random(f"{task.name}-{seed}"))
    with harbor.start_task(task, seed) as sb:
        try:
            command = next(explore)
            while True:
                sb.run(command)
                command = explore.send(shown(command))
        except StopIteration:
            return {"reward": harbor.verify(sb, task, seed)[0], "crash": None}
        except Exception as e:
            return {"reward": 0.0, "crash": f"{type(e).__name__}: {e}"}


def blind_other_seed(task) -> dict:
    """Seed 0 played with the outputs of seed 1: the explorer must act on what it reads."""
    with harbor.start_task(task, 1) as other:
        return blind(task, 0, lambda command: other.run(command).output)


@pytest.fixture(scope="module")
def episodes():
    """{(task id, what, seed): record}: oracle, null and the explorer (noise 0.3) at seeds 0 and 1; the
    explorer with a detour before every command (noise 1) at seed 2; the explorer blind at seed 0."""
    tasks = {i: harbor.load_task(d) for i, d in zip(IDS, TASK_DIRS)}
    jobs = {}
    for i, task in tasks.items():
        for seed in SEEDS:
            jobs[(i, "oracle", seed)] = lambda t=task, s=seed: episode(t, s, oracle)
            jobs[(i, "null", seed)] = lambda t=task, s=seed: episode(t, s, null)
            jobs[(i, "explorer", seed)] = lambda t=task, s=seed: X.play(t, s, noise=0.3)
        jobs[(i, "explorer noise 1", 2)] = lambda t=task: X.play(t, 2, noise=1.0)
        jobs[(i, "blind other seed", 0)] = lambda t=task: blind_other_seed(t)
        jobs[(i, "blind empty", 0)] = lambda t=task: blind(t, 0, lambda command: "")
    with ThreadPoolExecutor(4) as pool:   # episodes mostly wait on subprocesses
        return dict(zip(jobs, pool.map(lambda job: job(), jobs.values())))


def test_eight_train_and_five_heldout_families_that_all_load():
    assert (len(SPLITS["train"]), len(SPLITS["heldout"])) == (8, 5)
    assert not {d.name for d in SPLITS["train"]} & {d.name for d in SPLITS["heldout"]}
    for split, dirs in SPLITS.items():
        errors = []
        tasks = harbor.load_tasks(ROOT / split, errors)
        assert errors == [] and [t.name for t in tasks] == [d.name for d in dirs]


@pytest.mark.parametrize("task_dir", TASK_DIRS, ids=IDS)
def test_family_format(task_dir):
    task = harbor.load_task(task_dir)
    assert task.has_solution and (task_dir / "solution/explore.py").is_file()
    assert 'category = "observe"' in (task_dir / "task.toml").read_text()
    assert len(task.instruction.split()) < 40 and "/app/" in task.instruction
    assert (task_dir / "environment/gen.py").read_bytes() == (task_dir / "tests/gen.py").read_bytes()


@pytest.mark.parametrize("task_dir", TASK_DIRS, ids=IDS)
def test_answer_depends_on_the_seed(task_dir):
    answers = [answer(task_dir, seed) for seed in (0, 1, 2)]
    assert len(set(answers)) == 3, answers


@pytest.mark.parametrize("task_id", IDS)
@pytest.mark.parametrize("seed", SEEDS)
def test_oracle_scores_one_and_doing_nothing_zero(episodes, task_id, seed):
    assert episodes[(task_id, "oracle", seed)]["reward"] == 1.0, episodes[(task_id, "oracle", seed)]
    assert episodes[(task_id, "null", seed)]["reward"] == 0.0


@pytest.mark.parametrize("task_id", IDS)
@pytest.mark.parametrize("what, seed", [("explorer", 0), ("explorer", 1), ("explorer noise 1", 2)])
def test_explorer_solves_a_fresh_instance_through_detours(episodes, task_id, what, seed):
    rec = episodes[(task_id, what, seed)]
    assert rec["reward"] == 1.0, rec["error"]
    roles = [m["role"] for m in rec["messages"]]
    assert roles == ["system", "user"] + ["assistant", "tool"] * (rec["turns"] - 1) + ["assistant"]
    assert rec["messages"][-1]["content"].endswith("<function=done>\n</function>\n</tool_call>")


@pytest.mark.parametrize("task_id", IDS)
@pytest.mark.parametrize("what", ["blind other seed", "blind empty"])
def test_explorer_fails_without_the_right_observations(episodes, task_id, what):
    assert episodes[(task_id, what, 0)]["reward"] == 0.0, episodes[(task_id, what, 0)]


def test_record_writes_every_episode_and_counts(tmp_path):
    task = harbor.load_task(ROOT / "train" / "count-errors")
    out = tmp_path / "explore.jsonl"
    n = X.record([task], range(3, 5), out, noise=0.3, log=lambda message: None)
    recs = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["task"], r["seed"], r["reward"]) for r in recs] == [("count-errors", 3, 1.0),
                                                                   ("count-errors", 4, 1.0)]
    assert (n["episodes"], n["rewarded"], n["errors"]) == (2, 2, 0)
    assert n["mean_turns"] == sum(r["turns"] for r in recs) / 2


@pytest.mark.parametrize("flag, value", [("--seeds", "5-2"), ("--noise", "1.5"), ("--workers", "0"),
                                         ("--tasks", "no/such/dir")])
def test_a_bad_flag_is_one_line_naming_flag_and_value(capsys, flag, value):
    argv = {"--tasks": str(ROOT / "train"), "--seeds": "0-1", "--out": "/tmp/x.jsonl", flag: value}
    with pytest.raises(SystemExit):
        X.main([word for pair in argv.items() for word in pair])
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"argument {flag}" in error and repr(value) in error


def test_a_task_outside_the_repository_runs_no_explorer_unless_trusted(capsys, tmp_path):
    # solution/explore.py runs in explore.py's own process, unsandboxed (rt13b p20: as host root)
    tasks = tmp_path / "tasks"
    shutil.copytree(ROOT / "train" / "count-errors", tasks / "count-errors")
    marker = tmp_path / "ran"
    (tasks / "count-errors/solution/explore.py").write_text(f"open({str(marker)!r}, 'w').close()\n"
                                                             "def explore(rng):\n    yield 'true'\n")
    argv = ["--tasks", str(tasks), "--seeds", "0-0", "--out", str(tmp_path / "x.jsonl")]
    with pytest.raises(SystemExit):
        X.main(argv)
    assert "--trust-task-code" in capsys.readouterr().err and not marker.exists()
    X.main(argv + ["--trust-task-code", "--workers", "1"])
    assert marker.exists()
