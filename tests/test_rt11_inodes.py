"""Budgets on the host's disk count inodes as well as bytes (rt11b p04, p21): empty files cost no bytes and
an inode each. Each test puts the disk in question on a small tmpfs (nr_inodes) and lowers the reserve."""
import io
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import harbor  # noqa: E402
import images  # noqa: E402
import registry  # noqa: E402
import sandbox  # noqa: E402
from test_registry import MERGED, reg, pull as pull_image  # noqa: E402,F401 - reg: its fake registry

pytestmark = pytest.mark.skipif(os.getuid() != 0, reason="mounts a tmpfs")


@pytest.fixture
def small_fs():
    """A tmpfs of 8,000 inodes and plenty of bytes, where a sandbox's pid 1 (host uid H) may pass."""
    at = Path(tempfile.mkdtemp(prefix="echo-inodes-"))
    at.chmod(0o711)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256m,nr_inodes=8000,mode=711", "tmpfs", str(at)],
                   check=True)
    yield at
    subprocess.run(["umount", "-l", str(at)], check=True)
    at.rmdir()


def task(root: Path, files: dict) -> harbor.Task:
    files = {"task.toml": "[agent]\ntimeout_sec = 60\n", "instruction.md": "x\n",
             "tests/test.sh": "#!/bin/bash\necho 1 > /logs/verifier/reward.txt\n", **files}
    for rel, body in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(body) if isinstance(body, bytes) else (root / rel).write_text(body)
    return harbor.load_task(root)


@pytest.fixture
def low_reserves(monkeypatch):
    """Reserves that fit the small tmpfs: ~3,000 of its inodes and 240 MiB of its bytes left to spend."""
    monkeypatch.setattr(sandbox, "INODE_RESERVE", 5000)
    monkeypatch.setattr(images, "DISK_RESERVE_MB", 16)
    monkeypatch.setattr(images, "DISK_FLOOR_MB", 8)         # half the reserve, as images sets it


def test_a_layer_of_more_files_than_the_caches_free_inodes_less_the_reserve_fails_the_build(
        debian_base, tmp_path, small_fs, low_reserves):
    images.prepare_cache(small_fs)
    steps = [harbor.Step("RUN", "mkdir /d && cd /d && seq 1 4000 | xargs touch", 2)]
    # within the step's own cap (BUILD_DISK_MB's inodes): the disk is full, the machine's (rt14b p15)
    with pytest.raises(sandbox.SandboxError, match="over the build's cap .*the disk is full"):
        images.build(steps, images.start_state(debian_base), tmp_path, 60, cache=small_fs)
    assert os.statvfs(small_fs).f_favail > 5000                  # the failed layer is gone


def many(n: int) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for i in range(n):
            t.addfile(tarfile.TarInfo(f"d/{i}"), io.BytesIO(b""))
    return buf.getvalue()


def test_an_add_of_a_tar_of_more_members_than_the_state_dirs_free_inodes_stops_before_they_land(
        tmp_path, small_fs, low_reserves, monkeypatch):
    monkeypatch.setattr(sandbox, "STATE_DIR", small_fs / "state")
    t = task(tmp_path / "t", {"environment/Dockerfile": "FROM host\nADD many.tar.gz /many/\n",
                              "environment/many.tar.gz": many(4000)})
    with pytest.raises(harbor.SetupError) as e:
        harbor.start_task(t, cache=tmp_path / "cache").close()
    assert not e.value.infrastructure and "unpacks to over" in str(e.value) and "files" in str(e.value)


def test_a_copy_of_more_files_than_the_state_dirs_free_inodes_is_refused_before_staging(
        tmp_path, small_fs, low_reserves, monkeypatch):
    monkeypatch.setattr(sandbox, "STATE_DIR", small_fs / "state")
    src = tmp_path / "src"
    src.mkdir()
    for i in range(4000):
        (src / str(i)).touch()
    with sandbox.Sandbox() as sb:
        with pytest.raises(OSError, match="inodes the host's disk has free"):
            sb.copy_in(src, "/many", 30)


def test_ordinary_layers_and_copies_stay_within_the_budgets(debian_base, tmp_path, small_fs, low_reserves):
    images.prepare_cache(small_fs)
    (tmp_path / "data").mkdir()
    for i in range(200):
        (tmp_path / "data" / str(i)).write_text("x")
    steps = [harbor.Step("RUN", "mkdir /d && cd /d && seq 1 500 | xargs touch", 2),
             harbor.Step("COPY", "data/ /data/", 3)]
    state = images.build(steps, images.start_state(debian_base), tmp_path, 60, cache=small_fs)
    with sandbox.Sandbox(layers=state.layers) as sb:
        assert sb.run("ls /d | wc -l; ls /data | wc -l").output == "500\n200\n"


def test_a_pulled_image_of_more_entries_than_the_cap_is_refused_before_any_is_written(reg, tmp_path):
    with pytest.raises(registry.RegistryError, match=f"{len(MERGED)} files and directories, over the 3 "):
        pull_image(reg, tmp_path, max_files=3)
    assert len(pull_image(reg, tmp_path, max_files=len(MERGED))[1].getnames()) == len(MERGED)
