"""Images (images.py): bases from an image store, a registry and debootstrap, and Dockerfile builds cached as
overlay layers, end to end on a real Debian base. The base needs root, debootstrap and the Debian mirror;
without them these tests say so loudly and skip, and only they do."""
import dataclasses
import io
import os
import shutil
import subprocess
import tarfile
import tempfile
import threading
import time
from pathlib import Path

import pytest

import dockerfile
import harbor
import images
import sandbox
from test_registry import FakeRegistry

@pytest.fixture(scope="module")
def base(debian_base, image_cache):
    images.CACHE = image_cache                 # module scope: the autouse fixture only patches per test
    return debian_base                         # conftest.py: made once for the session


def task_dir(root: Path, dockerfile: str, test_sh: str, solve: str = "", toml: str = "", files=None) -> Path:
    path = root / "t"
    for rel, text in {"task.toml": toml or "[verifier]\ntimeout_sec = 120\n", "instruction.md": "Do it.\n",
                      "environment/Dockerfile": dockerfile, "tests/test.sh": test_sh,
                      **({"solution/solve.sh": solve} if solve else {}), **(files or {})}.items():
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_text(text)
    return path


# The TermiGen recipe: apt installs pip, pip installs pytest, the verifier runs pytest.
DOCKERFILE = """\
FROM ubuntu:24.04
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update && apt-get install -y --no-install-recommends python3-pip && rm -rf /var/lib/apt/lists/*
RUN pip3 install --no-cache-dir --break-system-packages pytest==8.4.1
RUN useradd -m alice && mkdir -p /home/user && chown alice:alice /home/user
WORKDIR /home/user
COPY data.txt ./data.txt
ARG TASK_SEED
RUN echo "seed $TASK_SEED" > seed.txt
"""
TEST_PY = "def test_answer():\n    assert open('/home/user/answer.txt').read() == 'hello world\\n'\n"
TEST_SH = ("cd /tests && pytest -q test_outputs.py && echo 1 > /logs/verifier/reward.txt "
           "|| echo 0 > /logs/verifier/reward.txt\n")


@pytest.fixture(scope="module")
def real_task(base, tmp_path_factory):
    path = task_dir(tmp_path_factory.mktemp("real"), DOCKERFILE, TEST_SH, solve="cat data.txt > answer.txt\n",
                    files={"environment/data.txt": "hello world\n", "tests/test_outputs.py": TEST_PY})
    task = harbor.load_task(path)
    log = []
    t0 = time.monotonic()
    state = harbor.build_task(task, log=log.append)
    return task, log, time.monotonic() - t0, state


def test_a_dockerfile_with_apt_and_pip_builds_on_the_debian_base(real_task):
    task, log, seconds, state = real_task
    built = [m.split(":")[0] for m in log if m.startswith("building")]
    # one layer per RUN/COPY before ARG TASK_SEED over the base; other test files may have built the TermiGen
    # prefix (lines 3-4) into the session's cache first, so what this build ran is a suffix of the steps
    every = ["building line 3", "building line 4", "building line 5", "building line 7"]
    assert len(state.layers) == 4 + 1 and built == every[len(every) - len(built):]     # + the base
    print(f"\nbuilt in {seconds:.0f} s")


def test_oracle_passes_and_null_fails_with_pytest_really_run(real_task):
    task, *_ = real_task
    # with --kill-agent-processes; the verifier's /tests are its own in both lifecycles (its own root after
    # the kill too, rt12a p09), so the test copies them in to show pytest really runs them and one fails
    with harbor.start_task(task, seed=3, limits=harbor.Limits(keep_agent_processes=False)) as sb:
        assert sb.run("pwd; cat seed.txt; stat -c %U /home/user").output == "/home/user\nseed 3\nalice\n"
        assert harbor.verify(sb, task, 3) == (0.0, "")
        assert sb.run("ls /tests").exit_code != 0                   # not left in the agent's view
        sb.copy_in(task.path / "tests", "/tmp/t")
        assert "1 failed" in sb.run("cd /tmp/t && pytest -q test_outputs.py | tail -1").output
    with harbor.start_task(task, seed=3) as sb:
        assert harbor.run_solution(sb, task).exit_code == 0
        assert harbor.verify(sb, task, 3) == (1.0, "")


def test_the_cached_build_is_reused_and_episodes_do_not_leak_into_each_other(real_task):
    task, *_ = real_task
    harbor.forget_builds()
    log = []
    harbor.build_task(task, log=log.append)
    assert not [m for m in log if m.startswith("building")]
    with harbor.start_task(task) as sb:
        sb.run("echo planted > /usr/local/bin/mark; rm -rf /usr/lib/python3")
    with harbor.start_task(task) as sb:
        assert sb.run("ls /usr/local/bin/mark; python3 -c 'import json'").output.startswith("ls: cannot")


def test_episodes_have_the_network_their_task_sets(real_task):
    task, *_ = real_task                     # it sets nothing: Harbor's default, on (pasta's interface)
    with harbor.start_task(task) as sb:
        assert len(sb.run("ls /sys/class/net").output.split()) == (2 if sandbox.network_available() else 1)
    with harbor.start_task(dataclasses.replace(task, agent_network=False)) as sb:
        assert sb.run("ls /sys/class/net").output.split() == ["lo"]


def test_a_failed_step_is_one_line_with_task_step_and_last_output(base, tmp_path):
    path = task_dir(tmp_path, "FROM ubuntu:24.04\nRUN apt-get install -y no-such-package-xyz\n", "true\n")
    with pytest.raises(harbor.SetupError) as e:
        harbor.start_task(harbor.load_task(path))
    assert str(e.value).startswith("task 't': line 2: RUN 'apt-get install -y no-such-package-xyz' failed (exit 100)")
    assert "no-such-package-xyz" in str(e.value).split("):", 1)[1] and "\n" not in str(e.value)


def test_build_timeout_is_honoured(base, tmp_path):
    toml = "[environment]\nbuild_timeout_sec = 2\n"
    path = task_dir(tmp_path, "FROM ubuntu:24.04\nRUN sleep 30\n", "true\n", toml=toml)
    t0 = time.monotonic()
    with pytest.raises(harbor.SetupError, match="line 2: RUN 'sleep 30' timed out after 2 s"):
        harbor.start_task(harbor.load_task(path))
    assert time.monotonic() - t0 < 15


# A compose task on the real base: the sidecar's image is built into layers (COPY), its server is perl's
# (the base has no python), and both its volume and /etc/hosts are bound into an overlay root.
SIDECAR = """\
services:
  main:
    volumes: ["shared:/shared:ro"]
    depends_on:
      web: {condition: service_healthy}
  web:
    build: ./web
    volumes: ["shared:/shared"]
    command: ["perl", "/srv/server.pl"]
    healthcheck:
      test: [CMD, perl, -MIO::Socket::INET, -e, 'IO::Socket::INET->new("127.0.0.1:80") or exit 1']
      interval: 1s
      retries: 30
volumes:
  shared: {}
"""
SERVER_PL = """\
use IO::Socket::INET;
open(my $f, ">", "/shared/hello") or die; print $f "from the volume\\n"; close $f;
my $s = IO::Socket::INET->new(LocalPort => 80, Listen => 5, ReuseAddr => 1) or die "listen: $!";
while (my $c = $s->accept) {
    <$c>; open(my $g, "<", "/srv/secret.txt"); print $c "HTTP/1.0 200 OK\\r\\n\\r\\n", <$g>; close $c;
}
"""


def test_a_sidecar_on_the_debian_base_serves_the_main_container(base, tmp_path):
    fetch = "python3 -c \"import urllib.request as u; print(u.urlopen('http://web/').read().decode())\""
    test_sh = "grep -qx s3cret answer.txt && r=1 || r=0; echo $r > /logs/verifier/reward.txt\n"
    path = task_dir(tmp_path, "FROM host\nWORKDIR /app\n", test_sh, solve=f"{fetch} > answer.txt\n",
                    files={"environment/docker-compose.yaml": SIDECAR,
                           "environment/web/secret.txt": "s3cret\n",
                           "environment/web/server.pl": SERVER_PL,
                           "environment/web/Dockerfile": "FROM debian:bookworm\nCOPY . /srv/\n"})
    task = harbor.load_task(path)
    with harbor.start_task(task) as env:
        assert env.run("cat /shared/hello; getent hosts web").output == (
            "from the volume\n127.0.0.1       localhost sandbox main web\n")
        assert env.services.boxes[0].run("cat /etc/debian_version; id -u").output.endswith("\n0\n")
        assert env.verify() == (0.0, "")                   # the null agent
    with harbor.start_task(task) as env:                   # (after a verify the root is sealed to the agent)
        env.solve()
        assert env.verify() == (1.0, "")                   # the oracle


def test_concurrent_builds_of_one_key_build_it_once(base, tmp_path):
    steps = [harbor.Step("RUN", f"echo once-{tmp_path.name} >> /built; sleep 1", 2)]
    state = images.start_state(images.resolve("ubuntu:24.04"))
    results, logs = [], [[], []]
    threads = [threading.Thread(target=lambda i=i: results.append(images.build(
        steps, images.State(**vars(state)), tmp_path, 60, log=logs[i].append)))
        for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 2 and results[0].layers == results[1].layers
    assert sum(len(l) for l in logs) == 1
    assert (results[0].layers[0] / "built").read_text() == f"once-{tmp_path.name}\n"


def test_a_tarball_in_the_image_store_is_imported_with_mapped_owners(image_cache, tmp_path):
    store = tmp_path / "store"
    store.mkdir()
    with tarfile.open(store / "myimg_1.0.tar", "w") as tar:
        for name, uid in (("etc/hello", 0), ("home/bob/file", 1000)):
            info = tarfile.TarInfo(name)
            info.uid = info.gid = uid
            info.size = 3
            tar.addfile(info, io.BytesIO(b"hi\n"))
    image = images.resolve("myimg:1.0", store=store, log=lambda m: None)
    ids = sandbox.id_map().lines
    assert (image.rootfs / "home/bob/file").stat().st_uid == ids[-1][1] + 1000 - ids[-1][0]
    assert (image.rootfs / "etc/hello").read_text() == "hi\n" and "image store" in image.source


def test_an_image_is_pulled_from_a_reachable_registry(image_cache):
    reg = FakeRegistry()
    try:
        image = images.resolve(f"127.0.0.1:{reg.port}/test/img:1.0", log=lambda m: None,
                               registry_nets=("127.0.0.1/32",))
    finally:
        reg.server.shutdown()
        reg.server.server_close()
    assert image.source.startswith("registry ") and image.env["ARCH"] == "amd64" and image.workdir == "/opt"
    assert (image.user, image.entrypoint, image.cmd) == ("root", None, ["bash"])    # what FROM it inherits
    assert (image.rootfs / "opt/d/c").exists() and not (image.rootfs / "usr/bin/tool").exists()


def test_a_pulled_images_healthcheck_is_kept_for_a_dockerfile_from_it(image_cache):
    # docker compose up --wait (Harbor's start) awaits a base image's HEALTHCHECK too: the registry's config
    # carries it (nanoseconds; 0 for Docker's default), and a build FROM it inherits it.
    import json
    import registry
    from test_registry import LAYER1
    reg = FakeRegistry()
    config = {"architecture": "amd64", "os": "linux", "config": {"Healthcheck": {
        "Test": ["CMD-SHELL", "test -s /t"], "Interval": 2 * 10**9, "Timeout": 0, "Retries": 4}}}
    m = reg.manifest(json.dumps(config).encode(), [("application/vnd.oci.image.layer.v1.tar+gzip", LAYER1)])
    reg.manifests["hc"] = (registry.OCI_MANIFEST, m)
    try:
        image = images.resolve(f"127.0.0.1:{reg.port}/test/img:hc", log=lambda m: None,
                               registry_nets=("127.0.0.1/32",))
    finally:
        reg.server.shutdown()
        reg.server.server_close()
    want = dockerfile.Health(["/bin/sh", "-c", "test -s /t"], interval=2.0, retries=4)
    assert image.healthcheck == want and images.start_state(image).config.healthcheck == want
    cached = images.resolve(f"127.0.0.1:{reg.port}/test/img:hc", log=lambda m: None)   # from image.json
    assert cached.healthcheck == want
    assert dockerfile.config_health({"Test": ["NONE"]}) is None and dockerfile.config_health(None) is None


def tiny_rootfs(root: Path, extra: tuple[str, ...] = ()) -> Path:
    """The cheapest real base: the host's bash and a few tools (and `extra` ones) with the libraries ldd
    names (~10 MB), as a root filesystem directory in an image store."""
    files = set()
    for tool in ("bash", "sh", "env", "mkdir", "cat", "cp", "rm", "dirname", *extra):
        path = shutil.which(tool)
        out = subprocess.run(["ldd", path], capture_output=True, text=True).stdout
        files |= {path, os.path.realpath(path), *(w for w in out.split() if w.startswith("/"))}
    for f in files | {os.path.realpath(f) for f in files}:
        (root / f.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(f, root / f.lstrip("/"))          # links followed: the loader is a file here
    for d in ("bin", "usr/bin"):                       # the shell is /bin/bash, wherever the host has it
        (root / d).mkdir(parents=True, exist_ok=True)
        for tool in ("bash", "sh"):
            if not (root / d / tool).exists():
                shutil.copy2(shutil.which(tool), root / d / tool)
    return root


@pytest.mark.skipif(not shutil.which("ldd"), reason="needs ldd to copy the host's bash into a base")
def test_workdir_home_is_the_same_directory_for_the_build_the_agent_and_the_verifier(image_cache, tmp_path):
    # Docker expands $HOME at build time from ENV alone (unset here): the build, the agent and the verifier
    # all work in /w, not /root/w
    store = tmp_path / "store"
    tiny_rootfs(store / "tiny")
    test_sh = ('[ "$(pwd)" = /w ] && [ "$(cat /built_in)" = /w ] && echo 1 > /logs/verifier/reward.txt '
               '|| echo 0 > /logs/verifier/reward.txt\n')
    task = harbor.load_task(task_dir(tmp_path, "FROM tiny\nWORKDIR $HOME/w\nRUN pwd > /built_in\n", test_sh))
    assert task.workdir == "/w"
    log, cache = [], Path(tempfile.mkdtemp(prefix="echo-test-own-cache-"))
    try:
        with harbor.start_task(task, store=store, log=log.append, cache=cache) as env:
            assert [m for m in log if m.startswith("building line 3")]    # the real builder ran the RUN
            assert env.run("pwd; cat /built_in").output == "/w\n/w\n"
            assert env.verify() == (1.0, "")
        # the cache start_task was given holds the base and the layer; the default one got nothing
        names = [d.name for d in (cache / "images").iterdir() if d.name.startswith("tiny_latest")]
        assert len(names) == 1 and len(list((cache / "layers").iterdir())) == 1
        assert not (image_cache / "images" / names[0]).exists()
    finally:
        sandbox.rmtree(cache)


def test_two_stores_images_of_one_name_never_share_a_cache_entry(image_cache, tmp_path):
    # the cache is keyed by the store file's identity, not the reference alone: store B's `tiny` is not
    # served store A's
    roots = {}
    for which in ("a", "b"):
        root = tmp_path / which / "tiny"
        (root / "etc").mkdir(parents=True)
        (root / "etc/which").write_text(which)
        roots[which] = images.resolve("tiny", store=tmp_path / which, log=lambda m: None, cache=image_cache)
    assert [(roots[w].rootfs / "etc/which").read_text() for w in "ab"] == ["a", "b"]
    again = images.resolve("tiny", store=tmp_path / "a", log=lambda m: None, cache=image_cache)
    assert again.rootfs == roots["a"].rootfs                  # and each is imported once


@pytest.mark.skipif(not shutil.which("ldd"), reason="needs ldd to copy the host's bash into a base")
def test_copy_chown_and_chmod_are_applied_as_docker_applies_them(image_cache, tmp_path):
    # a task whose agent runs as `cand` must own what COPY --chown=cand gave it (a real task's oracle could
    # not write its own workspace while --chown was dropped)
    store = tmp_path / "store"
    root = tiny_rootfs(store / "tiny", extra=("chown", "chmod", "find", "stat"))
    (root / "etc").mkdir(exist_ok=True)
    (root / "etc/passwd").write_text("root:x:0:0::/root:/bin/sh\ncand:x:1000:1001::/home/cand:/bin/sh\n")
    (root / "etc/group").write_text("root:x:0:\ncand:x:1001:\n")
    dockerfile = ("FROM tiny\nCOPY --chown=cand:cand data/ /work/\n"
                  "COPY --chmod=640 --chown=1234 f.txt /one/f.txt\nCOPY --chown=cand f.txt /two/\n"
                  "RUN stat -c '%n %u:%g %a' /work /work/a /work/sub /work/sub/b /one/f.txt /two/f.txt"
                  " > /stats\n")
    files = {"environment/data/a": "a", "environment/data/sub/b": "b", "environment/f.txt": "f"}
    task = harbor.load_task(task_dir(tmp_path, dockerfile, "echo 1 > /logs/verifier/reward.txt\n", files=files))
    with harbor.start_task(task, store=store, log=lambda m: None) as env:
        stats = dict(line.split(" ", 1) for line in env.run("cat /stats").output.splitlines())
    assert {k: v.split()[0] for k, v in stats.items()} == {
        "/work": "1000:1001", "/work/a": "1000:1001", "/work/sub": "1000:1001", "/work/sub/b": "1000:1001",
        "/one/f.txt": "1234:1234",                     # a uid without a group: the uid is the gid (Docker's)
        "/two/f.txt": "1000:1000"}                     # a name without a group: its uid as the gid, too
    assert stats["/one/f.txt"].split()[1] == "640"


PIN = "sha256:" + "ab" * 32


@pytest.mark.parametrize("ref, name", [
    ("python:3.13-slim", "python:3.13-slim"),
    ("docker.io/library/python:3.13-slim", "python:3.13-slim"),
    ("index.docker.io/library/python:3.13-slim", "python:3.13-slim"),
    ("registry-1.docker.io/library/python", "python:latest"),
    ("public.ecr.aws/docker/library/python:3.13-slim-bookworm@" + PIN, "python:3.13-slim-bookworm@" + PIN),
    ("mirror.gcr.io/library/ubuntu:24.04", "ubuntu:24.04"),
    ("library/ubuntu", "ubuntu:latest"),
    ("docker.io/bitnami/redis:7.2", "bitnami/redis:7.2"),
    ("ubuntu@" + PIN, "ubuntu@" + PIN),
    ("ghcr.io/org/img:1", "ghcr.io/org/img:1"),
    ("localhost:5000/img", "localhost:5000/img:latest"),
])
def test_docker_hub_spellings_and_its_mirrors_are_one_canonical_name(ref, name):
    assert images.canonical(ref) == name


def test_a_stand_in_pattern_matches_the_canonical_name():
    aliases = [["python:*", "debian-python_bookworm"], ["*", "debian_bookworm"]]
    mirror = "public.ecr.aws/docker/library/python:3.13-slim-bookworm@" + PIN
    assert images.stand_in(mirror, aliases) == ("python:*", "debian-python_bookworm")
    assert images.stand_in("index.docker.io/library/python", aliases) == ("python:*", "debian-python_bookworm")
    assert images.stand_in("docker.io/library/ubuntu:24.04", aliases) == ("*", "debian_bookworm")
    assert images.stand_in("docker.io/library/ubuntu:24.04", aliases[:1]) is None


def test_every_spelling_of_an_image_finds_the_one_stored_and_cached_copy(image_cache, tmp_path):
    store = tmp_path / "store"
    store.mkdir()
    for name, text in (("python_3.13-slim", b"hi\n"), (f"python_3.13-slim_{PIN.replace(':', '_')}", b"pi\n")):
        with tarfile.open(store / f"{name}.tar", "w") as tar:
            info = tarfile.TarInfo("etc/hello")
            info.size = 3
            tar.addfile(info, io.BytesIO(text))
    log = []
    # a pinned reference takes only the store's file named with its digest (a tag's file cannot show it)
    first = images.resolve(f"public.ecr.aws/docker/library/python:3.13-slim@{PIN}", store, log.append)
    assert first.name == f"python:3.13-slim@{PIN}" and (first.rootfs / "etc/hello").read_text() == "pi\n"
    again = images.resolve("docker.io/library/python:3.13-slim", store, log.append)
    assert (again.rootfs / "etc/hello").read_text() == "hi\n" and len(log) == 2   # imported twice
    images.resolve("index.docker.io/library/python:3.13-slim", store, log.append)
    assert len(log) == 2                                                 # the canonical name is cached


def test_user_on_the_debian_base_as_docker_and_harbor_apply_it(base, tmp_path):
    # useradd's user: a RUN after USER runs as it (mkdir in /opt fails as in Docker), and with no
    # [agent].user or [verifier].user the image's USER is the agent's and the verifier's (Harbor's default)
    bad = harbor.load_task(task_dir(tmp_path / "bad", "FROM debian:bookworm\nRUN useradd -m appuser\n"
                                    "USER appuser\nRUN mkdir /opt/x\n", "exit 0\n"))
    with pytest.raises(images.BuildError, match=r"line 4: RUN 'mkdir /opt/x' failed .*Permission denied"):
        harbor.build_task(bad, log=lambda m: None)
    test_sh = ('[ "$(id -un)" = appuser ] && [ "$(stat -c %U /app/out)" = appuser ] '
               "&& echo 1 > /logs/verifier/reward.txt || echo 0 > /logs/verifier/reward.txt\n")
    dockerfile = ("FROM debian:bookworm\nRUN useradd -m appuser && mkdir /app && chown appuser /app\n"
                  "USER appuser\nWORKDIR /app\n")
    task = harbor.load_task(task_dir(tmp_path / "ok", dockerfile, test_sh, solve="touch out\n",
                                     toml="[environment]\nallow_internet = false\n"))
    with harbor.start_task(task, log=lambda m: None) as env:
        assert env.run("whoami; echo $HOME; touch /etc/x").output == (
            "appuser\n/home/appuser\ntouch: cannot touch '/etc/x': Permission denied\n")
        assert env.verify() == (0.0, "")
    with harbor.start_task(task, log=lambda m: None) as env:
        assert env.solve().exit_code == 0
        assert env.verify() == (1.0, "")


def test_entrypoint_and_healthcheck_on_the_debian_base_as_harbor_runs_them(base, tmp_path):
    # Harbor's hello-healthcheck shape: the ENTRYPOINT (run as the image's USER, with `sh -c "sleep
    # infinity"` for its arguments) brings a service up after a second; the healthcheck holds the agent back
    # until it is, so the oracle, which reads the service's token at once, scores 1
    entry = ('#!/bin/sh\necho "$@" > /srv/args\n'
             '( sleep 1; echo s3cret > /srv/token.tmp && mv /srv/token.tmp /srv/token ) &\nexec "$@"\n')
    dockerfile = ("FROM debian:bookworm\nRUN useradd -m svc && mkdir /app && chown svc /srv /app\n"
                  "COPY entry.sh /entry.sh\nRUN chmod 755 /entry.sh\nUSER svc\nWORKDIR /app\n"
                  'ENTRYPOINT ["/entry.sh"]\n')
    toml = ('[environment]\nallow_internet = false\n'
            '[environment.healthcheck]\ncommand = "test -s /srv/token"\ninterval_sec = 0.2\nretries = 50\n')
    test_sh = ('[ "$(cat /app/answer)" = s3cret ] && [ "$(stat -c %U /srv/token)" = svc ] '
               "&& echo 1 > /logs/verifier/reward.txt || echo 0 > /logs/verifier/reward.txt\n")
    task = harbor.load_task(task_dir(tmp_path, dockerfile, test_sh, solve="cat /srv/token > /app/answer\n",
                                     toml=toml, files={"environment/entry.sh": entry}))
    with harbor.start_task(task, log=lambda m: None) as env:
        assert env.run("cat /srv/args; cat /srv/token").output == "sh -c sleep infinity\ns3cret\n"
        assert env.verify() == (0.0, "")
    with harbor.start_task(task, log=lambda m: None) as env:
        assert env.solve().exit_code == 0
        assert env.verify() == (1.0, "")


def test_localhost_resolves_in_an_image_without_etc_hosts_and_no_build_keeps_one(real_task):
    # Docker writes /etc/hosts into every container; the Debian base ships none, and without it glibc does
    # not resolve `localhost` (rt13a p24: test.sh's own server at http://localhost:8000 unreachable, 0)
    task, _, _, state = real_task
    assert not any((layer / "etc" / "hosts").exists() for layer in state.layers)    # builds made none
    with harbor.start_task(task) as sb:
        out = sb.run("getent ahosts localhost | awk '{print $1}' | sort -u").output.split()
        assert "127.0.0.1" in out and "::1" in out, out
