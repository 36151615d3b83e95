"""Pull a public image from an OCI / Docker registry and write its merged root filesystem as one tar stream.

The registry protocol (OCI distribution spec; Docker Hub speaks the same), as pull() walks it:

    1. GET /v2/<repo>/manifests/<tag or digest>, Accept: OCI index, Docker manifest list, OCI manifest,
       Docker v2 schema 2 manifest. A 401 carries `WWW-Authenticate: Bearer realm=..,service=..,scope=..`:
       GET realm?service=..&scope=repository:<repo>:pull gives an anonymous {"token": ..}; retry with
       `Authorization: Bearer <token>`.
    2. An index / manifest list names one manifest per platform: GET the one for `platform` by digest.
    3. The manifest names the config blob (Env, WorkingDir, Cmd, ...) and the layer blobs, oldest first.
       GET /v2/<repo>/blobs/<digest> for each; registries answer with a redirect to a CDN, which must not
       see our token. Every blob and every manifest fetched by digest is checked against its sha256.
    4. Apply the layers in order (OCI image spec, "Applying changesets"): a later layer's path replaces
       an earlier one, `.wh.NAME` deletes NAME and everything under it, `DIR/.wh..wh..opq` hides all that
       earlier layers put in DIR. Here that is two streaming passes: pass 1 reads member names only and
       decides which (layer, member) survives; pass 2 copies the survivors into one uncompressed tar.

Every connection goes to a host the image's task named (its FROM line, the realm of a 401, each redirect), and
the trainer makes it as host root: each is resolved once, its addresses checked, and only a public one (or one
inside `registry_nets`, the networks the user allowed) connected to, with the name kept for Host and TLS
SNI. So no spelling (127.1, 2130706433, 0x7f.1, [::ffff:127.0.0.1], a name that resolves there or rebinds
there later) reaches the host's loopback, a private network or cloud metadata (169.254.169.254). Proxies
from the environment are not used: a proxy would make the connection where it cannot be checked.

The merged tar keeps uid/gid/mode/mtime, symlinks, hard links and pax headers (xattrs). Device nodes and
FIFOs are dropped (an unprivileged extractor cannot make them; /dev is the sandbox's own). A hard link
whose target a later layer removed or replaced gets the target's data itself, so the stream extracts.
"""
from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import posixpath
import re
import socket
import tarfile
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import archives
from errors import EchoError, one_line

DOCKER_HUB = "registry-1.docker.io"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
CONFIG_KEYS = ("Env", "WorkingDir", "User", "Cmd", "Entrypoint", "Shell", "Healthcheck")
MAX_MANIFEST = 4 << 20   # bytes of a manifest or index read at most (the distribution spec's own suggestion)
NAME = re.compile(r"[a-z0-9]+(?:[._-]+[a-z0-9]+)*(?:/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)*")  # Docker's repo rule


class RegistryError(EchoError, RuntimeError):
    pass


class RegistryUnreachable(RegistryError):
    """The host did not answer at all: a caller may fall back to another image source."""


@dataclass(frozen=True)
class Ref:
    registry: str    # host[:port], e.g. registry-1.docker.io, ghcr.io, localhost:5000
    repository: str  # e.g. library/ubuntu
    reference: str   # a tag, or a digest sha256:<hex>


def parse_reference(ref: str) -> Ref:
    """Docker's rules: a first component with '.' or ':' or equal to 'localhost' is the registry host,
    otherwise Docker Hub, where one-component names live under library/. No tag means latest."""
    name, _, digest = ref.partition("@")
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        registry, path = first, rest
    else:
        registry, path = DOCKER_HUB, name
    registry = DOCKER_HUB if registry in ("docker.io", "index.docker.io") else registry
    tag = "latest"
    if ":" in path.rsplit("/", 1)[-1]:
        path, tag = path.rsplit(":", 1)
    if registry == DOCKER_HUB and "/" not in path:
        path = "library/" + path
    if not NAME.fullmatch(path) or not re.fullmatch(r"[\w][\w.-]{0,127}", tag) or (
            digest and not re.fullmatch(r"sha256:[0-9a-f]{64}", digest)):
        raise RegistryError(f"bad image reference {ref!r} (want [host/]name[:tag][@sha256:<64 hex>])")
    return Ref(registry, path, digest or tag)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):  # _Session.get follows them itself, to decide where the token goes
        return None


def _kind(ip) -> str | None:
    """What makes `ip` an address a task must not send the trainer to, or None for a public unicast one.
    An IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::a.b.c.d) or 6to4
    (2002:AABB:CCDD::) address is judged by the IPv4 address inside it."""
    if ip.version == 6:
        top96 = int(ip) >> 32
        if ip.ipv4_mapped or ip.sixtofour or (top96 in (0, 0x64ff9b << 64) and int(ip) > 1):  # not :: or ::1
            return _kind(ip.ipv4_mapped or ip.sixtofour or ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    for kind in ("loopback", "link_local", "site_local", "unspecified", "multicast", "reserved", "private"):
        if getattr(ip, f"is_{kind}", False):    # site-local (fec0::/10) is IPv6's only
            return kind.replace("_", "-")
    return None if ip.is_global else "non-public"   # 100.64/10 (carrier NAT) and the like


def host_addresses() -> set:
    """The addresses of this host's own interfaces (the kernel's LOCAL routes, /proc/net/fib_trie, and
    /proc/net/if_inet6): a public one reaches the host's own services as well as loopback does (rt11b p06:
    `FROM <this host's public address>:port/x` had the trainer, as root, talk to a service listening on
    0.0.0.0). Empty where /proc does not say."""
    found, last = set(), None
    try:
        with open("/proc/net/fib_trie") as f:
            for line in f:
                if line.strip().startswith("|--"):
                    last = line.split()[-1]
                elif "/32 host LOCAL" in line and last:
                    found.add(ipaddress.ip_address(last))
    except (OSError, ValueError):
        pass
    try:
        with open("/proc/net/if_inet6") as f:
            for line in f:
                h = line.split()[0]
                found.add(ipaddress.ip_address(":".join(h[i:i + 4] for i in range(0, 32, 4))))
    except (OSError, ValueError, IndexError):
        pass
    return found


class _Guard:
    """The one place a pull's connections are made: resolve once, keep the allowed addresses, connect to
    one of those (http.client's _create_connection, so the Host header and SNI keep the name)."""

    def __init__(self, ref: str, nets):
        self.ref, self.socks, self.own = ref, [], host_addresses()
        try:
            self.nets = [ipaddress.ip_network(n, strict=False) for n in nets]
        except ValueError as e:
            raise RegistryError(f"image {ref}: bad --registry-net {str(e).split(' ')[0]} (want a network "
                                "such as 127.0.0.1/32 or 10.0.0.0/8)") from None

    def allowed(self, ip) -> bool:
        ip = ipaddress.ip_address(str(ip).split("%")[0])
        mapped = getattr(ip, "ipv4_mapped", None)
        return self._kind(ip) is None or any(a in n for a in (ip, mapped) if a for n in self.nets
                                             if a.version == n.version)

    def _kind(self, ip) -> str | None:
        mapped = getattr(ip, "ipv4_mapped", None)
        return _kind(ip) or ("this host's own" if ip in self.own or mapped in self.own else None)

    def connect(self, address, timeout=socket._GLOBAL_DEFAULT_TIMEOUT, source_address=None):
        host, port = address
        infos = _resolve(host, port, None if timeout is socket._GLOBAL_DEFAULT_TIMEOUT else timeout)
        ok = [i for i in infos if self.allowed(i[4][0])]
        if not ok:
            ip = ipaddress.ip_address(infos[0][4][0].split("%")[0])
            shown = f"::ffff:{ip.ipv4_mapped}" if getattr(ip, "ipv4_mapped", None) else ip
            where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
            raise RegistryError(f"image {self.ref}: {where} is at {shown}, a {self._kind(ip)} address: "
                                "refused "
                                "(a registry on this machine or network: --registry-net CIDR)")
        err = None
        for family, kind, proto, _, addr in ok:
            sock = socket.socket(family, kind, proto)
            try:
                if timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:
                    sock.settimeout(timeout)
                sock.connect(addr)
                self.socks.append(sock)
                return sock
            except OSError as e:
                sock.close()
                err = e
        raise err


    def cut(self) -> None:
        """Shut every connection made so far: a read blocked in one (a header or a body dripped a byte at a
        time, each within the per-read timeout) returns at once."""
        for sock in self.socks:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _resolve(host: str, port: int, timeout: float | None) -> list:
    """getaddrinfo within `timeout`: the C resolver has no timeout of its own to give (a name server that
    never answers holds it 5 s per try, per server, per lookup), so it runs in a daemon thread that is
    left behind if it is late. OSError (unreachable) when it fails or is late."""
    answer: list = []

    def look():
        try:
            answer.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except OSError as e:
            answer.append(e)
    t = threading.Thread(target=look, daemon=True)
    t.start()
    t.join(timeout)
    if not answer:
        raise TimeoutError(f"resolving {host} took over {timeout:.0f} s")
    if isinstance(answer[0], OSError):
        raise answer[0]
    return answer[0]


class _Guarded:
    """An urllib handler whose connections go through a _Guard."""

    def __init__(self, guard: _Guard):
        super().__init__()
        self.guard = guard

    def do_open(self, http_class, req, **kw):
        def connection(*args, **kwargs):
            conn = http_class(*args, **kwargs)
            conn._create_connection = self.guard.connect
            return conn
        return super().do_open(connection, req, **kw)


class _GuardedHTTP(_Guarded, urllib.request.HTTPHandler):
    pass


class _GuardedHTTPS(_Guarded, urllib.request.HTTPSHandler):
    pass


class _Session:
    """GETs against one repository, holding its anonymous bearer token."""

    def __init__(self, ref: str, scheme: str, timeout: float, deadline: float | None = None, nets=()):
        self.ref, self.r, self.timeout, self.token = ref, parse_reference(ref), timeout, None
        self.deadline = deadline  # time.monotonic() by which the whole pull is done, or None
        self.keep_free, self.disk = None, None   # bytes the disk at `disk` keeps free (pull's keep_free)
        self.base = f"{scheme}://{self.r.registry}/v2/{self.r.repository}/"
        self.guard, self.timer = _Guard(ref, nets), None
        self.opener = urllib.request.build_opener(_NoRedirect, urllib.request.ProxyHandler({}),
                                                  _GuardedHTTP(self.guard), _GuardedHTTPS(self.guard))

    def __enter__(self) -> "_Session":
        """The deadline, kept even by a read that blocks inside http.client (headers, a manifest, a token):
        at the deadline every connection is shut, and whatever that breaks is reported as the deadline."""
        if self.deadline is not None:
            self.timer = threading.Timer(max(0.0, self.deadline - time.monotonic()), self.guard.cut)
            self.timer.daemon = True
            self.timer.start()
        return self

    def __exit__(self, kind, e, tb) -> None:
        if self.timer:
            self.timer.cancel()
        late = self.deadline is not None and time.monotonic() >= self.deadline
        if late and isinstance(e, Exception):  # a cut read reads as a short blob or a lost host: it is not
            raise RegistryError(f"image {self.ref}: the pull's deadline passed") from None

    def left(self) -> float:
        """Seconds for the next network wait: the per-read timeout, within the pull's overall deadline."""
        if self.deadline is None:
            return self.timeout
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise RegistryError(f"image {self.ref}: the pull's deadline passed")
        return min(self.timeout, left)

    def room(self, more: int) -> None:
        """Refuse `more` bytes that would leave the disk under keep_free: blobs, the merged tar and the
        rootfs are ~3x an image, each once capped only at max_bytes (rt14b p23: to 0 MiB free)."""
        if self.keep_free is None:
            return
        v = os.statvfs(self.disk)          # cheap: once per MiB of a blob, once per merged file
        if v.f_bavail * v.f_frsize - more < self.keep_free:
            raise RegistryError(f"image {self.ref}: would leave under {self.keep_free >> 20} MiB free on the "
                                "cache's disk")

    def open(self, url: str, headers: dict):
        # Every request, the registry's realm and redirects included, is HTTP(S): urllib would also open
        # file: (a root-only host file as a token, sent on to the registry), ftp: (past the guard) and data:.
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise RegistryError(f"image {self.ref}: refused to open {url.split('?')[0][:100]!r} (only http "
                                "and https)")
        try:
            return self.opener.open(urllib.request.Request(url, headers=headers), timeout=self.left())
        except urllib.error.HTTPError:
            raise
        except OSError as e:  # refused, no such host, TLS, timeout: nothing answered
            host, why = urllib.parse.urlsplit(url).netloc, getattr(e, "reason", e)
            raise RegistryUnreachable(f"image {self.ref}: {host} unreachable ({why})") from None

    def get(self, path: str, accept: str = "*/*"):
        url, authed = urllib.parse.urljoin(self.base, path), False
        for _ in range(10):
            headers = {"Accept": accept}
            if self.token and urllib.parse.urlsplit(url).netloc == self.r.registry:  # never to a CDN
                headers["Authorization"] = f"Bearer {self.token}"
            try:
                return self.open(url, headers)
            except urllib.error.HTTPError as e:
                challenge = e.headers.get("WWW-Authenticate", "")
                if e.code in (301, 302, 303, 307, 308) and "Location" in e.headers:
                    url = urllib.parse.urljoin(url, e.headers["Location"])
                elif e.code == 401 and not authed and challenge.lower().startswith("bearer "):
                    p = dict(re.findall(r'(\w+)="([^"]*)"', challenge))  # realm, service, scope
                    query = {"service": p.get("service", ""), "scope": f"repository:{self.r.repository}:pull"}
                    with self.open(f"{p.get('realm')}?{urllib.parse.urlencode(query)}", {}) as resp:
                        answer = json.loads(resp.read(1 << 20))
                    self.token, authed = answer.get("token") or answer.get("access_token"), True
                else:
                    raise
        raise RegistryError(f"image {self.ref}: too many redirects at {url}")


def _manifest(s: _Session, reference: str, platform: str) -> dict:
    """The image manifest for `platform`, going through an index / manifest list if there is one."""
    try:
        with s.get(f"manifests/{reference}", f"{OCI_INDEX}, {DOCKER_LIST}, {OCI_MANIFEST}, "
                                             f"{DOCKER_MANIFEST}") as resp:
            body, ctype = resp.read(MAX_MANIFEST + 1), resp.headers.get("Content-Type", "")
            if len(body) > MAX_MANIFEST:
                raise RegistryError(f"image {s.ref}: manifest {reference} is over {MAX_MANIFEST >> 20} MiB")
    except urllib.error.HTTPError as e:
        if e.code in (401, 404):  # Docker Hub answers 401, even with a token, for a repo that isn't there
            raise RegistryError(f"image {s.ref} not found (HTTP {e.code} for {reference})") from None
        raise RegistryError(f"image {s.ref}: manifest {reference}: HTTP {e.code} {e.reason}") from None
    if reference.startswith("sha256:"):
        _check(s, reference, hashlib.sha256(body).hexdigest())
    m = json.loads(body)
    media = m.get("mediaType") or ctype.split(";")[0]
    if media in (OCI_INDEX, DOCKER_LIST) or "manifests" in m:
        want = platform.split("/")  # os/arch[/variant]; no variant asked means any
        have = [(d, [d.get("platform", {}).get(k, "") for k in ("os", "architecture", "variant")])
                for d in m["manifests"]]
        for d, p in have:
            if p[:2] == want[:2] and (len(want) < 3 or p[2] == want[2]):
                return _manifest(s, d["digest"], platform)
        there = sorted({"/".join(x for x in p if x) for _, p in have} - {"unknown/unknown"})
        raise RegistryError(f"image {s.ref} has no {platform} manifest (there are: {', '.join(there)})")
    if media not in (OCI_MANIFEST, DOCKER_MANIFEST) and "layers" not in m:
        raise RegistryError(f"image {s.ref}: unsupported manifest media type {media or '?'}")
    return m


def _check(s: _Session, digest: str, got: str):
    if digest != f"sha256:{got}":
        raise RegistryError(f"image {s.ref}: digest mismatch for {digest} (got sha256:{got})")


def _blob(s: _Session, desc: dict, blob_dir: Path, say) -> Path:
    """blob_dir/sha256/<hex>, downloaded and checked unless already there. The temp-name-then-rename makes
    concurrent pulls of the same blob safe: each writes its own file and the rename is atomic."""
    digest = desc["digest"]
    if not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):  # it becomes a file name: no "../" from a manifest
        raise RegistryError(f"image {s.ref}: unsupported digest {digest!r}")
    path = blob_dir / "sha256" / digest.removeprefix("sha256:")
    if path.exists():
        return path
    size = desc.get("size")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise RegistryError(f"image {s.ref}: blob {digest} has no valid size ({size!r})")
    path.parent.mkdir(parents=True, exist_ok=True)
    h, n = hashlib.sha256(), 0
    # The owner in the name (pid, start time) lets images.sweep remove what a killed pull left.
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".part-{os.getpid()}-{_started()}-",
                                     delete=False) as tmp:
        try:
            with s.get(f"blobs/{digest}") as resp:
                # Never more than the declared size + 1 byte is read or written: one byte over is refused.
                while chunk := resp.read1(min(1 << 20, size + 1 - n)):
                    h.update(chunk)
                    s.room(len(chunk))
                    tmp.write(chunk)
                    n += len(chunk)
                    if n > size:
                        raise RegistryError(f"image {s.ref}: blob {digest} is larger than its declared "
                                            f"{size} bytes")
                    s.left()                   # the overall deadline, checked as it streams
                    say(f"{n / 1e6:.1f}/{size / 1e6:.1f} MB")
            if n != size:
                raise RegistryError(f"image {s.ref}: blob {digest} is {n} bytes, not its declared {size}")
            _check(s, digest, h.hexdigest())
        except BaseException as e:
            os.unlink(tmp.name)
            if isinstance(e, OSError):  # an HTTP error status, or the connection dropped mid-blob
                raise RegistryError(f"image {s.ref}: blob {digest}: {e}") from None
            raise
    os.replace(tmp.name, path)
    return path


def _started() -> str:
    """This process's start time (field 22 of /proc/self/stat), which a reused pid does not share."""
    try:
        return open("/proc/self/stat").read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return "0"


def _norm(name: str) -> str:
    return posixpath.normpath("/" + name).lstrip("/")  # "./a/b/", "/a/b" and "a//b" all name a/b


def _parents(name: str):
    while (name := posixpath.dirname(name)):
        yield name


def _survivors(layers: list[Path], s: _Session,
               max_files: int | None = None) -> dict[tuple[int, int], tuple[str, str | None]]:
    """Pass 1: (layer i, member k) -> (name, hard link target) for every member the merged tar keeps. What it
    holds grows with a layer's distinct names and hard links, each capped as it reads (`held`)."""
    owner: dict[str, tuple[int, int]] = {}  # path -> the (layer, member) that has it now
    held = float("inf") if max_files is None else max(2 * max_files, 1 << 16)   # 64k names: ~15 MiB
    links = []                              # (layer, member, name, (layer, member) of the link's target)
    for i, path in enumerate(layers):
        gone, cut, names = set(), set(), {}  # gone: whiteouts; cut: paths whose subtree lower layers lose
        try:
            with open(path, "rb") as f:
                for k, (m, _) in enumerate(archives.members(f, s.left)):  # s.left: the deadline, in reads
                    # what pass 1 holds, bounded as it reads: a layer may hold more than the cap, as a later
                    # one may remove some (the merged image's own count is checked exactly after)
                    if max(len(names), len(links)) > held:
                        raise RegistryError(f"image {s.ref}: layer {i + 1} has over {held} files and "
                                            f"directories (the most allowed is {max_files})")
                    name = _norm(m.name)
                    base, d = posixpath.basename(name), posixpath.dirname(name)
                    if base == ".wh..wh..opq":
                        cut.add(d)
                    elif base.startswith(".wh."):
                        gone.add(posixpath.join(d, base[4:]))
                        cut.add(posixpath.join(d, base[4:]))
                    elif name and not (m.ischr() or m.isblk() or m.isfifo()):
                        if m.islnk():  # its target is the latest earlier member of this layer so named
                            links.append((i, k, name, names.get(_norm(m.linkname))))
                        names[name] = (i, k)
                        if not m.isdir():
                            cut.add(name)  # a file replacing a directory hides the directory's tree
        except (tarfile.TarError, OSError, EOFError, archives.ArchiveError) as e:
            raise RegistryError(f"image {s.ref}: layer {i + 1} ({path.name[:12]}) unreadable ({e})") from None
        for p in list(owner):
            s.left()                           # the deadline inside the walk too: a path's is ~1 ms at most
            if p in gone or any(q in cut for q in _parents(p)):
                del owner[p]
        owner.update(names)
    keep = {ik: (name, None) for name, ik in owner.items()}
    for i, k, name, target in links:
        if (i, k) not in keep or target is None:  # gone, or a link to nothing in its layer: drop it
            keep.pop((i, k), None)
        elif target in keep:
            keep[(i, k)] = (name, keep[target][0])
        else:  # the target was removed or replaced later: this link carries the target's data instead
            del keep[(i, k)]
            keep[target] = (name, None)
    return keep


def pull(ref: str, out: BinaryIO, blob_dir: Path, platform: str = "linux/amd64", progress=None,
         timeout: float = 30, scheme: str = "https", deadline: float | None = None,
         max_bytes: int | None = None, registry_nets=(), max_files: int | None = None,
         keep_free: int | None = None) -> dict:
    """Write the merged root filesystem of image `ref` for `platform` to `out` as one uncompressed tar
    stream; blobs are cached in blob_dir/sha256/. Returns the config's CONFIG_KEYS (Env, WorkingDir, User,
    ...; keys the config lacks or has as null are left out). progress(msg) gets a line
    at most once a second. `timeout` bounds each network wait, `deadline` (time.monotonic(); None: no
    overall bound) the whole pull, merge included. Every blob is checked against its declared size as it
    streams and its digest at the end; the layers' declared sizes, before any is downloaded, and the merged
    tar's files may each add up to `max_bytes` at most (None: no cap), checked before each is written, and
    be `max_files` entries (inodes once unpacked: rt11b p04) at most, checked before any is; and each blob's
    chunk and each merged file is refused where it would leave blob_dir's disk (where `out` is meant to be
    too) under `keep_free` bytes free (None: not checked).
    `registry_nets`: networks (CIDR strings) that may be reached though not public, e.g. ("127.0.0.1/32",)
    for a registry on this machine; every other loopback, private, link-local, multicast or reserved
    address is refused (see the module docstring). Raises
    RegistryError, or RegistryUnreachable when a host does not answer."""
    with _Session(ref, scheme, timeout, deadline, registry_nets) as s:
        s.keep_free, s.disk = keep_free, blob_dir
        try:
            return _pull(s, ref, out, blob_dir, platform, progress, max_bytes, max_files)
        except (ValueError, TypeError, KeyError, AttributeError, IndexError, RecursionError) as e:
            # the registry's JSON is the task's data: a wrong shape is the image's fault, in one line
            why = one_line(f"{type(e).__name__}: {e}")[:150]
            raise RegistryError(f"image {ref}: the registry's answer is malformed ({why})") from None


def _pull(s: _Session, ref: str, out: BinaryIO, blob_dir: Path, platform: str, progress,
          max_bytes: int | None, max_files: int | None = None) -> dict:
    last = [0.0]

    def say(msg: str):  # about once a second at most: a multi-minute pull shows it is alive
        if progress and time.monotonic() - last[0] >= 1:
            last[0] = time.monotonic()
            progress(f"pulling {ref}: {msg}")

    m = _manifest(s, s.r.reference, platform)
    say(f"{len(m['layers'])} layers, {sum(d.get('size', 0) for d in m['layers']) / 1e6:.1f} MB")
    if not isinstance(m.get("config"), dict) or not isinstance(m["config"].get("size"), int) or \
            m["config"]["size"] > MAX_MANIFEST:
        raise RegistryError(f"image {ref}: the image config is missing or over {MAX_MANIFEST >> 20} MiB")
    config = json.loads(_blob(s, m["config"], Path(blob_dir), say).read_bytes()).get("config") or {}
    # the blobs land in the cache whole before a byte of them is read: their declared sizes (each blob is
    # held to its own) are within the same cap as the files they unpack to, before any is downloaded
    declared = sum(d["size"] for d in m["layers"] if isinstance(d, dict) and type(d.get("size")) is int)
    if max_bytes is not None and declared > max_bytes:
        raise RegistryError(f"image {ref}: its layers add up to {declared >> 20} MiB, over the "
                            f"{max_bytes >> 20} MiB allowed")
    layers = []
    for n, desc in enumerate(m["layers"], 1):
        media = desc.get("mediaType", "")
        if "zstd" in media or not re.search(r"tar(\+gzip|\.gzip)?$", media):
            raise RegistryError(f"image {ref}: layer {n} has unsupported media type {media}")
        layers.append(_blob(s, desc, Path(blob_dir), lambda msg: say(f"layer {n}/{len(m['layers'])}, {msg}")))
    say(f"merging {len(layers)} layers")
    keep, written = _survivors(layers, s, max_files), 0
    if max_files is not None and len(keep) > max_files:
        raise RegistryError(f"image {ref}: {len(keep)} files and directories, over the {max_files} allowed")
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as merged:
        for i, path in enumerate(layers):  # pass 2: copy the survivors, in layer order
            with open(path, "rb") as f:       # read whole in pass 1: its headers are within the caps
                for k, (member, tar) in enumerate(archives.members(f, s.left)):
                    if (i, k) not in keep:
                        continue
                    written += member.size if member.isreg() else 0
                    if max_bytes is not None and written > max_bytes:
                        raise RegistryError(f"image {ref}: its files add up to over {max_bytes >> 20} MiB")
                    s.room(member.size if member.isreg() else 0)    # before it is written
                    member.name, link = keep[(i, k)]
                    member.linkname = link or member.linkname
                    # the layer's own path/linkpath pax records would override the names set here
                    member.pax_headers = {key: v for key, v in member.pax_headers.items()
                                          if key not in ("path", "linkpath")}
                    merged.addfile(member, tar.extractfile(member) if member.isreg() else None)
                    merged.members.clear()          # a writer keeps every member it wrote too
    return {k: config[k] for k in CONFIG_KEYS if config.get(k) is not None}
