"""Words the agent's program prints never make its 0 a verifier error unless the control run reproduces the
failure (rt18a p02): a program the tests look for before they run it (`command -v X`, `which X`,
`shutil.which("X")`), missing from the image, is no evidence that the tests failed without it, so the image
check skips it and the control's own run of test.sh decides (it ran clean: the agent's 0)."""
import pytest

import harbor

from harbor import load_task, start_task
from test_harbor_episodes import make_task

LINE = "/tests/test.sh: line 3: nosuchlint-rt18: command not found"
REST = ('out=$(bash /app/run.sh 2>&1)\necho "$out"\n'
        'if [ "$out" = 42 ]; then echo 1 > /logs/verifier/reward.txt; '
        'else echo 0 > /logs/verifier/reward.txt; fi\n')
PROBES = {
    "command -v": "if command -v nosuchlint-rt18 >/dev/null; then nosuchlint-rt18 /app/run.sh; fi\n",
    "which": "which nosuchlint-rt18 >/dev/null 2>&1 && nosuchlint-rt18 /app/run.sh\n",
    "shutil.which": "python3 -c 'import shutil, subprocess; w = shutil.which(\"nosuchlint-rt18\"); "
                    "w and subprocess.run([w])'\n",
}


@pytest.mark.parametrize("probe", PROBES)
def test_a_probed_program_printed_missing_by_the_agent_is_its_0(tmp_path, probe):
    task = load_task(make_task(tmp_path, files={"tests/test.sh": PROBES[probe] + REST}))
    with start_task(task) as env:
        env.run(f"mkdir -p /app; printf '%s\\n' 41 '{LINE}' > /tmp/x; echo 'cat /tmp/x' > /app/run.sh")
        reward, reason = env.verify()
    assert reward == 0.0 and "in the agent's run only" in reason


def test_names_the_tests_never_use_share_one_control_run(tmp_path, monkeypatch):
    # the control's verdict was kept per name the agent printed: a new name each episode cost each verify
    # a control run of its own (rt19a p30); only names the task's tests use can change the control now
    task = load_task(make_task(tmp_path, files={"tests/test.sh": REST}))
    harbor.forget_builds()
    calls, control = [], harbor._control
    monkeypatch.setattr(harbor, "_control", lambda *a, **k: calls.append(a[3]) or control(*a, **k))
    for i in range(3):
        with start_task(task) as env:
            env.run(f"mkdir -p /app; printf '%s\\n' 41 'bash: line 1: zz{i}q: command not found' > /tmp/x; "
                    "echo 'cat /tmp/x' > /app/run.sh")
            reward, reason = env.verify()
        assert reward == 0.0 and "in the agent's run only" in reason
    assert calls == [()]
