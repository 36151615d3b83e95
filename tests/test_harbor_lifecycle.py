"""Harbor's lifecycle of the main container (harbor._lifecycle): USER in the build, [agent].user and
[verifier].user, the image's ENTRYPOINT started with `sh -c "sleep infinity"`, and the healthcheck awaited
before the agent. The unit tests need nothing; the episode tests run on a tiny real image (the host's bash
and a few tools) and need root, as the other real-image tests."""
import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

import dockerfile
import harbor
import images
import sandbox
from dockerfile import ROOT, User
from test_compose import tiny_registry  # noqa: F401 (a fixture: the tiny image in a loopback registry)
from test_images import task_dir, tiny_rootfs

PASSWD = ("root:x:0:0:root:/root:/bin/bash\nagent:x:1000:1000::/home/agent:/bin/sh\n"
          "bob:x:1001:1001::/b:/bin/sh\n")
GROUP = "root:x:0:\nagent:x:1000:\nbob:x:1001:\nstaff:x:50:agent,bob\ndocker:x:999:agent\n"


# ---- units ----------------------------------------------------------------------------------------------

def test_a_user_name_gets_its_passwd_ids_home_and_supplementary_groups():
    agent = User(1000, 1000, (50, 999), "/home/agent", "agent")
    assert dockerfile.resolve_user("agent", PASSWD, GROUP) == agent


def test_a_uid_need_not_be_in_passwd_and_then_has_gid_0_and_home_slash():
    assert dockerfile.resolve_user("1000", PASSWD, GROUP).name == "agent"
    assert dockerfile.resolve_user("4242", PASSWD, GROUP) == User(4242, 0, (), "/", "4242")
    assert dockerfile.resolve_user("4242:4242", None, None) == User(4242, 4242, (), "/", "4242")


def test_an_explicit_group_replaces_the_primary_group_and_the_supplementary_ones():
    assert dockerfile.resolve_user("bob:staff", PASSWD, GROUP) == User(1001, 50, (), "/b", "bob")


def test_an_unknown_user_or_group_name_is_an_error_naming_it():
    with pytest.raises(ValueError, match="no user 'carol'"):
        dockerfile.resolve_user("carol", PASSWD, GROUP)
    with pytest.raises(ValueError, match="no group 'wheel'"):
        dockerfile.resolve_user("bob:wheel", PASSWD, GROUP)
    assert dockerfile.resolve_user("root", PASSWD, GROUP) == ROOT and ROOT.root


def test_entrypoint_and_cmd_are_recorded_in_both_forms():
    config = dockerfile.Config()
    for text in ('ENTRYPOINT ["/entry.sh", "--x"]', "CMD run it", 'SHELL ["/bin/bash", "-c"]',
                 "USER agent:staff"):
        config = dockerfile.replay(config, dockerfile.parse(text)[0])
    assert (config.entrypoint, config.cmd, config.user) == (["/entry.sh", "--x"], ["/bin/sh", "-c", "run it"],
                                                            "agent:staff")
    with pytest.raises(ValueError, match="line 1: USER"):
        dockerfile.replay(config, dockerfile.parse("USER a b")[0])


def test_a_dockerfile_inherits_its_base_images_user_entrypoint_and_cmd():
    image = images.Image("app:1", None, user="app", entrypoint=["/entry.sh"], cmd=["serve"])
    config = images.start_state(image).config
    assert (config.user, config.entrypoint, config.cmd) == ("app", ["/entry.sh"], ["serve"])
    config = dockerfile.replay(config, dockerfile.parse("USER root")[0])
    assert (config.user, config.entrypoint) == ("root", ["/entry.sh"])


def load(tmp_path, toml: str):
    return harbor.load_task(task_dir(tmp_path, "FROM tiny\n", "exit 0\n", toml=toml))


def test_agent_and_verifier_users_load_as_harbor_writes_them(tmp_path):
    task = load(tmp_path, '[agent]\nuser = "agent"\n[verifier]\nuser = 1000\n')
    assert (task.agent_user, task.verifier_user, task.healthcheck) == ("agent", "1000", None)
    assert load(tmp_path, "").agent_user is None


@pytest.mark.parametrize("value", ["true", "70000", '"a b"', '"x:y:z"', "-1", "[1]"])
def test_a_user_echo_cannot_honour_is_refused_when_the_task_loads(tmp_path, value):
    with pytest.raises(harbor.TaskError, match=r"\[agent\]\.user must be"):
        load(tmp_path, f"[agent]\nuser = {value}\n")


def test_a_healthcheck_loads_with_harbors_defaults(tmp_path):
    task = load(tmp_path, '[environment.healthcheck]\ncommand = "test -f /ready"\nretries = 5\n')
    assert task.healthcheck == harbor.Healthcheck("test -f /ready", 5.0, 30.0, 0.0, 5.0, 5)


@pytest.mark.parametrize("body, key", [('retries = 0\ncommand = "x"', "retries"),
                                       ("interval_sec = 1", "command"),
                                       ('command = "x"\ninterval_sec = -1', "interval_sec"),
                                       ('command = "x"\nstart_period_sec = "5s"', "start_period_sec"),
                                       ('command = " "', "command")])
def test_a_healthcheck_echo_cannot_honour_is_refused_when_the_task_loads(tmp_path, body, key):
    with pytest.raises(harbor.TaskError, match=rf"\[environment\.healthcheck\]\.{key} must be"):
        load(tmp_path, f"[environment.healthcheck]\n{body}\n")


# ---- episodes on a tiny real image ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def store(tmp_path_factory):
    if os.getuid() != 0 or not shutil.which("ldd"):
        pytest.skip("REAL EPISODES NOT TESTED: needs root and ldd (the tiny image is the host's bash)")
    store = tmp_path_factory.mktemp("store")
    root = tiny_rootfs(store / "tiny", extra=("id", "stat", "sleep", "touch", "chown", "grep", "chmod"))
    (root / "etc").mkdir()
    (root / "etc/passwd").write_text(PASSWD)
    (root / "etc/group").write_text(GROUP)
    cache = Path(tempfile.mkdtemp(prefix="echo-test-lifecycle-cache-"))
    yield store, cache                         # a cache of its own: another tiny:latest is in no other
    sandbox.rmtree(cache)


def episode(store, path, seed=0):
    store, cache = store
    return harbor.start_task(harbor.load_task(path), seed=seed, store=store, cache=cache, log=lambda m: None)


REWARD = "&& echo 1 > /logs/verifier/reward.txt || echo 0 > /logs/verifier/reward.txt\n"


def test_a_run_after_user_runs_as_that_user_and_fails_where_dockers_would(store, tmp_path):
    ok = task_dir(tmp_path / "ok", "FROM tiny\nRUN mkdir -p /home/agent && chown agent /home/agent\n"
                  "USER agent\nWORKDIR /home/agent\nRUN id -u > uid; id -G > groups\n", "exit 0\n")
    with episode(store, ok) as env:
        assert env.run("cat uid groups; stat -c %U uid").output == "1000\n1000 50 999\nagent\n"
    bad = task_dir(tmp_path / "bad", "FROM tiny\nUSER agent\nRUN mkdir /etc/x\n", "exit 0\n")
    with pytest.raises(harbor.SetupError, match=r"line 3: RUN 'mkdir /etc/x' failed .*Permission denied") as e:
        episode(store, bad)
    assert harbor.outcome_of(e.value) == harbor.Outcome.SETUP_TASK
    unknown = task_dir(tmp_path / "unknown", "FROM tiny\nUSER carol\nRUN true\n", "exit 0\n")
    with pytest.raises(harbor.SetupError, match="no user 'carol'"):
        episode(store, unknown)


# The shape of Harbor's hello-user: the image stays root, task.toml demotes the agent; the verifier (root,
# the image's USER) checks that the agent's file belongs to the agent.
USER_TOML = '[agent]\nuser = "agent"\n[environment]\nallow_internet = false\n'
USER_TEST = '[ "$(id -u)" = 0 ] && [ "$(stat -c %U:%G /app/hello.txt)" = agent:agent ] ' + REWARD


def test_hello_user_oracle_1_null_0_and_the_agent_cannot_get_root_back(store, tmp_path):
    path = task_dir(tmp_path, "FROM tiny\nRUN mkdir -p /app && chown agent:agent /app\nWORKDIR /app\n",
                    USER_TEST, solve="echo hello > /app/hello.txt\n", toml=USER_TOML)
    with episode(store, path) as env:
        assert env.run("id -u; id -G; echo $HOME; pwd").output == "1000\n1000 50 999\n/home/agent\n/app\n"
        r = env.run("touch /root-file; chown root /app; grep Cap[EP] /proc/self/status")
        assert r.output.count("Permission denied") + r.output.count("not permitted") == 2, r.output
        assert "CapPrm:\t0000000000000000" in r.output and "CapEff:\t0000000000000000" in r.output
        assert env.verify() == (0.0, "")
    with episode(store, path) as env:
        assert env.solve().exit_code == 0
        assert env.verify() == (1.0, "")


def test_the_images_user_is_the_agents_and_the_verifiers_by_default(store, tmp_path):
    test = '[ "$(id -u):$(id -g)" = 1001:1001 ] && [ "$(stat -c %u /b/out)" = 1001 ] ' + REWARD
    path = task_dir(tmp_path, "FROM tiny\nRUN mkdir /b && chown bob /b\nUSER 1001:1001\nWORKDIR /b\n", test,
                    solve="touch out\n", toml="[environment]\nallow_internet = false\n")
    with episode(store, path) as env:
        assert env.run("id -u").output == "1001\n"
        assert env.solve().exit_code == 0
        assert env.verify() == (1.0, "")


# The shape of Harbor's hello-healthcheck: the image's ENTRYPOINT starts a service that becomes ready after
# a while (here it writes a token), then execs its arguments; the healthcheck waits for it. The oracle reads
# the token at once, so it scores 1 only if the agent starts after the service is ready.
ENTRY = ('#!/bin/sh\necho "$@" > /srv/args\nsleep 1\necho s3cret > /srv/token.tmp && '
         'cp /srv/token.tmp /srv/token\nexec "$@"\n')
HEALTH_DOCKERFILE = ("FROM tiny\nRUN mkdir -p /srv /app\nCOPY entry.sh /entry.sh\nRUN chmod +x /entry.sh\n"
                     'WORKDIR /app\nENTRYPOINT ["/entry.sh"]\nCMD ["never", "run"]\n')
HEALTH_TOML = ('[environment]\nallow_internet = false\n'
               '[environment.healthcheck]\ncommand = "test -s /srv/token"\ninterval_sec = 0.2\nretries = 30\n')
HEALTH_TEST = '[ "$(cat /app/answer)" = s3cret ] ' + REWARD


def test_hello_healthcheck_oracle_1_null_0_with_the_entrypoint_started_as_harbor_starts_it(store, tmp_path):
    path = task_dir(tmp_path, HEALTH_DOCKERFILE, HEALTH_TEST, solve="cat /srv/token > /app/answer\n",
                    toml=HEALTH_TOML, files={"environment/entry.sh": ENTRY})
    t0 = time.monotonic()
    with episode(store, path) as env:
        assert time.monotonic() - t0 >= 1.0                  # the healthcheck waited for the service
        assert env.run("cat /srv/args").output == "sh -c sleep infinity\n"    # Harbor's command, not CMD
        assert env.verify() == (0.0, "")
    with episode(store, path) as env:
        assert env.solve().exit_code == 0
        assert env.verify() == (1.0, "")


def test_a_healthcheck_that_never_passes_fails_the_setup_because_of_the_task(store, tmp_path):
    toml = HEALTH_TOML.replace("test -s /srv/token", "echo not yet; false").replace("= 30", "= 3")
    path = task_dir(tmp_path, HEALTH_DOCKERFILE, HEALTH_TEST, toml=toml, files={"environment/entry.sh": ENTRY})
    with pytest.raises(harbor.SetupError, match=r"healthcheck failed 3 times in a row \(exit 1: not yet\)") \
            as e:
        episode(store, path)
    assert harbor.outcome_of(e.value) == harbor.Outcome.SETUP_TASK and "\n" not in str(e.value)


def test_without_user_entrypoint_or_healthcheck_the_start_does_no_extra_work(store, tmp_path, monkeypatch):
    calls = []
    for name in ("set_user", "start"):
        monkeypatch.setattr(f"sandbox.Sandbox.{name}", lambda self, *a, **k: calls.append(name))
    monkeypatch.setattr(images, "image_user", lambda *a, **k: calls.append("image_user"))
    path = task_dir(tmp_path, "FROM tiny\nWORKDIR /app\n", "exit 0\n",
                    toml="[environment]\nallow_internet = false\n")
    with episode(store, path) as env:
        assert env.run("id -u").output == "0\n"
    assert calls == []


# ---- [environment] docker_image: Harbor's prebuilt image -------------------------------------------------

def test_docker_image_is_the_environment_resolved_as_from_and_the_dockerfile_is_not_built(store, tmp_path):
    # Harbor (without --force-build) runs docker_image and never builds the Dockerfile: one that would
    # fail here must not run. The reference is resolved as a FROM line is (images.resolve).
    path = task_dir(tmp_path, "FROM tiny\nRUN false\n", "grep -q ^bob: /etc/passwd " + REWARD, solve="true\n",
                    toml='[environment]\ndocker_image = "tiny"\nallow_internet = false\n')
    task = harbor.load_task(path)
    assert [(s.instr, s.args) for s in task.dockerfile] == [("FROM", "tiny")]
    with episode(store, path) as env:
        assert env.run("grep ^bob: /etc/passwd").output == PASSWD.splitlines()[2] + "\n"   # not the host's
        assert env.solve().exit_code == 0
        assert env.verify() == (1.0, "")


def test_a_docker_image_from_a_registry_brings_its_config_as_from_does(tmp_path, tiny_registry):
    # test_compose's loopback registry image: its config's Entrypoint records its arguments in /srv/args
    ref = f"127.0.0.1:{tiny_registry.port}/test/img:2.0"
    path = task_dir(tmp_path, "FROM tiny\nRUN false\n", "exit 0\n",
                    toml=f'[environment]\ndocker_image = "{ref}"\nallow_internet = false\n')
    task = harbor.load_task(path)
    with harbor.start_task(task, registry_nets=("127.0.0.1/32",), log=lambda m: None) as env:
        r = env.run("for i in {1..100}; do [ -s /srv/args ] && break; sleep 0.1; done; cat /srv/args")
        assert r.output == "sh -c sleep infinity\n"                 # its ENTRYPOINT, with Harbor's command


@pytest.mark.parametrize("toml, error", [
    ('[environment]\ndocker_image = "a/../b"\n', r"\[environment\]\.docker_image: .*a/\.\./b"),
    ('[environment]\ndocker_image = 3\n', r"\[environment\]\.docker_image must be an image reference, got 3"),
    ('[verifier]\nenvironment_mode = "separate"\n[environment]\ndocker_image = "tiny"\n',
     r"\[environment\]\.docker_image for a separate verifier is not supported"),
])
def test_a_docker_image_echo_cannot_use_is_refused_in_one_line_when_the_task_loads(tmp_path, toml, error):
    path = task_dir(tmp_path, "FROM tiny\n", "exit 0\n", toml=toml,
                    files={"tests/Dockerfile": "FROM tiny\n"})
    with pytest.raises(harbor.TaskError, match=error) as e:
        harbor.load_task(path)
    assert "\n" not in str(e.value)


# ---- the image's HEALTHCHECK: Harbor's `docker compose up --wait` awaits it ------------------------------

@pytest.mark.parametrize("args, want", [
    ("CMD curl -f http://x/", dockerfile.Health(["/bin/sh", "-c", "curl -f http://x/"])),
    ('--interval=1s --start-period=1m30s --retries=5 CMD ["test", "-s", "/t"]',
     dockerfile.Health(["test", "-s", "/t"], interval=1.0, start_period=90.0, retries=5)),
    ("NONE", None),
])
def test_a_healthcheck_instruction_is_read_with_dockers_defaults(args, want):
    assert dockerfile.health(args, "line 1: HEALTHCHECK") == want


@pytest.mark.parametrize("line, error", [
    ("HEALTHCHECK CMD", "expected NONE or"), ("HEALTHCHECK --interval=5 CMD true", "--interval must be"),
    ("HEALTHCHECK --bogus=1s CMD true", "--bogus is not a HEALTHCHECK option"),
    ("HEALTHCHECK --retries=0 CMD true", "--retries must be 1 to 1000"),
])
def test_a_healthcheck_instruction_echo_cannot_read_fails_the_load_naming_its_line(tmp_path, line, error):
    path = task_dir(tmp_path, f"FROM tiny\n{line}\n", "exit 0\n")
    with pytest.raises(harbor.TaskError, match=f"environment/Dockerfile: line 2: HEALTHCHECK.*{error}"):
        harbor.load_task(path)


# hello-healthcheck's shape, but the readiness check is the image's own HEALTHCHECK, not task.toml's: the
# oracle reads the token at once, so it scores 1 only if the start waited for the check, as Harbor's does.
IMAGE_HEALTH = HEALTH_DOCKERFILE + "HEALTHCHECK --interval=200ms --retries=30 CMD test -s /srv/token\n"


def test_the_images_healthcheck_is_awaited_before_the_agent_as_docker_compose_up_wait_does(store, tmp_path):
    path = task_dir(tmp_path, IMAGE_HEALTH, HEALTH_TEST, solve="cat /srv/token > /app/answer\n",
                    toml="[environment]\nallow_internet = false\n", files={"environment/entry.sh": ENTRY})
    t0 = time.monotonic()
    with episode(store, path) as env:
        assert time.monotonic() - t0 >= 1.0                  # the check waited for the service
        assert env.solve().exit_code == 0
        assert env.verify() == (1.0, "")
    with episode(store, path) as env:
        assert env.verify() == (0.0, "")


def test_an_unhealthy_image_fails_the_setup_because_of_the_task_once_docker_would_say_so(store, tmp_path):
    path = task_dir(tmp_path, "FROM tiny\nHEALTHCHECK --interval=100ms --timeout=1s --retries=2 CMD "
                    "echo not yet; false\n", "exit 0\n", toml="[environment]\nallow_internet = false\n")
    t0 = time.monotonic()
    with pytest.raises(harbor.SetupError, match=r"the image's HEALTHCHECK is unhealthy after 2.2 s "
                       r"\(exit 1: not yet\)") as e:
        episode(store, path)
    assert time.monotonic() - t0 >= 2.2 and harbor.outcome_of(e.value) == harbor.Outcome.SETUP_TASK


# A task's bytes reach a one-line error only escaped (rt7 p20: the healthcheck's ESC[2K, kept raw, would erase
# a line of the trainer's log): errors.one_line wherever an error quotes a task's or a program's output.
def test_an_unhealthy_images_output_reaches_the_error_escaped(store, tmp_path):
    path = task_dir(tmp_path, "FROM tiny\nHEALTHCHECK --interval=100ms --timeout=1s --retries=1 CMD "
                    "printf 'a\\033[2Kb\\r\\342\\200\\256c'; false\n", "exit 0\n",
                    toml="[environment]\nallow_internet = false\n")
    with pytest.raises(harbor.SetupError) as e:
        episode(store, path)
    message = str(e.value)
    assert "a\\x1b[2Kb" in message and "\\u202ec" in message, message
    assert not any(c in message for c in "\x1b\r\u202e"), repr(message)
