"""The host fallback shows the host's system files through mounts of each episode's own (sandbox_init._host_view):
locks and inotify act on inodes, and a bind of the host's /usr and /etc shared them with the host and every
other episode (rt17b p02: an episode's inotify saw the trainer's and another episode's opens; p03: its flock
blocked another episode's and the host's own)."""
import fcntl
import os
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from sandbox import Sandbox  # noqa: E402

F = os.path.realpath("/bin/sh")                # a host file every fallback episode sees (/usr/bin/dash)
HOLD = f"(setsid flock -x {F} sleep 60 >/dev/null 2>&1 &); sleep 0.5; flock -n {F} true; echo held=$?"
# An inotify watch on F for opens, each event a line in /tmp/opens, in the background.
WATCH = f"""cat > /tmp/w.py <<'EOF'
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init1(0)
assert libc.inotify_add_watch(fd, b"{F}", 0x20) >= 0     # IN_OPEN
open("/tmp/ready", "w").close()
while True:
    os.read(fd, 4096)
    with open("/tmp/opens", "a") as f:
        f.write("open\\n")
EOF
touch /tmp/opens; (setsid python3 /tmp/w.py >/dev/null 2>&1 &)
for i in $(seq 50); do [ -e /tmp/ready ] && break; sleep 0.1; done; ls /tmp/ready"""


def opens(sb) -> int:
    time.sleep(0.5)
    return int(sb.run("wc -l < /tmp/opens").output)


def test_an_episodes_flock_on_a_host_file_leaves_the_hosts_flock_free():
    with Sandbox() as a:
        assert a.run(HOLD).output.strip() == "held=1"            # held, as the episode sees it
        fd = os.open(F, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)       # EWOULDBLOCK on the shared inode
        finally:
            os.close(fd)


def test_an_episodes_flock_on_a_host_file_leaves_another_episodes_free():
    with Sandbox() as a, Sandbox() as b:
        assert a.run(HOLD).output.strip() == "held=1"
        assert b.run(f"flock -n -x {F} true; echo rc=$?").output.strip() == "rc=0"


def test_an_episodes_read_lock_on_a_host_file_leaves_the_hosts_write_lock_free(tmp_path):
    # An episode opens the host's files read-only, so its fcntl (OFD, POSIX) locks are read locks: they
    # conflict only with a writer's lock, which the host can take on a file of its own under /usr.
    if os.geteuid() != 0:
        pytest.skip("needs root to write a file under /usr/local")
    f = Path("/usr/local/lib") / f"echo-lock-{os.getpid()}"
    f.write_text("x")
    try:
        with Sandbox() as a:
            hold = (f"(setsid python3 -c 'import fcntl, os, struct, time; fd = os.open(\"{f}\", os.O_RDONLY); "
                    f"fcntl.fcntl(fd, fcntl.F_OFD_SETLK, struct.pack(\"hhqqi\", fcntl.F_RDLCK, 0, 0, 0, 0)); "
                    f"open(\"/tmp/locked\", \"w\").close(); time.sleep(60)' >/dev/null 2>&1 &); "
                    f"for i in $(seq 50); do [ -e /tmp/locked ] && break; sleep 0.1; done; ls /tmp/locked")
            assert a.run(hold).exit_code == 0
            fd = os.open(f, os.O_RDWR)
            try:                                                  # EAGAIN on the shared inode
                fcntl.fcntl(fd, fcntl.F_OFD_SETLK, struct.pack("hhqqi", fcntl.F_WRLCK, 0, 0, 0, 0))
            finally:
                os.close(fd)
    finally:
        f.unlink()


def test_an_episodes_inotify_on_a_host_file_sees_no_open_of_the_hosts():
    with Sandbox() as a:
        assert a.run(WATCH).exit_code == 0
        open(F, "rb").close()                                     # the host (the trainer)
        assert opens(a) == 0
        a.run(f"head -c1 {F} >/dev/null")                         # its own: the watch works
        assert opens(a) >= 1


def test_an_episodes_inotify_on_a_host_file_sees_no_open_of_another_episodes():
    with Sandbox() as a, Sandbox() as b:
        assert a.run(WATCH).exit_code == 0
        b.run(f"head -c1 {F} >/dev/null")
        assert opens(a) == 0
        a.run(f"head -c1 {F} >/dev/null")
        assert opens(a) >= 1


MOUNTED = """import fcntl, os, sys
sys.path.insert(0, sys.argv[1])
from sandbox import Sandbox
with Sandbox() as a:
    print(a.run("cat /etc/hostname; (setsid flock -x /usr/local/f sleep 60 >/dev/null 2>&1 &); sleep 0.5").output)
    fd = os.open("/usr/local/f", os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    print("host flock free")
"""


def test_mounts_beneath_the_system_directories_get_inodes_of_their_own_too(tmp_path):
    # A container's /etc has Docker's files bound on it, and pid 1's namespace locks such a mount to its
    # parent, which overlayfs refuses as a lower: the view is of /etc alone, the file a copy of its own.
    if os.geteuid() != 0 or not os.path.isfile("/etc/hostname"):
        pytest.skip("needs root (a mount namespace of its own) and an /etc/hostname to mount over")
    (tmp_path / "hostname").write_text("mounted-on-etc\n")
    (tmp_path / "t.py").write_text(MOUNTED)
    setup = (f"mount --bind {tmp_path}/hostname /etc/hostname && mount -t tmpfs t /usr/local && "
             f"touch /usr/local/f && exec {sys.executable} {tmp_path}/t.py {Path(__file__).resolve().parents[1]}")
    r = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", setup],
                       capture_output=True, text=True, timeout=60)
    assert r.stdout.split() == ["mounted-on-etc", "host", "flock", "free"], r.stderr[-500:]
