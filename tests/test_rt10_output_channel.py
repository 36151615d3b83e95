"""The output of a run_fresh command (the verifier's, a build step's, copy_in's) is its own: pid 1 gives each
one a pipe of its own that no process of the agent's holds (rt10b p33: a survivor that inherited the shell's
stdout printed `bash: pytest: command not found` into test.sh's output, a working verifier read as broken)."""
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from sandbox import Limits, Sandbox  # noqa: E402

FORGED = "bash: pytest: command not found"
SURVIVOR = f"(exec 2>&1; while true; do echo '{FORGED}'; sleep 0.05; done) & echo started"


@pytest.fixture(params=[True, False], ids=["keep", "kill"])
def box(request):
    with Sandbox(limits=Limits(keep_agent_processes=request.param)) as s:
        yield s


@pytest.mark.parametrize("private_logs", [True, False], ids=["verifier", "plain"])
def test_a_survivors_lines_never_reach_run_fresh_output(box, private_logs):
    assert "started" in box.run(SURVIVOR).output
    time.sleep(0.2)                            # it is writing now
    r = box.run_fresh("echo out; sleep 0.5; echo err >&2", 10, private_logs=private_logs)
    assert (r.exit_code, r.output, r.tail) == (0, "out\nerr\n", "")


def test_a_commands_leftover_writes_into_no_later_command(box):
    # a build step or copy_in that left a process printing: the next run_fresh reads none of it
    left = f"( sleep 0.2; while true; do echo '{FORGED}'; sleep 0.05; done ) & echo first"
    assert box.run_fresh(left, 10).output == "first\n"
    time.sleep(0.2)
    assert box.run_fresh("sleep 0.3; echo second", 10, private_logs=True).output == "second\n"


def test_the_agents_shell_output_is_unchanged(box):
    # its own pipe is still the agent's: a background line shows in a later command's output, as before
    r = box.run("(sleep 0.2; echo late) & echo now; sleep 0.5")
    assert r.output == "now\nlate\n"
