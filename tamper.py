"""Did the agent prepare the ground its verifier runs on? (README "Containment", invariant 1.)

The episode's writable layer (sandbox.Sandbox.writable_layer: the overlay's upper directory, or the host
fallback's root tmpfs) holds exactly what changed in the container. `listing` reads it without following
a single link (the layer belongs to the sandbox; a link in it would resolve against the host's root), and
`tampered` is the policy: a pure function from that listing, what the image shipped, the workdir and the
verifier's PATH to the offending paths. harbor.verify refuses to run the tests on an episode it names
(Outcome.TAMPERED, reward 0): nothing is repaired and nothing is hidden.

What counts anywhere, the task's workdir included (a venv the image ships there is a site directory):
  - interpreter start-up hooks: sitecustomize / usercustomize, .pth files
  - test-runner configuration on the path up from /tests or the workdir (conftest.py, pytest.ini,
    .pytest.ini, pyproject.toml, tox.ini, setup.cfg, setup.py in / or a parent of the workdir)
  - a layer deeper than MAX_DEPTH, larger than MAX_ENTRIES or slower than MAX_SECONDS to list (it could not
    be checked: refused whole, before anything else is judged)
What counts outside the task's workdir (which is otherwise the agent's to change):
  - the system roots /usr /bin /sbin /lib* replaced (a directory, file or link of the agent's at that name)
  - a file the image shipped under a system root modified, replaced or deleted (new files are installs)
  - a new program in a PATH directory that shadows one of the image's later on PATH (/usr/local/bin/python3
    before /usr/bin/python3), or in a PATH directory outside the system roots (~/.local/bin); a new shared
    library or top-level Python module that shadows the image's
  - the loader's configuration: /etc/ld.so.preload, /etc/ld.so.conf, /etc/ld.so.conf.d/*
  - a link outside the system roots that a link of the image's under them resolves through
    (/etc/alternatives/awk for /usr/bin/awk), changed or replaced, unless re-pointed at a file of the
    system roots through none of the agent's links: a shipped program is judged by its path, not its links
  - anything at /tests or /logs/verifier (the verifier's own places), or /logs that is not a directory
An entry the task's own setup made (the baseline) is the task's while its stamp is unchanged: inode, size,
mode, mtime and ctime, which utime cannot set back.
"""
from __future__ import annotations

import os
import re
import stat
import time
from dataclasses import dataclass

SYSTEM_ROOTS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
LOADER_CONFIG = ("/etc/ld.so.preload", "/etc/ld.so.conf", "/etc/ld.so.conf.d")
RUNNER_CONFIG = {"conftest.py", "pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg",
                 "setup.py"}
HOOK_MODULES = {"sitecustomize", "usercustomize"}
LIB_DIRS = ["/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/local/lib", "/lib/x86_64-linux-gnu",
            "/usr/lib/x86_64-linux-gnu", "/usr/local/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu",
            "/usr/lib/aarch64-linux-gnu", "/usr/local/lib/aarch64-linux-gnu"]
PYTHON_DIR = re.compile(r"/usr(/local)?/lib/python3[.\d]*(/(site|dist)-packages)?")
# The host-side walk has a budget the agent cannot size: a layer over it is not checked but refused, cheaply
# (300k hard links once cost the trainer a minute of CPU outside any cgroup).
MAX_DEPTH, MAX_ENTRIES, MAX_SECONDS = 256, 100_000, 5.0
VERIFIERS_OWN = ("/tests", "/logs/verifier", "/logs/.verifier-pycache")   # sandbox_init.PYCACHE


@dataclass(frozen=True)
class Change:
    path: str                # absolute, in the sandbox
    kind: str                # "file", "dir", "link", "gone" (an overlay whiteout: deleted), "other"
    opaque: bool = False     # a directory that hides the image's one of that name (overlay: rm -r, mkdir)
    stamp: tuple = ()        # (inode, size, mtime_ns, mode, ctime_ns): equal stamps mean the same entry; the
                             # ctime is what utime cannot set back (an in-place edit whose mtime is restored)
    why: str = ""            # "unchecked": why the layer could not be checked
    target: str = ""         # a link's target, as written (read with readlink, never followed)


class _Unchecked(Exception):
    pass


def listing(layer: str) -> list[Change]:
    """Every entry of a writable layer, read through directory fds with O_NOFOLLOW and fstatat without
    following links: no link in the layer is ever followed, and no file of it is opened. Past MAX_ENTRIES
    entries, MAX_SECONDS or MAX_DEPTH levels the walk stops, and its last entry is an "unchecked" one."""
    out: list[Change] = []
    fd = os.open(layer, os.O_RDONLY | os.O_DIRECTORY)
    try:
        _walk(fd, "", 0, out, time.monotonic() + MAX_SECONDS)
    except _Unchecked as e:
        out.append(Change("/", "unchecked", why=str(e)))
    finally:
        os.close(fd)
    return out


def _walk(dfd: int, prefix: str, depth: int, out: list[Change], deadline: float) -> None:
    with os.scandir(dfd) as it:                # lazily: a directory of a million entries is not read whole
        for e in it:
            _entry(dfd, e, f"{prefix}/{e.name}", depth, out, deadline)


def _entry(dfd: int, e, path: str, depth: int, out: list[Change], deadline: float) -> None:
    if depth >= MAX_DEPTH:
        raise _Unchecked(f"writable layer too deep to check: over {MAX_DEPTH} levels at {path}")
    if len(out) >= MAX_ENTRIES:
        raise _Unchecked(f"writable layer too large to check: over {MAX_ENTRIES} entries")
    if len(out) % 1024 == 0 and time.monotonic() > deadline:
        raise _Unchecked(f"writable layer too large to check: {len(out)} entries in {MAX_SECONDS:g} s")
    st = e.stat(follow_symlinks=False)
    stamp, mode = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_mode, st.st_ctime_ns), st.st_mode
    if stat.S_ISDIR(mode):
        sub = os.open(e.name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dfd)
        try:
            out.append(Change(path, "dir", _opaque(sub), stamp))
            _walk(sub, path, depth + 1, out, deadline)
        finally:
            os.close(sub)
    else:
        kind = ("file" if stat.S_ISREG(mode) else "link" if stat.S_ISLNK(mode) else
                "gone" if stat.S_ISCHR(mode) and st.st_rdev == 0 else "other")
        out.append(Change(path, kind, False, stamp, target=os.readlink(e.name, dir_fd=dfd) if kind == "link"
                          else ""))


def _opaque(fd: int) -> bool:
    for name in ("user.overlay.opaque", "trusted.overlay.opaque"):
        try:
            if os.getxattr(f"/proc/self/fd/{fd}", name) == b"y":
                return True
        except OSError:
            pass
    return False


class Image:
    """What the image shipped, looked up in its layers (top first) one component at a time, never through a
    link: kind(path) is "file", "dir", "link", "other" or None. A whiteout in a layer hides what is below."""

    def __init__(self, roots: list[str]):
        self.roots, self._kinds, self._names = roots, {}, {}

    def kind(self, path: str) -> str | None:
        if path not in self._kinds:
            self._kinds[path] = self._lookup(path)
        return self._kinds[path]

    def names(self, directory: str) -> set[str]:
        """The names in one of the image's directories, over all layers."""
        if directory not in self._names:
            names: set[str] = set()
            for root in self.roots:
                fd = _open_dir(root, directory)
                if fd is not None:
                    try:
                        names |= set(os.listdir(fd))
                    finally:
                        os.close(fd)
            self._names[directory] = names
        return self._names[directory]

    def through(self) -> dict[str, str]:
        """{path: what resolves through it} for the paths outside the system roots that the image's links
        under them resolve through, hop by hop while they stay outside, and their ancestors (its
        /usr/bin/awk -> /etc/alternatives/awk: /etc/alternatives/awk and /etc/alternatives, not /etc/passwd).
        Read once per process and image, never through a link."""
        key = tuple(self.roots)
        if key not in _THROUGH:
            out: set[str] = set()
            for root in self.roots:
                for top in SYSTEM_ROOTS:
                    fd = _open_dir(root, top)
                    if fd is not None:
                        _links(fd, top, 0, lambda lp, t: self._follow(lp, t, out))
            _THROUGH[key] = {a: t for t in sorted(out, reverse=True) for a in _ancestors(t) | {t} if a != "/"}
        return _THROUGH[key]

    def _follow(self, link: str, target: str, out: set[str]) -> None:
        for _ in range(8):
            target = os.path.normpath(os.path.join(os.path.dirname(link), target))
            if any(within(target, r) for r in SYSTEM_ROOTS) or target in out:
                return
            out.add(target)
            link, target = target, self._readlink(target)
            if target is None:
                return

    def _readlink(self, path: str) -> str | None:
        """The target of the image's link at `path` (the top layer that has the name), None if not a link."""
        parent, name = os.path.split(path)
        for root in self.roots:
            fd = _open_dir(root, parent)
            if fd is None:
                continue
            try:
                os.stat(name, dir_fd=fd, follow_symlinks=False)
            except OSError:
                os.close(fd)
                continue
            try:
                return os.readlink(name, dir_fd=fd)
            except OSError:
                return None
            finally:
                os.close(fd)
        return None

    def _lookup(self, path: str) -> str | None:
        parent, name = os.path.split(path)
        for root in self.roots:
            fd = _open_dir(root, parent)
            if fd is None:
                continue
            try:
                st = os.stat(name, dir_fd=fd, follow_symlinks=False)
            except OSError:
                continue
            finally:
                os.close(fd)
            m = st.st_mode
            if stat.S_ISCHR(m) and st.st_rdev == 0:
                return None                    # a whiteout: deleted in this layer
            return ("dir" if stat.S_ISDIR(m) else "file" if stat.S_ISREG(m) else
                    "link" if stat.S_ISLNK(m) else "other")
        return None


_THROUGH: dict[tuple, dict[str, str]] = {}


def _links(dfd: int, prefix: str, depth: int, found) -> None:
    """found(path, target) for every link under an open directory of the image (the fd is closed)."""
    try:
        with os.scandir(dfd) as it:
            for e in it:
                if e.is_symlink():
                    found(f"{prefix}/{e.name}", os.readlink(e.name, dir_fd=dfd))
                elif e.is_dir(follow_symlinks=False) and depth < MAX_DEPTH:
                    try:
                        sub = os.open(e.name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dfd)
                    except OSError:
                        continue
                    _links(sub, f"{prefix}/{e.name}", depth + 1, found)
    finally:
        os.close(dfd)


def _open_dir(root: str, directory: str) -> int | None:
    """An fd of root/directory, each component opened with O_NOFOLLOW; None if any is missing or a link."""
    try:
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return None
    for part in [p for p in directory.split("/") if p]:
        try:
            nxt = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
        except OSError:
            os.close(fd)
            return None
        os.close(fd)
        fd = nxt
    return fd


def within(path: str, d: str) -> bool:
    return path == d or path.startswith(d.rstrip("/") + "/")


def _ancestors(path: str) -> set[str]:
    """The strict ancestors of an absolute path: /a/b/c -> {/, /a, /a/b}."""
    parts = [p for p in path.split("/") if p]
    return {"/" + "/".join(parts[:i]) for i in range(len(parts))}


def search_path(path_var: str, image: Image) -> list[str]:
    """The verifier's PATH as real directories of the image (/bin -> /usr/bin on merged /usr), in order."""
    out = []
    for d in path_var.split(":"):
        if not d.startswith("/"):
            continue
        d = os.path.normpath(d)
        top = "/" + d.strip("/").split("/")[0]
        if image.kind(top) == "link" and top in SYSTEM_ROOTS:
            d = "/usr" + d                     # merged /usr: /bin -> usr/bin, /sbin -> usr/sbin
        if d not in out:
            out.append(d)
    return out


def tampered(changes: list[Change], image: Image, workdir: str, path: list[str],
             baseline: dict[str, tuple] | None = None) -> list[str]:
    """The offending paths of an episode's writable layer, each with why ([] if none). `baseline`: the
    layer's entries when the agent started ({path: stamp}, from the task's own setup steps): those still
    the same are the task's, not the agent's, and count as shipped."""
    baseline = baseline or {}
    unchecked = [c for c in changes if c.kind == "unchecked"]
    if unchecked:                              # nothing else is judged: refused whole, and cheaply
        return [f"{unchecked[0].path} ({unchecked[0].why or 'could not be checked'})"]
    exempt = workdir if workdir != "/" else None
    shipped = lambda p: "setup" if p in baseline else image.kind(p)                # noqa: E731
    links = {c.path for c in changes if c.kind == "link"}
    bad: list[str] = []
    for c in changes:
        p, name = c.path, os.path.basename(c.path)
        if baseline.get(p) == c.stamp or (c.kind == "dir" and not c.opaque and p in baseline):
            continue                           # left as the task's setup made it (a directory: still one)
        why = _why(c, p, name, shipped, image, exempt, workdir, path, links)
        if why:
            bad.append(f"{p} ({why})")
    return bad


def _why(c: Change, p: str, name: str, shipped, image: Image, exempt, workdir: str,
         path: list[str], links: set[str]) -> str | None:
    d = os.path.dirname(p)
    if any(within(p, d) for d in VERIFIERS_OWN) or (p == "/logs" and c.kind != "dir"):
        return "the verifier's own place"
    if p in SYSTEM_ROOTS:
        if c.kind != "dir" or c.opaque or not (image.kind(p) == "dir" or shipped(p) == "setup"):
            return f"replaces the image's {p}"
        return None
    # Interpreter start-up hooks and test-runner configuration are judged wherever they are, the workdir
    # included (a venv the image ships under /app runs its .pth files as any site directory does).
    if c.kind != "gone" and (name.endswith(".pth") or any(part.split(".")[0] in HOOK_MODULES
                                                          for part in p.split("/"))):
        return "an interpreter start-up hook"
    if name in RUNNER_CONFIG and c.kind != "gone" and d in (_ancestors("/tests") | _ancestors(workdir)):
        return "test-runner configuration on the path up from /tests or the workdir"
    if exempt and within(p, exempt):
        return None
    through = None if any(within(p, r) for r in SYSTEM_ROOTS) else image.through().get(p)
    if through and (c.kind == "link" or image.kind(p) == "link" or image.kind(p) == "dir"
                    and (c.kind != "dir" or c.opaque)):
        # /etc/alternatives/awk, which /usr/bin/awk resolves through: re-pointed at a file of the system
        # roots, reached through none of the agent's links, it is a choice among installed programs
        # (apt's update-alternatives, a new /etc/localtime); anything else is the agent's program
        t = os.path.normpath(os.path.join(os.path.dirname(p), c.target)) if c.kind == "link" else ""
        if not (t and any(within(t, r) for r in SYSTEM_ROOTS)
                and not any(a in links for a in _ancestors(t) | {t})):
            return f"changes a link a system program resolves through ({through})"
    if d in path and c.kind != "gone" and c.kind != "dir":
        for later in path[path.index(d) + 1:]:
            if image.kind(f"{later}/{name}") is not None:
                return f"shadows {later}/{name} on PATH"
        if not any(within(d, r) for r in SYSTEM_ROOTS):     # ~/.local/bin, /opt/x/bin: not an install
            return "a program on the verifier's PATH outside the system directories"
    if any(within(p, r) for r in SYSTEM_ROOTS):
        was = shipped(p)
        if was is not None and (c.kind != "dir" or was != "dir" and was != "setup"):
            return f"{'deletes' if c.kind == 'gone' else 'modifies'} a file the image shipped"
        if c.kind == "dir" and c.opaque and was == "dir":
            return "replaces a directory the image shipped"
        if was is None and re.match(r"lib.*\.so(\.|$)", name) and c.kind != "dir":
            for other in LIB_DIRS:
                if other != d and image.kind(f"{other}/{name}") is not None:
                    return f"shadows the library {other}/{name}"
        module = _module(name, c.kind)
        if was is None and PYTHON_DIR.fullmatch(d) and module:
            for other in _python_dirs(d):
                if other != d and any(_module(n, image.kind(f"{other}/{n}")) == module
                                      for n in image.names(other) if n.split(".")[0] == module):
                    return f"shadows the Python module {other}/{module}"
    if any(within(p, x) for x in LOADER_CONFIG) and c.kind != "dir":
        return "changes the dynamic loader's configuration"
    return None


def _python_dirs(d: str) -> list[str]:
    """Python's module directories of the same version as `d` (stdlib, site-packages, dist-packages)."""
    version = re.search(r"python3[.\d]*", d)[0]
    return [f"{pre}/lib/{version}{suf}" for pre in ("/usr", "/usr/local") for suf in
            ("", "/site-packages", "/dist-packages")] + ["/usr/lib/python3/dist-packages"]


def _module(name: str, kind: str | None) -> str | None:
    """The top-level module a directory entry provides: a package directory, foo.py, foo.*.so."""
    if name.startswith("__") or name.endswith((".dist-info", ".egg-info", ".data", ".libs")):
        return None
    if kind == "dir":
        return name
    if kind in ("file", "link") and name.endswith((".py", ".so")):
        return name.split(".")[0]
    return None
