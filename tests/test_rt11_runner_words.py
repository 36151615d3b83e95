"""A runner test.sh could not start, in more programs' words (rt11a p05, p19, p24): the task's own file
under /tests that python, bash, dash or unittest cannot open, and npm unable to fetch the runner offline.
The same words about the agent's files are the check failing, not the verifier broken. Each of the
runner lines scored a silent 0 before (harbor.RUNNER_MISSING had none of them)."""
import pytest

import harbor

RUNNER = ["/usr/bin/python3: can't open file '/tests/test_outputs.py': [Errno 2] No such file or directory",
          "bash: /tests/run-tests.sh: No such file or directory",
          "sh: 0: cannot open /tests/run.sh: No such file",
          "ImportError: Start directory is not importable: '/tests/unit'",
          "ModuleNotFoundError: No module named '/tests/test_missing'",
          "npm error code ENOTCACHED", "npm ERR! code ENOTCACHED"]
AGENTS = ["python3: can't open file '/app/solution.py': [Errno 2] No such file or directory",
          "bash: /app/run.sh: No such file or directory", "sh: 0: cannot open /app/run.sh: No such file",
          "ModuleNotFoundError: No module named 'solution'", "cat: /app/out.txt: No such file or directory",
          "ImportError: Failed to import test module: test_x"]


@pytest.mark.parametrize("line", RUNNER)
def test_a_runner_that_could_not_open_the_task_s_own_file_is_the_verifier_broken(line):
    assert harbor.runner_missing(line)


@pytest.mark.parametrize("line", AGENTS)
def test_the_same_words_about_the_agent_s_files_are_the_check_failing(line):
    assert not harbor.runner_missing(line)


def test_a_task_whose_runner_script_is_missing_is_a_verifier_error(tmp_path):
    from test_agent_processes import make_task, score
    task = make_task(tmp_path, "python3 /tests/test_outputs.py && echo 1 > /logs/verifier/reward.txt "
                               "|| echo 0 > /logs/verifier/reward.txt\n")
    assert score(task) == harbor.Outcome.VERIFIER_ERROR.value
