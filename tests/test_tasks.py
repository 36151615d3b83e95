"""Every task is solvable and checks something: its oracle scores 1 and an agent that does nothing
scores 0 (METHOD.md §8). All episodes run once, in parallel, in a module fixture; each test looks up one
task's records so that a failure names the task."""
import hashlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import eval as ev
import harbor

ROOT = Path(__file__).resolve().parent.parent / "tasks"
SPLITS = [s for s in ("train", "heldout") if (ROOT / s).is_dir() and any((ROOT / s).glob("*/task.toml"))]
TASK_DIRS = sorted(d for s in SPLITS for d in (ROOT / s).iterdir() if (d / "task.toml").is_file())
IDS = [f"{d.parent.name}/{d.name}" for d in TASK_DIRS]
SECOND_SEED = 1


def family(task_dir: Path) -> str:
    return task_dir.name.split("-")[0]


def workdir_hash(path: Path) -> str:
    """Hash of every file's relative path and bytes under the sandbox's workdir, as seen from the host."""
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink()):
        try:
            data = f.read_bytes()
        except OSError as e:                       # e.g. a mode-000 file when not running as root
            data = type(e).__name__.encode()
        h.update(str(f.relative_to(path)).encode() + b"\0" + data)
    return h.hexdigest()


def fingerprinted(agent):
    """The agent, but the episode record also gets the workdir's hash as the agent found it."""
    def wrapped(sb, task):
        before = workdir_hash(sb.box.host_path(task.workdir))
        return {**(agent(sb, task) or {}), "workdir_hash": before}
    return wrapped


@pytest.fixture(scope="module")
def episodes():
    """{(task id, agent name, seed): record}. Oracle and null at seed 0 for every task; the oracle again
    at a second seed for the train tasks, whose workdir hashes also measure how much instances vary."""
    jobs = [(i, d, "oracle", 0) for i, d in zip(IDS, TASK_DIRS)]
    jobs += [(i, d, "null", 0) for i, d in zip(IDS, TASK_DIRS)]
    jobs += [(i, d, "oracle", SECOND_SEED) for i, d in zip(IDS, TASK_DIRS) if d.parent.name == "train"]

    def run(job):
        task_id, d, agent, seed = job
        try:
            task = harbor.load_task(d)
        except Exception as e:
            return {"reward": 0.0, "error": f"load_task: {e}"}
        agent_fn = ev.AGENTS[agent]
        return ev.run_episode(task, fingerprinted(agent_fn) if task_id.startswith("train/") else agent_fn, seed)

    workers = 8                        # episodes mostly wait on subprocesses, so more threads than cores
    with ThreadPoolExecutor(workers) as pool:
        return {job[:1] + job[2:]: rec for job, rec in zip(jobs, pool.map(run, jobs))}


@pytest.mark.parametrize("task_dir", TASK_DIRS, ids=IDS)
def test_task_loads(task_dir):
    task = harbor.load_task(task_dir)
    assert task.has_solution, f"task '{task.name}': solution/solve.sh missing"
    assert task.instruction.strip()
    assert "-" in task.name, f"task '{task.name}': name must be FAMILY-NAME"
    # Tasks that regenerate their instance in the verifier must ship the very same generator.
    gen_env, gen_tests = task_dir / "environment/gen.py", task_dir / "tests/gen.py"
    if gen_env.is_file() and gen_tests.is_file():
        assert gen_env.read_bytes() == gen_tests.read_bytes(), f"task '{task.name}': tests/gen.py differs"


@pytest.mark.parametrize("task_id", IDS)
def test_oracle_scores_one(episodes, task_id):
    rec = episodes[(task_id, "oracle", 0)]
    assert rec["reward"] == 1.0, f"{task_id}: oracle got {rec}"


@pytest.mark.parametrize("task_id", IDS)
def test_null_agent_scores_zero(episodes, task_id):
    rec = episodes[(task_id, "null", 0)]
    assert rec["reward"] == 0.0, f"{task_id}: doing nothing got {rec}"


@pytest.mark.parametrize("task_id", [i for i in IDS if i.startswith("train/")])
def test_oracle_scores_one_second_seed(episodes, task_id):
    rec = episodes[(task_id, "oracle", SECOND_SEED)]
    assert rec["reward"] == 1.0, f"{task_id} seed {SECOND_SEED}: oracle got {rec}"


def test_train_instances_vary_with_seed(episodes):
    train = [i for i in IDS if i.startswith("train/")]
    if not train:
        pytest.skip("no train tasks")
    differ = [i for i in train if episodes[(i, "oracle", 0)].get("workdir_hash")
              != episodes[(i, "oracle", SECOND_SEED)].get("workdir_hash")]
    assert len(differ) >= min(30, len(train)), (
        f"only {len(differ)} of {len(train)} train tasks build a different workdir for seed 0 and "
        f"seed {SECOND_SEED}; same for: {sorted(set(train) - set(differ))}")


def test_train_and_heldout_families_disjoint():
    fams = {s: {family(d) for d in TASK_DIRS if d.parent.name == s} for s in ("train", "heldout")}
    shared = fams["train"] & fams["heldout"]
    assert not shared, f"families in both train and heldout: {sorted(shared)}"


def test_enough_train_tasks():
    train = [d for d in TASK_DIRS if d.parent.name == "train"]
    assert len(train) >= 44, f"{len(train)} train tasks, want >= 44"
    per_family = {}
    for d in train:
        per_family[family(d)] = per_family.get(family(d), 0) + 1
    assert min(per_family.values()) >= 4, f"families with fewer than 4 tasks: {per_family}"


def test_run_episode_turns_agent_crash_into_reward_zero():
    def crashing(sb, task):
        raise RuntimeError("agent blew up")
    rec = ev.run_episode(harbor.load_task(TASK_DIRS[0]), crashing, seed=0)
    assert rec["reward"] == 0.0 and "agent blew up" in rec["error"], rec
