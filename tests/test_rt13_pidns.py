"""The agent's processes are in a PID namespace of their own, a child of the sandbox's, with a /proc of it
(sandbox_init._agent_namespaces): a process the agent left running (a survivor, in Harbor's lifecycle) has
no pid for any verifier process, so it cannot read its command line (rt8 p13 fed a secret from grep's
arguments into a FIFO), write its oom_score_adj (rt12 k10) or signal it. The verifier, in the sandbox's
namespace, still sees and kills the agent's services (a test's pgrep, killall)."""
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from sandbox import Sandbox  # noqa: E402

SECRET = "echo-verifier-secret-4711"


@pytest.fixture(scope="module")
def sb():
    with Sandbox() as s:                       # Limits() keeps the agent's processes: Harbor's lifecycle
        yield s


def verifier_process(sb, seconds: int = 20) -> None:
    """A process of the verifier's, in the background, with SECRET in its command line."""
    r = sb.run_fresh(f"(exec -a {SECRET} sleep {seconds}) >/dev/null 2>&1 &", 30, private_logs=True)
    assert r.exit_code == 0, r.output
    assert SECRET in sb.run_fresh("pgrep -af echo-verifier", 30, private_logs=True).output


def test_a_survivor_cannot_read_a_verifier_processs_command_line(sb):
    sb.run("(sleep 1; grep -la echo-verifier /proc/[0-9]*/cmdline > /dev/shm/found 2>&1; "
           "pgrep -af echo-verifier >> /dev/shm/found) >/dev/null 2>&1 &")
    r = sb.run_fresh(f"(exec -a {SECRET} sleep 3); echo done", 30, private_logs=True)
    assert r.output == "done\n", r.output
    found = sb.run("cat /dev/shm/found; rm -f /dev/shm/found").output
    assert SECRET not in found, found


def test_the_agent_cannot_raise_a_verifier_processs_oom_score_adj(sb):
    verifier_process(sb)
    sb.run("for f in /proc/[0-9]*/oom_score_adj; do echo 1000 > $f; done 2>/dev/null")
    r = sb.run_fresh("cat /proc/$(pgrep -f ^echo-verifier-secret)/oom_score_adj", 30, private_logs=True)
    sb.run_fresh("pkill -f ^echo-verifier", 30, private_logs=True)
    assert r.output == "0\n", r.output


def test_the_agent_has_no_pid_for_a_verifier_process(sb):
    verifier_process(sb)
    pid = sb.run_fresh("pgrep -f ^echo-verifier-secret", 30, private_logs=True).output.split()[0]
    r = sb.run(f"kill -9 {pid}; kill -9 -1; sleep 0.2")
    assert "No such process" in r.output or int(pid) == 1, r.output
    assert SECRET in sb.run_fresh("pgrep -af echo-verifier", 30, private_logs=True).output
    sb.run_fresh("pkill -f ^echo-verifier", 30, private_logs=True)


def test_the_verifier_sees_and_kills_the_agents_service(sb):
    sb.run("(exec -a echo-agent-service sleep 60) >/dev/null 2>&1 &")
    r = sb.run_fresh("pgrep -f ^echo-agent-service && pkill -9 -f ^echo-agent-service && sleep 0.2 && "
                     "! pgrep -f ^echo-agent-service && echo killed", 30, private_logs=True)
    assert r.output.endswith("killed\n"), r.output
    assert sb.run("pgrep -f ^echo-agent-service || echo gone").output.endswith("gone\n")


def test_orphans_of_the_agent_are_reaped(sb):
    sb.run("for i in 1 2 3; do (sleep 0.1 &) ; done; sleep 0.5")
    r = sb.run("ps -e -o stat= | grep -c '^Z' || true")
    assert r.output == "0\n", r.output
