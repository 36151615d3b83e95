"""A log a survivor writes under /var/log while the tests run (mq-auto-restart's shape) is read as it was
at the seal, and no live view of it is given (README "Real Harbor tasks": why no rule shares it). The
second test guards that decision: a live, read-only view of the files a survivor holds open there would
make test.sh's own write to such a path fail (EROFS) and its read-back judge the survivor's text. Both hold
today; they pin the decision against a later "fix". Episodes on test_agent_processes's tiny image."""
from test_agent_processes import WAIT, make_task, score, survivor, tiny  # noqa: F401 (a fixture)

DOCKERFILE = "FROM tiny\nCOPY d /var/log/svc\nWORKDIR /app\n"
REWARD = "&& echo 1 > /logs/verifier/reward.txt || echo 0 > /logs/verifier/reward.txt\n"


def test_what_a_survivor_logs_during_the_tests_is_not_seen(tiny, tmp_path):  # noqa: F811
    # the service holds its log open and writes `late` once the verifier has started
    task = make_task(tmp_path, "sleep 1; grep -q late /var/log/svc/out.log " + REWARD,
                     dockerfile=DOCKERFILE, files={"environment/d/keep": "\n"})
    writer = survivor("exec 3>>/var/log/svc/out.log; echo early >&3; " + WAIT +
                      "while :; do echo late >&3; sleep 0.05; done")
    writer += "\nuntil grep -qs early /var/log/svc/out.log; do sleep 0.05; done"     # before the seal
    assert score(task, writer, store=tiny) == 0.0
    seen = make_task(tmp_path / "seen", "sleep 1; grep -q early /var/log/svc/out.log " + REWARD,
                     dockerfile=DOCKERFILE, files={"environment/d/keep": "\n"})
    assert score(seen, writer, store=tiny) == 1.0            # what it wrote before the seal is there


def test_a_survivor_holding_a_log_cannot_stand_in_for_what_test_sh_writes_there(tiny, tmp_path):  # noqa
    # test.sh writes its verdict where a survivor holds a file open for writing, then reads it back: it
    # reads its own write (its copy), never the survivor's `ok` (a read-only live view: EROFS, then `ok`)
    test_sh = ("echo failed > /var/log/svc/t.log; sleep 0.5; ! grep -q failed /var/log/svc/t.log " + REWARD)
    task = make_task(tmp_path, test_sh, dockerfile=DOCKERFILE, files={"environment/d/keep": "\n"})
    holder = survivor("exec 3>>/var/log/svc/t.log; echo ok >&3; while :; do sleep 1; done")
    holder += "\nuntil grep -qs ok /var/log/svc/t.log; do sleep 0.05; done"
    assert score(task, holder, store=tiny) == 0.0
