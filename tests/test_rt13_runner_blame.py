"""Whose fault a runner missing is (rt13b p16): test.sh echoes what the agent's program printed, so an agent
whose answer is wrong could print a runner's failure words and trade its 0 for a verifier error, which
training does not learn from. harbor.verify runs the same test.sh on a fresh episode of the same task and seed
without the agent (a control run): a verifier error only if the runner is missing there too. Each of the
agent's shapes below was a verifier error before."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import harbor  # noqa: E402
import sandbox  # noqa: E402
from harbor import Outcome, SetupError, VerifierError, load_task, outcome_of, start_task  # noqa: E402
from test_harbor_episodes import make_task  # noqa: E402
import test_harbor_verifier  # noqa: E402

# the probe's test.sh: it prints what the agent's program printed, then checks it
ECHOES = """out=$(bash /app/run.sh 2>&1)
echo "program printed: "
echo "$out"
if [ "$out" = "42" ]; then echo 1 > /logs/verifier/reward.txt; else echo 0 > /logs/verifier/reward.txt; fi
"""
WORDS = ["Ran 0 tests in 0.000s", "INTERNALERROR> boom", "/usr/bin/python3: No module named pytest"]


def wrong_answer(line: str) -> str:
    return f"mkdir -p /app; printf '%s\\n' '{line}' > /tmp/x; echo 'cat /tmp/x' > /app/run.sh"


@pytest.mark.parametrize("line", WORDS)
def test_an_agent_printing_a_runner_s_words_gets_its_ordinary_0(tmp_path, line):
    task = load_task(make_task(tmp_path, files={"tests/test.sh": ECHOES}))
    with start_task(task) as env:
        env.run(wrong_answer(line))
        reward, reason = env.verify()
    assert reward == 0.0 and "in the agent's run only" in reason and line in reason


def test_an_agent_whose_program_exits_127_gets_its_ordinary_0(tmp_path):
    # test.sh ends with the agent's program: its status is test.sh's, read as "command not found" before
    test_sh = "echo 0 > /logs/verifier/reward.txt\n[ -e /app/run.sh ] && bash /app/run.sh\n"
    task = load_task(make_task(tmp_path, files={"tests/test.sh": test_sh}))
    with start_task(task) as env:
        env.run("mkdir -p /app; echo 'exit 127' > /app/run.sh")
        assert env.verify()[0] == 0.0


def test_a_separate_verifier_echoing_the_agent_s_artifact_gives_an_ordinary_0(tmp_path):
    test_sh = "cat /logs/artifacts/answer.txt; echo 0 > /logs/verifier/reward.txt\n"
    task = load_task(test_harbor_verifier.make_task(tmp_path, test_sh=test_sh))
    with start_task(task) as env:
        env.run("mkdir -p /logs/artifacts && echo 'INTERNALERROR> x' > /logs/artifacts/answer.txt")
        assert env.verify()[0] == 0.0


def test_a_task_whose_runner_is_really_missing_is_still_a_verifier_error(tmp_path, monkeypatch):
    blamed = []
    blame = harbor._blame
    monkeypatch.setattr(harbor, "_blame", lambda *a: blamed.append(1) or blame(*a))
    test_sh = ("pytest /tests/test_outputs.py\n"
               "if [ $? -eq 0 ]; then echo 1; else echo 0; fi > /logs/verifier/reward.txt\n")
    task = load_task(make_task(tmp_path, files={"tests/test.sh": test_sh}))
    with start_task(task) as env:
        env.run("echo hello > /app/out.txt")               # an ordinary agent's work
        with pytest.raises(VerifierError, match="pytest: command not found .so too without the agent") as e:
            env.verify()
    assert outcome_of(e.value) is Outcome.VERIFIER_ERROR
    assert blamed == [1]                                   # the control run ran no control of its own


def test_a_control_run_that_does_not_start_is_the_machine_s_error(tmp_path):
    task = load_task(make_task(tmp_path, files={"tests/test.sh": ECHOES}))
    with start_task(task) as env:
        env.run(wrong_answer(WORDS[0]))

        def fails(**_):
            raise SetupError("task 't': the sandbox did not start", infrastructure=True)
        env.fresh_start = fails
        with pytest.raises(sandbox.SandboxError, match="without the agent did not start or failed") as e:
            env.verify()
    assert outcome_of(e.value) is Outcome.MACHINE          # "sandbox failed": infra, masked in training


def test_episodes_of_one_task_and_seed_share_one_control_run(tmp_path):
    test_sh = "no-such-runner\necho 0 > /logs/verifier/reward.txt\n"
    task, started = load_task(make_task(tmp_path, files={"tests/test.sh": test_sh})), []
    for _ in range(3):                                     # a group of rollouts, all with the runner missing
        with start_task(task) as env:
            start = env.fresh_start
            env.fresh_start = lambda **kw: started.append(1) or start(**kw)
            with pytest.raises(VerifierError, match="so too without the agent"):
                env.verify()
    assert started == [1]


def test_an_agent_that_removes_the_image_s_runner_gets_its_ordinary_0(tmp_path):
    # the runner is the image's; without the agent it runs: its absence is the agent's doing
    dockerfile = "FROM host\nRUN mkdir -p /opt/r && printf '#!/bin/sh\\nexit 1\\n' > /opt/r/runner && " \
                 "chmod +x /opt/r/runner\n"
    test_sh = "/opt/r/runner\necho 0 > /logs/verifier/reward.txt\n"
    files = {"tests/test.sh": test_sh, "environment/Dockerfile": dockerfile}
    task = load_task(make_task(tmp_path, files=files))
    with start_task(task) as env:
        assert env.run("rm /opt/r/runner").exit_code == 0
        reward, reason = env.verify()
    assert reward == 0.0 and "runner: No such file or directory" in reason


def test_a_control_run_over_its_memory_is_the_machine_s_not_the_agent_s(tmp_path):
    task = load_task(make_task(tmp_path, files={"tests/test.sh": ECHOES}))
    with start_task(task) as env:
        env.run(wrong_answer(WORDS[1]))

        def dies(**_):
            raise sandbox.OutOfMemory("the sandbox's cgroup went over its memory limit")
        env.fresh_start = dies
        with pytest.raises(sandbox.SandboxError) as e:
            env.verify()
    assert outcome_of(e.value) is Outcome.MACHINE          # not OUT_OF_MEMORY: the agent ran nothing there


# The control's test.sh may stop before the runner without the agent's deliverable (a real task: its check
# of /solution/x.py fails first, its `python3` on line 41 is missing from the image): the control then looks
# for what the agent's run said is missing, a program or a path the tests use, in the image itself.
STOPS_EARLY = """[ -e /app/done ] || { echo 0 > /logs/verifier/reward.txt; exit 1; }
nosuchrunner-rt13 /tests/x
echo 1 > /logs/verifier/reward.txt
"""


def test_a_runner_the_tests_use_missing_from_the_image_is_the_verifier_s_though_the_control_stops_early(
        tmp_path):
    task = load_task(make_task(tmp_path, files={"tests/test.sh": STOPS_EARLY}))
    with start_task(task) as env:
        env.run("mkdir -p /app && touch /app/done")
        with pytest.raises(VerifierError, match="nosuchrunner-rt13: not in the image"):
            env.verify()


def test_a_missing_program_the_tests_never_name_is_the_agent_s_0(tmp_path):
    task = load_task(make_task(tmp_path, files={"tests/test.sh": ECHOES}))
    with start_task(task) as env:
        env.run(wrong_answer("bash: line 1: madeupprog-rt13: command not found"))
        reward, reason = env.verify()
    assert reward == 0.0 and "in the agent's run only" in reason


def test_a_tests_path_the_tests_never_name_is_the_agent_s_0(tmp_path):
    # rt15a p17: the agent's program prints a missing /tests path that nothing of the task's names
    line = "bash: /tests/zzz_helper.sh: No such file or directory"
    task = load_task(make_task(tmp_path, files={"tests/test.sh": ECHOES}))
    with start_task(task) as env:
        env.run(wrong_answer(line))
        reward, why = env.verify()
    assert reward == 0.0 and "in the agent's run only" in why


def test_an_agent_program_that_kills_test_sh_gets_its_ordinary_0(tmp_path):
    # rt15a p25: test.sh runs the agent's program, which SIGKILLs its ancestors up to test.sh: a verifier
    # error (masked in training) in the agent's run only; the control run without the agent is clean
    test_sh = ('out=$(bash /app/run.sh 2>&1); [ "$out" = 42 ] && echo 1 > /logs/verifier/reward.txt '
               '|| echo 0 > /logs/verifier/reward.txt\n')
    kill = ("mkdir -p /app; cat > /app/run.sh <<'EOF'\np=$PPID\nwhile [ \"$p\" -gt 1 ]; do "
            "n=$(awk '{print $4}' /proc/$p/stat); kill -9 $p; p=$n; done\nEOF")
    task = load_task(make_task(tmp_path, files={"tests/test.sh": test_sh}))
    with start_task(task) as env:
        env.run(kill)
        reward, reason = env.verify()
    assert reward == 0.0 and "a verifier error in the agent's run only" in reason and "signal" in reason


def test_a_test_sh_killed_without_any_agent_is_still_a_verifier_error(tmp_path):
    task = load_task(make_task(tmp_path, files={"tests/test.sh": "kill -9 $$\n"}))
    with start_task(task) as env:
        with pytest.raises(VerifierError, match="killed by signal 9"):
            env.verify()


@pytest.mark.parametrize("install", ["apt-get install -y -qq madeupprog-rt13", "pip install madeupprog-rt13",
                                     "npm install -g madeupprog-rt13"])
def test_a_program_the_tests_install_themselves_printed_missing_is_the_agent_s_0(tmp_path, install):
    # rt16a p04: the agent's script calls a tool test.sh installs at verify time (`bc`), before or without
    # the install working, and prints it missing; that the image lacks it says nothing of the task
    test_sh = f"{install} >/dev/null 2>&1 || true\n{ECHOES}"
    task = load_task(make_task(tmp_path, files={"tests/test.sh": test_sh}))
    with start_task(task) as env:
        env.run(wrong_answer("/app/solve.sh: line 2: madeupprog-rt13: command not found"))
        reward, reason = env.verify()
    assert reward == 0.0 and "in the agent's run only" in reason
