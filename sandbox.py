"""Isolation for terminal episodes, and the Harbor task format (PAPER.md §4, §8).

One episode = one Sandbox = one persistent bash inside fresh user, mount, PID, network, IPC and UTS
namespaces, made with stock util-linux (`setpriv`, `unshare`) and no daemon:

    python (caller) ── setpriv (root only: drop to a private uid) ── unshare --user --map-root-user ...
                                                                      └─ pid 1: _INIT (python, stdlib)
                                                                           └─ bash -s   (the agent's shell)

pid 1 builds a new root (tmpfs + read-only binds of the host's system directories, the task's
workdir, private /tmp /dev /proc), applies the rlimits, then stays as the namespace's init: it restarts
the shell when the shell dies and tears the whole namespace down (the kernel kills every process in a
PID namespace when its init exits) when the caller closes the sandbox or dies.

Three pipes connect caller and sandbox: commands go to the shell's stdin, stdout+stderr come back on
one pipe, and a status pipe (fd 99 inside) carries short protocol lines, so nothing a command prints
can be mistaken for the end of the command:
    r <host pid of init>    setup finished          s <pid>          a (fresh) shell started
    n <nonce> <exit code>   a command finished      x <exit code>    the shell died
"""
from __future__ import annotations

import glob
import json
import os
import re
import secrets
import select
import shlex
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
import weakref
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath


@dataclass
class Result:
    output: str        # stdout+stderr interleaved, undecodable bytes replaced, capped at Limits.output_chars
    exit_code: int     # -1 on timeout
    timed_out: bool


@dataclass
class Limits:                          # defaults; per-task overrides come from task.toml
    command_timeout: float = 30.0      # PAPER §4: 30 s per command
    episode_timeout: float = 600.0     # PAPER §4: 600 s per episode (wall clock)
    output_chars: int = 50_000         # PAPER §4: first 50,000 characters plus a note
    memory_mb: int = 2048              # RLIMIT_AS, per process
    nproc: int = 256                   # RLIMIT_NPROC, counted per sandbox (see _INIT)
    fsize_mb: int = 512                # RLIMIT_FSIZE
    cpu_s: int = 600                   # RLIMIT_CPU, per process


class UnsupportedEnvironment(RuntimeError):
    """A task needs something this sandbox cannot give (network, writable /usr, ...)."""


# Host directories the sandbox sees, read-only. Everything else (/home, /root, /work, /mnt, ...) is absent.
SYSTEM_DIRS = ["bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr", "etc", "opt", "var", "srv"]
BASE_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root",
            "USER": "root", "LOGNAME": "root", "SHELL": "/bin/bash", "LANG": "C.UTF-8", "TERM": "dumb",
            "PAGER": "cat", "DEBIAN_FRONTEND": "noninteractive", "HOSTNAME": "sandbox"}
UID_BASE = 200_000                     # as root, each sandbox runs as its own uid in [UID_BASE, +100000)
STATE_DIR = Path(tempfile.gettempdir()) / f"echo-sandbox-{os.getuid()}"
USERNS_HELP = ("the sandbox needs unprivileged user namespaces. Enable them (sysctl -w "
               "kernel.unprivileged_userns_clone=1; sysctl -w user.max_user_namespaces=10000; on Ubuntu "
               "24.04+ also sysctl -w kernel.apparmor_restrict_unprivileged_userns=0), or in Docker run "
               "with --security-opt seccomp=unconfined --security-opt apparmor=unconfined")


class Sandbox:
    """Context manager: one persistent bash per episode. run() returns a Result; close() kills everything."""

    def __init__(self, workdir: str = "/app", env: dict[str, str] | None = None, limits: Limits = Limits(),
                 hide: list[str | Path] = ()):
        if not workdir.startswith("/"):
            raise ValueError(f"sandbox workdir must be an absolute path, got {workdir!r}")
        self.workdir, self.limits, self.closed = workdir, limits, True
        self.env = {**BASE_ENV, **(env or {})}
        # Never visible to the agent: the project, home directories and model caches (PAPER §8: the
        # agent must never see tests/ or solution/; start_task adds the task directory).
        home = Path.home()
        self.hide = [Path(__file__).resolve().parent, "/work", "/root", "/home", home, home / ".cache",
                     *(os.environ[k] for k in ("HF_HOME", "HF_HUB_CACHE", "TRANSFORMERS_CACHE",
                                               "XDG_CACHE_HOME") if os.environ.get(k)), *hide]
        self._init_pid = self._shell_ns = None
        self._out = bytearray()
        self._out_total = 0
        self._status = b""

    # -- lifecycle --------------------------------------------------------------------------------------
    def __enter__(self) -> "Sandbox":
        if not self.closed:       # already started (start_task returns an entered sandbox)
            return self
        max_ns = Path("/proc/sys/user/max_user_namespaces")
        if max_ns.exists() and max_ns.read_text().strip() == "0":
            raise RuntimeError(f"sandbox: user.max_user_namespaces is 0; {USERNS_HELP}")
        _reap_stale()
        self.dir, self.uid = _claim_dir()
        self.host_workdir = self.dir / "work"
        for p in (self.dir / "root", self.host_workdir, self.dir / "xfer"):
            p.mkdir()
        if os.getuid() == 0:
            for p in (self.dir, self.dir / "root", self.host_workdir, self.dir / "xfer"):
                os.chown(p, self.uid, self.uid)
        self._start()
        return self

    def _start(self) -> None:
        cmd_r, cmd_w = os.pipe()
        out_r, out_w = os.pipe()
        st_r, st_w = os.pipe()
        life_r, self._life_w = os.pipe()      # never written: EOF here tells init the caller is gone
        config = {"root": str(self.dir / "root"), "work": str(self.host_workdir), "xfer": str(self.dir / "xfer"), "workdir": self.workdir,
                  "hide": [str(Path(h).resolve()) for h in self.hide], "env": self.env,
                  "system_dirs": SYSTEM_DIRS, "status_fd": st_w, "life_fd": life_r,
                  "limits": {"AS": self.limits.memory_mb << 20, "NPROC": self.limits.nproc,
                             "FSIZE": self.limits.fsize_mb << 20, "CPU": self.limits.cpu_s},
                  "tmpfs_mb": self.limits.memory_mb}
        ns = ["unshare", "--user", "--map-root-user", "--mount", "--pid", "--net", "--ipc", "--uts",
              "--fork", "--kill-child"]
        # As root the kernel never enforces RLIMIT_NPROC (real uid 0 is exempt), so drop to a private uid
        # first; inside the user namespace the shell still looks like root.
        drop = ["setpriv", f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups",
                "--inh-caps=-all"] if os.getuid() == 0 else []
        python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
        # The init code and its config travel in the environment to keep `ps` in the sandbox readable.
        self._proc = subprocess.Popen([*drop, *ns, python, "-I", "-S", "-c", "import os; exec(os.environ['INIT'])"],
                                      stdin=cmd_r, stdout=out_w, stderr=out_w, pass_fds=(st_w, life_r), cwd="/",
                                      env={"PATH": BASE_ENV["PATH"], "INIT": _INIT, "CONFIG": json.dumps(config)})
        for fd in (cmd_r, out_w, st_w, life_r):
            os.close(fd)
        self._cmd_w, self._out_r, self._st_r = cmd_w, out_r, st_r
        os.set_blocking(out_r, False)
        self.closed = False
        self._t0 = time.monotonic()
        # Runs at close(), garbage collection or interpreter exit; a kill -9 of the caller is handled by
        # init (EOF on the lifeline) and the leftover directory by _reap_stale on the next start.
        self._init_holder: list[int] = []
        self._finalizer = weakref.finalize(self, _teardown, self._proc, self._init_holder, self.dir,
                                           [cmd_w, out_r, st_r, self._life_w])
        event = self._wait(time.monotonic() + 30, lambda e: e[0] == "r")
        if event is None:
            out = self._take_output(note=False).strip()
            self.close()
            hint = USERNS_HELP if "unshare" in out or "setpriv" in out or "mount" in out else "see output"
            raise RuntimeError(f"sandbox failed to start: {out[-1000:] or 'no output'}; {hint}")
        self._init_pid = int(event[1])
        self._init_holder.append(self._init_pid)

    def close(self) -> None:
        self.closed = True
        self._finalizer()

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def expired(self) -> bool:
        return time.monotonic() - self._t0 > self.limits.episode_timeout

    # -- commands ---------------------------------------------------------------------------------------
    def run(self, command: str, timeout: float = 30.0) -> Result:
        """Run one agent command; the episode wall clock (Limits.episode_timeout) caps its timeout."""
        left = self.limits.episode_timeout - (time.monotonic() - self._t0)
        if left <= 0:
            return Result(f"[episode time limit of {self.limits.episode_timeout:g} s exceeded; "
                          "the command was not run]", -1, True)
        return self._run(command, min(timeout, left))

    def _run(self, command: str, timeout: float) -> Result:
        """Run without the episode clock (setup, oracle, verifier)."""
        if self.closed:
            raise RuntimeError("sandbox: run() after close()")
        nonce = secrets.token_hex(8)
        # The command travels as one $'...' literal and runs through eval in the shell itself, so cd and
        # export persist and a syntax error is just exit code 2. Its stdin is /dev/null so it cannot read
        # the next command, and fd 99 is closed for it so it cannot fake a status line.
        # Before the command, the namespace's last allocated pid goes to the status pipe: pids are handed out
        # in increasing order, so on a timeout everything above it was started by this command. (The line
        # starts with the assignment: after an eval syntax error bash misparses a leading `{`.)
        line = (f"__echo_cmd={_ansi_c(command)}; {{ read -r __echo_pid </proc/sys/kernel/ns_last_pid; "
                f"printf 'b %s\\n' $__echo_pid >&99; }} 2>/dev/null; eval \"$__echo_cmd\" </dev/null 99>&-; "
                f"{{ printf 'n {nonce} %d\\n' $? >&99; }} 2>/dev/null\n")
        self._out.clear()
        self._out_total = 0
        self._since = 0                            # until the shell reports it: kill all but the shell
        try:
            os.write(self._cmd_w, line.encode())
        except BrokenPipeError:
            raise RuntimeError(f"sandbox died: {self._take_output(note=False)[-500:]}") from None
        done = lambda e: (e[0] == "n" and e[1] == nonce) or e[0] == "x"
        event = self._wait(time.monotonic() + timeout, done)
        if event is None:                          # timed out: kill what the command started, keep the shell
            self._kill(since=self._since)
            event = self._wait(time.monotonic() + 1.0, done)
            if event is None:                      # the shell itself is stuck (a builtin loop, `wait`)
                self._kill(since=0, shell=True)
                event = self._wait(time.monotonic() + 5.0, lambda e: e[0] == "x")
            note = "" if event and event[0] == "n" else (
                "\n[the shell had to be restarted; cwd and variables were reset]")
            return Result(self._take_output() + note, -1, True)
        if event[0] == "x":
            return Result(self._take_output() + f"\n[the shell exited; a fresh shell was started in "
                          f"{self.workdir}: cwd and variables were reset]", int(event[1]), False)
        return Result(self._take_output(), int(event[2]), False)

    def restart_shell(self) -> None:
        """Kill every process of the episode except init and start a fresh shell (clean cwd and env)."""
        self._kill(since=0, shell=True)
        if self._wait(time.monotonic() + 5.0, lambda e: e[0] == "x") is None:
            raise RuntimeError("sandbox: the shell did not restart within 5 s")

    def _wait(self, deadline: float, done) -> tuple[str, ...] | None:
        """Read output and status until a status event satisfies done(); None at the deadline."""
        while True:
            while b"\n" in self._status:
                raw, self._status = self._status.split(b"\n", 1)
                event = tuple(raw.decode().split())
                if event[0] == "s":               # a (new) shell
                    self._shell_ns = int(event[1])
                elif event[0] == "b" and event[1:2] and event[1].isdigit():
                    self._since = int(event[1])
                if done(event):
                    self._drain()
                    return event
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self._out_r, self._st_r], [], [], left)
            if self._out_r in ready:
                self._drain()
            if self._st_r in ready:
                chunk = os.read(self._st_r, 4096)
                if not chunk:                      # init is gone: the sandbox died
                    self._drain()
                    if self._init_pid is None:     # failed during setup: the caller reports it
                        return None
                    raise RuntimeError(f"sandbox died: {self._take_output(note=False)[-500:]}")
                self._status += chunk

    def _drain(self) -> None:
        # Bounded: keep at most 4 bytes per character of the cap (UTF-8), count and discard the rest, so
        # `yes` cannot fill memory.
        keep = 4 * self.limits.output_chars + 4
        while True:
            try:
                chunk = os.read(self._out_r, 1 << 16)
            except BlockingIOError:
                return
            if not chunk:
                return
            self._out_total += len(chunk)
            if len(self._out) < keep:
                self._out += chunk[:keep - len(self._out)]

    def _take_output(self, note: bool = True) -> str:
        text = self._out.decode("utf-8", errors="replace")
        n = self.limits.output_chars
        if note and (len(text) > n or self._out_total > len(self._out)):
            text = (text[:n] + f"\n[output cut to its first {n:,} characters; "
                    f"the command printed {self._out_total:,} bytes]")
        self._out.clear()
        return text

    def _kill(self, since: int, shell: bool = False) -> None:
        """SIGKILL the episode's processes with a namespace pid above `since`, never init and, unless
        shell=True, never the shell. Freeze first (SIGSTOP) so a fork bomb cannot outrun us."""
        stopped: set[int] = set()
        for _ in range(1000):
            new = [p for p, nspid in _descendants(self._init_pid).items() if nspid > since
                   and nspid != 1 and (shell or nspid != self._shell_ns) and p not in stopped]
            if not new:
                break
            for p in new:
                _signal(p, signal.SIGSTOP)
            stopped.update(new)
        for p in stopped:
            _signal(p, signal.SIGKILL)
        deadline = time.monotonic() + 2.0          # return only once they are dead (zombies at most)
        while stopped and time.monotonic() < deadline:
            stopped = {p for p in stopped if _alive(p)}
            time.sleep(0.001 if stopped else 0)

    # -- files ------------------------------------------------------------------------------------------
    def host_path(self, path: str) -> Path:
        """Where absolute sandbox path `path` is on the host, via the init's /proc/<pid>/root. Refuses
        symlinks: a symlink made inside would resolve against the host's root, not the sandbox's."""
        if not path.startswith("/"):
            raise ValueError(f"sandbox path must be absolute, got {path!r}")
        cur = Path(f"/proc/{self._init_pid}/root")
        for part in PurePosixPath(path).parts[1:]:
            cur = cur / part
            if cur.is_symlink():
                raise OSError(f"sandbox path {path!r}: {part!r} is a symlink in the sandbox; "
                              "use the resolved path")
        return cur

    def copy_in(self, src: Path, dest: str) -> None:
        """Copy a host file or directory (its contents, like Docker's COPY) to absolute path dest.
        Staged in the state directory, which the sandbox sees read-only at /run/xfer, then copied by
        `cp -a` inside: files made inside belong to the sandbox's root (the host cannot create files
        with its own uid on the sandbox's tmpfs), and symlinks resolve inside the sandbox."""
        src, stage = Path(src), self.dir / "xfer" / secrets.token_hex(4)
        if not dest.startswith("/"):
            raise ValueError(f"sandbox path must be absolute, got {dest!r}")
        try:
            if src.is_dir():
                shutil.copytree(src, stage, symlinks=True)
            else:
                stage.mkdir()
                shutil.copy2(src, stage / src.name)   # its own name: cp into an existing dir keeps it
            if os.getuid() == 0:
                for p in [stage, *stage.rglob("*")]:
                    os.lchown(p, self.uid, self.uid)
            q = shlex.quote(dest)
            r = self._run(f"mkdir -p {q} && cp -a /run/xfer/{stage.name}/. {q}/" if src.is_dir() else
                          f"mkdir -p \"$(dirname {q})\" && cp -a /run/xfer/{stage.name}/{shlex.quote(src.name)} {q}", 300)
        finally:
            _rmtree(stage)
        if r.exit_code:
            raise OSError(f"sandbox: cannot copy {src} to {dest}: {r.output.strip()[-300:]} (the host's "
                          f"{', '.join('/' + d for d in SYSTEM_DIRS)} are read-only in the sandbox)")

    def read_file(self, path: str, limit: int = 1 << 16) -> str | None:
        """Up to `limit` bytes of a sandbox file as text, None if it does not exist."""
        try:
            fd = os.open(self.host_path(path), os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            return None
        with os.fdopen(fd, "rb") as f:
            return f.read(limit).decode("utf-8", errors="replace")


# pid 1 of the sandbox: build the root, apply limits, then be init (restart the shell, reap orphans, exit
# when the caller's lifeline closes). Runs as the namespace's root, before and after pivot_root.
_INIT = r'''
import ctypes, fcntl, json, os, resource, select, signal, socket, struct, sys
cfg = json.loads(os.environ["CONFIG"])
libc = ctypes.CDLL(None, use_errno=True)
RDONLY, NOSUID, NODEV, NOEXEC, BIND, REC = 1, 2, 4, 8, 4096, 16384

def mount(src, dst, fstype=None, flags=0, data=None):
    enc = lambda s: s.encode() if s else None
    if libc.mount(enc(src), enc(dst), enc(fstype), flags, enc(data)) != 0:
        raise OSError(ctypes.get_errno(), f"mount {src} on {dst}: {os.strerror(ctypes.get_errno())}")

class MountAttr(ctypes.Structure):
    _fields_ = [(n, ctypes.c_uint64) for n in ("set", "clr", "propagation", "userns_fd")]

def bind_ro(src, dst):            # recursive bind, then mount_setattr(AT_RECURSIVE, MOUNT_ATTR_RDONLY)
    mount(src, dst, None, BIND | REC)
    attr = MountAttr(1, 0, 0, 0)
    if libc.syscall(442, -100, dst.encode(), 0x8000, ctypes.byref(attr), ctypes.sizeof(attr)) != 0:
        raise OSError(ctypes.get_errno(), f"read-only {dst}: {os.strerror(ctypes.get_errno())}")

try:
    host_pid = [l for l in open("/proc/self/status") if l.startswith("NSpid:")][0].split()[1]
    R, size = cfg["root"], f"size={cfg['tmpfs_mb']}m"
    mount("tmpfs", R, "tmpfs", NOSUID, "mode=755," + size)
    for d in cfg["system_dirs"]:
        if os.path.islink("/" + d):
            os.symlink(os.readlink("/" + d), f"{R}/{d}")
        elif os.path.isdir("/" + d):
            os.mkdir(f"{R}/{d}")
            bind_ro("/" + d, f"{R}/{d}")
    for d, mode in (("tmp", 0o1777), ("root", 0o700), ("home", 0o755), ("run", 0o755), ("proc", 0o555),
                    ("sys", 0o555), ("dev", 0o755)):
        os.makedirs(f"{R}/{d}", mode, exist_ok=True)
    mount("tmpfs", f"{R}/tmp", "tmpfs", NOSUID | NODEV, "mode=1777," + size)
    mount("tmpfs", f"{R}/dev", "tmpfs", NOSUID | NOEXEC, "mode=755,size=1m")
    for d in ("null", "zero", "full", "random", "urandom", "tty"):
        open(f"{R}/dev/{d}", "w").close()
        mount(f"/dev/{d}", f"{R}/dev/{d}", None, BIND)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2"), ("ptmx", "pts/ptmx")):
        os.symlink(target, f"{R}/dev/{name}")
    os.mkdir(f"{R}/dev/shm")
    mount("tmpfs", f"{R}/dev/shm", "tmpfs", NOSUID | NODEV, "mode=1777," + size)
    os.mkdir(f"{R}/dev/pts")
    mount("devpts", f"{R}/dev/pts", "devpts", NOSUID | NOEXEC, "newinstance,ptmxmode=0666,mode=620")
    mount("proc", f"{R}/proc", "proc", NOSUID | NODEV | NOEXEC)
    try:
        mount("sysfs", f"{R}/sys", "sysfs", NOSUID | NODEV | NOEXEC | RDONLY)
    except OSError:
        pass                      # some container runtimes refuse sysfs; nothing essential lives there
    W = R + cfg["workdir"]
    try:
        os.makedirs(W, exist_ok=True)
    except OSError as e:
        raise OSError(f"cannot create workdir {cfg['workdir']} inside the read-only host directories: {e}")
    mount(cfg["work"], W, None, BIND)
    os.makedirs(f"{R}/run/xfer")
    bind_ro(cfg["xfer"], f"{R}/run/xfer")  # files on their way in (Sandbox.copy_in)
    for h in cfg["hide"]:         # tmpfs over hidden directories, /dev/null over hidden files
        p = R + h
        try:
            if os.path.isdir(p) and not os.path.islink(p):
                mount("tmpfs", p, "tmpfs", RDONLY | NOSUID | NODEV, "size=4k,mode=755")
            elif os.path.isfile(p) and not os.path.islink(p):
                mount("/dev/null", p, None, BIND)
        except OSError as e:
            if e.errno != 13:      # unreadable for us anyway
                raise
    os.chdir(R)
    os.mkdir(".old")
    if libc.syscall(155, b".", b".old") != 0:          # pivot_root, then detach the host's root
        raise OSError(ctypes.get_errno(), "pivot_root failed")
    libc.umount2(b"/.old", 2)
    os.rmdir("/.old")
    os.chdir(cfg["workdir"])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # bring up lo: SIOCGIFFLAGS / SIOCSIFFLAGS |= IFF_UP
    flags = struct.unpack("16sH14s", fcntl.ioctl(s, 0x8913, struct.pack("16sH14s", b"lo", 0, b"")))[1]
    fcntl.ioctl(s, 0x8914, struct.pack("16sH14s", b"lo", flags | 1, b""))
    s.close()
    socket.sethostname("sandbox")
    # Set inside the user namespace, RLIMIT_NPROC counts this namespace's processes only.
    for name, value in cfg["limits"].items():
        resource.setrlimit(getattr(resource, "RLIMIT_" + name), (value, value))
except Exception as e:
    print(f"sandbox setup failed: {e}", file=sys.stderr)
    sys.exit(1)

os.dup2(cfg["status_fd"], 99)
os.close(cfg["status_fd"])
life = cfg["life_fd"]
os.set_inheritable(life, False)
def status(line):
    try:
        os.write(99, (line + "\n").encode())
    except OSError:               # the caller is gone
        sys.exit(0)
wake_r, wake_w = os.pipe()
os.set_blocking(wake_w, False)
signal.set_wakeup_fd(wake_w)
signal.signal(signal.SIGCHLD, lambda *a: None)
defaults = [signal.SIGPIPE, signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1,
            signal.SIGUSR2, signal.SIGALRM, signal.SIGCHLD, signal.SIGXFSZ, signal.SIGXCPU]
def spawn():
    pid = os.posix_spawn("/bin/bash", ["bash", "--noprofile", "--norc", "-s"], cfg["env"], setsigdef=defaults)
    status(f"s {pid}")
    return pid
status(f"r {host_pid}")
shell = spawn()
while True:
    ready, _, _ = select.select([life, wake_r], [], [])
    if life in ready:             # EOF: the caller closed the sandbox or died; our exit kills the namespace
        sys.exit(0)
    os.read(wake_r, 4096)
    while True:                   # reap everything: we are init, orphans end up here
        try:
            pid, st = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            pid = 0
        if pid == 0:
            break
        if pid == shell:
            status(f"x {os.waitstatus_to_exitcode(st) if os.WIFEXITED(st) else 128 + os.WTERMSIG(st)}")
            shell = spawn()
'''


def _ansi_c(s: str) -> str:
    """s as one bash $'...' word: printable ASCII kept, every other byte as \\xHH (NUL dropped)."""
    out = []
    for b in s.encode("utf-8", errors="replace"):
        if 32 <= b < 127 and b not in b"\\'":
            out.append(chr(b))
        elif b:
            out.append(f"\\x{b:02x}")
    return "$'" + "".join(out) + "'"


def _descendants(root: int | None) -> dict[int, int]:
    """{host pid: namespace pid} of root and all its descendants (one scan of the host's /proc)."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                ppid = int(Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(name))
    found, todo = {}, [root] if root else []
    while todo:
        p = todo.pop()
        try:
            status = Path(f"/proc/{p}/status").read_text()
        except OSError:
            continue              # already gone
        found[p] = int(re.search(r"^NSpid:.*\s(\d+)$", status, re.M)[1])
        todo += children.get(p, [])
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in "ZX"
    except OSError:
        return False


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _teardown(proc: subprocess.Popen, init: list[int], dirpath: Path, fds: list[int]) -> None:
    # When init dies the kernel kills every process of its PID namespace; unshare, its parent, reaps it
    # only after all of them are gone, then exits. Killing init (not unshare) first leaves no zombie.
    for pid in init or [proc.pid]:
        _signal(pid, signal.SIGKILL)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()               # --kill-child: the kernel then kills init as well
        proc.wait()
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass
    _rmtree(dirpath)


def _rmtree(path: Path) -> None:
    def retry(func, p, exc):      # the sandbox may have left directories without write permission
        if isinstance(exc[1], FileNotFoundError):   # removed meanwhile (a concurrent teardown or reap)
            return
        os.chmod(os.path.dirname(p), 0o700)
        func(p)
    shutil.rmtree(path, onerror=retry) if path.exists() else None


def _claim_dir() -> tuple[Path, int]:
    """A fresh state directory for one sandbox. As root its name is the sandbox's private uid: mkdir is
    atomic, so concurrent sandboxes (also from other processes) never share a uid."""
    STATE_DIR.mkdir(mode=0o711, exist_ok=True)
    STATE_DIR.chmod(0o711)        # the sandbox uid must be able to traverse it to reach its workdir
    for _ in range(100):
        uid = UID_BASE + secrets.randbelow(100_000) if os.getuid() == 0 else os.getuid()
        d = STATE_DIR / (f"u{uid}" if os.getuid() == 0 else f"s{secrets.token_hex(6)}")
        try:
            d.mkdir(mode=0o700)
        except FileExistsError:
            continue
        (d / "owner").write_text(str(os.getpid()))
        return d, uid
    raise RuntimeError(f"sandbox: no free state directory in {STATE_DIR}; remove stale ones")


def _reap_stale() -> None:
    """Remove state directories of sandboxes whose owner process died (e.g. kill -9)."""
    if not STATE_DIR.exists():
        return
    for d in STATE_DIR.iterdir():
        try:
            os.kill(int((d / "owner").read_text()), 0)
            continue
        except ProcessLookupError:
            pass
        except (OSError, ValueError):              # owner not written yet, or unreadable: only if old
            try:
                if time.time() - d.stat().st_mtime < 60:
                    continue
            except FileNotFoundError:              # its own sandbox removed it meanwhile
                continue
        _rmtree(d)


# ---- Harbor / Terminal-Bench 2 tasks (PAPER §8) ---------------------------------------------------------

@dataclass
class Task:
    name: str
    path: Path
    instruction: str
    agent_timeout: float               # [agent].timeout_sec: the episode wall clock
    verifier_timeout: float            # [verifier].timeout_sec
    cpus: float                        # recorded, not enforced (no cgroups)
    memory_mb: int                     # [environment].memory_mb (or memory = "2G")
    workdir: str
    env: dict[str, str]                # [environment].env; the Dockerfile's ENV is added in start_task
    dockerfile: list[tuple[str, str]]  # (INSTRUCTION, args) steps, [] if no Dockerfile
    has_solution: bool
    verifier_env: dict[str, str] = field(default_factory=dict)   # [verifier].env
    overrides: dict[str, float] = field(default_factory=dict)    # Limits fields task.toml sets


# Dockerfile instructions with no meaning here: the image is the host's, the agent is root in its namespace.
IGNORED = {"FROM", "EXPOSE", "CMD", "ENTRYPOINT", "LABEL", "USER", "MAINTAINER", "VOLUME", "HEALTHCHECK",
           "STOPSIGNAL", "ONBUILD"}


def load_task(path) -> Task:
    path = Path(path)
    name = path.name
    def need(rel: str) -> Path:
        if not (path / rel).is_file():
            raise FileNotFoundError(f"task '{name}': {rel} missing")
        return path / rel
    if not path.is_dir():
        raise FileNotFoundError(f"task '{name}': {path} is not a directory")
    try:
        conf = tomllib.loads(need("task.toml").read_text())
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"task '{name}': task.toml is not valid TOML: {e}") from None
    instruction = need("instruction.md").read_text().strip()
    if not instruction:
        raise ValueError(f"task '{name}': instruction.md is empty")
    need("tests/test.sh")
    agent, verifier, environ = (conf.get(k, {}) for k in ("agent", "verifier", "environment"))
    for section, value in (("agent", agent), ("verifier", verifier), ("environment", environ)):
        if not isinstance(value, dict):
            raise ValueError(f"task '{name}': [{section}] must be a table, got {value!r}")

    def number(table: dict, key: str, where: str, default: float) -> float:
        v = table.get(key, default)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
            raise ValueError(f"task '{name}': {where} must be a positive number, got {v!r}")
        return v

    overrides = {}
    if "timeout_sec" in agent:
        overrides["episode_timeout"] = number(agent, "timeout_sec", "[agent].timeout_sec", 0)
    memory = environ.get("memory_mb", environ.get("memory"))
    if isinstance(memory, str):          # Harbor also writes memory = "2G" / "512M"
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([MG])i?B?\s*", memory, re.I)
        if not m:
            raise ValueError(f"task '{name}': [environment].memory must look like '2G' or '512M', got {memory!r}")
        memory = float(m[1]) * (1024 if m[2].upper() == "G" else 1)
    if memory is not None:
        overrides["memory_mb"] = int(number({"m": memory}, "m", "[environment].memory_mb", 0))
    dockerfile = []
    if (path / "environment/Dockerfile").is_file():
        try:
            dockerfile = parse_dockerfile((path / "environment/Dockerfile").read_text())
        except ValueError as e:
            raise ValueError(f"task '{name}': environment/Dockerfile: {e}") from None
    workdir = environ.get("workdir") or _simulate(dockerfile, {})[1] or "/app"
    if not isinstance(workdir, str) or not workdir.startswith("/"):
        raise ValueError(f"task '{name}': workdir must be an absolute path, got {workdir!r}")
    return Task(name=name, path=path, instruction=instruction,
                agent_timeout=overrides.get("episode_timeout", Limits.episode_timeout),
                verifier_timeout=number(verifier, "timeout_sec", "[verifier].timeout_sec", 120.0),
                cpus=number(environ, "cpus", "[environment].cpus", 1), workdir=workdir,
                memory_mb=overrides.get("memory_mb", Limits.memory_mb),
                env=_env_table(environ.get("env", {}), f"task '{name}': [environment].env"),
                dockerfile=dockerfile, has_solution=(path / "solution/solve.sh").is_file(),
                verifier_env=_env_table(verifier.get("env", {}), f"task '{name}': [verifier].env"),
                overrides=overrides)


def _env_table(value, where: str) -> dict[str, str]:
    """A TOML table {K = "V"} or a list ["K=V", ...] as a dict of strings."""
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    if isinstance(value, list) and all(isinstance(x, str) and "=" in x for x in value):
        return dict(x.split("=", 1) for x in value)
    raise ValueError(f"{where} must be a table or a list of 'KEY=VALUE' strings, got {value!r}")


def load_tasks(root) -> list[Task]:
    root = Path(root)
    dirs = sorted(d for d in root.iterdir() if (d / "task.toml").is_file()) if root.is_dir() else []
    if not dirs:
        raise FileNotFoundError(f"no tasks in {root}: expected subdirectories with a task.toml")
    return [load_task(d) for d in dirs]


def parse_dockerfile(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, args) steps: comments dropped, `\\` continuations joined, RUN <<EOF heredocs kept."""
    steps, lines = [], text.splitlines()
    i = 0
    while i < len(lines):
        line, i = lines[i].strip(), i + 1
        if not line or line.startswith("#"):
            continue
        while line.endswith("\\") and i < len(lines):
            nxt, i = lines[i].strip(), i + 1
            if not nxt.startswith("#"):
                line = line[:-1] + " " + nxt
        instr, _, args = line.partition(" ")
        instr, args = instr.upper(), args.strip()
        if not re.fullmatch(r"[A-Z]+", instr):
            raise ValueError(f"line {i}: cannot parse {line[:60]!r}")
        m = re.match(r"<<(-?)([\"']?)(\w+)\2\s*$", args)
        if instr == "RUN" and m:
            body = []
            while i < len(lines) and lines[i].strip() != m[3]:
                body.append(lines[i])
                i += 1
            if i == len(lines):
                raise ValueError(f"RUN heredoc {m[3]} is never closed")
            i += 1
            args = "\n".join(body)
        steps.append((instr, args))
    return steps


def _subst(s: str, env: dict[str, str]) -> str:
    """Docker's $VAR, ${VAR} and ${VAR:-default} substitution."""
    return re.sub(r"\$(?:\{(\w+)(?::-([^}]*))?\}|(\w+))",
                  lambda m: env.get(m[1] or m[3]) or (m[2] or ""), s)


def _simulate(steps, env: dict[str, str]) -> tuple[dict[str, str], str | None, dict[str, str]]:
    """Replay ENV, ARG and WORKDIR only: (the ENV values, the final WORKDIR, the ARG values)."""
    env, args, workdir = dict(env), {}, None
    for instr, rest in steps:
        scope = {**BASE_ENV, **args, **env}
        if instr == "WORKDIR":
            workdir = os.path.normpath(os.path.join(workdir or "/", _subst(rest, scope)))
        elif instr in ("ENV", "ARG"):
            words = shlex.split(rest)
            if not words:
                raise ValueError(f"{instr} needs a name")
            pairs = ([w.split("=", 1) for w in words] if "=" in words[0] else
                     [(words[0], " ".join(words[1:]))] if instr == "ENV" else [(words[0], None)])
            for k, v in pairs:
                if v is not None:
                    (env if instr == "ENV" else args)[k] = _subst(v, scope)
    return env, workdir, args


def start_task(task: Task, seed: int = 0, limits: Limits | None = None) -> Sandbox:
    """An entered Sandbox with the task's environment built: environment/ copied (or the Dockerfile
    replayed), TASK_SEED set for the setup steps only."""
    limits = replace(limits or Limits(), **task.overrides)
    env_dockerfile, _, _ = _simulate(task.dockerfile, {})
    sb = Sandbox(task.workdir, env={**task.env, **env_dockerfile}, limits=limits, hide=[task.path])
    sb.__enter__()
    try:
        context = task.path / "environment"
        if not task.dockerfile:
            if context.is_dir():
                sb.copy_in(context, task.workdir)
        else:
            _replay(sb, task, context, seed)
        sb._run(f"cd {shlex.quote(task.workdir)}", 10)
        sb._t0 = time.monotonic()                  # the episode clock starts when the agent does
        return sb
    except BaseException:
        sb.close()
        raise


def _replay(sb: Sandbox, task: Task, context: Path, seed: int) -> None:
    """Dockerfile-lite: WORKDIR, ENV, ARG, COPY/ADD from the build context, RUN with TASK_SEED."""
    def unsupported(what: str) -> UnsupportedEnvironment:
        return UnsupportedEnvironment(f"task '{task.name}': unsupported environment: {what}")
    cwd, shell = "/", ["/bin/sh", "-c"]
    for n, (instr, rest) in enumerate(task.dockerfile):
        env, _, args = _simulate(task.dockerfile[:n], {})
        scope = {**BASE_ENV, **task.env, **args, **env}
        if instr in IGNORED or instr in ("ENV", "ARG"):
            continue
        if instr == "WORKDIR":
            cwd = os.path.normpath(os.path.join(cwd, _subst(rest, scope)))
            r = sb._run(f"mkdir -p {shlex.quote(cwd)}", 30)
            if r.exit_code:
                raise unsupported(f"WORKDIR {cwd}: {r.output.strip()[-300:]}")
        elif instr == "SHELL":
            shell = json.loads(rest)
        elif instr == "RUN":
            argv = json.loads(rest) if rest.startswith("[") else [*shell, rest]
            prefix = " ".join(f"{k}={shlex.quote(v)}" for k, v in args.items())
            r = sb._run(f"cd {shlex.quote(cwd)} && env {prefix} TASK_SEED={seed} {shlex.join(argv)}",
                        task.agent_timeout)
            if r.exit_code:
                raise unsupported(f"RUN {rest[:80]!r} failed (exit {r.exit_code}): {r.output.strip()[-500:]}")
        elif instr in ("COPY", "ADD"):
            words = json.loads(rest) if rest.startswith("[") else shlex.split(rest)
            if any(w.startswith("--from") for w in words):
                raise unsupported(f"{instr} --from (multi-stage builds)")
            words = [_subst(w, scope) for w in words if not w.startswith("--")]
            if len(words) < 2:
                raise unsupported(f"{instr} {rest!r} needs a source and a destination")
            *srcs, dest = words
            is_dir = dest.endswith("/") or dest in (".", "..") or dest.endswith(("/.", "/.."))
            dest = os.path.normpath(os.path.join(cwd, dest)).replace("//", "/") + ("/" if is_dir else "")
            for src in srcs:
                if instr == "ADD" and re.match(r"\w+://", src):
                    raise unsupported(f"ADD {src}: downloads need the network")
                matches = sorted(glob.glob(str(context / src))) if context.is_dir() else []
                if not matches:
                    raise unsupported(f"{instr} {src}: not found in environment/")
                for m in map(Path, matches):
                    if not m.resolve().is_relative_to(context.resolve()):
                        raise unsupported(f"{instr} {src}: outside the build context environment/")
                    _copy_step(sb, instr, m, dest, many=len(srcs) > 1 or len(matches) > 1, fail=unsupported)
        else:
            raise unsupported(f"Dockerfile instruction {instr} is not supported")


def _copy_step(sb: Sandbox, instr: str, src: Path, dest: str, many: bool, fail) -> None:
    try:
        if instr == "ADD" and src.is_file() and tarfile.is_tarfile(src):   # ADD unpacks local archives
            with tempfile.TemporaryDirectory() as tmp, tarfile.open(src) as tar:
                tar.extractall(tmp, filter="data")
                sb.copy_in(Path(tmp), dest)
        elif src.is_dir():
            sb.copy_in(src, dest)
        else:           # into a directory if dest says so; `cp` also puts it inside an existing one
            sb.copy_in(src, os.path.join(dest, src.name) if many or dest.endswith("/") else dest)
    except OSError as e:
        raise fail(f"{instr} {src.name} {dest}: {e}") from None


def run_solution(sb: Sandbox, task: Task) -> Result:
    """The oracle: copy solution/ to /solution and run solve.sh in the workdir (without TASK_SEED)."""
    if not task.has_solution:
        raise FileNotFoundError(f"task '{task.name}': solution/solve.sh missing")
    sb.copy_in(task.path / "solution", "/solution")
    return sb._run(f"cd {shlex.quote(task.workdir)} && bash /solution/solve.sh", task.agent_timeout)


def verify(sb: Sandbox, task: Task, seed: int = 0) -> tuple[float, str]:
    """(reward, reason): run tests/test.sh in the episode's sandbox and read /logs/verifier/reward.*.
    Reason is "" on a clean read; a missing or garbled reward or a timeout is reward 0 with the reason."""
    # Kill everything the agent left running and start from a fresh shell, so nothing of the agent's can
    # race the verifier or change its environment (PATH, LD_PRELOAD, ...), and wipe what the agent may
    # have planted under /tests or /logs/verifier.
    sb.restart_shell()
    r = sb._run("rm -rf /tests /logs/verifier && mkdir -p /tests /logs/verifier", 30)
    if r.exit_code:
        return 0.0, f"could not prepare /tests and /logs/verifier: {r.output.strip()[-200:]}"
    sb.copy_in(task.path / "tests", "/tests")
    env = " ".join(f"{k}={shlex.quote(v)}" for k, v in task.verifier_env.items())
    r = sb._run(f"cd {shlex.quote(task.workdir)}; env {env} TASK_SEED={seed} bash /tests/test.sh",
                task.verifier_timeout)
    if r.timed_out:
        return 0.0, f"verifier timed out after {task.verifier_timeout:g} s"
    tail = f" (test.sh exit {r.exit_code}: {r.output.strip()[-200:]!r})"
    for name in ("reward.json", "reward.txt"):
        text = sb.read_file(f"/logs/verifier/{name}")
        if text is None:
            continue
        if not text.strip():
            return 0.0, f"{name} empty" + tail
        try:
            value = json.loads(text)["reward"] if name == "reward.json" else float(text.strip())
            reward = float(value)
            if reward != reward or reward in (float("inf"), float("-inf")):
                raise ValueError
        except (ValueError, KeyError, TypeError):
            return 0.0, f"{name} garbled: {text.strip()[:80]!r}" + tail
        return reward, ""
    return 0.0, "reward.txt missing" + tail
