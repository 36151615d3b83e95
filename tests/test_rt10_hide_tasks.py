"""rt10b p20 (b): the host fallback hides every task of the run and what holds them, not only the episode's
own task directory: a sibling task's solution kept beside it under a directory the fallback shows
(/usr/local/share) is not readable by the agent."""
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import harbor  # noqa: E402
import sandbox  # noqa: E402


def make_task(d: Path, solution: str) -> Path:
    files = {"task.toml": "[verifier]\ntimeout_sec = 60\n", "instruction.md": "do it",
             "environment/Dockerfile": "FROM host\n", "tests/test.sh": "#!/bin/bash\n",
             "solution/solve.sh": solution}
    for rel, body in files.items():
        (d / rel).parent.mkdir(parents=True, exist_ok=True)
        (d / rel).write_text(body)
    return d


@pytest.fixture
def shown_dir():
    """A directory under /usr/local/share (shown read-only by the fallback), where an operator may keep
    tasks."""
    if os.getuid() != 0:
        pytest.skip("making a directory under /usr/local/share needs root")
    d = Path(tempfile.mkdtemp(prefix="echo-test-tasks-", dir="/usr/local/share"))
    d.chmod(0o755)
    yield d
    shutil.rmtree(d)
    sandbox.TASK_PATHS.clear()


def test_a_sibling_task_beside_the_episodes_is_hidden(shown_dir):
    mine = make_task(shown_dir / "a" / "t", "echo mine\n")
    sibling = make_task(shown_dir / "b" / "u", "echo SIBLING\n")    # in another directory, never loaded
    for p in (shown_dir / "a", shown_dir / "b", mine, sibling):
        p.chmod(0o755)
    task = harbor.load_task(mine)
    with sandbox.Sandbox(hide=[task.path], limits=sandbox.Limits(keep_agent_processes=False)) as sb:
        out = sb.run(f"cat {sibling}/solution/solve.sh {mine}/solution/solve.sh 2>&1").output
    assert "SIBLING" not in out and "mine" not in out, out


def test_the_system_directories_stay_shown(shown_dir):
    sandbox.hide_tasks(shown_dir / "a" / "t", "/usr/local/t", "/usr/lib/python3/dist-packages/t",
                       "/var/tmp/x/t")
    hidden = sandbox.task_hides()
    assert str(shown_dir) in hidden and "/usr/lib/python3/dist-packages/t" in hidden
    assert not [h for h in hidden if h.startswith("/var/")]       # the episode's own /var/tmp: not covered
    assert not {"/usr", "/usr/local", "/usr/local/share", "/usr/lib", "/usr/lib/python3",
                "/usr/lib/python3/dist-packages"} & set(hidden)
