"""--live-verifier (Limits.live_verifier, opt-in): with the agent's processes kept, the tests run on the live
container beside them, as Harbor's do. mq-auto-restart's shape: test.sh empties a service's log and waits
for the service (a survivor) to make it again; by default the tests see the container as it was at the seal,
so the log stays empty; live, it fills again. What stays: the reward is the verifier's own."""
import harbor
from test_agent_processes import make_task, score, survivor, tiny  # noqa: F401 (a fixture)

DOCKERFILE = "FROM tiny\nCOPY d /var/log/svc\nWORKDIR /app\n"
LOG = "/var/log/svc/out.log"
REWARD = "&& echo 1 > /logs/verifier/reward.txt || echo 0 > /logs/verifier/reward.txt\n"
# the service opens its log once per line, as mq-auto-restart's consumer does
SERVICE = survivor(f"while :; do echo line >> {LOG}; sleep 0.05; done") + \
    f"\nuntil grep -qs line {LOG}; do sleep 0.05; done"
# test.sh waits up to 2 s for the log to come back: the service writes every 0.05 s, and where it cannot
# reach the tests' view the whole wait is the test's (5 s a case when it waited 100 tries)
COMES_BACK = f": > {LOG}; for ((i = 0; i < 40; i++)); do [ -s {LOG} ] && break; sleep 0.05; done; [ -s {LOG} ] "
LIVE = harbor.Limits(keep_agent_processes=True, live_verifier=True)


def task(tmp_path, test_sh: str):
    return make_task(tmp_path, test_sh, dockerfile=DOCKERFILE, files={"environment/d/keep": "\n"})


def test_live_the_tests_see_what_a_service_writes_during_them(tiny, tmp_path):  # noqa: F811
    assert score(task(tmp_path, COMES_BACK + REWARD), SERVICE, limits=LIVE, store=tiny) == 1.0


def test_by_default_they_see_the_container_as_it_was_at_the_seal(tiny, tmp_path):  # noqa: F811
    assert not harbor.Limits().live_verifier
    assert score(task(tmp_path, COMES_BACK + REWARD), SERVICE, store=tiny) == 0.0


def test_live_a_survivor_still_cannot_write_the_reward(tiny, tmp_path):  # noqa: F811
    # the reward file is in test.sh's own /logs/verifier: a survivor writing 1 there from the moment the
    # tests arrive (live, /tests is on the container's root, as in Harbor) is not read
    forger = survivor("until [ -e /tests/test.sh ]; do sleep 0.01; done; "
                      "while :; do echo 1 > /logs/verifier/reward.txt; sleep 0.01; done")
    assert score(task(tmp_path, "sleep 1; false " + REWARD), forger, limits=LIVE, store=tiny) == 0.0


def test_live_with_the_processes_killed_is_the_kill_lifecycle(tiny, tmp_path):  # noqa: F811
    limits = harbor.Limits(keep_agent_processes=False, live_verifier=True)
    assert score(task(tmp_path, COMES_BACK + REWARD), SERVICE, limits=limits, store=tiny) == 0.0
