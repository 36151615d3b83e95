"""Isolation for terminal episodes and image builds: Linux namespaces, no daemon, no Docker (METHOD.md §4).

One Sandbox = one persistent bash in fresh user, mount, PID, IPC, UTS and network namespaces, over a root filesystem that is either an overlay of image layers or, as a last resort, the
host's system directories read-only:

    python (caller) ── sandbox_init.py (owner_uid on the host)  unshare(user), waits for its id map
                         └─ pid 1 (python, full caps in the       builds the root, pivot_root, then init:
                              namespace, unreachable from below)   restarts the shell, reaps orphans
                              └─ bash -s (Docker's default caps,   the agent's shell: every command and
                                   no_new_privs)                   the verifier run here

The caller's first process there is cloned by its starter, one `python3 -I -S` per caller that imported
sandbox_init once (_starter_clone): a start pays for neither an interpreter nor its imports.

Containment, with Docker's defaults as the floor:
- The user namespace maps 65,536 ids: namespace root is host uid H (Limits.uid_base, never 0), so apt
  and dpkg can chown, and nothing in the sandbox is the host's root. As root the caller writes the map
  itself; otherwise it uses newuidmap and /etc/subuid, as rootless podman does. As root, the namespace's
  owner is a host uid of the sandbox's own (owner_uid), to which the kernel charges per-user counts.
- The shell runs with the capability bounding set cut to Docker's default set less CAP_NET_RAW (as
  podman's; no CAP_SYS_ADMIN, CAP_SYS_PTRACE, CAP_NET_ADMIN, ...) and no_new_privs: it cannot mount,
  unmount or remount, and it cannot ptrace pid 1 or open /proc/1/fd (pid 1 keeps capabilities the shell
  lacks).
- The shell and every run_fresh command run under seccomp.py's filter (Docker's default profile, an
  allow list: no nested namespaces, keyctl, bpf, perf_event_open, ...), and pid 1 gives the episode a
  fresh session keyring. Every process but the verifier's gets the agent's variant, in which prlimit,
  setpriority, ioprio_set and sched_set* act on the caller alone (pid 0): not on pid 1 or the verifier's
  processes, which share its uid (seccomp.AGENT_RULES).
- Memory (files in tmpfs included), processes and CPU are bounded by a cgroup (v2, or v1 memory, pids
  and cpu); if it cannot be made the sandbox does not start, unless --allow-no-cgroup (ALLOW_NO_CGROUP)
  asks for per-process rlimits instead. Each is made in one cgroup of every sandbox's (ALL_CGROUP), capped
  at 3/4 of the RAM: what they use together is reclaimed and OOM-killed there, never in the trainer. The
  writable layer is a tmpfs of Limits.storage_mb, so disk use is bounded too. With the agent's processes
  kept, seal() moves them to a child cgroup capped at half of that (Cgroup.split): the verifier's
  resources are not theirs to spend.
- The network namespace is always the sandbox's own (or, for a task's sidecar, network_of=, that of the
  episode's main sandbox, which it joins before making its user namespace), so the host's loopback and
  abstract unix sockets are out of reach. With network (set_network), pasta (Debian package passt) runs
  beside it as the namespace's owner, in a network namespace of its own joined to the sandbox's by a veth
  and a bridge that floods it no multicast (NETNS): a user-mode TCP/IP stack that opens the sandbox's
  connections from the host as ordinary sockets, with the host's loopback not mapped (--no-map-gw, -T none
  -U none), its UDP flows' host sockets bound to the host's address, not 0.0.0.0 (--outbound), and the
  host's own address given to the sandbox, so that address is the sandbox's own too. Without pasta,
  network refuses to start.
- The agent is root in its own container (or the user set_user names: pid 1 drops the shell to its ids
  before the exec, with no capability left) and can rewrite any file there, as in Docker; what it changed is
  exactly the writable layer (writable_layer()), which harbor.check_ground reads before the verifier runs
  (tamper.py), and the verifier's reward lives in a tmpfs of its own (run_fresh(private_logs=True)).
- With Limits.keep_agent_processes (Harbor's lifecycle, the default) the agent's processes outlive its
  turn: seal() makes the root read-only in their mount namespace before that check (all but the scratch
  places a service writes), and run_fresh(tests=...) gives the verifier a writable root, /tests and /tmp of
  its own.

Four pipes and a socket connect caller and sandbox: commands go to the shell's stdin; stdout+stderr come back
on one pipe; run_fresh's commands go to pid 1 on the socket, each with a pipe of its own for its
stdout+stderr, which pid 1 hands to it alone (never the shell's, which what the agent left running holds); pid
1 reports on its own pipe, which no process below it holds or can open (r <host pid>: ready, s <pid>: a shell
started, x <code>: the shell died, c <pid>: a run_fresh command started, e <pid> <code> <signal>: it ended,
from wait(), S <errno>: seal's answer); and the shell reports on fd 99 with a fresh nonce per command (b
<nonce> <last pid>: command started, n <nonce> <exit code>: command finished). Code running in the shell can
read that nonce (a DEBUG trap, the shell's memory), so fd 99 is only the agent's own account of its commands,
read only while run() waits for one and only as its b/n lines (_shell_event); what must be trusted (the
verifier) runs through run_fresh, whose end and status come from pid 1's pipe alone. Every pipe a process of
the sandbox writes is read within a byte budget per second (_Budget): its writers wait, not the trainer.
"""
from __future__ import annotations

import atexit
import contextlib
import errno
import fnmatch
import hashlib
import marshal
import os
import re
import resource
import secrets
import select
import shlex
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import registry
import seccomp
from errors import EchoError, one_line, say
from sandbox_init import CAP_NET_RAW, DOCKER_CAPS  # noqa: F401 - the shell's: Docker's less CAP_NET_RAW
import sandbox_init
from sandbox_init import REWARD_FILES


@dataclass
class Result:
    output: str        # stdout+stderr interleaved, undecodable bytes replaced, capped at Limits.output_chars
    exit_code: int     # -1 on timeout
    timed_out: bool
    signal: int = 0    # run_fresh only: the signal that killed the command (from pid 1's wait())
    files: dict[str, bytes | None] | None = None   # run_fresh(private_logs=True): its reward files, read
                                                   # by pid 1 (None: there but not a regular file)
    tail: str = ""     # run_fresh only, where `output` was cut: its last output_chars characters (the
                       # verifier's evidence of a runner that did not run is read from both: rt6 p04)


@dataclass
class Limits:                          # defaults; per-task values come from task.toml
    command_timeout: float = 30.0      # METHOD.md §4: 30 s per command
    episode_timeout: float = 600.0     # METHOD.md §4: 600 s per episode (wall clock)
    output_chars: int = 50_000         # METHOD.md §4: first 50,000 characters plus a note
    memory_mb: int = 2048              # cgroup memory limit (files in tmpfs count), else RLIMIT_AS
    storage_mb: int = 10240            # size of the episode's writable layer (a tmpfs)
    cpus: float = 1.0                  # cgroup CPU quota; not enforced without a cgroup
    nproc: int = 256                   # cgroup pids.max, else RLIMIT_NPROC (per user namespace)
    # Harbor's lifecycle, the default: the agent's processes (a service it started) stay alive into
    # verification, which then runs on ground they can no longer change (Sandbox.seal); needs Landlock ABI 6.
    # False (--kill-agent-processes): they are all killed first. Image builds always kill (images.py).
    keep_agent_processes: bool = True
    # True (--live-verifier, opt-in): with them kept, the tests run on the live container as Harbor's do
    # (no seal, no copies): what they write, test.sh sees, and the reverse; weaker (CONTAINMENT.md).
    live_verifier: bool = False
    build: bool = False                # an image build step's sandbox: seccomp.BUILD_RULES (images.py)
    # The run's cap on a task's own clocks, its verifier's and its setup's (harbor.start_task): task.toml may
    # ask for 7,200 s, and one such task would hold every step that samples it (rt18a p14, rt19a p18, p19).
    max_task_clock: float = 1800.0


class SandboxError(EchoError, RuntimeError):
    """The sandbox could not start or died; the message is one line."""


class TaskSetupError(SandboxError):
    """pid 1 could not set up what the task's own values ask for (a workdir through a file of the image's):
    the task's failure (harbor: SetupError, not infrastructure), never retried as the machine's."""


class OutOfMemory(SandboxError):
    """The sandbox died after its own cgroup's OOM killer acted: what ran in it went over the episode's
    memory limit (Limits.memory_mb). That is the agent's doing, whatever the OOM killer then took: the
    episode is the agent's failure (harbor.Outcome.OUT_OF_MEMORY, reward 0), never the machine's."""


UID_BASE = 1_000_000                   # as root: namespace ids 0..65535 are host ids UID_BASE.. (never 0)
ID_COUNT = 65536
# As root, the host uid that OWNS a sandbox's user namespace is owner_uid(the host pid of its
# sandbox_init.py): one of its own, none of the mapped ids. The kernel charges per-user counts (inotify
# instances and watches, fanotify groups and marks, namespaces, POSIX message-queue bytes, pending signals,
# locked shared memory, processes) in the namespace and then to its owner, level by level up to the host's
# limit: with one owner for all, one episode holding its whole count failed every other's tools (rt11b p03,
# p10). The pid is unique among live sandboxes; the base is above pid_max (2**22) of room in 0x70000000..,
# a range no distribution or container tool hands out (unused in systemd's documented uid ranges).
OWNER_BASE = 1_900_000_000


def owner_uid(pid: int) -> int:
    return OWNER_BASE + pid

# Host directories the host-fallback root sees, read-only: programs and their configuration, never data
# (/var, /opt, /srv, /home, /root, /work, ... are absent; /var and /tmp are empty and writable).
# --allow-no-cgroup (echo.py, eval.py, harbor.py build): where no cgroup can be made, episodes and builds
# run with per-process limits instead of not starting (Cgroup.create). The test suite sets it from
# ECHO_ALLOW_NO_CGROUP=1 (tests/conftest.py), where no flag can be passed.
ALLOW_NO_CGROUP = False
MIN_MEMORY_MB, MIN_NPROC = 16, 16      # below these nothing starts: task values are clamped up to them
SYSTEM_DIRS = ["bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr", "etc"]
SEAL_WAIT = 600.0                      # seconds seal() waits for pid 1's copies at most (any CPU quota)


def seal_wait(cpus: float) -> float:
    """Seconds seal() waits for pid 1, which copies up to TMP_COPY_ENTRIES entries on the episode's quota:
    10 s plus 1 ms an entry at one CPU, longer under a smaller quota, at most SEAL_WAIT."""
    return min(SEAL_WAIT, 10 + sandbox_init.TMP_COPY_ENTRIES / 1000 / min(1.0, max(cpus, 0.01)))
# Every task directory of the run and every root its tasks were loaded from (harbor.load_task and load_tasks
# add them: hide_tasks): the host fallback hides them all from every episode, never only the episode's own
# task (rt10b p20: a sibling task's solution/ under /usr/local/share, which the fallback shows).
TASK_PATHS: set[str] = set()
DPKG_LISTS = Path("/var/lib/dpkg/info")
# The hierarchy's own directories, packaged or not (base-files makes /usr/local's in its postinst)
FHS_DIRS = {f"{top}/{d}" for top in ("/usr", "/usr/local") for d in
            ("bin", "etc", "games", "include", "lib", "lib64", "libexec", "local", "man", "sbin", "share",
             "src")}
BASE_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root",
            "USER": "root", "LOGNAME": "root", "SHELL": "/bin/bash", "LANG": "C.UTF-8", "TERM": "dumb",
            "PAGER": "cat", "DEBIAN_FRONTEND": "noninteractive", "HOSTNAME": "sandbox"}
# A table of variables a task sets ([environment].env, a service's environment, ...), "K=V\0" summed: exec
# takes each string under 128 KiB (MAX_ARG_STRLEN) and all of them with the arguments under a quarter of the
# stack limit (2 MiB by default). Past this a task is refused at load, never failing its starts with E2BIG
# (which reads as the machine's failure, and is retried).
ENV_MAX_BYTES = 64 << 10


def env_overflow(env: dict[str, str], lines: dict[str, int] | None = None) -> str | None:
    """Why env is too large for exec (the key at which it passes ENV_MAX_BYTES, and its line in `lines`, the
    Dockerfile's, if there), else None."""
    total = 0
    for k, v in env.items():
        total += len(k.encode()) + len(v.encode()) + 2
        if total > ENV_MAX_BYTES:
            size = sum(len(k.encode()) + len(v.encode()) + 2 for k, v in env.items())
            at = f" (line {lines[k]})" if lines and k in lines else ""
            return (f"{size} bytes of variables, over {ENV_MAX_BYTES} from {k[:40]!r}{at} on "
                    "(exec would refuse them: E2BIG)")
    return None


STATE_DIR = Path(tempfile.gettempdir()) / f"echo-sandbox-{os.getuid()}"
# The user-mode network (Sandbox.set_network): pasta's options. -t/-u none: nothing of the host's reaches
# in; -T/-U none: the sandbox's own loopback is not forwarded to the host's (pasta's default forwards its
# bound ports); --no-map-gw: the gateway address is the real gateway, not the host's loopback. IPv4 only,
# as Docker's default bridge (and 7 ms faster to start). _network_up adds --outbound with the host's own
# address (outbound_address): pasta opens a host UDP socket per flow on the agent's own source port,
# unconnected, and forwards in whatever reaches it; on 0.0.0.0, its default, that was what host processes
# sent to 127.0.0.1 on that port, a host service's included (rt14b p20, p22, p26).
# prlimit: pasta's files, so its host sockets, capped at PASTA_FILES (it ran with 20,000, in the trainer's
# cgroup): a UDP flow is one host socket on the host's own port, so one episode held 2,845 host ports from
# 3,000 datagrams (rt14b p19), and a few could take the whole ephemeral range. 80 are open at rest; every
# TCP connection and UDP flow takes one more, and past the cap a new one is dropped.
PASTA_FILES = 1024
PASTA = ["prlimit", f"--nofile={PASTA_FILES}:{PASTA_FILES}",
         "pasta", "--config-net", "--quiet", "-t", "none", "-u", "none", "-T", "none", "-U", "none",
         "--no-map-gw", "--ipv4-only", "--mac-addr", "9a:55:9a:55:9a:55"]
PASTA_MAC = "9a:55:9a:55:9a:55"        # pasta's own (locally administered): the gateway's, for eth0's neighbour
# pasta's side (_network_up): a network namespace of its own (R), in the sandbox's user namespace, joined to
# the sandbox's eth0 by a veth pair through a bridge whose port to pasta floods no multicast and is never a
# multicast router port: pasta sends whatever reaches it from a host socket, and the host loops multicast
# back to its own group members (mDNS, SSDP responders; rt14b p27). The bridge must be outside the
# sandbox's namespace: a bridge floods what its own host sends whatever a port's flags say. The agent,
# without CAP_NET_ADMIN or CAP_SYS_ADMIN, can neither change R nor enter it. NETNS runs in R with the
# sandbox's pid as $1 (pasta's MAC as $2): the veth pair, then (once pasta has joined R and made its tap there, pasta0, with the
# host's address and route) the bridge, and that address and route on the sandbox's eth0. It holds R until
# pasta has joined it; then pasta alone does: R, the veth pair with it, go when pasta goes.
# A socket that picks eth0 (SO_BINDTODEVICE, IP_UNICAST_IF, an IP_PKTINFO ifindex: no capability needed)
# skips the local table's `dev lo` route for 127.0.0.1 and took the default route to pasta, which opened
# a host socket to the HOST's 127.0.0.1 (rt15b p04, p10, p11). So 127/8 and 0/8 are unreachable in the
# main table; a failed lookup with an oif is then taken as "on link", so eth0 also does no ARP and knows
# one neighbour, pasta as the gateway: an on-link frame goes to eth0's own address, which the bridge never
# sends back out of the port it came in by. Loopback itself is untouched (the local table comes first).
NETNS = """set -e
ip link add v0 mtu 65520 type veth peer name eth0 mtu 65520 netns "$1"; echo ready; read x
s=$1; mac=$2; set -- $(ip -4 -o addr show dev pasta0); a=$4; set -- $(ip -4 route show default); g=$3
printf '%s\\n' 'addr flush dev pasta0' 'link add br0 type bridge' 'link set pasta0 master br0' \\
  'link set pasta0 type bridge_slave mcast_flood off mcast_router 0' 'link set v0 master br0 up' \\
  'link set br0 up' | ip -b -
printf '%s\\n' 'link set eth0 arp off up' "addr add $a dev eth0" "neigh replace ${g%/*} lladdr $mac dev eth0 \
nud permanent" "route add default via $g" 'route replace unreachable 127.0.0.0/8' \
  'route replace unreachable 0.0.0.0/8' | nsenter -t "$s" -n ip -b -
for h in $HOST_ADDRS; do [ "$h" = "${a%/*}" ] || echo "route replace unreachable $h/32"; done |
  nsenter -t "$s" -n ip -b -
echo done
"""
# ... and every other address of the host's own interfaces ($HOST_ADDRS: a second address on lo, docker0's,
# a VPN's), which pasta would connect to from a host socket like any remote one (rt21b p03, p04: a host
# service bound there answered an episode and a cached build RUN); the primary one is the sandbox's own
# eth0 address, answered inside.
NETWORK_HELP = ("network needs pasta, from the Debian package passt, and ip, from iproute2 (apt-get "
                "install passt iproute2); without them networked episodes and builds refuse to start (never "
                "the host's network)")
# As root, pasta runs as the namespace's owner, which may not open /dev/net/tun where it is 0600 (udev's
# default is 0666): it gets a private mount namespace with a tun node of its own (same device, 10:200),
# nothing else.
TUN_NODE = ("mount -t tmpfs -o size=4k,mode=755 tmpfs /dev/net && mknod -m 666 /dev/net/tun c 10 200 && "
            'exec "$@"')
USERNS_HELP = ("the sandbox needs unprivileged user namespaces: sysctl -w user.max_user_namespaces=10000 "
               "(on Ubuntu 24.04+ also kernel.apparmor_restrict_unprivileged_userns=0), or in Docker run "
               "with --security-opt seccomp=unconfined --security-opt apparmor=unconfined")
_said: set[str] = set()


def network_available() -> bool:
    """Whether sandboxes can have a network here (pasta is installed, and ip and nsenter for its bridge)."""
    return all(shutil.which(p) for p in ("pasta", "ip", "nsenter", "unshare", "prlimit"))


def outbound_address() -> str | None:
    """The host's IPv4 address on its default route (a UDP connect sends nothing), or None without one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.123", 9))         # any address the default route covers
            return s.getsockname()[0]
        except OSError:
            return None


def resolver_file(etc: Path = Path("/etc/resolv.conf"),
                  upstream: Path = Path("/run/systemd/resolve/resolv.conf")) -> Path:
    """The host's resolv.conf for an image's /etc/resolv.conf, as Docker chooses it: the host's own, unless
    it names only loopback resolvers (systemd-resolved's 127.0.0.53), which the sandbox cannot reach (pasta
    does not map the host's loopback); then systemd-resolved's list of the upstream servers, if any."""
    def servers(path: Path) -> list[str]:
        try:
            return re.findall(r"^\s*nameserver\s+(\S+)", path.read_text(errors="replace"), re.M)
        except OSError:
            return []
    local = lambda a: a.startswith("127.") or a == "::1"                            # noqa: E731
    found = servers(etc)
    if found and all(map(local, found)):
        if any(not local(a) for a in servers(upstream)):
            return upstream
        say_once(f"{etc} names only loopback resolvers ({', '.join(found)}), which sandboxes cannot reach: "
                 "networked sandboxes have no DNS")
    return etc


RESOLV_DIR = Path(tempfile.gettempdir()) / f"echo-resolv-{os.getuid()}"    # not STATE_DIR: reap() reads it
NO_DNS = "nameserver 192.0.2.53\noptions timeout:1 attempts:1\n"   # TEST-NET-1: routed nowhere, fails in 1 s


def sandbox_resolver(path: Path) -> Path:
    """`path` (resolver_file's) less its loopback nameservers: an address on the sandbox's own loopback is
    one a surviving process of the agent's can bind and answer every name the verifier resolves (rt13a p18:
    Docker's embedded 127.0.0.11, a dnsmasq on 127.0.0.1), and glibc asks 127.0.0.1 where no nameserver is
    left, so then one routed nowhere (NO_DNS). Docker drops them likewise. A copy in RESOLV_DIR, per text."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return path
    lines = text.splitlines(keepends=True)
    keep = [ln for ln in lines if not re.match(r"\s*nameserver\s+(127\.\S*|::1|0\.0\.0\.0|::)\s*$", ln)]
    if len(keep) == len(lines):
        return path
    if not any(re.match(r"\s*nameserver\s", ln) for ln in keep):
        keep.append(NO_DNS)
    text = "".join(keep)
    copy = RESOLV_DIR / f"resolv-{hashlib.sha256(text.encode()).hexdigest()}.conf"
    if not copy.exists():
        RESOLV_DIR.mkdir(mode=0o700, exist_ok=True)
        tmp = copy.with_suffix(f".{os.getpid()}")
        tmp.write_text(text)
        os.replace(tmp, copy)
    return copy


def hide_tasks(*paths) -> None:
    """Hide these (a task directory, a directory of tasks) from every host-fallback sandbox started later."""
    TASK_PATHS.update(str(Path(p).resolve()) for p in paths)


_hides: dict[frozenset, list[str]] = {}


def task_hides() -> list[str]:
    """What the host fallback hides of the run's tasks (TASK_PATHS): each one, and above each the top-most
    directory that no installed package owns (dpkg's lists; nor the FHS), which holds it and whatever the
    operator keeps beside it (other tasks, solutions: /usr/local/share/tasks of /usr/local/share/tasks/a/t).
    Never a directory the fallback's programs need (a system directory, one on PATH, or one holding either),
    nor one outside what it shows (the episode's own /var/tmp); without dpkg's lists, each task's parent
    instead. Worked out once per set of tasks (one read of the lists)."""
    key = frozenset(TASK_PATHS)
    if key not in _hides:
        needed = {os.path.realpath("/" + d) for d in SYSTEM_DIRS} | set(BASE_ENV["PATH"].split(":"))
        ancestors = {str(a) for p in key for a in Path(p).parents} - {"/"}
        owned = set(FHS_DIRS)
        if DPKG_LISTS.is_dir():
            for f in DPKG_LISTS.glob("*.list"):
                try:
                    owned.update(l for l in f.read_text(errors="replace").splitlines() if l in ancestors)
                except OSError:
                    pass
        else:
            owned |= {str(a) for p in key for a in Path(p).parents[1:]}
        out = set(key)
        for p in key:
            top = next((a for a in reversed(Path(p).parents) if str(a) != "/" and str(a) not in owned), None)
            if top is not None and not any(n == str(top) or n.startswith(f"{top}/") for n in needed):
                out.add(str(top))
        # only what the fallback shows (beneath a system directory): elsewhere nothing of the host's is there
        # to hide, and a path such as /var/tmp would cover the episode's own directory
        shown = {os.path.realpath("/" + d) for d in SYSTEM_DIRS}
        _hides[key] = sorted(h for h in out if any(h.startswith(f"{s}/") for s in shown))
    return _hides[key]


def _trainer_files() -> None:
    """The trainer's soft RLIMIT_NOFILE raised to its hard limit, once: a sandbox holds ~6 of its fds, a
    compose episode's ~6 a service, and a batch starts all its rows at once: at the common soft limit of
    1,024, ten rollouts of a 16-service task made every other row's start fail with EMFILE, and their
    teardown too (rt20b p23; 256 plain rows, the paper's batch, need ~1,536)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def say_once(line: str) -> None:
    """A one-line notice on stderr, once per process (fallbacks are never silent)."""
    if line not in _said:
        _said.add(line)
        say(f"sandbox: {line}")


class Sandbox:
    """Context manager: one persistent bash per episode. run() returns a Result; close() kills everything.

    layers: overlay lower layers, top first (image layers, then the base root filesystem); None means the
    host's system directories, read-only. upper: an on-disk directory that receives every write (an image
    build step); None gives a fresh tmpfs of limits.storage_mb that vanishes at close(). network: start
    with the network (set_network(True)); otherwise the sandbox's own loopback only.
    network_of: another started Sandbox whose network namespace this one joins instead of making its own
    (a task's sidecar services, harbor.py): the same loopback, ports and network, none of its own to set.
    mounts: (host path, sandbox path, read-only) bound into the root, nosuid and nodev (a task's volumes
    and /etc/hosts); a host file is bound over a file, a directory over a directory. Each host path lies
    in `mounts_in` (the episode's scratch_dir), where pid 1 opens it with no link and no '..' out of it
    and binds that fd (sandbox_init._mount_binds): another sandbox may have written there.
    dirs: directories pid 1 makes in the root before the shell starts, as `mkdir -p -m 777` would (Harbor's
    /logs/...): one fork and exec fewer in every episode's start.
    cgroup_parent: a compose episode's group (Cgroup.create(group=...)): this sandbox's cgroup is made in it,
    so the episode's sandboxes together stay within the task's limits, not each of them."""

    def __init__(self, workdir: str = "/app", env: dict[str, str] | None = None, limits: Limits = Limits(),
                 layers: list[Path] | None = None, upper: Path | None = None, network: bool = False,
                 hide: list[str | Path] = (), network_of: "Sandbox | None" = None,
                 mounts: list[tuple[Path, str, bool]] = (), dirs: tuple[str, ...] = (),
                 mounts_in: Path | None = None, cgroup_parent: "Cgroup | None" = None):
        if not workdir.startswith("/") or ".." in PurePosixPath(workdir).parts:
            raise ValueError(f"sandbox workdir must be an absolute path without '..', got {workdir!r}")
        if network_of is not None and network:
            raise ValueError("a sandbox in another's network namespace has that one's network, not its own")
        for _, where, _ in mounts:
            if not where.startswith("/") or ".." in PurePosixPath(where).parts or not where.strip("/"):
                raise ValueError(f"sandbox mount point must be an absolute path without '..', not /, "
                                 f"got {where!r}")
        self.network_of, self.mounts = network_of, [(_beneath(h, mounts_in), w, ro) for h, w, ro in mounts]
        self.mounts_in = str(mounts_in) if mounts_in else None
        self.workdir, self.limits, self.closed = workdir, limits, True
        for d in dirs:
            if not d.startswith("/") or ".." in PurePosixPath(d).parts:
                raise ValueError(f"sandbox directory must be an absolute path without '..', got {d!r}")
        self.dirs, self.cgroup_parent = tuple(dirs), cgroup_parent
        self.env = {**BASE_ENV, **(env or {})}
        self.layers, self.upper, self.network = layers, upper, network
        # Host fallback only: never visible to the agent (the project, home directories, model caches and
        # the task directory, which start_task adds), wherever they sit under the host's system dirs.
        home = Path.home()
        self.hide = [Path(__file__).resolve().parent, "/work", home, home / ".cache",
                     *(os.environ[k] for k in ("HF_HOME", "HF_HUB_CACHE", "XDG_CACHE_HOME")
                       if os.environ.get(k)),
                     *(task_hides() if layers is None else ()), *hide]
        self._init_pid = self._shell_ns = None
        self._out, self._out_total, self._events, self._status = bytearray(), 0, b"", b""
        self._tail = bytearray()
        self._fresh: int | None = None         # while a run_fresh command runs: its output pipe (_run_fresh)
        self._fresh_open = False               # ... and some process still holds its write end
        self._nonce, self._since = "", 0       # the nonce: only while run() waits for its command
        self._budgets: dict[int, _Budget] = {}
        self._files: dict[tuple[str, str], bytes | None] = {}

    # -- lifecycle --------------------------------------------------------------------------------------
    def __enter__(self) -> "Sandbox":
        if not self.closed:       # already started (start_task returns an entered sandbox)
            return self
        _trainer_files()
        max_ns = Path("/proc/sys/user/max_user_namespaces")
        if max_ns.exists() and max_ns.read_text().strip() == "0":
            raise SandboxError(f"user.max_user_namespaces is 0; {USERNS_HELP}")
        if self.network_of is not None and (self.network_of.closed or os.getuid() != 0):
            # setns into a namespace of another user namespace needs the host's root (sandbox_init._child)
            raise SandboxError("a sandbox can join another's network only as root, and only while it runs"
                               + ("" if os.getuid() == 0 else f" (this is uid {os.getuid()})"))
        abi, need = sandbox_init.landlock_abi(), sandbox_init.LANDLOCK_ABI_NEEDED
        if self.limits.keep_agent_processes and abi < need:
            raise SandboxError(                # fail closed: nothing else keeps survivors off the verifier
                f"keeping the agent's processes needs Landlock ABI {need} (scoped signals and abstract "
                f"sockets: Linux 6.12+, landlock in the lsm= list); this kernel has {abi or 'none'}: run "
                "with --kill-agent-processes (Limits.keep_agent_processes=False)")
        _reap_stale()
        self.dir = _claim_dir()
        for p in (self.dir / "root", self.dir / "xfer", self.dir / "stage"):
            p.mkdir()
        self.ids = id_map()
        if os.getuid() == 0:      # pid 1 runs as the namespace's root, host uid H: let it in
            for p in (self.dir, self.dir / "root", self.dir / "xfer", self.dir / "stage"):
                os.chown(p, self.ids.host_root, self.ids.host_root)
        self.cgroup = None
        try:
            self.cgroup = Cgroup.create(self.dir.name, self.limits, self.cgroup_parent)   # fail closed
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def _start(self) -> None:
        cmd_r, cmd_w = os.pipe()
        out_r, out_w = os.pipe()
        self._own_pipe(out_w)
        st_r, st_w = os.pipe()
        ev_r, ev_w = os.pipe()
        life_r, self._life_w = os.pipe()        # never written: EOF tells pid 1 the caller is gone
        # run_fresh's commands, to pid 1: a socket, so that each carries the pipe its output comes back on
        ctl_r, ctl_w = (s.detach() for s in socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM))
        # the sandbox's own copy of the resolver file, as Docker keeps one per container: one inode bound
        # into every episode was a channel between them and the host (flock, an inotify watch saw the
        # host's and the other episodes' opens: rt20b p30)
        resolv = self.dir / "resolv.conf"
        try:
            shutil.copyfile(sandbox_resolver(resolver_file()), resolv)
        except OSError:                         # the host has none: the image keeps its own, as before
            pass
        config = {"root": str(self.dir / "root"), "xfer": str(self.dir / "xfer"),
                  "stage": str(self.dir / "stage"), "workdir": self.workdir, "dirs": self.dirs,
                  "layers": [str(p) for p in self.layers] if self.layers is not None else None,
                  "upper": str(self.upper) if self.upper else None, "storage_mb": self._storage_mb(),
                  "shm_mb": tmpfs_mb(self.limits, self.cgroup)[1],
                  "env": self.env, "system_dirs": SYSTEM_DIRS,
                  "resolv": str(resolv),
                  "gid_max": sum(count for _, _, count in self.ids.lines) - 1,
                  "hide": [str(Path(h).resolve()) for h in self.hide],
                  "fds": {"status": st_w, "events": ev_w, "life": life_r, "ctl": ctl_r},
                  "seccomp": _filter(build=self.limits.build),
                  "seccomp_agent": _filter(agent=True, build=self.limits.build),
                  "mounts": self.mounts, "mounts_in": self.mounts_in,
                  "keep": self.limits.keep_agent_processes, "build": self.limits.build,
                  "netns": f"/proc/{self.network_of._init_pid}/ns/net" if self.network_of else None,
                  "rlimits": {"NPROC": self.limits.nproc} if self.cgroup else
                             {"NPROC": self.limits.nproc, "AS": self.limits.memory_mb << 20}}
        if os.getuid() == 0 and self.layers is not None:   # the image cache is root's alone (_shelf)
            config["layers"], config["upper"], config["shelf"] = _shelf(self.dir, self.layers, self.upper)
        self.closed = False
        try:
            self._proc = _spawn(config, self.ids, self.cgroup, stdin=cmd_r, stdout=out_w)
        finally:
            for fd in (cmd_r, out_w, st_w, ev_w, life_r, ctl_r):
                os.close(fd)
        self._cmd_w, self._out_r, self._st_r, self._ev_r, self._ctl_w = cmd_w, out_r, st_r, ev_r, ctl_w
        os.set_blocking(out_r, False)
        self._t0 = time.monotonic()
        # Runs at close(), garbage collection or interpreter exit; a kill -9 of the caller is handled by
        # pid 1 (EOF on the lifeline) and the leftover directory by _reap_stale on the next start.
        self._init_holder: list[int] = []
        self._net: list[int] = []              # pasta's pid while the sandbox has the network
        self._finalizer = weakref.finalize(self, _teardown, self._proc, self._init_holder, self._net,
                                           self.dir, [cmd_w, out_r, st_r, ev_r, ctl_w, self._life_w],
                                           self.cgroup)
        event = self._wait(time.monotonic() + 30, lambda e: e[0] == "r")
        if event is None:
            out = one_line(self._take_output(note=False))[-400:]
            task = f"sandbox setup failed{sandbox_init.TASKS}: " in out
            raise (TaskSetupError if task else SandboxError)(
                f"sandbox failed to start: {out or 'no output within 30 s'}")
        self._init_pid, self._layer_fd = int(event[1]), int(event[2])
        self._init_holder.append(self._init_pid)
        self._level = _nspid_level(self._init_pid)
        _protect_from_oom(self._init_pid)
        _protect_from_oom(self._proc.pid)      # pid 1's parent, in the cgroup too: its death is pid 1's
        # pid 1 says "r" before it forks the shell: started means the shell exists, or restart_shell right
        # after the start (a verify with no command before it) kills nothing and waits for an "x" that
        # never comes (the kill lifecycle failed half its verifies so once the start got faster)
        if self._wait(time.monotonic() + 30, lambda e: e[0] == "s") is None:
            raise SandboxError(f"the shell did not start: {one_line(self._take_output(note=False))[-400:]}")
        if self.network:                       # before the first command: nothing runs without it
            self._network_up()

    def set_network(self, on: bool) -> None:
        """The network on (pasta attached to the sandbox's network namespace) or off (pasta gone: its
        interface and every connection through it with it, the sandbox's loopback stays), between
        commands: the verifier's phase may differ from the agent's (harbor.verify). Raises SandboxError
        when it cannot be turned on."""
        if on and not self._net:
            self._network_up()
        elif not on and self._net:
            _network_down(self._net, self.dir / "net.pid")
            # the sandbox's eth0 goes with pasta's namespace, which the kernel frees a little later (~40 ms)
            deadline, dev = time.monotonic() + 5, Path(f"/proc/{self._proc.pid}/net/dev")
            while " eth0:" in dev.read_text() and time.monotonic() < deadline:
                time.sleep(0.002)
        self.network = on

    def _network_up(self) -> None:
        if not network_available():
            raise SandboxError(NETWORK_HELP)
        pidfile = self.dir / "net.pid"
        # pasta joins the user and network namespaces of our child (sandbox_init.py made it dumpable for
        # this), sets up its tap interface, address and routes there, then goes to the background.
        out = outbound_address()
        argv = [*PASTA, *(["--outbound", out] if out else []), "-I", "pasta0", "-P", str(pidfile)]
        spid = str(self._proc.pid)
        hosts = " ".join(str(a) for a in registry.host_addresses() if a.version == 4 and not a.is_loopback)
        r = subprocess.Popen(["nsenter", "-t", spid, "-U", "unshare", "-n", "sh", "-c", NETNS, "sh", spid,
                              PASTA_MAC],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True, env={**os.environ, "HOST_ADDRS": hosts})
        try:
            if r.stdout.readline() != "ready\n":
                raise SandboxError(f"the sandbox's network namespace for pasta could not be made: "
                                   f"{one_line(r.stderr.read())[:200]}")
            self._pasta_up(argv, pidfile, r.pid)
            with contextlib.suppress(OSError):        # gone: said below, from its stderr
                r.stdin.write("\n")
                r.stdin.flush()
            if r.stdout.readline() != "done\n":
                _network_down(self._net, pidfile)
                raise SandboxError(f"the sandbox's bridge to pasta could not be made: "
                                   f"{one_line(r.stderr.read())[:200]}")
        finally:
            with contextlib.suppress(OSError):
                r.stdin.close()
            r.wait()

    def _pasta_up(self, argv: list[str], pidfile: Path, target: int) -> None:
        if os.getuid() == 0:
            # pasta runs as the namespace's owner (owner_uid: only its caps there let it join), and writes
            # its pid file after it drops to it: the state directory (H's, 0700) lets that owner's group
            # through to a file made for it, nothing more.
            owner = owner_uid(self._proc.pid)
            os.chown(self.dir, self.ids.host_root, owner)
            os.chmod(self.dir, 0o710)
            pidfile.touch(mode=0o600)
            os.chown(pidfile, owner, owner)
            argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c", TUN_NODE, "sh", *argv,
                    "--runas", f"{owner}:{owner}"]
        try:
            r = subprocess.run([*argv, str(target)], stdin=subprocess.DEVNULL, capture_output=True,
                               text=True, timeout=30, start_new_session=True)     # no tty, as _spawn
            failed = r.returncode or not pidfile.is_file() or not pidfile.stat().st_size
        except subprocess.TimeoutExpired as e:
            r, failed = subprocess.CompletedProcess(argv, -1, "", "no answer within 30 s"), True
        if failed:
            why = [l for l in f"{r.stdout}\n{r.stderr}".splitlines() if l.strip() and "syslog" not in l]
            raise SandboxError(f"pasta could not give the sandbox its network: "
                               f"{(why or [f'exit {r.returncode}'])[-1].strip()[:200]}")
        self._net.append(int(pidfile.read_text()))
        # What the episode's traffic makes pasta do is the episode's: its CPU, memory and process count in
        # the episode's cgroup, beside pid 1 (rt16b p01: in the trainer's, an agent at cpus 0.05 had pasta
        # burn several times its quota on its datagrams). Where that fails, no network (fail closed).
        if self.cgroup:
            try:
                self.cgroup.add_helper(self._net[-1])
            except OSError as e:
                _network_down(self._net, pidfile)
                raise SandboxError(f"pasta could not be put in the episode's cgroup ({e.strerror or e}): "
                                   "its CPU would be the trainer's; the sandbox has no network") from None

    def _storage_mb(self) -> int:
        return tmpfs_mb(self.limits, self.cgroup)[0]

    def _died(self) -> SandboxError:
        """The error for a sandbox whose pid 1 is gone: OutOfMemory where its cgroup's OOM killer acted."""
        out = self._take_output(note=False)[-300:]
        if self.cgroup and self.cgroup.oom_kills():
            # its own limit (or its compose group's), else only the cap on every sandbox's use: still the
            # agent's (the kernel kills the biggest process, most often the one that grew; the machine's
            # would let an agent trade its 0 for a masked row by growing on a full machine), said as it is
            over = (f"over memory_mb {self.limits.memory_mb}"
                    if any(c.at_limit() for c in (self.cgroup, self.cgroup_parent) if c) else
                    f"the sandboxes together over the {ALL_MB or memory_room_mb()} MiB of {ALL_CGROUP}")
            return OutOfMemory(f"sandbox died out of memory ({over}): {out!r}")
        return SandboxError(f"sandbox died: {out!r}")

    def close(self) -> None:
        self.closed = True
        if hasattr(self, "_finalizer"):
            self._finalizer()
        elif hasattr(self, "dir"):           # failed before the process started
            _rmtree(self.dir)
            if self.cgroup:
                self.cgroup.remove()

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

    def exec(self, command: str, timeout: float) -> Result:
        """Run without the episode clock (setup, build steps, oracle, verifier)."""
        return self._run(command, timeout)

    def start_clock(self) -> None:
        """The episode clock (Limits.episode_timeout, which run() keeps to) starts now."""
        self._t0 = time.monotonic()

    def pause_clock(self, seconds: float) -> None:
        """The episode clock skips `seconds` (a wait that was not the agent's)."""
        self._t0 += max(0.0, seconds)

    def memory_bytes(self) -> int | None:
        """Memory charged to the sandbox's cgroup (processes, page cache, tmpfs files); None without one."""
        for d in (self.cgroup.dirs.values() if self.cgroup else []):
            for f in ("memory.current", "memory.usage_in_bytes"):
                if (d / f).exists():
                    return int((d / f).read_text())
        return None

    def processes(self) -> list[int]:
        """Host pids of every process of the sandbox: pid 1 and its descendants, nested namespaces too."""
        return list(_descendants(self._init_pid, 0))

    def cpu(self) -> tuple[float, bool]:
        """(CPU seconds its processes have used, their reaped children's included; whether one of them is
        running, waiting to run or in a disk wait), read on the host from /proc: whether what the sandbox
        started is still at work (_await_settled in harbor.py). Not the cgroup's counter: cgroup v1's cpu
        controller keeps none, and an episode without a cgroup has none."""
        seconds, busy = 0, False
        for pid in self.processes():
            try:
                fields = _proc_stat(pid)
            except (OSError, IndexError):
                continue                           # gone meanwhile: its time is in its parent's cutime
            busy |= fields[0] in ("R", "D")
            seconds += sum(map(int, fields[11:15]))   # utime stime cutime cstime, in clock ticks
        return seconds / os.sysconf("SC_CLK_TCK"), busy

    def _run(self, command: str, timeout: float) -> Result:
        if self.closed:
            raise SandboxError("run() after close()")
        self._nonce = nonce = secrets.token_hex(8)
        # The command travels as one $'...' literal and runs through eval in the shell itself, so cd and
        # export persist and a syntax error is just exit code 2. Its stdin is /dev/null so it cannot read
        # the next command. Before it, the namespace's last allocated pid goes to the status pipe: pids are
        # handed out in increasing order, so on a timeout everything above it was started by this command.
        # (The line starts with the assignment: after an eval syntax error bash misparses a leading `{`.)
        line = (f"__echo_cmd={_ansi_c(command)}; {{ read -r __echo_pid </proc/sys/kernel/ns_last_pid; "
                f"printf 'b {nonce} %s\\n' $__echo_pid >&99; }} 2>/dev/null; "
                f"eval \"$__echo_cmd\" </dev/null 99>&-; "
                f"{{ printf 'n {nonce} %d\\n' $? >&99; }} 2>/dev/null\n")
        self._out.clear()
        self._tail.clear()
        self._out_total = 0
        self._since = 0                            # until the shell reports it: kill all but the shell
        try:
            os.write(self._cmd_w, line.encode())
        except BrokenPipeError:
            raise self._died() from None
        try:
            return self._run_wait(nonce, timeout)
        finally:
            self._nonce = ""                       # the shell's pipe is read no more until the next run()

    def _run_wait(self, nonce: str, timeout: float) -> Result:
        done = lambda e: (e[0] == "n" and e[1:2] == (nonce,)) or e[0] == "x"
        event = self._wait(time.monotonic() + timeout, done)
        if event is None:                          # timed out: kill what the command started, keep the shell
            self._kill(since=self._since, agent=True)
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

    def run_fresh(self, command: str, timeout: float, private_logs: bool = False, user=None,
                  tests: Path | None = None, homes: tuple = (), service: bool = False) -> Result:
        """Run `command` in a fresh `bash -c` that pid 1 starts as its own child (the environment the
        sandbox started with, stdin /dev/null, the shell's confinement), for commands whose result must be
        trusted: the verifier's. Its end and exit status are what pid 1's wait() returned, sent on pid 1's
        event pipe, which no process of the agent holds or can open (pid 1 keeps capabilities they lack, so
        /proc/1/fd is closed to them, and the pipe belongs to the host's root). Nothing the agent left
        running, and nothing the command itself runs, can forge them; it can kill the command, which
        `signal` then reports. Nor can it write into the command's output: a pipe made for it alone.
        private_logs (the verifier): the command gets a mount namespace of its own with a fresh tmpfs at
        /logs/verifier that only it and its children see, and Result.files holds reward.json and
        reward.txt as pid 1 read them from that tmpfs after the command ended (sandbox_init.REWARD_FILES).
        Result.tail: where the output ran past output_chars, its last output_chars characters too (the
        head alone hid a missing runner's line after a long log: rt6 p04).
        user: a dockerfile.User to run it as (its ids, groups and HOME, no capabilities); None: root.
        tests (with private_logs, after seal() or after restart_shell() killed the agent's processes): a host
        directory the command finds at /tests, a tmpfs of its own mount namespace, on a root of its own
        (what it writes lands in an upper no process of the agent's can name: verifier_own); exit 127 if it
        cannot be copied there. What the
        verifier is given is at /tests and nowhere else: the stage is not in /run/xfer, which every process
        of the sandbox sees, but in a host directory that pid 1's child copies to /tests before the command
        starts, mounted nowhere the command can see (sandbox_init._copy_tests).
        homes (with private_logs): ((home, (path, ...)), ...): each home the command sees as the image had
        it, less the paths in it that stay as the agent left them (sandbox_init.verifier_homes); a
        __pycache__ of the agent's bytecode so too, with nothing kept (harbor.bytecode_views), and a tool's
        cache the agent made or changed (harbor.cache_views).
        service (start): confined as the agent's shell, without the extra capability that keeps the
        agent's processes from tracing a run_fresh command (sandbox_init.VERIFIER_EXTRA_CAP)."""
        if self.closed:
            raise SandboxError("run_fresh() after close()")
        if tests is None:
            message = marshal.dumps((_ids(user), command, tuple(homes)))
            kind = b"L" if private_logs else b"B" if service else b"-"
            return self._run_fresh(kind + message, timeout, private_logs)
        # The staging is the command's time too (rt12b p24: tests/ of many entries staged with no clock):
        # past `timeout` it is the command's timeout, as a test.sh that ran as long would be.
        deadline = time.monotonic() + timeout
        try:
            stage = self._stage(Path(tests), where=self.dir / "stage", deadline=deadline)
        except TimeoutError:
            return Result(f"staging {tests} took over {timeout:g} s", -1, True)
        try:                                   # pid 1's child copies it to /tests before bash starts
            message = marshal.dumps((_ids(user), command, tuple(homes), stage.name))
            # sealed: a root of its own over the sealed one; else (the agent's processes killed) over the
            # episode's layer (sandbox_init._killed_root): either way test.sh writes no inode of theirs
            kind = b"T" if getattr(self, "_sealed", False) else b"K"
            if (left := deadline - time.monotonic()) <= 0:
                return Result(f"staging {tests} took over {timeout:g} s", -1, True)
            return self._run_fresh(kind + message, left, True)
        finally:
            _rmtree(stage)

    def check_room(self, src: Path, dest: str, max_bytes: int | None = None) -> None:
        """OSError if the files of src add up to more than max_bytes (default: what the writable layer
        holds, for an episode's tmpfs), or to more entries than the state directory's disk has inodes free
        (inodes_left: they are staged there): copy_in's and run_fresh(tests=...)'s check, before anything is
        staged."""
        room = max_bytes if max_bytes is not None else None if self.upper else self._storage_mb() << 20
        size, entries = _tree_size(Path(src))
        if room is not None and size > room:
            holds = "allowed" if max_bytes is not None else "the sandbox can hold"
            raise OSError(f"cannot copy {Path(src).name} to {dest}: its files are {size >> 20} MiB, over the "
                          f"{room >> 20} MiB {holds}")
        if (left := inodes_left(self.dir)) is not None and entries > left:     # staged there first
            raise OSError(f"cannot copy {Path(src).name} to {dest}: its {entries} files and directories are "
                          f"over the {max(0, left)} inodes the host's disk has free (less {INODE_RESERVE})")

    def seal(self) -> bool:
        """Verification is about to start and the agent's processes live on (Limits.keep_agent_processes,
        Harbor's lifecycle): from now on they see the root read-only, all but the places a service writes
        (sandbox_init.SCRATCH); run_fresh(tests=...) then gives the verifier a root it may write and /tests
        of its own. False where it cannot be done (seal_refused says why): one of them holds a file on the
        root open for writing, or what they left cannot be copied exactly (a partial copy would hide from
        the tests what the task asked them to remove), or a place they still write is no longer where pid 1
        bound it (a directory above it renamed: the verifier would see it live), or they cannot be moved to a
        cgroup of their own
        (Cgroup.split: the verifier's processes, memory and CPU are not theirs to spend): the caller kills
        them instead (restart_shell)."""
        self._verifier_tmp = []                # of an earlier verifier: not this one's
        self._verifier_own = []
        self._sealed = False
        if self.cgroup and (why := self.cgroup.split({self._proc.pid, self._init_pid, *self._net})):
            self.seal_refused = why
            return False
        data = b"S" + marshal.dumps((None, ""))
        os.write(self._ctl_w, struct.pack("I", len(data)) + data)
        # pid 1 copies what the agent left in the places its processes still write, up to TMP_COPY_ENTRIES
        # entries, on the episode's CPU quota: its wait is the agent's to fill (rt16b p03: 95,000 directories
        # in /tmp at cpus 0.5 outlasted a fixed 10 s, and the agent's 0 became the machine's failure,
        # masked), so it grows with the copy's cap and shrinks with the quota: 10 s plus 1 ms an entry at
        # one CPU, at most SEAL_WAIT
        wait = seal_wait(self.limits.cpus)
        event = self._wait(time.monotonic() + wait, lambda e: e[0] == "S")
        if event is None:
            raise SandboxError(f"pid 1 did not answer seal within {wait:.0f} s")
        if int(event[1]) not in (0, errno.EBUSY, errno.E2BIG, errno.EXDEV):
            raise SandboxError(f"cannot seal the root and copy /tmp: {os.strerror(int(event[1]))}")
        self._verifier_tmp = []                # of an earlier verifier: not this one's
        self._verifier_own = []
        code = int(event[1])
        self._sealed = code == 0
        # why not (harbor prints it, root_writers() filling {}): the root held, or a copy that is not exact
        moved = bytes.fromhex(event[2]).decode(errors="replace") if code == errno.EXDEV else ""
        self.seal_refused = "" if code == 0 else (
            "the agent's processes hold {} open for writing, so the root cannot be made read-only to them"
            if code == errno.EBUSY else
            # a directory above a scratch mount renamed (rt10a p12): the verifier would see it live
            f"{one_line(moved)[:200]!r} is a mount the agent's processes still write that the verifier "
            "would see live (moved from where pid 1 bound it, or never copied)".replace("{", "{{")
            .replace("}", "}}")
            if code == errno.EXDEV else
            f"{event[2]} entries of the places the agent's processes still write (/tmp, /run, /var/lib, ...) "
            f"cannot be copied exactly for the verifier (over {sandbox_init.TMP_COPY_BYTES >> 20} MB or "
            f"{sandbox_init.TMP_COPY_ENTRIES:,} entries, a device, or swapped meanwhile)")
        if int(event[1]) == 0:
            # what the verifier sees of the places they still write (sandbox_init.SCRATCH): copies pid 1
            # made now (sandbox_init._copy_tmp), less the mounts beneath them, which it sees as they are
            self._tmp_copies = [(f"/proc/{self._init_pid}/fd/{fd}/.", d)
                                for d, fd in (x.rsplit(":", 1) for x in event[3:] if not x.startswith("m"))]
            self._copy_holes = [bytes.fromhex(x[1:]).decode() for x in event[3:] if x.startswith("m")]
        return int(event[1]) == 0

    def tmp_copies(self) -> list[tuple[str, str]]:
        """After seal(): (a host path, where the verifier sees it) of each copy of a SCRATCH directory (/tmp,
        /run, /var/lib, ...) the verifier reads instead of the live directory, for the writable-layer check
        to read the same."""
        return getattr(self, "_tmp_copies", [])

    def verifier_tmp(self) -> list[tuple[str, str]]:
        """After a sealed verifier ran (run_fresh(tests=...)): (a host path, where it saw it) of what it
        wrote over each copy (the upper directory of its private overlay), for the check after the tests to
        read, as it reads the writable layer."""
        return getattr(self, "_verifier_tmp", [])
    def verifier_own(self) -> list[tuple[str, str]]:
        """After a sealed verifier ran: (a host path, where it saw it) of the upper directory of its own root
        (at "/") and of its overlays on dpkg's and apt's sealed directories: everything else it wrote, which
        no process of the agent's saw (sandbox_init._own_root), for the check after the tests."""
        return getattr(self, "_verifier_own", [])

    def copy_holes(self) -> list[str]:
        """After seal(): the mounts beneath a copied directory that are not in its copy (dpkg's and apt's,
        sealed with the root, /run/xfer, a volume): the verifier sees them as they are."""
        return getattr(self, "_copy_holes", [])

    def root_writers(self) -> list[str]:
        """What keeps seal() from making the root read-only: 'pid N (comm) /path' for each file on the root
        mount that a process of the sandbox holds open for writing (the sandbox's pid; read on the host)."""
        try:
            mounts = Path(f"/proc/{self._init_pid}/mountinfo").read_text().splitlines()
            root = next(int(l.split()[0]) for l in reversed(mounts) if l.split()[4] == "/")
        except (OSError, StopIteration):
            return []
        found = []
        for p, ids in _descendants(self._init_pid, self._level).items():
            nspid = ids[-1]                        # as the process sees it (the agent's: a namespace below)
            try:
                # its own root mount: the agent's processes are in a mount namespace of their own, with
                # copies of pid 1's mounts (sandbox_init._agent_namespaces)
                own = Path(f"/proc/{p}/mountinfo").read_text().splitlines()
                root = next(int(l.split()[0]) for l in reversed(own) if l.split()[4] == "/")
                comm = Path(f"/proc/{p}/comm").read_text().strip()
                for fd in os.listdir(f"/proc/{p}/fdinfo"):
                    lines = Path(f"/proc/{p}/fdinfo/{fd}").read_text().splitlines()
                    info = dict(l.split(":", 1) for l in lines if ":" in l)
                    if int(info["mnt_id"]) == root and int(info["flags"], 8) & 3:     # O_WRONLY or O_RDWR
                        found.append(f"pid {nspid} ({comm}) {os.readlink(f'/proc/{p}/fd/{fd}')}")
            except (OSError, KeyError, ValueError, StopIteration):
                continue                           # gone, or an fd closed meanwhile
        return found

    def _run_fresh(self, data: bytes, timeout: float, private_logs: bool) -> Result:
        # The command's stdout and stderr: a pipe made for it alone, whose write end goes to pid 1 with the
        # command and from pid 1 to the command only. What the agent left running writes to the shell's pipe,
        # which it holds; never into this (rt10b p33: a survivor's `pytest: command not found`, read as the
        # verifier's own line, made a working verifier broken).
        fresh_r, fresh_w = os.pipe()
        self._own_pipe(fresh_w)
        try:
            sock = socket.socket(fileno=self._ctl_w)
            try:
                socket.send_fds(sock, [struct.pack("I", len(data)) + data], [fresh_w])
            finally:
                sock.detach()                  # the fd stays the sandbox's (closed at _teardown)
        except BrokenPipeError:
            os.close(fresh_r)
            raise self._died() from None
        finally:
            os.close(fresh_w)
        os.set_blocking(fresh_r, False)
        self._fresh, self._fresh_open = fresh_r, True
        try:
            return self._fresh_result(timeout, private_logs)
        finally:
            self._fresh = None
            os.close(fresh_r)                  # what it left running writes to a closed pipe from now on

    def _own_pipe(self, fd: int) -> None:
        """An output pipe the sandbox's root owns, as a container's root owns its stdout: a pipe is owned by
        who made it, and the host's root is no one inside, so `echo x > /dev/stderr` (a reopen through
        /proc/self/fd/2) was EACCES for the agent's commands and test.sh alike (rt20a). The agent's
        processes gain nothing: they hold the shell's already, and a verifier's is named only through
        /proc/PID/fd of a process they cannot trace."""
        if os.getuid() == 0:
            os.fchown(fd, self.ids.host_root, self.ids.host_root)

    def _fresh_result(self, timeout: float, private_logs: bool) -> Result:
        self._out.clear()
        self._tail.clear()
        self._out_total = 0
        started = self._wait(time.monotonic() + 10, lambda e: e[0] == "c")
        if started is None:
            raise SandboxError("pid 1 did not start the command within 10 s")
        pid = started[1]
        if len(started) > 2:                   # a sealed verifier: its private /tmp, /var/tmp (verifier_tmp),
            # its root, dpkg's, its views ("+": verifier_own), each name in hex
            uppers = [(f"/proc/{self._init_pid}/fd/{fd}/.", bytes.fromhex(d).decode())
                      for d, fd in (x.rsplit(":", 1) for x in started[2:])]
            self._verifier_tmp = [(p, d) for p, d in uppers if not d.startswith("+")]
            self._verifier_own = [(p, d[1:]) for p, d in uppers if d.startswith("+")]
        self._files = {}
        done = lambda e: e[0] == "e" and e[1] == pid                    # noqa: E731
        event = self._wait(time.monotonic() + timeout, done)
        files = {n: self._files[(pid, n)] for n in REWARD_FILES if (pid, n) in self._files} \
            if private_logs else None
        if event is None:                          # kill it and whatever started after it
            self._kill(since=int(pid) - 1)
            self._wait(time.monotonic() + 5.0, done)
            tail = self._take_tail()
            return Result(self._take_output(), -1, True, files=files, tail=tail)
        tail = self._take_tail()
        return Result(self._take_output(), int(event[2]), False, signal=int(event[3]), files=files, tail=tail)

    def start(self, command: str, user=None) -> None:
        """Start `command` (bash -c, as run_fresh) in the background, as a process of the sandbox that pid 1
        adopts: a service the image starts (harbor's ENTRYPOINT). Its output goes to /dev/null (Docker's
        container log, which the agent cannot read either); it lives until restart_shell or close."""
        r = self.run_fresh(f"exec </dev/null >/dev/null 2>&1; ( {command} ) & ", 10, user=user, service=True)
        if r.timed_out or r.exit_code:
            # a command too long to start is the task's (E2BIG), never the machine's to retry (rt20b p19)
            error = TaskSetupError if "Argument list too long" in r.output else SandboxError
            raise error(f"cannot start {command[:80]!r}: {one_line(r.output)[-200:]}")

    def set_user(self, user) -> None:
        """Run the agent's shell as `user` (a dockerfile.User; None: root) from now on: pid 1 restarts it
        as that user (every process of the sandbox but pid 1 ends, as in restart_shell). There is no way
        back from inside: the shell has dropped to the user's ids before its exec, with no capability."""
        data = b"U" + marshal.dumps((_ids(user), ""))
        try:
            os.write(self._ctl_w, struct.pack("I", len(data)) + data)
        except BrokenPipeError:
            raise self._died() from None
        if self._wait(time.monotonic() + 10, lambda e: e[0] == "u") is None:
            raise SandboxError("pid 1 did not take the shell's user within 10 s")
        self.restart_shell()

    def writable_layer(self) -> str:
        """A host path of the episode's writable layer (the overlay's upper directory, or the host fallback's
        root tmpfs without the mounts on it): what the agent changed, and nothing else. Read it without
        following links (tamper.py): links in it are the sandbox's, and would resolve against the host."""
        return f"/proc/{self._init_pid}/fd/{self._layer_fd}"

    def restart_shell(self) -> None:
        """Kill every process of the episode except pid 1, nested namespaces included, and start a fresh
        shell (clean cwd and environment)."""
        self._kill(since=0, shell=True)
        self._remove_ipc()
        # as long as a start may take (_start): a loaded machine, not the task, makes this slow
        if self._wait(time.monotonic() + 30.0, lambda e: e[0] == "x") is None:
            raise SandboxError("the shell did not restart within 30 s")

    def _remove_ipc(self) -> None:
        """Remove the SysV IPC objects (shared memory, semaphores, message queues) of the sandbox's IPC
        namespace, which outlive the processes that made them (and shared memory stays charged to the
        episode's memory). The host's own nsenter and ipcrm, in that namespace only."""
        argv = ["nsenter", "-t", str(self._init_pid), *(["--user"] if os.getuid() else []), "--ipc",
                "ipcrm", "--all"]
        try:
            # in the sandbox's namespaces: no terminal of the trainer's either (_spawn)
            subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=10,
                           start_new_session=True)
        except (OSError, subprocess.TimeoutExpired):
            pass                                   # no util-linux on the host: they stay (CONTAINMENT.md)

    def _wait(self, deadline: float, done) -> tuple[str, ...] | None:
        """Read output and both status pipes until an event satisfies done(); None at the deadline. pid 1's
        events come from its own pipe only; the shell's pipe (fd 99, which the agent's code can write:
        the nonce is in its memory) is read only while run() waits for its command, and a line there is
        only ever `b`/`n` of that command (_shell_event): it can end or shape the agent's own command,
        never raise here or stand for pid 1 (rt13b p18, p19). Each pipe a process of the sandbox writes is
        read within a byte budget per second (_Budget): beyond it, it waits in its pipe (rt13b p21)."""
        while True:
            while b"\n" in self._events:
                raw, self._events = self._events.split(b"\n", 1)
                event = tuple(raw.decode("ascii", "replace").split())
                if not event:
                    continue
                if event[0] == "f" and len(event) == 4:      # f <pid> <name> <hex|=|->
                    self._files[(event[1], event[2])] = (None if event[3] == "-" else b"" if event[3]
                                                         == "=" else bytes.fromhex(event[3]))
                    continue
                if event[0] == "s":
                    self._shell_ns = int(event[1])
                if done(event):
                    self._drain(grace=1.0)
                    return event
            if self._status:                       # one split per chunk: a flood of lines costs no more
                *lines, rest = self._status.split(b"\n")
                self._status = rest[-256:]         # ours are under 64 bytes: garbage cannot fill memory
                for event in filter(None, (_shell_event(raw, self._nonce) for raw in lines)):
                    if event[0] == "b":
                        self._since = int(event[2])
                    if done(event):
                        self._status = b""         # what follows it is no command's of ours
                        self._drain(grace=1.0)
                        return event
            now = time.monotonic()
            left = deadline - now
            if left <= 0:
                return None
            fresh = [self._fresh] if self._fresh is not None and self._fresh_open else []
            out = fresh[0] if fresh else self._out_r
            shell = self._st_r if self._nonce else None   # run() only: never the verifier's
            pipes, wake = [self._ev_r], left
            for fd in (out, shell):                # a pipe over its budget: not read until its next second
                if fd is not None:
                    budget = self._budgets.get(fd) or self._budget(fd)
                    if budget.ready(now):
                        pipes.append(fd)
                    else:
                        wake = min(wake, budget.wait(now))
            ready = readable(pipes, wake)
            if out in ready:
                self._drain()
            if shell is not None and shell in ready:
                budget = self._budgets[shell]
                chunk = _read_some(shell, budget.room()) or b""
                budget.spend(len(chunk))
                self._status += chunk
            if self._ev_r in ready:
                chunk = os.read(self._ev_r, 4096)
                if not chunk:                      # pid 1 is gone: the sandbox died
                    self._drain()
                    if self._init_pid is None:     # failed during setup: the caller reports it
                        return None
                    raise self._died()
                self._events += chunk

    def _budget(self, fd: int) -> "_Budget":
        if fd not in self._budgets:
            self._budgets[fd] = _Budget(STATUS_BYTES_PER_S if fd == self._st_r else OUTPUT_BYTES_PER_S)
        return self._budgets[fd]

    def _drain(self, grace: float = 0.0) -> None:
        # Bounded: keep at most 4 bytes per character of the cap (UTF-8), count and discard the rest, so
        # `yes` cannot fill memory. While a run_fresh command runs its output is its own pipe's; what the
        # shell's pipe holds meanwhile (the agent's processes) is read and dropped, as it always was.
        # Reads stay within the pipe's budget of the second: writers that outrun the trainer (splice on
        # every CPU) cannot hold it here past the command's clock (rt13b p02). grace (the command ended):
        # read to the pipe's end, waiting for the budget's next second for at most that long.
        if self._fresh is not None:
            budget = self._budget(self._out_r)
            while budget.ready(time.monotonic()) and (chunk := _read_some(self._out_r, budget.room())):
                budget.spend(len(chunk))
        fd = self._out_r if self._fresh is None else self._fresh
        budget, end = self._budget(fd), time.monotonic() + grace
        keep = 4 * self.limits.output_chars + 4
        while True:
            now = time.monotonic()
            if not budget.ready(now):
                if now + budget.wait(now) > end:
                    return
                time.sleep(budget.wait(now))
            chunk = _read_some(fd, budget.room())
            if chunk is None and self._fresh is not None:
                self._fresh_open = False       # every writer gone: select on it no more (it would spin)
            if not chunk:
                return
            budget.spend(len(chunk))
            self._out_total += len(chunk)
            if len(self._out) < keep:
                self._out += chunk[:keep - len(self._out)]
            self._tail += chunk                    # and the last as many: run_fresh's Result.tail
            del self._tail[:-keep]

    def _take_tail(self) -> str:
        """The output's last output_chars characters where it may have been cut, else "" (run_fresh)."""
        n = self.limits.output_chars
        tail = self._tail.decode("utf-8", errors="replace")[-n:] if self._out_total > n else ""
        self._tail.clear()
        return tail

    def _take_output(self, note: bool = True) -> str:
        text = self._out.decode("utf-8", errors="replace")
        n = self.limits.output_chars
        if note and (len(text) > n or self._out_total > len(self._out)):
            text = (text[:n] + f"\n[output cut to its first {n:,} characters; "
                    f"the command printed {self._out_total:,} bytes]")
        self._out.clear()
        return text

    def _kill(self, since: int, shell: bool = False, agent: bool = False) -> None:
        """SIGKILL the episode's processes whose pid in the sandbox's namespace is above `since`, never
        pid 1 and, unless shell=True, never the shell nor the zygote and the reaper of the agent's
        namespace (sandbox_init._agent_namespaces), whose end ends every process of it. agent: `since` is a
        pid of the agent's namespace (ns_last_pid, as its shell read it): where the agent's processes are
        kept, one below the sandbox's, where they are judged by their pid there (the sandbox's own then
        only with since 0). Found through the host's process tree. Freeze first (SIGSTOP) so a fork bomb
        cannot outrun us."""
        stopped: set[int] = set()
        for _ in range(1000):
            procs = _descendants(self._init_pid, self._level)
            reapers = {p for p, ids in procs.items() if ids[1:2] == (1,)}
            ours = set() if shell else reapers | {_parent(p) for p in reapers}
            seen = lambda ids: (ids[0] if not agent else ids[1] if len(ids) > 1     # noqa: E731
                                else 1 if since == 0 else 0)
            new = [p for p, ids in procs.items() if seen(ids) > since and ids[0] != 1 and p not in ours
                   and (shell or ids[0] != self._shell_ns) and p not in stopped]
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
        """Where absolute sandbox path `path` is on the host, via pid 1's /proc/<pid>/root. Refuses
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

    def copy_in(self, src: Path, dest: str, timeout: float = 300.0, max_bytes: int | None = None,
                keep_owners: bool = False) -> None:
        """Copy a host file or directory (its contents, like Docker's COPY) to absolute path dest.
        Staged in the state directory, which the sandbox sees read-only at /run/xfer, then copied by
        `cp -a` inside, so files belong to the sandbox's root and symlinks stay links (never followed on
        the host, so a link in a task cannot copy a host file in). The copy is a run_fresh command: its
        success is pid 1's word, not the agent's shell's (the verifier's /tests arrive this way).
        Files adding up to more than `max_bytes` (default: what the writable layer holds, for an episode's
        tmpfs) are refused before any is staged, and so are files the host's disk has no room to stage
        (_staging_room). `timeout` bounds the staging and the copy together. keep_owners (COPY --from, as root):
        a file whose host owner is an id of the sandbox's range keeps it (sandbox uid u is host uid
        host_root + u), as Docker keeps a stage's owners."""
        src, deadline = Path(src), time.monotonic() + timeout
        if not dest.startswith("/"):
            raise ValueError(f"sandbox path must be absolute, got {dest!r}")
        self.check_room(src, dest, max_bytes)

        def copy(a, b):
            if time.monotonic() > deadline:
                raise OSError(f"cannot copy {src.name} to {dest}: over {timeout:.0f} s")
            copy_plain(a, b)
        tree = src.is_dir() and not src.is_symlink()         # a link to a directory is copied as the link
        try:                                   # the clock checked at every entry, a directory's too
            stage = self._stage(src, copy, keep_owners, deadline=deadline)
        except TimeoutError:
            raise OSError(f"cannot copy {src.name} to {dest}: over {timeout:.0f} s") from None
        try:
            q = shlex.quote(dest)
            left = deadline - time.monotonic()
            if left <= 0:
                raise OSError(f"cannot copy {src.name} to {dest}: over {timeout:.0f} s")
            r = self.run_fresh(f"mkdir -p {q} && cp -a /run/xfer/{stage.name}/. {q}/" if tree else
                               f"mkdir -p \"$(dirname {q})\" && cp -a /run/xfer/{stage.name}/"
                               f"{shlex.quote(src.name)} {q}", left)
        finally:
            _rmtree(stage)
        if r.timed_out:
            raise OSError(f"cannot copy {src.name} to {dest}: over {timeout:.0f} s")
        if r.exit_code:
            raise OSError(f"cannot copy {src.name} to {dest}: {one_line(r.output)[-200:]}")

    def _stage(self, src: Path, copy=None, keep_owners: bool = False, where: Path | None = None,
               deadline: float | None = None) -> Path:
        """src copied (by `copy`, default a plain copy) into the state directory, which the sandbox sees
        read-only at /run/xfer: a directory's contents, or the file itself inside it; links stay links;
        owned by the sandbox's root, or with keep_owners by src's owner where that is an id of the sandbox's
        (copy_in). where: another host directory than xfer (run_fresh's tests). TimeoutError past
        `deadline` (time.monotonic()), checked at every entry, a directory's too. SandboxError before any is
        written if it does not fit the disk (_staging_room). The caller removes it."""
        stage, copy = (where or self.dir / "xfer") / secrets.token_hex(4), copy or copy_plain

        def on_time(*_) -> list:               # copytree's `ignore`, called once per directory: ignores none
            if deadline is not None and time.monotonic() > deadline:
                raise _Late()                  # not an OSError, which copytree collects and goes on
            return []

        def timed(a, b):
            on_time()
            copy(a, b)
        # what it will write must fit the disk it lands on, the other stages in flight beside it
        with _staging_room(src, stage.parent):
            tree = src.is_dir() and not src.is_symlink()
            try:
                if tree:
                    shutil.copytree(src, stage, symlinks=True, copy_function=timed, ignore=on_time)
                else:
                    stage.mkdir()
                    timed(src, stage / src.name)
                if os.getuid() == 0:
                    for p in [stage, *stage.rglob("*")]:
                        on_time()
                        os.lchown(p, self.ids.host_root, self.ids.host_root)
                        if not keep_owners or not tree and p == stage:
                            continue
                        st = os.lstat(src / p.relative_to(stage) if tree else src)
                        if all(0 <= i - self.ids.host_root < ID_COUNT for i in (st.st_uid, st.st_gid)):
                            os.lchown(p, st.st_uid, st.st_gid)
                            if not stat.S_ISLNK(st.st_mode):       # chown cleared a setuid bit: put it back
                                os.chmod(p, stat.S_IMODE(st.st_mode))
            except _Late:
                _rmtree(stage)
                raise TimeoutError(f"staging {src.name}: past its deadline") from None
            except BaseException:
                _rmtree(stage)
                raise
        return stage

    def read_file(self, path: str, limit: int = 1 << 16) -> str | None:
        """Up to `limit` bytes of a sandbox file as text, None if it does not exist. Each component is
        opened from pid 1's root with O_NOFOLLOW (no link is followed, even one swapped in by a process
        running now) and the file through open_regular: a FIFO there is an OSError, not a read that waits
        for a writer forever (rt9 p05, p15)."""
        parts = PurePosixPath(path).parts
        if not path.startswith("/") or ".." in parts or len(parts) < 2:
            raise ValueError(f"sandbox path must be absolute without '..', got {path!r}")
        fd = os.open(f"/proc/{self._init_pid}/root", os.O_RDONLY | os.O_DIRECTORY)
        try:
            for name in parts[1:-1]:
                try:
                    sub = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
                except FileNotFoundError:
                    return None
                except OSError:                # ELOOP: a link; ENOTDIR: a file
                    raise OSError(f"sandbox path {path!r}: {name!r} is a symlink or not a directory"
                                  ) from None
                os.close(fd)
                fd = sub
            try:
                with os.fdopen(open_regular(parts[-1], path, dir_fd=fd), "rb") as f:
                    return f.read(limit).decode("utf-8", errors="replace")
            except FileNotFoundError:
                return None
        finally:
            os.close(fd)

    def copy_out(self, path: str, dest: Path, max_bytes: int, exclude: tuple[str, ...] = (),
                 deadline: float | None = None) -> int | None:
        """Copy sandbox path `path` (a file, a link or a directory's tree) to the new host path `dest`,
        never following a link: each component is opened from pid 1's root with O_NOFOLLOW, so a path that
        passes through a link is not found, a link is copied as the link, and nothing outside the sandbox's
        root is reached. Only what the sandbox owns is read (the caller may be the host's root): an entry
        whose owner or group is not one of the sandbox's ids (the host's files that the host fallback shows
        read-only, procfs's root-owned files) is left out, and so are devices, FIFOs, sockets and
        /proc, /sys, /dev. A directory's entries whose relative path or any tail of it matches a glob of
        `exclude` are left out (as tar --exclude). Returns the bytes copied, each entry charged ENTRY_BYTES
        besides its data (a directory or a link costs the host's disk an inode and a block: rt15b p01, p15,
        75,000 empty directories were 0 bytes of the cap and 300 MB on the host), None if `path` is not
        there; over max_bytes, MAX_COPY_ENTRIES entries, MAX_COPY_DEPTH levels or past `deadline` (a
        time.monotonic(); rt15b p02: 200,000 files copied for 107 s under a 1 s verifier timeout) it stops
        with CopyLimitError."""
        parts = PurePosixPath(path).parts
        if not path.startswith("/") or ".." in parts:
            raise ValueError(f"sandbox path must be absolute without '..', got {path!r}")
        if self.closed:
            raise SandboxError("copy_out() after close()")
        if len(parts) > 1 and parts[1] in ("proc", "sys", "dev"):
            return None
        fd = os.open(f"/proc/{self._init_pid}/root", os.O_RDONLY | os.O_DIRECTORY)
        try:
            for name in parts[1:-1]:
                try:
                    sub = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
                except OSError:                    # ELOOP: a link; ENOTDIR: a file; ENOENT
                    return None
                os.close(fd)
                fd = sub
            copied = _Copied(max_bytes, exclude, self.ids, deadline)
            if len(parts) == 1:                    # "/": every entry of the root but /proc, /sys, /dev
                dest.mkdir()
                copied.tree(fd, dest, "", top=True)
            elif not copied.entry(fd, parts[-1], dest, parts[-1], top=True):
                return None
            return copied.bytes
        finally:
            os.close(fd)



def readable(fds: list[int], timeout: float | None) -> list[int]:
    """The fds of `fds` ready to read within `timeout` seconds (None: wait). poll, not select: the trainer
    holds several fds per sandbox, and select refuses any fd past 1023 whatever the open-file limit (rt16b
    p18: the 11th of 16 rollouts of a 16-service task failed with ValueError; 16 x 16 plain rollouts cross
    it too)."""
    poller = select.poll()
    for fd in fds:
        poller.register(fd, select.POLLIN)
    ms = None if timeout is None else max(0, int(timeout * 1000 + 0.999))
    return [fd for fd, _ in poller.poll(ms)]


def open_regular(name, shown: str, dir_fd: int | None = None) -> int:
    """An fd of the regular file `name` (relative to dir_fd if given) that a sandbox, a layer or a rootfs
    holds: the one way the host opens such a file to read it. O_NOFOLLOW: a link there is not followed to
    a host file; O_NONBLOCK: a FIFO there opens at once instead of waiting for a writer that never comes
    (the trainer would block in fifo_open for good); fstat: anything but a regular file (a FIFO, a device,
    a directory) is an OSError naming `shown`, the path the caller's error should show."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise OSError(f"{shown} is a symlink") from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(f"{shown} is not a regular file")
    return fd


MAX_COPY_ENTRIES = 100_000            # copy_out's caps besides its caller's byte cap
MAX_COPY_DEPTH = 64
ENTRY_BYTES = 4096                    # what copy_out charges each entry besides its data (see copy_out)


class CopyLimitError(EchoError, OSError):
    """copy_out stopped at one of its caps (bytes, entries, depth); one line saying which."""


class _Copied:
    """copy_out's walk through directory fds: bytes and entries so far, against their caps."""

    def __init__(self, max_bytes: int, exclude: tuple[str, ...], ids: IdMap, deadline: float | None = None):
        self.max_bytes, self.exclude, self.bytes, self.entries = max_bytes, exclude, 0, 0
        self.deadline = deadline
        self.ranges = [(outer, outer + count) for _, outer, count in ids.lines]

    def ours(self, st: os.stat_result) -> bool:
        return all(any(a <= i < b for a, b in self.ranges) for i in (st.st_uid, st.st_gid))

    def left_out(self, rel: str) -> bool:
        parts = rel.split("/")
        return any(fnmatch.fnmatchcase("/".join(parts[i:]), pattern)
                   for pattern in self.exclude for i in range(len(parts)))

    def entry(self, dfd: int, name: str, dest: Path, rel: str, top: bool = False, depth: int = 0) -> bool:
        """Copy entry `name` of directory dfd to dest (rel: its path below the copy's top); False if it
        is left out."""
        if not top and self.left_out(rel):
            return False
        self.entries += 1
        self.bytes += ENTRY_BYTES
        if self.entries > MAX_COPY_ENTRIES or depth > MAX_COPY_DEPTH:
            raise CopyLimitError(f"over {MAX_COPY_ENTRIES} entries" if depth <= MAX_COPY_DEPTH else
                                 f"over {MAX_COPY_DEPTH} directory levels deep at {rel!r}")
        if self.bytes > self.max_bytes:
            raise CopyLimitError(f"over {self.max_bytes} bytes ({ENTRY_BYTES} an entry besides its data)")
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise CopyLimitError("past the verifier's timeout")
        try:
            st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
        except FileNotFoundError:
            return False
        if not self.ours(st):
            return False
        if stat.S_ISLNK(st.st_mode):           # the link itself: its target is never looked at
            os.symlink(os.readlink(name, dir_fd=dfd), dest)
        elif stat.S_ISDIR(st.st_mode):
            sub = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dfd)
            try:
                dest.mkdir()
                self.tree(sub, dest, "" if top else rel, depth + 1)
            finally:
                os.close(sub)
            os.chmod(dest, stat.S_IMODE(st.st_mode) & 0o1777)      # no setuid/setgid bits come along
        elif stat.S_ISREG(st.st_mode):
            try:
                fd = open_regular(name, rel, dir_fd=dfd)
            except OSError:
                return False
            with os.fdopen(fd, "rb") as src:
                now = os.fstat(fd)             # the file stat() saw, not one swapped in since
                if (now.st_ino, now.st_dev) != (st.st_ino, st.st_dev):
                    return False
                with open(dest, "xb") as out:
                    while chunk := src.read(1 << 20):
                        self.bytes += len(chunk)
                        if self.bytes > self.max_bytes:
                            raise CopyLimitError(f"over {self.max_bytes} bytes")
                        out.write(chunk)
            os.chmod(dest, stat.S_IMODE(st.st_mode) & 0o1777)
        else:                                  # a device, a FIFO, a socket
            return False
        return True

    def tree(self, dfd: int, dest: Path, rel: str, depth: int = 0, top: bool = False) -> None:
        with os.scandir(dfd) as it:
            for e in it:
                if top and e.name in ("proc", "sys", "dev"):
                    continue
                self.entry(dfd, e.name, dest / e.name, f"{rel}/{e.name}" if rel else e.name, depth=depth)


# ---- user ids and cgroups (caller side) ------------------------------------------------------------------

@dataclass
class IdMap:
    """The sandbox's 65,536 user and group ids: lines of /proc/PID/uid_map (inner outer count)."""
    lines: list[tuple[int, int, int]]
    tool: bool                         # written by newuidmap/newgidmap (not root)

    @property
    def host_root(self) -> int:
        return self.lines[0][1]

    def write(self, pid: int) -> None:
        if not self.tool:              # root may write any map for its child directly
            text = "".join(f"{a} {b} {c}\n" for a, b, c in self.lines)
            Path(f"/proc/{pid}/setgroups").write_text("allow")
            Path(f"/proc/{pid}/uid_map").write_text(text)
            Path(f"/proc/{pid}/gid_map").write_text(text)
            return
        for tool in ("newuidmap", "newgidmap"):
            args = [str(x) for line in self.lines for x in line]
            r = subprocess.run([tool, str(pid), *args], capture_output=True, text=True)
            if r.returncode:
                raise SandboxError(f"{tool} failed: {one_line(r.stderr)}")


def id_map() -> IdMap:
    """As root: namespace ids 0.. are host ids UID_BASE.. As a user: namespace root is the user, and
    ids 1.. come from the user's /etc/subuid and /etc/subgid ranges through newuidmap; without those,
    only root is mapped (said once: packages that chown will then fail to install)."""
    uid = os.getuid()
    if uid == 0:
        return IdMap([(0, UID_BASE, ID_COUNT)], tool=False)
    name = __import__("pwd").getpwuid(uid).pw_name

    def sub(file: str) -> tuple[int, int] | None:
        try:
            for line in Path(file).read_text().splitlines():
                who, start, count = (line.split(":") + ["", ""])[:3]
                if who in (name, str(uid)) and count.isdigit() and int(count) >= ID_COUNT - 1:
                    return int(start), ID_COUNT - 1
        except OSError:
            pass
        return None
    if sub("/etc/subuid") and sub("/etc/subgid") and shutil.which("newuidmap") and shutil.which("newgidmap"):
        start, count = sub("/etc/subuid")
        if sub("/etc/subgid") == (start, count):
            return IdMap([(0, uid, 1), (1, start, count)], tool=True)
    say_once(f"no /etc/subuid range of {ID_COUNT - 1} ids for {name} (or no newuidmap): only root is mapped "
             "inside, so installing packages that chown files will fail")
    return IdMap([(0, uid, 1)], tool=True)


def memory_room_mb() -> int:
    """3/4 of this machine's RAM: the most one sandbox's memory limit may be (clamp_memory_mb), and the cap
    on what every sandbox of the machine uses together (ALL_CGROUP). Above the RAM a limit is no limit: the
    host's own OOM killer, not a cgroup's, would pick the victim, maybe the trainer, for which a quarter is
    kept."""
    return max(MIN_MEMORY_MB, os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") * 3 // 4 >> 20)


def clamp_memory_mb(memory_mb: int) -> int:
    """A task's memory_mb as a sandbox enforces it: at least MIN_MEMORY_MB, at most memory_room_mb()."""
    return min(max(memory_mb, MIN_MEMORY_MB), memory_room_mb())


# Every sandbox's limit is clamped to 3/4 of the RAM on its own, so two episodes may use 150 % of it
# together, and then the host's OOM killer, not a cgroup's, picks the victim, maybe the trainer (rt11b p13).
# So every top-level sandbox cgroup (a build's, an episode's, a compose episode's group) is made in ONE
# parent, ALL_CGROUP in the trainer's own cgroup, capped at ALL_MB (None: memory_room_mb()): when the
# sandboxes' usage together reaches it, the kernel reclaims and OOM-kills inside it, a sandbox's process,
# never the trainer (outside it). A cap on usage, not an admission on limits: a batch starts every row as
# before. Its name is fixed, so the trainers of one cgroup (several eval.py from one shell) share one cap;
# made where missing, never removed (Cgroup.reap spares it): an empty cgroup costs nothing.
ALL_CGROUP = "echo-all"
ALL_MB: int | None = None


def _swap_on() -> bool:
    """The host has a swap device or file in use (/proc/swaps lists one under its header)."""
    try:
        return len(Path("/proc/swaps").read_text().splitlines()) > 1
    except OSError:
        return True                            # unknown: assume it, so that a missing control fails closed


def _memory_cap(d: Path, v2: bool, cap: int | str) -> None:
    """Cap cgroup `d`'s memory at `cap` bytes, swap included (rt14b p08: RAM alone let an episode swap
    without bound where the host has swap): v2's memory.max with memory.swap.max 0; v1's limit_in_bytes and
    memsw.limit_in_bytes equal (the kernel keeps memsw >= the RAM limit: memsw is lowered after it and
    raised before it). Where the host swaps and the cgroup has no swap control (swap accounting off), an
    OSError: the limit cannot be applied, and the episode does not start (Cgroup.create)."""
    cap = str(cap)
    swap = d / ("memory.swap.max" if v2 else "memory.memsw.limit_in_bytes")
    if not swap.exists() and _swap_on():
        raise OSError(errno.ENOTSUP, f"the host swaps and {swap.name} is missing (swap accounting off), so "
                                     "the memory limit would not bound swap")
    if v2:
        (d / "memory.max").write_text(cap)
        if swap.exists():
            swap.write_text("0")
        return
    try:
        (d / "memory.limit_in_bytes").write_text(cap)
        if swap.exists():
            swap.write_text(cap)
    except OSError as e:                       # raised above the old memsw: memsw first
        if e.errno != errno.EINVAL or not swap.exists():
            raise
        swap.write_text(cap)
        (d / "memory.limit_in_bytes").write_text(cap)
    # v1 charges TCP buffers to no cgroup until this limit is written (v2 charges them to memory.current):
    # an episode at 128 MiB held 1.55 GiB of them (rt18b p23). Written, they count against it, at most the
    # cap again beside the RAM.
    tcp = d / "memory.kmem.tcp.limit_in_bytes"
    if tcp.exists():
        tcp.write_text(cap)


def all_pids() -> int:
    """ALL_CGROUP's pids.max: the kernel's pid_max less an eighth of it (at least 4,096) kept for the host.
    Episodes at their nproc each, 128 of them took every pid of a 32,768 pid_max, the trainer's and
    the host's forks too (rt18b p12)."""
    with open("/proc/sys/kernel/pid_max") as f:
        top = int(f.read())
    return max(MIN_NPROC, top - max(4096, top // 8))


class Cgroup:
    """One cgroup per sandbox for memory (page cache and tmpfs included), pids and CPU: v2 where we can
    create a child of our own cgroup, else the v1 memory, pids and cpu hierarchies; in ALL_CGROUP, or in a
    compose episode's group. None: not allowed here."""

    def __init__(self, dirs: dict[str, Path], memory_mb: int | None = None, nproc: int | None = None):
        self.dirs = dirs               # controller -> directory ("unified" for v2)
        self.memory_mb = memory_mb     # the memory limit it enforces (Limits.memory_mb as clamped)
        self.nproc = nproc             # its pids.max (Limits.nproc as clamped)

    def oom_kills(self) -> int:
        """How many processes its OOM killer took (v2 memory.events, v1 memory.oom_control: oom_kill)."""
        for d in self.dirs.values():
            for f in ("memory.events", "memory.oom_control"):
                try:
                    for line in (d / f).read_text().splitlines():
                        if line.startswith("oom_kill "):
                            return int(line.split()[1])
                except (OSError, ValueError):
                    pass
        return 0

    def at_limit(self) -> bool:
        """Whether its own memory limit, or its AGENT child's, was ever reached (v2 memory.events.local:
        max; v1 memory.failcnt, or its high-water mark at the limit: rt20a p05's socket buffers filled
        the limit with failcnt still 0, and the kill was said as ALL_CGROUP's), as against only a cap
        above it (ALL_CGROUP's)."""
        for d in self.dirs.values():
            for g in (d, d / self.AGENT):
                try:
                    if (g / "memory.failcnt").exists():
                        hits = int((g / "memory.failcnt").read_text()) or int(
                            (g / "memory.max_usage_in_bytes").read_text()) >= int(
                            (g / "memory.limit_in_bytes").read_text())
                    else:
                        events = (g / "memory.events.local").read_text().splitlines()
                        hits = int(dict(line.split() for line in events).get("max", 0))
                except (OSError, ValueError):
                    continue
                if hits:
                    return True
        return False

    @staticmethod
    def _parents() -> tuple[Path | None, dict[str, Path]]:
        """Our own cgroup: the v2 directory on a v2-only machine, else the v1 directory per controller."""
        own = {parts[1] or "unified": parts[2].strip() for parts in
               (line.split(":", 2) for line in Path("/proc/self/cgroup").read_text().splitlines())}
        base = Path("/sys/fs/cgroup")
        if (base / "cgroup.controllers").exists():
            return base / own.get("unified", "/").lstrip("/"), {}
        return None, {c: base / c / own[c].lstrip("/") for c in ("memory", "pids", "cpu")
                      if c in own and (base / c).is_dir()}

    @staticmethod
    def _all() -> tuple[Path | None, dict[str, Path]]:
        """ALL_CGROUP, made in our own cgroup (_parents) where missing, in _parents's form: where every
        sandbox of its own is made. Its memory limit is written at every call (the same value from every
        process of the machine: none starts a sandbox in it uncapped while another is making it); v1 needs
        use_hierarchy for the cap to bound its children. OSError where it cannot be made so."""
        v2, v1 = Cgroup._parents()
        cap = str((ALL_MB or memory_room_mb()) << 20)
        if v2:
            d = v2 / ALL_CGROUP
            d.mkdir(exist_ok=True)
            _memory_cap(d, True, cap)
            (d / "pids.max").write_text(str(all_pids()))
            (d / "cgroup.subtree_control").write_text("+memory +pids +cpu")      # for the sandboxes in it
            return d, {}
        dirs = {c: p / ALL_CGROUP for c, p in v1.items()}
        for d in dirs.values():
            d.mkdir(exist_ok=True)
        if "pids" in dirs:
            (dirs["pids"] / "pids.max").write_text(str(all_pids()))
        if "memory" in dirs:
            m = dirs["memory"]
            hierarchy = m / "memory.use_hierarchy"     # 1 by default, and always since Linux 5.16
            if hierarchy.exists() and hierarchy.read_text().strip() != "1":
                hierarchy.write_text("1")
            _memory_cap(m, False, cap)
        return None, dirs

    @staticmethod
    def reap() -> None:
        """Remove the cgroups of sandboxes whose state directory is gone (its owner died, or its teardown
        found a process still exiting). rmdir fails harmlessly on a cgroup still in use; one made in the
        last minute is left alone, as it may belong to a process with another STATE_DIR (another TMPDIR)
        that has not moved its pid 1 in yet."""
        v2, v1 = Cgroup._parents()
        def reap_in(d: Path) -> None:          # an episode's group (Cgroup.create(group=N)) holds its boxes'
            for g in d.glob("echo-s*") if d.is_dir() else []:
                try:
                    reap_in(g)
                    if not (STATE_DIR / g.name[5:]).exists() and time.time() - g.stat().st_mtime > 60:
                        for child in (g / Cgroup.AGENT, g / Cgroup.INIT):
                            if child.is_dir():
                                child.rmdir()
                        g.rmdir()
                except OSError:
                    pass
        for d in ({"unified": v2} if v2 else v1).values():
            reap_in(d / ALL_CGROUP)            # ALL_CGROUP itself is never a reaped echo-s*
            reap_in(d)                         # a sandbox made by echo before ALL_CGROUP

    @staticmethod
    def create(name: str, limits: Limits, parent: "Cgroup | None" = None, group: int = 0) -> "Cgroup | None":
        """The cgroup with every limit applied, else SandboxError: limits fail closed. Values are first
        clamped to what the kernel enforces (a CPU quota of at least 1 ms per 100 ms period, so cpus >= 0.01,
        at most one per core; memory and pids at least MIN_MEMORY_MB and MIN_NPROC, memory at most 3/4 of the
        host's RAM: clamp_memory_mb), said once. A sandbox of its own is made in ALL_CGROUP (_all), whose
        cap bounds what they all use together; where it cannot be made, neither can this one. Only with
        ALLOW_NO_CGROUP (--allow-no-cgroup) does an episode start without one (then per-process rlimits for
        memory and processes, and no CPU limit).
        parent: made inside it (a compose episode's group), whose limits then bound it and its siblings
        together. group (the number of sandboxes it will hold): a cgroup for those sandboxes' cgroups, no
        process of its own, with room for each one's own few processes (its init and shell) besides nproc."""
        cpus = min(max(limits.cpus, 0.01), float(os.cpu_count() or 1))
        memory_mb = clamp_memory_mb(limits.memory_mb)
        nproc = max(limits.nproc, MIN_NPROC)
        if (cpus, memory_mb, nproc) != (limits.cpus, limits.memory_mb, limits.nproc) and not parent:
            say_once(f"limits clamped to what this machine enforces: cpus {limits.cpus:g} -> {cpus:g}, "
                     f"memory_mb {limits.memory_mb} -> {memory_mb}, nproc {limits.nproc} -> {nproc}")
        quota = int(cpus * 100_000)
        dirs: dict[str, Path] = {}
        try:
            if parent is None:
                v2, parents = Cgroup._all()
            else:                              # a compose episode's group
                v2 = parent.dirs.get("unified")
                parents = {c: d for c, d in parent.dirs.items() if c != "unified"}
            wanted = {"memory": {},                                # _memory_cap: RAM and swap together
                      "pids": {"pids.max": nproc + BOX_PIDS * group},
                      "cpu": {"cpu.max": f"{quota} 100000"} if v2 else
                             {"cpu.cfs_period_us": 100_000, "cpu.cfs_quota_us": quota}}
            if v2:
                d = v2 / f"echo-{name}"
                d.mkdir()
                dirs["unified"] = d
                for files in wanted.values():
                    for f, v in files.items():
                        (d / f).write_text(str(v))
                _memory_cap(d, True, memory_mb << 20)
                if group:                      # v2: its children get the controllers (it holds no process)
                    (d / "cgroup.subtree_control").write_text("+memory +pids +cpu")
            else:
                for ctl, files in wanted.items():
                    if ctl not in parents:
                        raise OSError(f"no {ctl} controller")
                    d = parents[ctl] / f"echo-{name}"
                    d.mkdir()
                    dirs[ctl] = d
                    for f, v in files.items():
                        (d / f).write_text(str(v))
                    if ctl == "memory":
                        _memory_cap(d, False, memory_mb << 20)
            return Cgroup(dirs, memory_mb, nproc)
        except OSError as e:
            Cgroup(dirs).remove()
            if not ALLOW_NO_CGROUP:
                raise SandboxError(f"cannot apply the episode's limits: no cgroup here ({e.strerror or e}); "
                                   "pass --allow-no-cgroup to run with per-process limits only") from None
            say_once(f"cannot create a cgroup here ({e.strerror or e}); --allow-no-cgroup: memory is "
                     "limited per process (RLIMIT_AS) and CPU is not limited")
            return None

    def add(self, pid: int) -> None:
        for d in self.dirs.values():
            (d / "cgroup.procs").write_text(str(pid))

    def add_helper(self, pid: int) -> None:
        """A host-side process that works for the sandbox (its pasta) charged to it: beside pid 1, in INIT
        once split() made it (cgroup v2 keeps no process where the children have controllers)."""
        for d in self.dirs.values():
            ((d / self.INIT if (d / self.INIT).is_dir() else d) / "cgroup.procs").write_text(str(pid))

    # With the agent's processes alive into verification (Sandbox.seal), the verifier's resources are not
    # theirs to spend: at the seal every process of the cgroup but pid 1 and its host-side parent (which
    # starts the verifier) moves to a child, AGENT, capped at SURVIVOR_SHARE of the episode's processes and
    # memory and the least CPU weight, so the verifier keeps the rest whatever they do. Before, one budget
    # for both: a survivor forked to pids.max once test.sh ran, the check's fork failed, and a check "no
    # ERROR left" that reads os.system(grep) == 0 as "grep found nothing" passed (rt6 p12). cgroup v2 keeps
    # no process in a cgroup whose children have controllers: pid 1 and its parent move to INIT there.
    AGENT, INIT, SURVIVOR_SHARE = "agent", "init", 2          # survivors get 1/SURVIVOR_SHARE

    def split(self, keep: set[int]) -> str:
        """Move every process but `keep` (host pids) to the capped child AGENT: "" once done, else why not
        (a fork faster than the moves, more processes alive than their share, no such cgroup here), and
        the caller kills them instead. The processes pid 1 starts later (the verifier) stay with it."""
        share_pids = max(1, (self.nproc or MIN_NPROC) // self.SURVIVOR_SHARE)
        share_mem = ((self.memory_mb or MIN_MEMORY_MB) << 20) // self.SURVIVOR_SHARE
        try:
            if "unified" in self.dirs:
                d = self.dirs["unified"]
                (d / self.INIT).mkdir(exist_ok=True)
                (d / self.AGENT).mkdir(exist_ok=True)
                for pid in keep:
                    _move(pid, d / self.INIT)
                for _ in range(100):   # a straggler forked meanwhile keeps the controllers from the children
                    _move_all(d, d / self.AGENT, keep)
                    try:
                        (d / "cgroup.subtree_control").write_text("+memory +pids +cpu")
                        break
                    except OSError as e:
                        if e.errno != errno.EBUSY:
                            raise
                else:
                    raise OSError(errno.EAGAIN, "they forked faster than they could be moved")
                for f, v in {"pids.max": share_pids, "cpu.weight": 1}.items():
                    (d / self.AGENT / f).write_text(str(v))
                _memory_cap(d / self.AGENT, True, share_mem)
            else:
                files = {"pids": {"pids.max": share_pids}, "memory": {},
                         "cpu": {"cpu.shares": 2}}                   # capped before anything moves in
                for ctl, d in self.dirs.items():
                    (d / self.AGENT).mkdir(exist_ok=True)
                    for f, v in files[ctl].items():
                        (d / self.AGENT / f).write_text(str(v))
                    if ctl == "memory":
                        _memory_cap(d / self.AGENT, False, share_mem)
                for d in self.dirs.values():
                    _move_all(d, d / self.AGENT, keep)
            # what moved in is counted (a move is never refused for it): over their share, the verifier's
            # part is theirs already (forked before the seal)
            pids = self.dirs.get("unified") or self.dirs["pids"]
            held = int((pids / self.AGENT / "pids.current").read_text())
            if held > share_pids:
                return (f"the agent's processes are {held}, over their share of the episode's processes "
                        f"({share_pids} of {self.nproc}) beside the verifier")
        except OSError as e:
            return f"the agent's processes cannot be given a cgroup of their own ({e.strerror or e})"
        return ""

    def remove(self) -> None:
        for d in self.dirs.values():
            for g in (d / self.AGENT, d / self.INIT, d):      # children first: rmdir refuses a parent
                for _ in range(200):   # the last processes may still be exiting
                    try:
                        g.rmdir()
                        break
                    except FileNotFoundError:
                        break
                    except OSError:
                        time.sleep(0.01)


def _move(pid: int | str, to: Path) -> None:
    try:
        (to / "cgroup.procs").write_text(str(pid))
    except ProcessLookupError:         # gone meanwhile
        pass


def _move_all(d: Path, to: Path, keep: set[int]) -> None:
    """Every process of cgroup d but `keep` moved to `to`, until none is left: what one of them forked
    before its move is in d still, and moves in the next round; OSError if they outrun 100 rounds."""
    for _ in range(100):
        left = [p for p in (d / "cgroup.procs").read_text().split() if int(p) not in keep]
        if not left:
            return
        for p in left:
            _move(p, to)
    raise OSError(errno.EAGAIN, "they forked faster than they could be moved")


def tmpfs_mb(limits: Limits, cgroup: Cgroup | None) -> tuple[int, int]:
    """(writable layer, /dev/shm) sizes in MB. Files in a tmpfs are memory that no process holds and no
    OOM kill frees: with a memory cgroup, every tmpfs the agent writes (these two, and /dev's 1 MB) is
    charged to it, so together they stay within 3/4 of its limit: filling them all is ENOSPC for the
    agent's write, and pid 1, the shell and `rm` keep the last quarter. /dev/shm is Docker's 64 MB up to
    1/8 of that budget. Without a cgroup (per-process limits) files are not memory: the task's sizes."""
    if not cgroup:
        return limits.storage_mb, SHM_MB
    budget = max(3, (cgroup.memory_mb or limits.memory_mb) * 3 // 4 - DEV_MB)
    shm = max(1, min(SHM_MB, budget // 8))
    return max(1, min(limits.storage_mb, budget - shm)), shm


SHM_MB, DEV_MB = 64, 1                 # Docker's /dev/shm; the sandbox's /dev (sandbox_init._mount_system)
BOX_PIDS = 4                           # a sandbox's own processes: sandbox_init's child, pid 1, zygote, shell


def _shelf(d: Path, layers: list[Path], upper: Path | None) -> tuple[list[str], str | None, list]:
    """The image cache is root's alone (images.prepare_cache, mode 0700): no process of a sandbox (host uid
    H) reaches a layer by its path, where the files are H's as the image's root owns them (rt10b p31 wrote
    the shared Debian base through a bind that followed a link). The sandbox's child, still the host's
    root, binds what pid 1 needs into a mount namespace of its own (sandbox_init._shelve): each directory
    of layers read-only (locked so in pid 1's namespace, which H's user namespace owns), a build step's
    upper writable, at mount points in the sandbox's directory d. Returns the layers and the upper as
    pid 1 names them there, and the binds: (host directory, mount point, read-only)."""
    binds: dict[Path, Path] = {}
    lower = []
    for p in map(Path, layers):                # CACHE/layers/<key>/layer, CACHE/images/<name>/rootfs
        top = p.parent.parent
        at = binds.setdefault(top, d / "shelf" / str(len(binds)))
        lower.append(str(at / p.relative_to(top)))
    out = [(str(src), str(at), True) for src, at in binds.items()]
    if upper:                                  # its directory: the upper and overlayfs's work beside it
        out.append((str(Path(upper).parent), str(d / "shelf" / "upper"), False))
        upper = d / "shelf" / "upper" / Path(upper).name
    for _, at, _ in out:
        os.makedirs(at)
    return lower, str(upper) if upper else None, out


def _spawn(config: dict, ids: IdMap, cgroup: Cgroup | None, stdin, stdout,
           cwd: str = "/") -> "_Child":
    """Have the starter clone sandbox_init's child (_starter_clone), which as root first drops to its owner
    uid, give its new user namespace the id map and put it in the cgroup before it forks."""
    sync_r, sync_w = os.pipe()                 # child -> caller: "u" (map me); caller -> child: "m" (mapped)
    go_r, go_w = os.pipe()
    fds = {**config.get("fds", {}), "sync": sync_w, "go": go_r}
    config = {k: v for k, v in config.items() if k != "fds"}
    if os.getuid() == 0:                       # the child drops to owner_uid(its pid) before all else
        config["owner_base"] = OWNER_BASE
    null = os.open(os.devnull, os.O_RDONLY) if stdin == subprocess.DEVNULL else None
    stdin = stdin.fileno() if hasattr(stdin, "fileno") else stdin     # run_mapped's pipe: a file
    try:
        # marshal, not json: the starter does not import json (and re, enum, ...) for it
        message = marshal.dumps((config, list(fds), cwd))
        proc = _Child(_starter_clone(message, [stdin if null is None else null, stdout, *fds.values()]))
    finally:
        os.close(sync_w)
        os.close(go_r)
        if null is not None:
            os.close(null)
    # The cgroup joined on a thread of its own, beside the id map and the child's unshare (cgroup v1: the
    # first cgroup.procs write waits for an RCU grace period, milliseconds, which the child's interpreter
    # start hid before the starter): "c" once joined, and the child forks nothing before it
    failed: list[BaseException] = []
    def join() -> None:
        try:
            cgroup.add(proc.pid)
        except BaseException as e:
            failed.append(e)
    joining = threading.Thread(target=join) if cgroup else None
    try:
        if joining:
            joining.start()
        ready = readable([sync_r], 30)
        if not ready or os.read(sync_r, 1) != b"u":
            proc.kill()
            proc.wait()
            raise SandboxError(f"cannot create a user namespace; {USERNS_HELP}")
        ids.write(proc.pid)
        os.write(go_w, b"m")
        if joining:
            joining.join()
            if failed:
                raise failed[0]
        if "exec" not in config:
            os.write(go_w, b"c")
    except BaseException:
        if joining and joining.is_alive():
            joining.join()
        proc.kill()
        proc.wait()
        raise
    finally:
        os.close(sync_r)
        os.close(go_w)
    return proc


class _Child:
    """sandbox_init's child, as the starter cloned it: our own child (CLONE_PARENT), waited for and killed
    by its pid as the Popen of an interpreter was before."""
    def __init__(self, pid: int):
        self.pid, self.returncode = pid, None

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            if timeout is not None:
                fd = os.pidfd_open(self.pid)   # readable once it has exited
                try:
                    if not readable([fd], timeout):
                        raise subprocess.TimeoutExpired("sandbox_init", timeout)
                finally:
                    os.close(fd)
            self.returncode = os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])
        return self.returncode

    def kill(self) -> None:
        if self.returncode is None:            # not reaped: the pid is still its own
            _signal(self.pid, signal.SIGKILL)


# The starter: one `python -I -S` with sandbox_init imported, per process of the caller's (a fork of the
# caller starts its own), serving every sandbox start of it (sandbox_init.serve). Started as each sandbox's
# interpreter was before: a session of its own (setsid), so no controlling terminal: every process of the
# sandbox (the agent, build steps, the verifier, run_mapped's tar) would otherwise share the trainer's, where
# TIOCSTI types commands into the operator's shell, ^C stops the trainer and keystrokes are read (rt10b p01).
_STARTER: list = []                            # [the caller's pid, Popen, socket] while one runs
_STARTER_LOCK = threading.Lock()


def _forget_starter() -> None:
    """In a fork of the caller: the parent's starter is not ours to use (nor its lock, which another thread
    may have held at the fork)."""
    global _STARTER_LOCK
    _STARTER_LOCK = threading.Lock()
    if _STARTER:
        _STARTER[2].close()
        _STARTER.clear()


def _stop_starter() -> None:
    """At exit: EOF on its socket ends it; reaped here rather than left to Popen's warning."""
    with _STARTER_LOCK:
        if _STARTER and _STARTER[0] == os.getpid():
            _STARTER[2].close()
            try:
                _STARTER[1].wait(timeout=5)
            except subprocess.TimeoutExpired:
                _STARTER[1].kill()
            _STARTER.clear()


os.register_at_fork(after_in_child=_forget_starter)
atexit.register(_stop_starter)


def _starter_clone(message: bytes, fds: list[int]) -> int:
    """The pid of a child the starter cloned for message (sandbox_init._started), with fds attached. A
    starter that died is started again, once."""
    with _STARTER_LOCK:
        for _ in range(2):
            if not _STARTER or _STARTER[0] != os.getpid() or _STARTER[1].poll() is not None:
                _start_starter()
            try:
                socket.send_fds(_STARTER[2], [message], fds)
                reply = _STARTER[2].recv(16)
            except OSError as e:
                if e.errno == errno.EMSGSIZE:  # the config's fault, not the starter's
                    raise SandboxError(f"a sandbox's config of {len(message)} bytes is over what the "
                                       "starter's socket carries") from None
                reply = b""
            if len(reply) == 4:
                pid = struct.unpack("i", reply)[0]
                if pid < 0:
                    raise SandboxError(f"cannot start a sandbox: clone: {os.strerror(-pid)}")
                return pid
            _STARTER[1].kill()
            _STARTER[1].wait()
            _STARTER.clear()
    raise SandboxError("the sandbox starter (python3 -I -S importing sandbox_init) died twice in a row")


def _start_starter() -> None:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
    # Imported, not run as a script: a script is compiled at every start, a module is read from the
    # bytecode the trainer's own import left in __pycache__. Appended to sys.path: the standard library
    # comes first.
    boot = f"import sys; sys.path.append({str(Path(__file__).resolve().parent)!r}); " \
           f"import sandbox_init; sandbox_init.serve({theirs.fileno()})"
    try:
        proc = subprocess.Popen([python, "-I", "-S", "-c", boot], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                pass_fds=(theirs.fileno(),), start_new_session=True, env={}, cwd="/")
    finally:
        theirs.close()
    _STARTER[:] = [os.getpid(), proc, ours]


def run_mapped(argv: list[str], stdin=None, timeout: float | None = None,
               cwd: str = "/") -> subprocess.CompletedProcess:
    """Run argv (a host program) as root of a fresh user namespace with the sandbox's id map and no other
    isolation: the files it creates get exactly the owners a sandbox sees. Image imports use it (tar -x),
    so a base image needs neither the host's root nor a second chown pass. `cwd` is entered by the host's
    root before the drop to H: a directory of the image cache, which H cannot reach by its path."""
    out_r, out_w = os.pipe()
    try:
        proc = _spawn({"exec": argv}, id_map(), None, stdout=out_w,
                      stdin=stdin if stdin is not None else subprocess.DEVNULL, cwd=cwd)
    finally:
        os.close(out_w)
    with os.fdopen(out_r, "rb") as f:
        output = f.read().decode("utf-8", "replace")
    return subprocess.CompletedProcess(argv, proc.wait(timeout), output, "")


# ---- caller-side helpers ---------------------------------------------------------------------------------

_compiled: dict[tuple[bool, bool], bytes] = {}


def _ids(user) -> tuple | None:
    """A dockerfile.User as pid 1 takes it: (uid, gid, groups, home, name); None (root) stays None. Ids
    outside the sandbox's map would fail in the exec's setresuid: refused here, in one line."""
    if user is None:
        return None
    if not 0 <= user.uid < ID_COUNT or not 0 <= user.gid < ID_COUNT or any(
            not 0 <= g < ID_COUNT for g in user.groups):
        raise SandboxError(f"user {user.name or user.uid} ({user.uid}:{user.gid}): ids above {ID_COUNT - 1} "
                           "are not mapped in the sandbox")
    return (user.uid, user.gid, tuple(user.groups), user.home, user.name)


def _filter(agent: bool = False, build: bool = False) -> bytes:
    """seccomp.py's filter for this machine, compiled once per process: the agent's processes' (agent), else
    the verifier's; an image build step's (build: no fallocate, seccomp.BUILD_RULES)."""
    if (agent, build) not in _compiled:
        _compiled[agent, build] = seccomp.compiled(agent=agent, build=build)
    return _compiled[agent, build]


def _ansi_c(s: str) -> str:
    """s as one bash $'...' word: printable ASCII kept, every other byte as \\xHH (NUL dropped)."""
    out = []
    for b in s.encode("utf-8", errors="replace"):
        if 32 <= b < 127 and b not in b"\\'":
            out.append(chr(b))
        elif b:
            out.append(f"\\x{b:02x}")
    return "$'" + "".join(out) + "'"


def _nspid_level(pid: int) -> int:
    """Index of the sandbox's own PID namespace in the NSpid lists of its processes."""
    status = Path(f"/proc/{pid}/status").read_text()
    return len(re.search(r"^NSpid:(.*)$", status, re.M)[1].split()) - 1


def _descendants(root: int | None, level: int) -> dict[int, tuple[int, ...]]:
    """{host pid: its pids from `level` down (NSpid)} of root and all its descendants (one scan of the
    host's /proc)."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                ppid = int(_proc_stat(name)[1])
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
        found[p] = tuple(map(int, re.search(r"^NSpid:(.*)$", status, re.M)[1].split()[level:]))
        todo += children.get(p, [])
    return found


def _proc_stat(pid: int | str) -> list[str]:
    """/proc/PID/stat's fields after the command's name (which may hold spaces and parentheses): [0] the
    state, [1] the parent's pid, ...; OSError once it is gone, IndexError for a torn read."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _parent(pid: int) -> int:
    try:
        return int(_proc_stat(pid)[1])
    except (OSError, IndexError, ValueError):
        return 0


def _alive(pid: int) -> bool:
    try:
        return _proc_stat(pid)[0] not in "ZX"
    except OSError:
        return False


def _protect_from_oom(pid: int) -> None:
    """The OOM killer never picks the sandbox's pid 1 (its death is the machine's failure, not the agent's):
    oom_score_adj -1000, which needs CAP_SYS_RESOURCE on the host (root outside a container that drops
    it); without it pid 1 stays at 0 (CONTAINMENT.md). An agent's process may lower its own score to pid 1's, as
    the kernel allows down to the minimum its parent was given: that makes the OOM killer pass it by.
    sandbox_init._spawn sets its children back to 0."""
    try:
        Path(f"/proc/{pid}/oom_score_adj").write_text("-1000")
    except OSError:
        pass


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _network_down(net: list[int], pidfile: Path, wait: bool = True) -> None:
    """Stop the sandbox's pasta (its pid is checked against its command line, which names `pidfile`) and,
    with `wait`, return once it is gone, its interface with it."""
    for pid in net:
        try:
            if str(pidfile).encode() not in Path(f"/proc/{pid}/cmdline").read_bytes():
                continue                       # already gone, and the pid reused
        except OSError:
            continue
        _signal(pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while wait and _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.001)
    net.clear()
    pidfile.unlink(missing_ok=True)


def _read_some(fd: int, most: int = 1 << 16) -> bytes | None:
    """What a non-blocking pipe holds now, up to `most` bytes (64 KiB): b"" where nothing yet, None at its
    end (no writer left)."""
    try:
        return os.read(fd, max(1, min(most, 1 << 16))) or None
    except BlockingIOError:
        return b""


# What the trainer reads per second from a pipe that a process of the sandbox can write (rt13b p02, p21):
# beyond it, the rest waits in the pipe and its writers block; the trainer's CPU is not the sandbox's to
# spend. Output: far above what a terminal shows (300 MB of `cat` in 2.0 s, 0.16 s unbounded), under 10% of
# a CPU to copy (about 2 GB/s measured). The shell's status pipe carries two short lines per command.
OUTPUT_BYTES_PER_S = 128 << 20
STATUS_BYTES_PER_S = 64 << 10


class _Budget:
    """Bytes per second for one pipe: room() in the current second, wait() until the next one."""
    def __init__(self, per_s: int):
        self.per_s, self.start, self.used = per_s, 0.0, 0

    def _roll(self, now: float) -> None:
        if now - self.start >= 1.0:
            self.start, self.used = now, 0

    def ready(self, now: float) -> bool:
        self._roll(now)
        return self.used < self.per_s

    def room(self) -> int:
        return self.per_s - self.used

    def spend(self, n: int) -> None:
        self.used += n

    def wait(self, now: float) -> float:
        return max(0.0, self.start + 1.0 - now)


def _shell_event(raw: bytes, nonce: str) -> tuple[str, ...] | None:
    """A line of the shell's status pipe as ("b", nonce, last pid) or ("n", nonce, exit code) of the
    command run() waits for (nonce), else None: any other line is some process's writing to fd 99, which
    the agent's code can do with the nonce in hand (a `printf` function); it can end or shape only the
    agent's own command, never raise or pass for one of pid 1's events."""
    event = tuple(raw.decode("ascii", "replace").split())
    if not nonce or len(event) != 3 or event[0] not in ("b", "n") or event[1] != nonce \
            or not _NUMBER.fullmatch(event[2]):
        return None
    return event


_NUMBER = re.compile(r"-?[0-9]{1,12}")


def _teardown(proc: "_Child", init: list[int], net: list[int], dirpath: Path, fds: list[int],
              cgroup) -> None:
    # When pid 1 dies the kernel kills every process of its PID namespace; its parent reaps it only after
    # all of them are gone, then exits. Killing pid 1 first leaves no zombie.
    for pid in init or [proc.pid]:
        _signal(pid, signal.SIGKILL)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass
    # the namespace is gone with pid 1 anyway; pasta is waited for where it is in the cgroup removed next
    _network_down(net, dirpath / "net.pid", wait=cgroup is not None)
    if cgroup:
        cgroup.remove()
    _rmtree(dirpath)


class _Late(Exception):
    """Sandbox._stage past its deadline (raised through shutil.copytree, which collects OSErrors)."""


def _tree_size(top: Path) -> tuple[int, int]:
    """The sizes of the regular files at and under `top` added up, without following a symlink (a sparse
    file counts at its full size: what a copy into a tmpfs may write, and what a stage is weighed at), and
    the entries there (a copy's inodes)."""
    total, entries, todo = 0, 0, [os.fspath(top)]
    while todo:
        p = todo.pop()
        st = os.lstat(p)
        entries += 1
        if stat.S_ISREG(st.st_mode):
            total += st.st_size
        elif stat.S_ISDIR(st.st_mode):
            todo += [os.path.join(p, c) for c in os.listdir(p)]
    return total, entries


# Every budget on the host's disk counts inodes beside bytes (rt11b p04, p21): a tree of empty files costs
# no bytes and an inode each, and once a filesystem's inodes run out it refuses every new file, whatever
# its free bytes (the image cache, every sandbox's state directory, the host's /). INODE_RESERVE stays free
# as images.DISK_RESERVE_MB does: 65,536, the inodes of its 1 GiB on a default ext4 (one per 16 KiB).
INODE_RESERVE = 65_536


def inodes_left(path: Path | str) -> int | None:
    """The inodes new files on path's filesystem may take, less INODE_RESERVE (statvfs f_favail); None
    where the filesystem has no fixed count (btrfs says f_files 0: its inodes come from its bytes)."""
    st = os.statvfs(path)
    return None if st.f_files == 0 else st.f_favail - INODE_RESERVE


# A stage is written on the state directory's disk before pid 1 copies it in (rt16b p09: a 2.5 GiB sparse
# file in tests/ was written out whole at every verify, weighed against the episode's layer only). What it
# will write, its files' apparent sizes, must fit what the disk has free less DISK_RESERVE_MB (images.py's
# reserve), beside what this process's other stages are writing now (a rollout verifies every row at once).
# Refused, it is the machine's failure: a task's own caps (its layer, storage_mb) were checked before.
DISK_RESERVE_MB = 1024
_staging, _staging_guard = [0], threading.Lock()


@contextlib.contextmanager
def _staging_room(src: Path, where: Path):
    """Held while src is staged under `where`: SandboxError, before anything is written, if its files'
    apparent sizes are over what where's disk has free less DISK_RESERVE_MB and the stages in flight."""
    size = _tree_size(src)[0]
    with _staging_guard:
        v = os.statvfs(where)
        free = v.f_bavail * v.f_frsize - (DISK_RESERVE_MB << 20) - _staging[0]
        if size > free:
            others = f", {_staging[0] >> 20} MiB of other stages in flight" if _staging[0] else ""
            raise SandboxError(f"staging {src.name}: its files are {size >> 20} MiB, over the "
                               f"{max(0, free) >> 20} MiB the host's disk has free under {where.parent} "
                               f"(less {DISK_RESERVE_MB} MiB{others})")
        _staging[0] += size
    try:
        yield
    finally:
        with _staging_guard:
            _staging[0] -= size


def copy_plain(src, dst) -> None:
    """copy2 of a regular file or a symlink (as the link); anything else (a device node, a FIFO, a socket
    in a task's files) is refused: opened as the host's root, a device would copy the host's disk in. A
    sparse file stays sparse (_copy_sparse)."""
    if os.path.islink(src):
        shutil.copy2(src, dst, follow_symlinks=False)
    elif stat.S_ISREG(os.lstat(src).st_mode):
        _copy_sparse(src, dst)
        shutil.copystat(src, dst, follow_symlinks=False)
    else:
        raise OSError(f"{os.path.basename(src)!r} is not a regular file, directory or symlink (refused)")


def _copy_sparse(src, dst, chunk: int = 1 << 20) -> None:
    """A new file dst with src's bytes, its holes kept as holes (SEEK_DATA/SEEK_HOLE): a sparse file costs
    a stage only its data (rt16b p09)."""
    fin = os.open(src, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        fout = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            size = os.fstat(fin).st_size
            os.ftruncate(fout, size)
            pos = 0
            while pos < size:
                try:
                    pos = os.lseek(fin, pos, os.SEEK_DATA)
                except OSError as e:
                    if e.errno == errno.ENXIO:             # only a hole is left
                        break
                    raise
                end = os.lseek(fin, pos, os.SEEK_HOLE)
                while pos < end:
                    data = os.pread(fin, min(chunk, end - pos), pos)
                    if not data:                           # it shrank meanwhile
                        return
                    pos += os.pwrite(fout, data, pos)
        finally:
            os.close(fout)
    finally:
        os.close(fin)


def _beneath(host: Path | str, top: Path | None) -> str:
    """host's path relative to `top`, which pid 1 resolves beneath top's fd (no '..' out, no link)."""
    try:
        rel = PurePosixPath(host).relative_to(top)              # lexical: '..' is refused below
    except (TypeError, ValueError):                             # no mounts_in, or not inside it
        rel = None
    if rel is None or not rel.parts or ".." in rel.parts:
        raise ValueError(f"sandbox mount source {str(host)[:200]!r} must lie inside mounts_in ({top})")
    return str(rel)


def scratch_dir() -> Path:
    """A fresh directory for one episode's files beside its sandboxes (a task's volumes): the trainer's,
    which the sandboxes' root (host uid H) may only traverse to reach what is bound from it (nothing on the
    way to a volume is theirs to rename or swap for a link). Remove it with rmtree; if this process dies
    first, the next sandbox's start removes it (it has an owner, as a sandbox's state directory does)."""
    d = _claim_dir()
    d.chmod(0o711)
    return d


def rmtree(path: Path) -> None:
    """shutil.rmtree for a tree a sandbox wrote (it may have left directories without write permission),
    the tmpfs mounted in it (capped_dir) unmounted first."""
    _rmtree(path)


def capped_dir(path: Path, size_mb: int) -> Path:
    """A new directory `path` (in a scratch_dir) that is a tmpfs of size_mb, mounted by host root in this
    process's mount namespace: what sandboxes write there (a task's volumes) fails with ENOSPC past the size,
    as their writable layer does, and counts as the writer's memory (its cgroup). rmtree of the scratch
    directory, or the next start's sweep after a kill, unmounts it. SandboxError where it cannot be mounted:
    an uncapped directory on the host's disk is never the fallback."""
    path.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={max(1, int(size_mb))}m,mode=755,nosuid,nodev",
                        "tmpfs", str(path)], stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if r.returncode:
        raise SandboxError(f"cannot mount the tmpfs that caps a task's volumes at {path}: "
                           f"{(r.stderr.strip() or f'exit {r.returncode}')[-200:]}")
    return path


# copy_charged's child: it waits for its stdin's end (its cgroup set), then copies, links as links
_COPY = ("import os, shutil, sys\nsys.stdin.read()\nsrc, dest = sys.argv[1:]\n"
         "if os.path.isdir(src) and not os.path.islink(src):\n    shutil.copytree(src, dest, symlinks=True)\n"
         "else:\n    shutil.copy2(src, dest, follow_symlinks=False)\n")


def copy_charged(src: Path, dest: Path, group: Cgroup | None, limits: Limits, timeout: float) -> None:
    """src (a file or a tree, links as links) copied to dest by a child process in a cgroup made inside
    `group`, an episode's: what it writes to a tmpfs (capped_dir's) is charged to that episode's memory, not
    to the trainer's (rt11b p17: a task's sparse 300 MiB file written out whole into the volumes' tmpfs
    by the trainer), and past the tmpfs's size it is ENOSPC. Without a group (no cgroup here) the copy is
    this process's. OSError where it fails or takes over `timeout` seconds. Costs a python start, ~50 ms."""
    # named as a sandbox's (echo-s*): Cgroup.reap removes it, and so lets its group go, if this process dies
    leaf = group and Cgroup.create(f"scopy-{secrets.token_hex(6)}", limits, parent=group)
    if not leaf:
        if src.is_dir() and not src.is_symlink():
            shutil.copytree(src, dest, symlinks=True)
        else:
            shutil.copy2(src, dest, follow_symlinks=False)
        return
    p = subprocess.Popen([sys.executable, "-c", _COPY, str(src), str(dest)], stdin=subprocess.PIPE,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        leaf.add(p.pid)                        # before it writes a byte: it waits on its stdin
        err = p.communicate(b"", timeout=timeout)[1]
    except subprocess.TimeoutExpired:
        raise OSError(f"cannot copy {src.name}: over {timeout:.0f} s") from None
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        leaf.remove()
    if p.returncode:
        raise OSError(f"cannot copy {src.name}: {one_line(err.decode(errors='replace'))[-200:]}")


def _unmount_under(path: Path) -> None:
    """Detach every mount at or below `path` in this mount namespace, deepest first (capped_dir's)."""
    top = os.path.abspath(path)
    try:
        with open("/proc/self/mountinfo") as f:
            points = [line.split()[4].encode().decode("unicode_escape") for line in f]
    except OSError:
        return
    for p in sorted((p for p in points if p == top or p.startswith(top + "/")), key=len, reverse=True):
        subprocess.run(["umount", "--lazy", p], stdin=subprocess.DEVNULL, capture_output=True)


def alive(pid: int) -> bool:
    """Whether host pid `pid` is a live process (not gone, not a zombie)."""
    return _alive(pid)


def _rmtree(path: Path) -> None:
    top = os.path.abspath(path)
    _unmount_under(path)          # a capped_dir's tmpfs: never left mounted (nor its rmdir failing)

    def retry(func, p, exc):      # the sandbox may have left directories without write permission
        if isinstance(exc[1], FileNotFoundError):   # removed meanwhile (a concurrent teardown or reap)
            return
        parent = os.path.dirname(os.path.abspath(p))
        if parent != top and not parent.startswith(top + os.sep):
            raise exc[1]          # never a chmod above the tree (a failed rmdir of it once made /tmp 0700)
        os.chmod(parent, 0o700)
        func(p)
    shutil.rmtree(path, onerror=retry) if path.exists() else None


def _claim_dir() -> Path:
    """A fresh state directory for one sandbox (mkdir is atomic, so concurrent sandboxes never share)."""
    STATE_DIR.mkdir(mode=0o711, exist_ok=True)
    STATE_DIR.chmod(0o711)        # pid 1 (host uid H) must be able to traverse it
    while True:
        d = STATE_DIR / f"s{secrets.token_hex(6)}"
        try:
            d.mkdir(mode=0o700)
        except FileExistsError:
            continue
        (d / "owner").write_text(str(os.getpid()))
        return d


def _reap_stale() -> None:
    """Remove state directories (and cgroups) of sandboxes whose owner process died (e.g. kill -9)."""
    if not STATE_DIR.exists():
        return
    try:
        Cgroup.reap()
    except OSError:
        pass
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
        try:                                       # its pasta outlives it (pasta does not watch the pid)
            _network_down([int((d / "net.pid").read_text())], d / "net.pid")
        except (OSError, ValueError):
            pass
        _rmtree(d)


