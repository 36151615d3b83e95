"""A deliverable the agent left undone is the agent's 0, never the task's verifier error (rt17a p01-p03,
p25): a shell line saying a path under the workdir, or one the instruction names, is missing or not
executable is no missing runner (harbor.names_deliverable), in the agent's run and the control's alike."""
import pytest

import harbor
from harbor import load_task, start_task
from test_harbor_episodes import make_task

TEST_SH = """/app/count.sh > /tmp/out
if [ "$(cat /tmp/out)" = 42 ]; then echo 1 > /logs/verifier/reward.txt; else echo 0 > /logs/verifier/reward.txt; fi
"""
LAST = "echo 0 > /logs/verifier/reward.txt\n/app/count.sh\n"      # test.sh's status: the deliverable's 127/126


@pytest.mark.parametrize("agent", [
    "true",                                                        # nothing written
    "mkdir -p /app; printf 'echo 42\\n' > /app/count.sh",          # written, x bit never set
    "mkdir -p /app; printf '#!/bin/sh\\necho \"/tests/test.sh: line 1: /app/count.sh: No such file or "
    "directory\"\\n' > /app/count.sh; chmod +x /app/count.sh",     # printing the shell's words itself
], ids=["undone", "not-executable", "printed"])
@pytest.mark.parametrize("test_sh", [TEST_SH, LAST], ids=["checked", "last-command"])
def test_an_undone_deliverable_is_the_agents_0(tmp_path, agent, test_sh):
    harbor.forget_builds()
    task = load_task(make_task(tmp_path, files={"tests/test.sh": test_sh}))
    with start_task(task) as env:
        env.run(agent)
        reward, reason = env.verify()
    assert reward == 0.0 and "verifier" not in reason, reason


def test_a_runner_outside_the_deliverables_is_still_missing():
    assert harbor.runner_missing("/tests/test.sh: line 3: /usr/bin/python9: No such file or directory",
                                 workdir="/app")
    assert harbor.runner_missing("/tests/test.sh: line 2: pytest: command not found", workdir="/app")
    assert not harbor.runner_missing("/tests/test.sh: line 3: /opt/tool/run.sh: Permission denied",
                                     workdir="/app", asked=frozenset({"/opt/tool/run.sh"}))
    # the workdir "/" makes no path a deliverable by place
    assert harbor.runner_missing("/tests/test.sh: line 3: /usr/bin/python9: No such file or directory",
                                 workdir="/")


@pytest.mark.parametrize("json_reward,txt", [('{"reward": 1}', "0"), ('{"reward": 1.0}', "0.5")])
def test_a_reward_json_that_contradicts_test_shs_reward_txt_is_the_agents_0(tmp_path, json_reward, txt):
    # rt17a p07: the deliverable test.sh runs writes reward.json, which is read first; test.sh writes
    # reward.txt alone, so two verdicts are a verifier error the control run books as the agent's
    test_sh = f"bash /app/run.sh || true\necho {txt} > /logs/verifier/reward.txt\n"
    harbor.forget_builds()
    task = load_task(make_task(tmp_path, files={"tests/test.sh": test_sh}))
    with start_task(task) as env:
        env.run(f"mkdir -p /app; cat > /app/run.sh <<'X'\necho '{json_reward}' > /logs/verifier/reward.json\nX")
        reward, reason = env.verify()
    assert reward == 0.0 and "two verdicts" in reason, reason


def test_agreeing_reward_files_score(tmp_path):
    test_sh = "echo 1 > /logs/verifier/reward.txt\necho '{\"reward\": 1.0, \"tests\": 3}' > /logs/verifier/reward.json\n"
    task = load_task(make_task(tmp_path, files={"tests/test.sh": test_sh}))
    with start_task(task) as env:
        assert env.verify() == (1.0, "")
