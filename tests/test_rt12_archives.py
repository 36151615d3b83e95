"""rt12b's archive findings (CONTAINMENT.md, "eleventh fresh red team (rt12)"): a registry layer or an
ADD'ed archive is read by the trainer in memory and time set by budgets, not by its headers (p03, p11, p17,
p25), and an image import fails when tar fails, whatever tar's words (p35)."""
import io
import os
import tarfile
import tempfile
import time
import tracemalloc
import zlib
from pathlib import Path

import pytest

import images
import registry
from test_builder_attacks import cache  # noqa: F401 - fixture

root_only = pytest.mark.skipif(os.getuid() != 0, reason="tar in the sandbox's id map needs root")


def _gzip(*parts: bytes, stream=()) -> bytes:
    co = zlib.compressobj(6, zlib.DEFLATED, 31)
    out = [co.compress(p) for p in parts]
    out += [co.compress(chunk) for chunk in stream]
    return b"".join(out) + co.compress(b"\0" * 1024) + co.flush()


def _headers(n: int) -> bytes:
    """A gzip of n identical headers of an empty file `a` (a few bytes each)."""
    info = tarfile.TarInfo("a")
    return _gzip(stream=(info.tobuf(tarfile.USTAR_FORMAT) * 1000 for _ in range(n // 1000)))


def _pax(size: int) -> bytes:
    """A gzip of one empty file whose pax header holds a `comment` record of `size` bytes."""
    info = tarfile.TarInfo("a")
    info.pax_headers = {"comment": "x" * size}
    return _gzip(info.tobuf(tarfile.PAX_FORMAT))


class _Session:
    ref, calls, limit = "test/image", 0, None

    def left(self) -> float:                   # the pull's deadline: passed at call `limit`
        self.calls += 1
        if self.limit is not None and self.calls >= self.limit:
            raise registry.RegistryError(f"image {self.ref}: the pull's deadline passed")
        return 1.0


def _peak(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_p03_a_layer_of_many_headers_is_read_in_memory_that_does_not_grow_with_them(tmp_path):
    # tarfile's stream mode kept every TarInfo: ~400 B of trainer memory per 512-byte header
    (layer := tmp_path / "layer").write_bytes(_headers(20000))
    keep = {}
    assert _peak(lambda: keep.update(registry._survivors([layer], _Session()))) < 2 << 20
    assert [name for name, _ in keep.values()] == ["a"]


def test_p11_a_pax_record_over_the_cap_is_refused_before_it_is_read(tmp_path):
    # a 39 KiB blob made the trainer read and parse a 40 MiB record (300 MiB: 1.5 GB, 13 min)
    (layer := tmp_path / "layer").write_bytes(_pax(8 << 20))
    with pytest.raises(registry.RegistryError, match="pax record is over 1024 KiB"):
        _peak(lambda: registry._survivors([layer], _Session()))


def test_p11_the_deadline_stops_a_read_in_progress(tmp_path):
    # the deadline was checked once per member: skipping one member's 128 MiB of zeros was not stopped
    info = tarfile.TarInfo("zeros")
    info.size = 128 << 20
    zeros = bytes(1 << 20)
    (layer := tmp_path / "layer").write_bytes(_gzip(info.tobuf(tarfile.USTAR_FORMAT), stream=[zeros] * 128))
    s = _Session()
    s.limit = 20
    with pytest.raises(registry.RegistryError, match="deadline passed"):
        registry._survivors([layer], s)


def test_p11_a_layer_with_a_long_name_and_ordinary_pax_records_is_still_read(tmp_path):
    info = tarfile.TarInfo("d/" + "n" * 300)
    info.pax_headers = {"comment": "a real one"}
    (layer := tmp_path / "layer").write_bytes(_gzip(info.tobuf(tarfile.PAX_FORMAT)))
    assert [name for name, _ in registry._survivors([layer], _Session()).values()] == ["d/" + "n" * 300]


@pytest.fixture
def out():
    """A directory the sandbox's root may unpack into (pytest's tmp_path is behind a 0700 directory)."""
    top = Path(tempfile.mkdtemp(prefix="echo-rt12-archives-"))
    top.chmod(0o755)
    (top / "out").mkdir()
    images._own(top / "out")
    yield top / "out"
    images._rm(top)


@root_only
def test_p17_an_add_archive_with_a_pax_record_over_the_cap_is_refused(out):
    # its record was read whole and never counted: +225 MiB of trainer memory from a 39 KiB archive
    with pytest.raises(images.BuildError, match="ADD bomb.tar.gz: a member's pax record is over"):
        images._unpack(io.BytesIO(_pax(8 << 20)), out, [1 << 30, 1 << 20], "ADD bomb.tar.gz",
                       time.monotonic() + 30)


@root_only
def test_p25_an_add_archive_of_many_headers_is_unpacked_in_memory_that_does_not_grow_with_them(out):
    # 10,000 headers (20,000 took twice as long under tracemalloc): a writer keeping its members holds ~4 MiB
    peak = _peak(lambda: images._unpack(io.BytesIO(_headers(10000)), out, [1 << 30, 1 << 20],
                                        "ADD many.tar.gz", time.monotonic() + 60))
    assert peak < 2 << 20 and [p.name for p in out.iterdir()] == ["a"]


def _tar(*members: tarfile.TarInfo):
    buf = tempfile.TemporaryFile()             # an import reads a real file, as the cache's
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for m in members:
            tar.addfile(m, io.BytesIO(b"x" * m.size) if m.isreg() else None)
    buf.seek(0)
    return buf


def _file(name: str, size: int = 1) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    return info


@root_only
def test_p35_an_import_tar_fails_is_refused_whatever_its_words(cache):  # noqa: F811 - fixture
    # "Cannot mknod" in every error line forgave the failure, and a member's name can say it
    f = _tar(_file("Cannot mknod"), _file("Cannot mknod/payload"), _file("etc/marker"))
    with pytest.raises(images.BuildError, match="cannot import"):
        images._save("partial:1", f, "test", {}, "/", cache)
    assert not list((cache / "images").glob("*/image.json"))


@root_only
def test_p35_an_image_with_device_nodes_imports_without_them(cache):  # noqa: F811 - fixture
    # debootstrap's /dev: nodes a user namespace cannot make, left out (the sandbox mounts its own /dev)
    null = tarfile.TarInfo("dev/null")
    null.type, null.devmajor, null.devminor = tarfile.CHRTYPE, 1, 3
    image = images._save("devices:1", _tar(_file("etc/hostname", 3), null), "test", {}, "/", cache)
    assert (image.rootfs / "etc/hostname").read_bytes() == b"xxx"
    assert not os.path.lexists(image.rootfs / "dev/null")


def test_p10_layers_declared_over_the_cap_are_refused_before_any_is_downloaded(tmp_path):
    # a 200 MiB blob under a 50 MiB cap was written whole to the cache, and stayed there
    from test_registry import FakeRegistry, pull
    reg = FakeRegistry()
    try:
        with pytest.raises(registry.RegistryError, match="its layers add up to 0 MiB, over the 0 MiB"):
            pull(reg, tmp_path, max_bytes=1)
    finally:
        reg.server.shutdown()
        reg.server.server_close()
    assert len(list((tmp_path / "blobs" / "sha256").iterdir())) == 1      # the config only
