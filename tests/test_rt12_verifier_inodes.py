"""The verifier never writes an inode the agent can name, in every lifecycle (CONTAINMENT.md).

The agent pre-makes the file test.sh will write its expected answer to as a HARD link of its own
deliverable; test.sh's `> /srv/expected.txt` truncates and writes the agent's inode, and `cmp` compares the
expected answer with itself (rt12a p09, p15). The sealed default lifecycle gave test.sh a root of its own
(sandbox_init._own_root); with --kill-agent-processes, or where the seal was refused and the survivors were
killed, test.sh wrote the episode's layer itself (sandbox_init._killed_root now). Each attack scored 1.0 on
the code before."""
import pytest

import harbor
from test_agent_processes import make_task, score

KILL = harbor.Limits(keep_agent_processes=False)
KEEP = harbor.Limits(keep_agent_processes=True)
CHECK = ("mkdir -p \"$(dirname {where})\"; echo 7919 > {where}\n"
         "cmp -s {where} /app/answer.txt && echo 1 > /logs/verifier/reward.txt "
         "|| echo 0 > /logs/verifier/reward.txt\n")
LINK = "mkdir -p /app $(dirname {where}) && echo 1 > /app/answer.txt && ln /app/answer.txt {where}"


@pytest.mark.parametrize("where", ["/srv/expected.txt", "/tmp/expected.txt", "/var/tmp/expected.txt"])
def test_a_hard_link_to_the_answer_is_not_written_through_in_the_kill_lifecycle(tmp_path, where):
    t = make_task(tmp_path, CHECK.format(where=where))
    assert score(t, LINK.format(where=where), limits=KILL) == 0.0


def test_nor_where_the_seal_is_refused_and_the_survivors_are_killed(tmp_path):
    # a survivor holding a file on the root open for writing refuses the seal (EBUSY): killed, verified
    where = "/srv/expected.txt"
    hold = ("nohup python3 -c 'import time; f = open(\"/app/held.log\", \"w\"); time.sleep(600)' "
            ">/dev/null 2>&1 &")
    t = make_task(tmp_path, CHECK.format(where=where))
    assert score(t, LINK.format(where=where) + "; " + hold + " sleep 0.5", limits=KEEP) == 0.0


def test_the_right_answer_still_scores_in_the_kill_lifecycle(tmp_path):
    # the ordinary shape: test.sh writes its expected file and compares the agent's own answer with it
    t = make_task(tmp_path, CHECK.format(where="/srv/expected.txt"))
    assert score(t, "mkdir -p /app && echo 7919 > /app/answer.txt", limits=KILL) == 1.0


def test_tmp_is_a_mount_of_its_own_in_the_kill_lifecycle_as_in_the_default(tmp_path):
    # rt12a p25: a local `git clone /app/repo /tmp/x` hard-links objects when /app and /tmp are one file
    # system; the two lifecycles give test.sh the same shape
    t = make_task(tmp_path, "[ \"$(stat -c %d /tmp)\" != \"$(stat -c %d /app)\" ] "
                  "&& echo 1 > /logs/verifier/reward.txt || echo 0 > /logs/verifier/reward.txt\n")
    assert score(t, "mkdir -p /app", limits=KILL) == 1.0
    assert score(t, "mkdir -p /app", limits=KEEP) == 1.0


def test_what_test_sh_writes_in_the_kill_lifecycle_is_judged_after_it(tmp_path):
    # a symlink of the agent's to a file test.sh then writes on its root is seen in the verifier's own upper
    t = make_task(tmp_path, CHECK.format(where="/srv/expected.txt"))
    attack = "mkdir -p /app /srv && ln -s /srv/expected.txt /app/answer.txt"
    assert score(t, attack, limits=KILL) == harbor.Outcome.TAMPERED.value


# A compose volume is shared live with the sidecars, and so with the verifier, by design: no upper of its own
# there. A file of the agent's with another name in it is refused before the tests (rt12a p17).
def volume_task(tmp_path, test_sh: str) -> harbor.Task:
    from test_compose import make_task as compose_task
    files = {"environment/docker-compose.yaml": "services:\n  main:\n    volumes: [\"data:/data\"]\n"
                                                "volumes:\n  data:\n",
             "task.toml": "[agent]\ntimeout_sec = 60\n[verifier]\ntimeout_sec = 30\n",
             "tests/test.sh": test_sh, "solution/solve.sh": None}
    return harbor.load_task(compose_task(tmp_path, files))


VOLUME_CHECK = ("echo 7919 > /data/expected.txt; cmp -s /data/expected.txt /data/answer.txt "
                "&& echo 1 > /logs/verifier/reward.txt || echo 0 > /logs/verifier/reward.txt\n")


@pytest.mark.parametrize("limits", [KEEP, KILL], ids=["default", "kill"])
def test_a_hard_link_in_a_volume_is_refused_before_the_tests(tmp_path, limits):
    t = volume_task(tmp_path, VOLUME_CHECK)
    attack = "echo 1 > /data/answer.txt && ln /data/answer.txt /data/expected.txt"
    assert score(t, attack, limits=limits) == harbor.Outcome.TAMPERED.value


def test_files_in_a_volume_with_one_name_each_are_not_judged(tmp_path):
    # the ordinary shape: the agent's answer in the volume, a copy of it beside (cp, not ln)
    t = volume_task(tmp_path, VOLUME_CHECK)
    assert score(t, "echo 7919 > /data/answer.txt && cp /data/answer.txt /data/copy.txt") == 1.0


# The check after the tests reads every place test.sh may write: the homes' and caches' views and /dev/shm
# too (rt12a p05: a link of the agent's to the expected file test.sh wrote in $HOME was not seen there).
@pytest.mark.parametrize("where", ["/root/expected.txt", "/root/.cache/grader/expected.txt",
                                   "/dev/shm/expected.txt"])
@pytest.mark.parametrize("limits", [KEEP, KILL], ids=["default", "kill"])
def test_a_link_to_what_test_sh_wrote_in_a_view_of_its_own_is_seen(tmp_path, where, limits):
    t = make_task(tmp_path, CHECK.format(where=where))
    attack = f"mkdir -p /app && ln -s {where} /app/answer.txt"
    assert score(t, attack, limits=limits) == harbor.Outcome.TAMPERED.value


def test_a_link_to_dev_null_is_no_link_to_what_test_sh_wrote(tmp_path):
    # /dev/null is pid 1's in the verifier's fresh /dev, not test.sh's write: an agent's log silenced so
    t = make_task(tmp_path, CHECK.format(where="/srv/expected.txt"))
    assert score(t, "mkdir -p /app && echo 7919 > /app/answer.txt && ln -s /dev/null /app/debug.log",
                 limits=KILL) == 1.0


def test_the_check_after_the_tests_fails_closed_where_it_cannot_read_them_whole(tmp_path, monkeypatch):
    # rt12a p14: past MAX_ENTRIES (test.sh's big install) the listing of its writes was cut and judged as if
    # whole; a link to a file it wrote before the cut went unseen. Now the reward is discarded, said
    import tamper
    monkeypatch.setattr(tamper, "MAX_ENTRIES", 300)
    t = make_task(tmp_path, "mkdir -p /opt/big && cd /opt/big && seq -f f%g 400 | xargs touch\n"
                  + CHECK.format(where="/srv/expected.txt"))
    assert score(t, "mkdir -p /app && echo 7919 > /app/answer.txt", limits=KILL) == \
        harbor.Outcome.VERIFIER_ERROR.value


@pytest.mark.parametrize("limits", [KEEP, KILL], ids=["default", "kill"])
def test_ordinary_work_stays_clean(tmp_path, limits):
    # the agent's venv and hard links in its own workdir (a local git clone makes them), python run there;
    # test.sh writes its scratch in /tmp, $HOME, ~/.cache and /dev/shm, then compares the agent's answer
    work = ("mkdir -p /app && cd /app && python3 -m venv --without-pip venv && echo 7919 > answer.txt && "
            "ln answer.txt answer.bak && venv/bin/python -c 'print(1)' && ln -s /dev/null debug.log")
    t = make_task(tmp_path, "echo x > /tmp/t; echo x > ~/t; mkdir -p ~/.cache/g && echo x > ~/.cache/g/t; "
                  "echo x > /dev/shm/t\n" + CHECK.format(where="/srv/expected.txt"))
    assert score(t, work, limits=limits) == 1.0
