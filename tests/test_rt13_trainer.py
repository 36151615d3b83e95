"""The trainer's side of rt12b's open rows: p29 (the agent's phase network covers the sidecars it drives),
p24 (a task's trees are counted in entries at load, and staged under the verifier's clock) and p02 (a build
step's disk cap counts the files it holds open with no name). Each test failed on the code before."""
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import harbor  # noqa: E402
from test_network import needs_pasta  # noqa: E402

# ---- p29: sidecars under a verifier with a wider network than the agent's phase ---------------------------

# A sidecar that runs whatever the agent drops in the volume they share; the agent's job ticks into the
# volume for ever. test.sh scores 1 when no tick lands while it watches: nothing the agent drove runs on.
RUNNER = """\
services:
  main:
    volumes:
      - shared:/shared
  runner:
    build:
      context: ./runner
    volumes:
      - shared:/shared
volumes:
  shared: {}
"""
RUNNER_DOCKERFILE = ('FROM host\nCMD ["bash", "-c", "while true; do [ -f /shared/job.sh ] && '
                     'mv /shared/job.sh /tmp/job.sh && { bash /tmp/job.sh & }; sleep 0.1; done"]\n')
JOB = "cat > /shared/job.sh <<'EOF'\nwhile true; do echo tick >> /shared/ticks; sleep 0.1; done\nEOF\nsleep 1"
STILL = ("a=$(wc -l < /shared/ticks); sleep 1; b=$(wc -l < /shared/ticks); "
         '[ "$a" = "$b" ] && echo 1 > /logs/verifier/reward.txt || echo 0 > /logs/verifier/reward.txt\n')


def compose_task(tmp_path: Path, toml: str) -> harbor.Task:
    path = tmp_path / "t"
    for rel, text in {"task.toml": toml, "instruction.md": "Do it.\n", "tests/test.sh": STILL,
                      "environment/Dockerfile": "FROM host\nWORKDIR /app\n",
                      "environment/runner/Dockerfile": RUNNER_DOCKERFILE,
                      "environment/docker-compose.yaml": RUNNER}.items():
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_text(text)
    return harbor.load_task(path)


@needs_pasta
def test_a_sidecar_is_killed_before_a_verifier_with_a_wider_network(tmp_path):
    t = compose_task(tmp_path, "[environment]\nallow_internet = true\n")
    with harbor.start_task(t, internet=False) as env:                  # --no-internet
        env.run(JOB)
        assert env.run("wc -l < /shared/ticks").output.strip() != "0"  # the sidecar runs the agent's job
        assert env.verify() == (1.0, "")


@needs_pasta
def test_a_sidecar_lives_on_where_the_verifier_has_no_wider_network(tmp_path):
    # Harbor's lifecycle as it was: the sidecar's service (and what it runs) is there for the tests
    t = compose_task(tmp_path, "[environment]\nallow_internet = false\n")
    with harbor.start_task(t, internet=True) as env:
        env.run(JOB)
        assert env.verify() == (0.0, "")


# ---- p24: a task's trees in entries, and tests/ staged on the verifier's clock ---------------------------

def plain_task(tmp_path: Path, files: dict[str, str]) -> Path:
    path = tmp_path / "t"
    for rel, text in {"task.toml": "", "instruction.md": "Do it.\n",
                      "tests/test.sh": "echo 1 > /logs/verifier/reward.txt\n", **files}.items():
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_text(text)
    return path


@pytest.mark.parametrize("tree", ["tests", "solution"])
def test_a_tree_of_more_entries_than_the_cap_is_refused_at_load_in_one_line(tmp_path, monkeypatch, tree):
    monkeypatch.setattr(harbor, "MAX_TREE_ENTRIES", 20)
    path = plain_task(tmp_path, {"solution/solve.sh": "true\n"})
    for i in range(20):                        # empty directories count too: each is a copy's mkdir
        (path / tree / "many" / str(i)).mkdir(parents=True)
    with pytest.raises(harbor.TaskError, match=rf"^task 't': {tree}/ has over 20 files and directories"):
        harbor.load_task(path)


def test_a_tree_at_the_cap_loads(tmp_path, monkeypatch):
    monkeypatch.setattr(harbor, "MAX_TREE_ENTRIES", 20)
    path = plain_task(tmp_path, {f"tests/f{i}": "" for i in range(19)})     # and test.sh: 20
    assert harbor.load_task(path).name == "t"


def test_staging_tests_runs_on_the_verifiers_clock(tmp_path, monkeypatch):
    import sandbox
    path = plain_task(tmp_path, {f"tests/f{i}": "" for i in range(40)})
    with harbor.start_task(harbor.load_task(path)) as env:
        slow = sandbox._copy_plain
        monkeypatch.setattr(sandbox, "_copy_plain", lambda a, b: (time.sleep(0.05), slow(a, b)))  # 2 s in all
        t0 = time.monotonic()
        r = env.box.run_fresh("echo ran", 0.5, private_logs=True, tests=path / "tests")
        assert r.timed_out and "ran" not in r.output
        assert time.monotonic() - t0 < 1.5
        assert not any((env.box.dir / "stage").iterdir())          # nothing staged is left behind

