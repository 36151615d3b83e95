"""rt14b's trainer-bounds findings (CONTAINMENT.md, "thirteenth fresh red team (rt14)"): what the trainer
holds, writes and waits for while it reads a task's archives and layers, copies its trees and watches its
builds is set by its own caps, never by the task's headers, names or file counts (issue 19, classes 8, 10)."""
import io
import lzma
import os
import struct
import tarfile
import tempfile
import time
import zlib
from pathlib import Path

import pytest

import archives
import harbor
import images
import registry
import sandbox
from test_builder_attacks import cache  # noqa: F401 - fixture
from test_harbor_load import load_error, make_task
from test_rt12_archives import _gzip, _peak, _Session, out  # noqa: F401 - fixture

try:
    import tamper
except ImportError:
    tamper = None

root_only = pytest.mark.skipif(os.getuid() != 0, reason="tar in the sandbox's id map needs root")


def _xz(window_code: int, data: bytes = b"x" * 1000) -> bytes:
    """A .tar.xz of one file whose block header then declares an LZMA2 window of `window_code` (xz's byte: 38
    is 2 GiB), its CRC32 recomputed: what a decoder allocates and fills, whatever the data needs."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("a")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    out = bytearray(lzma.compress(buf.getvalue(), check=lzma.CHECK_CRC32,
                                  filters=[{"id": lzma.FILTER_LZMA2, "preset": 1, "dict_size": 1 << 20}]))
    size = (out[12] + 1) * 4                   # the block header, after the 12-byte stream header
    header = bytearray(out[12:12 + size])
    header[header.index(b"\x21\x01", 2) + 2] = window_code     # LZMA2's filter id, its props size, its props
    header[-4:] = struct.pack("<I", zlib.crc32(bytes(header[:-4])))
    out[12:12 + size] = header
    return bytes(out)


def _names(f) -> list[str]:
    return [m.name for m, _ in archives.members(f, lambda: None)]


def test_p09_an_xz_declaring_a_2_gib_window_is_refused_in_one_line():
    # a 229 KiB .tar.xz declaring a 4 GiB window grew the trainer by 1.5 GiB as it inflated
    with pytest.raises(archives.ArchiveError, match="xz header declares a window .* over 96 MiB"):
        _names(io.BytesIO(_xz(38)))


def test_p09_an_xz_of_any_preset_is_still_read():
    assert _names(io.BytesIO(_xz(22))) == ["a"]     # 22: xz -9's 64 MiB


def test_p25_a_registry_layer_of_such_an_xz_is_the_images_fault(tmp_path):
    (layer := tmp_path / "layer").write_bytes(_xz(38))         # declared tar: read as xz by its magic
    with pytest.raises(registry.RegistryError, match="layer 1 .* xz header declares a window"):
        registry._survivors([layer], _Session())


@root_only
def test_p10_an_add_of_such_an_xz_fails_the_step_in_one_line(out):  # noqa: F811 - fixture
    with pytest.raises(images.BuildError, match="^ADD big.tar.xz: its xz header declares a window"):
        images._unpack(io.BytesIO(_xz(38)), out, [1 << 30, 1 << 20], "ADD big.tar.xz", time.monotonic() + 30)


def _one(name: str, **pax) -> bytes:
    info = tarfile.TarInfo(name)
    info.pax_headers = pax
    return _gzip(info.tobuf(tarfile.PAX_FORMAT))


def test_p11_a_name_longer_than_path_max_is_refused_at_read():
    # 32,768 components in a 228-byte archive: quadratic work and 1 GiB in _unpack's feeder
    with pytest.raises(archives.ArchiveError, match="name is 8191 bytes, over PATH_MAX"):
        _names(io.BytesIO(_one("x/" * 4095 + "x")))


def test_p11_a_name_deeper_than_a_copy_may_be_is_refused_at_read():
    # 1,500 levels unpacked: the trainer's rmtree of the staged tree raised RecursionError
    with pytest.raises(archives.ArchiveError, match="nested deeper than 256 directories"):
        _names(io.BytesIO(_one("x/" * 257 + "x")))


def test_p11_a_long_name_within_the_kernels_limits_is_still_read():
    name = "/".join(["n" * 255] * 15)              # 3,839 bytes: PATH_MAX less its NUL is 4,095
    assert _names(io.BytesIO(_one(name))) == [name]


@pytest.fixture
def tmpfs_out():
    """`out` (test_rt12_archives) on a tmpfs (sandbox.capped_dir): its 5,000 nested directories took 6-10 s
    of a loaded suite to remove from the disk, and go with the unmount here."""
    top = Path(tempfile.mkdtemp(prefix="echo-s14-deep-"))
    top.chmod(0o755)
    out = sandbox.capped_dir(top / "out", 64)
    images._own(out)
    yield out
    images._rm(top)                            # sandbox.rmtree: unmounted first


@root_only
def test_p11_an_add_of_deep_names_holds_a_component_per_path_not_the_path(tmpfs_out):
    # every parent was held whole: ~125 KB for one 1 KiB name of 250 parents (GiBs within the entry cap)
    out = tmpfs_out
    names = [f"d{i}/" + "xxx/" * 250 + "x" for i in range(20)]
    archive = _gzip(*(tarfile.TarInfo(n).tobuf(tarfile.PAX_FORMAT) for n in names))
    peak = _peak(lambda: images._unpack(io.BytesIO(archive), out, [1 << 30, 1 << 20], "ADD deep.tar.gz",
                                        time.monotonic() + 60))
    assert peak < 2 << 20 and (out / names[-1]).is_file()


def test_p12_the_walk_after_a_layer_is_read_is_under_the_pulls_deadline(tmp_path):
    # _survivors' parent walk ran outside any read: 33 s past a 2 s deadline
    files = [tarfile.TarInfo(f"d/f{i}").tobuf(tarfile.USTAR_FORMAT) for i in range(50)]
    (lower := tmp_path / "lower").write_bytes(_gzip(*files))
    (upper := tmp_path / "upper").write_bytes(_gzip(tarfile.TarInfo("d/.wh.f0").tobuf(tarfile.USTAR_FORMAT)))
    reads = _Session()
    for layer in (lower, upper):               # the calls the reads alone make
        with open(layer, "rb") as f:
            list(archives.members(f, reads.left))
    s = _Session()
    s.limit = reads.calls + 1                  # passed only by a check after the last read
    with pytest.raises(registry.RegistryError, match="deadline passed"):
        registry._survivors([lower, upper], s)


def test_p18_a_dockerfile_less_environment_has_the_tests_entry_cap(tmp_path, monkeypatch):
    # environment/ is copied into every episode whole: 150,000 files were 29 s of every start
    monkeypatch.setattr(harbor, "MAX_TREE_ENTRIES", 20)
    path = make_task(tmp_path, files={f"environment/f{i}": "" for i in range(30)})
    assert "environment/ has over 20 files and directories" in load_error(path)


def test_p18_a_dockerfile_less_environment_under_the_cap_loads(tmp_path):
    assert harbor.load_task(make_task(tmp_path, files={"environment/data.csv": "a,b\n"})).dockerfile == []


def test_p23_a_pull_keeps_the_disks_reserve(tmp_path):
    # blobs, the merged tar and the rootfs were each capped at BUILD_DISK_MB, never at free space: 0 MiB left
    from test_registry import FakeRegistry, pull
    reg = FakeRegistry()
    free = os.statvfs(tmp_path).f_bavail * os.statvfs(tmp_path).f_frsize
    try:
        with pytest.raises(registry.RegistryError, match="would leave under .* MiB free on the cache's disk"):
            pull(reg, tmp_path, keep_free=free + (1 << 30))      # a GiB past it: other processes free some
    finally:
        reg.server.shutdown()
        reg.server.server_close()


@root_only
def test_p23_an_import_keeps_the_disks_reserve(cache, monkeypatch):  # noqa: F811 - fixture
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("f")
        info.size = 1000
        tar.addfile(info, io.BytesIO(b"x" * 1000))
    buf.seek(0)
    monkeypatch.setattr(images, "DISK_RESERVE_MB", 1 << 40)    # no room left: not a byte of it lands
    # the disk's room is all an import may take: a full disk, the machine's failure (rt14b p15)
    with pytest.raises(sandbox.SandboxError, match="cannot import big:1: unpacks to over 0 MiB"):
        images._save("big:1", buf, "test", {}, "/", cache)


@pytest.mark.skipif(tamper is None, reason="no tamper.py")
def test_p13_the_listing_of_an_agents_layer_is_capped_in_bytes(tmp_path, monkeypatch):
    # 250-deep chains of 255-byte directories: every 64 KiB path kept, 2.7-5.2 GiB per episode judged
    monkeypatch.setattr(tamper, "MAX_PATH_BYTES", 20_000)
    d = tmp_path / "upper"
    for _ in range(15):
        d = d / ("n" * 255)
    d.mkdir(parents=True)
    for i in range(20):
        (d / f"f{i}").write_text("")
    changes = tamper.listing(str(tmp_path / "upper"))
    assert changes[-1].kind == "unchecked" and "over 0 MiB of paths" in changes[-1].why
    assert sum(len(c.path) for c in changes) <= 20_000 + 4096


def test_p01_the_build_disk_floor_is_checked_on_its_own_clock(tmp_path, monkeypatch):
    # the floor waited on the layer's walk and the fd listing, both the step's to slow: 3.6-15.8 s apart
    class Sandbox:
        def processes(self):
            return []

    def slow_walk(path):                       # a layer of many files, or many open fds: seconds
        time.sleep(3)
        return 0, 0

    monkeypatch.setattr(images, "disk_usage", slow_walk)
    monkeypatch.setattr(images, "DISK_FLOOR_MB", 1 << 40)     # every disk is under it
    t0 = time.monotonic()
    with images._DiskWatch(tmp_path, (1 << 30, 1 << 20), Sandbox()) as watch:
        while watch.low is None and time.monotonic() - t0 < 2.5:
            time.sleep(0.05)
        seen = time.monotonic() - t0
    assert watch.low is not None and seen < 1.5
