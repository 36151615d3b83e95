"""The read task families (tasks/read/): the action that solves an instance depends on what an earlier
command printed (an error to interpret, a value to use, a branch to take). Each family loads; its oracle
scores 1 and doing nothing 0; its scripted explorer solves fresh instances, detours included; and a policy
denied the outputs scores at chance: the explorer shown another instance's outputs, or empty ones, fails,
and the best blind script we know (a fixed command that reads nothing itself, BLIND) scores, over 40
seeds, what its stated chance level says. All episodes run once, in parallel, in a module fixture.

The blind script's 40 instances of a family are made in ONE sandbox, one after another (blind_instances):
/app rebuilt by the family's gen.py, the script run, the family's check.py asked, as the seeded step and
test.sh do. As 480 whole episodes they were 40 s of a loaded suite's 60 s here; the verdict is the task's
(gen and check), and at the first SAME_SEEDS seeds a whole episode must give the same one."""
import importlib.util
import math
import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import explore as X
import harbor
from test_observe_tasks import blind, episode, null, oracle

ROOT = Path(__file__).resolve().parent.parent / "tasks" / "read"
SPLITS = {split: sorted(d for d in (ROOT / split).iterdir() if (d / "task.toml").is_file())
          for split in ("train", "heldout")}
TASK_DIRS = SPLITS["train"] + SPLITS["heldout"]
IDS = [f"{d.parent.name}/{d.name}" for d in TASK_DIRS]
SEEDS = (0, 1)
# The blind script's seeds; the explorer fed empty outputs plays the first 10. 40 seeds put 3 standard
# deviations at +-0.22 around a chance of 1/3 (60 gave +-0.18); an uninformed policy that wins 1 time in 3
# solves one of 10 empty-output instances with probability 0.98.
CHANCE_SEEDS = range(40)
# the blind script's seeds also played as whole episodes: the one-sandbox verdict must be theirs
SAME_SEEDS = CHANCE_SEEDS[:2]

# family: (the best blind script we know, its chance of success over instances), each worked out from gen.py
BLIND = {
    "app-error": ("rm -f /app/run/*.lock", 1 / 3),                        # right when the error is the lock
    "pick-backup": ("ls /app/backups | head -n 1 > /app/answer.txt", (1 / 3 + 1 / 4) / 2),  # 3 or 4 backups
    "port-busy": ("sed -i 's/^PORT=.*/PORT=8080/' /app/server.env", 0.0),  # the free port is busy + 1..40
    # major 1 (1/4) and 9 the largest of 4 minors drawn from 2..14 (C(7,3)/C(13,4))
    "version-pin": ("sed -i 's/==.*/==1.9/' /app/requirements.txt", 1 / 4 * 35 / 715),
    "exit-code": ("echo disk > /app/answer.txt", 1 / 4),                   # 4 causes, shuffled
    "env-key": ("cat /app/keys/*.key | head -n 1 | sed 's/^/API_KEY=/' >> /app/run.env", 0.0),  # name unknown
    "retry-delay": ("python3 /app/fetch.py --delay 5 | sed -nE 's/^data: //p' > /app/answer.txt", 1 / 29),
    "pointer-chase": ("sed -nE 's/^code: //p' \"$(head -n 1 /app/index.txt)\" > /app/answer.txt", 1 / 5),
    "module-missing": ("cp \"$(ls /app/vendor/*.py | head -n 1)\" /app/", 1 / 3),
    "quota-clean": ("rm \"$(ls /app/out/*.txt | head -n 1)\"", (1 / 3 + 1 / 4) / 2),
    "menu-choice": ("echo 1 > /app/answer.txt", 1 / 3),
    "timeout-arg": ("python3 /app/slow.py --timeout 60 | sed -nE 's/^result: //p' > /app/answer.txt", 1 / 110),
}


def want(task_dir: Path, seed: int):
    """What the verifier expects of /app at `seed`: the family's gen.build() run here, on the host."""
    spec = importlib.util.spec_from_file_location(f"gen_{task_dir.name.replace('-', '_')}",
                                                  task_dir / "tests" / "gen.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    return gen.build(random.Random(seed))[1]


def blind_script(script: str):
    def agent(sb, task):
        sb.run(script)
    return agent


@pytest.fixture(scope="module")
def episodes():
    """{(task id, what, seed): record}: oracle, null, explorer as in test_observe_tasks; and over CHANCE_SEEDS
    the blind script and the explorer fed empty outputs."""
    tasks = {i: harbor.load_task(d) for i, d in zip(IDS, TASK_DIRS)}
    jobs = {(i, "blind script", None): lambda t=task: blind_instances(t, BLIND[t.name][0], CHANCE_SEEDS)
            for i, task in tasks.items()}                     # the longest jobs first
    for i, task in tasks.items():
        for seed in SEEDS:
            jobs[(i, "oracle", seed)] = lambda t=task, s=seed: episode(t, s, oracle)
            jobs[(i, "null", seed)] = lambda t=task, s=seed: episode(t, s, null)
            jobs[(i, "explorer", seed)] = lambda t=task, s=seed: X.play(t, s, noise=0.3)
        jobs[(i, "explorer noise 1", 2)] = lambda t=task: X.play(t, 2, noise=1.0)
        jobs[(i, "blind other seed", 0)] = lambda t=task: other_seed(t)
        for seed in CHANCE_SEEDS[:10]:
            jobs[(i, "blind empty", seed)] = lambda t=task, s=seed: blind(t, s, lambda command: "")
        for seed in SAME_SEEDS:
            jobs[(i, "blind script episode", seed)] = lambda t=task, s=seed: episode(
                t, s, blind_script(BLIND[t.name][0]))
    with ThreadPoolExecutor(4) as pool:   # episodes mostly wait on subprocesses
        records = dict(zip(jobs, pool.map(lambda job: job(), jobs.values())))
    for i in tasks:                       # one record per seed, as for the episodes
        records |= {(i, "blind script", s): r for s, r in records.pop((i, "blind script", None)).items()}
    return records


# blind_instances' program, in the sandbox: each seed's instance made, played and judged by the family's own
# gen.py and check.py run as their __main__ (one interpreter: 80 start-ups a family cost more than the rest)
BLIND_DRIVER = """\
import contextlib, io, json, os, runpy, shutil, subprocess, sys
script, seeds, out = sys.argv[1], json.loads(sys.argv[2]), {}
for seed in seeds:
    os.environ["TASK_SEED"] = str(seed)
    os.chdir("/")
    shutil.rmtree("/app", ignore_errors=True)
    os.mkdir("/app")
    os.chdir("/app")                                  # the Dockerfile's WORKDIR
    runpy.run_path("/opt/blind/gen.py", run_name="__main__")      # the seeded step
    subprocess.run(["bash", "-c", script], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.chdir("/")
    try:                                              # test.sh: check.py's exit status is the reward
        with contextlib.redirect_stdout(io.StringIO()):
            runpy.run_path("/opt/blind/check.py", run_name="__main__")
        out[seed] = 1.0
    except SystemExit as e:
        out[seed] = float(e.code in (None, 0))
print(json.dumps(out))
"""


def blind_instances(task, script: str, seeds) -> dict:
    """{seed: {"reward"}}: the instances of `seeds`, one after another in one sandbox of the task (seed 0's),
    each as its episode would have it: /app emptied and rebuilt by the family's gen.py with TASK_SEED (the
    Dockerfile's seeded step), `script` run in it, then the family's check.py with TASK_SEED (what test.sh
    runs) says 1 or 0 by its exit status."""
    import json
    import shlex
    d = task.path
    with harbor.start_task(task, 0) as sb:
        sb.copy_in(d / "environment/gen.py", "/opt/blind/gen.py")     # check.py imports gen from its dir
        sb.copy_in(d / "tests/check.py", "/opt/blind/check.py")
        sb.run(f"cat > /opt/blind/driver.py <<'EOF'\n{BLIND_DRIVER}EOF")
        r = sb.run(f"python3 /opt/blind/driver.py {shlex.quote(script)} '{json.dumps(list(seeds))}'",
                   timeout=300)
        assert r.exit_code == 0, r.output[-2000:]
        verdicts = json.loads(r.output.splitlines()[-1])
        return {int(seed): {"reward": reward} for seed, reward in verdicts.items()}


def other_seed(task) -> dict:
    """Seed 0 played with the outputs of seed 1: the explorer must act on what it reads."""
    with harbor.start_task(task, 1) as other:
        return blind(task, 0, lambda command: other.run(command).output)


def test_eight_train_and_four_heldout_families_that_all_load_and_are_new():
    assert (len(SPLITS["train"]), len(SPLITS["heldout"])) == (8, 4)
    names = {d.name for d in TASK_DIRS}
    assert len(names) == 12 and set(BLIND) == names
    observe = {d.name for d in (ROOT.parent / "observe").glob("*/*") if d.is_dir()}
    assert not names & observe      # the general terminal prior (compare.py) trains on tasks/observe
    for split, dirs in SPLITS.items():
        errors = []
        tasks = harbor.load_tasks(ROOT / split, errors)
        assert errors == [] and [t.name for t in tasks] == [d.name for d in dirs]


@pytest.mark.parametrize("task_dir", TASK_DIRS, ids=IDS)
def test_family_format(task_dir):
    task = harbor.load_task(task_dir)
    assert task.has_solution and (task_dir / "solution/explore.py").is_file()
    assert 'category = "read"' in (task_dir / "task.toml").read_text()
    assert len(task.instruction.split()) < 45 and "/app/" in task.instruction
    assert (task_dir / "environment/gen.py").read_bytes() == (task_dir / "tests/gen.py").read_bytes()
    assert "subprocess" not in (task_dir / "tests/check.py").read_text()   # the verifier only reads files


@pytest.mark.parametrize("task_dir", TASK_DIRS, ids=IDS)
def test_what_the_verifier_wants_depends_on_the_seed(task_dir):
    wants = [repr(want(task_dir, seed)) for seed in range(10)]
    assert len(set(wants)) >= 3, wants      # a branch family has 3 or 4 answers, the others many more


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
    assert len(rec["messages"]) <= 2 + 2 * 9   # fits compare.py's --max-turns 8 (plus done) at noise 0.3


@pytest.mark.parametrize("task_id", IDS)
def test_explorer_fed_another_instance_s_outputs_fails(episodes, task_id):
    assert episodes[(task_id, "blind other seed", 0)]["reward"] == 0.0


@pytest.mark.parametrize("task_id", IDS)
def test_a_policy_denied_the_outputs_scores_at_chance(episodes, task_id):
    """The explorer fed empty outputs (10 seeds) solves none (it has nothing to act on), and the blind
    script's successes (40 seeds) lie within 3 binomial standard deviations of its stated chance level."""
    name = task_id.split("/")[1]
    p = BLIND[name][1]
    empty = sum(episodes[(task_id, "blind empty", s)]["reward"] == 1.0 for s in CHANCE_SEEDS[:10])
    wins = sum(episodes[(task_id, "blind script", s)]["reward"] == 1.0 for s in CHANCE_SEEDS)
    assert empty == 0, empty
    for s in SAME_SEEDS:                  # the one-sandbox instances score as whole episodes do
        assert episodes[(task_id, "blind script", s)]["reward"] == \
            episodes[(task_id, "blind script episode", s)]["reward"], s
    n = len(CHANCE_SEEDS)
    assert abs(wins - n * p) <= max(1.0, 3 * math.sqrt(n * p * (1 - p))), (wins, n * p)
