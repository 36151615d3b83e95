"""A task whose workdir is / (Docker's default where a Dockerfile has none) verifies in every lifecycle.

Found by the regression pass on TermiGen's laravel_eloquent_mass_assignment_medium: in the default lifecycle
(the agent's processes kept) every verify failed with `test.sh exit 127: sandbox: cannot start the shell:
mount overlay on /tmp: Invalid argument` (dmesg: overlayfs' maximum fs stacking depth exceeded). With the
workdir at /, no scratch directory is a mount of its own, so /tmp stayed on the sealed root, and the
verifier put an overlay of its own on it over its own root, itself an overlay over the episode's: a third
filesystem stacked, one past the kernel's limit. The same held for a workdir that is /tmp, or /var (which
holds /var/tmp). The verifier's root of its own already keeps /tmp's writes private: no overlay is stacked
there now. Each case below failed in the default lifecycle before (the verifier's error, not 1)."""
import pytest

from test_agent_processes import KEEP, KILL, SOCK_SERVER, SOCK_TEST, WAIT, make_task, score, survivor
from test_agent_processes import tiny  # noqa: F401 - a fixture

# what the agent leaves in /tmp is what test.sh reads; test.sh writes /tmp and /var/tmp and reads it back
TEST_SH = ('echo v > /tmp/v && echo w > /var/tmp/w && [ "$(cat /tmp/v /var/tmp/w)" = "$(printf "v\\nw")" ] '
           '&& [ "$(cat /tmp/answer 2>/dev/null)" = 42 ] && echo 1 > /logs/verifier/reward.txt '
           '|| echo 0 > /logs/verifier/reward.txt\n')
SOLVE = "echo 42 > /tmp/answer\n"


@pytest.mark.parametrize("limits", [KEEP, KILL], ids=["default", "kill"])
@pytest.mark.parametrize("workdir", ["/", "/tmp", "/var"])
def test_a_task_whose_workdir_holds_tmp_verifies_oracle_1_null_0(tiny, tmp_path, limits, workdir):
    # /tmp and /var/tmp each a mount of their own from the start (kept), or on the root: "/" holds both, /tmp
    # and /var one each (the tiny base has no /var/tmp: a RUN makes it)
    task = make_task(tmp_path, TEST_SH, dockerfile=f"FROM tiny\nRUN mkdir -p /var/tmp\nWORKDIR {workdir}\n",
                     files={"solution/solve.sh": SOLVE})
    assert task.workdir == workdir
    assert score(task, oracle=True, store=tiny, limits=limits) == 1.0
    assert score(task, store=tiny, limits=limits) == 0.0


def test_with_the_workdir_at_root_a_survivor_cannot_change_tmp_under_the_verifier(tiny, tmp_path):
    # /tmp is on the sealed root there: read-only to the agent's processes from the seal, so test.sh reads
    # what the agent left, never what a survivor writes once it runs
    task = make_task(tmp_path, "sleep 1\n" + TEST_SH,
                     dockerfile="FROM tiny\nRUN mkdir -p /var/tmp\nWORKDIR /\n")
    assert score(task, survivor(WAIT + "echo 42 > /tmp/answer"), store=tiny) == 0.0


def test_with_the_workdir_at_root_a_service_socket_in_tmp_answers_the_verifier(tmp_path):
    # FROM host (no third overlay there: it verified before) /tmp's socket is on the sealed root and bound
    # back over the verifier's own root, as the workdir's are; the overlay stacked on /tmp hid it (0.0)
    task = make_task(tmp_path, SOCK_TEST, dockerfile="FROM host\nWORKDIR /\n")
    agent = (f"cat > /tmp/srv.py <<'EOF'\n{SOCK_SERVER}EOF\nnohup python3 /tmp/srv.py >/dev/null 2>&1 &\n"
             "echo note > /tmp/app-note; ln -s /tmp/app-note /tmp/inside; "
             "until [ -S /tmp/svc.sock ]; do sleep 0.05; done")
    assert score(task, agent) == 1.0
    assert score(task, agent.replace("echo note", "echo other")) == 0.0
