"""rt11b p05, p16: values from a task's files that reach exec, a path or an environment are checked when the
task loads (one line naming the line), never failing its starts as the machine's fault."""
import pytest

from harbor import TaskError, load_task
from test_harbor_load import load_error, make_task

COMPOSE = "services:\n  s:\n    image: host\n    command: [\"sleep\", \"infinity\"]\n"


def test_a_dockerfile_env_over_what_exec_takes_is_refused_at_load(tmp_path):
    # task.toml's env was checked and the Dockerfile's ENV not: 200 KB failed pid 1's exec with E2BIG
    docker = "FROM host\nENV A=" + "x" * 200000 + "\n"
    error = load_error(make_task(tmp_path, files={"environment/Dockerfile": docker}))
    assert "E2BIG" in error and "(line 2)" in error


def test_the_dockerfile_env_and_the_task_env_are_counted_together(tmp_path):
    toml = "[environment.env]\nB = \"" + "y" * 40000 + "\"\n"
    docker = "FROM host\nENV A=" + "x" * 40000 + "\n"
    assert "E2BIG" in load_error(make_task(tmp_path, toml=toml, files={"environment/Dockerfile": docker}))
    load_task(make_task(tmp_path, "ok", toml=toml, files={"environment/Dockerfile": "FROM host\nENV A=x\n"}))


@pytest.mark.parametrize("line", ["ENV A=x\0y", "ENV A\0B=x", "ARG A=x\0y", "WORKDIR /a\0b", "USER ro\0ot",
                                  'ENTRYPOINT ["/bin/sh", "-c", "sleep 1\0"]', "HEALTHCHECK CMD true\0",
                                  'SHELL ["/bin/ba\0sh", "-c"]', "CMD sleep\0"])
def test_a_nul_in_a_dockerfile_value_is_refused_at_load_naming_its_line(tmp_path, line):
    error = load_error(make_task(tmp_path, files={"environment/Dockerfile": f"FROM host\n{line}\n"}))
    assert "line 2" in error


@pytest.mark.parametrize("line", ['ENTRYPOINT ["sleep", "1\\u0000"]', 'SHELL ["/bin/sh\\u0000", "-c"]'])
def test_a_json_escaped_nul_is_a_nul_too(tmp_path, line):
    error = load_error(make_task(tmp_path, files={"environment/Dockerfile": f"FROM host\n{line}\n"}))
    assert "line 2" in error and "NUL" in error


@pytest.mark.parametrize("extra", ["    working_dir: /a\0b\n", "    environment:\n      A: x\0y\n",
                                   '    environment:\n      A: "x\\u0000y"\n'])
def test_a_nul_in_a_compose_value_is_refused_at_load(tmp_path, extra):
    error = load_error(make_task(tmp_path, files={"environment/Dockerfile": "FROM host\n",
                                                  "environment/docker-compose.yaml": COMPOSE + extra}))
    assert "docker-compose.yaml: line " in error
