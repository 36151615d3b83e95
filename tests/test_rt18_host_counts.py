"""Kernel counts one host-wide pool serves (rt18b): what one sandbox spends of them never stops another
sandbox's pid 1, verifier or start. fds in flight over unix sockets are counted per HOST uid, the same
for every sandbox's root (sandbox.UID_BASE), and a send fails past the sender's soft RLIMIT_NOFILE: so pid 1
sends under a larger limit than any verifier may raise to, and a verifier under a larger one than any agent
process (sandbox_init._file_limits). ptys: each devpts instance has its cap (sandbox_init.PTYS). pids: every
sandbox together leaves the host room (sandbox.all_pids). TCP buffers: charged to the episode's cgroup on v1
too."""
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import sandbox  # noqa: E402
import sandbox_init  # noqa: E402
from sandbox import Sandbox  # noqa: E402

pytestmark = pytest.mark.skipif(os.getuid() != 0, reason="as a user every sandbox's root is the user's uid")

# Parks fds in flight (sent, never received) until the kernel refuses (ETOOMANYREFS), then holds them.
PARK = ("python3 -c 'import socket,os,time\nfd=os.open(\"/dev/null\",os.O_RDONLY)\nps=[];n=0\n"
        "while n < 2000000:\n a,b=socket.socketpair();ps.append((a,b));a.setblocking(False)\n"
        " try:\n  while True: socket.send_fds(a,[b\"x\"],[fd]*250);n+=250\n except BlockingIOError: continue\n"
        " except OSError as e: print(n,e.errno,flush=True);break\ntime.sleep(60)' > /tmp/parked & "
        "sleep 3; cat /tmp/parked")


def hard_files(limits: str) -> tuple[int, int]:
    line = next(x for x in limits.splitlines() if x.startswith("Max open files"))
    return int(line.split()[3]), int(line.split()[4])


def test_fds_one_sandbox_parks_in_flight_stop_no_other_start_or_verify():
    with Sandbox() as a:
        parked = a.run(PARK, timeout=30).output.split()
        assert parked[1] == "109", parked                       # it did reach the kernel's refusal
        with Sandbox() as b:                                    # pid 1 passes fds to its zygote to start
            assert b.run("echo started").output == "started\n"
            assert b.run_fresh("echo 1 > /logs/verifier/reward.txt", timeout=30,
                               private_logs=True).files.get("reward.txt") == b"1\n"
        r = a.run_fresh("echo 0 > /logs/verifier/reward.txt", timeout=30, private_logs=True)
        assert r.exit_code == 0 and r.files.get("reward.txt") == b"0\n", r   # its own verify too


def test_agent_file_limit_is_below_the_verifiers_below_pid_1s():
    with Sandbox() as sb:
        agent = hard_files(sb.run("cat /proc/self/limits").output)[1]
        verifier = hard_files(sb.run_fresh("cat /proc/self/limits", timeout=30, private_logs=True).output)[1]
        pid1 = hard_files(sb.run("cat /proc/1/limits").output)[0]   # the soft one: what the kernel compares
        assert agent < verifier < pid1, (agent, verifier, pid1)


# Opens ptys until refused or argv[1] are open; prints how many, then holds them argv[2] seconds.
PTYS = ("python3 -c 'import os,sys,time\nn=0\ntry:\n while n < int(sys.argv[1]): os.openpty(); n+=1\n"
        "except OSError: pass\nprint(n,flush=True)\ntime.sleep(int(sys.argv[2]))' ")


def test_one_sandbox_opens_at_most_its_own_cap_of_ptys():
    with Sandbox() as sb:
        assert sb.run(f"{PTYS} {sandbox_init.PTYS + 8} 0").output == f"{sandbox_init.PTYS}\n"


def test_one_sandbox_holding_its_ptys_leaves_another_its_own():
    with Sandbox() as a, Sandbox() as b:
        assert a.run(f"({PTYS} 10000 60 > /tmp/held &); sleep 2; cat /tmp/held").output.strip().isdigit()
        assert b.run(f"{PTYS} 4 0").output == "4\n"


def test_a_sidecar_holds_a_few_ptys_of_its_own():
    # rt19b p40: a compose task's 15 sidecars at the main container's cap held 480 of the kernel's 3,072
    with Sandbox() as main, Sandbox(network_of=main) as side:
        assert side.run(f"{PTYS} 64 0").output == f"{sandbox_init.SIDECAR_PTYS}\n"
        assert main.run(f"{PTYS} 64 0").output == f"{sandbox_init.PTYS}\n"


def test_every_sandbox_together_leaves_the_host_pids():
    try:
        v2, dirs = sandbox.Cgroup._all()
    except OSError as e:
        pytest.skip(f"no cgroup here: {e}")
    d = v2 or dirs.get("pids")
    if d is None:
        pytest.skip("no pids controller")
    pid_max = int(Path("/proc/sys/kernel/pid_max").read_text())
    assert int((d / "pids.max").read_text()) == sandbox.all_pids() <= pid_max - 4096


def test_a_v1_episode_cgroup_charges_its_tcp_buffers_up_to_its_memory():
    limits = sandbox.Limits(memory_mb=256)
    try:
        cg = sandbox.Cgroup.create("test-rt18-tcp", limits)
    except sandbox.SandboxError as e:
        pytest.skip(str(e))
    if cg is None or "memory" not in cg.dirs:
        pytest.skip("no v1 memory controller here (v2 charges sockets to memory.current)")
    try:
        tcp = cg.dirs["memory"] / "memory.kmem.tcp.limit_in_bytes"
        if not tcp.exists():
            pytest.skip("this kernel's v1 has no kmem.tcp")
        assert int(tcp.read_text()) == 256 << 20
    finally:
        cg.remove()
