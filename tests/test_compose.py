"""Multi-container tasks (environment/docker-compose.yaml): the YAML subset and its refusals (compose.py),
and sidecar services started beside the main container on the host fallback (harbor.start_task)."""
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import compose  # noqa: E402
import sandbox  # noqa: E402
from harbor import (Outcome, SetupError, TamperedError, TaskError, load_task, outcome_of,  # noqa: E402
                    start_task)

# A sidecar `web` serves a file it copies into a shared volume, after a second: the main container, which
# waits for its healthcheck, reads the volume and fetches the file over the network by the service's
# name. The oracle writes what it fetched.
WEB_DOCKERFILE = """\
FROM host
COPY secret.txt /srv/secret.txt
CMD ["sh", "-c", "sleep 1 && cp /srv/secret.txt /shared/ && cd /shared && exec python3 -m http.server 80"]
"""
COMPOSE = """\
services:
  main:
    environment:
      WEB_URL: http://web   # a comment; port 80, below 1024, bound by the sidecar's root
    volumes:
      - shared:/shared:ro
    depends_on:
      web:
        condition: service_healthy
  web:
    build:
      context: ./web
    ports: ["8080:80"]
    volumes:
      - shared:/shared
    healthcheck:
      test: ["CMD", "python3", "-c", "import urllib.request as u; u.urlopen('http://localhost/')"]
      interval: 1s
      timeout: 1s
      retries: 10       # unhealthy after 10 × (1 s + 1 s): the episode's setup fails in 20 s at most
volumes:
  shared: {}
"""
SOLVE = ("python3 -c \"import os, urllib.request as u; "
         "print(u.urlopen(os.environ['WEB_URL'] + '/secret.txt').read().decode().strip())\" > answer.txt\n")
TEST_SH = ('if [ "$(cat /app/answer.txt)" = s3cret ]; then echo 1; else echo 0; fi '
           '> /logs/verifier/reward.txt\n')


def make_task(root: Path, files: dict[str, str | None] | None = None) -> Path:
    path = root / "t"
    defaults = {"task.toml": "[agent]\ntimeout_sec = 60\n", "instruction.md": "Fetch the secret.\n",
                "environment/Dockerfile": "FROM host\nWORKDIR /app\n",
                "environment/web/Dockerfile": WEB_DOCKERFILE,
                "environment/web/secret.txt": "s3cret\n", "environment/docker-compose.yaml": COMPOSE,
                "tests/test.sh": TEST_SH, "solution/solve.sh": SOLVE}
    for rel, text in {**defaults, **(files or {})}.items():
        if text is not None:
            (path / rel).parent.mkdir(parents=True, exist_ok=True)
            (path / rel).write_text(text)
    return path


# ---- episodes --------------------------------------------------------------------------------------------

def test_the_oracle_fetches_from_the_sidecar_and_scores_1(tmp_path):
    task = load_task(make_task(tmp_path))
    with start_task(task) as env:
        r = env.run("cat /shared/secret.txt; getent hosts web; echo $WEB_URL")
        assert r.output == "s3cret\n127.0.0.1       localhost sandbox main web\nhttp://web\n"
        assert env.solve().exit_code == 0
        assert env.verify() == (1.0, "")


def test_the_null_agent_scores_0_and_the_sidecars_end_with_the_episode(tmp_path):
    task = load_task(make_task(tmp_path))
    with start_task(task) as env:
        assert env.verify() == (0.0, "")
        sidecar = env.services.boxes[0]
        pids, volumes = sidecar.processes(), env.services.dir
        assert len(pids) >= 3                  # pid 1, its shell, the http server
    assert not any(sandbox.alive(p) for p in pids)        # pid 1, the shell and the server are gone
    assert not volumes.exists()


def test_a_sidecar_is_contained_like_the_main_container(tmp_path):
    task = load_task(make_task(tmp_path))
    status = "grep -E '^(Seccomp|CapEff|CapBnd|NoNewPrivs):' /proc/self/status"
    with start_task(task) as env:
        sidecar = env.services.boxes[0]
        r = sidecar.run(f"{status}; echo x > /shared/from-web; touch /etc/hosts")
        assert "Seccomp:\t2" in r.output and "NoNewPrivs:\t1" in r.output
        assert r.output.startswith(env.run(status).output)    # the same capabilities as the agent's shell
        assert "cannot touch '/etc/hosts'" in r.output         # the episode's hosts file is read-only
        assert sidecar.memory_bytes() is not None              # its own cgroup, with the task's limits
        assert sidecar.memory_bytes() != env.memory_bytes()
        assert env.run("cat /shared/from-web; touch /shared/y").output.startswith("x\ntouch: cannot touch")


def test_one_shot_services_run_to_their_end_in_depends_on_order(tmp_path):
    setup = """\
services:
  main:
    volumes: ["data:/data"]
    depends_on:
      late: {condition: service_completed_successfully}
  late:
    build: ./web
    command: sh -c 'cat /data/flag > /data/seen'
    volumes: ["data:/data"]
    depends_on:
      setup: {condition: service_completed_successfully}
  setup:
    build: ./web
    command: sh -c 'echo ready > /data/flag; echo $$GREETING > /data/greeting'
    environment: ["GREETING=hello world"]
    volumes: ["data:/data"]
volumes:
  data:
"""
    task = load_task(make_task(tmp_path, {"environment/docker-compose.yaml": setup}))
    with start_task(task) as env:
        assert env.run("cat /data/seen /data/greeting").output == "ready\nhello world\n"


def test_a_failing_one_shot_service_is_the_tasks_setup_failure(tmp_path):
    failing = """\
services:
  main:
    depends_on: {setup: {condition: service_completed_successfully}}
  setup:
    build: ./web
    command: ["sh", "-c", "echo no database; exit 3"]
"""
    failing = failing.replace("{setup: {condition: service_completed_successfully}}",
                              "\n      setup:\n        condition: service_completed_successfully")
    task = load_task(make_task(tmp_path, {"environment/docker-compose.yaml": failing}))
    with pytest.raises(SetupError) as e:
        start_task(task)
    assert outcome_of(e.value) is Outcome.SETUP_TASK
    assert "service 'setup'" in str(e.value) and "exit 3" in str(e.value) and "no database" in str(e.value)


# ---- the YAML subset -------------------------------------------------------------------------------------

def test_parse_yaml_reads_what_compose_files_use():
    text = """\
version: '3.8'   # ignored
services:
  a:
    command: [ "sleep", 'it''s', 3 ]
    environment:
      - K=V
    list:
    - x: 1
      y: "two: 2"
    -
      z
    empty: {}
    url: http://h:80/#x
"""
    assert compose.parse_yaml(text) == {"version": "3.8", "services": {"a": {
        "command": ["sleep", "it's", 3], "environment": ["K=V"], "list": [{"x": 1, "y": "two: 2"}, "z"],
        "empty": {}, "url": "http://h:80/#x"}}}


@pytest.mark.parametrize("text, error", [
    ("a: &x 1\n", "line 1: anchors, tags and block scalars are not supported"),
    ("a: |\n  x\n", "line 1: anchors, tags and block scalars"),
    ("a: 1\n   b: 2\n", "line 2: unexpected indentation"),
    ("a: 1\na: 2\n", "line 2: key 'a' given twice"),
    ("a: [[1]]\n", "line 1: only one-line, unnested flow collections"),
])
def test_parse_yaml_refuses_what_it_does_not_read(text, error):
    with pytest.raises(ValueError, match=error.replace("[", r"\[")):
        compose.parse_yaml(text)


# ---- what a task may not ask for: one load-time line naming it ---------------------------------------------

WEB = "services:\n  web:\n    build: ./web\n"


@pytest.mark.parametrize("text, error", [
    (WEB + "    cap_add: [NET_ADMIN]\n", "services.web.cap_add is not supported"),
    (WEB + "    volumes: ['/var/run/docker.sock:/var/run/docker.sock']\n",
     "host path '/var/run/docker.sock' is not supported"),
    (WEB + "    volumes: ['../../etc:/x']\n", "is not a path inside environment/"),
    ("services:\n  web:\n    build: ../..\n", "services.web.build.context: '../..' is not a path inside"),
    (WEB + "    volumes: ['data:/d']\n", "named volume 'data' is not declared"),
    ("services:\n  main:\n    command: python app.py\n",
     "services.main.command 'python app.py' is not supported"),
    ("services:\n  main:\n    user: app\n", "services.main.user is not supported"),
    ("services:\n  main:\n    volumes: ['v:/usr/local/bin']\nvolumes:\n  v:\n",
     "target '/usr/local/bin' is refused"),
    (WEB + "    depends_on: [db]\n", "services.web.depends_on: no service 'db'"),
    ("services:\n  main:\n    depends_on:\n      web: {condition: service_healthy}\n" + WEB[10:],
     "services.main.depends_on: 'web' has no healthcheck"),
    ("services:\n  a:\n    build: ./web\n    depends_on: [b]\n  b:\n    build: ./web\n    depends_on: [a]\n",
     "depends_on: a cycle"),
    ("services:\n  a:\n    build: ./web\n    ports: ['80:80']\n  b:\n    build: ./web\n    expose: [80]\n",
     "services a and b both listen on port 80"),
    (WEB + "    environment:\n      KEY: ${NOT_SET:?give it a key}\n",
     r"\$\{NOT_SET\} is not set: give it a key"),
    (WEB + "    healthcheck:\n      test: [CMD, 'true']\n      interval: soon\n",
     "healthcheck.interval must be a duration"),
    (WEB + "secrets:\n  s: {}\n", "top-level key 'secrets' is not supported"),
    ("volumes:\n  v:\n    driver: local\nservices:\n  web:\n    build: ./web\n", "with options"),
    (WEB + "    environment:\n" + "".join(f"      K{i}: {'x' * 100}\n" for i in range(700)),
     "services.web.environment: .* over 65536 from 'K6..' on .exec would refuse them: E2BIG."),
])
def test_unsupported_compose_files_fail_at_load_in_one_line(tmp_path, text, error):
    with pytest.raises(TaskError, match=f"^task 't': environment/docker-compose.yaml: .*{error}"):
        load_task(make_task(tmp_path, {"environment/docker-compose.yaml": text}))


def test_variables_come_from_the_tasks_environment_table(tmp_path):
    text = (WEB + "    environment:\n      A: ${NAME}\n      B: ${NONE:-dflt}\n      C: x${NONE}y\n"
            "      D: ${EMPTY:-e}${EMPTY-f}\n      E: $$HOME-${COMPOSE_PROJECT_NAME}\n")
    toml = '[agent]\ntimeout_sec = 60\n[environment.env]\nNAME = "n1"\nEMPTY = ""\n'
    task = load_task(make_task(tmp_path, {"environment/docker-compose.yaml": text, "task.toml": toml}))
    assert task.compose.services[0].env == {"A": "n1", "B": "dflt", "C": "xy", "D": "e", "E": "$HOME-t"}
    assert command_of(task.compose.services[0]).startswith("sh -c 'sleep 1 && cp /srv/secret.txt")  # its CMD


def test_a_file_that_only_adds_ignored_keys_to_main_runs_as_a_plain_task(tmp_path):
    text = "services:\n  main:\n    platform: linux/amd64\n    security_opt:\n      - label=disable\n"
    task = load_task(make_task(tmp_path, {"environment/docker-compose.yaml": text}))
    assert task.compose.services == [] and task.compose.main.env == {}
    with start_task(task) as env:
        assert env.run("echo ok").output == "ok\n"


def test_a_sandbox_joins_only_a_running_sandboxs_network():
    with sandbox.Sandbox() as first:
        pass
    with pytest.raises(sandbox.SandboxError, match="only as root, and only while it runs"):
        sandbox.Sandbox(network_of=first).__enter__()
    with pytest.raises(ValueError, match="has that one's network, not its own"):
        sandbox.Sandbox(network_of=first, network=True)


def test_hostnames_and_network_aliases_are_names_of_the_service_too(tmp_path):
    text = COMPOSE.replace("    ports: [", "    hostname: www\n    networks:\n      back:\n"
                           "        aliases: [web-${COMPOSE_PROJECT_NAME}]\n    ports: [")
    task = load_task(make_task(tmp_path, {"environment/docker-compose.yaml": text}))
    assert task.compose.services[0].aliases == ["web-t", "www"]
    with start_task(task) as env:
        assert env.run("getent hosts web-t www | wc -l").output == "2\n"


BASE = {"entrypoint": ["/base-e"], "cmd": ["base"]}     # a base image's config (a registry's image)


@pytest.mark.parametrize("dockerfile, service, base, command", [
    ('CMD ["serve", "-v"]', "", {}, "serve -v"),
    ('ENTRYPOINT ["/e.sh"]\nCMD ["serve"]', "", {}, "/e.sh serve"),
    ('ENTRYPOINT ["/e.sh"]\nCMD ["serve"]', "    command: run 'a b'\n", {}, "/e.sh run 'a b'"),
    ('ENTRYPOINT ["/e.sh"]\nCMD ["serve"]', "    entrypoint: [/other]\n", {}, "/other"),
    ("CMD serve $PORT", "", {}, "/bin/sh -c 'serve $PORT'"),
    ("ENV A=1", "", BASE, "/base-e base"),                       # the base image's config as it is
    ('CMD ["x"]', "", BASE, "/base-e x"),                         # the base's ENTRYPOINT, this CMD
    ('ENTRYPOINT ["/e"]', "", BASE, "/e"),                        # an ENTRYPOINT resets the base's CMD...
    ('CMD ["x"]\nENTRYPOINT ["/e"]', "", BASE, "/e x"),            # ... not this Dockerfile's
])
def test_a_sidecar_runs_as_docker_runs_it_entrypoint_then_command(tmp_path, dockerfile, service, base,
                                                                  command):
    files = {"environment/web/Dockerfile": f"FROM host\n{dockerfile}\n",
             "environment/docker-compose.yaml": WEB + service}
    assert command_of(load_task(make_task(tmp_path, files)).compose.services[0], base) == command


def command_of(svc: compose.Service, base: dict | None = None) -> str:
    """What harbor.Services starts for `svc` on a base image with config `base`: its Dockerfile's config
    replayed as the builder replays it."""
    import types
    import dockerfile as df
    from harbor import Services
    config = df.Config(**(base or {}))
    for step in df.stage(svc.dockerfile)[2]:
        config = df.replay(config, step)
    state = types.SimpleNamespace(config=config, image=types.SimpleNamespace(source="a base"))
    return Services.command(svc, state, f"service {svc.name!r}")


def test_env_files_are_read_and_environment_wins(tmp_path):
    files = {"environment/web/db.env": "# the database\nUSER=app\nexport PASS='p w'\nHOST=h\n",
             "environment/docker-compose.yaml": WEB + "    env_file: [web/db.env]\n"
                                                      "    environment: [HOST=db]\n"}
    assert load_task(make_task(tmp_path, files)).compose.services[0].env == {"USER": "app", "PASS": "p w",
                                                                            "HOST": "db"}
    files["environment/docker-compose.yaml"] = WEB + "    env_file: ../task.toml\n"
    with pytest.raises(TaskError, match="env_file: '../task.toml' is not a path inside environment/"):
        load_task(make_task(tmp_path, files))


def test_bind_volumes_are_fresh_copies_and_never_the_tasks_own_files(tmp_path):
    binds = "      - ./web:/webdir\n      - ./web/secret.txt:/one/secret.txt:ro\n"
    text = COMPOSE.replace("      - shared:/shared:ro\n", "      - shared:/shared:ro\n" + binds)
    path = make_task(tmp_path, {"environment/docker-compose.yaml": text})
    task = load_task(path)
    for _ in range(2):                         # the second episode sees the task's files, not the first's
        with start_task(task) as env:
            r = env.run("ls /webdir; echo x > /webdir/new; echo y >> /webdir/secret.txt; "
                        "cat /one/secret.txt; echo z > /one/secret.txt")
            assert r.output.startswith("Dockerfile\nsecret.txt\ns3cret\n")
            assert "Read-only file system" in r.output
    assert sorted(p.name for p in (path / "environment/web").iterdir()) == ["Dockerfile", "secret.txt"]
    assert (path / "environment/web/secret.txt").read_text() == "s3cret\n"


# ---- volumes are ground the verifier stands on -----------------------------------------------------------

VOLUME_AT = """\
services:
  main:
    volumes: ["{source}:{target}"]
volumes:
  data:
"""


@pytest.mark.parametrize("source, target, command, offender", [
    # a module the verifier's `python -m pytest` imports from the workdir, which is a named volume
    ("data", "/app", "echo 'raise SystemExit(0)' > /app/iniconfig.py", "/app/iniconfig.py"),
    # a repository hook in the verifier's HOME, a named volume: `git status` in test.sh would run it
    ("data", "/root", "printf '[core]\\n\\tfsmonitor = touch /tmp/x\\n' > /root/.gitconfig",
     "/root/.gitconfig"),
    # an interpreter start-up hook in a bind volume (a fresh copy of the task's ./web)
    ("./web", "/opt/site", "echo 'import os' > /opt/site/evil.pth", "/opt/site/evil.pth"),
])
def test_what_the_agent_writes_in_a_volume_is_judged_like_the_writable_layer(tmp_path, source, target,
                                                                           command, offender):
    # Before: tamper.py listed only the overlay's upper directory, and each of these scored as clean.
    files = {"environment/docker-compose.yaml": VOLUME_AT.format(source=source, target=target),
             "environment/Dockerfile": "FROM host\nWORKDIR /app\n"}
    task = load_task(make_task(tmp_path, files))
    with start_task(task) as env:
        assert env.run(command).exit_code == 0
        with pytest.raises(TamperedError) as e:
            env.verify()
    assert outcome_of(e.value) is Outcome.TAMPERED and offender in str(e.value)


def test_what_a_bind_volume_held_at_start_is_the_tasks_and_the_oracle_is_not_tampered(tmp_path):
    files = {"environment/docker-compose.yaml": VOLUME_AT.format(source="./web", target="/app"),
             "environment/web/conftest.py": "",            # the task's own test configuration, at the workdir
             "environment/Dockerfile": "FROM host\nWORKDIR /app\n",
             "tests/test.sh": 'if [ "$(cat /app/answer.txt)" = x ]; then echo 1; else echo 0; fi '
                              '> /logs/verifier/reward.txt\n'}
    task = load_task(make_task(tmp_path, files))
    with start_task(task) as env:
        env.run("echo x > /app/answer.txt; mkdir -p /app/src; echo 'print(1)' > /app/src/main.py")
        assert env.verify() == (1.0, "")


# ---- one clock for the episode's setup -------------------------------------------------------------------

STALL_TOML = "[agent]\ntimeout_sec = 60\n[environment]\nbuild_timeout_sec = 3\n"
SIDE = "  side:\n    build: ./web\n"


STALLS = [
    # a sidecar's healthcheck within its caps that never passes: 1000 × (1 s + 1 s) by itself
    {"environment/docker-compose.yaml": "services:\n  main:\n    depends_on:\n      side:\n"
     "        condition: service_healthy\n" + SIDE + "    command: sleep infinity\n    healthcheck:\n"
     "      test: ['CMD-SHELL', 'false']\n      interval: 1s\n      timeout: 1s\n      retries: 1000\n"},
    # two one-shot services, each within the clock alone (each command once had all of build_timeout_sec)
    {"environment/docker-compose.yaml": "services:\n  main:\n    depends_on:\n      side:\n"
     "        condition: service_completed_successfully\n      more:\n"
     "        condition: service_completed_successfully\n" + SIDE + "    command: sleep 2\n"
     "  more:\n    build: ./web\n    command: sleep 2\n"},
    # the main container's healthcheck at its caps: up to 3600 s a try, 1000 tries
    {"environment/docker-compose.yaml": None,
     "task.toml": STALL_TOML + "[environment.healthcheck]\ncommand = 'sleep 3600'\ninterval_sec = 3600\n"
                               "timeout_sec = 3600\nstart_period_sec = 3600\nretries = 1000\n"},
    # a seeded step that would fit the clock alone, after a sidecar that took most of it
    {"environment/docker-compose.yaml": "services:\n  side:\n    build: ./web\n    command: sleep infinity\n"
     "    healthcheck:\n      test: ['CMD-SHELL', 'sleep 2']\n      timeout: 5s\n",
     "environment/Dockerfile": "FROM host\nWORKDIR /app\nRUN sleep 2\n"},
]


@pytest.fixture(scope="module")
def stalled_starts(tmp_path_factory, image_cache):
    """[(seconds, what start_task raised)] of each of STALLS, all started at once: each mostly waits out
    its 3 s clock (4 one after another waited 13 s). In the session's image cache, as a test's own (module
    scope: conftest's autouse fixture patches it per test only)."""
    import harbor
    import images
    saved, images.CACHE = images.CACHE, image_cache
    def start(files):
        task = load_task(make_task(tmp_path_factory.mktemp("stall"), {"task.toml": STALL_TOML, **files}))
        t0 = time.monotonic()
        try:
            start_task(task).close()
            return time.monotonic() - t0, None
        except Exception as e:  # noqa: BLE001 - the error is what the test checks
            return time.monotonic() - t0, e
    try:
        with ThreadPoolExecutor(len(STALLS)) as pool:
            return list(pool.map(start, STALLS))
    finally:
        images.CACHE = saved
        harbor.forget_builds()


@pytest.mark.parametrize("case", range(len(STALLS)), ids=[f"files{i}" for i in range(len(STALLS))])
def test_an_episodes_setup_has_one_clock_build_timeout_sec(stalled_starts, case):
    # Before: each wait had its own bound (a sidecar's patience, build_timeout_sec per command, the main
    # healthcheck's retries), so these stalled a start for minutes to days.
    seconds, e = stalled_starts[case]
    assert isinstance(e, SetupError), e
    assert seconds < 3 + 5                               # the clock, and a try's cut-off past it
    assert outcome_of(e) is Outcome.SETUP_TASK
    assert "build_timeout_sec" in str(e) or "RUN 'sleep 2' timed out after 1 s" in str(e)
    assert "\n" not in str(e)


def test_a_sidecar_healthcheck_past_its_caps_fails_at_load(tmp_path):
    text = WEB + "    healthcheck:\n      test: ['CMD-SHELL', 'false']\n      retries: 2000000000\n"
    with pytest.raises(TaskError, match="retries must be a whole number from 1 to 1000, got 2000000000"):
        load_task(make_task(tmp_path, {"environment/docker-compose.yaml": text}))
    text = WEB + "    healthcheck:\n      test: ['CMD-SHELL', 'false']\n      interval: 2h\n"
    with pytest.raises(TaskError, match="healthcheck.interval must be at most 3600s"):
        load_task(make_task(tmp_path, {"environment/docker-compose.yaml": text}))


def test_volumes_are_capped_at_the_tasks_storage_and_unmounted_at_close(tmp_path):
    # Before: volumes were directories on the host's disk, uncapped (rt2 p07: 3 GiB past the layer's cap).
    files = {"environment/docker-compose.yaml": VOLUME_AT.format(source="data", target="/data"),
             "task.toml": "[agent]\ntimeout_sec = 60\n[environment]\nstorage_mb = 16\n"}
    task = load_task(make_task(tmp_path, files))
    with start_task(task) as env:
        r = env.run("head -c 32M /dev/zero > /data/big; echo rc=$?; du -m /data/big | cut -f1", timeout=60)
        assert "No space left on device" in r.output and "rc=1" in r.output
        assert int(r.output.split()[-1]) <= 16
        volumes = env.services.volumes
        assert str(volumes) in Path("/proc/self/mountinfo").read_text()
    assert str(volumes) not in Path("/proc/self/mountinfo").read_text() and not volumes.exists()


def test_a_volume_read_only_in_main_but_writable_in_a_sidecar_is_judged_too(tmp_path):
    # The agent reaches every sidecar: what one writes in a volume main sees read-only is the agent's.
    text = ("services:\n  main:\n    volumes: ['data:/app:ro']\n  side:\n    build: ./web\n"
            "    command: sleep infinity\n    volumes: ['data:/data']\nvolumes:\n  data:\n")
    task = load_task(make_task(tmp_path, {"environment/docker-compose.yaml": text}))
    with start_task(task) as env:
        side = env.services.boxes[0]
        assert side.exec("echo 'raise SystemExit(0)' > /data/iniconfig.py", 10).exit_code == 0
        assert env.run("ls /app").output == "iniconfig.py\n"
        with pytest.raises(TamperedError, match="/app/iniconfig.py"):
            env.verify()


def test_the_agents_processes_kept_into_verification_cannot_write_the_main_containers_volumes(tmp_path):
    # Before: the seal made the root read-only to them, not the volumes: this one wrote /app after the check.
    import harbor
    test_sh = ("sleep 2; touch /app/by-the-verifier || exit 1\n"
               "if [ -e /app/forged ]; then echo 1; else echo 0; fi > /logs/verifier/reward.txt\n")
    files = {"environment/docker-compose.yaml": VOLUME_AT.format(source="data", target="/app"),
             "tests/test.sh": test_sh}
    task = load_task(make_task(tmp_path, files))
    with start_task(task, limits=harbor.Limits(keep_agent_processes=True)) as env:
        env.run("nohup sh -c 'sleep 1; echo x > /app/forged' >/dev/null 2>&1 &")
        assert env.verify() == (0.0, "")
        assert env.run("ls /app").output == "by-the-verifier\n"


def test_a_one_file_volume_is_the_tasks_until_the_agent_changes_it(tmp_path):
    # the task's git configuration (a file bound at the verifier's ~/.gitconfig), then the agent's hook in it
    compose_yaml = "services:\n  main:\n    volumes: ['./web/git:/root/.gitconfig']\n"
    files = {"environment/docker-compose.yaml": compose_yaml,
             "environment/web/git": "[user]\n\tname = task\n",
             "tests/test.sh": "echo 1 > /logs/verifier/reward.txt\n"}
    task = load_task(make_task(tmp_path, files))
    with start_task(task) as env:
        assert env.verify() == (1.0, "")
    with start_task(task) as env:
        env.run("printf '[core]\\n\\tfsmonitor = touch /tmp/x\\n' >> /root/.gitconfig")
        with pytest.raises(TamperedError, match="/root/.gitconfig"):
            env.verify()


@pytest.mark.parametrize("entrypoint, command, image_entrypoint, image_cmd, want", [
    (None, None, ["/e.sh"], ["serve"], ["/e.sh", "serve"]),      # the image's config as it is
    (None, ["run"], ["/e.sh"], ["serve"], ["/e.sh", "run"]),      # compose's command replaces CMD only
    (["/other"], None, ["/e.sh"], ["serve"], ["/other"]),        # an entrypoint drops the image's CMD
    (None, None, None, None, []),                                 # a stand-in: nothing to run
])
def test_argv_is_dockers_rule_for_entrypoint_and_command(entrypoint, command, image_entrypoint, image_cmd,
                                                         want):
    assert compose.argv(entrypoint, command, image_entrypoint, image_cmd) == want


def test_an_image_sidecar_without_a_command_loads_and_keeps_composes_words_for_its_start(tmp_path):
    text = "services:\n  web:\n    image: redis:7\n  db:\n    image: pg\n    command: [serve, -v]\n"
    web, db = load_task(make_task(tmp_path, {"environment/docker-compose.yaml": text})).compose.services
    assert (web.entrypoint, web.args) == (None, None)
    assert (db.entrypoint, db.args) == (None, ["serve", "-v"])


# An image: sidecar pulled from the loopback fake registry (test_registry.FakeRegistry) serving the tiny
# image with a config: its ENTRYPOINT writes its arguments where the main container reads them.
IMAGE_COMPOSE = """\
services:
  main:
    volumes: ['shared:/shared:ro']
    depends_on:
      web: {condition: service_healthy}
  web:
    image: 127.0.0.1:PORT/test/img:2.0
    volumes: ['shared:/shared']
    healthcheck:
      test: [CMD, test, -s, /shared/args]
      interval: 1s
      retries: 10
volumes:
  shared: {}
"""


@pytest.fixture(scope="module")
def tiny_registry(tmp_path_factory):
    import io
    import json
    import os
    import shutil
    import tarfile
    import registry
    from test_images import tiny_rootfs
    from test_registry import FakeRegistry
    if os.getuid() != 0 or not shutil.which("ldd"):
        pytest.skip("REAL EPISODES NOT TESTED: needs root and ldd (the tiny image is the host's bash)")
    root = tiny_rootfs(tmp_path_factory.mktemp("img") / "rootfs", extra=("sleep",))
    (root / "srv").mkdir()                     # where a main container from it writes (test_harbor_lifecycle)
    (root / "e.sh").write_text('#!/bin/sh\nfor d in /shared /srv; do [ -d $d ] && echo "$@" > $d/args; done\n'
                               'exec sleep 1000\n')
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(root, arcname=".")
    config = {"architecture": "amd64", "os": "linux",
              "config": {"Entrypoint": ["/bin/sh", "/e.sh"], "Cmd": ["from", "cmd"]}}
    reg = FakeRegistry()
    m = reg.manifest(json.dumps(config).encode(), [("application/vnd.oci.image.layer.v1.tar+gzip",
                                                    buf.getvalue())])
    reg.manifests["2.0"] = (registry.OCI_MANIFEST, m)
    yield reg
    reg.server.shutdown()
    reg.server.server_close()


@pytest.mark.parametrize("extra, args", [
    ("", "from cmd\n"),                                          # the image's ENTRYPOINT, then its CMD
    ("    command: [run, it]\n", "run it\n"),                     # its ENTRYPOINT kept, CMD replaced
])
def test_an_image_sidecar_runs_its_images_entrypoint_and_cmd_as_docker_does(tmp_path, tiny_registry, extra,
                                                                          args):
    text = IMAGE_COMPOSE.replace("PORT", str(tiny_registry.port)).replace("    volumes: ['shared:/shared']\n",
                                                                          "    volumes: ['shared:/shared']\n"
                                                                          + extra)
    task = load_task(make_task(tmp_path, {"environment/docker-compose.yaml": text}))
    with start_task(task, registry_nets=("127.0.0.1/32",), log=lambda m: None) as env:
        assert env.run("cat /shared/args").output == args


def test_an_image_sidecar_with_no_command_anywhere_fails_the_setup_in_one_line(tmp_path):
    text = "services:\n  web:\n    image: host\n"              # the host fallback: no image config
    task = load_task(make_task(tmp_path, {"environment/docker-compose.yaml": text}))
    with pytest.raises(SetupError, match=r"service 'web': no command to run: neither compose nor its image "
                       r"\(FROM host, .*\) gives an ENTRYPOINT or CMD: give the service a command") as e:
        start_task(task)
    assert outcome_of(e.value) == Outcome.SETUP_TASK and "\n" not in str(e.value)


def test_a_sidecars_image_healthcheck_is_awaited_as_docker_compose_up_wait_does(tmp_path):
    web = ('FROM host\nHEALTHCHECK --interval=200ms --retries=30 CMD test -s /shared/ready\n'
           'CMD ["sh", "-c", "sleep 1 && echo ok > /shared/ready && exec sleep 1000"]\n')
    text = ("services:\n  main:\n    volumes: ['shared:/shared:ro']\n    depends_on:\n"
            "      web: {condition: service_healthy}\n  web:\n    build: ./web\n"
            "    volumes: ['shared:/shared']\nvolumes:\n  shared: {}\n")     # service_healthy: by its image's
    task = load_task(make_task(tmp_path, {"environment/web/Dockerfile": web,
                                          "environment/docker-compose.yaml": text}))
    with start_task(task) as env:
        assert env.run("cat /shared/ready").output == "ok\n"
    bad = web.replace("--retries=30", "--timeout=1s --retries=1").replace("echo ok", "false")
    task = load_task(make_task(tmp_path / "bad", {"environment/web/Dockerfile": bad,
                                                  "environment/docker-compose.yaml": text}))
    with pytest.raises(SetupError, match=r"service 'web': the image's HEALTHCHECK is unhealthy after 1.2 s") \
            as e:
        start_task(task)
    assert outcome_of(e.value) == Outcome.SETUP_TASK


def test_service_healthy_needs_a_healthcheck_from_compose_or_the_image_at_load_or_at_start(tmp_path,
                                                                                         tiny_registry):
    waits = "services:\n  main:\n    depends_on:\n      web: {condition: service_healthy}\n  web:\n"
    none = {"environment/web/Dockerfile": "FROM host\nHEALTHCHECK NONE\nCMD sleep 1000\n",
            "environment/docker-compose.yaml": waits + "    build: ./web\n"}
    with pytest.raises(TaskError, match="services.main.depends_on: 'web' has no healthcheck to be"):
        load_task(make_task(tmp_path / "none", none))
    ref = f"127.0.0.1:{tiny_registry.port}/test/img:2.0"                # its config has no Healthcheck
    image = {"environment/docker-compose.yaml": waits + f"    image: {ref}\n"}
    task = load_task(make_task(tmp_path / "image", image))     # its config is known once pulled
    with pytest.raises(SetupError, match="service 'web': a service waits for it to be healthy .* neither "
                       "compose nor its image gives it a healthcheck") as e:
        start_task(task, registry_nets=("127.0.0.1/32",), log=lambda m: None)
    assert outcome_of(e.value) == Outcome.SETUP_TASK
