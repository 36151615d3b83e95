"""Whose fault a runner's failure is (rt20a p02, p03, p17): the control run without the agent judges only the
names the tests use as what the agent's run said is missing (a program they run, a /tests path they read or
run), and a control that fails for want of the agent's deliverable is no evidence against the task. Each
wrong answer below was booked as the task's verifier error before; a task that cannot run its tests whatever
the agent does still is one."""
import pytest

import harbor
from harbor import Outcome, VerifierError, load_task, outcome_of, start_task
from test_harbor_episodes import make_task
from test_reward_forgery import REAL_DOCKERFILE


def agent_program(stderr: str) -> str:
    """The agent's /app/run.sh: prints `stderr` to stderr and a wrong answer, 41, to stdout."""
    return f"mkdir -p /app; printf '%s\\n' \"echo '{stderr}' >&2\" 'echo 41' > /app/run.sh"


def test_a_tests_path_the_tests_only_write_elsewhere_is_the_agent_s_0(tmp_path):
    # p02: test.sh writes out.txt in /app; the agent's program prints /tests/out.txt missing
    test_sh = ("cd /app\nbash /app/run.sh > out.txt\n"
               "if diff -q out.txt /tests/expected.txt >/dev/null; then echo 1; else echo 0; fi "
               "> /logs/verifier/reward.txt\n")
    task = load_task(make_task(tmp_path, files={"tests/test.sh": test_sh, "tests/expected.txt": "42\n"}))
    with start_task(task) as env:
        env.run(agent_program("bash: /tests/out.txt: No such file or directory"))
        reward, reason = env.verify()
    assert reward == 0.0 and "in the agent's run only" in reason


def test_a_test_sh_variable_printed_as_a_missing_command_is_the_agent_s_0(tmp_path):
    # p03: `result` is a variable of test.sh, never a program it runs
    test_sh = ('result=$(bash /app/run.sh)\nif [ "$result" = 42 ]; then echo 1; else echo 0; fi '
               '> /logs/verifier/reward.txt\n')
    task = load_task(make_task(tmp_path, files={"tests/test.sh": test_sh}))
    with start_task(task) as env:
        env.run(agent_program("bash: result: command not found"))
        reward, reason = env.verify()
    assert reward == 0.0 and "in the agent's run only" in reason


# Stops before its runner without the agent's /app/done, as a real task's check of the deliverable does
STOPS_EARLY = "[ -e /app/done ] || { echo 0 > /logs/verifier/reward.txt; exit 1; }\n"


def test_a_tests_script_the_tests_run_but_never_shipped_is_the_task_s(tmp_path):
    test_sh = STOPS_EARLY + "bash /tests/helper_v4.sh\necho 1 > /logs/verifier/reward.txt\n"
    task = load_task(make_task(tmp_path, files={"tests/test.sh": test_sh}))
    with start_task(task) as env:
        env.run("mkdir -p /app && touch /app/done")
        with pytest.raises(VerifierError, match="helper_v4.sh: not in the task's tests/"):
            env.verify()


def test_a_runner_run_after_if_missing_from_the_image_is_the_task_s(tmp_path):
    test_sh = STOPS_EARLY + ("if nosuchrunner-v4 /tests/x; then echo 1; else echo 0; fi "
                             "> /logs/verifier/reward.txt\n")
    task = load_task(make_task(tmp_path, files={"tests/test.sh": test_sh}))
    with start_task(task) as env:
        env.run("mkdir -p /app && touch /app/done")
        with pytest.raises(VerifierError, match="nosuchrunner-v4: not in the image"):
            env.verify()


CONFTEST = "import sys\nsys.path.insert(0, '/app')\nimport pytest\nfrom app import add\n\n" \
           "@pytest.fixture\ndef adder():\n    return add\n"
TEST_APP = "def test_add(adder):\n    assert adder(2, 3) == 5\n"
PYTEST_SH = ("cd /app\npython3 -m pytest -q /tests/test_app.py\n"
             "if [ $? -eq 0 ]; then echo 1; else echo 0; fi > /logs/verifier/reward.txt\n")
BROKEN_APP = "printf 'def add(a, b):\\n    return a - b\\nraise ImportError(\"no helper\")\\n' > /app/app.py"
GOOD_APP = "printf 'def add(a, b):\\n    return a + b\\n' > /app/app.py"


def test_pytest_missing_from_the_image_is_the_task_s_whatever_the_agent_s_app_does(tmp_path):
    # the host's python3 has no pytest: the tests cannot run, with the agent's broken app.py or not
    files = {"tests/test.sh": PYTEST_SH, "tests/conftest.py": CONFTEST, "tests/test_app.py": TEST_APP}
    task = load_task(make_task(tmp_path, files=files))
    with start_task(task) as env:
        env.run("mkdir -p /app && " + BROKEN_APP)
        with pytest.raises(VerifierError, match="No module named pytest .so too without the agent") as e:
            env.verify()
    assert outcome_of(e.value) is Outcome.VERIFIER_ERROR


@pytest.fixture(scope="module")
def real_dockerfile(debian_base, image_cache):
    import images
    images.CACHE = image_cache                 # module scope: the autouse fixture only patches per test
    return REAL_DOCKERFILE                     # python3 and pytest (tests/real_base.py builds it early)


def real_task(tmp_path, conftest: str):
    files = {"tests/test.sh": PYTEST_SH, "tests/conftest.py": conftest, "tests/test_app.py": TEST_APP,
             "environment/Dockerfile": REAL_DOCKERFILE, "task.toml": "[verifier]\ntimeout_sec = 120\n"}
    return load_task(make_task(tmp_path, files=files))


def test_an_app_that_breaks_the_conftest_importing_it_is_the_agent_s_0(tmp_path, real_dockerfile):
    # p17: without the agent there is no app.py, and the conftest fails alike: for want of the deliverable
    with start_task(real_task(tmp_path, CONFTEST)) as env:
        env.run(BROKEN_APP)
        reward, reason = env.verify()
    assert reward == 0.0 and "traced to the agent's /app/app.py" in reason
    with start_task(real_task(tmp_path, CONFTEST)) as env:
        env.run(GOOD_APP)
        assert env.verify() == (1.0, "")


def test_a_conftest_importing_what_the_image_lacks_is_the_task_s(tmp_path, real_dockerfile):
    conftest = "import nosuchmodule_v4\n" + CONFTEST
    with start_task(real_task(tmp_path, conftest)) as env:
        env.run(GOOD_APP)
        with pytest.raises(VerifierError, match="conftest.*so too without the agent"):
            env.verify()


def test_a_printed_path_through_dot_dot_looks_up_nothing_on_the_host(tmp_path, monkeypatch):
    # `/tests/../../etc/shadow: No such file` had the trainer check a host path beside the task (rt20a)
    task = load_task(make_task(tmp_path, files={"tests/test.sh": "cat /tests/x\n"}))
    looked = []
    monkeypatch.setattr(harbor.os.path, "lexists", lambda p: looked.append(str(p)) or False)
    assert harbor._blamable(task, ("/tests/../../../etc/x", "/tests/x")) == ("/tests/x",)
    assert all(".." not in p for p in looked)


def test_failure_files_reads_the_runner_s_own_traceback_only():
    conftest = ["ImportError while loading conftest '/tests/conftest.py'.",
                "/tests/conftest.py:4: in <module>", "    from app import add", "app.py:3: in <module>",
                "    raise ImportError('x')", "E   ImportError: x", "0"]
    assert harbor.failure_files(conftest, 0) == ("/tests/conftest.py", "app.py")
    python = ["Traceback (most recent call last):", '  File "/tests/run.py", line 1, in <module>',
              "    import pytest", "ModuleNotFoundError: No module named 'pytest'"]
    assert harbor.failure_files(python, 3) == ("/tests/run.py",)
    # a traceback the agent's program printed before another line is not the runner's
    assert harbor.failure_files(['  File "/app/x.py", line 1', "/usr/bin/python3: No module named pytest"],
                                1) == ("/usr/bin/python3",)
