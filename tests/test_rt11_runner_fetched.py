"""A runner the tests download that never came is the verifier broken, decided by where the file comes from
(rt11a p14): `curl -o /tmp/junit.jar` fails offline, then `java -jar /tmp/junit.jar` says `Error: Unable to
access jarfile /tmp/junit.jar`, which scored a silent 0. An agent's missing build says the same words
(`java -jar target/app.jar`): a file the tests neither ship (/tests) nor fetch (harbor.fetched_paths), or one
the instruction names, is the check failing."""
import shutil

import pytest

import harbor

JAR = "Error: Unable to access jarfile {}"
FETCH = frozenset({"/tmp/junit.jar", "lib/runner.jar", "/opt/t/run_tests.py"})


@pytest.mark.parametrize("line", [JAR.format("/tmp/junit.jar"), JAR.format("lib/runner.jar"),
                                  "Error: Invalid or corrupt jarfile /tmp/junit.jar",
                                  "python3: can't open file '/opt/t/run_tests.py': [Errno 2] No such file",
                                  "bash: /tests/run.sh: No such file or directory"])
def test_a_file_the_tests_fetch_or_ship_that_cannot_be_opened_is_the_runner_missing(line):
    assert harbor.runner_missing(line, FETCH, "/app")


@pytest.mark.parametrize("line", [JAR.format("/tmp/junit.jar"), JAR.format("target/app.jar"),
                                  "python3: can't open file '/app/solution.py': [Errno 2] No such file",
                                  "Can't open perl script \"/app/t.pl\": No such file or directory"])
def test_the_same_words_about_a_file_the_tests_do_not_fetch_are_the_check_failing(line):
    assert not harbor.runner_missing(line, frozenset(), "/app")


def test_a_fetched_path_the_instruction_names_is_the_agents():
    asked = frozenset({"/tmp/junit.jar"})
    assert not harbor.runner_missing(JAR.format("/tmp/junit.jar"), FETCH, "/app", asked)


def test_fetched_paths_reads_curl_and_wget_as_shells_write_them(tmp_path):
    (tmp_path / "test.sh").write_text(
        "J=/opt/j.jar\ncurl -fsSL https://h.org/x.jar -o /tmp/junit.jar 2>/dev/null && java -jar x.jar\n"
        "wget -qO \"$J\" https://h.org/j.jar; curl -LO https://h.org/d/remote.jar?v=1\n"
        "wget -q https://h.org/l.jar -P /lib\ncurl -s \\\n  https://h.org/r.sh > /tmp/r.sh\n"
        "curl -LsSf https://astral.sh/uv/install.sh | sh\napt-get install -y curl wget\n"
        "wget -qO- https://h.org/a.tgz | tar xz\n")
    (tmp_path / "t.py").write_text("urllib.request.urlretrieve('https://h.org/t.py', '/tmp/t.py')\n")
    assert harbor.fetched_paths(tmp_path) == ("/lib/l.jar", "/opt/j.jar", "/tmp/junit.jar", "/tmp/r.sh",
                                              "/tmp/t.py", "remote.jar")


def test_what_the_tests_fetch_from_a_service_of_the_task_is_not_theirs(tmp_path):
    # the agent's server (localhost, a compose service, a private address) serves the agent's work
    (tmp_path / "test.sh").write_text("curl -s http://localhost:8000/run.sh -o /tmp/a.sh\n"
                                      "curl -so /tmp/b.sh http://app:8080/b.sh\n"
                                      "wget -O /tmp/c http://10.0.0.5/c\n")
    assert harbor.fetched_paths(tmp_path) == ()


@pytest.mark.skipif(not shutil.which("curl"), reason="needs curl")
@pytest.mark.parametrize("run,want", [
    ("python3 /tmp/run_tests.py", harbor.Outcome.VERIFIER_ERROR.value),     # the runner never came
    ("python3 /app/solution.py", 0.0),                                      # the agent's: the check failing
])
def test_a_runner_test_sh_downloads_offline_is_a_verifier_error(tmp_path, run, want):
    from test_agent_processes import make_task, score
    task = make_task(tmp_path, "curl -fsSL https://example.com/t.py -o /tmp/run_tests.py 2>/dev/null\n"
                               f"{run} && echo 1 > /logs/verifier/reward.txt "
                               "|| echo 0 > /logs/verifier/reward.txt\n")
    assert score(task) == want
