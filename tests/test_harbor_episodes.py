"""Harbor episodes: environments from Dockerfiles on the host fallback, run_solution and verify (harbor.py).
The loader has its own tests (test_harbor_load.py); builds on a real base image are in test_images.py."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from harbor import (Limits, Outcome, SetupError, TamperedError, VerifierError,  # noqa: E402
                    load_task, outcome_of, run_solution, start_task, verify)

TEST_SH = "echo 1 > /logs/verifier/reward.txt\n"


def make_task(root: Path, name: str = "t", files: dict[str, str] | None = None, toml: str = "") -> Path:
    """A task directory; `files` overrides or adds files (None as a value deletes the default)."""
    path = root / name
    defaults = {"task.toml": toml or "[agent]\ntimeout_sec = 60\n", "instruction.md": "Do the thing.\n",
                "tests/test.sh": TEST_SH}
    for rel, text in {**defaults, **(files or {})}.items():
        if text is not None:
            (path / rel).parent.mkdir(parents=True, exist_ok=True)
            (path / rel).write_text(text)
    return path


# ---- start_task / Dockerfile-lite -------------------------------------------------------------------------

def test_environment_files_are_copied_without_a_dockerfile(tmp_path):
    task = load_task(make_task(tmp_path, files={"environment/data.txt": "hello\n", "environment/sub/x": "x"}))
    with start_task(task) as sb:
        assert sb.run("pwd; cat data.txt; ls sub").output == "/app\nhello\nx\n"
        assert sb.run("echo changed > data.txt").exit_code == 0       # the agent's workdir is writable


def test_dockerfile_lite(tmp_path):
    dockerfile = """\
        FROM host
        LABEL x=y
        ARG NAME=world
        ENV A=1 B="two words"
        ENV C $A-more
        WORKDIR /srcdir
        COPY data.txt .
        COPY sub/ /data/sub/
        ARG TASK_SEED
        RUN echo "$NAME $TASK_SEED" > seed.txt && cp data.txt /data/
        WORKDIR /work2
        RUN ["sh", "-c", "pwd > where.txt"]
        EXPOSE 80
        CMD ["bash"]
        """.replace("        ", "")
    task = load_task(make_task(tmp_path, files={"environment/Dockerfile": dockerfile, "environment/data.txt": "d\n",
                                                "environment/sub/f": "f\n"}))
    assert task.workdir == "/work2"
    with start_task(task, seed=7) as sb:
        r = sb.run('pwd; cat where.txt /srcdir/seed.txt /srcdir/data.txt /data/sub/f /data/data.txt; '
                   'echo "$A|$B|$C|${TASK_SEED:-unset}|${NAME:-unset}"')
        assert r.output == "/work2\n/work2\nworld 7\nd\nf\nd\n1|two words|1-more|unset|unset\n"


@pytest.mark.parametrize("line, error", [
    ("RUN echo boom; exit 3", r"line 2: RUN 'echo boom; exit 3' failed \(exit 3\): boom"),
    ("COPY missing.txt /app/", "line 2: COPY missing.txt: not found in environment/"),
    ("COPY data.txt /usr/local/bin/data", "line 2: COPY 'data.txt /usr/local/bin/data': cannot copy"),
])
def test_failed_setup_is_one_line_naming_task_and_step(tmp_path, line, error):
    # (an instruction echo cannot build fails when the task loads: test_harbor_load.py)
    task = load_task(make_task(tmp_path, "x", files={"environment/Dockerfile": f"FROM host\n{line}\n",
                                                     "environment/data.txt": "d\n"}))
    with pytest.raises(SetupError, match=f"^task 'x': {error}") as e:
        start_task(task)
    assert "\n" not in str(e.value)


def test_an_image_found_nowhere_falls_back_to_the_host_and_says_so(tmp_path, capsys):
    task = load_task(make_task(tmp_path, files={"environment/Dockerfile": "FROM nosuch.invalid/img:1\n"}))
    with start_task(task) as sb:
        assert sb.box.layers is None and sb.run("test -x /usr/bin/python3").exit_code == 0
    err = capsys.readouterr().err
    assert "FROM nosuch.invalid/img:1: " in err and "using the host's system directories" in err


def test_tests_and_solution_are_invisible_during_the_episode(tmp_path):
    root = Path("/var/tmp") / f"echo-task-{tmp_path.name}"        # a place the sandbox could otherwise see
    path = make_task(root, files={"solution/solve.sh": "echo SECRET > answer.txt\n"})
    try:
        task = load_task(path)
        with start_task(task) as sb:
            r = sb.run(f"ls /tests /solution; cat {path}/solution/solve.sh {path}/tests/test.sh; ls -A {root}")
            assert "SECRET" not in r.output and "reward" not in r.output
    finally:
        import shutil
        shutil.rmtree(root)


# ---- run_solution / verify --------------------------------------------------------------------------------

def test_solution_then_verify_with_seed(tmp_path):
    test_sh = 'test "$(cat answer.txt)" = "$TASK_SEED" && echo 1 > /logs/verifier/reward.txt || echo 0 > /logs/verifier/reward.txt\n'
    task = load_task(make_task(tmp_path, files={"tests/test.sh": test_sh, "solution/solve.sh": "echo 5 > answer.txt\n"}))
    with start_task(task, seed=5) as sb:
        assert sb.run("echo ${TASK_SEED:-unset}").output == "unset\n"
        assert run_solution(sb, task).exit_code == 0
        assert verify(sb, task, seed=5) == (1.0, "")
        assert verify(sb, task, seed=6) == (0.0, "")


def test_solve_sh_runs_with_solution_env_and_the_agent_does_not(tmp_path):
    toml = '[solution]\nenv = { ANSWER = "4 2", "X-Y" = "z" }\n'
    solve = 'printf "%s|%s" "$ANSWER" "$(printenv X-Y)" > /tmp/seen\n'
    task = load_task(make_task(tmp_path, toml=toml, files={"solution/solve.sh": solve}))
    with start_task(task, seed=0) as sb:
        assert sb.run("echo ${ANSWER:-unset}").output == "unset\n"
        assert run_solution(sb, task).exit_code == 0
        assert sb.run("cat /tmp/seen").output == "4 2|z"


@pytest.mark.parametrize("test_sh, reward, reason", [
    ("echo 0.25 > /logs/verifier/reward.txt", 0.25, ""),
    ('echo \'{"reward": 0.5, "other": 1}\' > /logs/verifier/reward.json', 0.5, ""),
    ("echo hi", 0.0, "reward.txt missing"),
    ("touch /logs/verifier/reward.txt", 0.0, "reward.txt empty"),
    ("sleep 30", 0.0, "verifier timed out after 1 s"),
])
def test_verify_reward_files(tmp_path, test_sh, reward, reason):
    task = load_task(make_task(tmp_path, files={"tests/test.sh": test_sh + "\n"},
                               toml="[verifier]\ntimeout_sec = 1\n"))
    with start_task(task) as sb:
        got, why = verify(sb, task)
        assert got == reward and why.startswith(reason) and (reason or why == "")


@pytest.mark.parametrize("test_sh, error", [
    ("echo lots > /logs/verifier/reward.txt", "reward.txt garbled: 'lots'"),
    ("echo '{\"score\": 1}' > /logs/verifier/reward.json", "reward.json garbled: '{\"score\": 1}'"),
    ("echo nan > /logs/verifier/reward.txt", "reward.txt holds nan, not a reward in [0, 1]"),
    ("echo inf > /logs/verifier/reward.txt", "reward.txt holds inf, not a reward in [0, 1]"),
    ("echo 1e39 > /logs/verifier/reward.txt", "reward.txt holds 1e+39, not a reward in [0, 1]"),
    ("echo -0.5 > /logs/verifier/reward.txt", "reward.txt holds -0.5, not a reward in [0, 1]"),
    ("echo '{\"reward\": 2}' > /logs/verifier/reward.json", "reward.json holds 2.0, not a reward in [0, 1]"),
])
def test_a_reward_that_is_not_a_number_in_0_1_is_a_verifier_error(tmp_path, test_sh, error):
    task = load_task(make_task(tmp_path, "r", files={"tests/test.sh": test_sh + "\n"}))
    with start_task(task) as sb, pytest.raises(VerifierError) as e:
        verify(sb, task)
    assert str(e.value) == f"task 'r': {error}"


def test_a_test_runner_missing_as_a_module_is_a_verifier_error(tmp_path):
    test_sh = ("python3 -m no_such_runner /tests; echo 0 > /logs/verifier/reward.txt\n")
    task = load_task(make_task(tmp_path, "m", files={"tests/test.sh": test_sh}))
    with start_task(task) as sb, pytest.raises(VerifierError, match="task 'm': test.sh exit 0: .*No module named"):
        verify(sb, task)
    # a test's own failed import is the agent's failure, not a broken verifier
    test_sh = "python3 -c 'import agents_module' || echo 0 > /logs/verifier/reward.txt\n"
    task = load_task(make_task(tmp_path, "n", files={"tests/test.sh": test_sh}))
    with start_task(task) as sb:
        assert verify(sb, task)[0] == 0.0


def test_a_missing_test_runner_is_a_verifier_error_not_a_zero(tmp_path):
    test_sh = "pytest /tests/test_outputs.py -rA\nif [ $? -eq 0 ]; then echo 1; else echo 0; fi > /logs/verifier/reward.txt\n"
    task = load_task(make_task(tmp_path, "x", files={"tests/test.sh": test_sh}))
    with start_task(task) as sb, pytest.raises(VerifierError, match="task 'x': test.sh exit 0: .*pytest: command not found"):
        verify(sb, task)
    task = load_task(make_task(tmp_path, "y", files={"tests/test.sh": "exec uvx pytest\n"}))
    with start_task(task) as sb, pytest.raises(VerifierError, match="task 'y': test.sh exit 127"):
        verify(sb, task)


# The runner started through a wrapper, each of which words "could not exec" its own way; the reward line
# after it hides the exit status (127) from test.sh's own.
WRAPPERS = {"timeout": "timeout 600 {}", "sh -c": "sh -c '{}'", "bash -c": "bash -c '{}'", "env": "env {}",
            "xargs": "echo /tests | xargs {}", "nohup": "nohup {}", "nice": "nice {}",
            "setsid": "setsid -w {}", "stdbuf": "stdbuf -oL {}"}
REWARD_BY_STATUS = "\nif [ $? -eq 0 ]; then echo 1; else echo 0; fi > /logs/verifier/reward.txt\n"


@pytest.mark.parametrize("wrapper", WRAPPERS)
def test_a_missing_runner_started_through_a_wrapper_is_a_verifier_error(tmp_path, wrapper):
    test_sh = WRAPPERS[wrapper].format("no-such-runner -q") + REWARD_BY_STATUS
    task = load_task(make_task(tmp_path, "w", files={"tests/test.sh": test_sh}))
    with start_task(task) as sb, \
            pytest.raises(VerifierError, match="task 'w': test.sh exit 0: .*no-such-runner"):
        verify(sb, task)


@pytest.mark.parametrize("wrapper", WRAPPERS)
def test_a_failing_check_through_a_wrapper_is_still_a_zero(tmp_path, wrapper):
    # the file the agent should have made is missing: cat says so, in the wording a missing runner has
    test_sh = WRAPPERS[wrapper].format("cat /app/out.txt") + REWARD_BY_STATUS
    task = load_task(make_task(tmp_path, "f", files={"tests/test.sh": test_sh}))
    with start_task(task) as sb:
        assert verify(sb, task)[0] == 0.0



# A runner that did not run is read from the verifier's whole output, not from the first 50,000 characters
# kept for the agent (rt6 p04: a 60,000-character setup log, then `pytest: command not found`, scored 0).
@pytest.mark.parametrize("log", [
    "head -c 60000 /dev/zero | tr '\\0' x | fold -w 100",           # the probe: a setup log first
    "head -c 60000 /dev/zero | tr '\\0' x; echo",                   # one long line, no newline in it
    "head -c 3000000 /dev/zero | tr '\\0' x | fold -w 100",         # past the 200,000 bytes kept, too
])
def test_a_missing_runner_after_a_long_log_is_a_verifier_error(tmp_path, log):
    test_sh = f"{log}\npytest /tests/test_outputs.py" + REWARD_BY_STATUS
    task = load_task(make_task(tmp_path, "l", files={"tests/test.sh": test_sh}))
    with start_task(task) as sb, \
            pytest.raises(VerifierError, match="task 'l': test.sh exit 0: .*pytest: command not found"):
        verify(sb, task)


# pytest's "no tests ran" (exit 5) in the forms its options print it (rt6 p17: `-q` drops the banner).
@pytest.mark.parametrize("line", [
    "no tests ran in 0.01s",                                      # -q
    "================ no tests ran in 75.20s (0:01:15) =================",     # over a minute
    r"\033[33mno tests ran\033[0m\033[33m in 1.37s\033[0m",      # --color=yes
    "1 deselected, 1 warning in 1.56s",                          # -k deselected every test
    "============= 2 warnings in 0.12s =============",           # a tests file that only warns
])
def test_no_tests_ran_in_pytests_quiet_forms_is_a_verifier_error(tmp_path, line):
    test_sh = f"printf '%b\\n' '{line}'; (exit 5)" + REWARD_BY_STATUS
    task = load_task(make_task(tmp_path, "q", files={"tests/test.sh": test_sh}))
    with start_task(task) as sb, pytest.raises(VerifierError, match="task 'q': test.sh exit 0: "):
        verify(sb, task)


# pytest told to load a plugin it cannot import never runs a test (rt7 p06: `-p xdist`, pytest-xdist absent).
def test_a_runner_plugin_that_does_not_import_is_a_verifier_error(tmp_path):
    # (the line pytest prints, and its status: the host's python3 in this sandbox has no pytest)
    test_sh = """echo 'ERROR: Error importing plugin "xdist": No module named xdist'; (exit 4)""" + REWARD_BY_STATUS
    task = load_task(make_task(tmp_path, "x", files={"tests/test.sh": test_sh}))
    with start_task(task) as sb, pytest.raises(VerifierError, match="Error importing plugin"):
        verify(sb, task)


# Other languages' runners that never started (rt7 p05: node's `Cannot find module 'mocha'` was a silent 0),
# in the words each prints (harbor.RUNNER_MISSING's comment says where each comes from); the agent's own
# file missing, or a failed assertion in their words, is still the check failing.
@pytest.mark.parametrize("line, missing", [
    ("Error: Cannot find module 'mocha'", True),                                       # node, require()
    ("Error: Cannot find module '@jest/core'", True),
    ("Error [ERR_MODULE_NOT_FOUND]: Cannot find package 'vitest' imported from /tests/run.mjs", True),
    ("Error: Cannot find module '/tests/run.js'", True),                               # the tests' own
    ("Error: Could not find or load main class org.junit.platform.console.ConsoleLauncher", True),
    ("<internal:/usr/lib/ruby/3.1.0/rubygems/core_ext/kernel_require.rb>:85:in `require': "
     "cannot load such file -- minitest/autorun (LoadError)", True),
    ("<internal:/usr/lib/ruby/3.4.0/rubygems/core_ext/kernel_require.rb>:136:in 'Kernel#require': "
     "cannot load such file -- rspec (LoadError)", True),
    ("ruby: No such file or directory -- /tests/test_x.rb (LoadError)", True),
    ('x_test.go:4:2: cannot find package "github.com/stretchr/testify/assert" in any of:', True),
    ("error: no such command: `nextest`", True),                                       # cargo
    ("/tests/test.sh: line 3: go: command not found", True),
    ("Error: Cannot find module '/app/solution.js'", False),                           # the agent's file
    ("Error: Cannot find module './solution'", False),
    ("Error [ERR_MODULE_NOT_FOUND]: Cannot find module '/app/index.mjs' imported from /tests/t.mjs", False),
    ("/tests/t.rb:1:in `require_relative': cannot load such file -- /app/lib/calc (LoadError)", False),
    ("AssertionError [ERR_ASSERTION]: Expected values to be strictly equal:", False),
    ("Error: expected 2 to equal 3", False),
    ('Exception in thread "main" java.lang.AssertionError: wrong answer', False),
])
def test_another_languages_runner_that_never_started_is_known(line, missing):
    import harbor
    assert bool(harbor.runner_missing(line)) == missing


@pytest.mark.parametrize("line", ["1 passed, 1 warning in 0.10s", "1 failed, 2 deselected in 0.10s",
                                  "echo: no tests ran in the sandbox"])
def test_a_run_that_ran_tests_is_still_its_reward(tmp_path, line):
    test_sh = f"echo '{line}'; echo 0 > /logs/verifier/reward.txt\n"
    task = load_task(make_task(tmp_path, "r", files={"tests/test.sh": test_sh}))
    with start_task(task) as sb:
        assert verify(sb, task)[0] == 0.0

@pytest.mark.parametrize("keep", [True, False], ids=["kept", "killed"])
def test_the_verifier_gets_a_clean_environment(tmp_path, keep):
    # (judged by test.sh itself: where the agent's processes are kept, what it writes is its own)
    test_sh = ('[ "$FOO|$PYTHONNOUSERSITE|$PWD" = "|1|/app" ] && echo 1 > /logs/verifier/reward.txt '
               '|| echo 0 > /logs/verifier/reward.txt\n')
    task = load_task(make_task(tmp_path, files={"tests/test.sh": test_sh}))
    with start_task(task, limits=Limits(keep_agent_processes=keep)) as sb:
        sb.run("export FOO=agent; cd /tmp")
        assert verify(sb, task) == (1.0, "")


def test_the_agent_cannot_plant_a_reward(tmp_path):
    task = load_task(make_task(tmp_path, files={"tests/test.sh": "ls /tests; sleep 0.5\n"}))
    with start_task(task) as sb:
        sb.run("mkdir -p /logs/verifier /tests && echo 1 > /logs/verifier/reward.txt && touch /tests/conftest.py")
        sb.run("(while :; do mkdir -p /logs/verifier; echo 1 > /logs/verifier/reward.txt; sleep 0.05; done) &")
        with pytest.raises(TamperedError, match="/logs/verifier/reward.txt .the verifier's own place"):
            verify(sb, task)
        assert outcome_of(TamperedError("x")) == Outcome.TAMPERED and not Outcome.TAMPERED.verified



def test_a_workdir_through_a_file_of_the_image_is_the_tasks_setup_failure(tmp_path):
    # rt8 p05: pid 1's makedirs fails with ENOTDIR through the image's file; it was booked as the machine's
    # (SETUP_MACHINE: retried once, counted toward stopping the run), but the task's value caused it
    task = load_task(make_task(tmp_path, "x", files={"environment/Dockerfile": "FROM host\n"},
                               toml='[environment]\nworkdir = "/etc/os-release/x"\n'))
    with pytest.raises(SetupError, match=r"^task 'x': .*workdir '/etc/os-release/x': Not a directory") as e:
        start_task(task)
    assert outcome_of(e.value) == Outcome.SETUP_TASK and "\n" not in str(e.value)
