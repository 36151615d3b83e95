"""Task-controlled tar archives (registry layers, ADD'ed local archives), read by the trainer with memory and
time set by budgets, not by the archive's headers (rt12b p03, p11, p17, p25).

Python's tarfile, used as is, follows the headers: its stream mode keeps every TarInfo it has read (250k
identical headers in 545 KiB: +100-150 MiB), reads a pax or GNU longname record whole however large it
says it is (one 40 MiB pax record in a 39 KiB gzip: +200 MiB, a 300 MiB one: 1.5 GB), and re-copies its
decompressed buffer on every 512-byte read (quadratic: minutes of CPU). Here the archive is decompressed by
gzip/bz2/lzma's own readers, which never inflate more than asked; tarfile only sees a plain stream; every
TarInfo is dropped once the next is read; the header blocks of one member (pax records, long names, sparse
maps: everything before its data) are capped at MAX_HEADER; and `check` (the caller's deadline) runs on
every read, so it can stop a read in progress (skipping a member's gigabyte of zeros too).

A decompressor's memory is the trainer's too: gzip's window is 32 KiB and bzip2's state at most ~4 MiB (both
fixed by the format), but an xz block header declares its own window, up to 4 GiB, which lzma allocates and
fills as it inflates (a 229 KiB .tar.xz declaring one: +1.5 GiB, rt14b p09/p10/p25). So xz is read under
XZ_MEMLIMIT, and an archive over it is refused in one line. zstd is not read here (not a tar to ADD).
"""
import bz2
import gzip
import io
import lzma
import tarfile
import zlib
from typing import BinaryIO, Callable, Iterator

try:
    from _compression import DecompressReader          # what LZMAFile reads through (3.11-3.13)
except ImportError:                                     # 3.14 moved it
    from compression._common._streams import DecompressReader

MAX_HEADER = 1 << 20   # a member's headers before its data; a real long name or pax record is a few KiB
PATH_MAX = 4096         # the kernel's, with the NUL: a longer name can never be unpacked
MAX_DEPTH = 256         # images.MAX_DEPTH: Python's recursive copy and rmtree end near 1,000 levels
XZ_MEMLIMIT = 96 << 20  # xz -9's window is 64 MiB (65 MiB to decode): every preset fits; 4 GiB does not


class ArchiveError(Exception):
    """The archive is over a cap: the task's fault, in one line."""


class _Checked:
    """A file that calls check() before every read: the caller's deadline, inside reads."""

    def __init__(self, f: BinaryIO, check: Callable[[], None]):
        self.f, self.check = f, check

    def read(self, n: int = -1) -> bytes:
        self.check()
        return self.f.read(n if n is not None and n >= 0 else 1 << 16)   # never "all of it" at once

    def close(self) -> None:
        pass


def _over(what: str) -> ArchiveError:
    return ArchiveError(f"a member's {what} is over {MAX_HEADER >> 10} KiB (the most a header may take)")


class _Capped(tarfile.TarInfo):
    """A TarInfo whose extended headers may not take more than MAX_HEADER bytes in all before the member's
    data: checked before tarfile reads them (tarfile.offset is still where this member's first header
    began), so a chain of pax headers is bounded as one."""

    def _room(self, tar, more: int, what: str) -> None:
        if tar.fileobj.tell() + more - tar.offset > MAX_HEADER:
            raise _over(what)

    def _proc_gnulong(self, tar):
        self._room(tar, self._block(self.size), "long name")
        return super()._proc_gnulong(tar)

    def _proc_pax(self, tar):
        self._room(tar, self._block(self.size), "pax record")
        return super()._proc_pax(tar)

    def _proc_sparse(self, tar):
        # tarfile's own loop reads extension blocks for as long as each says another follows
        structs, more, origsize = self._sparse_structs
        del self._sparse_structs
        while more:
            self._room(tar, tarfile.BLOCKSIZE, "sparse map")
            buf = tar.fileobj.read(tarfile.BLOCKSIZE)
            for pos in range(0, 21 * 24, 24):
                try:
                    offset, numbytes = tarfile.nti(buf[pos:pos + 12]), tarfile.nti(buf[pos + 12:pos + 24])
                except ValueError:
                    break
                if offset and numbytes:
                    structs.append((offset, numbytes))
            more = bool(buf[504:505] and buf[504])
        self.sparse = structs
        self.offset_data = tar.fileobj.tell()
        tar.offset = self.offset_data + self._block(self.size)
        self.size = origsize
        return self

    def _proc_gnusparse_10(self, next, pax_headers, tar):
        # tarfile's own reads the map's numbers until it has as many as the map's first line says
        start, sparse = tar.fileobj.tell(), []
        buf = tar.fileobj.read(tarfile.BLOCKSIZE)
        try:
            fields, buf = buf.split(b"\n", 1)
            fields = int(fields)
            while len(sparse) < fields * 2:
                if b"\n" not in buf:
                    if tar.fileobj.tell() + tarfile.BLOCKSIZE - start > MAX_HEADER:
                        raise _over("sparse map")
                    more = tar.fileobj.read(tarfile.BLOCKSIZE)
                    if not more:
                        raise tarfile.ReadError("unexpected end of data in a sparse map")
                    buf += more
                number, buf = buf.split(b"\n", 1)
                sparse.append(int(number))
        except ValueError:
            raise tarfile.ReadError("malformed sparse map") from None
        next.offset_data = tar.fileobj.tell()
        next.sparse = list(zip(sparse[::2], sparse[1::2]))


def _check_name(member: tarfile.TarInfo) -> None:
    """Refuse a name (or link target) the kernel would refuse anyway, before anyone walks its parents: a
    1 MiB pax path of 32,768 components cost quadratic work and GiBs per walk (rt14b p11, p12); and a name
    deeper than a COPY may be (MAX_DEPTH): 1,500 levels, unpacked, made the trainer's rmtree of the staged
    tree raise RecursionError."""
    for what, name in (("name", member.name), ("link target", member.linkname)):
        raw = name.encode("utf-8", "surrogateescape")
        if len(raw) >= PATH_MAX:
            raise ArchiveError(f"a member's {what} is {len(raw)} bytes, over PATH_MAX ({PATH_MAX} with "
                               f"its NUL): {name[:60]!r}...")
    if sum(part not in ("", ".") for part in member.name.split("/")) > MAX_DEPTH + 1:
        raise ArchiveError(f"a member's name is nested deeper than {MAX_DEPTH} directories: "
                           f"{member.name[:60]!r}...")


def members(f: BinaryIO, check: Callable[[], None]) -> Iterator[tuple[tarfile.TarInfo, tarfile.TarFile]]:
    """Yield (member, tar) for each member of the tar archive in `f` (a file at offset 0: plain, gzip, bzip2
    or xz); tar.extractfile(member) reads its data until the next member is asked for. Raises ArchiveError
    past MAX_HEADER, tarfile.TarError (or EOFError, OSError, zlib/lzma errors) on a broken archive, and
    whatever check() raises."""
    head = f.read(6)
    f.seek(0)
    raw = f
    if head.startswith(b"\x1f\x8b"):
        raw = gzip.GzipFile(fileobj=f, mode="rb")
    elif head.startswith(b"BZh"):
        raw = bz2.BZ2File(f)
    elif head.startswith(b"\xfd7zXZ"):
        # LZMAFile has no memlimit to set: its own reader, with one (for every concatenated stream)
        raw = io.BufferedReader(DecompressReader(f, lzma.LZMADecompressor, trailing_error=lzma.LZMAError,
                                                 memlimit=XZ_MEMLIMIT))
    try:
        with tarfile.open(fileobj=_Checked(raw, check), mode="r|", tarinfo=_Capped) as tar:
            while (member := tar.next()) is not None:
                tar.members.clear()           # stream mode keeps every member read: O(members) otherwise
                _check_name(member)
                yield member, tar
    except lzma.LZMAError as e:
        if "memory usage limit" in str(e).lower():
            raise ArchiveError(f"its xz header declares a window that needs over {XZ_MEMLIMIT >> 20} MiB to "
                               "decompress (xz -9 needs 65 MiB)") from None
        raise tarfile.ReadError(f"invalid compressed data ({e})") from None
    except zlib.error as e:                    # the other decompressors' errors are OSError or EOFError
        raise tarfile.ReadError(f"invalid compressed data ({e})") from None


def is_tar(f: BinaryIO, check: Callable[[], None]) -> bool:
    """Whether `f` (at offset 0; left there) starts as a tar archive: tarfile.is_tarfile, but under the same
    caps (its first member's pax record would be read whole). Over a cap is a tar: unpacking it says why."""
    walk = members(f, check)
    try:
        next(walk, None)                       # none: an archive of no members (zero blocks) is one
        return True
    except ArchiveError:
        return True
    except (tarfile.TarError, OSError, EOFError):
        return False
    finally:
        walk.close()
        f.seek(0)
