"""Root filesystems for task environments: base images, and Dockerfile builds cached as overlay layers.

A task's `FROM` resolves to a base root filesystem, first found wins:
  1. the cache (CACHE/images/<name>), where everything below lands once imported;
  2. a local image store (--images DIR or $ECHO_IMAGES): DIR/<name>/ (a root filesystem directory) or
     DIR/<name>.tar[.gz] (e.g. from `docker export`, `podman export`); <name> is the reference with
     '/', ':' and '@' as '_', e.g. ubuntu_24.04.tar;
  3. the image's OCI registry, when reachable (registry.py);
  4. a stand-in made by `python images.py debootstrap` (a Debian base, saved as CACHE/images/default),
     said once in a line;
  5. the host's system directories, read-only, said once in a line. `FROM host` asks for them outright
     (the built-in tasks do: they need only the host's python3, git, sqlite3, jq).

The build runs the Dockerfile's RUN, COPY, ADD, ENV, ARG, WORKDIR and SHELL (read by dockerfile.py, as the
loader reads them) in a sandbox with pasta's network, one step at a time. Each RUN/COPY/ADD writes one
layer, CACHE/layers/<key>/layer, where the key hashes the parent's key, the step, its environment and, for
COPY/ADD, the files it copies: tasks that share a Dockerfile prefix (all 3,566 TermiGen tasks share their
first three steps) share those layers, and every episode, rank and run reuses them. A lock per key makes
concurrent builds of one key safe.
Steps after `ARG TASK_SEED` are not cached: they generate a task instance and run in each episode.
CACHE is $ECHO_CACHE, /var/cache/echo as root, else ~/.cache/echo; resolve, build, debootstrap and
prepare_cache take another as `cache` (harbor.start_task passes its own through).
"""
from __future__ import annotations

import fcntl
import fnmatch
import glob
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import dockerfile
import registry
import sandbox
from errors import EchoError
from sandbox import BASE_ENV, Limits, Sandbox

CACHE = Path(os.environ.get("ECHO_CACHE") or ("/var/cache/echo" if os.getuid() == 0 else
                                               Path.home() / ".cache" / "echo"))
# Instructions that change nothing in a built root filesystem here.
METADATA = {"LABEL", "EXPOSE", "CMD", "ENTRYPOINT", "MAINTAINER", "VOLUME", "HEALTHCHECK", "STOPSIGNAL",
            "ONBUILD", "USER"}


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


@dataclass
class State:
    """Where a build is after some steps: the layers so far (top first) and the Dockerfile's state."""
    image: Image
    layers: list[Path]
    key: str
    config: dockerfile.Config          # ENV (over the image's environment), ARG, WORKDIR, SHELL, USER

    @property
    def env(self) -> dict[str, str]:
        return self.config.env


def slug(ref: str) -> str:
    return re.sub(r"[/:@]", "_", ref)


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


def resolve(ref: str, store: Path | None = None, log=print, cache: Path | None = None) -> Image:
    """The base image for `FROM ref` (see the module docstring for the order)."""
    cache = Path(cache or CACHE)
    if ref == "host":
        return Image("host", None, source="the host's system directories")
    canon = canonical(ref)                     # the name it is cached under; older caches used `ref`
    names = list(dict.fromkeys(slug(r) for r in (canon, canon.split("@")[0], ref, ref.split("@")[0])))
    for name in names:
        if (cache / "images" / name / "image.json").is_file():
            return _cached(name, cache)
    store = store or (Path(os.environ["ECHO_IMAGES"]) if os.environ.get("ECHO_IMAGES") else None)
    for name in names if store else []:
        for cand in (store / name, store / f"{name}.tar", store / f"{name}.tar.gz"):
            if cand.exists():
                log(f"importing {ref} from {cand}")
                return _import(canon, cand, f"image store {cand}", cache)
    host = registry.parse_reference(ref).registry
    if host not in _unreachable:
        try:
            return _pull(ref, canon, log, cache)
        except registry.RegistryUnreachable as e:
            _unreachable[host] = str(e).removeprefix(f"image {ref}: ")
    reason = _unreachable[host]
    aliases = json.loads((cache / "images" / "aliases.json").read_text()) if (
        cache / "images" / "aliases.json").is_file() else []
    found = stand_in(ref, aliases)             # stand-ins named by `images.py debootstrap --as PATTERN`
    if found:
        image = _cached(found[1], cache)
        sandbox.say_once(f"FROM {ref}: {reason}; using the stand-in {image.source} ({found[0]!r})")
        return image
    sandbox.say_once(f"FROM {ref}: {reason}, and no stand-in base matches (python images.py debootstrap "
                     "--as ...); using the host's system directories, read-only")
    return Image(ref, None, source="the host's system directories")


def _cached(name: str, cache: Path) -> Image:
    meta = json.loads((cache / "images" / name / "image.json").read_text())
    return Image(meta["ref"], cache / "images" / name / "rootfs", env=meta.get("env", {}),
                 workdir=meta.get("workdir") or "/", source=meta.get("source", ""))


def _save(ref: str, tar_stream, source: str, env: dict[str, str], workdir: str, cache: Path,
          name: str | None = None) -> Image:
    """Extract a tar stream into CACHE/images/<name>/rootfs inside the sandbox's user namespace, so files
    get the owners a sandbox sees; write image.json last, so a half import is never used."""
    name = name or slug(ref)
    final = cache / "images" / name
    tmp = cache / "images" / f".tmp-{name}-{os.getpid()}"
    _rm(tmp)
    (tmp / "rootfs").mkdir(parents=True)
    _own(tmp / "rootfs")
    # Device nodes cannot be made in a user namespace (the sandbox mounts its own /dev): tar says so and
    # goes on; any other error fails the import.
    r = sandbox.run_mapped(["tar", "-x", "-p", "--numeric-owner", "-f", "-", "-C", str(tmp / "rootfs")],
                           stdin=tar_stream)
    bad = [l for l in r.stdout.splitlines() if l.strip() and "Cannot mknod" not in l
           and "Exiting with failure status" not in l]
    if r.returncode and bad:
        _rm(tmp)
        raise BuildError(f"cannot import {ref}: {bad[-1][:200]}")
    meta = {"ref": ref, "source": source, "env": env, "workdir": workdir}
    (tmp / "image.json").write_text(json.dumps(meta))
    with _lock(f"image-{name}", cache):
        if not (final / "image.json").exists():
            _rm(final)
            tmp.rename(final)
    _rm(tmp)
    return _cached(name, cache)


def _import(ref: str, path: Path, source: str, cache: Path) -> Image:
    if path.is_dir():                          # a root filesystem directory: stream it through tar
        tar = subprocess.Popen(["tar", "-c", "-f", "-", "-C", str(path), "."], stdout=subprocess.PIPE)
        try:
            return _save(ref, tar.stdout, source, {}, "/", cache)
        finally:
            tar.stdout.close()
            tar.wait()
    with open(path, "rb") as f:                # tar -x reads gzip itself
        return _save(ref, f, source, {}, "/", cache)


def _pull(ref: str, canon: str, log, cache: Path) -> Image:
    """Pull `ref` as written (a mirror may answer where Docker Hub does not); cache it as `canon`."""
    with tempfile.TemporaryFile(dir=cache) as f:
        host = registry.parse_reference(ref).registry   # as Docker: loopback registries speak plain HTTP
        scheme = "http" if re.match(r"(localhost|127\.\d+\.\d+\.\d+)(:\d+)?$", host) else "https"
        config = registry.pull(ref, f, cache / "blobs", progress=log, scheme=scheme)
        f.seek(0)
        env = dict(e.split("=", 1) for e in config.get("Env") or [] if "=" in e)
        return _save(canon, f, f"registry {ref}", env, config.get("WorkingDir") or "/", cache)


def debootstrap(suite: str, mirror: str, names: list[str], python: bool, extra: list[str],
                log=print, cache: Path | None = None) -> Image:
    """A Debian base made with debootstrap (needs root and the Debian mirror), saved as names[0] and used
    as the stand-in for every image matching one of names[1:] (glob patterns: 'ubuntu:*', 'python:3.*',
    '*' for any image) that no image store or registry provides. python=True adds python3, pip and venv
    under the names `python` and `pip` too, a stand-in for python:3.x-slim images. The host's extra CA
    certificates are added, so that pip and curl work behind a TLS-inspecting proxy as on the host."""
    if os.getuid() != 0 or not shutil.which("debootstrap"):
        raise BuildError("debootstrap needs root and the debootstrap package (apt-get install debootstrap)")
    cache = Path(cache or CACHE)
    pkgs = ["ca-certificates", "procps", "curl", *(["python3", "python3-pip", "python3-venv",
                                                     "python-is-python3"] if python else []), *extra]
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        t0 = time.monotonic()
        log(f"debootstrap {suite} from {mirror} with {', '.join(pkgs)} ...")
        r = subprocess.run(["debootstrap", "--variant=minbase", f"--include={','.join(pkgs)}", suite, tmp,
                            mirror], capture_output=True, text=True)
        if r.returncode:
            raise BuildError(f"debootstrap failed: {(r.stdout + r.stderr).strip().splitlines()[-1][:200]}")
        for crt in glob.glob("/usr/local/share/ca-certificates/*.crt"):
            shutil.copy(crt, f"{tmp}/usr/local/share/ca-certificates/")
        subprocess.run(["chroot", tmp, "update-ca-certificates"], capture_output=True)
        if python:   # python:3.x-slim images have pip on PATH and no EXTERNALLY-MANAGED marker
            for m in glob.glob(f"{tmp}/usr/lib/python3*/EXTERNALLY-MANAGED"):
                os.remove(m)
            os.symlink("pip3", f"{tmp}/usr/bin/pip") if not os.path.lexists(f"{tmp}/usr/bin/pip") else None
        log(f"debootstrap took {time.monotonic() - t0:.0f} s; importing")
        source = f"debootstrap {suite}{' + python3' if python else ''} (a stand-in)"
        tar = subprocess.Popen(["tar", "-c", "-f", "-", "-C", tmp, "."], stdout=subprocess.PIPE)
        image = _save(names[0], tar.stdout, source, {"PATH": BASE_ENV["PATH"]}, "/", cache,
                      name=slug(names[0]))
        tar.wait()
    aliases_file = cache / "images" / "aliases.json"
    with _lock("aliases", cache):                     # later patterns first: the newest stand-in wins
        old = json.loads(aliases_file.read_text()) if aliases_file.is_file() else []
        new = [[p, slug(names[0])] for p in names[1:]]
        aliases_file.write_text(json.dumps(new + [a for a in old if a[0] not in names[1:]]))
    return image


# ---- builds -------------------------------------------------------------------------------------------

def start_state(image: Image, build_args: dict[str, str] | None = None) -> State:
    """The state right after FROM: the image, and the ARGs declared before FROM (dockerfile.stage)."""
    identity = [image.source, str(image.rootfs and image.rootfs.resolve())]
    key = hashlib.sha256(json.dumps(identity).encode()).hexdigest()
    config = dockerfile.Config(env={**image.env}, workdir=image.workdir, build_args=build_args or {})
    return State(image, [image.rootfs] if image.rootfs else [], key[:16], config)


def build(steps, state: State, context: Path, timeout: float, limits: Limits, log=print,
          cache: Path | None = None) -> State:
    """Run Dockerfile steps into cached layers (skipping those already built) and return the state after
    them. Steps must not include FROM. The timeout covers the steps that actually run."""
    cache = Path(cache or CACHE)
    deadline = time.monotonic() + timeout
    for step in steps:
        state = advance(state, step, context)
        if step.instr not in ("RUN", "COPY", "ADD", "COPY_HEREDOC"):
            continue
        layer = cache / "layers" / state.key
        if (layer / "meta.json").is_file():
            state.layers.insert(0, layer / "layer")
            continue
        with _lock(state.key, cache):
            if not (layer / "meta.json").is_file():
                _build_layer(state, step, context, layer, deadline, limits, log)
        state.layers.insert(0, layer / "layer")
    if len(state.layers) > 120:
        raise BuildError(f"{len(state.layers)} layers: more than an overlay mount takes")
    return state


def advance(state: State, step, context: Path) -> State:
    """The state after a step's metadata (ENV, ARG, WORKDIR, SHELL, USER: dockerfile.replay) and its key."""
    try:
        c = dockerfile.replay(state.config, step)
    except ValueError as e:
        raise BuildError(str(e)) from None
    extra = _context_hash(step, context) if step.instr in ("COPY", "ADD") else ""
    key = hashlib.sha256(json.dumps([state.key, step.instr, step.args, c.env, c.args, c.workdir, c.shell,
                                     extra]).encode()).hexdigest()[:16]
    return State(state.image, list(state.layers), key, c)


def _build_layer(state: State, step, context: Path, layer: Path, deadline: float, limits: Limits,
                 log) -> None:
    tmp = layer.parent / f".tmp-{layer.name}-{os.getpid()}"
    _rm(tmp)
    tmp.mkdir(parents=True)
    _own(tmp)
    left = deadline - time.monotonic()
    if left <= 0:
        raise BuildError(f"line {step.line}: build_timeout_sec reached before {step.instr}")
    t0 = time.monotonic()
    log(f"building line {step.line}: {step.instr} {' '.join(step.args.split())[:70]}")
    try:
        # As `docker build`: a RUN has the network (whatever the task's or the trainer's setting: the layer
        # is shared) and room to compile (the task's limits are the episode's). The network is the sandbox's
        # own through pasta, never the host's: its loopback and abstract sockets stay out of reach.
        build_limits = replace(limits, episode_timeout=left, memory_mb=max(limits.memory_mb, 8192),
                               nproc=max(limits.nproc, 4096))
        with Sandbox(workdir=state.config.workdir, env=state.env, layers=state.layers, upper=tmp / "layer",
                     network=step.instr == "RUN", limits=build_limits) as sb:
            run_step(sb, step, state, context, seed=None, timeout=left)
        _rm(tmp / "layer" / "run" / "xfer")    # the sandbox's own mount point, not the image's
        _rm(tmp / "layer.work")
        (tmp / "meta.json").write_text(json.dumps({"step": f"{step.instr} {step.args}"[:2000],
                                                   "seconds": round(time.monotonic() - t0, 1)}))
        tmp.rename(layer)
    finally:
        _rm(tmp)


def run_step(sb: Sandbox, step, state: State, context: Path, seed: int | None, timeout: float) -> None:
    """Run one RUN/COPY/ADD step in a started sandbox (a build layer, or an episode for seeded steps)."""
    where, c = f"line {step.line}: {step.instr}", state.config
    if step.instr == "RUN":
        argv = json.loads(step.args) if step.args.startswith("[") else [*c.shell, step.args]
        args = {**c.args, **({"TASK_SEED": str(seed)} if seed is not None else {})}
        prefix = " ".join(f"{k}={shlex.quote(v)}" for k, v in args.items())
        r = sb.exec(f"mkdir -p {shlex.quote(c.workdir)} && cd {shlex.quote(c.workdir)} && "
                    f"env {prefix} {shlex.join(argv)}", timeout)
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
            sb.copy_in(name, _dest(spec["dest"], c.workdir))
    elif step.instr in ("COPY", "ADD"):
        for src, dest, many in _copy_sources(step, state, context):
            try:
                if step.instr == "ADD" and src.is_file() and tarfile.is_tarfile(src):   # ADD unpacks archives
                    with tempfile.TemporaryDirectory() as tmp, tarfile.open(src) as tar:
                        tar.extractall(tmp, filter="data")
                        sb.copy_in(Path(tmp), dest)
                elif src.is_dir() and not src.is_symlink():
                    sb.copy_in(src, dest)
                else:           # into a directory if dest says so; `cp` also puts it inside an existing one
                    sb.copy_in(src, os.path.join(dest, src.name) if many or dest.endswith("/") else dest)
            except OSError as e:
                raise BuildError(f"{where} {_short(step.args)}: {e}") from None
    elif step.instr not in METADATA | {"ENV", "ARG", "WORKDIR", "SHELL"}:
        raise BuildError(f"{where}: not supported")


def _copy_sources(step, state: State, context: Path):
    words = json.loads(step.args) if step.args.startswith("[") else shlex.split(step.args)
    if any(w.startswith("--from") for w in words):
        raise BuildError(f"line {step.line}: {step.instr} --from (multi-stage builds) is not supported")
    scope = state.config.scope()
    words = [dockerfile.subst(w, scope) for w in words if not w.startswith("--")]
    if len(words) < 2:
        raise BuildError(f"line {step.line}: {step.instr} needs a source and a destination")
    *srcs, dest = words
    dest = _dest(dest, state.config.workdir)
    out = []
    for src in srcs:
        if re.match(r"\w+://", src):
            raise BuildError(f"line {step.line}: {step.instr} {src}: downloads are not supported")
        matches = sorted(glob.glob(str(context / src))) if context.is_dir() else []
        if not matches:
            raise BuildError(f"line {step.line}: {step.instr} {src}: not found in environment/")
        for m in map(Path, matches):
            if not Path(os.path.abspath(m)).is_relative_to(os.path.abspath(context)) or (
                    m.resolve() != Path(os.path.abspath(m)) and not m.is_symlink()):
                raise BuildError(f"line {step.line}: {step.instr} {src}: outside the build context")
            out.append((m, dest, len(srcs) > 1 or len(matches) > 1))
    return out


def _dest(dest: str, workdir: str) -> str:
    is_dir = dest.endswith("/") or dest in (".", "..") or dest.endswith(("/.", "/.."))
    return os.path.normpath(os.path.join(workdir, dest)).replace("//", "/") + ("/" if is_dir else "")


def _context_hash(step, context: Path) -> str:
    """Hash of the files a COPY/ADD reads (names, modes, contents, link targets): a changed file rebuilds."""
    h = hashlib.sha256()
    words = json.loads(step.args) if step.args.startswith("[") else shlex.split(step.args)
    for src in [w for w in words if not w.startswith("--")][:-1]:
        for m in sorted(glob.glob(str(context / src))):
            paths = [Path(m)] + (sorted(Path(m).rglob("*")) if Path(m).is_dir() and not Path(m).is_symlink()
                                 else [])
            for p in paths:
                st = p.lstat()
                h.update(f"{p.relative_to(context)}\0{st.st_mode}\0".encode())
                if p.is_symlink():
                    h.update(os.readlink(p).encode())
                elif p.is_file():
                    h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def _short(args: str) -> str:
    text = " ".join(args.split())
    return repr(text if len(text) <= 60 else text[:57] + "...")


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
    """An exclusive flock on CACHE/locks/<name>.lock: one builder per key, across processes and ranks."""

    def __init__(self, name: str, cache: Path):
        (cache / "locks").mkdir(parents=True, exist_ok=True)
        self.path = cache / "locks" / f"{name}.lock"

    def __enter__(self):
        self.f = open(self.path, "a")
        fcntl.flock(self.f, fcntl.LOCK_EX)

    def __exit__(self, *exc):
        fcntl.flock(self.f, fcntl.LOCK_UN)
        self.f.close()


def prepare_cache(cache: Path | None = None) -> None:
    """The cache must be traversable by the sandbox's root (host uid H) to reach its layers."""
    cache = Path(cache or CACHE)
    if re.search(r"[:,\s]", str(cache)):
        raise BuildError(f"image cache {cache}: an overlay mount cannot take ':', ',' or spaces in its path")
    for d in (cache, cache / "images", cache / "layers", cache / "blobs"):
        d.mkdir(parents=True, exist_ok=True)
    for d in (cache, *cache.parents):
        if d == Path("/"):
            break
        if os.getuid() == 0 and not d.stat().st_mode & 0o001:      # the sandbox's root is another user
            raise BuildError(f"image cache {cache}: {d} is not searchable by others (mode "
                             f"{d.stat().st_mode & 0o777:o}); set ECHO_CACHE to a path under searchable ones")


def main(argv=None) -> int:
    import argparse
    p = argparse.ArgumentParser(description="Base images and the build cache for task environments.")
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("debootstrap", help="build a Debian base with debootstrap (root) and name it")
    d.add_argument("--suite", default="bookworm")
    d.add_argument("--mirror", default="http://deb.debian.org/debian")
    d.add_argument("--name", help="the base's own name (default: debian:SUITE, or debian-python:SUITE)")
    d.add_argument("--as", dest="patterns", action="append", default=[],
                   help="image name patterns this base stands in for when no image store or registry has "
                        "them (repeatable), e.g. 'ubuntu:*', 'python:3.*', or '*' for any image")
    d.add_argument("--python", action="store_true",
                   help="add python3, pip, venv (a python:3.x-slim stand-in)")
    d.add_argument("--include", default="", help="extra Debian packages, comma-separated")
    sub.add_parser("ls", help="list cached images and layers")
    args = p.parse_args(argv)
    try:
        prepare_cache()
        if args.cmd == "debootstrap":
            name = args.name or f"debian{'-python' if args.python else ''}:{args.suite}"
            image = debootstrap(args.suite, args.mirror, [name, *args.patterns], args.python,
                                [x for x in args.include.split(",") if x])
            print(f"{name} -> {image.rootfs}; stands in for {', '.join(args.patterns) or 'nothing'}")
        else:
            for d in sorted((CACHE / "images").glob("*/image.json")):
                meta = json.loads(d.read_text())
                print(f"image {meta['ref']}: {meta['source']}")
            layers = list((CACHE / "layers").glob("*/meta.json"))
            print(f"{len(layers)} layers in {CACHE / 'layers'}")
    except BuildError as e:
        print(f"images.py: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
