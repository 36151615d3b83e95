"""rt12b p04, p26, p32, p33: what pid 1 cannot set up on the image's own tree (/etc a file, /proc a dangling
link, /dev a file, a volume's target through a file, no /bin/bash) is the task's one line at the start
(TaskSetupError), never the machine's; and the agent filling its pids limit, then exiting its shell, never
kills pid 1 (the machine's failure, chosen by the agent)."""
import os
import shutil
import tempfile
from pathlib import Path

import pytest

import sandbox
from sandbox import Limits, Sandbox, TaskSetupError

pytestmark = pytest.mark.skipif(not shutil.which("ldd"),
                                reason="needs ldd to copy the host's bash into a base")


@pytest.fixture(scope="module")
def cache():
    import images
    d = Path(tempfile.mkdtemp(prefix="rt12-start-cache-"))
    images.prepare_cache(d)
    from test_images import tiny_rootfs
    tiny_rootfs(d / "images" / "tiny" / "rootfs")
    yield d
    sandbox.rmtree(d)


def layer(cache: Path, key: str, make) -> Path:
    """A layer over the tiny base, holding what make(path) puts there, owned as a build step leaves it."""
    p = cache / "layers" / key / "layer"
    p.mkdir(parents=True)
    make(p)
    for d, dirs, files in os.walk(p.parent):
        for q in [d, *(os.path.join(d, n) for n in dirs + files)]:
            os.lchown(q, sandbox.id_map().host_root, sandbox.id_map().host_root)
    return p


def start(cache: Path, make, **kw) -> str:
    """'started', or the TaskSetupError's message, for a sandbox on the tiny base with make's layer."""
    key = f"k{len(os.listdir(cache / 'layers'))}"
    try:
        with Sandbox("/", layers=[layer(cache, key, make), cache / "images" / "tiny" / "rootfs"], **kw) as sb:
            return "started" if sb.run("echo hi", 10).output == "hi\n" else "broken"
    except TaskSetupError as e:
        return str(e)


def file(p: Path, rel: str) -> None:
    (p / rel).parent.mkdir(parents=True, exist_ok=True)
    (p / rel).write_text("x\n")


@pytest.mark.parametrize("make, said", [
    (lambda p: file(p, "etc"), "Not a directory"),                          # the resolv.conf bind's way
    (lambda p: (p / "proc").symlink_to("/nowhere/at/all"), "/proc is not a directory"),
    (lambda p: file(p, "dev"), "/dev is not a directory"),
    (lambda p: (p / "etc/resolv.conf").mkdir(parents=True), "resolv.conf"),
    (lambda p: (p / "run").symlink_to("/nowhere"), "symlink to a missing directory"),     # run/xfer's way
])
def test_a_root_of_a_shape_the_sandbox_cannot_use_is_the_tasks_setup_error(cache, make, said):
    assert said in start(cache, make)


def test_a_volume_target_through_a_file_of_the_image_is_the_tasks_setup_error(cache):
    d = sandbox.scratch_dir()                 # an episode's directory, as harbor.Services makes it
    try:
        (d / "vol").mkdir()
        said = start(cache, lambda p: file(p, "srv/f"), mounts=[(d / "vol", "/srv/f/sub", False)],
                     mounts_in=d)
    finally:
        sandbox.rmtree(d)
    assert "Not a directory" in said


def test_a_hosts_file_over_a_directory_of_the_image_is_the_tasks_setup_error(cache):
    # compose binds the episode's hosts file at /etc/hosts: `RUN rm /etc/hosts; mkdir /etc/hosts` (EINVAL)
    d = sandbox.scratch_dir()
    try:
        (d / "hosts").write_text("127.0.0.1 localhost\n")
        mounts = [(d / "hosts", "/etc/hosts", True)]
        said = start(cache, lambda p: (p / "etc/hosts").mkdir(parents=True), mounts=mounts, mounts_in=d)
    finally:
        sandbox.rmtree(d)
    assert "the image's files cannot hold the sandbox" in said


def test_an_image_without_bash_is_the_tasks_setup_error(cache):
    def no_bash(p: Path) -> None:           # a whiteout hides the base's bash, as `RUN rm /bin/bash` leaves
        for d in ("bin", "usr/bin"):
            (p / d).mkdir(parents=True, exist_ok=True)
            os.mknod(p / d / "bash", 0o600 | 0o020000, os.makedev(0, 0))
    assert "no /bin/bash" in start(cache, no_bash)


def test_an_ordinary_image_still_starts(cache):
    assert start(cache, lambda p: file(p, "etc/hostname")) == "started"


# the probe's grabber: three loops forking sleepers, each taking any pid that frees
GRAB = ("import os, time\n"
        "while True:\n"
        "    try:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(1000); os._exit(0)\n"
        "    except OSError:\n"
        "        pass\n")


@pytest.mark.parametrize("keep", [True, False])
def test_the_agent_holding_every_pid_then_exiting_its_shell_leaves_pid_1_alive(keep):
    # pid 1 restarted the shell with an uncaught EAGAIN at pids.max and died: the episode was the machine's
    try:
        sb = Sandbox("/", limits=Limits(nproc=32, keep_agent_processes=keep))     # the host's python3
    except sandbox.SandboxError as e:
        pytest.skip(f"no sandbox here: {e}")
    with sb:
        if not sb.cgroup:
            pytest.skip("needs a cgroup's pids.max")
        r = sb.run(f"cat > /tmp/g.py <<'EOF'\n{GRAB}EOF\n"
                   "for i in 1 2 3; do python3 /tmp/g.py >/dev/null 2>&1 & done; sleep 3; echo filled", 30)
        assert "filled" in r.output, r.output
        sb.run("exit 3", 10)                      # no pid is left for the next shell
        r = sb.run("echo still here", 2)          # it waits; its timeout's kill frees the pids (any timeout)
        assert "still here" in r.output or r.timed_out, r.output
        assert sb.run("echo again", 10).output == "again\n"


def test_each_sandbox_has_a_resolver_file_of_its_own(cache):
    # one host inode bound into every episode: a lock or an inotify watch on it was a channel between
    # episodes and to the host (rt20b p30); Docker keeps a copy per container
    base = [layer(cache, "resolv", lambda p: None), cache / "images" / "tiny" / "rootfs"]
    with Sandbox("/", layers=base) as one, Sandbox("/", layers=base) as two:
        inodes = [os.stat(f"/proc/{box._init_pid}/root/etc/resolv.conf").st_ino for box in (one, two)]
    assert inodes[0] != inodes[1] and os.stat(sandbox.resolver_file()).st_ino not in inodes
