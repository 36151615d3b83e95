"""Staging is bounded and fails closed (rt16b p09): what the host's disk receives before pid 1 copies a host
tree in (tests/ at every verify, a copy_in's files) is weighed, at its apparent size, against the disk's
free bytes less sandbox.DISK_RESERVE_MB before anything is written; and a sparse file stays sparse."""
import os

import pytest

import harbor
import sandbox
from test_harbor_verifier import make_task


def sparse(path, size: int) -> None:
    with open(path, "wb") as f:
        f.truncate(size)


def leave_free(monkeypatch, where, mb: int) -> None:
    """Set the reserve so that where's disk has about `mb` MiB free to stage (give or take other writers)."""
    v = os.statvfs(where)
    monkeypatch.setattr(sandbox, "DISK_RESERVE_MB", (v.f_bavail * v.f_frsize >> 20) - mb, raising=False)


def test_a_sparse_file_is_copied_sparse_with_its_bytes(tmp_path):
    # p09: copy2 wrote a 2.5 GiB sparse file of tests/ out whole on the host's disk at every verify
    src = tmp_path / "blob"
    sparse(src, 16 << 20)
    with open(src, "r+b") as f:
        f.seek(8 << 20)
        f.write(b"data" * 1024)
    sandbox.copy_plain(src, tmp_path / "copy")
    assert (tmp_path / "copy").read_bytes() == src.read_bytes()
    assert os.stat(tmp_path / "copy").st_blocks * 512 <= 1 << 20


def test_a_copy_the_hosts_disk_cannot_stage_is_refused_before_any_is_written(tmp_path, monkeypatch):
    (tmp_path / "d").mkdir()
    sparse(tmp_path / "d" / "blob", 1 << 30)         # no blocks, 1 GiB apparent: what a copy may write
    with sandbox.Sandbox() as sb:
        leave_free(monkeypatch, sb.dir, 0)
        with pytest.raises(sandbox.SandboxError, match=r"^staging d: its files are 1024 MiB, over the \d+ MiB "
                                                       r"the host's disk has free under "):
            sb.copy_in(tmp_path / "d", "/d")
        assert not list((sb.dir / "xfer").iterdir())


def test_a_verify_whose_tests_the_disk_cannot_stage_fails_as_the_machines_naming_the_task(tmp_path,
                                                                                         monkeypatch):
    # the disk 1 GiB short of its reserve, so that 1 MiB of tests cannot be staged whatever other writers
    # free meanwhile (256 MiB against ~0 free was that margin, and the ground check's reading of 16 MiB of
    # the tests' zeros was 20-30 s of a loaded suite)
    path = make_task(tmp_path, toml="[verifier]\ntimeout_sec = 30\n", verifier_dockerfile=None)
    sparse(path / "tests" / "blob.bin", 1 << 20)
    with harbor.start_task(harbor.load_task(path)) as env:
        leave_free(monkeypatch, env.box.dir, -1024)
        with pytest.raises(sandbox.SandboxError, match=r"^task 't': staging tests: its files are 1 MiB") as e:
            env.verify()
    assert harbor.outcome_of(e.value) == harbor.Outcome.MACHINE
