"""One verify has one clock (rt16b p10): test.sh ran once for the agent and once more in the control run
without the agent (harbor._blame), each with the task's whole verifier timeout, so one verify held the
caller for twice it (at the maxima, 4 h of every step that sampled the task). The control's start and tests
now come out of what the agent's run left; past the deadline the verify is the verifier's timeout, reward 0,
as a test.sh that runs out of time is."""
import time

import harbor
from harbor import load_task, start_task
from test_harbor_episodes import make_task

TIMEOUT = 6                                    # [verifier].timeout_sec of every task here


def task_with(tmp_path, test_sh):
    toml = f"[agent]\ntimeout_sec = 60\n[verifier]\ntimeout_sec = {TIMEOUT}\n"
    return load_task(make_task(tmp_path, files={"tests/test.sh": test_sh}, toml=toml))


def timed_verify(env):
    harbor.check_ground(env, env.task)         # the image read once per process, not the verify's clock
    t0 = time.monotonic()
    out = env.verify()
    return out, time.monotonic() - t0


def test_a_garbled_reward_whose_control_would_outlast_the_clock_is_the_verifier_s_timeout(tmp_path):
    # 3.5 s for the agent's run, 3.5 s more for the control's: over the 6 s one verify has
    task = task_with(tmp_path, "sleep 3.5\necho nan > /logs/verifier/reward.txt\n")
    with start_task(task) as env:
        (reward, reason), took = timed_verify(env)
    assert (reward, reason) == (0.0, f"verifier timed out after {TIMEOUT} s (with the control run without "
                                     "the agent)")
    assert took < TIMEOUT + 2


def test_a_missing_runner_whose_control_would_outlast_the_clock_is_the_verifier_s_timeout(tmp_path):
    # the runner-missing path: a runner's words, which only a control run of test.sh can judge
    task = task_with(tmp_path, "sleep 3.5\necho 'Ran 0 tests in 0.000s'\necho 0 > /logs/verifier/reward.txt\n")
    with start_task(task) as env:
        (reward, reason), took = timed_verify(env)
    assert reward == 0.0 and reason.startswith(f"verifier timed out after {TIMEOUT} s")
    assert took < TIMEOUT + 2


def test_a_control_whose_start_spends_the_clock_runs_no_tests_and_keeps_no_verdict(tmp_path):
    task = task_with(tmp_path, "echo nan > /logs/verifier/reward.txt\n")
    harbor.forget_builds()                     # no verdict of another test's control for this task
    with start_task(task) as env:
        start, ran = env.fresh_start, []

        def slow_start():
            time.sleep(TIMEOUT + 0.5)          # a loaded machine's start: the verify's clock, all of it
            ran.append(1)
            return start()
        env.fresh_start = slow_start
        reward, reason = env.verify()
    assert ran == [1] and reward == 0.0 and reason.startswith(f"verifier timed out after {TIMEOUT} s")
    assert not harbor._controls                # the next verify of the task and seed runs a control again


def test_a_verify_within_its_clock_scores_as_before(tmp_path):
    task = task_with(tmp_path, "sleep 1\necho 1 > /logs/verifier/reward.txt\n")
    with start_task(task) as env:
        assert env.verify() == (1.0, "")
