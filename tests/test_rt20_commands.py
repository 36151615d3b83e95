"""A command the task gives pid 1 to start (an ENTRYPOINT, a HEALTHCHECK, a compose service's entrypoint,
command or healthcheck, task.toml's healthcheck) is one `bash -c` string, which exec takes under 128 KiB: one
past that failed every start with E2BIG, booked as the machine's and retried (rt20b p19), and a kept agent's
zygote died of its message twice (p31). Refused at load in one line; and a start that still meets E2BIG is
the task's setup failure."""
import pytest

import sandbox
from harbor import TaskError, load_task
from test_harbor_episodes import make_task

BIG = "x" * (200 << 10)


@pytest.mark.parametrize("files", [
    {"environment/Dockerfile": f'FROM host\nENTRYPOINT ["sh", "-c", "exec \\"$@\\"", "{BIG}"]\n'},
    {"environment/Dockerfile": f"FROM host\nHEALTHCHECK CMD echo {BIG}\n"},
    {"environment/Dockerfile": "FROM host\n",
     "environment/docker-compose.yaml": f"services:\n  side:\n    image: host\n    command: [\"echo\", \"{BIG}\"]\n"},
], ids=["entrypoint", "healthcheck", "compose command"])
def test_a_command_over_exec_s_limit_is_the_tasks_one_line_at_load(tmp_path, files):
    with pytest.raises(TaskError, match="over 65536 bytes of command"):
        load_task(make_task(tmp_path, files=files))


def test_task_tomls_healthcheck_over_exec_s_limit_is_refused_at_load(tmp_path):
    toml = f'[environment.healthcheck]\ncommand = "echo {BIG}"\n'
    with pytest.raises(TaskError, match="over 65536 bytes of command"):
        load_task(make_task(tmp_path, toml=toml))


@pytest.mark.parametrize("keep", [False, True], ids=["exec", "zygote"])
def test_a_start_too_long_for_exec_is_the_tasks_setup_failure(keep):
    with sandbox.Sandbox(limits=sandbox.Limits(keep_agent_processes=keep)) as box:
        with pytest.raises(sandbox.TaskSetupError, match="Argument list too long"):
            box.start(f"echo {BIG}")
        assert box.run("echo alive").output == "alive\n"


def test_the_trainers_soft_file_limit_is_raised_to_its_hard_one_at_the_first_sandbox():
    # at the common soft limit of 1,024, ten rollouts of a 16-service task left other rows EMFILE (rt20b p23)
    import subprocess
    import sys
    code = ("import resource, sandbox; h = resource.getrlimit(resource.RLIMIT_NOFILE)[1]; "
            "resource.setrlimit(resource.RLIMIT_NOFILE, (min(1024, h), h))\n"
            "with sandbox.Sandbox() as box: box.run('true')\n"
            "print(resource.getrlimit(resource.RLIMIT_NOFILE) == (h, h))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                       cwd=str(__import__("pathlib").Path(__file__).resolve().parents[1]))
    assert r.stdout == "True\n", r.stderr[-500:]
