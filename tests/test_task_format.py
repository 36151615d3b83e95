"""Harbor task format: load_task errors, Dockerfile-lite, run_solution and verify (sandbox.py, PAPER §8)."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from sandbox import (UnsupportedEnvironment, load_task, load_tasks, parse_dockerfile, run_solution,  # noqa: E402
                     start_task, verify)

TEST_SH = "echo 1 > /logs/verifier/reward.txt\n"


def make_task(root: Path, name: str = "t", files: dict[str, str] | None = None, toml: str = "") -> Path:
    """A task directory; `files` overrides or adds files (None as a value deletes the default)."""
    path = root / name
    defaults = {"task.toml": toml or "[agent]\ntimeout_sec = 60\n", "instruction.md": "Do the thing.\n",
                "tests/test.sh": TEST_SH}
    for rel, text in {**defaults, **(files or {})}.items():
        if text is not None:
            (path / rel).parent.mkdir(parents=True, exist_ok=True)
            (path / rel).write_text(text)
    return path


# ---- load_task ------------------------------------------------------------------------------------------

def test_load_task_reads_the_toml(tmp_path):
    toml = ('[agent]\ntimeout_sec = 300\n[verifier]\ntimeout_sec = 30\nenv = { V = "1" }\n'
            '[environment]\ncpus = 2\nmemory = "1G"\nenv = ["A=1", "B=x=y"]\n')
    t = load_task(make_task(tmp_path, "x", toml=toml, files={"solution/solve.sh": "true\n"}))
    assert (t.name, t.instruction, t.agent_timeout, t.verifier_timeout) == ("x", "Do the thing.", 300, 30)
    assert (t.cpus, t.memory_mb, t.workdir, t.env, t.verifier_env) == (2, 1024, "/app", {"A": "1", "B": "x=y"},
                                                                       {"V": "1"})
    assert t.has_solution and t.dockerfile == []
    assert t.overrides == {"episode_timeout": 300, "memory_mb": 1024}


def test_load_task_defaults(tmp_path):
    t = load_task(make_task(tmp_path, toml="\n"))
    assert (t.agent_timeout, t.verifier_timeout, t.memory_mb, t.overrides, t.has_solution) == \
        (600.0, 120.0, 2048, {}, False)


@pytest.mark.parametrize("files, error", [
    ({"instruction.md": None}, "task 'x': instruction.md missing"),
    ({"tests/test.sh": None}, "task 'x': tests/test.sh missing"),
    ({"task.toml": None}, "task 'x': task.toml missing"),
    ({"task.toml": "[agent\n"}, "task 'x': task.toml is not valid TOML"),
    ({"task.toml": "[agent]\ntimeout_sec = 'soon'\n"}, r"task 'x': \[agent\].timeout_sec must be a positive"),
    ({"task.toml": "[environment]\nworkdir = 'app'\n"}, "task 'x': workdir must be an absolute path"),
    ({"instruction.md": "  \n"}, "task 'x': instruction.md is empty"),
    ({"environment/Dockerfile": "RUN <<EOF\necho\n"}, "task 'x': environment/Dockerfile: RUN heredoc"),
])
def test_load_task_errors_name_the_task_and_the_problem(tmp_path, files, error):
    with pytest.raises((ValueError, FileNotFoundError), match=error):
        load_task(make_task(tmp_path, "x", files=files))


def test_load_tasks_sorted_and_error_when_empty(tmp_path):
    for name in ("b", "a"):
        make_task(tmp_path, name)
    (tmp_path / "not-a-task").mkdir()
    assert [t.name for t in load_tasks(tmp_path)] == ["a", "b"]
    with pytest.raises(FileNotFoundError, match="no tasks in"):
        load_tasks(tmp_path / "not-a-task")


def test_parse_dockerfile():
    text = ("# comment\nFROM python:3.11\nRUN apt-get update && \\\n    # inline comment\n    apt-get install -y x\n"
            "run <<EOF\necho a\necho b\nEOF\nENV A=1\n")
    assert parse_dockerfile(text) == [("FROM", "python:3.11"), ("RUN", "apt-get update &&  apt-get install -y x"),
                                      ("RUN", "echo a\necho b"), ("ENV", "A=1")]


# ---- start_task / Dockerfile-lite -------------------------------------------------------------------------

def test_environment_files_are_copied_without_a_dockerfile(tmp_path):
    task = load_task(make_task(tmp_path, files={"environment/data.txt": "hello\n", "environment/sub/x": "x"}))
    with start_task(task) as sb:
        assert sb.run("pwd; cat data.txt; ls sub").output == "/app\nhello\nx\n"
        assert sb.run("echo changed > data.txt").exit_code == 0       # the agent's workdir is writable


def test_dockerfile_lite(tmp_path):
    dockerfile = """\
        FROM ubuntu:24.04
        LABEL x=y
        ARG NAME=world
        ENV A=1 B="two words"
        ENV C $A-more
        WORKDIR /srcdir
        COPY data.txt .
        COPY sub/ /data/sub/
        RUN echo "$NAME $TASK_SEED" > seed.txt && cp data.txt /data/
        WORKDIR /work2
        RUN ["sh", "-c", "pwd > where.txt"]
        EXPOSE 80
        CMD ["bash"]
        """.replace("        ", "")
    task = load_task(make_task(tmp_path, files={"environment/Dockerfile": dockerfile, "environment/data.txt": "d\n",
                                                "environment/sub/f": "f\n"}))
    assert task.workdir == "/work2"
    with start_task(task, seed=7) as sb:
        r = sb.run('pwd; cat where.txt /srcdir/seed.txt /srcdir/data.txt /data/sub/f /data/data.txt; '
                   'echo "$A|$B|$C|${TASK_SEED:-unset}|${NAME:-unset}"')
        assert r.output == "/work2\n/work2\nworld 7\nd\nf\nd\n1|two words|1-more|unset|unset\n"


@pytest.mark.parametrize("line, error", [
    ("RUN echo boom; exit 3", r"unsupported environment: RUN 'echo boom; exit 3' failed \(exit 3\): boom"),
    ("RUN pip download requests", "unsupported environment: RUN"),     # no network
    ("FROBNICATE x", "unsupported environment: Dockerfile instruction FROBNICATE"),
    ("ADD https://example.com/x.tgz /app/", "unsupported environment: ADD https://example.com/x.tgz"),
    ("COPY missing.txt /app/", "unsupported environment: COPY missing.txt: not found"),
    ("COPY data.txt /usr/local/bin/data", "unsupported environment: COPY data.txt /usr/local/bin/data"),
    ("COPY --from=builder /x /y", "unsupported environment: COPY --from"),
])
def test_unsupported_environments_fail_at_setup(tmp_path, line, error):
    task = load_task(make_task(tmp_path, "x", files={"environment/Dockerfile": f"FROM x\n{line}\n",
                                                     "environment/data.txt": "d\n"}))
    with pytest.raises(UnsupportedEnvironment, match=f"task 'x': {error}"):
        start_task(task)


def test_tests_and_solution_are_invisible_during_the_episode(tmp_path):
    root = Path("/var/tmp") / f"echo-task-{tmp_path.name}"        # a place the sandbox could otherwise see
    path = make_task(root, files={"solution/solve.sh": "echo SECRET > answer.txt\n"})
    try:
        task = load_task(path)
        with start_task(task) as sb:
            r = sb.run(f"ls /tests /solution; cat {path}/solution/solve.sh {path}/tests/test.sh; ls -A {root}")
            assert "SECRET" not in r.output and "reward" not in r.output
    finally:
        import shutil
        shutil.rmtree(root)


# ---- run_solution / verify --------------------------------------------------------------------------------

def test_solution_then_verify_with_seed(tmp_path):
    test_sh = 'test "$(cat answer.txt)" = "$TASK_SEED" && echo 1 > /logs/verifier/reward.txt || echo 0 > /logs/verifier/reward.txt\n'
    task = load_task(make_task(tmp_path, files={"tests/test.sh": test_sh, "solution/solve.sh": "echo 5 > answer.txt\n"}))
    with start_task(task, seed=5) as sb:
        assert sb.run("echo ${TASK_SEED:-unset}").output == "unset\n"
        assert run_solution(sb, task).exit_code == 0
        assert verify(sb, task, seed=5) == (1.0, "")
        assert verify(sb, task, seed=6) == (0.0, "")


@pytest.mark.parametrize("test_sh, reward, reason", [
    ("echo 0.25 > /logs/verifier/reward.txt", 0.25, ""),
    ('echo \'{"reward": 0.5, "other": 1}\' > /logs/verifier/reward.json', 0.5, ""),
    ("echo hi", 0.0, "reward.txt missing"),
    ("touch /logs/verifier/reward.txt", 0.0, "reward.txt empty"),
    ("echo lots > /logs/verifier/reward.txt", 0.0, "reward.txt garbled: 'lots'"),
    ("echo '{\"score\": 1}' > /logs/verifier/reward.json", 0.0, "reward.json garbled"),
    ("sleep 30", 0.0, "verifier timed out after 1 s"),
])
def test_verify_reward_files(tmp_path, test_sh, reward, reason):
    task = load_task(make_task(tmp_path, files={"tests/test.sh": test_sh + "\n"},
                               toml="[verifier]\ntimeout_sec = 1\n"))
    with start_task(task) as sb:
        got, why = verify(sb, task)
        assert got == reward and why.startswith(reason) and (reason or why == "")


def test_the_agent_cannot_plant_a_reward(tmp_path):
    task = load_task(make_task(tmp_path, files={"tests/test.sh": "ls /tests; sleep 0.5\n"}))
    with start_task(task) as sb:
        sb.run("mkdir -p /logs/verifier /tests && echo 1 > /logs/verifier/reward.txt && touch /tests/conftest.py")
        sb.run("(while :; do mkdir -p /logs/verifier; echo 1 > /logs/verifier/reward.txt; sleep 0.05; done) &")
        assert verify(sb, task)[0] == 0.0
