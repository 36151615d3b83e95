"""Root filesystems for task environments: base images, and Dockerfile builds cached as overlay layers.

A task's `FROM` resolves to a base root filesystem, first found wins:
  1. a local image store (--images DIR or $ECHO_IMAGES): DIR/<name>/ (a root filesystem directory) or
     DIR/<name>.tar[.gz] (e.g. from `docker export`, `podman export`); <name> is the reference with
     '/', ':' and '@' as '_', e.g. ubuntu_24.04.tar; cached under that file's identity;
  2. the cache (CACHE/images/<name>), where everything below lands once imported;
  3. the image's OCI registry, when reachable (registry.py);
  4. a stand-in made by `python images.py debootstrap` (a Debian base, saved as CACHE/images/default),
     said once in a line;
  5. the host's system directories, read-only, said once in a line. `FROM host` asks for them outright
     (the built-in tasks do: they need only the host's python3, git, sqlite3, jq).
A digest-pinned reference (name@sha256:...) skips 5 (a BuildError): 4 serves it, the line saying the pin is
not honoured.

The build runs the Dockerfile's RUN, COPY, ADD, ENV, ARG, WORKDIR and SHELL (read by dockerfile.py, as the
loader reads them) in a sandbox with pasta's network, one step at a time, each stage the last one needs
(build_stages): COPY --from reads another stage's root filesystem through a sandbox of its own (paths
resolved against that root, never the host's), ADD <url> fetches in one (public addresses only). Each
RUN/COPY/ADD writes one layer, CACHE/layers/<key>/layer, where the key hashes the parent's key, the step,
its environment and, for COPY/ADD, what it copies (files, a stage's key, a download's sha256): tasks that
share a Dockerfile prefix (all 3,566 TermiGen tasks share their first three steps) share those layers,
and every episode, rank and run reuses them. A lock per key makes concurrent builds of one key safe.
Steps after `ARG TASK_SEED` are not cached: they generate a task instance and run in each episode.
CACHE is $ECHO_CACHE, /var/cache/echo as root, else ~/.cache/echo; resolve, build, debootstrap and
prepare_cache take another as `cache` (harbor.start_task passes its own through).
"""
from __future__ import annotations

import base64
import fcntl
import fnmatch
import glob
import hashlib
import ipaddress
import json
import os
import posixpath
import re
import secrets
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field, replace
from pathlib import Path

import archives
import dockerfile
import registry
import sandbox
from errors import EchoError, one_line, say
from sandbox import BASE_ENV, Limits, Sandbox

CACHE = Path(os.environ.get("ECHO_CACHE") or ("/var/cache/echo" if os.getuid() == 0 else
                                               Path.home() / ".cache" / "echo"))
# Instructions that change nothing in a built root filesystem here.
METADATA = {"LABEL", "EXPOSE", "CMD", "ENTRYPOINT", "MAINTAINER", "VOLUME", "HEALTHCHECK", "STOPSIGNAL",
            "ONBUILD", "USER"}       # USER, ENTRYPOINT, CMD: recorded by dockerfile.replay, used by harbor


class BuildError(EchoError, RuntimeError):
    """One line: which step failed and the last line it printed."""


@dataclass
class Image:
    """A base root filesystem and the config it came with."""
    name: str
    rootfs: Path | None                # None: the host's system directories
    env: dict[str, str] = field(default_factory=dict)
    workdir: str = "/"
    source: str = ""                   # where it came from, for messages and image.json
    digest: str = ""                   # sha256 of the imported root filesystem's tar ("" for the host's)
    user: str = "root"                 # its config's User, Entrypoint and Cmd (a registry's image), which
    entrypoint: list[str] | None = None     # a Dockerfile FROM it inherits (dockerfile.Config)
    cmd: list[str] | None = None
    healthcheck: dockerfile.Health | None = None      # its config's Healthcheck (dockerfile.config_health)


@dataclass
class State:
    """Where a build is after some steps: the layers so far (top first) and the Dockerfile's state."""
    image: Image
    layers: list[Path]
    key: str
    config: dockerfile.Config          # ENV (over the image's environment), ARG, WORKDIR, SHELL, USER
    sources: dict[str, "State"] = field(default_factory=dict)   # COPY --from values: the built stage/image
    fetched: dict[str, Path] = field(default_factory=dict)      # ADD <url> of the last step: its bytes

    @property
    def env(self) -> dict[str, str]:
        return self.config.env


def slug(ref: str) -> str:
    """An image store's file name for a reference: '/', ':' and '@' as '_' (ubuntu_24.04.tar)."""
    return re.sub(r"[/:@]", "_", ref)


BASE_NAME_MAX = 97        # cache_name's longest: an 80-character slug, '-' and 16 hex digits


def key_name(text: str) -> str:
    """A cache key: the whole sha256 of `text`, never a prefix (64 bits of one fall to a birthday search:
    two tasks' steps on one key, the second served the first's layer, rt13b p17), as unpadded base64url
    (43 characters, no '/', ':' or ','): it names layer directories, and an overlay mount's options name
    every lower one within a page (layer_cap), where 64 hex digits would take 20 layers off the cap."""
    return base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).decode().rstrip("=")


def cache_name(canon: str) -> str:
    """The cache's directory name for a canonical reference: a readable slug and a hash of the whole
    reference, so that two references never share one (`a/b_c` and `a_b/c` slug alike), nor a pinned
    digest its tag."""
    readable = re.sub(r"[^A-Za-z0-9._-]", "_", canon)[:80].lstrip(".") or "image"
    return f"{readable}-{hashlib.sha256(canon.encode()).hexdigest()[:16]}"


def check_reference(ref: str) -> None:
    """Docker's rules for an image reference (registry.parse_reference): `..`, `/x`, `a/../b`, a bad tag or
    digest are refused here, before any of it becomes a path in the image store or the cache."""
    try:
        registry.parse_reference(ref)
    except registry.RegistryError as e:
        raise BuildError(str(e)) from None


# Docker Hub under its other names, and public mirrors of its library images: the same images.
HUB_PREFIXES = ("docker.io/", "index.docker.io/", "registry-1.docker.io/", "public.ecr.aws/docker/library/",
                "mirror.gcr.io/library/")


def canonical(ref: str) -> str:
    """One name per image, Docker's short form: `docker.io/library/python:3.13`, `index.docker.io/library/
    python:3.13` and `public.ecr.aws/docker/library/python:3.13` are all `python:3.13`; `docker.io/bitnami/
    redis` is `bitnami/redis:latest` (no tag is latest, unless a digest pins it); a digest is kept."""
    name, at, digest = ref.partition("@")
    for prefix in HUB_PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix):]
            break
    if name.startswith("library/") and name.count("/") == 1:
        name = name.removeprefix("library/")
    if ":" not in name.rsplit("/", 1)[-1] and not digest:
        name += ":latest"
    return name + at + digest


def stand_in(ref: str, aliases: list[list[str]]) -> tuple[str, str] | None:
    """The first (pattern, image name) of `aliases` whose glob pattern matches the reference's canonical
    name, with or without its digest, or the reference as written."""
    canon = canonical(ref)
    names = {canon, canon.split("@")[0], ref, ref.split("@")[0]}
    return next(((p, n) for p, n in aliases if any(fnmatch.fnmatchcase(r, p) for r in names)), None)


# ---- base images --------------------------------------------------------------------------------------

_unreachable: dict[str, str] = {}        # registry host -> why, remembered for the process


def resolve(ref: str, store: Path | None = None, log=say, cache: Path | None = None,
            deadline: float | None = None, registry_nets: tuple[str, ...] = ()) -> Image:
    """The base image for `FROM ref` (see the module docstring for the order). `deadline` (time.monotonic)
    bounds a registry pull as a whole; `registry_nets`: the non-public networks a registry may be reached
    at (registry.pull; the CLI's --registry-net), none by default."""
    cache = _root_only(Path(cache or CACHE))
    if ref == "host":
        return Image("host", None, source="the host's system directories")
    check_reference(ref)
    sweep(cache)
    canon = canonical(ref)
    store = store or (Path(os.environ["ECHO_IMAGES"]) if os.environ.get("ECHO_IMAGES") else None)
    # The store's files carry no digest: a pinned reference takes only a file named with its digest. A
    # store's image is cached under its file's identity (path, inode, size, mtime): two stores' `tiny`, or
    # a store's `python:3.13` and the registry's, never share a cache entry.
    for n in list(dict.fromkeys((slug(canon), slug(ref)))) if store else []:
        for cand in (store / n, store / f"{n}.tar", store / f"{n}.tar.gz"):
            if cand.exists():
                st = cand.stat()
                name = cache_name(f"{canon} {cand.resolve()} {st.st_ino} {st.st_size} {st.st_mtime_ns}")
                if (cache / "images" / name / "image.json").is_file():
                    return _cached(name, cache)
                log(f"importing {ref} from {cand}")
                return _import(canon, cand, f"image store {cand}", cache, name)
    name = cache_name(canon)                   # a pinned reference is cached under its digest, apart
    if (cache / "images" / name / "image.json").is_file():
        return _cached(name, cache)
    host = registry.parse_reference(ref).registry
    if host not in _unreachable:
        try:
            return _pull(ref, canon, log, cache, name, deadline, registry_nets)
        except registry.RegistryUnreachable as e:
            _unreachable[host] = str(e).removeprefix(f"image {ref}: ")
    reason = _unreachable[host]
    aliases = json.loads((cache / "images" / "aliases.json").read_text()) if (
        cache / "images" / "aliases.json").is_file() else []
    found = stand_in(ref, aliases)             # stand-ins named by `images.py debootstrap --as PATTERN`
    if found:
        # A stand-in is the operator's choice (its pattern), so it serves a pinned reference too (real
        # tasks pin: public.ecr.aws/docker/library/python:3.13-slim-bookworm@sha256:...), but never
        # silently: the line says the pin is not honoured (rt11b p12). The layers built on it are keyed
        # by the stand-in's own content, so they never pass for the pinned image's.
        image = _cached(found[1], cache)
        pin = ", NOT the pinned digest" if "@" in canon else ""
        sandbox.say_once(f"FROM {ref}: {reason}; using the stand-in {image.source} ({found[0]!r}){pin}")
        return image
    if "@" in canon:        # the host's directories are nobody's choice for a pin (rt11b p12)
        raise BuildError(f"FROM {ref}: {reason}, and a digest pin is served only by that image (its "
                         f"registry, the cache, an image store's {slug(canon)}.tar) or a stand-in whose "
                         "pattern names it (images.py debootstrap --as)")
    sandbox.say_once(f"FROM {ref}: {reason}, and no stand-in base matches (python images.py debootstrap "
                     "--as ...); using the host's system directories, read-only")
    return Image(ref, None, source="the host's system directories")


def _cached(name: str, cache: Path) -> Image:
    if not re.fullmatch(r"[A-Za-z0-9][\w.-]*", name):     # aliases.json's names too: never a path
        raise BuildError(f"image cache: bad image name {name!r}")
    meta = json.loads((cache / "images" / name / "image.json").read_text())
    # an image cached before its config was checked is checked as it is used (image_config)
    image_config({"Env": [f"{k}={v}" for k, v in meta.get("env", {}).items()], "User": meta.get("user"),
                  "WorkingDir": meta.get("workdir"), "Entrypoint": meta.get("entrypoint"),
                  "Cmd": meta.get("cmd"), "Healthcheck": meta.get("healthcheck")}, f"image {meta['ref']}")
    return Image(meta["ref"], cache / "images" / name / "rootfs", env=meta.get("env", {}),
                 workdir=meta.get("workdir") or "/", source=meta.get("source", ""),
                 digest=meta.get("content", ""), user=meta.get("user") or "root",
                 entrypoint=meta.get("entrypoint"), cmd=meta.get("cmd"),
                 healthcheck=dockerfile.config_health(meta.get("healthcheck")))


def _save(ref: str, tar_file, source: str, env: dict[str, str], workdir: str, cache: Path,
          name: str | None = None, run: dict | None = None) -> Image:
    """Extract a tar file (an open, seekable file) into CACHE/images/<name>/rootfs inside the sandbox's user
    namespace, so files get the owners a sandbox sees and a link in the archive cannot reach anything the
    host's root owns; write image.json last, so a half import is never used. Its sha256 is the image's
    content digest, which the keys of the layers built on it start from."""
    name = name or cache_name(ref)
    final = cache / "images" / name
    h = hashlib.sha256()
    while chunk := tar_file.read(1 << 20):
        h.update(chunk)
    tar_file.seek(0)
    tmp = cache / "images" / temp_name(name)
    (tmp / "rootfs").mkdir(parents=True)
    _root_only(cache)
    _own(tmp / "rootfs")
    # Device nodes cannot be made in a user namespace (the sandbox mounts its own /dev): the feeder leaves
    # them out, so any error of tar's fails the import (never forgiven by words, which a name can supply:
    # rt12b p35). The cache: root's, mode 0700.
    try:
        # its bytes within the disk's free space less the reserve, as a layer's (a pull's: rt14b p23)
        room = max(0, shutil.disk_usage(tmp).free - (DISK_RESERVE_MB << 20))
        _unpack(tar_file, tmp / "rootfs", [room, 1 << 62], f"cannot import {ref}", None, imported=True,
                over=sandbox.SandboxError)     # the disk's room, no cap of the image's: a full disk (p15)
    except (BuildError, sandbox.SandboxError):
        _rm(tmp)
        raise
    meta = {"ref": ref, "source": source, "env": env, "workdir": workdir,
            "content": f"sha256:{h.hexdigest()}", **(run or {})}   # run: user, entrypoint, cmd, healthcheck
    (tmp / "image.json").write_text(json.dumps(meta))
    with _lock(f"image-{name}", cache):
        if not (final / "image.json").exists():
            _rm(final)
            tmp.rename(final)
    _rm(tmp)
    return _cached(name, cache)


def _import(ref: str, path: Path, source: str, cache: Path, name: str) -> Image:
    if path.is_dir():                          # a root filesystem directory: archived first, then imported
        with tempfile.TemporaryFile(dir=cache) as f:
            r = subprocess.run(["tar", "-c", "-f", "-", "-C", str(path), "."], stdout=f,
                               stderr=subprocess.PIPE)
            if r.returncode:
                raise BuildError(f"cannot archive {path}: {r.stderr.decode(errors='replace').strip()[-200:]}")
            f.seek(0)
            return _save(ref, f, source, {}, "/", cache, name)
    with open(path, "rb") as f:                # plain or compressed (archives.members reads both)
        return _save(ref, f, source, {}, "/", cache, name)


def _pull(ref: str, canon: str, log, cache: Path, name: str, deadline: float | None,
          registry_nets: tuple[str, ...]) -> Image:
    """Pull `ref` as written (a mirror may answer where Docker Hub does not); cache it as `canon`."""
    with tempfile.TemporaryFile(dir=cache) as f:
        host = registry.parse_reference(ref).registry   # as Docker: loopback registries speak plain HTTP
        scheme = "http" if re.match(r"(localhost|127\.\d+\.\d+\.\d+)(:\d+)?$", host) else "https"
        try:                                   # its files are unpacked into the cache: a layer's caps
            config = registry.pull(ref, f, cache / "blobs", progress=log, scheme=scheme, deadline=deadline,
                                   max_bytes=BUILD_DISK_MB << 20, registry_nets=registry_nets,
                                   max_files=_disk_cap(cache, BUILD_DISK_MB)[1],
                                   keep_free=DISK_RESERVE_MB << 20)   # as a layer keeps (rt14b p23)
        except registry.RegistryUnreachable:
            raise
        except registry.RegistryError as e:    # the image's fault (not found, bad digest, too big): one line
            raise BuildError(str(e)) from None
        f.seek(0)
        env, workdir, run = image_config(config, f"image {ref}")   # before a byte of it is unpacked
        return _save(canon, f, f"registry {ref}", env, workdir, cache, name, run)


# A registry image's config is the task's data as much as its Dockerfile, only unseen at load: every value
# is checked here with the Dockerfile's own lines' checks (dockerfile.replay, harbor.py's _workdir,
# sandbox.env_overflow), each failure the task's one line. Unchecked, `Env: [5]` or `User: 5` escaped as a
# TypeError, and a 200 KB variable or a NUL in Entrypoint failed pid 1's exec, booked as the machine's and
# retried, or started an episode whose every command failed (rt12b p07-p09).
def image_config(config, where: str) -> tuple[dict[str, str], str, dict]:
    """A config (Env, WorkingDir, User, Entrypoint, Cmd, Healthcheck) as image.json keeps it: (env, workdir,
    {user, entrypoint, cmd, healthcheck}); BuildError naming the first bad value."""
    def bad(key: str, why: str):
        return BuildError(f"{where}: its config's {key} {why}: {_short(json.dumps(config.get(key)))}")

    def strings(key: str) -> list[str]:
        value = config.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(w, str) for w in value):
            raise bad(key, "is not a list of strings")
        if any("\0" in w for w in value):          # no argv string or variable holds one (rt11b p16)
            raise bad(key, "holds a NUL byte")
        if sum(len(w.encode()) + 1 for w in value) > sandbox.ENV_MAX_BYTES:     # exec's E2BIG
            raise bad(key, f"is over {sandbox.ENV_MAX_BYTES} bytes")
        return value

    if not isinstance(config, dict):
        raise BuildError(f"{where}: its config is not a JSON object: {_short(json.dumps(config))}")
    env = {}
    for e in strings("Env"):
        k, eq, v = e.partition("=")
        if not k:
            raise bad("Env", f"has an entry with no name ({_short(e)!r})")
        if eq:                                       # a bare NAME sets nothing
            env[k] = v
    for key in ("WorkingDir", "User"):
        value = config.get(key)
        if value is not None and not isinstance(value, str):
            raise bad(key, "is not a string")
    workdir = config.get("WorkingDir") or "/"
    parts, norm = workdir.split("/"), "/" + posixpath.normpath(workdir).lstrip("/")
    if ("\0" in workdir or "\n" in workdir or not workdir.startswith("/") or ".." in parts
            or any(len(c.encode()) > 255 for c in parts) or len(workdir.encode()) > 4095
            or any(norm == k or norm.startswith(k + "/") for k in ("/proc", "/sys", "/dev"))):
        raise bad("WorkingDir", "is not an absolute path pid 1 can make (outside /proc, /sys, /dev)")
    user = config.get("User") or "root"
    if not re.fullmatch(r"[\w.-]+(:[\w.-]+)?", user):      # as dockerfile.replay's USER
        raise bad("User", "is not a user, user:group or uid:gid")
    health = config.get("Healthcheck")
    if isinstance(health, dict) and isinstance(health.get("Test"), list) and any(
            "\0" in w for w in health["Test"] if isinstance(w, str)):
        raise bad("Healthcheck", "holds a NUL byte")
    run = {"user": user, "entrypoint": strings("Entrypoint") or None, "cmd": strings("Cmd") or None,
           "healthcheck": health}
    return env, norm, run


# Ubuntu suites debootstrap may not know by name yet (its scripts for every Ubuntu release since 7.10 are
# one script, gutsy), and the archive's signing keys (Debian's package ubuntu-keyring, or Ubuntu's own).
UBUNTU_SUITES = ("focal", "jammy", "noble", "oracular", "plucky", "questing")
UBUNTU_KEYRING = "/usr/share/keyrings/ubuntu-archive-keyring.gpg"


def apt_sources(suite: str, mirror: str) -> str | None:
    """The sources an official Docker image of an Ubuntu suite ships (every component, -updates,
    -backports and -security), so that a Dockerfile's `apt-get install` finds what it would find there;
    None for Debian, whose debootstrap sources are kept."""
    if suite not in UBUNTU_SUITES:
        return None
    security = "http://security.ubuntu.com/ubuntu" if "archive.ubuntu.com" in mirror else mirror
    return (f"Types: deb\nURIs: {mirror}\nSuites: {suite} {suite}-updates {suite}-backports\n"
            f"Components: main universe restricted multiverse\nSigned-By: {UBUNTU_KEYRING}\n\n"
            f"Types: deb\nURIs: {security}\nSuites: {suite}-security\n"
            f"Components: main universe restricted multiverse\nSigned-By: {UBUNTU_KEYRING}\n")


def debootstrap(suite: str, mirror: str, names: list[str], python: bool, extra: list[str],
                log=say, cache: Path | None = None) -> Image:
    """A Debian (or Ubuntu: suite noble, mirror http://archive.ubuntu.com/ubuntu) base made with
    debootstrap (needs root and the mirror), saved as names[0] and used as the stand-in for every image
    matching one of names[1:] (glob patterns: 'ubuntu:*', 'python:3.*', '*' for any image) that no image
    store or registry provides. python=True adds python3, pip and venv under the names `python` and `pip`
    too, a stand-in for python:3.x-slim images. The host's extra CA certificates are added, so that pip and
    curl work behind a TLS-inspecting proxy as on the host."""
    if os.getuid() != 0 or not shutil.which("debootstrap"):
        raise BuildError("debootstrap needs root and the debootstrap package (apt-get install debootstrap)")
    check_reference(names[0])
    ubuntu = suite in UBUNTU_SUITES
    if ubuntu and not os.path.isfile(UBUNTU_KEYRING):
        raise BuildError(f"debootstrap {suite} needs Ubuntu's archive keys in {UBUNTU_KEYRING} "
                         f"(apt-get install ubuntu-keyring)")
    cache = Path(cache or CACHE)
    pkgs = ["ca-certificates", "procps", "curl", *(["python3", "python3-pip", "python3-venv",
                                                     "python-is-python3"] if python else []), *extra]
    with tempfile.TemporaryDirectory(dir=cache, prefix=temp_name("debootstrap") + ".") as tmp:
        t0 = time.monotonic()
        log(f"debootstrap {suite} from {mirror} with {', '.join(pkgs)} ...")
        script = ([] if os.path.exists(f"/usr/share/debootstrap/scripts/{suite}") or not ubuntu
                  else ["/usr/share/debootstrap/scripts/gutsy"])
        r = subprocess.run(["debootstrap", "--variant=minbase", f"--include={','.join(pkgs)}",
                            *(["--components=main,universe", f"--keyring={UBUNTU_KEYRING}"] * ubuntu),
                            suite, tmp, mirror, *script], capture_output=True, text=True)
        if r.returncode:
            raise BuildError(f"debootstrap failed: {(r.stdout + r.stderr).strip().splitlines()[-1][:200]}")
        if sources := apt_sources(suite, mirror):
            Path(f"{tmp}/etc/apt/sources.list").unlink(missing_ok=True)
            Path(f"{tmp}/etc/apt/sources.list.d/ubuntu.sources").write_text(sources)
            if UBUNTU_SUITES.index(suite) >= UBUNTU_SUITES.index("noble"):   # Docker's ubuntu:24.04's
                subprocess.run(["chroot", tmp, "useradd", "-m", "-U", "-u", "1000", "-s", "/bin/bash",
                                "-c", "Ubuntu", "ubuntu"], capture_output=True, check=True)
        for crt in glob.glob("/usr/local/share/ca-certificates/*.crt"):
            shutil.copy(crt, f"{tmp}/usr/local/share/ca-certificates/")
        subprocess.run(["chroot", tmp, "update-ca-certificates"], capture_output=True)
        if python:   # python:3.x-slim images have pip on PATH and no EXTERNALLY-MANAGED marker
            for m in glob.glob(f"{tmp}/usr/lib/python3*/EXTERNALLY-MANAGED"):
                os.remove(m)
            os.symlink("pip3", f"{tmp}/usr/bin/pip") if not os.path.lexists(f"{tmp}/usr/bin/pip") else None
        log(f"debootstrap took {time.monotonic() - t0:.0f} s; importing")
        source = f"debootstrap {suite}{' + python3' if python else ''} (a stand-in)"
        with tempfile.TemporaryFile(dir=cache) as f:
            subprocess.run(["tar", "-c", "-f", "-", "-C", tmp, "."], stdout=f, check=True)
            f.seek(0)
            image = _save(names[0], f, source, {"PATH": BASE_ENV["PATH"]}, "/", cache,
                          name=cache_name(canonical(names[0])))
    aliases_file = cache / "images" / "aliases.json"
    with _lock("aliases", cache):                     # later patterns first: the newest stand-in wins
        old = json.loads(aliases_file.read_text()) if aliases_file.is_file() else []
        new = [[p, cache_name(canonical(names[0]))] for p in names[1:]]
        aliases_file.write_text(json.dumps(new + [a for a in old if a[0] not in names[1:]]))
    return image


# ---- builds -------------------------------------------------------------------------------------------

# A layer a build step writes is capped at BUILD_DISK_MB, and at what the cache's filesystem has free less
# DISK_RESERVE_MB: its size is walked every WATCH_SECONDS while the step runs (the step is killed when
# over) and once more after it. A step can overshoot by what it writes between two walks. Its entries
# (inodes) are capped the same way (rt11b p04: empty files cost no bytes): at FILES_PER_MB per MiB of its
# byte cap, the inodes a default ext4 gives those bytes (one per 16 KiB), and at the cache's free inodes
# less sandbox.INODE_RESERVE.
# Names are not where bytes land (rt12b p02: `exec 3>/big; rm /big; dd >&3` wrote 300 MiB past a 30 MiB
# cap): a file the step's processes hold open or mapped with no name left (unlinked, O_TMPFILE) counts
# too, where it lies on the cache's filesystem (held_files). Bytes no process of the step holds by fd or
# map (an fd in flight on a unix socket) are seen by the cache's free space alone: a step is also killed
# when the disk falls under DISK_FLOOR_MB free, half the reserve, and it is the task's failure if the disk
# lost more than the step's cap while it ran. Another process's writes never count against a step: they
# kill it only where the disk is about to be full anyway, and then as the machine's failure unless the
# disk lost more than the step's cap during it.
BUILD_DISK_MB = int(os.environ.get("ECHO_BUILD_DISK_MB") or 20480)
FILES_PER_MB = 64
DISK_RESERVE_MB = 1024
DISK_FLOOR_MB = DISK_RESERVE_MB // 2
WATCH_SECONDS = 0.5
FLOOR_SECONDS = 0.25   # the floor's own clock: a statvfs, never behind the walk the step can slow (rt14b p01)


def layer_cap(cache: Path) -> int:
    """How many layers an overlay mount of this cache's layers takes: mount(2) copies its options only up
    to a page (4,095 bytes and a NUL), and pid 1 names every lower layer by its path (sandbox_init.
    _overlay_root: lowerdir=<layer>:<layer>:...,upperdir=...,workdir=...,userxattr). A layer's path is
    CACHE/layers/<key_name>/layer, the base's at most as long (CACHE/images/<name>/rootfs, name bounded
    below), or an episode's seeded one (_build_seeded); the upper is a build's
    CACHE/layers/.tmp-<key>@<pid>-<start>/layer or an episode's STATE_DIR/s<12 hex>/scratch/upper, the work
    directory beside it. At most dockerfile.MAX_LAYERS."""
    scratch = sandbox.STATE_DIR / ("s" + "0" * 12)      # an episode's seeded layers: <stage>-<step>
    layer = max(len(str(Path(cache) / "layers" / key_name("") / "layer")),
                len(str(scratch / "99-999" / "layer")))
    base = len(str(Path(cache) / "images" / ("x" * BASE_NAME_MAX) / "rootfs"))
    owner = f"@{'9' * 10}-{'9' * 20}"        # temp_name's pid and start time, at their longest
    upper = max(len(str(Path(cache) / "layers" / f".tmp-{key_name('')}{owner}" / "layer")),
                len(str(scratch / f".tmp-99-999{owner}" / "layer")),
                len(str(sandbox.STATE_DIR / ("s" + "0" * 12) / "scratch" / "upper")))
    fixed = len("lowerdir=,upperdir=,workdir=,userxattr") + 2 * upper + len(".work") + base
    room = (os.sysconf("SC_PAGE_SIZE") - 1) - fixed
    return max(0, min(dockerfile.MAX_LAYERS, 1 + room // (layer + 1)))


# A cached layer is the same whatever task built it (rt16b p13: a RUN taking its `timeout ... || echo slow`
# branch under one task's cpus 0.02 was served to every task sharing the step). Its step runs under the
# build's own resources, the same for every task and never task.toml's: as `docker build`, which ignores the
# container's limits. Fixed rather than keyed: a key holding cpus would rebuild the same layers for each cpus
# a task names, and a task's small cpus would still run a shared build that other tasks wait for at its pace
# (p15). At most the machine's cores (Cgroup.create's clamp, done here so as not to be said).
BUILD_CPUS = float(os.environ.get("ECHO_BUILD_CPUS") or 2)
BUILD_MEMORY_MB = int(os.environ.get("ECHO_BUILD_MEMORY_MB") or 8192)
BUILD_NPROC = 4096


def build_limits(left: float, limits: Limits | None = None) -> Limits:
    """A build step's sandbox limits, for `left` seconds: a cached step's are the build's own (limits None:
    BUILD_CPUS, BUILD_MEMORY_MB, BUILD_NPROC, whatever task builds it); an episode's seeded step (never
    shared) runs on its task's, with the build's memory and processes as a floor. A step's processes end
    with its sandbox, as a RUN's with its container: nothing verifies after it, so a build keeps none
    (keep_agent_processes)."""
    base = limits or Limits(cpus=min(BUILD_CPUS, float(os.cpu_count() or 1)), memory_mb=BUILD_MEMORY_MB,
                            nproc=BUILD_NPROC)
    return replace(base, episode_timeout=left, memory_mb=max(base.memory_mb, BUILD_MEMORY_MB),
                   nproc=max(base.nproc, BUILD_NPROC), keep_agent_processes=False, build=True)


# Every layer key starts from this: a layer built under older rules of what a step may read or copy (before
# COPY --from refused a stage's /proc, rt5 p14), or of what it runs under (3: build_limits, before which a
# task's own cpus ran it, rt16b p13), would still serve what they let through, so it is not reused.
BUILD_RULES = 3


def start_state(image: Image, build_args: dict[str, str] | None = None) -> State:
    """The state right after FROM: the image, and the ARGs declared before FROM (dockerfile.stage). The
    first key is the base's content digest: the same reference imported again with other content
    rebuilds every layer on it."""
    identity = ([image.digest] if image.digest else        # an older cache's image.json has no digest
                [image.source, str(image.rootfs and image.rootfs.resolve())])
    key = key_name(json.dumps([BUILD_RULES, *identity]))
    config = dockerfile.Config(env={**image.env}, workdir=image.workdir, build_args=build_args or {},
                               user=image.user, entrypoint=image.entrypoint, cmd=image.cmd,
                               healthcheck=image.healthcheck)
    return State(image, [image.rootfs] if image.rootfs else [], key, config)


def build(steps, state: State, context: Path, timeout: float, log=say, cache: Path | None = None,
          deadline: float | None = None, disk_mb: int | None = None) -> State:
    """Run Dockerfile steps into cached layers (skipping those already built) and return the state after
    them. Steps must not include FROM. The timeout (or `deadline`, a time.monotonic() the caller shares
    with the base's pull) covers the steps that actually run, together; each layer is capped at disk_mb
    (default BUILD_DISK_MB). Every step runs under build_limits(), whichever task asks: its layer is
    shared."""
    cache = _root_only(Path(cache or CACHE))
    disk_mb = disk_mb or BUILD_DISK_MB
    deadline = deadline if deadline is not None else time.monotonic() + timeout
    sweep(cache)
    layers = len(state.layers) + sum(s.instr in dockerfile.LAYER_STEPS for s in steps)
    if layers > layer_cap(cache):              # refused before any is built
        raise BuildError(f"{layers} layers: more than the {layer_cap(cache)} an overlay mount of this cache "
                         "takes")
    for step in steps:
        state = advance(state, step, context, cache, deadline)
        if step.instr not in dockerfile.LAYER_STEPS:
            continue
        layer = cache / "layers" / state.key
        try:
            if not (layer / "meta.json").is_file():
                with _lock(state.key, cache, deadline, f"line {step.line}: {step.instr}"):
                    if not (layer / "meta.json").is_file():
                        _build_layer(state, step, context, layer, deadline, None, log, disk_mb)
        except BaseException:
            release(state.fetched, failed=True)
            raise
        release(state.fetched)                 # the layer holds its bytes now
        state.layers.insert(0, layer / "layer")
    return state


def advance(state: State, step, context: Path, cache: Path | None = None,
            deadline: float | None = None, keyed: bool = True) -> State:
    """The state after a step's metadata (ENV, ARG, WORKDIR, SHELL, USER: dockerfile.replay) and its key:
    the parent's key, the step, the config it runs with and, for COPY/ADD, what it really copies: the
    files of the build context (after substitution: names, modes, bytes, link targets), the content key of
    a COPY --from stage or image (whose paths the step's own text holds), the sha256 of each URL an ADD
    fetches (fetched here, into `cache`'s blobs, before `deadline`; with --checksum, only if missing).
    keyed=False, for a step that is never cached (a seeded one, run in each episode): its context sources
    are resolved and checked, not read."""
    try:
        c = dockerfile.replay(state.config, step)
    except ValueError as e:
        raise BuildError(str(e)) from None
    extra, fetched = "", {}
    if step.instr in ("COPY", "ADD") and dockerfile.copy_from(step) is not None:
        extra = _from_state(step, state).key
    elif step.instr in ("COPY", "ADD"):
        with _task_fault(f"line {step.line}: {step.instr} {_short(step.args)}"):   # the task's files
            sources = _copy_sources(step, c, context, deadline)
            rules = ignore_rules(context)
            extra = _context_hash(sources, context, deadline) if keyed else str([
                len(list(walk_tree(src, context, rules))) for src, _, _ in sources])
        try:
            for url, checksum in _url_sources(step, c):
                fetched[url] = fetch(url, checksum, f"line {step.line}: ADD {url}", Path(cache or CACHE),
                                     deadline if deadline is not None else time.monotonic() + 600)
        except BaseException:
            release(fetched, failed=True)
            raise
        extra += "".join(f" {p.name}" for p in fetched.values())
    user = [c.user] if c.user != "root" else []          # a RUN's user: keys without one are unchanged
    if step.instr in ("COPY", "ADD") and re.search(r"(^|\s)--ch(own|mod)=", step.args):
        user.append("owned")                   # layers built before --chown/--chmod were applied: not reused
    key = key_name(json.dumps([state.key, step.instr, step.args, c.env, c.args, c.workdir, c.shell,
                               extra, *user]))
    return replace(state, layers=list(state.layers), key=key, config=c, fetched=fetched)


def build_stages(stages: list[dockerfile.Stage], last_steps, context: Path, timeout: float, limits: Limits,
                 store: Path | None = None, log=say, cache: Path | None = None,
                 deadline: float | None = None, registry_nets: tuple = (), seed: int | None = None,
                 scratch: Path | None = None, network: bool = True) -> State:
    """Build the stages the last one needs (dockerfile.stages: FROM an earlier stage, COPY --from one), in
    order, each as build() builds an image, and return the last one's state after `last_steps` (the
    steps of it to cache). COPY --from an image resolves that image as FROM would. On the host's
    directories (no base image) nothing is built: the state after FROM is returned, for a single stage.
    An earlier stage's steps from the first that sees TASK_SEED (Stage.seeded) are never cached: without
    `seed` they are left out (what depends on them is too: dockerfile.stages); with it (one episode's
    setup) they run with TASK_SEED into layers of the episode's own `scratch` directory (_build_seeded),
    under the episode's `limits` (the cached steps under build_limits, whichever task asks), and the
    stages after see those."""
    cache = Path(cache or CACHE)
    deadline = deadline if deadline is not None else time.monotonic() + timeout
    needed, todo = set(), [stages[-1].index]
    while todo:                                # BuildKit's order: only what the last stage depends on
        st = stages[todo.pop()]
        if st.index not in needed:
            needed.add(st.index)
            todo += [st.parent] if st.parent is not None else []
            todo += st.sources.values()
    cap = layer_cap(cache)                     # every stage's, before any is built
    for i in needed:
        if stages[i].layers > cap:
            raise BuildError(f"line {stages[i].line}: stage {stages[i].name or i} has {stages[i].layers} "
                             f"layers, more than the {cap} an overlay mount of this cache takes")
    built: dict[int, State] = {}
    for st in (stages[i] for i in sorted(needed)):
        sources = {}
        for s in st.steps:
            value = dockerfile.copy_from(s)
            if value is None or value in sources:
                continue
            if value in st.sources:
                sources[value] = built[st.sources[value]]
                continue
            image = resolve(dockerfile.subst(value, st.build_args), store, log, cache, deadline=deadline,
                            registry_nets=registry_nets)
            if image.rootfs is None:
                raise BuildError(f"line {s.line}: COPY --from={value}: no image store, registry or stand-in "
                                 "has this image")
            sources[value] = start_state(image)
        if st.parent is not None:              # FROM builder: its files, ENV and WORKDIR; not its ARGs
            parent = built[st.parent]
            state = replace(parent, layers=list(parent.layers), sources=sources, fetched={},
                            config=replace(parent.config, args={}, build_args=st.build_args, cmd_set=False))
        else:
            state = replace(start_state(resolve(st.base, store, log, cache, deadline=deadline,
                                                registry_nets=registry_nets), st.build_args), sources=sources)
        if state.image.rootfs is None:
            if len(needed) > 1:
                raise BuildError(f"line {st.line}: FROM {st.base}: a multi-stage build needs its base "
                                 "images, and this one is not available")
            return state
        last = st.index == stages[-1].index
        state = build(last_steps if last else dockerfile.cached_steps(st), state, context, timeout, log,
                      cache, deadline=deadline)
        if seed is not None and not last and st.seeded is not None:
            state = _build_seeded(st.steps[st.seeded:], state, context, deadline, limits, log, cache,
                                  scratch, st.index, seed, network)
        built[st.index] = state
    return built[stages[-1].index]


def _build_seeded(steps, state: State, context: Path, deadline: float, limits: Limits, log, cache: Path,
                  scratch: Path, index: int, seed: int, network: bool) -> State:
    """An earlier stage's steps that see the seed, for one episode: each into a layer of its own in the
    episode's scratch directory (removed with the episode, never reused), as a build step runs (the build's
    sandbox; the network as the episode's setup has it), capped at the episode's storage_mb."""
    for n, step in enumerate(steps):
        state = advance(state, step, context, cache, deadline, keyed=False)
        if step.instr in dockerfile.LAYER_STEPS:
            layer = scratch / f"{index}-{n}"         # short: every lower layer's path is in the mount
            _build_layer(state, step, context, layer, deadline, limits, log, limits.storage_mb, seed=seed,
                         network=network and step.instr == "RUN")
            state.layers.insert(0, layer / "layer")
        release(state.fetched)
    return state


def _build_layer(state: State, step, context: Path, layer: Path, deadline: float, limits: Limits | None,
                 log, disk_mb: int, seed: int | None = None, network: bool | None = None) -> None:
    """One step into `layer`, under build_limits(limits): None for a cached layer (the build's own)."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise BuildError(f"line {step.line}: build_timeout_sec reached before {step.instr}")
    layer.parent.mkdir(parents=True, exist_ok=True)
    cap = _disk_cap(layer.parent, disk_mb)
    tmp = layer.parent / temp_name(layer.name)   # renamed into place when complete; sweep() takes leftovers
    tmp.mkdir()
    _own(tmp)
    t0 = time.monotonic()
    log(f"building line {step.line}: {step.instr} {one_line(step.args)[:70]}")
    try:
        # As `docker build`: a RUN has the network (whatever the task's or the trainer's setting: the layer
        # is shared) and room to compile (build_limits). The network is the sandbox's own through pasta,
        # never the host's: its loopback and abstract sockets stay out of reach. Builds need no Landlock.
        with Sandbox(workdir=state.config.workdir, env=state.env, layers=state.layers, upper=tmp / "layer",
                     network=step.instr == "RUN" if network is None else network,
                     limits=build_limits(left, limits)) as sb, \
                _DiskWatch(tmp, cap, sb) as watch:
            try:
                run_step(sb, step, state, context, seed=seed, timeout=left, max_bytes=cap[0])
            except (BuildError, sandbox.SandboxError):
                if not watch.over and watch.low is None:
                    raise
        if watch.low is not None:              # the cache's disk fell under its floor while the step ran
            lost = watch.free0 - watch.low
            where = (f"line {step.line}: {step.instr} {_short(step.args)}: the cache's disk fell to "
                     f"{watch.low >> 20} MiB free (under {DISK_FLOOR_MB} MiB) and lost {lost >> 20} MiB "
                     f"while the step ran")
            if lost > cap[0]:                  # more than the step may write: taken as the step's
                raise BuildError(f"{where}, over the build's disk cap of {cap[0] >> 20} MiB")
            raise sandbox.SandboxError(f"{where}, within its cap: another process filled it")
        used, files = watch.over or disk_usage(tmp)
        # Over a cap the disk's free room set, but within the step's own (disk_mb): the disk was full of
        # other layers (rt14b p15: a bad task's cached layer took it, and the next good task was blamed),
        # so the machine's failure, not the task's
        full = used <= disk_mb << 20 and files <= disk_mb * FILES_PER_MB
        fail = sandbox.SandboxError if full else BuildError
        room = " (what the cache's disk had left; within the step's own cap: the disk is full)" if full else ""
        if used > cap[0]:
            raise fail(f"line {step.line}: {step.instr} {_short(step.args)} wrote {used >> 20} MiB, "
                       f"over the build's disk cap of {cap[0] >> 20} MiB{room}")
        if files > cap[1]:
            raise fail(f"line {step.line}: {step.instr} {_short(step.args)} wrote {files} files and "
                       f"directories, over the build's cap of {cap[1]} (inodes of the cache's disk){room}")
        # The sandbox's own mount point, not the image's; resolved beneath the layer, never through a
        # symlink the step left (a /run -> /anywhere must not make us delete /anywhere/xfer).
        remove_beneath(tmp / "layer", "run/xfer")
        _rm(tmp / "layer.work")
        (tmp / "meta.json").write_text(json.dumps({"step": f"{step.instr} {step.args}"[:2000],
                                                   "seconds": round(time.monotonic() - t0, 1)}))
        _rm(layer)                             # an older cache's partial layer (no meta.json), if any
        tmp.rename(layer)
    finally:
        _rm(tmp)


def run_step(sb: Sandbox, step, state: State, context: Path, seed: int | None, timeout: float,
             max_bytes: int | None = None) -> None:
    """Run one RUN/COPY/ADD step in a started sandbox (a build layer, or an episode for seeded steps), all of
    it within `timeout`. A COPY/ADD's files may add up to `max_bytes` (a build layer's disk cap; None: what
    an episode's writable layer holds). Whatever fails here fails on the task's own values (its paths, its
    files, its commands), so it is the task's BuildError, whichever branch met it (_task_fault); only the
    sandbox's own death (SandboxError) stays the machine's. A failed step's downloads are not kept."""
    try:
        with _task_fault(f"line {step.line}: {step.instr} {_short(step.args)}"):
            _run_step(sb, step, state, context, seed, timeout, max_bytes)
    except BaseException:
        release(state.fetched, failed=True)
        raise
    release(state.fetched)


class _task_fault:
    """The one place where an OSError or ValueError of a step (copy_in's `cannot copy`, a name that is not
    UTF-8, a file of the context that cannot be read) becomes the task's BuildError, in one line."""

    def __init__(self, where: str):
        self.where = where

    def __enter__(self):
        return self

    def __exit__(self, kind, e, tb):
        if isinstance(e, (OSError, ValueError)) and not isinstance(e, BuildError):
            raise BuildError(f"{self.where}: {one_line(str(e))[:200]}") from None
        return False


def _run_step(sb: Sandbox, step, state: State, context: Path, seed: int | None, timeout: float,
              max_bytes: int | None) -> None:
    where, c = f"line {step.line}: {step.instr}", state.config
    deadline = time.monotonic() + timeout
    left = lambda: max(0.001, deadline - time.monotonic())   # noqa: E731 - copy_in refuses at once at 0
    if step.instr == "RUN":
        argv = [*c.shell, step.args]           # the shell form; the exec form is a JSON array of strings
        if step.args.startswith("["):
            try:
                words = dockerfile.loads(step.args)
            except ValueError:                 # as Docker: not valid JSON is the shell form
                words = None
            if isinstance(words, list) and words and all(isinstance(w, str) for w in words):
                argv = words
        args = {**c.args, **({"TASK_SEED": str(seed)} if seed is not None else {})}
        prefix = " ".join(f"{k}={shlex.quote(v)}" for k, v in args.items())
        w, run = shlex.quote(c.workdir), f"env {prefix} {shlex.join(argv)}"
        if c.user == "root":
            r = sb.exec(f"mkdir -p {w} && cd {w} && {run}", timeout)
        else:              # as Docker: after `USER app` a RUN runs as app, with no capability; a missing
            user = image_user(sb, c.user, c.env, where)     # workdir is made as BuildKit makes it, app's
            sb.run_fresh(f"[ -d {w} ] || {{ mkdir -p {w} && chown {user.uid}:{user.gid} {w}; }}", 30)
            r = sb.run_fresh(f"cd {w} && {run}", timeout, user=user)
        if r.timed_out:
            raise BuildError(f"{where} {_short(step.args)} timed out after {timeout:.0f} s")
        if r.exit_code:
            last = (r.output.strip().splitlines() or ["(no output)"])[-1]
            raise BuildError(f"{where} {_short(step.args)} failed (exit {r.exit_code}): {last[:200]}")
    elif step.instr == "COPY_HEREDOC":
        spec = json.loads(step.args)
        with tempfile.TemporaryDirectory() as tmp:
            name = Path(tmp) / os.path.basename(spec["dest"].rstrip("/") or "file")
            name.write_text(dockerfile.subst(spec["body"], c.scope()) if spec.get("expand")
                            else spec["body"])
            sb.copy_in(name, _dest(spec["dest"], c.workdir), left(), max_bytes)
    elif step.instr == "COPY" and dockerfile.copy_from(step) is not None:
        _owned(sb, step, state, lambda: _copy_from(sb, step, state, timeout, max_bytes), left)
    elif step.instr in ("COPY", "ADD"):
        for url, _ in _url_sources(step, c):
            _add_url(sb, step, state, url, left(), max_bytes)

        def copy() -> list[str]:
            made, rules = [], ignore_rules(context)
            for src, dest, many in _copy_sources(step, c, context, deadline):
                try:
                    if step.instr == "ADD" and _add_archive(sb, src, dest, where, deadline, max_bytes):
                        made.append(dest)
                        continue
                    if src.is_dir() and not src.is_symlink() and rules:
                        with tempfile.TemporaryDirectory() as tmp:   # what .dockerignore leaves of it
                            kept = _stage_kept(src, context, rules, Path(tmp) / "kept")
                            sb.copy_in(kept, dest, left(), max_bytes)
                            made += [os.path.join(dest, n) for n in sorted(os.listdir(kept))]
                    elif src.is_dir() and not src.is_symlink():
                        sb.copy_in(src, dest, left(), max_bytes)
                        made += [os.path.join(dest, n) for n in sorted(os.listdir(src))]
                    else:       # into a directory if dest says so; `cp` also puts it inside an existing one
                        target = os.path.join(dest, src.name) if many or dest.endswith("/") else dest
                        sb.copy_in(src, target, left(), max_bytes)
                        made.append(target)
                except (OSError, ValueError) as e:   # named here: which source failed
                    raise BuildError(f"{where} {_short(step.args)}: {one_line(str(e))[:200]}") from None
            return made
        _owned(sb, step, state, copy, left)
    elif step.instr not in METADATA | {"ENV", "ARG", "WORKDIR", "SHELL"}:
        raise BuildError(f"{where}: not supported")


def _owned(sb: Sandbox, step, state: State, copy, left) -> None:
    """Run `copy` (it returns the paths it wrote, or None: unknown), then apply the step's --chown and
    --chmod as Docker does: to every file and directory copied, and to a destination directory the copy
    made; --chown=user without a group takes the uid as the gid (Docker's rule), names are resolved in the
    image's /etc/passwd and /etc/group; --chmod is octal. Applied in the sandbox, links not followed."""
    words = (dockerfile.loads(step.args) if step.args.startswith("[")
             else dockerfile.split(step.args, step.line))
    flags = {w.split("=", 1)[0]: w.split("=", 1)[1] for w in words if w.startswith(("--chown=", "--chmod="))}
    where = f"line {step.line}: {step.instr}"
    if "--chmod" in flags and not re.fullmatch(r"[0-7]{3,4}", flags["--chmod"]):
        raise BuildError(f"{where} --chmod={flags['--chmod']}: only an octal mode is supported")
    words = [dockerfile.subst(w, state.config.scope()) for w in words if not w.startswith("--")]
    dest = _dest(words[-1], state.config.workdir) if len(words) >= 2 else None
    fresh = dest is not None and flags and sb.run_fresh(f"[ -e {shlex.quote(dest)} ]", 30).exit_code != 0
    made = copy()
    if not flags or made is None:
        return
    targets = ([dest] if fresh else []) + [m for m in made if m != dest or not fresh]
    if not targets:
        return
    q = " ".join(shlex.quote(t) for t in targets)
    commands = []
    if "--chown" in flags:
        who, _, grp = dockerfile.subst(flags["--chown"], state.config.scope()).partition(":")
        user = image_user(sb, f"{who}:{grp}" if grp else who, state.env, f"{where} --chown")
        gid = user.gid if grp else user.uid
        commands.append(f"chown -hR {user.uid}:{gid} -- {q}")
    if "--chmod" in flags:
        commands.append(f"find {q} ! -type l -exec chmod {flags['--chmod']} {{}} +")
    r = sb.run_fresh(" && ".join(commands), left())
    if r.exit_code:
        raise BuildError(f"{where} {_short(step.args)}: {one_line(r.output)[-200:]}")


def image_user(sb: Sandbox, spec: str, env: dict[str, str], where: str = "USER") -> dockerfile.User:
    """A USER value resolved against the sandbox's /etc/passwd and /etc/group (dockerfile.resolve_user);
    HOME is the image's own where its ENV sets one, else the user's (as Docker's exec). BuildError naming
    `where` if the user is not there."""
    try:
        user = dockerfile.resolve_user(spec, sb.read_file("/etc/passwd", 1 << 20),
                                       sb.read_file("/etc/group", 1 << 20))
    except (ValueError, OSError) as e:
        raise BuildError(f"{where}: {e}") from None
    mapped = sum(count for _, _, count in sb.ids.lines)
    if max(user.uid, user.gid, *user.groups) >= mapped:
        raise BuildError(f"{where}: {spec} ({user.uid}:{user.gid}) is outside the sandbox's {mapped} mapped "
                         "ids" + (" (only root is mapped here: see /etc/subuid)" if mapped == 1 else ""))
    return replace(user, home=env["HOME"]) if "HOME" in env else user


def _add_archive(sb: Sandbox, src: Path, dest: str, where: str, deadline: float,
                 max_bytes: int | None = None) -> bool:
    """ADD of a local tar archive (plain or compressed): unpacked by tar in the sandbox's user namespace,
    as the sandbox's root (who owns nothing of the host's), into the sandbox's own state directory, then
    copied in. False if src is not one; a symlink is never one (it is copied as the link). Python reads
    the archive and hands tar a plain tar of the same members through a pipe, counting every byte as it
    streams: past the budget (_room: what the step may copy, `max_bytes` or the episode's writable layer, at
    most BUILD_DISK_MB, and what the state directory's disk has free less DISK_RESERVE_MB; its members
    against its free inodes) the stream stops and the step fails, so a bomb (a 4.7 MB gzip of 1 GiB of
    zeros) never lands on the host's disk whole. tar parses only what Python wrote (no parser of its own to
    disagree with), and is killed at the deadline."""
    try:
        fd = sandbox.open_regular(src, src.name)
    except OSError:                            # a link, a FIFO, a directory: copied as what it is
        return False
    with os.fdopen(fd, "rb") as f:
        if not archives.is_tar(f, lambda: None):   # its first member's headers: at most MAX_HEADER
            return False
        staged = sb.dir / "xfer" / f"add-{secrets.token_hex(4)}"   # the sandbox's: gone with it
        staged.mkdir()
        try:
            _own(staged)
            _unpack(f, staged, _room(sb, max_bytes, staged), f"{where} {src.name}", deadline)
            sb.copy_in(staged, dest, max(0.001, deadline - time.monotonic()), max_bytes)
        finally:
            _rm(staged)
    return True


def _room(sb: Sandbox, max_bytes: int | None, on: Path) -> list[int]:
    """[bytes, entries] a step may stage on the host (`on`, in the sandbox's state directory) for one copy:
    the bytes it may write (max_bytes, else the episode's writable layer), at most BUILD_DISK_MB and what
    `on`'s disk has free less DISK_RESERVE_MB: never more than its destination holds; and the entries (an
    inode each, on the host's disk: rt11b p21) the cache's cap on a layer allows, at most `on`'s free
    inodes less sandbox.INODE_RESERVE."""
    room = max_bytes if max_bytes is not None else \
        None if sb.upper else sandbox.tmpfs_mb(sb.limits, sb.cgroup)[0] << 20
    free = shutil.disk_usage(on).free - (DISK_RESERVE_MB << 20)
    inodes = sandbox.inodes_left(on)
    files = BUILD_DISK_MB * FILES_PER_MB if inodes is None else min(BUILD_DISK_MB * FILES_PER_MB, inodes)
    return [max(0, min(BUILD_DISK_MB << 20, free, *([room] if room is not None else []))), max(0, files)]


def _unpack(f, out: Path, budget: list[int], where: str, deadline: float | None,
            imported: bool = False, over: type = BuildError) -> None:
    """Unpack the tar archive `f` into `out` with tar in the sandbox's id map (sandbox.run_mapped), fed by a
    thread that re-writes the archive member by member (archives.members: its memory and time are not the
    headers') and stops once budget[0] bytes (data and all its header blocks each) or budget[1] paths (an
    inode each, the parents tar makes counted) have gone by, or at the deadline (None: none), checked in
    every read. `imported`: an image's root filesystem, whose owners are kept and device nodes left out.
    `over`: what passing the budget raises (an import's budget is the disk's free room: the machine's)."""
    r_fd, w_fd = os.pipe()
    fault: list[str] = []
    overflow: list[str] = []

    def check() -> None:
        if deadline is not None and time.monotonic() > deadline:
            raise archives.ArchiveError("build_timeout_sec reached unpacking it")

    def feed() -> None:
        # seen: every path tar makes, its missing parents too, as (parent's id, component) -> id: a name's
        # walk is linear in its bytes and what is held is a component per path, not the path (rt14b p11)
        used, seen = 0, {}
        try:
            with os.fdopen(w_fd, "wb") as pipe, \
                    tarfile.open(fileobj=pipe, mode="w|", format=tarfile.PAX_FORMAT) as out_tar:
                for member, tar in archives.members(f, check):
                    used += member.size + member.offset_data - member.offset   # its pax/long-name blocks too
                    parent = 0
                    for part in posixpath.normpath(member.name.strip("/")).split("/"):
                        if part not in ("", "."):
                            parent = seen.setdefault((parent, part), len(seen) + 1)
                            if len(seen) > budget[1]:      # per parent: a deep name stops where it passes
                                break
                    if used > budget[0]:
                        overflow.append(f"{where}: unpacks to over {budget[0] >> 20} MiB (what the step "
                                        "may write here)")
                        return
                    if len(seen) > budget[1]:
                        overflow.append(f"{where}: unpacks to over {budget[1]} files (inodes the step may "
                                        "take here)")
                        return
                    if deadline is not None and time.monotonic() > deadline:
                        fault.append(f"{where}: build_timeout_sec reached unpacking it")
                        return
                    if imported and (member.ischr() or member.isblk()):
                        continue
                    data = tar.extractfile(member) if member.isreg() else None
                    if member.isreg():             # a GNU sparse member: written out as the plain file
                        member.type = tarfile.REGTYPE      # its bytes are (counted whole above)
                        member.pax_headers = {k: v for k, v in member.pax_headers.items()
                                              if not k.startswith("GNU.sparse.")}
                    out_tar.addfile(member, data)
                    out_tar.members.clear()        # a writer keeps every member it wrote too
        except BrokenPipeError:                # tar stopped reading: its own message says why
            pass
        except archives.ArchiveError as e:
            fault.append(f"{where}: {e}")
        except (tarfile.TarError, EOFError, OSError) as e:
            fault.append(f"{where}: cannot unpack: {one_line(str(e))[:200]}")

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    left = None if deadline is None else max(1, int(deadline - time.monotonic()))
    kill = [] if left is None else ["timeout", "-s", "KILL", str(left)]
    owners = ["-p", "--numeric-owner"] if imported else ["--no-same-owner"]
    try:
        with os.fdopen(r_fd, "rb") as pipe:
            # cwd: entered by the host's root first (an image's rootfs is behind the cache's 0700)
            r = sandbox.run_mapped([*kill, "tar", "-x", *owners, "-f", "-"], stdin=pipe, cwd=str(out))
    finally:
        feeder.join()
    if overflow:
        raise over(overflow[0])
    if fault:
        raise BuildError(fault[0])
    if r.returncode:
        raise BuildError(f"{where}: cannot unpack: {one_line(r.stdout.strip())[-200:]}")


# ---- ADD <url>: fetched in a sandbox of its own, from a public address only ------------------------------

ADD_URL_MB = int(os.environ.get("ECHO_ADD_URL_MB") or 1024)    # the most an ADD <url> may fetch
MAX_REDIRECTS = 5


def _url_sources(step, config: dockerfile.Config) -> list[tuple[str, str | None]]:
    """(URL, its sha256 from --checksum or None) for each http(s) source of an ADD, after substitution."""
    if step.instr != "ADD" or step.args.startswith("["):
        return []
    words = dockerfile.split(step.args, step.line)
    checksum = next((w.split(":", 1)[1] for w in words if w.startswith("--checksum=")), None)
    urls = [dockerfile.subst(w, config.scope()) for w in words[:-1] if not w.startswith("--")]
    return [(u, checksum) for u in urls if re.match(r"https?://", u)]


def fetch(url: str, checksum: str | None, where: str, cache: Path, deadline: float) -> Path:
    """The bytes at `url`, as a file named <digest> that the caller holds until it calls release() (a
    hard link of this process's own, under CACHE/blobs/sha256/.tmp-held@<pid>-<start>/, so that evicting
    the shared name cannot take it away mid-step). With `checksum` (sha256 hex) the blob is kept in the
    cache under its digest (the one already there is used, and a download must match it); without one it
    is fetched again by every build anyway, so it is never kept past the step (_keep). The download runs
    in a sandbox on the host's system directories (its curl) with its own network namespace through
    pasta, so the host's loopback is out of reach by construction; each hop's host name is resolved here,
    refused unless every address is public (loopback, private, link-local and metadata addresses are
    not), and pinned for curl (--resolve), so a second lookup cannot answer otherwise. Redirects are
    followed hop by hop, checked the same way. The sandbox's tmpfs holds at most ADD_URL_MB: a bigger file
    fails its write."""
    blobs = cache / "blobs" / "sha256"
    if checksum:
        try:
            os.utime(blobs / checksum)         # the last use: eviction takes the least recently used first
            return _hold(blobs / checksum, blobs)
        except FileNotFoundError:              # not there, or evicted just now: fetched below
            pass
    if not sandbox.network_available():
        raise BuildError(f"{where}: {sandbox.NETWORK_HELP}")
    if not shutil.which("curl"):
        raise BuildError(f"{where}: fetching a URL needs curl on the host (apt-get install curl)")
    blobs.mkdir(parents=True, exist_ok=True)
    left = deadline - time.monotonic()
    if left <= 0:
        raise BuildError(f"{where}: build_timeout_sec reached before the download")
    limits = Limits(episode_timeout=left + 30, memory_mb=2 * ADD_URL_MB + 512, storage_mb=ADD_URL_MB + 8,
                    keep_agent_processes=False)      # a build's (see _build_layer)
    with Sandbox(workdir="/", layers=None, network=True, limits=limits) as sb:
        for _ in range(MAX_REDIRECTS + 1):
            left = deadline - time.monotonic()
            if left <= 1:
                raise BuildError(f"{where}: build_timeout_sec reached during the download")
            pin = shlex.quote(_pin(url, where))
            r = sb.exec(f"rm -f /tmp/add && curl -sS --proto =http,https --max-time {int(left)} "
                        f"--max-filesize {ADD_URL_MB << 20} --resolve {pin} -o /tmp/add "
                        f"-w '\\n%{{http_code}} %{{redirect_url}}' -- {shlex.quote(url)}", left + 5)
            last = (r.output.strip().splitlines() or [""])[-1].split(" ", 1)
            if r.exit_code or r.timed_out:
                raise BuildError(f"{where}: download failed: {one_line(r.output)[-200:]}")
            if last[0].startswith("3") and len(last) > 1 and last[1].strip():
                url = last[1].strip()
                continue
            if last[0] != "200":
                raise BuildError(f"{where}: HTTP {last[0]}")
            return _keep(sb.host_path("/tmp/add"), checksum, where, blobs)
    raise BuildError(f"{where}: more than {MAX_REDIRECTS} redirects")


def public(address: str) -> bool:
    """Whether an address is on the public internet (not loopback, private, link-local, shared or reserved:
    169.254.169.254, the cloud's metadata service, is link-local)."""
    return ipaddress.ip_address(address.split("%")[0]).is_global


def _pin(url: str, where: str) -> str:
    """curl's --resolve HOST:PORT:ADDRESS for the URL's host, once every IPv4 address it has is public."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BuildError(f"{where}: only http and https URLs with a host are fetched (got {url[:80]!r})")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addrs = sorted({a[4][0] for a in socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)})
    except OSError as e:
        raise BuildError(f"{where}: cannot resolve {parts.hostname}: {e}") from None
    private = [a for a in addrs if not public(a)]
    if private:
        raise BuildError(f"{where}: {parts.hostname} resolves to {', '.join(private)}, not a public address "
                         "(refused: a build must not reach the host's or its network's)")
    ipv4 = [a for a in addrs if ":" not in a]
    if not ipv4:
        raise BuildError(f"{where}: {parts.hostname} has no IPv4 address (the build's network is IPv4 only)")
    return f"{parts.hostname}:{port}:{ipv4[0]}"


# ADD <url>'s blobs are on the cache's disk as its layers are, and held to the same budget: a download
# over what the disk has free less DISK_RESERVE_MB is refused, and those kept (with --checksum) add up to at
# most BLOBS_MB, the least recently used evicted first. A failed step's download is not kept (release).
BLOBS_MB = int(os.environ.get("ECHO_BLOBS_MB") or BUILD_DISK_MB)
_downloaded: set[Path] = set()     # blobs this process kept: a step that fails removes its own


def _keep(path: Path, checksum: str | None, where: str, blobs: Path) -> Path:
    """Copy a downloaded file (a sandbox path on the host, never followed if a link) into the blobs, checked
    against `checksum`, and return this process's hold on it (fetch). Kept under its sha256 only with a
    checksum, within BLOBS_MB; refused when the cache's disk lacks the room."""
    try:
        fd = sandbox.open_regular(path, "the download")
    except OSError as e:
        raise BuildError(f"{where}: {e}") from None
    with os.fdopen(fd, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        free = shutil.disk_usage(blobs).free - (DISK_RESERVE_MB << 20)
        if size > free:
            raise BuildError(f"{where}: {size >> 20} MiB downloaded, and the image cache's disk has "
                             f"{max(0, free) >> 20} MiB free (less its {DISK_RESERVE_MB} MiB reserve)")
        if checksum and size > BLOBS_MB << 20:
            raise BuildError(f"{where}: {size >> 20} MiB downloaded, over the cache's {BLOBS_MB} MiB for "
                             "ADD downloads")
        held = _hold_dir(blobs)
        tmp, h = held / "add.part", hashlib.sha256()
        try:
            with open(tmp, "wb") as out:
                while chunk := f.read(1 << 20):
                    h.update(chunk)
                    out.write(chunk)
            digest = h.hexdigest()
            if checksum and digest != checksum:
                raise BuildError(f"{where}: sha256 {digest} does not match --checksum=sha256:{checksum}")
            tmp.rename(held / digest)
        except BaseException:
            _rm(held)
            raise
    if checksum:
        _evict(blobs, size)
        with _lock("blobs", blobs.parent.parent):
            if not (blobs / digest).exists():
                os.link(held / digest, blobs / digest)
                _downloaded.add(blobs / digest)
    return held / digest


def _hold_dir(blobs: Path) -> Path:
    """A fresh directory of this process's holds (swept once the process is gone: temp_name)."""
    d = blobs / temp_name("held") / secrets.token_hex(4)
    d.mkdir(parents=True)
    return d


def _hold(blob: Path, blobs: Path) -> Path:
    held = _hold_dir(blobs)
    try:
        os.link(blob, held / blob.name)
    except BaseException:
        _rm(held)
        raise
    return held / blob.name


def release(fetched: dict[str, Path], failed: bool = False) -> None:
    """Let go of a step's downloads (fetch's holds); failed: a blob this process kept for the step is not
    kept either (the next build fetches it again)."""
    for held in fetched.values():
        if failed and (shared := held.parent.parent.parent / held.name) in _downloaded:
            _downloaded.discard(shared)
            _rm(shared)
        _rm(held.parent)
        try:
            held.parent.parent.rmdir()         # this process's holds, when it holds no other
        except OSError:
            pass


def _evict(blobs: Path, size: int) -> None:
    """Remove kept blobs, least recently used first, until `size` more bytes fit in BLOBS_MB (a step that
    holds one keeps its bytes: its hold is a hard link)."""
    with _lock("blobs", blobs.parent.parent):
        kept = []
        for p in blobs.iterdir():
            if re.fullmatch(r"[0-9a-f]{64}", p.name):
                try:
                    st = p.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue
                kept.append((st.st_mtime, st.st_size, p))
        total = sum(n for _, n, _ in kept)
        for _, n, p in sorted(kept):
            if total + size <= BLOBS_MB << 20:
                break
            _rm(p)
            _downloaded.discard(p)
            total -= n


def _add_url(sb: Sandbox, step, state: State, url: str, timeout: float, max_bytes: int | None) -> None:
    """Put ADD <url>'s fetched bytes (advance fetched them) at the destination, mode 600 as Docker's: a
    destination ending in '/' (or with several sources) takes the URL's file name. Never extracted."""
    where, blob = f"line {step.line}: ADD {url}", state.fetched.get(url)
    if blob is None:
        raise BuildError(f"{where}: not fetched (advance() runs before run_step())")
    words = [w for w in dockerfile.split(step.args, step.line) if not w.startswith("--")]
    dest = _dest(dockerfile.subst(words[-1], state.config.scope()), state.config.workdir)
    if dest.endswith("/") or len(words) > 2:
        name = os.path.basename(dockerfile.urlpath(url).rstrip("/"))
        if not name or name in (".", ".."):
            raise BuildError(f"{where}: no file name in the URL; give the destination a file name")
        dest = os.path.join(dest, name)
    # Staged from the blob itself (no copy on the host's /tmp first), refused before any is staged when it
    # is more than the step may write (copy_in); 600 is the blob's own mode too (only root reads blobs).
    os.chmod(blob, 0o600)
    sb.copy_in(blob, dest, timeout, max_bytes)


# ---- COPY --from: paths resolved inside the other stage's (or image's) root filesystem -----------------

MAX_LINKS = 40      # symlinks followed resolving one path, as the kernel's limit


def _from_state(step, state: State) -> State:
    value = dockerfile.copy_from(step)
    if value not in state.sources:
        raise BuildError(f"line {step.line}: COPY --from={value}: not built (build_stages builds the stages "
                         "and images a stage copies from)")
    return state.sources[value]


def _copy_from(sb: Sandbox, step, state: State, timeout: float, max_bytes: int | None = None) -> list[str]:
    """COPY --from: the source stage's root filesystem is mounted by a sandbox of its own (no network,
    nothing run in it), and each source path is resolved from the host through that sandbox's root, one
    component at a time, symlinks and '..' against the stage's root, never the host's (_open_in_root).
    What it names (a link as a source is followed, as Docker's; links inside a copied directory stay
    links) is staged in the sandbox's own state directory with its owners, at most what the step may write
    (_room), then copied in keeping them, as Docker keeps them."""
    source, c = _from_state(step, state), state.config
    where = f"line {step.line}: COPY --from={dockerfile.copy_from(step)}"
    if source.image.rootfs is None:
        raise BuildError(f"{where}: the stage has no base image of its own (the host's directories)")
    words = [dockerfile.subst(w, c.scope()) for w in dockerfile.split(step.args, step.line)
             if not w.startswith("--")]
    if len(words) < 2:
        raise BuildError(f"{where}: needs a source and a destination")
    *srcs, dest = words
    dest = _dest(dest, c.workdir)
    deadline, made = time.monotonic() + timeout, []
    left = lambda: max(0.001, deadline - time.monotonic())   # noqa: E731
    limits = Limits(episode_timeout=timeout + 30, keep_agent_processes=False)     # a build's (_build_layer)
    tmp = sb.dir / "xfer" / f"from-{secrets.token_hex(4)}"   # the sandbox's: gone with it
    tmp.mkdir()
    with Sandbox(workdir="/", layers=source.layers, network=False, limits=limits) as src_sb:
        root = os.open(src_sb.host_path("/"), os.O_PATH | os.O_DIRECTORY)
        try:
            budget = _room(sb, max_bytes, tmp)
            found = [(src, m) for src in srcs for m in _glob_in_root(root, src, f"{where} {src}")]
            for i, (src, name) in enumerate(found):
                staged = Path(tmp) / str(i) / (os.path.basename(name.rstrip("/")) or "root")
                staged.parent.mkdir()
                fd = _open_in_root(root, name, f"{where} {src}")
                try:
                    _export(fd, staged, budget, where, deadline)
                finally:
                    os.close(fd)
                if staged.is_dir() and not staged.is_symlink():
                    sb.copy_in(staged, dest, left(), max_bytes, keep_owners=True)
                    made += [os.path.join(dest, n) for n in sorted(os.listdir(staged))]
                else:
                    many = len(srcs) > 1 or len(found) > 1 or dest.endswith("/")
                    target = os.path.join(dest, staged.name) if many else dest
                    sb.copy_in(staged, target, left(), max_bytes, keep_owners=True)
                    made.append(target)
                _rm(staged.parent)
        finally:
            os.close(root)
            _rm(tmp)
    return made


def _glob_in_root(root: int, path: str, where: str) -> list[str]:
    """The source path, or each match of a wildcard in its last component (sorted), as paths to resolve
    in the root. A wildcard above the last component, or one that matches nothing, is a BuildError."""
    head, _, last = path.rstrip("/").rpartition("/")
    if re.search(r"[*?[]", head):
        raise BuildError(f"{where}: wildcards are supported in the last path component only")
    if not re.search(r"[*?[]", last):
        return [path]
    d = _open_in_root(root, head or "/", where)
    try:
        listing = os.open(".", os.O_RDONLY | os.O_DIRECTORY, dir_fd=d)
        try:
            names = sorted(n for n in os.listdir(listing) if fnmatch.fnmatchcase(n, last))
        finally:
            os.close(listing)
    finally:
        os.close(d)
    if not names:
        raise BuildError(f"{where}: no file matches in the stage")
    return [f"{head}/{n}" for n in names]


def _mount_id(fd: int) -> int:
    """The id of the mount a descriptor is on (its fdinfo's mnt_id; statx's STATX_MNT_ID, which Python
    3.11 lacks): overlayfs gives a file of a lower layer that layer's st_dev, so st_dev cannot tell."""
    with open(f"/proc/self/fdinfo/{fd}") as f:
        return int(next(l.split()[1] for l in f if l.startswith("mnt_id:")))


def _open_in_root(root: int, path: str, where: str) -> int:
    """An O_PATH descriptor of `path` resolved as a process whose root is `root` would resolve it: every
    component opened with O_NOFOLLOW from the one before; a symlink's target read and walked in its
    place (an absolute one from `root`), '..' taken from the walk's own stack (at the root it stays
    there). Nothing resolves against the host's root or above `root`. Every component must be on root's
    own mount (the stage's files): the stage sandbox's /proc, /sys, /dev, /run/xfer and resolv.conf are
    the kernel's or the host's, and the builder reads as the host's root (rt5 p14/p17: the host's
    /proc/kallsyms and init's /proc/1/stack and environ): refused in one line."""
    stack, todo, links = [os.dup(root)], [p for p in path.split("/") if p not in ("", ".")], 0
    walked, mount = [], _mount_id(root)
    try:
        while todo:
            part = todo.pop(0)
            if part == "..":
                if len(stack) > 1:
                    os.close(stack.pop())
                    walked.pop()
                continue
            try:
                fd = os.open(part, os.O_PATH | os.O_NOFOLLOW, dir_fd=stack[-1])
            except (FileNotFoundError, NotADirectoryError):
                raise BuildError(f"{where}: not found in the stage") from None
            if _mount_id(fd) != mount:
                os.close(fd)
                shown = "/" + "/".join(walked + [part])
                raise BuildError(f"{where}: {shown} is not the stage's own file (a mount of the build's "
                                 "sandbox: /proc, /sys, /dev or the host's), refused")
            mode = os.fstat(fd).st_mode
            if stat.S_ISLNK(mode):
                target = os.readlink(part, dir_fd=stack[-1])
                os.close(fd)
                links += 1
                if links > MAX_LINKS:
                    raise BuildError(f"{where}: more than {MAX_LINKS} symlinks")
                if target.startswith("/"):
                    while len(stack) > 1:
                        os.close(stack.pop())
                    walked.clear()
                todo[:0] = [p for p in target.split("/") if p not in ("", ".")]
            elif todo and not stat.S_ISDIR(mode):
                os.close(fd)
                raise BuildError(f"{where}: {part!r} is not a directory in the stage")
            else:
                stack.append(fd)
                walked.append(part)
        return stack.pop()
    finally:
        for fd in stack:
            os.close(fd)


def _export(fd: int, out: Path, budget: list[int], where: str, deadline: float) -> None:
    """Copy what an O_PATH descriptor names (a file, or a directory and everything under it, walked by
    descriptor without following a link) to a new host path `out`: bytes, modes, owners (as root) and link
    targets. At most budget[0] bytes and budget[1] entries in all, before `deadline`; a device, FIFO or
    socket, or a tree deeper than MAX_DEPTH, is a BuildError. Only what is on fd's own mount (the stage's
    files, as _open_in_root) is read: a mount point below is what a stage's snapshot holds there, an empty
    directory (/proc, /sys, /dev of `COPY --from=s / /x`), or nothing for a file (resolv.conf)."""
    def own(dst: Path, st: os.stat_result) -> None:   # the stage's owners (host ids of its range)
        if os.getuid() == 0:
            os.lchown(dst, st.st_uid, st.st_gid)

    def copy_file(src_fd: int, dst: Path, st: os.stat_result) -> None:
        with os.fdopen(src_fd, "rb") as f, open(dst, "xb") as o:
            while chunk := f.read(1 << 20):
                budget[0] -= len(chunk)
                if budget[0] < 0:
                    raise BuildError(f"{where}: copies more than the step may write here")
                o.write(chunk)
                if time.monotonic() > deadline:
                    raise BuildError(f"{where}: build_timeout_sec reached copying")
        own(dst, st)
        os.chmod(dst, stat.S_IMODE(st.st_mode))

    top_st = os.fstat(fd)
    if stat.S_ISREG(top_st.st_mode):
        return copy_file(os.open(f"/proc/self/fd/{fd}", os.O_RDONLY), out, top_st)
    if not stat.S_ISDIR(top_st.st_mode):
        raise BuildError(f"{where}: not a regular file or directory")
    top = os.open(".", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
    dirs = [(out, top_st)]
    out.mkdir()
    mount = _mount_id(fd)
    try:
        for rel, subdirs, files, dfd in os.fwalk(".", dir_fd=top, follow_symlinks=False):
            here = out / rel
            if rel.count("/") > MAX_DEPTH:
                raise BuildError(f"{where}: directories nested deeper than {MAX_DEPTH}")
            if time.monotonic() > deadline:
                raise BuildError(f"{where}: build_timeout_sec reached copying")
            for name in sorted(os.listdir(dfd)):
                budget[1] -= 1                 # an inode on the host's disk, whatever it holds
                if budget[1] < 0:
                    raise BuildError(f"{where}: copies more files than the step may make here")
                st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
                at = os.open(name, os.O_PATH | os.O_NOFOLLOW, dir_fd=dfd)
                try:
                    elsewhere = _mount_id(at) != mount
                finally:
                    os.close(at)
                if elsewhere:                  # never read: an empty directory, or left out
                    if stat.S_ISDIR(st.st_mode):   # the mode of what is mounted, the copied root's owner
                        (here / name).mkdir()
                        dirs.append((here / name, os.stat_result(
                            (st.st_mode, 0, 0, 0, top_st.st_uid, top_st.st_gid, 0, 0, 0, 0))))
                        if name in subdirs:
                            subdirs.remove(name)       # fwalk does not descend into it
                    continue
                if stat.S_ISDIR(st.st_mode):
                    (here / name).mkdir()
                    dirs.append((here / name, st))
                elif stat.S_ISLNK(st.st_mode):
                    os.symlink(os.readlink(name, dir_fd=dfd), here / name)
                    own(here / name, st)
                elif stat.S_ISREG(st.st_mode):
                    copy_file(os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dfd),
                              here / name, st)
                else:
                    raise BuildError(f"{where}: {os.path.join(rel, name)!r} is not a regular file, "
                                     "directory or symlink")
    finally:
        os.close(top)
    for d, st in reversed(dirs):               # last: a read-only directory must first be filled
        own(d, st)
        os.chmod(d, stat.S_IMODE(st.st_mode))


def _copy_sources(step, config: dockerfile.Config, context: Path,
                  deadline: float | None = None) -> list[tuple[Path, str, bool]]:
    """(source, destination, into a directory) for each file a COPY/ADD copies, after substitution, each
    resolved inside the build context: a source that names '..', passes through a symlink, or is not a
    regular file, directory or symlink is refused; one that is itself a symlink is copied as the link,
    never followed. Wildcards are expanded by _expand (no link followed, bounded, before `deadline`). What
    the context's .dockerignore excludes is as if absent (ignore_rules); a source left with nothing is
    Docker's "no source files". The cache key (advance) and the copy (run_step) both come from here."""
    try:
        words = (dockerfile.loads(step.args) if step.args.startswith("[")
                 else dockerfile.split(step.args, step.line))
    except ValueError as e:
        raise BuildError(str(e)) from None
    if any(w.startswith("--from") for w in words):     # advance and run_step take those to _copy_from
        raise BuildError(f"line {step.line}: {step.instr} --from: not a build-context copy")
    scope = config.scope()
    words = [dockerfile.subst(w, scope) for w in words if not w.startswith("--")]
    if len(words) < 2:
        raise BuildError(f"line {step.line}: {step.instr} needs a source and a destination")
    *srcs, dest = words
    dest = _dest(dest, config.workdir)
    out, rules = [], None
    many = len(srcs) > 1
    for src in srcs:
        where = f"line {step.line}: {step.instr} {src}"
        if re.match(r"https?://", src) and step.instr == "ADD":
            continue                           # fetched: _url_sources
        if ".." in src.split("/") or "\0" in src:
            raise BuildError(f"{where}: outside the build context")
        rel = src.strip("/") or "."
        if not context.is_dir():
            matches = []
        elif re.search(r"[*?[]", rel):
            matches = _expand(context, rel, where, deadline)
        else:
            matches = [rel] if os.path.lexists(context / rel) else []
        if not matches:
            raise BuildError(f"{where}: not found in environment/")
        found = [(_inside(context, m, where), m) for m in matches]
        if rules is None:
            rules = ignore_rules(context)
        # as if absent: what .dockerignore leaves out (a directory: unless something below it is kept)
        found = [(p, m) for p, m in found if not rules or next(walk_tree(p, context, rules), None)]
        if not found:
            raise BuildError(f"{where}: no source files were specified (.dockerignore excludes "
                             f"{'every match' if re.search(r'[*?[]', rel) else 'it'})")
        for p, _ in found:
            out.append((p, dest, many or len(matches) > 1))
    return out


MAX_GLOB_ENTRIES = 100_000   # directory entries one COPY source's wildcards may list: more is a bad task


def _expand(context: Path, rel: str, where: str, deadline: float | None) -> list[str]:
    """The paths under `context` that `rel`'s wildcards match, sorted, as glob.glob matched them (fnmatch per
    component; `*` skips dot files unless the pattern starts with '.'), but walked as _inside walks:
    each directory opened from its parent's descriptor with O_NOFOLLOW, listed with os.scandir, never
    through a symlink. A link met above the last component (named, or matched by a wildcard) is refused
    at once, without listing it: glob followed `environment/l -> /` as the host's root and listed its tree,
    through /proc, for minutes past build_timeout_sec before _inside refused it (rt6 p13). At most
    MAX_GLOB_ENTRIES entries listed, before `deadline`: each over is one line."""
    parts = [p for p in rel.split("/") if p not in ("", ".")]
    out, listed = [], [0]

    def walk(dfd: int, prefix: str, i: int) -> None:
        pattern, last = parts[i], i == len(parts) - 1
        if re.search(r"[*?[]", pattern):
            names = []
            with os.scandir(dfd) as entries:
                for e in entries:
                    listed[0] += 1
                    if listed[0] > MAX_GLOB_ENTRIES:
                        raise BuildError(f"{where}: the wildcard lists over {MAX_GLOB_ENTRIES:,} entries of "
                                         "environment/; name fewer files")
                    if deadline is not None and time.monotonic() > deadline:
                        raise BuildError(f"{where}: build_timeout_sec reached expanding the wildcard")
                    if fnmatch.fnmatchcase(e.name, pattern) and (pattern[0] == "." or e.name[0] != "."):
                        names.append(e.name)
        else:
            names = [pattern]
        for name in sorted(names):
            try:
                mode = os.stat(name, dir_fd=dfd, follow_symlinks=False).st_mode
            except (FileNotFoundError, NotADirectoryError):
                continue
            if last:
                out.append(prefix + name)
            elif stat.S_ISLNK(mode):
                raise BuildError(f"{where}: goes through {name!r}, a symlink (refused: it could leave the "
                                 "build context)")
            elif stat.S_ISDIR(mode):
                fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dfd)
                try:
                    walk(fd, f"{prefix}{name}/", i + 1)
                finally:
                    os.close(fd)

    if deadline is not None and time.monotonic() > deadline:
        raise BuildError(f"{where}: build_timeout_sec reached expanding the wildcard")
    top = os.open(context, os.O_RDONLY | os.O_DIRECTORY)
    try:
        walk(top, "", 0)
    finally:
        os.close(top)
    return sorted(out)                         # as sorted(glob.glob(...)): the key's and the copy's order


def _inside(context: Path, rel: str, where: str) -> Path:
    """context/rel, walked one component at a time without following a symlink: every component but the
    last a real directory, the last a regular file, directory or symlink."""
    parts = [p for p in rel.split("/") if p not in ("", ".")]
    cur = context
    for i, part in enumerate(parts):
        if part == "..":
            raise BuildError(f"{where}: outside the build context")
        cur = cur / part
        mode = os.lstat(cur).st_mode
        if i < len(parts) - 1 and not stat.S_ISDIR(mode):
            raise BuildError(f"{where}: goes through {part!r}, a symlink or a file (refused: it could "
                             "leave the build context)")
        if i == len(parts) - 1 and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode)):
            raise BuildError(f"{where}: not a regular file, directory or symlink")
    return cur


def _dest(dest: str, workdir: str) -> str:
    is_dir = dest.endswith("/") or dest in (".", "..") or dest.endswith(("/.", "/.."))
    return os.path.normpath(os.path.join(workdir, dest)).replace("//", "/") + ("/" if is_dir else "")


def _field(h, data: bytes) -> None:
    """Add one field to a key, framed by its length: no field's bytes can spell the next field's (rt5 p19:
    a file `a` holding `hello\\1ctx/b\\0<mode>\\0world` once hashed as files `a` and `b`)."""
    h.update(len(data).to_bytes(8, "big") + data)


def _context_hash(sources: list[tuple[Path, str, bool]], context: Path,
                  deadline: float | None = None) -> str:
    """Hash of what a COPY/ADD copies (its sources from _copy_sources): names, modes, bytes and link targets,
    never following a link; a changed file, or a $VAR naming another one, rebuilds. Every field is framed
    (_field), a file's bytes by their own sha256, and each record starts with its kind, so two different
    trees never share a key. On the build's clock (`deadline`, a time.monotonic()): a sparse file of
    gigabytes takes no disk and is read at ~1 GB/s (rt13b p12), each MiB checked."""
    h, total, rules = hashlib.sha256(), 0, ignore_rules(context)
    late = lambda: deadline is not None and time.monotonic() > deadline      # noqa: E731
    for src, dest, many in sources:
        _field(h, b"source")
        _field(h, json.dumps([dest, many]).encode())
        for p, st in walk_tree(src, context, rules):       # what .dockerignore excludes is not read
            total += st.st_size if stat.S_ISREG(st.st_mode) else 0
            if total > BUILD_DISK_MB << 20:        # refused before it is read: no layer could hold it
                raise BuildError(f"{os.path.relpath(src, context)!r} in environment/: the files to copy add "
                                 f"up to over the build's disk cap of {BUILD_DISK_MB} MiB")
            _field(h, b"entry")
            _field(h, os.fsencode(os.path.relpath(p, context)))
            _field(h, str(st.st_mode).encode())
            body = hashlib.sha256()
            if stat.S_ISLNK(st.st_mode):
                body.update(os.fsencode(os.readlink(p)))
            elif stat.S_ISREG(st.st_mode):
                with os.fdopen(sandbox.open_regular(p, os.path.relpath(p, context)), "rb") as f:
                    while chunk := f.read(1 << 20):
                        body.update(chunk)
                        if late():
                            break
            if late():
                raise BuildError(f"{os.path.relpath(src, context)!r} in environment/: build_timeout_sec "
                                 "reached while reading the files to copy")
            _field(h, body.digest())
    return h.hexdigest()


MAX_DEPTH = 256     # directories below a copied one: deeper is a bad task (Python's copy recursion ends)


def walk_tree(top: Path, context: Path, rules: list = ()):
    """(path, lstat) of top and everything under it, in a fixed order, without following a symlink and
    without recursion; a device node, FIFO or socket, or a tree deeper than MAX_DEPTH, is a BuildError.
    With `rules` (the context's .dockerignore, ignore_rules), what they exclude is left out as BuildKit
    leaves it out (dockerfile.py's rules): an excluded directory that is walked into is yielded only before
    something kept below it; a directory it prunes is not listed."""
    above, gone = _ignore_above(rules, top, context)
    if gone:
        return
    todo, held = [(top, 0, above)], []              # held: excluded directories walked into, not yielded
    while todo:
        p, depth, above = todo.pop()
        st = os.lstat(p)
        matches, drop = None, False
        if rules and (rel := os.path.relpath(p, context)) != ".":   # without rules: as fast as before
            matches = dockerfile.ignore_matches(rules, above, rel)
            drop = dockerfile.ignored(rules, matches)
        while held and not str(p).startswith(f"{held[-1][0]}/"):
            held.pop()
        if drop and (not stat.S_ISDIR(st.st_mode) or dockerfile.ignore_prunes(rules, rel)):
            continue                                # never sent: not checked, not read
        if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode) or stat.S_ISLNK(st.st_mode)):
            raise BuildError(f"{os.path.relpath(p, context)!r} in environment/: not a regular file, "
                             "directory or symlink")
        if drop:
            held.append((p, st))
        else:
            yield from held
            held.clear()
            yield p, st
        if stat.S_ISDIR(st.st_mode):
            if depth >= MAX_DEPTH:
                raise BuildError(f"environment/: directories nested deeper than {MAX_DEPTH} under "
                                 f"{os.path.relpath(top, context)!r}")
            todo += [(p / child, depth + 1, matches) for child in sorted(os.listdir(p), reverse=True)]


def _ignore_above(rules: list, top: Path, context: Path) -> tuple[tuple | None, bool]:
    """The rules' matches of top's parent directory (ignore_matches carried down from the context's root),
    and whether a directory above top is pruned (then top is not in the context at all)."""
    parts = [] if not rules else Path(os.path.relpath(top, context)).parts
    matches = None
    for i in range(len(parts) - 1) if parts != (".",) else ():
        rel = "/".join(parts[:i + 1])
        matches = dockerfile.ignore_matches(rules, matches, rel)
        if dockerfile.ignored(rules, matches) and dockerfile.ignore_prunes(rules, rel):
            return matches, True
    return matches, False


def ignore_rules(context: Path) -> list:
    """The rules of the context's .dockerignore (dockerfile.ignore_rules), [] without one. Read as a regular
    file, never through a link; a bad pattern or one past the caps is the task's BuildError, in one line."""
    path = Path(context) / ".dockerignore"
    if not os.path.lexists(path):
        return []
    try:
        with os.fdopen(sandbox.open_regular(path, ".dockerignore"), "rb") as f:
            data = f.read(dockerfile.MAX_IGNORE_BYTES + 1)      # one byte over: refused by the parser
        return dockerfile.ignore_rules(data.decode("utf-8", "replace"))
    except (OSError, ValueError) as e:
        raise BuildError(f"{os.path.basename(context)}/{one_line(str(e))}") from None


def _stage_kept(src: Path, context: Path, rules: list, out: Path) -> Path:
    """A host copy at `out` of what of directory `src` .dockerignore keeps (walk_tree): modes, times, link
    targets; the copy run_step hands to copy_in in its place."""
    kept = [(p, st, out / os.path.relpath(p, src) if p != src else out)
            for p, st in walk_tree(src, context, rules)]
    for p, st, q in kept:
        if stat.S_ISDIR(st.st_mode):
            q.mkdir()
        else:
            sandbox.copy_plain(p, q)          # a link as the link; a FIFO or device refused
    for p, st, q in reversed(kept):            # a directory's mode and time last: it may be read-only
        if stat.S_ISDIR(st.st_mode):
            os.chmod(q, stat.S_IMODE(st.st_mode))
            os.utime(q, ns=(st.st_atime_ns, st.st_mtime_ns))
    return out


def _short(args: str) -> str:
    text = " ".join(args.split())
    return repr(text if len(text) <= 60 else text[:57] + "...")


# ---- the cache's files: nothing here follows a path a build step or an archive controls -----------------

def temp_name(name: str) -> str:
    """A temporary name next to a final one, with its owner's pid and start time, so that sweep() tells a
    dead owner's leftovers from a live build's (a pid alone may have been reused)."""
    return f".tmp-{name}@{os.getpid()}-{_started(os.getpid())}"


def _started(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return "0"


_swept: set[Path] = set()


def sweep(cache: Path) -> None:
    """Remove what builds, imports and pulls that were killed left in the cache (their temporary names
    carry their owner: sweep only those whose owner is gone); once per cache and process."""
    if cache in _swept:
        return
    _swept.add(cache)
    for d in (cache, cache / "images", cache / "layers", cache / "blobs" / "sha256"):
        for p in d.glob(".tmp-*") if d.is_dir() else []:
            owner = re.search(r"@(\d+)-(\d+)(\..*)?$", p.name)
            if owner and _started(int(owner[1])) != owner[2]:
                _rm(p)
            elif not owner and (old := re.search(r"-(\d+)$", p.name)) and not sandbox.alive(int(old[1])):
                _rm(p)                         # an older echo's name: .tmp-<key>-<pid>
        for p in d.glob(".part-*") if d.is_dir() else []:
            owner = re.match(r"\.part-(\d+)-(\d+)-", p.name)
            if owner and _started(int(owner[1])) != owner[2]:
                _rm(p)


def disk_usage(path: Path) -> tuple[int, int]:
    """Bytes on disk under path (blocks, and a block per entry for its inode) and its entries (inodes),
    walked by file descriptor without following a symlink (os.fwalk): a tree a sandbox writes cannot send
    the walk elsewhere."""
    total = entries = 0
    if not os.path.isdir(path) or os.path.islink(path):
        return 0, 0
    for _, dirs, files, fd in os.fwalk(path, follow_symlinks=False):
        for name in dirs + files:
            entries += 1
            try:
                total += os.stat(name, dir_fd=fd, follow_symlinks=False).st_blocks * 512 + 4096
            except OSError:
                pass
    return total, entries


def _disk_cap(where: Path, disk_mb: int) -> tuple[int, int]:
    """A layer's cap on the cache's disk: (bytes, entries)."""
    # A full disk is the machine's, never the task being built (rt14b p15: another task's layers took it)
    free = shutil.disk_usage(where).free - (DISK_RESERVE_MB << 20)
    if free <= 0:
        raise sandbox.SandboxError(f"image cache {where}: under {DISK_RESERVE_MB} MiB free; nothing is built")
    inodes = sandbox.inodes_left(where)
    if inodes is not None and inodes <= 0:
        raise sandbox.SandboxError(f"image cache {where}: under {sandbox.INODE_RESERVE} inodes free; nothing "
                                   "is built")
    files = disk_mb * FILES_PER_MB
    return min(disk_mb << 20, free), files if inodes is None else min(files, inodes)


def held_files(pids, on: Path) -> int:
    """Bytes on disk of the regular files that processes `pids` hold open (/proc/PID/fd) or mapped
    (/proc/PID/map_files) with no name left (st_nlink 0: unlinked, or O_TMPFILE), counted once each, where
    they lie on `on`'s filesystem (known by its size in statvfs: an overlay reports its upper's, under an
    f_fsid of its own; a tmpfs file is memory, which the step's cgroup counts). A name's bytes are
    disk_usage's; these no walk sees."""
    size = lambda v: (v.f_frsize, v.f_blocks, v.f_files)      # noqa: E731
    fs, seen, total = size(os.statvfs(on)), set(), 0
    for pid in pids:
        for table in ("fd", "map_files"):      # map_files: an unlinked file mapped after its fd was closed
            try:
                names = os.listdir(f"/proc/{pid}/{table}")
            except OSError:                    # gone, or map_files without CAP_SYS_ADMIN
                continue
            for name in names:
                link = f"/proc/{pid}/{table}/{name}"
                try:
                    st = os.stat(link)
                    if (not stat.S_ISREG(st.st_mode) or st.st_nlink or (st.st_dev, st.st_ino) in seen
                            or size(os.statvfs(link)) != fs):
                        continue
                except OSError:
                    continue
                seen.add((st.st_dev, st.st_ino))
                total += st.st_blocks * 512
    return total


class _DiskWatch:
    """While a build step runs: walk its layer's size, add the files its processes hold with no name
    (held_files), and kill the sandbox when they pass the cap (bytes, entries): `over` is then what was
    found; or when the cache's disk falls under DISK_FLOOR_MB free: `low` is then its free bytes, `free0`
    what it had at the start. The walk is paced by its own length (2x), which the step sets with its files
    and open fds (3.6-15.8 s apart: rt14b p01, p06), so the floor is checked in a thread of its own, every
    FLOOR_SECONDS."""

    def __init__(self, path: Path, cap: tuple[int, int], sb: Sandbox):
        self.path, self.cap, self.sb, self.over, self.low = path, cap, sb, None, None
        self.stop = threading.Event()

    def __enter__(self) -> "_DiskWatch":
        self.free0 = shutil.disk_usage(self.path).free
        self.threads = [threading.Thread(target=loop, daemon=True) for loop in (self._loop, self._floor)]
        for t in self.threads:
            t.start()
        return self

    def _floor(self) -> None:
        while not self.stop.wait(FLOOR_SECONDS):
            if (free := shutil.disk_usage(self.path).free) < DISK_FLOOR_MB << 20:
                self.low = free
                self._kill()
                return

    def _loop(self) -> None:
        pause = WATCH_SECONDS
        while not self.stop.wait(pause):
            t0 = time.monotonic()
            try:
                pids = self.sb.processes()
            except (OSError, TypeError):       # already gone
                pids = []
            used = disk_usage(self.path)
            used = (used[0] + held_files(pids, self.path), used[1])
            pause = max(WATCH_SECONDS, 2 * (time.monotonic() - t0))   # a big layer is walked less often
            if self.low is not None:           # the floor's thread killed it
                return
            if used[0] > self.cap[0] or used[1] > self.cap[1]:
                self.over = used
                self._kill()
                return

    def _kill(self) -> None:
        try:
            pids = self.sb.processes()         # pid 1 first: its namespace dies with it
        except (OSError, TypeError):           # already gone
            pids = []
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for t in self.threads:
            t.join()


def remove_beneath(root: Path, rel: str) -> None:
    """Remove root/rel (a file or a whole tree) if it is there, resolving rel one component at a time with
    O_NOFOLLOW from root: a symlink anywhere on the way means it is not there, so nothing outside root is
    ever removed. No '..'."""
    parts = [p for p in rel.split("/") if p]
    if not parts or ".." in parts:
        raise ValueError(f"remove_beneath: bad path {rel!r}")
    try:
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return
    try:
        for part in parts[:-1]:
            try:
                nfd = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            except OSError:                    # missing, a file, or a symlink: nothing of ours beneath
                return
            os.close(fd)
            fd = nfd
        try:
            st = os.stat(parts[-1], dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            return
        if stat.S_ISDIR(st.st_mode):
            shutil.rmtree(parts[-1], dir_fd=fd)    # fd-based, never follows a link
        else:
            os.unlink(parts[-1], dir_fd=fd)
    finally:
        os.close(fd)


def _own(path: Path) -> None:
    """A directory the sandbox's root may write: as root, hand it to the mapped root (host uid H)."""
    if os.getuid() == 0:
        os.chown(path, sandbox.UID_BASE, sandbox.UID_BASE)
    path.chmod(0o755)


def _rm(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        sandbox.rmtree(path)


class _lock:
    """An exclusive flock on CACHE/locks/<name>.lock: one builder per key, across processes and ranks. With
    a deadline (time.monotonic()), the waiter's own clock, waiting past it is a SandboxError: another
    process holds the build (another task's, or another episode's), so the wait is not this task's fault
    (rt16b p15: a task at cpus 0.02 held a shared step while the next task's setup failed as its own)."""

    def __init__(self, name: str, cache: Path, deadline: float | None = None, what: str = ""):
        (cache / "locks").mkdir(parents=True, exist_ok=True)
        self.path, self.deadline, self.what = cache / "locks" / f"{name}.lock", deadline, what

    def __enter__(self):
        self.f = open(self.path, "a")
        while True:
            try:
                fcntl.flock(self.f, fcntl.LOCK_EX | (fcntl.LOCK_NB if self.deadline is not None else 0))
                return
            except BlockingIOError:
                if time.monotonic() > self.deadline:
                    self.f.close()
                    raise sandbox.SandboxError(f"{self.what}: build_timeout_sec reached waiting for another "
                                               "build of this step (another process holds it)") from None
                time.sleep(0.1)

    def __exit__(self, *exc):
        fcntl.flock(self.f, fcntl.LOCK_UN)
        self.f.close()


def prepare_cache(cache: Path | None = None) -> None:
    """As root, the cache is root's and mode 0700: its layers' files are the sandboxes' uid H's (the image's
    root owns them), so no process of a sandbox may reach them by path, or it could rewrite every task's
    image (rt10b p31). A sandbox's child binds the layers it needs read-only (sandbox.py's _shelf)."""
    cache = Path(cache or CACHE)
    if re.search(r"[:,\s]", str(cache)):
        raise BuildError(f"image cache {cache}: an overlay mount cannot take ':', ',' or spaces in its path")
    for d in (cache, cache / "images", cache / "layers", cache / "blobs"):
        d.mkdir(parents=True, exist_ok=True)
    _root_only(cache)


def _root_only(cache: Path) -> Path:
    """prepare_cache's rule, kept wherever a cache is used (resolve, build, an import): one made by mkdir,
    or by a version that handed it to the sandboxes to traverse, is made root's and 0700 first."""
    if os.getuid() == 0 and cache.is_dir():
        st = cache.stat()
        if st.st_uid != 0 or st.st_mode & 0o077:
            os.chown(cache, 0, 0)
            cache.chmod(0o700)
    return cache


def main(argv=None) -> int:
    import argparse
    p = argparse.ArgumentParser(description="Base images and the build cache for task environments.")
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("debootstrap", help="build a Debian or Ubuntu base with debootstrap (root), name it")
    d.add_argument("--suite", default="bookworm",
                   help=f"a Debian suite, or an Ubuntu one ({', '.join(UBUNTU_SUITES)})")
    d.add_argument("--mirror", help="default http://deb.debian.org/debian, or http://archive.ubuntu.com/"
                                    "ubuntu for an Ubuntu suite")
    d.add_argument("--name", help="the base's own name (default: debian:SUITE or ubuntu:SUITE, with -python "
                                  "after the distribution when --python)")
    d.add_argument("--as", dest="patterns", action="append", default=[],
                   help="image name patterns this base stands in for when no image store or registry has "
                        "them (repeatable), e.g. 'ubuntu:*', 'python:3.*', or '*' for any image")
    d.add_argument("--python", action="store_true",
                   help="add python3, pip, venv (a python:3.x-slim stand-in)")
    d.add_argument("--include", default="", help="extra packages, comma-separated")
    sub.add_parser("ls", help="list cached images and layers")
    args = p.parse_args(argv)
    try:
        prepare_cache()
        if args.cmd == "debootstrap":
            distro = "ubuntu" if args.suite in UBUNTU_SUITES else "debian"
            mirror = args.mirror or ("http://archive.ubuntu.com/ubuntu" if distro == "ubuntu"
                                     else "http://deb.debian.org/debian")
            name = args.name or f"{distro}{'-python' if args.python else ''}:{args.suite}"
            image = debootstrap(args.suite, mirror, [name, *args.patterns], args.python,
                                [x for x in args.include.split(",") if x])
            print(f"{name} -> {image.rootfs}; stands in for {', '.join(args.patterns) or 'nothing'}")
        else:
            for d in sorted((CACHE / "images").glob("*/image.json")):
                meta = json.loads(d.read_text())
                print(one_line(f"image {meta['ref']}: {meta['source']}"))     # a task's FROM: escaped
            layers = list((CACHE / "layers").glob("*/meta.json"))
            print(f"{len(layers)} layers in {CACHE / 'layers'}")
    except BuildError as e:
        say(f"images.py: error: {e}")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
