"""What the trainer binds into a sandbox is the episode's, never a host path a task or a sandbox chose
(rt10b p29-p32): volume names are Docker's (compose.load), and every mount source is opened beneath the
episode's directory with no link and no '..' and bound from that fd (sandbox_init._mount_binds)."""
import os
import shutil
import socket
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import sandbox  # noqa: E402
from harbor import TaskError, load_task  # noqa: E402
from sandbox import Sandbox, SandboxError  # noqa: E402


def compose_task(root: Path, compose: str) -> Path:
    path = root / "t"
    for rel, text in {"task.toml": "[agent]\ntimeout_sec = 60\n", "instruction.md": "Do it.\n",
                      "environment/Dockerfile": "FROM host\n", "environment/docker-compose.yaml": compose,
                      "tests/test.sh": "echo 1 > /logs/verifier/reward.txt\n"}.items():
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_text(text)
    return path


# p29: `x/../../../../tmp/d` made a host directory as root, handed to the sandboxes' uid; p30: `x/d`, a
# path inside volume x that a sidecar swaps for a link
@pytest.mark.parametrize("name", ["x/../../../../../../../../tmp/rt10-f7-p29", "x/d", "../x", ".x", "-x"])
def test_a_volume_name_docker_refuses_is_refused_at_load(tmp_path, name):
    path = compose_task(tmp_path, f"services:\n  main:\n    volumes: ['{name}:/data']\nvolumes:\n  x:\n"
                                  f"  {name}:\n")
    with pytest.raises(TaskError, match="is not a volume name") as e:
        load_task(path)
    assert "\n" not in str(e.value)
    assert not Path("/tmp/rt10-f7-p29").exists()


def test_dockers_volume_names_still_load(tmp_path):
    path = compose_task(tmp_path, "services:\n  main:\n    volumes: ['db-data_1.v2:/data']\nvolumes:\n"
                                  "  db-data_1.v2:\n")
    assert load_task(path).compose.volumes == ["db-data_1.v2"]


# ---- the mount code itself: a source that leaves the episode's directory is never followed ---------------

@pytest.fixture
def episode():
    """An episode's directory as harbor.Services makes it (sandbox.scratch_dir), and a host directory
    outside it that no sandbox should reach, though the sandboxes' uid may traverse to it (as /work)."""
    d = sandbox.scratch_dir()
    host = Path(tempfile.mkdtemp(prefix="rt10-f7-host-"))
    host.chmod(0o755)
    (host / "secret.txt").write_text("HOST-SECRET\n")
    yield d, host
    sandbox.rmtree(d)
    shutil.rmtree(host)


def start(d: Path, src: Path, target: str, read_only: bool = False) -> str:
    """Start a sandbox with src bound at target; its setup error, or '' where it started."""
    try:
        with Sandbox("/", mounts=[(src, target, read_only)], mounts_in=d) as sb:
            return "started: " + sb.run(f"ls {target}; cat {target}/secret.txt; echo planted > {target}/m",
                                        10).output
    except SandboxError as e:
        return f"{type(e).__name__}: {e}"   # "TaskSetupError: ... mount source 'vol': a link or '..' on ..."


def test_a_volume_swapped_for_a_link_to_a_host_directory_is_not_followed(episode):   # p30: read
    d, host = episode
    (d / "vol").symlink_to(host)
    out = start(d, d / "vol", "/peek", read_only=True)
    assert "HOST-SECRET" not in out and "'vol': a link or '..' on the way (refused)" in out
    assert out.startswith("TaskSetupError")        # the task's doing (its sidecar's), not the machine's


def test_a_link_on_the_way_to_a_volume_is_not_followed(episode):      # p30 as it was: x/d inside x
    d, host = episode
    (d / "x").mkdir()
    (d / "x" / "d").symlink_to(host)
    out = start(d, d / "x" / "d", "/peek")
    assert "HOST-SECRET" not in out and "'x/d': a link or '..' on the way (refused)" in out


def test_a_writable_bind_through_a_link_writes_nothing_on_the_host(episode):     # p31: the image cache
    d, host = episode
    os.chown(host, sandbox.id_map().host_root, sandbox.id_map().host_root)    # as the cache's layers were
    (d / "vol").symlink_to(host)
    out = start(d, d / "vol", "/rootfs")
    assert not (host / "m").exists() and "'vol': a link or '..' on the way (refused)" in out


def test_a_host_socket_behind_a_link_is_not_reached(episode):          # p32: a host pathname socket
    d, host = episode
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(host / "sock"))
    os.chmod(host / "sock", 0o666)
    listener.listen()
    (d / "vol").symlink_to(host)
    try:
        out = start(d, d / "vol", "/peek")
    finally:
        listener.close()
    assert "sock" not in out and "'vol': a link or '..' on the way (refused)" in out


def test_a_mount_source_with_dotdot_or_outside_the_episode_is_refused(episode):        # p29
    d, host = episode
    for src in (d / "x" / ".." / ".." / host.name, host):
        with pytest.raises(ValueError, match="must lie inside mounts_in"):
            Sandbox("/", mounts=[(src, "/peek", False)], mounts_in=d)


def test_a_volume_and_a_file_in_the_episode_still_bind(episode):
    d, _ = episode
    (d / "vol").mkdir()
    os.chown(d / "vol", sandbox.id_map().host_root, sandbox.id_map().host_root)
    (d / "hosts").write_text("127.0.0.1 localhost web\n")
    with Sandbox("/", mounts=[(d / "vol", "/data", False), (d / "hosts", "/etc/hosts", True)],
                 mounts_in=d) as sb:
        r = sb.run("echo hi > /data/f && cat /data/f /etc/hosts && ! echo x > /etc/hosts", 10)
    assert r.exit_code == 0 and "hi" in r.output and "web" in r.output, r.output
    assert (d / "vol" / "f").read_text() == "hi\n"


# ---- the image cache: never writable by the sandboxes' uid (rt10b p31 wrote the shared Debian base) -----

@pytest.fixture
def cache():
    d = Path(tempfile.mkdtemp(prefix="rt10-f7-cache-"))
    d.chmod(0o755)                             # as a cache made before, or by mkdir
    yield d
    sandbox.rmtree(d)


def layer(cache: Path, key: str) -> Path:
    """CACHE/layers/<key>/layer holding /etc/f, owned as a build step leaves it: by H, the image's root."""
    import images
    images.prepare_cache(cache)
    p = cache / "layers" / key / "layer"
    (p / "etc").mkdir(parents=True)
    (p / "etc" / "f").write_text("the image's\n")
    for q in (p.parent, p, p / "etc", p / "etc" / "f"):
        os.chown(q, sandbox.id_map().host_root, sandbox.id_map().host_root)
    return p


def test_a_process_of_the_sandboxes_uid_cannot_write_a_layer_by_its_path(cache):
    # run_mapped: root of a user namespace of host uid H with no other isolation, as any process of a
    # sandbox that found a way to a host path (a bind through a link, a mount that leaked)
    p = layer(cache, "k")
    r = sandbox.run_mapped(["sh", "-c", f"echo POISON > {p}/etc/f; cat {p}/etc/f"])
    assert (p / "etc" / "f").read_text() == "the image's\n", r.stdout
    assert oct(cache.stat().st_mode & 0o777) == "0o700" and cache.stat().st_uid == 0


@pytest.mark.skipif(not shutil.which("ldd"), reason="needs ldd to copy the host's bash into a base")
def test_a_sandbox_still_runs_on_its_layers_and_a_build_step_writes_its_upper(cache):
    from test_images import tiny_rootfs
    lower = layer(cache, "k")
    base = tiny_rootfs(cache / "images" / "tiny" / "rootfs")
    upper = cache / "layers" / "new.tmp" / "layer"
    upper.parent.mkdir()
    os.chown(upper.parent, sandbox.id_map().host_root, sandbox.id_map().host_root)
    with Sandbox("/", layers=[lower, base], upper=upper) as sb:
        r = sb.run("cat /etc/f; echo built > /etc/g", 10)
        assert r.output == "the image's\n", r.output
        assert str(cache) not in sb.run("cat /proc/self/mountinfo", 10).output   # the cache's path unnamed
    assert (upper / "etc" / "g").read_text() == "built\n"
    assert (lower / "etc" / "f").read_text() == "the image's\n"
