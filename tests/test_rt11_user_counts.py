"""Per-user kernel counts are never shared between sandboxes (rt11b p03, p10): the kernel charges inotify
instances, POSIX message-queue bytes, pending signals, namespaces, ... to the host uid that OWNS a user
namespace, so each sandbox's namespace has an owner of its own (sandbox.owner_uid)."""
import fcntl
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import sandbox  # noqa: E402
from sandbox import Sandbox  # noqa: E402

pytestmark = pytest.mark.skipif(os.getuid() != 0, reason="as a user every namespace is the user's own")
NS_GET_OWNER_UID = 0xB704              # ioctl on a user namespace's fd: the owner's uid (linux/nsfs.h)


def owner(sb) -> int:
    fd = os.open(f"/proc/{sb._init_pid}/ns/user", os.O_RDONLY)
    try:
        buf = bytearray(4)
        fcntl.ioctl(fd, NS_GET_OWNER_UID, buf)
        return int.from_bytes(buf, sys.byteorder)
    finally:
        os.close(fd)


def test_two_sandboxes_have_namespaces_of_different_owners_none_the_mapped_root():
    with Sandbox() as a, Sandbox() as b:
        assert owner(a) != owner(b)
        assert sandbox.UID_BASE not in (owner(a), owner(b))     # H runs tar (run_mapped) on the host


# Holds every inotify instance the host gives one user (fs.inotify.max_user_instances), then sleeps.
HOLD = ("python3 -c 'import ctypes,time\nl=ctypes.CDLL(None)\nn=0\nwhile l.inotify_init1(0)>=0: n+=1\n"
        "print(n,flush=True)\ntime.sleep(60)' > /tmp/held & sleep 1; cat /tmp/held")


def test_one_sandbox_holding_every_inotify_instance_leaves_another_its_own():
    limit = int(Path("/proc/sys/fs/inotify/max_user_instances").read_text())
    with Sandbox() as a, Sandbox() as b:
        assert a.run(HOLD).output.strip().isdigit()
        r = b.run("python3 -c 'import ctypes; print(ctypes.CDLL(None).inotify_init1(0) >= 0)'")
        assert r.output == "True\n", (limit, r.output)


# Makes POSIX message queues until RLIMIT_MSGQUEUE's bytes are spent (EMFILE; a queue is charged when it
# is made, whether or not the bare Sandbox() then lets it be opened), then holds them; prints the errno.
MQ = ("python3 -c 'import ctypes,errno,sys,time\nl=ctypes.CDLL(\"librt.so.1\",use_errno=True)\n"
      "class A(ctypes.Structure): _fields_=[(\"f\",ctypes.c_long),(\"m\",ctypes.c_long),"
      "(\"s\",ctypes.c_long),(\"c\",ctypes.c_long),(\"p\",ctypes.c_long*4)]\na=A(0,10,8192,0)\n"
      "e=0\nfor n in range(int(sys.argv[1])):\n"
      " if l.mq_open(f\"/q{n}\".encode(),0o102,0o600,ctypes.byref(a))<0:\n"
      "  e=ctypes.get_errno()\n  if e==errno.EMFILE: break\n"
      "print(errno.errorcode.get(e,e),flush=True)\ntime.sleep(int(sys.argv[2]))' ")


def test_one_sandbox_holding_every_message_queue_byte_leaves_another_its_own():
    with Sandbox() as a, Sandbox() as b:
        assert a.run(MQ + "1000 60 > /tmp/held & sleep 1; cat /tmp/held").output == "EMFILE\n"
        assert b.run(MQ + "1 0").output != "EMFILE\n"
