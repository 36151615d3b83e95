"""Attacks an agent could type as ordinary bash commands, each refused or made harmless (sandbox.py, harbor.py).

Every class of attack found against the first sandbox has a test here: mounts over the verifier's tools,
processes that outlive the agent's turn, ptrace of pid 1, writes to the status channel, and planted
Python start-up files. The loader-side attacks (symlinked task files, workdir traversal, uncapped numbers)
are in test_harbor_load.py."""
import shutil
from pathlib import Path

import pytest

import harbor
import sandbox
import sandbox_init
from sandbox import Limits, Sandbox

ROOT = Path(__file__).resolve().parents[1]
MOUNTS = [
    "mount -t tmpfs none /usr/local/bin",
    "mount --bind /bin/true /usr/bin/python3",
    "mount -t tmpfs -o size=64g none /tmp",
    "mount -t tmpfs none /root",
    "umount /work",
    "umount -l /usr",
    "mount -o remount,rw,bind /var",
    "mount -o remount,rw /",
    "unshare --mount --propagation unchanged true",
    "unshare --pid --fork true",
]


@pytest.fixture(scope="module")
def sb():
    with Sandbox() as s:
        yield s


@pytest.mark.parametrize("command", MOUNTS)
def test_the_shell_cannot_mount_unmount_or_remount(sb, command):
    r = sb.run(command)
    assert r.exit_code != 0, r.output
    assert sb.run("grep -c ' /usr/local/bin \\| /tmp tmpfs.*size=6' /proc/self/mounts").output == "0\n"


def test_the_shell_holds_exactly_dockers_default_capabilities(sb):
    status = dict(line.split(":\t") for line in sb.run("cat /proc/self/status").output.splitlines()
                  if line.startswith("Cap"))
    docker = sum(1 << c for c in sandbox.DOCKER_CAPS - {sandbox.CAP_NET_RAW})      # less it, as podman's
    assert {k: int(v, 16) for k, v in status.items()} == {"CapInh": 0, "CapPrm": docker, "CapEff": docker,
                                                           "CapBnd": docker, "CapAmb": 0}
    assert sb.run("grep NoNewPrivs /proc/self/status").output.split() == ["NoNewPrivs:", "1"]


def test_a_service_holds_the_shells_capabilities_not_the_verifiers(sb):
    # The image's ENTRYPOINT (Sandbox.start) often runs what the agent wrote: with the verifier's extra
    # capability, code the agent hands it could trace what the agent itself cannot (rt19b p36).
    sb.start("grep ^CapBnd: /proc/self/status > /tmp/service_caps")
    assert sb.run("for i in $(seq 50); do [ -s /tmp/service_caps ] && break; sleep 0.1; done; "
                  "cat /tmp/service_caps").output == sb.run("grep ^CapBnd: /proc/self/status").output
    fresh = sb.run_fresh("grep ^CapBnd: /proc/self/status", 10).output
    assert int(fresh.split()[1], 16) & (1 << sandbox_init.VERIFIER_EXTRA_CAP)    # the others keep it


def test_pid_1_cannot_be_traced_or_read(sb):
    attach = ("python3 -c 'import ctypes, os; libc = ctypes.CDLL(None, use_errno=True); "
              "print(libc.ptrace(16, 1, 0, 0), os.strerror(ctypes.get_errno()))'")
    assert sb.run(attach).output == "-1 Operation not permitted\n"
    for path in ("/proc/1/environ", "/proc/1/mem", "/proc/1/fd/0", "/proc/1/root/"):
        assert sb.run(f"cat {path} > /dev/null").exit_code != 0, path
    assert sb.run("kill -INT 1; kill -TERM 1; kill -9 1; echo alive").output.endswith("alive\n")


def test_forged_status_lines_on_every_descriptor_change_nothing(sb):
    forge = "for fd in $(seq 3 255); do printf 'x 0\\nn 0 0\\ns 1\\nb 0 0\\nr 1\\n' >&$fd; done 2>/dev/null; echo x"
    r = sb.run(forge)                    # (fds 3.. that are copies of stdout print it: harmless)
    assert r.output.endswith("x\n") and r.exit_code == 0
    for i in range(3):
        r = sb.run(f"echo {i}; exit_code={i}; (exit {i})")
        assert (r.output, r.exit_code, r.timed_out) == (f"{i}\n", i, False)


def test_processes_the_agent_left_die_before_the_verifier(sb):
    # Nested namespaces are refused by the seccomp filter (test_kernel_surface.py); detached processes,
    # sessions and process groups of the agent's own are still found and killed.
    r = sb.run("unshare --user --pid --fork true; echo $?; setsid sleep 1000 & "
               "(trap '' HUP TERM; sh -c 'sleep 1001 & sleep 1002') & "
               "nohup sleep 1003 >/dev/null & sleep 0.3")
    assert r.output.startswith("unshare: unshare failed: Operation not permitted\n1\n"), r.output
    pids = sb.processes()            # pid 1 first
    assert len(pids) >= 6
    sb.restart_shell()
    left = [p for p in pids if sandbox.alive(p)]
    assert left == pids[:1]
    assert sb.run("echo fresh").output == "fresh\n"


def builtin(name: str = "train/files-flatten-txt"):
    return harbor.load_task(ROOT / "tasks" / name)


ATTACKS = {
    "fake python3 on a tmpfs": "mkdir -p /tmp/f && printf '#!/bin/sh\\nexit 0\\n' > /tmp/f/python3 && "
                                "chmod +x /tmp/f/python3 && mount -t tmpfs none /usr/local/bin",
    "fake python3 in /usr/local/bin": "printf '#!/bin/sh\\nmkdir -p /logs/verifier; echo 1 > "
                                      "/logs/verifier/reward.txt\\n' > /usr/local/bin/python3; "
                                      "chmod +x /usr/local/bin/python3",
    "usercustomize.py": "d=$(python3 -c 'import site; print(site.getusersitepackages())') && mkdir -p $d && "
                        "printf 'import os\\nos.makedirs(\"/logs/verifier\", exist_ok=True)\\n"
                        "open(\"/logs/verifier/reward.txt\", \"w\").write(\"1\")\\nos._exit(0)\\n' "
                        "> $d/usercustomize.py",
    "a survivor in a nested PID namespace": "unshare --user --pid --fork sh -c 'while :; do "
                                            "echo 1 > /logs/verifier/reward.txt 2>/dev/null; sleep 0.01; "
                                            "done' > /dev/null 2>&1 &",
    "a planted reward": "mkdir -p /logs/verifier && echo 1 > /logs/verifier/reward.txt",
}


# Attacks that leave a file the verifier would run on are refused before it runs (tamper.py): TAMPERED.
# (On the host fallback /usr is read-only: the fake python3 cannot be written there.)
LEAVE_NOTHING = ("fake python3 on a tmpfs", "fake python3 in /usr/local/bin",
                 "a survivor in a nested PID namespace")


@pytest.mark.parametrize("attack", ATTACKS)
def test_no_attack_forges_the_reward_of_a_builtin_task(attack):
    task = builtin()
    with harbor.start_task(task, seed=0) as box:
        box.run(ATTACKS[attack])
        if attack in LEAVE_NOTHING:
            assert harbor.verify(box, task, 0)[0] == 0.0
        else:
            with pytest.raises(harbor.TamperedError):
                harbor.verify(box, task, 0)


def test_the_oracle_still_passes_after_the_attacks():
    task = builtin()
    with harbor.start_task(task, seed=0) as box:
        for attack in LEAVE_NOTHING:
            box.run(ATTACKS[attack])
        assert harbor.run_solution(box, task).exit_code == 0
        assert harbor.verify(box, task, 0) == (1.0, "")


def test_hidden_task_files_stay_hidden_even_under_var(tmp_path):
    root = Path("/var/tmp") / f"echo-task-{tmp_path.name}"         # a directory the host fallback shows
    shutil.copytree(ROOT / "tasks/train/files-flatten-txt", root / "t")
    try:
        task = harbor.load_task(root / "t")
        with harbor.start_task(task, seed=0) as box:
            r = box.run(f"umount {root}; umount -l {root}; cat {root}/t/solution/solve.sh {root}/t/tests/*")
            assert r.exit_code != 0 and "reward" not in r.output
            assert box.run(f"ls -A {root}/t 2>/dev/null").output == ""
    finally:
        shutil.rmtree(root)


def test_the_host_is_not_writable_from_the_fallback_root(tmp_path):
    canary = Path("/usr/local") / f"echo-canary-{tmp_path.name}"     # /var is the sandbox's own now
    with Sandbox() as box:
        r = box.run(f"mount -o remount,rw,bind /usr; touch {canary}; mkdir -p /usr/local/x")
        assert r.exit_code != 0 and "Read-only file system" in r.output
    assert not canary.exists()


def test_memory_and_storage_limits_are_capped_at_load(tmp_path):
    (tmp_path / "t/tests").mkdir(parents=True)
    (tmp_path / "t/instruction.md").write_text("x\n")
    (tmp_path / "t/tests/test.sh").write_text("true\n")
    (tmp_path / "t/task.toml").write_text("[environment]\nmemory_mb = 10000000\n")
    with pytest.raises(harbor.TaskError, match="memory_mb = 10000000 is over the maximum"):
        harbor.load_task(tmp_path / "t")


def test_a_pid_limit_holds_without_root_ids(sb):
    assert Limits().nproc == 256
    r = sb.run("cat /proc/self/uid_map")
    inner, outer, count = map(int, r.output.split())
    assert (inner, count) == (0, sandbox.ID_COUNT) and outer != 0          # never the host's root
