"""One verify has one clock (rt16b p10): test.sh ran once for the agent and once more in the control run
without the agent (harbor._blame), each with the task's whole verifier timeout, so one verify held the
caller for twice it (at the maxima, 4 h of every step that sampled the task). The control's start and tests
now come out of what the agent's run left; past the deadline the verify is the verifier's timeout, reward 0,
as a test.sh that runs out of time is."""
import time

import pytest

import harbor
from harbor import load_task, start_task
from test_harbor_episodes import make_task

# [verifier].timeout_sec of every task here: 5 s, and 3 s of test.sh, so that the agent's run keeps 2 s for
# the verify's own work on a loaded machine and its control's 3 s more overrun the clock (6 s and 3.5 s were
# ~1 s more of each such test)
TIMEOUT = 5


def task_with(tmp_path, test_sh):
    toml = f"[agent]\ntimeout_sec = 60\n[verifier]\ntimeout_sec = {TIMEOUT}\n"
    return load_task(make_task(tmp_path, files={"tests/test.sh": test_sh}, toml=toml))


def timed_verify(env):
    harbor.check_ground(env, env.task)         # the image read once per process, not the verify's clock
    t0 = time.monotonic()
    out = env.verify()
    return out, time.monotonic() - t0


def test_a_garbled_reward_whose_control_would_outlast_the_clock_is_the_verifier_s_timeout(tmp_path):
    # 3 s for the agent's run, 3 s more for the control's: over the 5 s one verify has
    task = task_with(tmp_path, "sleep 3\necho nan > /logs/verifier/reward.txt\n")
    with start_task(task) as env:
        (reward, reason), took = timed_verify(env)
    assert (reward, reason) == (0.0, f"verifier timed out after {TIMEOUT} s (with the control run without "
                                     "the agent)")
    assert took < TIMEOUT + 2


def test_a_missing_runner_whose_control_would_outlast_the_clock_is_the_verifier_s_timeout(tmp_path):
    # the runner-missing path: a runner's words, which only a control run of test.sh can judge
    task = task_with(tmp_path, "sleep 3\necho 'Ran 0 tests in 0.000s'\necho 0 > /logs/verifier/reward.txt\n")
    with start_task(task) as env:
        (reward, reason), took = timed_verify(env)
    assert reward == 0.0 and reason.startswith(f"verifier timed out after {TIMEOUT} s")
    assert took < TIMEOUT + 2


def test_a_control_whose_start_spends_the_clock_runs_no_tests_and_keeps_no_verdict(tmp_path):
    task = task_with(tmp_path, "echo nan > /logs/verifier/reward.txt\n")
    harbor.forget_builds()                     # no verdict of another test's control for this task
    with start_task(task) as env:
        start, ran = env.fresh_start, []

        def slow_start(**kw):
            time.sleep(TIMEOUT + 0.5)          # a loaded machine's start: the verify's clock, all of it
            ran.append(1)
            return start(**kw)
        env.fresh_start = slow_start
        reward, reason = env.verify()
    assert ran == [1] and reward == 0.0 and reason.startswith(f"verifier timed out after {TIMEOUT} s")
    assert not harbor._controls                # the next verify of the task and seed runs a control again


def test_a_verify_within_its_clock_scores_as_before(tmp_path):
    task = task_with(tmp_path, "sleep 1\necho 1 > /logs/verifier/reward.txt\n")
    with start_task(task) as env:
        assert env.verify() == (1.0, "")


def test_the_control_starts_within_what_the_verify_has_left(tmp_path):
    # rt17b p27: the control's setup (its seeded steps, sidecars, healthchecks) ran on a build_timeout_sec
    # of its own, 23.6 s of a 5 s verify; its start is now given what is left of the verify's clock
    task = task_with(tmp_path, "sleep 2\necho nan > /logs/verifier/reward.txt\n")
    harbor.forget_builds()
    with start_task(task) as env:
        start, budgets = env.fresh_start, []
        env.fresh_start = lambda **kw: budgets.append(kw.get("budget")) or start(**kw)
        with pytest.raises(harbor.VerifierError, match="so too without the agent|holds nan"):
            env.verify()                       # the control says it is the task's own
    assert len(budgets) == 1 and budgets[0] is not None and 0 < budgets[0] <= TIMEOUT - 2 + 0.5


def test_a_control_start_out_of_the_verifys_time_is_its_timeout(tmp_path):
    # the setup's one clock cut to what is left: a start that needs more fails as out of time, reward 0,
    # not as the machine's failure (masked) nor the task's
    import dataclasses
    task = task_with(tmp_path, "echo nan > /logs/verifier/reward.txt\n")
    harbor.forget_builds()
    with start_task(task) as env:
        def slow(budget=None, **_):
            time.sleep(min(budget, TIMEOUT + 1))   # as a seeded step on the setup clock would, to its end
            raise harbor.SetupError(f"task 't': build_timeout_sec ({budget:.1f} s) reached")
        env.fresh_start = slow
        reward, reason = env.verify()
    assert reward == 0.0 and reason.startswith(f"verifier timed out after {TIMEOUT} s"), reason
    assert dataclasses.is_dataclass(task)


def test_a_group_mate_waiting_for_a_control_waits_within_its_own_clock(tmp_path):
    # rt17b p27: other rollouts of the task and seed waited on the control's lock with no deadline
    task = task_with(tmp_path, "echo nan > /logs/verifier/reward.txt\n")
    lock = harbor._controls_locks.setdefault((str(task.path), 0), __import__("threading").Lock())
    with start_task(task) as env:
        lock.acquire()                         # a group-mate's control run, held past this verify's clock
        try:
            t0 = time.monotonic()
            reward, reason = env.verify()
            took = time.monotonic() - t0
        finally:
            lock.release()
    assert reward == 0.0 and "waiting for the control run" in reason and took < TIMEOUT + 3


def test_the_runs_max_task_clock_caps_a_tasks_verifier_timeout(tmp_path):
    # task.toml may ask for 7,200 s: one such task held every step that sampled it (rt18a p14, rt19a p18)
    toml = "[agent]\ntimeout_sec = 60\n[verifier]\ntimeout_sec = 7200\n"
    task = load_task(make_task(tmp_path, files={"tests/test.sh": "sleep 60\n"}, toml=toml))
    said = []
    with start_task(task, limits=harbor.Limits(max_task_clock=2), log=said.append) as env:
        (reward, reason), took = timed_verify(env)
    assert (reward, reason) == (0.0, "verifier timed out after 2 s") and took < 4
    assert said == ["task 't': [verifier].timeout_sec 7200 / build_timeout_sec 600 capped at the run's "
                    "--max-task-clock 2 s"]


def test_the_runs_max_task_clock_caps_a_seeded_setup_step(tmp_path):
    # a step after ARG TASK_SEED runs at every episode's start, on the setup's clock (rt19a p19)
    files = {"environment/Dockerfile": "FROM host\nARG TASK_SEED\nRUN sleep 60\n"}
    task = load_task(make_task(tmp_path, files=files, toml="[environment]\nbuild_timeout_sec = 7200\n"))
    t0 = time.monotonic()
    with pytest.raises(harbor.SetupError, match="RUN .sleep 60. timed out after 2 s"):
        start_task(task, limits=harbor.Limits(max_task_clock=2), log=lambda line: None)
    assert time.monotonic() - t0 < 6
