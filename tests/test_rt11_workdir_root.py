"""A task whose workdir is / (Docker's default where a Dockerfile has none) verifies in every lifecycle.

Found by the regression pass on TermiGen's laravel_eloquent_mass_assignment_medium: in the default lifecycle
(the agent's processes kept) every verify failed with `test.sh exit 127: sandbox: cannot start the shell:
mount overlay on /tmp: Invalid argument` (dmesg: overlayfs' maximum fs stacking depth exceeded). With the
workdir at /, no scratch directory was a mount of its own, so /tmp stayed on the sealed root, and the
verifier put an overlay of its own on it over its own root, itself an overlay over the episode's: a third
filesystem stacked, one past the kernel's limit. The same holds for a workdir that is /tmp, or /var (which
holds /var/tmp), whose scratch stays on the sealed root. The verifier's root of its own already keeps the
writes there private: no overlay is stacked there now. And a workdir of / no longer keeps every scratch
directory on the root (a service's open log there refused the seal: the service was killed)."""
import pytest

from test_agent_processes import (FETCH, KEEP, KILL, SERVE, SOCK_SERVER, SOCK_TEST, WAIT, make_task, score,
                                  survivor)
from test_agent_processes import tiny  # noqa: F401 - a fixture

# what the agent leaves in /tmp is what test.sh reads; test.sh writes /tmp and /var/tmp and reads it back
TEST_SH = ('echo v > /tmp/v && echo w > /var/tmp/w && [ "$(cat /tmp/v /var/tmp/w)" = "$(printf "v\\nw")" ] '
           '&& [ "$(cat /tmp/answer 2>/dev/null)" = 42 ] && echo 1 > /logs/verifier/reward.txt '
           '|| echo 0 > /logs/verifier/reward.txt\n')
SOLVE = "echo 42 > /tmp/answer\n"


def tiny_task(tmp_path, test_sh: str, workdir: str, **files):
    # the tiny base has no /var/tmp: a RUN makes it, so that it is there when the episode starts
    return make_task(tmp_path, test_sh, dockerfile=f"FROM tiny\nRUN mkdir -p /var/tmp\nWORKDIR {workdir}\n",
                     files=files)


@pytest.mark.parametrize("limits", [KEEP, KILL], ids=["default", "kill"])
@pytest.mark.parametrize("workdir", ["/", "/tmp", "/var"])
def test_a_task_whose_workdir_holds_tmp_verifies_oracle_1_null_0(tiny, tmp_path, limits, workdir):
    # kept: /tmp and /var/tmp are mounts of their own, copied at the seal ("/"), or one of them is on the
    # sealed root (/tmp holds the workdir /tmp, /var/tmp lies in /var); failed before with the verifier's
    # error wherever one was on the root (all three, default lifecycle)
    task = tiny_task(tmp_path, TEST_SH, workdir, **{"solution/solve.sh": SOLVE})
    assert task.workdir == workdir
    assert score(task, oracle=True, store=tiny, limits=limits) == 1.0
    assert score(task, store=tiny, limits=limits) == 0.0


@pytest.mark.parametrize("workdir", ["/", "/tmp"])
def test_a_survivor_cannot_change_tmp_under_the_verifier(tiny, tmp_path, workdir):
    # /tmp read-only to the agent's processes from the seal (workdir /tmp), or live to them and seen by the
    # verifier as its copy made at the seal (/): test.sh reads what the agent left, not what a survivor
    # writes once it runs
    task = tiny_task(tmp_path, "sleep 1\n" + TEST_SH, workdir)
    assert score(task, survivor(WAIT + "echo 42 > /tmp/answer"), store=tiny) == 0.0


@pytest.mark.parametrize("workdir", ["/", "/tmp"])
def test_a_service_socket_in_tmp_answers_the_verifier(tmp_path, workdir):
    # FROM host (two filesystems only: it verified before) /tmp's socket is bound back over the verifier's
    # own root as the workdir's are (/tmp), or onto its file in the copy (/); the overlay stacked on /tmp
    # hid it (0.0 for both before)
    task = make_task(tmp_path, SOCK_TEST, dockerfile=f"FROM host\nWORKDIR {workdir}\n")
    agent = (f"cat > /tmp/srv.py <<'EOF'\n{SOCK_SERVER}EOF\nnohup python3 /tmp/srv.py >/dev/null 2>&1 &\n"
             "echo note > /tmp/app-note; ln -s /tmp/app-note /tmp/inside; "
             "until [ -S /tmp/svc.sock ]; do sleep 0.05; done")
    assert score(task, agent) == 1.0
    assert score(task, agent.replace("echo note", "echo other")) == 0.0


def test_with_the_workdir_at_root_a_service_logging_to_tmp_answers_the_tests(tmp_path):
    # a service that keeps its log open in /tmp, the usual shape (`nohup server > /tmp/server.log &`): with
    # /tmp on the root, its open file made the seal impossible (EBUSY), so it was killed before the tests
    # (0.0 before); a workdir of / binds scratch as /app does
    task = make_task(tmp_path, FETCH, dockerfile="FROM host\nWORKDIR /\n",
                     files={"solution/solve.sh": SERVE.replace(">/dev/null", ">/tmp/server.log")})
    assert score(task, oracle=True) == 1.0
