"""A log a survivor writes under /var/log while the tests run (mq-auto-restart's shape) is read as it was
at the seal, and no live view of it is given (README "Real Harbor tasks": why no rule shares it). The
second test guards that decision: a live, read-only view of the files a survivor holds open there would
make test.sh's own write to such a path fail (EROFS) and its read-back judge the survivor's text. Both hold
today; they pin the decision against a later "fix". Episodes on test_agent_processes's tiny image."""
import harbor
from test_agent_processes import KEEP, make_task, score, survivor, tiny  # noqa: F401 (a fixture)

DOCKERFILE = "FROM tiny\nCOPY d /var/log/svc\nWORKDIR /app\n"
REWARD = "&& echo 1 > /logs/verifier/reward.txt || echo 0 > /logs/verifier/reward.txt\n"
LOG = "/var/log/svc/out.log"


def test_what_a_survivor_logs_during_the_tests_is_not_seen(tiny, tmp_path):  # noqa: F811
    # the service holds its log open and writes `late` every 50 ms all along; test.sh counts the lines twice,
    # a second apart: the same count, as the file was at the seal. (No moment of the survivor's own marks
    # "the tests have started": pid 1 makes the root read-only and then copies /var/log, and the verifier's
    # processes are not in its PID namespace; CI once wrote a `late` between the two, which is rightly seen.)
    frozen = f'a=$(grep -c late {LOG}); sleep 1; [ "$a" = "$(grep -c late {LOG})" ] '
    task = make_task(tmp_path, frozen + REWARD, dockerfile=DOCKERFILE, files={"environment/d/keep": "\n"})
    writer = survivor(f"exec 3>>{LOG}; echo early >&3; while :; do echo late >&3; sleep 0.05; done")
    writer += f"\nuntil grep -qs late {LOG}; do sleep 0.05; done"
    with harbor.start_task(task, limits=KEEP, store=tiny) as env:
        env.run(writer, timeout=30)
        before = int(env.run(f"grep -c late {LOG}", timeout=10).output)
        assert env.verify()[0] == 1.0
        assert int(env.run(f"grep -c late {LOG}", timeout=10).output) > before + 10   # it wrote all along
    seen = make_task(tmp_path / "seen", f"grep -q early {LOG} " + REWARD,
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
