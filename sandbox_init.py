"""The sandbox's own side of its namespaces (sandbox.py starts it once per caller as `python -I -S -c`
importing it and calling serve(), the starter, which clones each sandbox's child from then on).

Two processes of each sandbox run this file: the child makes the user namespace and waits until the
caller has written its id map, then makes the other namespaces and forks pid 1, which builds the root
filesystem, pivots into it and stays as init: it starts the agent's shell with Docker's capabilities less
CAP_NET_RAW, restarts it when it dies, runs run_fresh commands and reports their exit status from wait(),
reaps orphans, and exits when the caller's lifeline closes (the kernel then kills every process of the
namespace). Everything it starts gets those capabilities, no_new_privs and the seccomp filter that
sandbox.py compiled (seccomp.py). Where the agent's processes are kept into verification, pid 1 starts
them through a zygote, in a PID and a mount namespace below the sandbox's (_agent_namespaces), and the
verifier itself, in the sandbox's. Only the standard library, imported before pivot_root: the image may
have no Python.
"""
import array  # noqa: F401 - socket.send_fds imports it; nothing is importable after pivot_root
import ctypes
import errno
import fcntl
import fnmatch
import glob
import marshal
import os
import re
import resource
import select
import shutil
import signal
import socket
import stat
import struct
import sys
import time
from collections import namedtuple

# Docker's default capability set (moby's oci/caps/defaults.go); the shell keeps these and no others.
DOCKER_CAPS = {0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 27, 29, 31}
# run_fresh's commands (the verifier) keep one capability more than the agent's shell: CAP_WAKE_ALARM, which
# the kernel only honours in the initial user namespace, so it grants nothing here. What it does: ptrace,
# /proc/PID/mem, environ and fd need the tracer's capabilities to cover the target's, so no process of the
# agent (Docker's set, no CAP_SYS_PTRACE) can trace or read a verifier process.
VERIFIER_EXTRA_CAP = 35
# ... less CAP_NET_RAW, as podman's default set: with it an AF_PACKET socket writes raw frames onto pasta's
# interface, and pasta opens a connection from the host to whatever address a frame names, the host's
# 127.0.0.1 included (the sandbox's own routing, which keeps 127.0.0.1 inside, never sees such a frame).
# ping still works, through ICMP sockets (pid 1 sets net.ipv4.ping_group_range, as podman does).
CAP_NET_RAW = 13

# What pid 1 cannot set up because of the task's own values, not the machine (a workdir through a file of
# the image's: ENOTDIR): said as TASKS on the output pipe, and sandbox.TaskSetupError to the caller.
TASKS = " (the task's)"


class TaskError(OSError):
    """pid 1 could not set up what the task asked for."""


class HostError(OSError):
    """pid 1 could not set up a resource of the host's (a source the caller made, a filesystem mounted on a
    directory already checked): the machine's, whatever its errno."""


# The errnos a path of the image's own tree gives where its shape is not one pid 1 can mount over (/etc a
# file, resolv.conf a directory, a volume's target through a file or at a dangling link, /etc/hosts a
# directory: ENOTDIR, ENOENT, EINVAL, ...). Before pivot_root such an error of the image's side is the
# task's (_image_side), as the workdir's is after it; the host's side is marked HostError where touched.
# EROFS too: the host fallback's system directories are read-only, and a volume's target there (a
# sidecar's `./f:/etc/os-release`, `vol:/usr/new`) is the task's choice, not the machine's (rt15b p06).
SHAPE_ERRNOS = {errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.ELOOP, errno.EEXIST, errno.ENAMETOOLONG,
                errno.EINVAL, errno.ENOTEMPTY, errno.EROFS}


def _image_side(R: str, setup, *args) -> None:
    """setup(*args), which works on paths inside the new root R: an OSError of a path's shape (an errno of
    SHAPE_ERRNOS, or none: _in_root's dangling link) is the task's TaskError, in one line. Before, each was
    the machine's, retried and counted as infrastructure (rt12b p04, p26)."""
    try:
        setup(*args)
    except (TaskError, HostError):
        raise
    except OSError as e:
        if e.errno is not None and e.errno not in SHAPE_ERRNOS:
            raise
        what = (f"{e.filename}: {e.strerror}" if e.filename else e.strerror or str(e)).replace(R, "")
        raise TaskError(f"the image's files cannot hold the sandbox: {what}") from None


def _host(setup, *args):
    """setup(*args), whose every failure is the host's (HostError)."""
    try:
        return setup(*args)
    except OSError as e:
        raise HostError(e.errno, e.strerror or str(e)) from None


_libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = (
    0x20000, 0x2000000, 0x4000000, 0x8000000, 0x10000000, 0x20000000, 0x40000000)
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = (
    1, 2, 4, 8, 32, 4096, 16384, 1 << 18)
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_SECCOMP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT = (
    1, 4, 24, 22, 38, 47)
KEYCTL, KEYCTL_JOIN_SESSION_KEYRING = {"x86_64": 250, "aarch64": 219}, 1


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(src, dst, fstype=None, flags=0, data=None) -> None:
    enc = lambda s: s.encode() if s else None
    _check(_libc.mount(enc(src), enc(dst), enc(fstype), flags, enc(data)), f"mount {fstype or src} on {dst}")


RESOLVE_NO_XDEV, RESOLVE_NO_SYMLINKS, RESOLVE_BENEATH, RESOLVE_IN_ROOT = 0x01, 0x04, 0x08, 0x10


def _openat2(dirfd: int, path: str, flags: int, resolve: int) -> int:
    """openat2(2): an fd of path beneath dirfd (-100: the cwd), resolved as `resolve` says; -1 with errno
    set where it cannot be."""
    how = struct.pack("QQQ", flags, 0, resolve)
    return _libc.syscall(437, dirfd, path.encode(), how, len(how))


class _MountAttr(ctypes.Structure):
    _fields_ = [(n, ctypes.c_uint64) for n in ("set", "clr", "propagation", "userns_fd")]


def _bind_ro(src: str, dst: str) -> None:
    """Recursive bind, then mount_setattr(AT_RECURSIVE, MOUNT_ATTR_RDONLY): read-only all the way down."""
    _mount(src, dst, None, MS_BIND | MS_REC)
    attr = _MountAttr(1, 0, 0, 0)
    _check(_libc.syscall(442, -100, dst.encode(), 0x8000, ctypes.byref(attr), ctypes.sizeof(attr)),
           f"read-only {dst}")


# RLIMIT_NOFILE by role, from _file_limits: {"agent": (soft, hard), "verifier": (soft, hard)}. Why not the
# caller's for all: the kernel counts the fds in flight over unix sockets per HOST uid, and every sandbox's
# root is one host uid (UID_BASE); a send fails once that count is over the SENDER's soft RLIMIT_NOFILE. One
# episode parked 20,000 (its limit), and every pid 1 on the machine failed to pass its fds: other episodes
# could not start, and its own unsolved verify became a masked failure (rt18b p21). So pid 1 passes fds
# under the largest limit the kernel allows, a verifier's processes under half of it, and the agent's under
# a quarter at most: all the agents together cannot park a verifier's limit, nor verifiers pid 1's.
FILES: dict[str, tuple[int, int]] = {}


def _file_limits() -> None:
    """pid 1's RLIMIT_NOFILE: soft and hard at fs.nr_open where it may raise its hard limit (the host's root
    with CAP_SYS_RESOURCE, before the user namespace), else both at the caller's hard limit; FILES below
    it. The kernel compares the count with the sender's soft limit, which a process may raise to its hard
    one: so the roles' HARD limits are what it takes to be below pid 1's soft one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        with open("/proc/sys/fs/nr_open") as f:
            hard = max(hard, int(f.read()))
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (OSError, ValueError):              # no CAP_SYS_RESOURCE (a user's sandbox, or a host without it)
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    FILES["agent"] = (min(soft, hard // 4), hard // 4)
    FILES["verifier"] = (min(soft, hard // 2), hard // 2)


def _child(cfg: dict) -> None:
    """Between the caller and pid 1: make the user namespace, wait for its id map, make the others."""
    fds = cfg["fds"]
    _file_limits()
    if cfg.get("netns"):                       # a sidecar: the network namespace of another sandbox
        # Joined while still the host's root: setns needs CAP_SYS_ADMIN over the user namespace that owns
        # it, a sibling of the one made below. Its ports below 1024 are then open to every user (the
        # owner's root alone could bind them otherwise; Docker's containers have this sysctl at 0 too).
        fd = os.open(cfg["netns"], os.O_RDONLY)
        _check(_libc.setns(fd, CLONE_NEWNET), "setns(net)")
        os.close(fd)
        with open("/proc/sys/net/ipv4/ip_unprivileged_port_start", "w") as f:
            f.write("0")
    if cfg.get("shelf"):                       # the image cache's layers, where pid 1 can reach them
        _shelve(cfg["shelf"])
    elif cfg.get("layers", 0) is None and "owner_base" in cfg:     # the host fallback's, as root
        cfg["views"] = _shelve_views(cfg["system_dirs"], os.path.dirname(cfg["root"]))
    if "owner_base" in cfg:                    # started by root: become this sandbox's own owner uid, a
        h = cfg["owner_base"] + os.getpid()    # nobody on the host (sandbox.owner_uid: per-user counts)
        os.setgroups([])
        os.setresgid(h, h, h)
        os.setresuid(h, h, h)
        _new_session_keyring()                 # charged to h, not to the uid all sandboxes' roots share
    _check(_libc.unshare(CLONE_NEWUSER), "unshare(user)")
    os.write(fds["sync"], b"u")
    os.close(fds["sync"])
    if os.read(fds["go"], 1) != b"m":          # the caller failed to map us: it reports why
        sys.exit(1)
    os.setresgid(0, 0, 0)
    os.setresuid(0, 0, 0)
    if "exec" in cfg:                          # run_mapped: just a program in the mapped namespace
        os.close(fds["go"])
        os.execvp(cfg["exec"][0], cfg["exec"])
    # Always a network namespace of our own (a sidecar's: the episode's, joined above): never the host's
    # loopback or abstract unix sockets. With network, the caller then attaches a user-mode network stack
    # to it (Sandbox.set_network).
    flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS
    flags |= 0 if cfg.get("netns") else CLONE_NEWNET      # a sidecar keeps the one it joined
    _check(_libc.unshare(flags), "unshare")
    # The user-mode network stack (pasta) runs as the namespace's owner (sandbox.owner_uid) and joins our
    # namespaces through /proc/<this pid>/ns: the setresuid above made us non-dumpable, which would
    # refuse it. Nothing of the sandbox can name this process (it is outside the new PID namespace);
    # pid 1, which it can name, goes back to non-dumpable.
    _check(_libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), "dumpable")
    # The caller moved us into the sandbox's cgroup meanwhile (_spawn in sandbox.py): pid 1 and all below
    # it are born there
    if os.read(fds["go"], 1) != b"c":
        sys.exit(1)
    os.close(fds.pop("go"))
    # ... and a cgroup namespace rooted there: /proc/self/cgroup says "/", not the host's hierarchy and the
    # sandbox's name in it (rt18b p04; Docker's default on cgroup v2)
    _check(_libc.unshare(CLONE_NEWCGROUP), "unshare(cgroup)")
    pid = os.fork()                            # the first child in a new PID namespace is its pid 1
    if pid == 0:
        try:
            _check(_libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), "not dumpable")
            _pid1(cfg)
        except BaseException as e:             # one line on the output pipe; the caller shows it
            print(f"sandbox setup failed{TASKS if isinstance(e, TaskError) else ''}: {e}", file=sys.stderr,
                  flush=True)
            os._exit(1)
    for fd in fds.values():
        try:
            os.close(fd)
        except OSError:
            pass
    _, status = os.waitpid(pid, 0)
    os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


def _shelve(binds: list) -> None:
    """Still the host's root, in a mount namespace of our own: the image cache's directories bound where
    pid 1 finds them (sandbox.py's _shelf), read-only unless said. The cache itself is root's, mode 0700: H
    reaches a layer only here, and pid 1's namespace (made below, in H's user namespace) locks the flag."""
    _check(_libc.unshare(CLONE_NEWNS), "unshare(mount) for the layers")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    for src, at, read_only in binds:
        if read_only:
            _bind_ro(src, at)
        else:
            _mount(src, at, None, MS_BIND)


def _shelve_views(system_dirs: list[str], d: str) -> dict[str, str]:
    """Still the host's root, in a mount namespace of our own: each mount at or beneath the system
    directories the host fallback shows bound alone (not recursively) and read-only at d/host/<n>, for
    _host_view's overlays. In pid 1's namespace, which the sandbox's user namespace owns, every mount
    inherited is locked to its children, and overlayfs refuses a lower with a locked mount beneath it
    (a container's /etc, with Docker's /etc/resolv.conf, hosts and hostname bound on it); these have none.
    Returns {mount point: its bind, relative to d}; a mount that cannot be bound alone (EINVAL: the
    caller's own namespace already locks it) is left out."""
    _check(_libc.unshare(CLONE_NEWNS), "unshare(mount) for the host's views")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    views = {}
    for mp in _mount_points(_shown(system_dirs)[1]):
        if not os.path.isdir(mp) or os.path.islink(mp):
            continue
        view = os.path.join("host", str(len(views)))
        os.makedirs(os.path.join(d, view))
        try:
            _mount(mp, os.path.join(d, view), None, MS_BIND)
        except OSError as e:
            if e.errno != errno.EINVAL:
                raise
            continue
        _mount(None, os.path.join(d, view), None, MS_BIND | MS_REMOUNT | MS_RDONLY)
        views[mp] = view
    return views


def _pid1(cfg: dict) -> None:
    """pid 1 of the sandbox: build the root, then be init (restart the shell, reap orphans, exit when the
    caller's lifeline closes, which kills every process of the namespace)."""
    _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl")
    host_pid = [l for l in open("/proc/self/status") if l.startswith("NSpid:")][0].split()[1]
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    R = cfg["root"]
    if cfg["layers"] is None:
        _host_root(cfg, R)
        # The writable layer, for the verifier's check (sandbox.Sandbox.writable_layer): the root tmpfs seen
        # through a bind of its own (not recursive, so the system directories' mounts are not in it).
        layer = os.path.join(os.path.dirname(R), "layer")
        os.makedirs(layer, exist_ok=True)
        _mount(R, layer, None, MS_BIND)
    else:
        layer = _overlay_root(cfg, R)
    # Kept open by pid 1 only (close-on-exec, and /proc/1/fd is closed to the processes below it): the
    # caller reads the layer through /proc/<pid 1>/fd/<n> after the root is pivoted away.
    layer_fd = os.open(layer, os.O_RDONLY | os.O_DIRECTORY)
    _image_side(R, _mount_system, cfg, R)
    _image_side(R, _mount_binds, cfg, R)
    os.chdir(R)                                # pivot_root(".", ".") stacks the old root under the new
    _check(_libc.syscall(155, b".", b"."), "pivot_root")     # one, then we detach it: no /.old left over
    _check(_libc.umount2(b".", 2), "umount old root")
    # Made only now, inside the new root: a symlink on the way (RUN ln -s /var/tmp /w, WORKDIR /w/x)
    # resolves in the image, never on the host's filesystem.
    try:
        os.makedirs(os.path.realpath(cfg["workdir"]), exist_ok=True)
        os.chdir(cfg["workdir"])
    except OSError as e:                       # the task's value through the image's files (a file on the
        raise TaskError(f"workdir {cfg['workdir'][:60]!r}: {e.strerror}") from None    # way): its failure
    for d in cfg.get("dirs", ()):              # `mkdir -p -m 777`: the mode for the ones made, as root
        try:
            if not os.path.isdir(d):
                os.makedirs(os.path.realpath(d))
                os.chmod(d, 0o777)
        except OSError as e:
            raise TaskError(f"directory {d[:60]!r}: {e.strerror}") from None
    # Every command of the sandbox is exec'd as /bin/bash (_exec_confined): an image without it (alpine's)
    # started an episode whose every command answered 127 and whose turns were trained on (rt12b p32).
    if not os.access("/bin/bash", os.X_OK):
        raise TaskError("the image has no /bin/bash to run commands with (install bash in its Dockerfile)")
    if cfg.get("keep"):
        _bind_scratch(cfg["workdir"])
        # Opened now, before any process of the agent's could move a directory on the way (pid 1's only)
        _VOLUME_FDS.extend(os.open(v, os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW) for v in _VOLUMES)
    if not cfg.get("netns"):                   # a joined namespace is its owner's to set up
        # Bring up lo: SIOCGIFFLAGS / SIOCSIFFLAGS |= IFF_UP. (Every module is imported before pivot_root:
        # the image may have no Python at all.)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        flags = struct.unpack("16sH14s", fcntl.ioctl(s, 0x8913, struct.pack("16sH14s", b"lo", 0, b"")))[1]
        fcntl.ioctl(s, 0x8914, struct.pack("16sH14s", b"lo", flags | 1, b""))
        s.close()
        with open("/proc/sys/net/ipv4/ping_group_range", "w") as f:  # ping without CAP_NET_RAW (ICMP sockets)
            f.write(f"0 {cfg['gid_max']}")                           # every mapped group
    _mask("")                                  # after the sysctl above: /proc/sys is read-only from here
    _libc.sethostname(b"sandbox", 7)
    for name, value in cfg["rlimits"].items():   # set inside the user namespace: counted per namespace
        resource.setrlimit(getattr(resource, "RLIMIT_" + name), (value, value))
    RLIMITS.update({n: resource.getrlimit(n) for n in range(len(RLIMIT_NAMES))})
    if "owner_base" not in cfg:                # started by a user: that user's quota, its own already
        _new_session_keyring()
    _init_loop(cfg, f"{host_pid} {layer_fd}")


def _new_session_keyring() -> None:
    """A fresh, empty session keyring for the episode (keys are not namespaced: without this every episode
    shares the trainer's). The seccomp filter then refuses keyctl to everything pid 1 starts. The kernel
    charges a key to its creator's host uid, 200 keys at most a uid (kernel.keys.maxkeys): made as the
    namespace's root, host uid 1,000,000 for every sandbox, the 201st sandbox alive at once failed to
    start (EDQUOT), a batch of 16 tasks x 16 rollouts among them; so it is made as the sandbox's own
    owner uid (sandbox.owner_uid), with a quota of its own."""
    _check(min(0, _libc.syscall(KEYCTL[os.uname().machine], KEYCTL_JOIN_SESSION_KEYRING, None)),
           "new session keyring")


def _overlay_root(cfg: dict, R: str) -> str:
    """The image's layers read-only below, one writable layer on top: an on-disk directory for a build
    step, else a tmpfs of storage_mb for an episode (gone when the namespace dies)."""
    if cfg["upper"]:
        upper, work = cfg["upper"], cfg["upper"] + ".work"
    else:
        scratch = os.path.join(os.path.dirname(R), "scratch")
        os.makedirs(scratch, exist_ok=True)
        _mount("tmpfs", scratch, "tmpfs", MS_NOSUID, f"mode=755,size={cfg['storage_mb']}m")
        upper, work = scratch + "/upper", scratch + "/work"
    os.makedirs(upper, exist_ok=True)
    os.makedirs(work, exist_ok=True)
    lower = ":".join(cfg["layers"])
    _mount("overlay", R, "overlay", 0, f"lowerdir={lower},upperdir={upper},workdir={work},userxattr")
    if not cfg["upper"]:                       # an episode: its verifier sees the image's caches (_caches)
        _IMAGE.append(_image_view(cfg["layers"], os.path.join(os.path.dirname(R), "image")))
    return upper


def _host_root(cfg: dict, R: str) -> None:
    """Last resort: a tmpfs root with the host's system directories (programs and their configuration,
    not /var, /opt or /srv) each seen through a read-only overlay of the episode's own (_host_view), hidden
    paths covered by empty read-only tmpfs (they stay covered: the shell cannot unmount)."""
    _mount("tmpfs", R, "tmpfs", MS_NOSUID, f"mode=755,size={cfg['storage_mb']}m")
    targets, shown = _shown(cfg["system_dirs"])
    # overlay's lowers named relative to the sandbox's directory, our cwd: mountinfo shows the agent
    # `lowerdir=/usr:empty` or `host/0:empty`, not the host's path of that directory. The second lower,
    # empty: overlayfs wants two without an upper.
    os.chdir(os.path.dirname(R))
    os.makedirs("empty", exist_ok=True)
    _host_view(_mount_points(shown), cfg.get("views", {}), R, "files")
    aliases = []                               # (a symlinked system dir, what it points to): /bin, /usr/bin
    for d, target in targets.items():
        # On a merged-/usr host /bin, /lib, /sbin are symlinks. As symlinks on the writable root the agent
        # could replace them (a /bin of its own holding the verifier's bash, a /lib64 with its own ld.so);
        # as binds of their targets' views they are mount points, which it cannot remove or rename, and
        # /bin/sh is /usr/bin/sh, one inode, as on the host.
        if target != "/" + d:
            os.mkdir(f"{R}/{d}")
            _bind_ro(R + target, f"{R}/{d}")
            aliases.append(("/" + d, target))
    os.makedirs(f"{R}/var/tmp")               # the host's /var is data: an empty one of our own
    os.chmod(f"{R}/var/tmp", 0o1777)
    hide = list(cfg["hide"])
    for h in cfg["hide"]:                      # a hidden path is hidden under every name it has
        hide += [alias + h[len(target):] for alias, target in aliases if h.startswith(target + "/")]
    for h in hide:
        p = R + h
        try:
            if os.path.isdir(p) and not os.path.islink(p):
                _mount("tmpfs", p, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k,mode=755")
            elif os.path.isfile(p) and not os.path.islink(p):
                _mount("/dev/null", p, None, MS_BIND)
        except OSError as e:
            if e.errno != 13:                  # unreadable for us anyway
                raise


def _shown(system_dirs: list[str]) -> tuple[dict[str, str], list[str]]:
    """The host fallback's system directories that exist, {name: what it resolves to}, and the targets
    that are not beneath another (/usr and /etc, not /usr/bin of a merged /usr's /bin)."""
    targets = {d: os.path.realpath("/" + d) for d in system_dirs}
    targets = {d: t for d, t in targets.items() if os.path.isdir(t)}
    shown = set(targets.values())
    tops = sorted(t for t in shown if not any(t != o and _within(t, o) for o in shown))
    return targets, tops


def _mount_points(tops: list[str]) -> list[str]:
    """tops, then the mount points beneath them, each once, parents before children (as mountinfo lists
    them)."""
    with open("/proc/self/mountinfo") as f:
        points = [re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), l.split()[4]) for l in f]
    return list(dict.fromkeys(tops + [p for p in points if any(_within(p, t) for t in tops)]))


def _host_view(points: list[str], views: dict[str, str], R: str, files: str) -> None:
    """Each mount point of the host's system directories at R + the same path, through a read-only overlay
    of this episode's own (lowerdir its view, _shelve_views, else the mount point itself; no upper): the
    files are the host's, their inodes the overlay's. A bind shared the host's inodes with every episode,
    and flock, fcntl locks and inotify act on inodes: one episode's flock on /usr/share/x blocked another's
    and the host's own, and its inotify watch saw the trainer's and other episodes' opens (rt17b p02, p03).
    Docker gives each container an overlay of its own likewise. A file mounted there (a container's
    /etc/resolv.conf) is copied into a tmpfs of the episode's at `files`, and the copy bound read-only. Where
    overlayfs refuses (EINVAL: a mount locked beneath it, when not started by root), the directory is bound
    read-only as it is, the host's inodes, as before."""
    bound = []                                 # what was bound as it is, with everything beneath it
    for mp in points:
        at = R + mp
        if any(_within(mp, b) for b in bound):
            continue
        if os.path.isdir(mp):
            os.makedirs(at, exist_ok=True)
            try:
                _mount("overlay", at, "overlay", MS_RDONLY, f"lowerdir={views.get(mp, mp)}:empty")
            except OSError as e:
                if e.errno != errno.EINVAL:
                    raise
                _bind_ro(mp, at)
                bound.append(mp)
        elif os.path.isfile(mp):
            copy = os.path.join(files, mp.replace("/", "%"))
            if not os.path.isdir(files):
                os.mkdir(files)
                _mount("tmpfs", files, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755")
            try:
                shutil.copyfile(mp, copy)
                os.chmod(copy, stat.S_IMODE(os.stat(mp).st_mode))
            except PermissionError:            # unreadable to us, so to the agent: bound as it is
                copy = mp
            _bind_ro(copy, at)


def _in_root(R: str, path: str) -> str:
    """R/path as the sandbox will see /path: each component opened with openat2(RESOLVE_IN_ROOT), so a
    symlink the image holds (/run -> /anywhere) resolves inside R, never on the host; missing directories
    are made there. Returns the directory's path with no symlink left in it (nothing else runs in the
    namespace yet to change it)."""
    root = os.open(R, os.O_PATH | os.O_DIRECTORY)
    fd, done = root, ""
    for part in path.split("/"):
        done = f"{done}/{part}".lstrip("/")
        for _ in range(2):
            new = _openat2(root, done, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC, RESOLVE_IN_ROOT)
            if new >= 0 or ctypes.get_errno() != 2:
                break
            try:                               # ENOENT: make it beneath the resolved parent, then again
                os.mkdir(part, 0o755, dir_fd=fd)
            except FileExistsError:
                raise OSError(f"/{done} is a symlink to a missing directory") from None
        _check(min(0, new), f"open {path} in the new root")
        if fd != root:
            os.close(fd)
        fd = new
    real = os.readlink(f"/proc/self/fd/{fd}")
    os.close(fd)
    os.close(root)
    return real


_STAGE: list[int] = []                         # pid 1's fd of the verifier's stage directory


# Each devpts instance with a pty cap of its own: the kernel's kernel.pty.max (4,096, less 1,024 kept for
# the host's instance) is one count for every instance, and one episode opening them all failed the next
# episode's openpty and the host's containers' (rt18b p25; Docker sets no max). A compose task's sidecar
# (cfg["netns"]) gets a few: 16 of them at the main container's cap held 544 (rt19b p40).
PTYS, SIDECAR_PTYS = 32, 4
DEVPTS = "newinstance,ptmxmode=0666,mode=620,max={}"


def _dev(cfg: dict, R: str) -> None:
    """/dev as Docker's: a tmpfs of the host's null, zero, ..., the links, shm, pts and mqueue."""
    _mount("tmpfs", f"{R}/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=1m")
    for d in ("null", "zero", "full", "random", "urandom", "tty"):
        open(f"{R}/dev/{d}", "w").close()
        _mount(f"/dev/{d}", f"{R}/dev/{d}", None, MS_BIND)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2"), ("ptmx", "pts/ptmx")):
        os.symlink(target, f"{R}/dev/{name}")
    os.mkdir(f"{R}/dev/shm")
    # Docker's 64 MB, less where the memory limit is small (sandbox.tmpfs_mb): charged to the cgroup
    _mount("tmpfs", f"{R}/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777,size={cfg['shm_mb']}m")
    os.mkdir(f"{R}/dev/pts")
    _mount("devpts", f"{R}/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
           DEVPTS.format(SIDECAR_PTYS if cfg.get("netns") else PTYS))
    os.mkdir(f"{R}/dev/mqueue")                # as Docker: this IPC namespace's POSIX queues, as files
    _mount("mqueue", f"{R}/dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC)


def _mount_system(cfg: dict, R: str) -> None:
    """/proc, /dev, /sys, /run/xfer and the host's resolv.conf."""
    for d, mode in (("tmp", 0o1777), ("root", 0o700), ("run", 0o755), ("proc", 0o555), ("sys", 0o555),
                    ("dev", 0o755)):
        if not os.path.lexists(f"{R}/{d}"):
            os.makedirs(f"{R}/{d}", mode)
        # as runc: the kernel's filesystems go on directories, never through a link, which pid 1 (still in
        # the host's root) would follow on the host's tree
        if d in ("proc", "sys", "dev") and (os.path.islink(f"{R}/{d}") or not os.path.isdir(f"{R}/{d}")):
            raise TaskError(f"the image's /{d} is not a directory (a file or a symlink): the sandbox mounts "
                            "its own there")
    _host(_dev, cfg, R)                        # on directories just checked: what fails is the host's
    _host(_mount, "proc", f"{R}/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    try:                                       # sysfs needs our own network namespace
        _mount("sysfs", f"{R}/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY)
    except OSError:
        pass
    _host(_bind_ro, cfg["xfer"], _in_root(R, "run/xfer"))    # files on their way in (Sandbox.copy_in)
    # The verifier's stage (Sandbox.run_fresh(tests=...)): a host directory no mount of the sandbox shows,
    # reached only through pid 1's fd of a detached clone of it (open_tree: close-on-exec, and /proc/1/fd
    # is closed to the agent's processes), copied from there by the verifier's child (_copy_tests)
    if cfg.get("stage"):
        fd = _libc.syscall(428, -100, cfg["stage"].encode(), 1 | os.O_CLOEXEC)    # OPEN_TREE_CLONE
        _host(_check, min(0, fd), "open_tree(stage)")
        _STAGE[:] = [fd]
    # Always, as Docker does: the network may be turned on later (the verifier's phase).
    if os.path.isfile(cfg["resolv"]) and cfg["layers"] is not None:
        target = _in_root(R, "etc") + "/resolv.conf"      # an /etc -> /anywhere link stays in the root
        if os.path.islink(target) or not os.path.exists(target):
            if os.path.lexists(target):
                os.unlink(target)
            open(target, "w").close()
        _bind_ro(cfg["resolv"], target)        # as Docker does: the host's resolver, read-only
        # Docker writes an /etc/hosts into every container; images rarely ship one (the Debian stand-in, most
        # pulled ones), and without it `localhost` does not resolve for glibc (rt13a p24: test.sh's own
        # server at http://localhost:8000 unreachable, a correct answer scored 0). Made only where the
        # image has none, in the episode's layer, writable by root as Docker's is (never in a build's).
        hosts = _in_root(R, "etc") + "/hosts"
        if not cfg.get("build") and not os.path.lexists(hosts):
            with open(hosts, "x") as f:
                f.write(DOCKER_HOSTS)
            os.chmod(hosts, 0o644)


DOCKER_HOSTS = ("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n"
                "ff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n"
                "127.0.1.1\tsandbox\n")


# Docker's masked and read-only paths (moby's oci defaults): host-wide state a container should not read
# (/proc/keys lists every key of the host uid that all sandboxes share: other episodes' session keyrings,
# rt5 p08; kcore, timer_list, sched_debug) or write. Masked: /dev/null over a file, an empty read-only
# tmpfs over a directory; pid 1 mounted /proc and /sys itself, and no process of theirs can unmount.
MASKED = ("/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys", "/proc/key-users",
          "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
          "/sys/firmware", "/sys/devices/virtual/powercap")
READ_ONLY = ("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger")


def _mask(R: str, only: str = "/") -> None:
    for p in MASKED:
        if not p.startswith(only):
            continue
        if not os.path.exists(R + p):          # not on this kernel (timer_stats), or no sysfs
            continue
        if os.path.isdir(R + p):
            _mount("tmpfs", R + p, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=555")
        else:
            _mount("/dev/null", R + p, None, MS_BIND)
    for p in READ_ONLY:
        if os.path.exists(R + p) and p.startswith(only):
            _bind_ro(R + p, R + p)


def _mount_binds(cfg: dict, R: str) -> None:
    """The caller's mounts (a task's volumes, its /etc/hosts), bound at a path resolved inside the new
    root, nosuid and nodev, read-only where asked (recursively). Each source is opened beneath
    cfg["mounts_in"] (the episode's scratch directory) with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)
    and bound from that fd (open_tree, move_mount), never by its path: a path through a directory a
    sidecar swapped for a link had pid 1 bind the host's files (rt10b p30-p32), and one with '..' a host
    directory the trainer made for it (p29)."""
    if not cfg.get("mounts"):
        return
    # the sources are the caller's (the episode's scratch directory): their failures are the host's
    top = _host(os.open, cfg["mounts_in"], os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        for rel, where, read_only in cfg["mounts"]:
            # no O_NOFOLLOW: a link as the last component is refused too (ELOOP), not opened as a link
            src = _openat2(top, rel, os.O_PATH | os.O_CLOEXEC, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)
            if src < 0 and ctypes.get_errno() in (errno.ELOOP, errno.EXDEV):    # only a sandbox made that
                raise TaskError(f"mount source {rel[:80]!r}: a link or '..' on the way (refused)")
            _host(_check, min(0, src), f"open {rel} beneath {cfg['mounts_in']}")
            try:
                _bind_fd(src, rel, R, where, read_only)
            finally:
                os.close(src)
    finally:
        os.close(top)


def _bind_fd(src: int, rel: str, R: str, where: str, read_only: bool) -> None:
    """The file or directory of fd `src` bound at `where` in the new root (a file over a file)."""
    mode = os.fstat(src).st_mode
    if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
        raise OSError(f"mount source {rel} is not a directory or a regular file")
    parent, name = where.rstrip("/").rsplit("/", 1)
    if stat.S_ISDIR(mode):
        target = _in_root(R, where.strip("/"))
    else:                                      # a file over a file: a link there is replaced (resolv.conf)
        target = (_in_root(R, parent.strip("/")) if parent.strip("/") else R) + "/" + name
        if os.path.islink(target) or not os.path.exists(target):
            if os.path.lexists(target):
                os.unlink(target)
            open(target, "w").close()
    # A detached clone of what the fd names, its options set before it is attached where the root has it
    tree = _libc.syscall(428, src, b"", 1 | AT_EMPTY_PATH | 0x8000 | os.O_CLOEXEC)  # CLONE, AT_RECURSIVE
    _host(_check, min(0, tree), f"open_tree({rel})")
    try:
        attr = _MountAttr(0x6 | (1 if read_only else 0), 0, 0, 0)      # NOSUID | NODEV (| RDONLY)
        size = ctypes.sizeof(attr)
        _host(_check, _libc.syscall(442, tree, b"", AT_EMPTY_PATH | 0x8000, ctypes.byref(attr), size),
              f"mount options of {where}")
        _check(_libc.syscall(429, tree, b"", -100, target.encode(), 0x4),            # MOVE_MOUNT_F_EMPTY_PATH
               f"move_mount({rel})")
    finally:
        os.close(tree)
    if not read_only and stat.S_ISDIR(mode):   # sealed with the root (_seal), by its fd
        _VOLUMES.append(target[len(R):] or "/")


def _init_loop(cfg: dict, host_pid: str) -> None:
    fds = cfg["fds"]
    os.set_inheritable(fds["life"], False)
    os.set_inheritable(fds["events"], False)
    os.set_inheritable(fds["status"], False)
    os.set_inheritable(fds["ctl"], False)

    def event(line: str) -> None:
        try:
            os.write(fds["events"], (line + "\n").encode())
        except OSError:                        # the caller is gone
            os._exit(0)
    signal.signal(signal.SIGINT, signal.SIG_IGN)       # the shell may signal us; only SIGCHLD matters
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *a: None)
    event(f"r {host_pid}")
    shell = _spawn_shell(cfg)
    event(f"s {shell}")
    retry_at, delay = 0.0, 0.0                 # when the shell is None: the next try at starting it
    fresh, pending = set(), b""                # run_fresh: pids of the commands pid 1 started itself
    reward_dirs: dict[int, int] = {}           # their private /logs/verifier, an fd pid 1 holds
    # The caller's socket: each run_fresh command arrives with the write end of a pipe the caller made for
    # it alone, its stdout and stderr. Never the shell's output pipe, which the agent's processes hold and
    # write while it runs: only the command's own lines are its output (rt10b p33).
    ctl, outs = socket.socket(fileno=fds["ctl"]), []
    failed = 0                                 # run_fresh commands that could not start: pids -1, -2, ...
    while True:
        if shell is None and time.monotonic() >= retry_at:
            shell = _restart_shell(cfg, event, quiet=delay > 0)
            delay = 0.0 if shell else min(1.0, delay * 2 or 0.05)
            retry_at = time.monotonic() + delay
        wait = None if shell else max(0.0, retry_at - time.monotonic())
        ready, _, _ = select.select([fds["life"], fds["ctl"], wake_r], [], [], wait)
        if fds["life"] in ready:               # EOF: the caller closed the sandbox or died
            os._exit(0)
        if fds["ctl"] in ready:                # <length><command>: run it in a fresh bash, our child
            data, got, _, _ = socket.recv_fds(ctl, 1 << 16, 8, socket.MSG_CMSG_CLOEXEC)
            pending += data
            outs += got
            while len(pending) >= 4 and len(pending) >= 4 + struct.unpack("I", pending[:4])[0]:
                n = struct.unpack("I", pending[:4])[0]
                kind, msg = pending[4:5], marshal.loads(pending[5:4 + n])
                user, command, homes = msg[0], msg[1], msg[2] if len(msg) > 2 else ()
                tests = msg[3] if len(msg) > 3 else ""                 # the stage's name (run_fresh)
                pending = pending[4 + n:]
                if kind == b"U":               # the agent's shell runs as `user` from its next start on
                    cfg["user"] = user
                    event(f"u {user[0] if user else 0}")
                    continue
                if kind == b"S":               # Sandbox.seal: 0 or the errno that refused it, and more
                    event(f"S {_seal()}")
                    continue
                # one pipe per command, in order; none (never the case): nowhere, rather than a shared one
                out = outs.pop(0) if outs else os.open("/dev/null", os.O_WRONLY | os.O_CLOEXEC)
                try:
                    # T: a sealed verifier beside their live processes; K: one after they were all killed
                    # B: a service (Sandbox.start), task code the agent may hand its own code to
                    pid, logs, uppers = _spawn_fresh(cfg, command, private_logs=kind in (b"L", b"T", b"K"),
                                                     user=user, sealed=kind == b"T", killed=kind == b"K",
                                                     homes=homes, out=out, tests=tests, service=kind == b"B")
                except OSError as e:           # no pid left (the agent's processes hold them): the command's
                    failed -= 1                # failure, said in its output, never pid 1's death (rt12b p33)
                    try:
                        os.write(out, f"sandbox: cannot start the command: {e}\n".encode())
                    except OSError:
                        pass
                    event(f"c {failed}")
                    event(f"e {failed} 126 0")
                    continue
                finally:
                    os.close(out)              # the command's now: its end closes the caller's pipe
                fresh.add(pid)
                if logs is not None:
                    reward_dirs[pid] = logs
                # the names in hex: a home's path may hold a space
                event(" ".join([f"c {pid}", *(f"{d.encode().hex()}:{fd}" for d, fd in uppers)]))
        if wake_r not in ready:
            continue
        os.read(wake_r, 4096)
        while True:                            # reap everything: we are init, orphans end up here
            try:
                pid, st = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                pid = 0
            if pid == 0:
                break
            code = os.waitstatus_to_exitcode(st) if os.WIFEXITED(st) else 128 + os.WTERMSIG(st)
            if _ZYGOTE and pid == _ZYGOTE[0]:  # killed with the rest: the next spawn starts another
                _close_zygote()
            if pid == shell:
                event(f"x {code}")
                shell, retry_at, delay = None, 0.0, 0.0      # started again at the top of the loop
            elif pid in fresh:                 # the kernel's word, not the command's: e <pid> <code> <signal>
                fresh.discard(pid)
                if pid in reward_dirs:         # f <pid> <name> <hex>, read by us, before its end
                    for name, data in _reward_files(reward_dirs.pop(pid)):
                        event(f"f {pid} {name} {data}")
                event(f"e {pid} {code} {0 if os.WIFEXITED(st) else os.WTERMSIG(st)}")


def _restart_shell(cfg: dict, event, quiet: bool) -> int | None:
    """The agent's next shell, or None where it cannot start now: its processes hold every pid of the
    episode's limit (EAGAIN from the fork or the zygote's clone) and its own exit asked for a new one. pid 1
    died of that uncaught, and the episode was the machine's (rt12b p33); now the loop tries again, from
    0.05 s to every second, and the caller's kill on a command's timeout frees the pids. Said once, on the
    shell's output pipe, where the agent reads it."""
    try:
        shell = _spawn_shell(cfg)
    except OSError as e:
        if not quiet:
            print(f"sandbox: cannot start a new shell ({e}); trying again", file=sys.stderr, flush=True)
        return None
    event(f"s {shell}")
    return shell


# How much of each reward file pid 1 reads: a reward.json may be a report of many numbers beside a
# reward.txt that scores (Harbor's rule: harbor.verify), so it gets more room (rt14b p30: 4 KiB cut one)
REWARD_FILES = {"reward.json": 1 << 16, "reward.txt": 4096}


# After a sealed verifier started: pid 1's fd of the upper directory of each of its private /tmp and /var/tmp
# overlays (_private_overlay), kept after it ended, so that the check after the tests reads what test.sh
# wrote there (Sandbox.verifier_tmp); after a kill, the uppers of _killed_root (Sandbox.verifier_own).
_VERIFIER_UPPERS: dict[str, int] = {}


def _spawn_fresh(cfg: dict, command: str, private_logs: bool, user=None, sealed: bool = False,
                 homes: tuple = (), out: int | None = None, tests: str = "", killed: bool = False,
                 service: bool = False) -> tuple[int, int | None, list[tuple[str, int]]]:
    """A run_fresh command, as `user` (a sandbox.User tuple; None: root). With private_logs (the verifier),
    it runs in a mount namespace of its own with a fresh, empty tmpfs at /logs/verifier, and pid 1 keeps an
    fd of that tmpfs: what the agent left running (in pid 1's namespace) cannot see it, and its reward files
    are read through that fd by pid 1, never through a path: (pid, fd of the reward directory or None,
    [(d, fd of the upper directory of its private d)] after a seal). sealed: after _seal, see
    _private_logs. killed: the agent's processes are all dead (_killed_root). homes: what verifier_homes
    gave the caller, for _homes. out: its stdout and stderr. tests: the name of the stage to copy to /tests
    (sealed or killed, _copy_tests). service: task code that lives beside the agent's (Sandbox.start),
    confined as the agent's shell is, without VERIFIER_EXTRA_CAP."""
    argv = ["bash", "--noprofile", "--norc", "-c", command]
    if not private_logs:
        return _spawn(cfg, argv, user=user, out=out, service=service), None, []
    # SEQPACKET: one message is one (more, names) with its fds, however the kernel queues them
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = _spawn(cfg, argv, logs_sock=(theirs, homes, tests, killed), user=user, sealed=sealed, out=out)
    theirs.close()
    names, fds = [], []
    try:
        while True:
            # close-on-exec as it arrives: no program pid 1 starts later (a new zygote, a new agent shell once
            # a survivor killed the old one) inherits the verifier's /logs/verifier
            msg, got, _, _ = socket.recv_fds(ours, 1 << 18, FDS_PER_MESSAGE, socket.MSG_CMSG_CLOEXEC)
            fds += got
            if not msg:                        # the child failed before it sent all: its exec fails too
                break
            more, part = marshal.loads(msg)
            names += part
            if not more:
                break
    except (OSError, ValueError, EOFError, TypeError):
        pass
    ours.close()
    uppers = []
    if sealed or killed:
        for fd in _VERIFIER_UPPERS.values():
            os.close(fd)
        _VERIFIER_UPPERS.clear()
        _VERIFIER_UPPERS.update(zip(names[1:], fds[1:]))
        uppers = list(_VERIFIER_UPPERS.items())
    return pid, (fds[0] if fds else None), uppers


PYCACHE = "/logs/.verifier-pycache"            # the verifier's PYTHONPYCACHEPREFIX (harbor.verify)
FDS_PER_MESSAGE = 32                           # the verifier's child to pid 1: its uppers, so many at a time
# In the verifier's child: (d, an O_PATH fd of what it writes at d) for each view _caches and _fresh_dev give
# it (a home's or a cache's upper; /dev, /dev/shm, /dev/mqueue), sent to pid 1 with its root's: the check
# after the tests reads every place test.sh may write (rt12a p05: a link of the agent's to
# $HOME/expected.txt, which test.sh wrote in its view of the home, was not seen)
_VIEW_UPPERS: list[tuple[str, int]] = []


# The verifier's temporary directories, where a killed episode's verifier (_killed_root) gets an overlay of
# its own even when they are no mount of their own (they hold or lie in the workdir).
VERIFIER_TMP = ("/tmp", "/var/tmp")
# Harbor keeps the agent's processes alive into verification (Limits.keep_agent_processes). Where a service
# it left running may still write once verification starts (_seal): where Debian's services keep their
# sockets, logs, data and scratch. The verifier reads what is there, but runs no program from it (CONTAINMENT.md
# names the exception: Debian's Ruby gems, in /var/lib/gems).
SCRATCH = ("/tmp", "/var/tmp", "/run", "/var/run", "/var/log", "/var/lib", "/var/cache", "/var/spool")
# ... but not these, inside them: what the package managers the verifier may run read and execute (the
# package lists, downloaded packages, maintainer scripts, gems). Bound onto themselves too, and sealed.
SEALED_IN_SCRATCH = ("/var/lib/dpkg", "/var/lib/apt", "/var/cache/apt", "/var/lib/gems", "/var/cache/debconf")
MOUNT_ATTR_RDONLY = 1
AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH = 0x100, 0x1000
# The caller's writable volumes (a compose task's, in the new root) and, where the agent's processes are
# kept, pid 1's O_PATH fds of their mounts: _seal makes them read-only with the root (the agent's processes
# write no volume the verifier reads once it starts), the verifier's own namespace clears them by path.
_VOLUMES: list[str] = []
_VOLUME_FDS: list[int] = []
# pid 1's O_PATH fds of the SCRATCH (and SEALED_IN_SCRATCH) mounts it bound at the start (_bind_scratch): at
# the seal each must still be the mount at its path, found through no link. The agent may rename a directory
# above one (/var on FROM host: the /var/tmp mount then sits at /var2/tmp), which would leave it neither
# copied nor sealed and bound back live into the verifier's root (rt10a p12): the seal is refused instead.
_SCRATCH_FDS: list[tuple[str, int]] = []


def _within(path: str, top: str) -> bool:
    return top == "/" or path == top or path.startswith(top + "/")


def _bind_scratch(workdir: str) -> None:
    """At the start of an episode that keeps the agent's processes: each SCRATCH directory bound onto itself,
    a mount of its own, so that the files a service holds open there are not open on the root mount, which
    _seal makes read-only (a mount with a file open for writing cannot be). Skipped: a link on the way (a
    /var/log -> /usr link would keep /usr writable), a missing directory, and one that holds the workdir or
    lies in it (the agent's work stays read-only to its processes). A workdir of / (Docker's default where
    the Dockerfile sets none) says nothing of where the work is: scratch is bound there as for /app, else a
    service's log open in /tmp refused the seal and the service was killed before the tests."""
    for d in SCRATCH + SEALED_IN_SCRATCH:
        if (os.path.realpath(d) != d or not os.path.isdir(d) or _within(workdir, d)
                or workdir != "/" and _within(d, workdir)):
            continue
        _mount(d, d, None, MS_BIND | MS_REC)
        _SCRATCH_FDS.append((d, os.open(d, os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)))


def _seal() -> int:
    """Verification starts while the agent's processes live on: the root mount of pid 1's mount namespace,
    theirs, becomes read-only (the mount's own flag: every path, fd and cwd of theirs that reaches it, and
    every process they start later). They keep the SCRATCH mounts, /dev/shm and /dev, whose contents the
    verifier does not execute. They cannot undo it: no CAP_SYS_ADMIN, and the seccomp filter refuses mount
    and new user namespaces. The verifier's own mount namespace gets a root of its own over it
    (_own_root). 0, or the errno that refused it (EBUSY: a file on the root is open for writing).
    A SEALED_IN_SCRATCH directory made during the episode (the agent installed ruby: /var/lib/gems) is not
    a mount and stays writable: binding it now by its path would race them (a link put in its place).
    Then the copies of every SCRATCH mount the verifier will see (_copy_tmp):
    "<errno> <left out> <d>:<fd>... m<hex of a mount beneath one, not copied>..."."""
    err = _both_read_only(True)
    if err:
        return f"{err}"
    # With the root read-only nothing above a SCRATCH mount can be renamed any more (EROFS), nor a mount
    # point itself (EBUSY): where they are now is where they stay for the verifier
    if moved := _scratch_moved():
        _both_read_only(False)
        return f"{errno.EXDEV} {moved.encode().hex()}"
    try:
        left_out, implicit = _copy_tmp()
    except OSError as e:                       # no copy, no seal: the caller reports it
        _both_read_only(False)
        return f"{e.errno or 1}"
    if left_out:     # the copy must be exact: a partial view (an entry the task asked to delete, missing from
        _drop_copies()                 # it) would judge a world that is not theirs; the caller kills them
        _both_read_only(False)
        return f"{errno.E2BIG} {left_out}"
    if live := _live_mount():          # whatever the way it came about: nothing the verifier reads is live
        _drop_copies()
        _both_read_only(False)
        return f"{errno.EXDEV} {live.encode().hex()}"
    return " ".join([f"0 {implicit}", *(f"{d}:{fd}" for d, (fd, _) in _TMP_COPIES.items()),
                     *(f"m{m.encode().hex()}" for m in _submounts(tuple(_TMP_COPIES)))])


def _scratch_moved() -> str:
    """The first SCRATCH mount of the start (_SCRATCH_FDS) that its path no longer reaches, no link followed
    (a directory above it renamed, a link in its place); "" if none."""
    for d, fd in _SCRATCH_FDS:
        now = _openat2(-100, d, os.O_PATH | os.O_CLOEXEC, RESOLVE_NO_SYMLINKS)
        if now < 0:
            return d
        try:
            a, b = os.fstat(now), os.fstat(fd)
            if _fd_mount_id(now) != _fd_mount_id(fd) or (a.st_dev, a.st_ino) != (b.st_dev, b.st_ino):
                return d
        finally:
            os.close(now)
    return ""


def _live_mount() -> str:
    """After the copies: the first mount in pid 1's namespace that the agent's processes can still write and
    the verifier would see as it is: neither read-only now (the root, dpkg's and apt's, the volumes) nor a
    copied SCRATCH directory (_TMP_COPIES), nor the kernel's (/dev: the verifier gets its own; /proc, /sys).
    "" if none."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            mp = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[4])
            if "rw" not in fields[5].split(",") or mp in _TMP_COPIES:
                continue
            if not any(_within(mp, k) for k in ("/dev", "/proc", "/sys")):
                return mp
    return ""


# With the agent's processes alive, nothing the verifier reads may be live: "clean at the check" must stay
# true for the whole run. Every SCRATCH directory they still write (a mount of its own, _bind_scratch) reaches
# the verifier as a copy made at the seal, never the live directory, which a survivor could change under a
# path test.sh reads or makes later (a git config in /var/lib with a filter added once test.sh runs, a .pth in
# the venv it makes in /tmp, a link to a FIFO where it downloads its installer). At the seal, pid 1 copies
# what is there into a tmpfs of its own that is attached nowhere (fsmount: no process of the agent's can name
# it), and the verifier sees that copy with a private tmpfs on top (_private_tests); the check reads the same
# copy (Sandbox.tmp_copies). A mount beneath one (dpkg's and apt's SEALED_IN_SCRATCH, sealed with the root;
# /run/xfer; a volume) is not copied: the verifier gets that mount itself, bound over the copy. Copied:
# directories, regular files and symlinks that stay inside (no "..", an absolute target in a copied
# directory), with their modes, owners and times, up to TMP_COPY_BYTES together; a unix socket (a
# service's: supervisord's /tmp/supervisor.sock, redis's in /run) is an empty file in the copy, onto which
# the verifier's mount namespace binds the live socket, so that connect() reaches the service: the one
# live thing left, and only where the test names the service. FIFOs, devices, what is over the caps and
# the sockets at IMPLICIT_SOCKETS are left out.
TMP_COPY_BYTES, TMP_COPY_ENTRIES, TMP_SOCKETS, TMP_DEPTH = 512 << 20, 100_000, 256, 64
_TMP_COPIES: dict[str, tuple[int, list[tuple[str, int]]]] = {}   # d: (its copy's mount fd, [(socket, fd)])
# Where system libraries and tools connect on their own, never told to by the test: a socket there is asked
# for facts the verifier takes on trust (who a user is, what a name resolves to, whether a unit runs, a
# fresh uuid) by whatever program test.sh runs, so a survivor listening there answers for the system (a
# fake nscd makes `su app` run the agent's shell as root). A test asks for a service by its own path (a
# /tmp/supervisor.sock, redis's /run/redis), never these. Each is a directory (the daemon's) or a name
# pattern under /run or /var/run (a link to /run on Debian and Ubuntu, a directory in some images):
#   /run/nscd           glibc's nscd client: getpwnam, getgrnam, initgroups, getaddrinfo (passwd, group,
#                       hosts, services, netgroup), asked before nsswitch.conf is read
#   /run/systemd        nss-systemd and userdbctl (userdb/: every socket there is asked), nss-resolve
#                       (resolve/io.systemd.Resolve), nss-mymachines (machine/), journald (sd_journal,
#                       logger: journal/), systemctl (private), sd_notify (notify)
#   /run/dbus           the system bus (libdbus's and sd-bus's default address): polkit, pkexec, hostnamectl
#   /run/user           per-user runtime dirs: the session bus, gpg-agent and keyboxd (gnupg/), systemd --user
#   /run/uuidd          libuuid's uuid_generate_time asks uuidd
#   /run/avahi-daemon   nss-mdns (hosts: mdns4_minimal in nsswitch.conf)
#   /run/nslcd          nss-ldapd;   /var/lib/sss/pipes  sssd's nss and pam responders (libnss_sss, pam_sss)
#   /run/screen, /tmp/tmux-*, /tmp/.X11-unix  the default server of screen, tmux and the X display
#                       (xvfb-run's :99): a test starting its own would talk to the agent's
IMPLICIT_SOCKETS = ("/run/nscd", "/run/systemd", "/run/dbus", "/run/user", "/run/uuidd", "/run/avahi-daemon",
                    "/run/nslcd", "/var/lib/sss/pipes", "/run/screen", "/tmp/tmux-*", "/tmp/.X11-unix")


def _implicit(path: str) -> bool:
    """A socket at path is one that libraries and tools connect to on their own (IMPLICIT_SOCKETS). An
    image whose /var/run is a directory of its own has them there: glibc asks /var/run/nscd/socket."""
    if _within(path, "/var/run"):
        path = "/run" + path[len("/var/run"):]
    parts = path.split("/")
    return any(fnmatch.fnmatchcase("/".join(parts[:len(p.split("/"))]), p) for p in IMPLICIT_SOCKETS)


def _implicit_places() -> list[str]:
    """Where the IMPLICIT_SOCKETS paths (and their /var/run forms) lead in this mount namespace, links
    followed: the directories a library or tool would connect in."""
    forms = [p for q in IMPLICIT_SOCKETS for p in (q, *(["/var" + q] if _within(q, "/run") else []))]
    return [os.path.realpath(m) for p in forms for m in glob.glob(p)]


def _cover_sockets(top: str, budget: int = 4096) -> None:
    """/dev/null bound over every unix socket at or beneath top (no link followed), in this mount namespace:
    a survivor's socket in a volume, made before the seal at a path an IMPLICIT_SOCKETS one leads to (a
    /run/nscd link into it), is live whatever the copies, and connect() must not reach it. Past `budget`
    entries, top itself is covered with an empty read-only tmpfs: a walk that stops early must not leave
    a socket live (rt10a's note on p22: 4,096 files made before the socket, and a fake nscd answered)."""
    todo = [top]
    while todo and budget > 0:
        path = todo.pop()
        budget -= 1
        try:
            st = os.lstat(path)
            if stat.S_ISSOCK(st.st_mode):
                _mount("/dev/null", path, None, MS_BIND)
            elif stat.S_ISDIR(st.st_mode):
                todo.extend(os.path.join(path, name) for name in os.listdir(path))
        except OSError:                        # gone, unreadable: nothing to connect to there either
            pass
    if todo and os.path.isdir(top) and not os.path.islink(top):
        _mount("tmpfs", top, "tmpfs", MS_NOSUID | MS_NODEV | MS_RDONLY, "mode=755,size=4k")


def _volume_points() -> list[str]:
    """Where the writable volumes are in this mount namespace, wherever the agent moved them (a parent
    renamed): the mount points whose root is a volume's root (pid 1's fds of them, _VOLUME_FDS)."""
    roots = {(st.st_dev, st.st_ino) for st in map(os.fstat, _VOLUME_FDS)}
    points = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), line.split()[4])
            try:
                st = os.stat(mp, follow_symlinks=False)
            except OSError:
                continue
            if (st.st_dev, st.st_ino) in roots and mp not in points:
                points.append(mp)
    return points


def _drop_copies() -> None:
    for fd, socks in _TMP_COPIES.values():
        for _, sfd in socks:
            os.close(sfd)
        os.close(fd)
    _TMP_COPIES.clear()


def _copy_tmp() -> tuple[int, int]:
    """Copy each SCRATCH directory that is a mount of its own into _TMP_COPIES (the name is older than the
    rule: all of SCRATCH, not only /tmp and /var/tmp): (how many entries could not be copied: over the caps,
    devices, swapped meanwhile; how many sockets at IMPLICIT_SOCKETS were left out on purpose)."""
    _drop_copies()
    budget = [TMP_COPY_BYTES, TMP_COPY_ENTRIES, 0, 0]   # bytes left, entries left, not copied, implicit
    tops = tuple(d for d in SCRATCH if _is_mount(d))   # the others are on the sealed root, not theirs
    for d in tops:
        mnt = _fsmount(b"tmpfs", {b"size": str(TMP_COPY_BYTES + (64 << 20)).encode(), b"mode": b"755"})
        socks: list[tuple[str, int]] = []
        src = os.open(d, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        dst = os.open(".", os.O_RDONLY | os.O_DIRECTORY, dir_fd=mnt)
        try:
            _copy_tree(src, dst, "", socks, budget, 0, _Walk(d, tops, _fd_mount_id(src)))
            _own(dst, os.fstat(src))
        finally:
            os.close(src)
            os.close(dst)
        attr = _MountAttr(MOUNT_ATTR_RDONLY, 0, 0, 0)            # the verifier's writes go on top of it
        _libc.syscall(442, mnt, b"", AT_EMPTY_PATH, ctypes.byref(attr), ctypes.sizeof(attr))
        _TMP_COPIES[d] = (mnt, socks)
    return budget[2], budget[3]


# What _copy_tree needs to know of the directory it copies: its path (d), all the directories copied (where an
# absolute link may point), and its mount (a directory on another is a mount beneath it). A namedtuple, not a
# dataclass: dataclasses imports inspect (dis, ast, ...), milliseconds of every sandbox's start.
_Walk = namedtuple("_Walk", "d tops mount")


def _fd_mount_id(fd: int) -> int:
    with open(f"/proc/self/fdinfo/{fd}") as f:
        return int([l for l in f if l.startswith("mnt_id:")][0].split()[1])


def _submounts(tops: tuple[str, ...]) -> list[str]:
    """The outermost mount points strictly beneath the directories tops, in this mount namespace."""
    points = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), line.split()[4])
            if any(_within(mp, d) and mp != d for d in tops):
                points.append(mp)
    return sorted({p for p in points if not any(_within(p, q) and p != q for q in points)})


def _mounts_beneath(tops: tuple[str, ...]) -> list[tuple[str, int]]:
    """_submounts(tops), each with an O_PATH fd opened through no symlink (-1 where one is on the way)."""
    return [(m, _openat2(-100, m, os.O_PATH | os.O_CLOEXEC, RESOLVE_NO_SYMLINKS)) for m in _submounts(tops)]


def _copy_tree(src: int, dst: int, rel: str, socks: list, budget: list, depth: int, walk: _Walk) -> None:
    """Copy directory src into dst: every name opened O_PATH | O_NOFOLLOW beneath its parent's fd and
    judged by fstat of what was opened, so a name the agent's processes swap meanwhile is copied as
    whatever it was then, never followed out. A directory on another mount is copied empty (a mount point
    for _private_tests to bind that mount on)."""
    with os.scandir(src) as it:
        names = [e.name for e in it]
    for name in names:
        if budget[1] <= 0 or depth >= TMP_DEPTH:
            budget[2] += 1
            continue
        budget[1] -= 1
        try:
            fd = os.open(name, os.O_PATH | os.O_NOFOLLOW, dir_fd=src)
        except OSError:                        # gone meanwhile
            continue
        try:
            st = os.fstat(fd)
            kind = stat.S_IFMT(st.st_mode)
            if kind == stat.S_IFDIR:
                os.mkdir(name, 0o700, dir_fd=dst)
                sub = os.open(f"/proc/self/fd/{fd}", os.O_RDONLY | os.O_DIRECTORY)
                into = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dst)
                try:
                    if _fd_mount_id(sub) == walk.mount:
                        _copy_tree(sub, into, f"{rel}{name}/", socks, budget, depth + 1, walk)
                    _own(into, st)
                finally:
                    os.close(sub)
                    os.close(into)
            elif kind == stat.S_IFREG:
                f = os.open(f"/proc/self/fd/{fd}", os.O_RDONLY | os.O_NONBLOCK)
                try:
                    size = os.fstat(f).st_size
                    if size > budget[0]:
                        budget[2] += 1
                        continue
                    out = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600,
                                  dir_fd=dst)
                    try:
                        done = 0
                        while done < size:     # no more than fstat said: a file growing meanwhile stops there
                            n = os.sendfile(out, f, done, size - done)
                            if n <= 0:
                                break
                            done += n
                        budget[0] -= done
                        _own(out, st)
                    finally:
                        os.close(out)
                finally:
                    os.close(f)
            elif kind == stat.S_IFLNK:
                # copied as it is, wherever it points: every place in the verifier's view is a copy, the
                # sealed root, a mount the copy binds back, or theirs only through /proc/PID, which the
                # verifier's Landlock domain refuses (Debian's /var/spool/mail -> ../mail is kept)
                os.symlink(os.readlink(name, dir_fd=src), name, dir_fd=dst)
                try:
                    os.chown(name, st.st_uid, st.st_gid, dir_fd=dst, follow_symlinks=False)
                except OSError:
                    pass
            elif kind == stat.S_IFIFO:        # a fresh FIFO of its own: what a writer of theirs sends never
                os.mkfifo(name, 0o600, dir_fd=dst)                                 # reaches the verifier
                os.chown(name, st.st_uid, st.st_gid, dir_fd=dst, follow_symlinks=False)
                os.chmod(name, stat.S_IMODE(st.st_mode), dir_fd=dst)
            elif kind == stat.S_IFSOCK and _implicit(f"{walk.d}/{rel}{name}"):
                budget[3] += 1                 # left out on purpose (IMPLICIT_SOCKETS)
            elif kind == stat.S_IFSOCK and len(socks) < TMP_SOCKETS:
                out = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=dst)
                _own(out, st)
                os.close(out)
                socks.append((rel + name, fd))
                fd = -1                        # kept: the verifier binds it (_private_tests)
            else:
                budget[2] += 1
        except OSError:                        # ENOSPC, a name swapped meanwhile: left out
            budget[2] += 1
        finally:
            if fd >= 0:
                os.close(fd)


def _own(fd: int, st: os.stat_result) -> None:
    """fd takes st's owner, mode and times (an owner this namespace does not map stays root)."""
    try:
        os.fchown(fd, st.st_uid, st.st_gid)
    except OSError:
        pass
    os.fchmod(fd, stat.S_IMODE(st.st_mode))
    os.utime(fd, ns=(st.st_atime_ns, st.st_mtime_ns))


def _read_only(on: bool) -> int:
    """The flag on the root mount, the SEALED_IN_SCRATCH mounts and the volumes (set, or cleared): 0 or an
    errno. Setting stops at the first refusal and clears what it set: all of them, or none."""
    attr = _MountAttr(MOUNT_ATTR_RDONLY, 0, 0, 0) if on else _MountAttr(0, MOUNT_ATTR_RDONLY, 0, 0)
    for d in ("/", *SEALED_IN_SCRATCH):
        if d != "/" and not _is_mount(d):
            continue
        if _libc.syscall(442, -100, d.encode(), 0, ctypes.byref(attr), ctypes.sizeof(attr)) != 0:
            err = ctypes.get_errno() or 1
            if on:
                _read_only(False)
            return err
    for fd, path in zip(_VOLUME_FDS, _VOLUMES):
        # pid 1: the mount its fd holds (wherever the agent moved it); another mount namespace (the
        # verifier's copy, where the fd's mount is not) clears its own by path
        if _libc.syscall(442, fd, b"", AT_EMPTY_PATH, ctypes.byref(attr), ctypes.sizeof(attr)) == 0:
            continue
        if on:
            err = ctypes.get_errno() or 1
            _read_only(False)
            return err
        _libc.syscall(442, -100, path.encode(), AT_SYMLINK_NOFOLLOW, ctypes.byref(attr), ctypes.sizeof(attr))
    return 0


def _both_read_only(on: bool) -> int:
    """_read_only in pid 1's mount namespace and in the agent's (_agent_namespaces): both or neither."""
    err = _read_only(on)
    if err and on:
        return err
    err = _agent_read_only(on) or err
    if err and on:
        _read_only(False)
    return err


def _is_mount(d: str) -> bool:
    """d is a mount point of our own making (_bind_scratch): a real directory whose mount id is not its
    parent's."""
    try:
        if os.path.realpath(d) != d:
            return False
        return os.stat(d, follow_symlinks=False).st_dev != os.stat(os.path.dirname(d)).st_dev or \
            _mount_id(d) != _mount_id(os.path.dirname(d))
    except OSError:
        return False


def _mount_id(path: str) -> int:
    fd = os.open(path, os.O_PATH | os.O_NOFOLLOW)
    try:
        return _fd_mount_id(fd)
    finally:
        os.close(fd)


def _private_logs(sock: socket.socket, owner: tuple[int, int] = (0, 0), sealed: bool = False,
                  caches: tuple[str, ...] = (), homes: tuple = (), room_mb: int = 1024,
                  tests: str = "", killed: bool = False) -> None:
    """In the verifier's child, before its exec: its own mount namespace, a fresh tmpfs at /logs/verifier
    (owned by the verifier's user, `owner` (uid, gid), mode 755: a process run as another user cannot write
    it), its fd sent to pid 1; and a fresh tmpfs at PYCACHE (the same owner, mode 700: the tests' bytecode
    is a copy of them, not another user's to read), so that Python's bytecode comes from the verifier's
    own compiling, never from a __pycache__ the agent planted beside a source file (the pyc header only
    names the source's size and mtime, which the agent can copy; `python -I` ignores PYCACHE: the
    __pycache__ directories of the agent's bytecode come in `homes`, harbor.bytecode_views). `caches`: as
    the image had them (_caches); `homes` too, less what stays the agent's (verifier_homes). killed: the
    agent's processes are all dead, and the verifier gets a root of its own all the same (_killed_root)."""
    # An IPC namespace of its own too: its SysV objects and POSIX message queues are in no instance a
    # survivor shares (rt6 p01, _fresh_dev)
    _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWIPC), "unshare(mount, ipc)")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    uppers = _private_tests(owner, room_mb, tests) if sealed else \
        _killed_root(owner, room_mb, tests) if killed else []
    _fresh_dev()
    _homes(homes)
    _caches(caches)
    for d in ("/logs", "/logs/verifier", PYCACHE):   # real directories only: a link would move the mount
        if os.path.islink(d) or (os.path.lexists(d) and not os.path.isdir(d)):
            raise OSError(f"{d} is not a directory")
        if not os.path.lexists(d):
            os.mkdir(d, 0o755)
    ids = f"uid={owner[0]},gid={owner[1]}"
    _mount("tmpfs", PYCACHE, "tmpfs", MS_NOSUID | MS_NODEV, f"mode=700,size=512m,{ids}")   # see above
    _mount("tmpfs", "/logs/verifier", "tmpfs", MS_NOSUID | MS_NODEV, f"mode=755,size=16m,{ids}")
    fd = os.open("/logs/verifier", os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    if uppers:                                 # a root of its own: every view's upper too ("+": all its own)
        uppers += [("+" + d, u) for d, u in _VIEW_UPPERS]
    else:
        for _, u in _VIEW_UPPERS:
            os.close(u)
    items = [("", fd), *uppers]
    for i in range(0, len(items), FDS_PER_MESSAGE):
        part = items[i:i + FDS_PER_MESSAGE]
        socket.send_fds(sock, [marshal.dumps((i + FDS_PER_MESSAGE < len(items), [d for d, _ in part]))],
                        [u for _, u in part])
    for _, f in items:
        os.close(f)
    sock.close()


def _own_root(room_mb: int) -> tuple[int, list[tuple[str, int]]]:
    """The verifier's own root, beside the agent's live processes (after _seal): an overlay of the sealed
    root (read-only below) with an upper of its own, a tmpfs of room_mb attached nowhere, made the root of
    this mount namespace with every mount beneath the old one bound back at its place. What test.sh writes
    anywhere on the root (a copy of the tests, an expected output, pip's installs) lands there: no survivor
    can read it (rt7 p11), and no survivor's writes can leave it without room (rt8 p11: the episode's
    storage is theirs to fill). An O_PATH fd of the upper directory, for the check after the tests, and the
    live sockets on the sealed root (_root_sockets), for _private_tests to bind over the overlay's."""
    below = _mounts_beneath(("/",))
    old = os.open("/", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    socks = _root_sockets(old)                 # before the old root is detached: clones of a mount of ours
    tmp = _fsmount(b"tmpfs", {b"size": f"{room_mb}m".encode(), b"mode": b"755"})
    try:
        for m, fd in below:
            _check(min(0, fd), f"open {m}")
        for d in ("upper", "work"):
            os.mkdir(d, 0o755, dir_fd=tmp)
        root = _fsmount(b"overlay", {b"lowerdir": f"/proc/self/fd/{old}".encode(),
                                     b"upperdir": f"/proc/self/fd/{tmp}/upper".encode(),
                                     b"workdir": f"/proc/self/fd/{tmp}/work".encode(), b"userxattr": None})
        try:
            # attached over the old root (a mount of this namespace, as mount(2) wants its targets), entered
            # by its fd, the old root's mounts bound back beneath it, then pivot_root(".", ".") as at start
            _check(_libc.syscall(429, root, b"", -100, b"/", 0x4), "move_mount(root)")  # F_EMPTY_PATH
            os.fchdir(root)
            for m, fd in below:
                _mount(f"/proc/self/fd/{fd}", "." + m, None, MS_BIND | MS_REC)
            _check(_libc.syscall(155, b".", b"."), "pivot_root")
            _check(_libc.umount2(b".", 2), "detach the sealed root")               # MNT_DETACH
            os.chdir("/")
        finally:
            os.close(root)
        return os.open("upper", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=tmp), socks
    finally:
        for _, fd in below:
            if fd >= 0:
                os.close(fd)
        os.close(old)
        os.close(tmp)


def _root_sockets(old: int) -> list[tuple[str, int]]:
    """The unix sockets bound on the sealed root (old, its fd), as (path, a detached clone of the socket's
    inode: open_tree). The verifier's root is an overlay of it, where the same path is a new inode that
    connect() does not match to the bound socket (rt10a's note on p22: a service's socket in the workdir
    was refused); bound back over it, it connects live, as CONTAINMENT.md promises. Found by the paths the
    kernel lists as bound (/proc/net/unix: absolute ones; a relative bind names no place), resolved on the
    root mount itself (links followed inside it: the copies and mounts beneath have their own sockets), at
    most TMP_SOCKETS: one not bound back is refused, never reached."""
    try:
        with open("/proc/net/unix", "rb") as f:
            lines = f.read().splitlines()[1:]
    except OSError:
        return []
    out, seen = [], set()
    for line in lines:
        fields = line.split(None, 7)           # Num RefCount Protocol Flags Type St Inode Path
        if len(out) >= TMP_SOCKETS:
            break
        if len(fields) < 8 or not fields[7].startswith(b"/"):
            continue                           # unbound, abstract (@name), or bound by a relative path
        fd = _openat2(old, os.fsdecode(fields[7]), os.O_PATH | os.O_CLOEXEC,
                      RESOLVE_IN_ROOT | RESOLVE_NO_XDEV)
        if fd < 0:
            continue
        try:
            path = os.readlink(f"/proc/self/fd/{fd}")          # the old root is still ours: its real path
            if stat.S_ISSOCK(os.fstat(fd).st_mode) and path not in seen:
                tree = _libc.syscall(428, fd, b"", 1 | AT_EMPTY_PATH | os.O_CLOEXEC)   # OPEN_TREE_CLONE
                if tree >= 0:
                    seen.add(path)
                    out.append((path, tree))
        finally:
            os.close(fd)
    return out


def _fsmount(fstype: bytes, options: dict) -> int:
    """A new mount of fstype with options (a value of None: a flag), attached nowhere: its fd."""
    fs = _libc.syscall(430, fstype, 1)                                          # fsopen, FSOPEN_CLOEXEC
    _check(min(0, fs), f"fsopen({fstype.decode()})")
    try:
        for key, value in options.items():
            _check(_libc.syscall(431, fs, 0 if value is None else 1, key, value, 0),   # SET_FLAG, SET_STRING
                   f"fsconfig({key.decode()})")
        _check(_libc.syscall(431, fs, 6, None, None, 0), f"fsconfig(create {fstype.decode()})")
        mnt = _libc.syscall(432, fs, 1, 0x2 | 0x4)          # fsmount: FSMOUNT_CLOEXEC; NOSUID | NODEV
        _check(min(0, mnt), f"fsmount({fstype.decode()})")
        return mnt
    finally:
        os.close(fs)


def _volumes_writable() -> None:
    """The caller's volumes, writable again in this mount namespace (shared with the sidecars, by design)."""
    attr = _MountAttr(0, MOUNT_ATTR_RDONLY, 0, 0)
    for path in _VOLUMES:
        _libc.syscall(442, -100, path.encode(), AT_SYMLINK_NOFOLLOW, ctypes.byref(attr), ctypes.sizeof(attr))


def _private_tests(owner: tuple[int, int] = (0, 0), room_mb: int = 1024,
                   tests: str = "") -> list[tuple[str, int]]:
    """The verifier beside the agent's live processes (after _seal): a root of its own (_own_root; test.sh
    may install its runner), and a fresh tmpfs at /tests holding the stage `tests` (_copy_tests): the
    agent's processes never see the tests, so they cannot rewrite them while they run. Returns (d, an fd of
    the upper directory of its overlay) for each copied SCRATCH directory d (_TMP_COPIES), and ("+/", the
    root's) and ("+d", ...) for each sealed package-manager directory d (SEALED_IN_SCRATCH): what test.sh
    wrote."""
    root, root_socks = _own_root(room_mb)
    uppers = [("+/", root)]
    _volumes_writable()
    # Every place they still write, as the copy made at the seal (_copy_tmp), never the live directory; the
    # mounts beneath one (dpkg's, apt's, /run/xfer, a volume) bound back over it, as they are here. dpkg's
    # and apt's (SEALED_IN_SCRATCH) are sealed to them and writable here again: test.sh may install packages.
    below = _mounts_beneath(tuple(_TMP_COPIES))
    live = {d: _live_sockets(d, socks) for d, (_, socks) in _TMP_COPIES.items()}   # before they are covered
    for d, (mnt, _) in _TMP_COPIES.items():
        uppers.append((d, _private_overlay(d, below=mnt)))
    for m, fd in below:
        _check(min(0, fd), f"open {m}")
        if not os.path.lexists(m):             # left out of the copy: made in the verifier's own layer
            os.makedirs(os.path.dirname(m), exist_ok=True)
            if stat.S_ISDIR(os.fstat(fd).st_mode):
                os.mkdir(m)
            else:
                open(m, "x").close()
        if os.path.realpath(m) != m:           # a link of the agent's in the copy: never followed
            raise OSError(f"{m} is a link in the verifier's copy")
        _mount(f"/proc/self/fd/{fd}", m, None, MS_BIND | MS_REC)
        os.close(fd)
    # dpkg's and apt's, sealed with the root: read-only here too, so test.sh's `apt-get install` writes them
    # through an overlay of its own (what it wrote: for the check after the tests)
    for d in SEALED_IN_SCRATCH:
        if os.path.realpath(d) == d and _is_mount(d):
            uppers.append(("+" + d, _private_overlay(d)))
    # The live sockets, each bound onto its empty file in the copy, but none where an IMPLICIT_SOCKETS path
    # leads in the verifier's view, through whatever links the agent left (a /var/run or /run/nscd link
    # into /tmp, where the copy kept its socket at a path of no interest)
    # and where one leads out of the copies: on the sealed root (and its overlay here) a socket connects only
    # where it is bound back below, never at these; in a volume, seen as it is, every one is covered
    implicit = _implicit_places()
    volumes = _volume_points()
    for p in implicit:
        if not any(_within(p, d) for d in _TMP_COPIES):
            for v in volumes:
                if _within(p, v) or _within(v, p):
                    _cover_sockets(p if _within(p, v) else v)
    for d, socks in live.items():
        for rel, fd in socks:
            path = f"{d}/{rel}"
            if (os.path.realpath(path) == path and os.path.isfile(path)
                    and not any(_within(path, p) for p in implicit)):
                try:
                    _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND)
                except OSError:
                    pass
            os.close(fd)
    # and those on the sealed root (the workdir's), each over its path in the verifier's root, on the same
    # terms: where no link is on the way, no copy or volume stands over it, and no implicit path leads
    for path, tree in root_socks:
        try:
            if (os.path.realpath(path) == path and stat.S_ISSOCK(os.lstat(path).st_mode)
                    and not any(_within(path, d) for d in (*_TMP_COPIES, *volumes, *implicit))):
                _libc.syscall(429, tree, b"", -100, path.encode(), 0x4)   # move_mount, F_EMPTY_PATH
        except OSError:
            pass
        os.close(tree)
    # A scratch directory on the sealed root (not a mount: it holds the workdir or lies in it, a workdir of
    # /tmp or /var) needs nothing more: the root of its own (_own_root) is already an overlay over what the
    # agent left there, exact and read-only below, and what test.sh writes lands in that root's upper,
    # private and read by the check after the tests ("+/"). Another overlay on it would stack a third
    # filesystem (this root over the episode's overlay), one past the kernel's limit: mount(2) EINVAL.
    _fresh_tests(owner, tests)
    return uppers


def _fresh_tests(owner: tuple[int, int], tests: str) -> None:
    """A fresh tmpfs at /tests (on the verifier's own root), holding the stage `tests` (_copy_tests)."""
    if os.path.islink("/tests") or (os.path.lexists("/tests") and not os.path.isdir("/tests")):
        os.unlink("/tests")                    # what the agent left there (a link) is not followed
    if not os.path.lexists("/tests"):
        os.mkdir("/tests", 0o755)
    _mount("tmpfs", "/tests", "tmpfs", MS_NOSUID | MS_NODEV,
           f"mode=755,size=2g,uid={owner[0]},gid={owner[1]}")
    if tests:
        _copy_tests(tests, owner)


def _killed_root(owner: tuple[int, int] = (0, 0), room_mb: int = 1024,
                 tests: str = "") -> list[tuple[str, int]]:
    """The verifier after the agent's processes were all killed (--kill-agent-processes, or a seal refused
    and its survivors killed): nothing of theirs writes any more, so nothing is copied, but test.sh still
    writes no inode the agent can name. On the episode's layer itself its `> /srv/expected.txt` wrote
    through the agent's hard link to /app/answer.txt, and cmp compared the answer with itself (rt12a p09,
    p15). So, as _private_tests gives the sealed verifier: /tmp, /var/tmp and every place of theirs that is
    a mount of its own (a refused seal's SCRATCH binds) seen through an overlay of the verifier's own, the
    live mount below, the mounts beneath it bound back (a volume; dpkg's bind, overlaid in its turn); then a
    root of its own (_own_root) over the episode's, and a fresh /tests. /tmp is thus a mount of its own, as
    in the sealed lifecycle: a local `git clone /app/repo /tmp/x` hard-links across one file system, which
    failed on the layer (rt12a p25). Returns ("+" + d, an fd of the upper directory) for each, "+/" the
    root's: all of it the verifier's writes (Sandbox.verifier_own)."""
    places = [d for d in SCRATCH + SEALED_IN_SCRATCH if _is_mount(d)]
    places += [d for d in VERIFIER_TMP if d not in places and os.path.realpath(d) == d and os.path.isdir(d)]
    uppers = []
    for d in sorted(places, key=lambda p: p.count("/")):   # outer first: an inner one is bound back, then
        below = _mounts_beneath((d,))                        # overlaid in its turn
        try:
            uppers.append(("+" + d, _private_overlay(d)))
            for m, fd in below:
                _check(min(0, fd), f"open {m}")
                if os.path.realpath(m) != m:   # nothing of theirs runs to make one, but never followed
                    raise OSError(f"{m} is a link in the verifier's view")
                _mount(f"/proc/self/fd/{fd}", m, None, MS_BIND | MS_REC)
        finally:
            for _, fd in below:
                if fd >= 0:
                    os.close(fd)
    root, socks = _own_root(room_mb)
    for _, tree in socks:                      # nothing of theirs listens any more: none is bound back
        os.close(tree)
    _fresh_tests(owner, tests)
    return [("+/", root), *uppers]


def _copy_tests(name: str, owner: tuple[int, int]) -> None:
    """The stage `name` (in the host directory pid 1 holds an fd of, _STAGE) copied into /tests, as `cp -a`
    run as the verifier's user left it: modes and times kept, every entry (/tests too) owned by `owner`.
    The stage itself is mounted nowhere: once test.sh runs, the tests are at /tests and nowhere else
    (rt10a p28: a stage left at /run/xfer/<hex>, 644, was read by the agent's code that a built-in check
    runs as nobody after making /tests root's 0700; rt6 p18: one every process saw was read by a survivor).
    pid 1's own Python copies, not `cp`: nothing of the root, the agent's to have written, runs here."""
    if not _STAGE:
        raise OSError("cannot copy the tests to /tests: no stage")
    src = _openat2(_STAGE[0], name, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC,
                   RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)
    _check(min(0, src), f"open the stage {name}")
    dst = os.open("/tests", os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    budget = [2 << 30, TMP_COPY_ENTRIES, 0, 0]   # /tests' size; harbor checked the room before staging
    try:
        _copy_tree(src, dst, "", [], budget, 0, _Walk("/tests", ("/tests",), _fd_mount_id(src)))
        _own(dst, os.fstat(src))
    finally:
        os.close(src)
        os.close(dst)
    if budget[2]:
        raise OSError(f"cannot copy the tests to /tests: {budget[2]} entries left out")
    for top, dirs, files in os.walk("/tests"):   # a tmpfs no other process sees: paths are safe here
        for p in [top, *(os.path.join(top, n) for n in dirs + files)]:
            os.lchown(p, *owner)


def _live_sockets(d: str, socks: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """The sockets _copy_tmp found in d, opened again in this mount namespace (a bind's source must be a
    mount of it): by their paths beneath d with no symlink followed, and only where the path still holds
    the very socket pid 1 opened at the seal."""
    out, top = [], os.open(d, os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW)
    for rel, sfd in socks:
        fd = _openat2(top, rel, os.O_PATH | os.O_CLOEXEC, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)
        if fd < 0:
            continue
        now, then = os.fstat(fd), os.fstat(sfd)
        if stat.S_ISSOCK(now.st_mode) and (now.st_dev, now.st_ino) == (then.st_dev, then.st_ino):
            out.append((rel, fd))
        else:
            os.close(fd)
    os.close(top)
    return out


def _private_overlay(d: str, below: int | None = None) -> int:
    """d seen through an overlay of the verifier's own: what is there below (d itself, or the directory fd
    `below`: its copy), read-only to it, and what it writes on a private tmpfs on top, which the agent's
    processes never see. Returns an O_PATH fd of that upper directory."""
    below = os.open(d, os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW) if below is None else \
        os.open(f"/proc/self/fd/{below}", os.O_PATH | os.O_DIRECTORY)      # a magic link: followed
    try:
        _mount("tmpfs", d, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=4g")
        top = os.open(d, os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW)
        try:
            os.mkdir(f"{d}/upper")
            os.chmod(f"{d}/upper", os.stat(f"/proc/self/fd/{below}").st_mode & 0o7777)
            os.mkdir(f"{d}/work")
            _mount("overlay", d, "overlay", 0, f"lowerdir=/proc/self/fd/{below},"
                   f"upperdir=/proc/self/fd/{top}/upper,workdir=/proc/self/fd/{top}/work,userxattr")
            return os.open("upper", os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=top)
        finally:
            os.close(top)
    finally:
        os.close(below)


# What _fresh_dev makes in /dev: not test.sh's writes (a link of the agent's to /dev/null is no link to them)
FRESH_DEV = ("null", "zero", "full", "random", "urandom", "tty", "fd", "stdin", "stdout", "stderr", "ptmx",
             "shm", "pts", "mqueue")


def _fresh_dev() -> None:
    """A /dev of the verifier's own, as _mount_system made the agent's: /dev is a writable tmpfs outside the
    checked layer, where the agent can replace /dev/fd (process substitution then reads its file) or any
    link. Its device nodes are mount points, which the agent cannot remove or rename: they are bound from
    the old /dev (through an fd, under the new tmpfs). /dev/shm (POSIX shared memory) and /dev/pts are
    fresh: no kernel object the verifier allocates is in an instance the agent's processes share. A pty of
    the agent's devpts would be named in their /dev/pts, where a survivor writes into every new slave and a
    test reading the agent's program under a pty (pexpect, script(1)) reads the survivor (rt6 p01); SysV IPC
    and POSIX message queues are the verifier's IPC namespace's (_private_logs), and so is /dev/mqueue."""
    old = os.open("/dev", os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        _mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=1m")
        for d in ("null", "zero", "full", "random", "urandom", "tty"):
            open(f"/dev/{d}", "w").close()
            _mount(f"/proc/self/fd/{old}/{d}", f"/dev/{d}", None, MS_BIND)
    finally:
        os.close(old)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2"), ("ptmx", "pts/ptmx")):
        os.symlink(target, f"/dev/{name}")
    os.mkdir("/dev/shm")
    _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=64m")
    _VIEW_UPPERS.append(("/dev/shm", os.open("/dev/shm", os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW)))
    os.mkdir("/dev/pts")                       # as _mount_system's: a devpts instance of its own
    _mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, DEVPTS.format(PTYS))
    os.mkdir("/dev/mqueue")                    # the IPC namespace's, made by the caller: the verifier's own
    _mount("mqueue", "/dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    # /dev itself is writable too (Docker's is): what test.sh writes there besides FRESH_DEV is read after
    _VIEW_UPPERS.append(("/dev", os.open("/dev", os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW)))
    _VIEW_UPPERS.append(("/dev/mqueue", os.open("/dev/mqueue", os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW)))


# Caches (by the FHS, /var/cache holds what can be deleted without loss) and the package lists apt checked
# against their signatures when it downloaded them: state the verifier's tools trust without checking it
# again (ldconfig's aux-cache, apt's archives and lists, pip's, uv's, go's, npm's caches in HOME). The
# verifier sees each as the image had it, with a private tmpfs on top for what it writes there itself, and
# never as the agent left it; where the image has none, an empty directory of its own. A tool's cache
# elsewhere (the workdir's .ruff_cache, harbor.TOOL_CACHES) comes the same way, in `homes`
# (harbor.cache_views).
VERIFIER_CACHES = ("/var/cache", "/var/lib/apt/lists")
HOME_CACHES = (".cache", ".npm")               # XDG's default cache home (pip, uv, go-build, ...), npm's
_IMAGE: list[int] = []                         # pid 1's fd of the image alone (_image_view), if it has one


def cache_dirs(home: str, env: dict) -> tuple[str, ...]:
    """VERIFIER_CACHES, those of HOME, and the image's XDG_CACHE_HOME if its ENV sets one."""
    xdg = env.get("XDG_CACHE_HOME", "")
    dirs = [*VERIFIER_CACHES, *(os.path.join(home, c) for c in HOME_CACHES if os.path.isabs(home))]
    return tuple(dict.fromkeys(os.path.normpath(d) for d in dirs + ([xdg] if os.path.isabs(xdg) else [])))


# Per-user configuration: what a tool reads from a home before it does anything asked of it (ssh's
# ~/.ssh/config `Match exec`, sqlite3's ~/.sqliterc `.shell`, gdb's ~/.gdbinit, dpkg's ~/.dpkg.cfg, file(1)'s
# ~/.magic), run as root by a verifier's tool. No list of tools is complete (rt7 found three beyond
# tamper.CONFIG's, rt10 two more), so the verifier sees every home as the image had it: root's, /home, the
# HOME it runs with (wherever the image, its user or the task put it), that of each user of the image's
# /etc/passwd with a login shell (`su app -c ...`: a service user's /opt/app) and the XDG base directories
# of its environment, with a private tmpfs on top for what test.sh writes (_caches). What is the agent's
# inside one is bound back over the image's view: the workdir, and each path the task's tests name there
# (harbor.homes_named: the check reads what the agent left at /root/notes.txt, or at ~/.bashrc where the
# task asks for one). A home the tests name as such (`Path.home()`, a bare `~`: rt10 p19's `data[~mask]`)
# is never the agent's whole: per-user configuration lives in a home's dot-entries (.bashrc, .dpkg.cfg,
# .config/, .local/) by Unix convention, so only its other entries are bound back (HOME_GLOB); and so are
# those of a login user's home outside /root and /home, named or not (its data is often there), and of a
# home in scratch (SCRATCH_HOMES). The XDG directories are configuration all through: none of their entries
# is bound back but those named.
XDG_HOMES = ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME")
# Never a home of the verifier's own view: the system and the verifier's own places
NOT_HOMES = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/proc", "/sys", "/dev",
             "/tests", "/logs")
# A home in scratch is a home all the same (rt11a p06: an image's `ENV HOME=/tmp/home`, whose agent-made
# ~/.kube/config ran its exec plugin as root under test.sh's kubectl), but scratch holds the task's files
# too (HOME=/tmp and a check reading /tmp/out.txt): as a login user's home outside /root and /home, only its
# dot-entries are the image's, its other entries stay the agent's.
SCRATCH_HOMES = ("/tmp", "/var/tmp", "/run", "/var/run")
HOME_GLOB = "*"                                # a path component: each name there but a dot-name


def verifier_homes(home: str, env: dict, workdir: str, kept: tuple[str, ...], users: tuple[str, ...] = (),
                   whole: tuple[str, ...] = ()) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The homes the verifier sees as the image had them (see above), outer ones first, each with the paths
    in it that stay the agent's: (home, (path, ...)), where a path may end in HOME_GLOB components
    ("/root/*": each entry of /root but its dot-entries; "/home/*/*": of each home under /home).
    Candidates: /root, /home, `home` (test.sh's HOME), `users` (the homes of the image's users who have a
    login shell) and the XDG ones of env. kept: what the tests name ("~" the whole of `home`, "~/x" a path
    in it, "/" everything): a path names itself, but one that is a home or holds one names only that
    home's glob, never its dot-entries; a user's home outside /root and /home has its glob anyway (its
    data is often there), and so has any home in scratch (SCRATCH_HOMES). whole: paths that stay the
    agent's whole (a separate verifier's artifacts), as the workdir does. A candidate inside another is
    the outer one's, unless a glob of the outer one binds back the agent's entry that holds it
    (XDG_CONFIG_HOME=/root/cfg): then it has a view of its own."""
    norm = lambda ps: [os.path.normpath(home + p[1:] if p.startswith("~") else p)     # noqa: E731
                       for p in ps if p.startswith("~") or os.path.isabs(p)]
    kept, whole, users = norm(kept), norm(whole), norm(users)
    people = list(dict.fromkeys(norm(["/root", home, *users])))
    xdg = norm([env.get(k, "") for k in XDG_HOMES])
    dirs = [d for d in dict.fromkeys(["/root", "/home", *people, *xdg]) if d != "/" and d != workdir
            and not any(_within(d, n) for n in NOT_HOMES) and not any(_within(d, w) for w in whole)]
    named, globs = [], [f"{u}/*" for u in users if not _within(u, "/root") and not _within(u, "/home")]
    globs += [f"{h}/*" for h in people if any(_within(h, s) for s in SCRATCH_HOMES)]
    for k in kept:
        homes = [h for h in people if _within(h, k)] + [k] * (os.path.dirname(k) == "/home")
        if homes or _within("/home", k) or any(_within(d, k) for d in dirs):
            globs += [f"{h}/*" for h in homes] + ["/home/*/*"] * _within("/home", k)
        else:
            named.append(k)
    dirs.sort(key=lambda d: d.count("/"))      # stable: outer ones first
    outer = lambda p, among: next((o for o in reversed(among) if o != p and _within(p, o)), None)  # noqa
    inner = lambda d, p: p != d and _within(p, d) and outer(p, kept_dirs) == d                      # noqa
    kept_dirs: list[str] = []
    for d in dirs:
        o = outer(d, kept_dirs)
        if o is None or any(_globbed(d, g) for g in globs if inner(o, g.split("/*")[0] + "/*")):
            kept_dirs.append(d)
    return tuple((d, tuple(dict.fromkeys([*(p for p in (workdir, *whole, *named) if inner(d, p)),
                                          *(g for g in globs if inner(d, g.split("/*")[0] + "/*"))])))
                 for d in kept_dirs)


def login_homes(passwd: str) -> tuple[str, ...]:
    """The homes of an /etc/passwd's users who have a login shell (`su app -c` runs one as that user; an
    empty shell field is /bin/sh): not those of nologin and false, the service accounts whose "home" is
    often their data (/var/www, /nonexistent)."""
    out = []
    for fields in (line.split(":") for line in passwd.splitlines()):
        if len(fields) >= 7 and fields[0] and os.path.basename(fields[6].strip()) not in ("nologin", "false"):
            out.append(os.path.normpath(fields[5].strip() or "/"))
    return tuple(dict.fromkeys(out))


def _globbed(path: str, glob_: str) -> bool:
    """Whether path is, or is inside, an entry that the HOME_GLOB path glob_ binds back."""
    parts, want = path.strip("/").split("/"), glob_.strip("/").split("/")
    return len(parts) >= len(want) and all(w == p or w == HOME_GLOB and not p.startswith(".")
                                           for w, p in zip(want, parts))


def _homes(homes: tuple[tuple[str, tuple[str, ...]], ...]) -> None:
    """In the verifier's mount namespace: each home as the image had it (_caches), then each of its paths
    that stay the agent's put back as the agent left it (a link made anew, a file or directory bound; a
    HOME_GLOB path: each such entry, read after the cover from a clone of the agent's home taken before it,
    one entry at a time, never through a link), and every mount beneath it (a volume) bound back as it was."""
    for d, inner in homes:
        plain = [p for p in inner if HOME_GLOB not in p.split("/")]
        globs = [p for p in inner if HOME_GLOB in p.split("/")]
        plain += [m for m in _submounts((d,)) if not any(_within(m, p) for p in plain)]
        agents = [(p, _agents_entry(p)) for p in plain]
        clone = _clone_dir(d) if globs else -1
        try:
            _caches((d,))
            if clone >= 0:
                nested = [o for o, _ in homes if o != d and _within(o, d)]     # its own view, after
                for g in globs:
                    _put_back_glob(clone, d, os.path.relpath(g, d).split("/"), plain + nested)
            for p, entry in agents:
                _put_back(p, entry)
        finally:
            for _, entry in agents:
                if entry and entry[0] == "fd":
                    os.close(entry[1])
            if clone >= 0:
                os.close(clone)


def _clone_dir(d: str) -> int:
    """A detached clone (open_tree) of the agent's directory d, its submounts with it, reached through no
    link; -1 where d is not such a directory (nothing of it is put back)."""
    fd = _openat2(-100, d, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC, RESOLVE_NO_SYMLINKS)
    if fd < 0:
        return -1
    try:                                       # open_tree(fd, "", OPEN_TREE_CLONE|AT_EMPTY_PATH|AT_RECURSIVE)
        return max(-1, _libc.syscall(428, fd, b"", 1 | os.O_CLOEXEC | AT_EMPTY_PATH | 0x8000))
    finally:
        os.close(fd)


def _put_back_glob(clone: int, d: str, parts: list[str], skip: list[str], rel: str = "") -> None:
    """Each entry of the agent's (in `clone`, its directory d) that the glob `parts` matches, its name
    without a dot first, put back at its path (_put_back); a directory on the way made as the agent's was
    (owner, mode) where the image has none. `skip`: paths put back by name already."""
    part, rest = parts[0], parts[1:]
    try:                                       # the listing may be of a link's target: each name is opened
        names = sorted(os.listdir(f"/proc/self/fd/{clone}/{rel}")) if part == HOME_GLOB else [part]
    except OSError:                            # beneath the clone with no link followed (_openat2), below
        return
    for name in names:
        if name.startswith(".") and part == HOME_GLOB:
            continue
        r, p = f"{rel}{name}", f"{d}/{rel}{name}"
        if any(_within(p, s) for s in skip):
            continue
        fd = _openat2(clone, r, os.O_PATH | os.O_CLOEXEC | os.O_NOFOLLOW,
                      RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH)
        if fd < 0:
            continue
        try:
            st = os.fstat(fd)
            if rest:
                if not stat.S_ISDIR(st.st_mode):
                    continue
                if not os.path.lexists(p) and os.path.realpath(os.path.dirname(p)) == os.path.dirname(p):
                    os.mkdir(p)                # in the private upper: owned as the agent's was
                    os.chown(p, st.st_uid, st.st_gid)
                    os.chmod(p, st.st_mode & 0o7777)
                _put_back_glob(clone, d, rest, skip, r + "/")
            elif stat.S_ISLNK(st.st_mode):
                _put_back(p, ("link", os.readlink(r, dir_fd=clone)))
            else:
                _put_back(p, ("fd", fd, stat.S_ISDIR(st.st_mode)))
        finally:
            os.close(fd)


def _agents_entry(p: str):
    """What the agent left at p, read before the image's view covers it: None (nothing), ("link", target),
    ("fd", an O_PATH fd, is a directory), or "skip" (reached through a link: not reproduced)."""
    try:
        st = os.lstat(p)
    except OSError:
        return None
    if stat.S_ISLNK(st.st_mode):
        return "link", os.readlink(p)
    fd = _openat2(-100, p, os.O_PATH | os.O_CLOEXEC, RESOLVE_NO_SYMLINKS)
    return ("fd", fd, stat.S_ISDIR(st.st_mode)) if fd >= 0 else "skip"


def _put_back(p: str, entry) -> None:
    parent = os.path.dirname(p)
    if entry == "skip" or os.path.realpath(parent) != parent:
        return                                 # the image's view stays where a link leads
    if os.path.lexists(p) and (entry is None or entry[0] == "link" or os.path.islink(p)
                               or os.path.isdir(p) != entry[2]):
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p)                   # in the private upper: the image's copy stays as it was
        else:
            os.unlink(p)
    if entry is None:
        return
    os.makedirs(parent, exist_ok=True)
    if entry[0] == "link":
        os.symlink(entry[1], p)
        return
    if not os.path.lexists(p):
        os.mkdir(p) if entry[2] else open(p, "x").close()
    _mount(f"/proc/self/fd/{entry[1]}", p, None, MS_BIND | MS_REC)


def _image_view(layers: list[str], at: str) -> int:
    """The image's layers without the episode's writable layer: a read-only overlay of them (of one layer:
    its directory), mounted at `at` (in pid 1's namespace, before the pivot) only to be cloned: the clone
    is attached nowhere (no process of the agent's can name it); its fd, which is close-on-exec."""
    os.makedirs(at, exist_ok=True)
    if len(layers) == 1:                       # overlayfs wants two lower layers where there is no upper
        _mount(layers[0], at, None, MS_BIND)
    else:
        _mount("overlay", at, "overlay", MS_RDONLY, f"lowerdir={':'.join(layers)},userxattr")
    mnt = _libc.syscall(428, -100, at.encode(), 1 | os.O_CLOEXEC)          # open_tree(OPEN_TREE_CLONE)
    _check(min(0, mnt), "open_tree(image)")
    _check(_libc.umount2(at.encode(), 2), "umount image")                   # MNT_DETACH: the clone stays
    attr = _MountAttr(MOUNT_ATTR_RDONLY | 0x2 | 0x4, 0, 0, 0)              # and NOSUID, NODEV
    _check(_libc.syscall(442, mnt, b"", AT_EMPTY_PATH, ctypes.byref(attr), ctypes.sizeof(attr)),
           "read-only image")
    return mnt


def _caches(dirs: tuple[str, ...]) -> None:
    """In the verifier's mount namespace: each of `dirs` (cache_dirs) as the image had it, through an overlay
    of the verifier's own (_private_overlay, owned as in the image); where the image has none but the agent
    made one, a fresh empty tmpfs owned as the agent's. A link or file the agent put at such a path is
    removed (the check has judged the layer already); a link on the way to one is refused: the verifier
    cannot be given its own view there, so it does not run (a verifier error, reward 0)."""
    for d in dirs:
        parent = os.path.dirname(d)
        if os.path.realpath(parent) != parent:
            raise OSError(f"{parent} is a link: the verifier's own {d} cannot be mounted")
        image = _image_dir(d)
        try:
            if os.path.islink(d) or (os.path.lexists(d) and not os.path.isdir(d)):
                os.unlink(d)
            if not os.path.lexists(d):
                if image is None:              # nothing the agent or the image left there
                    continue
                os.makedirs(d, 0o755)
            if image is not None:
                _VIEW_UPPERS.append((d, _private_overlay(d, below=image)))
                st = os.fstat(image)
            else:
                st = os.stat(d, follow_symlinks=False)
                _mount("tmpfs", d, "tmpfs", MS_NOSUID | MS_NODEV, "size=4g")
                _VIEW_UPPERS.append((d, os.open(d, os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW)))
            os.chown(d, st.st_uid, st.st_gid)
            os.chmod(d, st.st_mode & 0o7777)
        finally:
            if image is not None:
                os.close(image)


def _image_dir(d: str) -> int | None:
    """An O_PATH fd of directory d in the image (_image_view; links resolved inside it), else None."""
    if not _IMAGE:
        return None
    fd = _openat2(_IMAGE[0], d.lstrip("/"), os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC, RESOLVE_IN_ROOT)
    return fd if fd >= 0 else None


def _reward_files(fd: int) -> list[tuple[str, str]]:
    """The verifier's reward files as (name, hex of up to REWARD_FILES[name] bytes), from the fd of its
    private tmpfs: opened without following links, regular files only ("-" for anything else)."""
    out = []
    for name in REWARD_FILES:
        try:
            f = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=fd)
        except FileNotFoundError:
            continue
        except OSError:                        # a symlink (ELOOP), ...
            out.append((name, "-"))
            continue
        try:
            if not stat.S_ISREG(os.fstat(f).st_mode):
                out.append((name, "-"))
                continue
            out.append((name, os.read(f, REWARD_FILES[name]).hex() or "="))
        finally:
            os.close(f)
    os.close(fd)
    return out


# Where the agent's processes are kept alive into verification, every process started for the agent (its
# shell, each run_fresh command but the verifier's: the image's ENTRYPOINT, a healthcheck, a copy) is
# started by one process, the zygote, which pid 1 forks and which confines itself first in a Landlock domain
# of its own: scoped signals and abstract unix sockets (ABI >= 6), file access only beneath its root and
# its IPC namespace's message queues (_landlock_domain). Every one of the agent's processes is in that
# domain, or in one nested below it, and can never leave it; the
# verifier is started by pid 1 itself, outside it. The kernel then refuses, from any of the agent's
# processes to any verifier process, whatever their uids and capabilities: ptrace and every access that
# asks ptrace's permission (/proc/PID/root, cwd, fd, mem, environ, map_files; process_vm_writev,
# pidfd_getfd), a signal (kill, SIGIO, SIGURG) and a connect() to an abstract unix socket. The other way
# mostly stays open (the verifier connects to a service the agent started by its path, signals it, reads
# its /proc/PID/stat and cmdline); after a seal the verifier has a domain of its own, which refuses it their
# ptrace-guarded /proc files and their abstract sockets (_exec_confined says why). One
# domain for all of them, not one per process: the agent may still kill what it started before its shell
# was restarted, or the ENTRYPOINT's service. The zygote clones each child with CLONE_PARENT, so it is
# pid 1's own child, reaped and reported as before.
# Before its domain, the zygote makes a PID namespace and a mount namespace for the agent, children of the
# sandbox's (_agent_namespaces): every process it starts is in them, with a /proc of that PID namespace.
# The verifier's processes, pid 1's children in the sandbox's namespace, have no pid there: no process of
# the agent's can name one, to read its command line, write its oom_score_adj or signal it (rt12 k10),
# whatever its uid. The verifier still sees and signals theirs (pgrep, killall), its /proc the sandbox's.
LANDLOCK_ABI_NEEDED = 6                        # LANDLOCK_SCOPE_SIGNAL and _ABSTRACT_UNIX_SOCKET
LANDLOCK_SCOPE = 0x1 | 0x2                     # LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL
CLONE_PARENT, CLONE_SYSCALL = 0x8000, {"x86_64": 56, "aarch64": 220}
_ZYGOTE: list = []                             # [pid, socket, the reaper's socket] while one runs


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 where it has none (or it is not enabled: the lsm= list)."""
    return max(0, _libc.syscall(444, None, 0, 1))          # landlock_create_ruleset(NULL, 0, VERSION)


LANDLOCK_FS_ALL = (1 << 16) - 1                # every file access right up to ABI 5 (IOCTL_DEV)


def _landlock_domain(scope: int = LANDLOCK_SCOPE, beneath: str | None = None) -> None:
    """Confine the calling process in a new Landlock domain that scopes signals and abstract unix sockets
    (see above), or `scope`. beneath (the agent's zygote: "/"): every file access is allowed through paths
    beneath that directory, as this mount namespace reaches it, and refused through any other: an fd of the
    verifier's own mounts (/tests, /logs/verifier, its root), handed to a survivor over a unix socket by the
    agent's code that a check runs (rt11a p01: `open("/tests", O_PATH)` needs no permission), opens nothing.
    Without it, no file access is handled. pid 1's CAP_SYS_ADMIN in the sandbox's user namespace lets it do
    so without no_new_privs.
    With beneath, the POSIX message queues of this IPC namespace are allowed too: mq_open opens its file on
    the namespace's internal mqueue mount, which is beneath no path of ours, so a domain with "/" alone
    refuses it (EACCES). Rules attach to inodes, and a new mount of mqueue in the same IPC namespace has the
    same superblock, so a rule on its root covers the internal mount's. The mount is made detached (fsmount,
    closed once the rule is added): nothing of it is left for anyone to name. The verifier's queues are in
    an IPC namespace of its own (_private_logs), another superblock this rule does not reach. Memfds, pipes,
    sockets and nsfs files need no rule: each is a root of its own on an internal mount, which Landlock
    allows; SysV IPC and /dev/shm, /dev/pts (mounted beneath "/") are allowed as they are."""
    abi = landlock_abi()
    if abi < LANDLOCK_ABI_NEEDED:
        raise OSError(f"Landlock ABI {abi} < {LANDLOCK_ABI_NEEDED}: cannot keep the agent's processes")
    handled = LANDLOCK_FS_ALL if beneath else 0
    attr = ctypes.create_string_buffer(struct.pack("QQQ", handled, 0, scope), 24)
    fd = _libc.syscall(444, attr, 24, 0)       # landlock_create_ruleset(&attr, sizeof attr, 0)
    _check(min(0, fd), "landlock_create_ruleset")
    try:
        if beneath:
            _allow_beneath(fd, os.open(beneath, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC))
            try:
                _allow_beneath(fd, _fsmount(b"mqueue", {}))
            except OSError as e:               # a kernel without POSIX message queues has none to allow
                if e.errno != errno.ENODEV:
                    raise
        _check(_libc.syscall(446, fd, 0), "landlock_restrict_self")
    finally:
        os.close(fd)


def _allow_beneath(ruleset: int, top: int) -> None:
    """Add to the ruleset a rule allowing every file access beneath the directory fd top, then close top."""
    try:                                       # struct landlock_path_beneath_attr, packed
        rule = ctypes.create_string_buffer(struct.pack("=Qi", LANDLOCK_FS_ALL, top), 12)
        _check(_libc.syscall(445, ruleset, 1, rule, 0), "landlock_add_rule")     # RULE_PATH_BENEATH
    finally:
        os.close(top)


def _zygote_spawn(cfg: dict, argv: list[str], shell: bool, user, out: int | None = None,
                  service: bool = False) -> int:
    """Have the zygote start argv (as _spawn would, with the shell's status fd where shell, out as its stdout
    and stderr where given): its pid. A zygote killed with the rest (restart_shell) is replaced: the
    processes of the old domain are gone."""
    for _ in range(2):
        if not _ZYGOTE:
            _start_zygote(cfg)
        try:
            socket.send_fds(_ZYGOTE[1], [marshal.dumps((argv, shell, user, service))],
                            [] if out is None else [out])
            reply = _ZYGOTE[1].recv(16)
        except OSError as e:
            if e.errno == errno.EMSGSIZE:      # the command's size, not the zygote (rt20b p31): as exec's
                raise OSError(errno.E2BIG, "Argument list too long (over the zygote's message)") from None
            reply = b""
        if reply:
            pid = struct.unpack("i", reply)[0]
            if pid < 0:
                raise OSError(-pid, f"zygote: clone: {os.strerror(-pid)}")
            return pid
        _close_zygote()
    raise OSError("the zygote died twice in a row")


def _close_zygote() -> None:
    for sock in _ZYGOTE[1:]:
        sock.close()
    _ZYGOTE.clear()


def _start_zygote(cfg: dict) -> None:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = os.fork()
    if pid == 0:
        ours.close()
        try:
            _zygote(cfg, theirs)
        except BaseException as e:
            print(f"sandbox: the agent's zygote: {e}", file=sys.stderr, flush=True)
        os._exit(1)
    theirs.close()
    ready, got, _, _ = socket.recv_fds(ours, 256, 1, socket.MSG_CMSG_CLOEXEC)
    if ready != b"+" or not got:
        ours.close()
        for fd in got:
            os.close(fd)
        os.waitpid(pid, 0)
        raise OSError(ready.decode(errors="replace") or "the agent's zygote died at its start")
    _ZYGOTE[:] = [pid, ours, socket.socket(fileno=got[0])]


def _zygote(cfg: dict, sock: socket.socket) -> None:
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    # Only what it needs: pid 1's other fds (the caller's pipes, the layer, the copies of SCRATCH, a
    # verifier's /logs/verifier when a survivor killed the zygote it replaces) stay out of the agent's domain
    keep = {0, 1, 2, sock.fileno(), cfg["fds"]["status"]}
    for fd in map(int, os.listdir("/proc/self/fd")):
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:                    # listdir's own, closed already
                pass
    try:
        reaper = _agent_namespaces(cfg, sock)  # before the domain: Landlock refuses mount to it
        _landlock_domain(beneath="/")
    except OSError as e:
        sock.send(str(e).encode()[:256])
        os._exit(1)
    socket.send_fds(sock, [b"+"], [reaper.fileno()])          # pid 1's to seal their mount namespace
    reaper.close()
    while True:
        data, got, _, _ = socket.recv_fds(sock, 1 << 20, 1, socket.MSG_CMSG_CLOEXEC)
        if not data:                           # pid 1 is gone
            os._exit(0)
        argv, shell, user, service = marshal.loads(data)
        pid = _libc.syscall(CLONE_SYSCALL[os.uname().machine], CLONE_PARENT | signal.SIGCHLD, 0, 0, 0, 0)
        if pid == 0:                           # pid 1's child, in our domain
            sock.close()
            _exec_confined(cfg, argv, cfg["fds"]["status"] if shell else None, user=user,
                           out=got[0] if got else None, service=service)
        for fd in got:                         # the child's alone: a later one never inherits it
            os.close(fd)
        sock.send(struct.pack("i", pid if pid > 0 else -ctypes.get_errno()))


def _agent_namespaces(cfg: dict, sock: socket.socket) -> socket.socket:
    """The zygote's own PID and mount namespaces, whose children every process of the agent's is: their
    init is the reaper, forked first (a namespace's first process is its pid 1), which mounts the new /proc
    and reaps the orphans there. A socket to the reaper, for _agent_read_only."""
    _check(_libc.unshare(CLONE_NEWPID | CLONE_NEWNS), "unshare(pid, mount) for the agent")
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = os.fork()
    if pid == 0:
        ours.close()
        sock.close()
        try:
            _reaper(theirs)
        except BaseException as e:
            theirs.send(f"the agent's reaper: {e}".encode()[:256])
        os._exit(1)
    theirs.close()
    ready = ours.recv(256)
    if ready != b"+":
        raise OSError(ready.decode(errors="replace") or "the agent's reaper died at its start")
    return ours


def _reaper(sock: socket.socket) -> None:
    """pid 1 of the agent's PID namespace: its /proc (masked as the sandbox's), then reap orphans and answer
    pid 1's seal requests (a byte: 1 set, 0 clear), with _read_only's errno, in this mount namespace: the
    agent's processes hold their files open on its mounts, copies of pid 1's, whose flags are their own."""
    _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl")   # the zygote's end is ours
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _mask("", only="/proc/")
    # The volumes' mounts in this namespace, opened before any process of the agent's exists here
    _VOLUME_FDS[:] = [os.open(v, os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC) for v in _VOLUMES]
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *a: None)
    sock.send(b"+")
    while True:
        ready, _, _ = select.select([sock, wake_r], [], [])
        if sock in ready:
            request = sock.recv(16)
            if not request:                    # pid 1 is gone
                os._exit(0)
            sock.send(struct.pack("i", _read_only(request == b"1")))
        if wake_r in ready:
            os.read(wake_r, 4096)
            try:
                while os.waitpid(-1, os.WNOHANG)[0] > 0:
                    pass
            except ChildProcessError:
                pass


def _agent_read_only(on: bool) -> int:
    """_read_only in the agent's mount namespace, by its reaper: 0 where no zygote runs (none of theirs
    lives: the reaper's namespace dies with the zygote)."""
    if not _ZYGOTE:
        return 0
    try:
        _ZYGOTE[2].send(b"1" if on else b"0")
        reply = _ZYGOTE[2].recv(16)
    except OSError:
        reply = b""
    return struct.unpack("i", reply)[0] if len(reply) == 4 else errno.EIO


# The rlimits pid 1 had once the sandbox set them (_init), {name: (soft, hard)}: what every process it starts
# begins with, not pid 1's own now, which a process of the same uid could have lowered with prlimit(1, ...)
# (rt12a p20: RLIMIT_NPROC inherited by test.sh, and a check's os.system() returned -1). The agent's filter
# refuses that now (seccomp.AGENT_RULES); this holds if some way is found again.
# By number (the same on x86-64 and arm64): Python's resource module names no RLIMIT_LOCKS.
RLIMIT_NAMES = ("CPU", "FSIZE", "DATA", "STACK", "CORE", "RSS", "NPROC", "NOFILE", "MEMLOCK", "AS", "LOCKS",
                "SIGPENDING", "MSGQUEUE", "NICE", "RTPRIO", "RTTIME")
RLIMITS: dict[int, tuple[int, int]] = {}


def _start_rlimits(strict: bool) -> None:
    """Set RLIMITS on this process (a child of pid 1's, before its exec). A hard limit lowered below the
    table's cannot be raised again (that takes CAP_SYS_RESOURCE in the host's user namespace): the verifier
    (strict) then does not start, a failure of the sandbox's rather than a check run under the agent's
    limits; any other process starts with what it could get."""
    role = FILES.get("verifier" if strict else "agent")
    for n, (soft, hard) in RLIMITS.items():
        if n == resource.RLIMIT_NOFILE and role:
            soft, hard = role
        try:
            resource.setrlimit(n, (soft, hard))
        except (OSError, ValueError) as e:
            if strict:
                raise OSError(f"RLIMIT_{RLIMIT_NAMES[n]} is {resource.getrlimit(n)}, lowered from the "
                              f"sandbox's {(soft, hard)}: {e}") from None


def _spawn_shell(cfg: dict) -> int:
    """The agent's persistent shell, reading commands on stdin and reporting them on fd 99, as cfg["user"]
    (Sandbox.set_user; root without one)."""
    return _spawn(cfg, ["bash", "--noprofile", "--norc", "-s"], status_fd=cfg["fds"]["status"],
                  user=cfg.get("user"))


def _spawn(cfg: dict, argv: list[str], status_fd: int | None = None, logs_sock=None, user=None,
           sealed: bool = False, out: int | None = None, service: bool = False) -> int:
    """Fork and exec /bin/bash confined: Docker's caps less NET_RAW, no_new_privs, the seccomp filter, default
    signals. Without status_fd (a run_fresh command) stdin is /dev/null and VERIFIER_EXTRA_CAP is kept,
    unless it is a service (the image's ENTRYPOINT, which often runs what the agent wrote: rt19b p36).
    user: (uid, gid, groups, home, name) to become before the exec, with no way back: setgroups, setresgid,
    setresuid to ids that are all non-zero clear every capability (permitted, effective; ambient is cleared
    and no_new_privs keeps exec from granting any), as Docker's non-root user has none. None: root.
    Where the agent's processes are kept (cfg["keep"]), everything but the verifier (logs_sock) is started
    by the zygote, inside the agent's Landlock domain. out: its stdout and stderr (a run_fresh command's own
    pipe); None: pid 1's, the shell's output pipe."""
    if cfg.get("keep") and logs_sock is None:
        return _zygote_spawn(cfg, argv, status_fd is not None, user, out, service)
    pid = os.fork()
    if pid:
        return pid
    _exec_confined(cfg, argv, status_fd, logs_sock, user, sealed, out, service)


def _exec_confined(cfg: dict, argv: list[str], status_fd: int | None = None, logs_sock=None, user=None,
                   sealed: bool = False, out: int | None = None, service: bool = False) -> None:
    """_spawn's child: confine this process and exec bash (never returns)."""
    try:
        if out is not None:                    # first: a failure below is reported in the command's output
            os.dup2(out, 1)
            os.dup2(out, 2)
        try:                                   # pid 1's -1000 (set by the caller, sandbox.py) is not inherited
            with open("/proc/self/oom_score_adj", "w") as f:
                f.write("0")
        except OSError:
            pass
        _start_rlimits(strict=logs_sock is not None)
        if logs_sock is not None:
            home = user[3] if user else cfg["env"].get("HOME", "/root")
            logs_sock, homes, tests, killed = logs_sock
            # caches after homes: a cache is the image's even where the tests name a path in it
            _private_logs(logs_sock, owner=(user[0], user[1]) if user else (0, 0), sealed=sealed,
                          caches=cache_dirs(home, cfg["env"]), homes=homes, room_mb=cfg["storage_mb"],
                          tests=tests, killed=killed)
        if sealed:
            # The verifier beside live survivors: a Landlock domain of its own, outside theirs, so that it
            # cannot reach into their processes either: /proc/<a survivor>/root, cwd and fd are their live
            # view of every place the copies stand for (a link to /proc/PID/root/tmp/x would undo them), and
            # an abstract unix socket of theirs is a rendezvous no path can leave out (X11's
            # @/tmp/.X11-unix/X<n>, which libX11 tries first). Signals stay open: test.sh may stop a service.
            _landlock_domain(scope=0x1)        # LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
        if status_fd is None:
            null = os.open("/dev/null", os.O_RDONLY)
            os.dup2(null, 0)
            os.close(null)
        else:
            os.dup2(status_fd, 99)
            os.set_inheritable(99, True)       # dup2(99, 99) is a no-op that keeps close-on-exec
        last = int(open("/proc/sys/kernel/cap_last_cap").read())
        for cap in range(last + 1):
            if cap == VERIFIER_EXTRA_CAP and status_fd is None and not service:
                continue
            if cap not in DOCKER_CAPS:
                _check(_libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), f"drop capability {cap}")
        _check(_libc.prctl(PR_CAPBSET_DROP, CAP_NET_RAW, 0, 0, 0), "drop CAP_NET_RAW")
        _check(_libc.prctl(PR_CAP_AMBIENT, 4, 0, 0, 0), "clear ambient capabilities")
        env = cfg["env"]
        if user:                               # Docker's USER: ids, groups and the user's HOME, then exec
            uid, gid, groups, home, name = user
            os.setgroups(list(groups))
            os.setresgid(gid, gid, gid)
            os.setresuid(uid, uid, uid)
            env = {**env, "HOME": home, "USER": name, "LOGNAME": name}
        _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
        # Docker's default seccomp profile (seccomp.py), after everything of ours that needs a refused call;
        # for every process but the verifier's, with prlimit, setpriority, ioprio_set and sched_set* on the
        # caller alone (seccomp.AGENT_RULES): same uid, they would reach pid 1 and the verifier's processes.
        code = cfg["seccomp"] if logs_sock is not None else cfg["seccomp_agent"]
        prog = ctypes.create_string_buffer(code, len(code))
        fprog = struct.pack("HxxxxxxQ", len(code) // 8, ctypes.addressof(prog))
        _check(_libc.prctl(PR_SET_SECCOMP, 2, ctypes.c_char_p(fprog), 0, 0), "seccomp filter")
        for sig in (signal.SIGPIPE, signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGHUP,
                    signal.SIGUSR1, signal.SIGUSR2, signal.SIGALRM, signal.SIGCHLD, signal.SIGXFSZ):
            signal.signal(sig, signal.SIG_DFL)
        signal.set_wakeup_fd(-1)
        # As root, execve makes the permitted set the bounding set: the shell ends with Docker's caps.
        os.execve("/bin/bash", argv, env)
    except BaseException as e:
        print(f"sandbox: cannot start the shell: {e}", file=sys.stderr, flush=True)
    os._exit(127)


def serve(fd: int) -> None:
    """The starter (_starter_clone in sandbox.py): one interpreter per caller, started once, this module
    imported. Each message on the socket fd is a sandbox's config, with its stdin, its output pipe and the fds
    of cfg["fds"] attached; its child is cloned from here, so that no start pays for an interpreter and these
    imports (the largest part of a cached episode's start before). The clone is the caller's own child
    (CLONE_PARENT), which the caller waits for as it did for the interpreter it started. The reply: its pid,
    or -errno. EOF (the caller is gone): exit."""
    sock = socket.socket(fileno=fd)
    while True:
        data, got, _, _ = socket.recv_fds(sock, 1 << 20, 64, socket.MSG_CMSG_CLOEXEC)
        if not data:
            os._exit(0)
        pid = -errno.EINVAL
        if len(got) >= 2:
            pid = _libc.syscall(CLONE_SYSCALL[os.uname().machine], CLONE_PARENT | signal.SIGCHLD, 0, 0, 0, 0)
            if pid == 0:
                sock.close()                   # no process of a sandbox holds the root's starter
                _started(marshal.loads(data), got)
            pid = pid if pid > 0 else -ctypes.get_errno()
        for n in got:                          # the child's alone
            os.close(n)
        sock.send(struct.pack("i", pid))


def _started(message: tuple, got: list[int]) -> None:
    """The clone of serve(): as Popen started the interpreter before (setsid, stdin and stdout+stderr, only
    the fds of cfg["fds"] kept, cwd), then _child. Never returns."""
    code = 1
    try:
        cfg, names, cwd = message
        os.setsid()                            # no controlling terminal (_spawn in sandbox.py)
        os.dup2(got[0], 0)
        os.dup2(got[1], 1)
        os.dup2(got[1], 2)
        cfg["fds"] = dict(zip(names, got[2:]))
        keep = {0, 1, 2, *cfg["fds"].values()}
        for n in map(int, os.listdir("/proc/self/fd")):
            if n not in keep:
                try:
                    os.close(n)
                except OSError:                # listdir's own, closed already
                    pass
        os.chdir(cwd)
        _child(cfg)
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    except BaseException as e:
        print(f"sandbox setup failed: {e}", file=sys.stderr, flush=True)
    os._exit(code)
