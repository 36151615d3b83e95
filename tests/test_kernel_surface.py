"""Attacks on the sandbox's kernel surface, its status channel, its limits and what the host fallback shows,
each refused by construction (seccomp.py, sandbox_init.py, sandbox.py, harbor.verify).

Four classes, several distinct attacks each: system calls Docker's default seccomp profile refuses
(nested namespaces, the kernel keyring, perf, userfaultfd, io_uring, file handles, NUMA policy, calls
newer than the profile); the verifier's "finished" signal and exit status forged by the agent's code;
limits that lapse instead of failing closed; and host data directories seen from the host fallback."""
import ctypes
import functools
import os
import shlex
import shutil
import struct
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import harbor  # noqa: E402
import sandbox  # noqa: E402
import seccomp  # noqa: E402
from sandbox import Limits, Sandbox  # noqa: E402


@pytest.fixture(scope="module")
def sb():
    with Sandbox() as s:
        yield s


def py(code: str) -> str:
    """A python3 one-liner for the sandbox's shell: libc through ctypes, errno printed."""
    head = "import ctypes, os; libc = ctypes.CDLL(None, use_errno=True); e = lambda: ctypes.get_errno(); "
    return "python3 -c " + shlex.quote(head + code)


# ---- kernel surface: what Docker's default profile refuses -------------------------------------------

def test_no_nested_user_namespace(sb):
    r = sb.run("unshare --user --map-root-user --net sh -c 'ip link add d0 type dummy 2>/dev/null; id -u'")
    assert r.exit_code != 0 and "0\n" not in r.output, r.output          # never root with NET_ADMIN
    r = sb.run(py("print(libc.unshare(0x10000000 | 0x40000000), e())"))  # CLONE_NEWUSER | CLONE_NEWNET
    assert r.output == "-1 1\n"


def test_clone_with_namespace_flags_is_refused_and_clone3_falls_back(sb):
    # clone(CLONE_NEWUSER | SIGCHLD) directly (the raw syscall): EPERM; clone3: ENOSYS, so libc uses clone.
    r = sb.run(py("print(libc.syscall(56, 0x10000000 | 17, 0, 0, 0, 0), e(), libc.syscall(435, 0, 0), e())"))
    assert r.output == "-1 1 -1 38\n"
    assert sb.run("sh -c 'echo child' & wait").output.endswith("child\n")   # ordinary forks still work


@pytest.mark.parametrize("name,call", [
    ("perf_event_open", "import struct; a = struct.pack('IIQQQ', 1, 120, 0, 0, 1 << 5) + bytes(80); "
                        "print(libc.syscall(298, a, 0, -1, -1, 0) < 0, e())"),   # sw cpu-clock, user only
    ("userfaultfd", "print(libc.syscall(323, 1) < 0, e())"),                            # UFFD_USER_MODE_ONLY
    ("io_uring_setup", "p = bytes(120); print(libc.syscall(425, 4, p) < 0, e())"),
    ("name_to_handle_at", "h = ctypes.create_string_buffer(128); h[0:4] = (120).to_bytes(4, 'little'); "
                          "m = ctypes.c_int(); "
                          "print(libc.syscall(303, -100, b'/', h, ctypes.byref(m), 0) < 0, e())"),
])
def test_calls_docker_refuses_are_refused(sb, name, call):
    assert sb.run(py(call)).output == "True 1\n", name


def test_calls_dockers_allow_list_leaves_out_do_not_reach_the_kernel(sb):
    # Named by no rule a default container meets (rt5 p05): the NUMA policy calls (CAP_SYS_NICE in Docker)
    # EPERM, listmount (newer than the profile) ENOSYS. Valid arguments: reaching the kernel returns 0.
    nr = {"x86_64": (239, 238, 458), "aarch64": (236, 237, 458)}[os.uname().machine]
    args = ((0, 0, 0, 0, 0), (0, 0, 0), (0, 0, 0, 0))
    r = sb.run(py(f"print([libc.syscall(n, *a) < 0 and e() for n, a in zip({nr}, {args})])"))
    assert r.output == "[1, 1, 38]\n"


def test_a_vsock_socket_is_refused_and_other_sockets_are_not(sb):
    # AF_VSOCK (40) reaches the host's or hypervisor's vsock services from any network namespace (rt2 p10;
    # moby#44562): EPERM, as Docker; stream and datagram alike. A unix and an inet socket still open.
    r = sb.run(py("print([libc.socket(40, t, 0) < 0 and e() for t in (1, 2, 5)], libc.socket(1, 1, 0) >= 0, "
                  "libc.socket(2, 2, 0) >= 0)"))
    assert r.output == "[1, 1, 1] True True\n"


def test_a_key_left_by_one_episode_cannot_be_read_by_the_next():
    add = py("print(libc.syscall(248, b'user', b'echo-k', b'secret', 6, -3), e())")       # add_key to @s
    find = py("print(libc.syscall(250, 10, -3, b'user', b'echo-k', 0) > 0, e())")         # KEYCTL_SEARCH
    with Sandbox() as one:
        assert one.run(add).output.split()[1:] == ["1"]         # refused: EPERM
    with Sandbox() as two:
        assert two.run(find).output == "False 1\n"


def test_dockers_masked_paths_show_nothing_of_other_episodes_or_the_host():
    # every sandbox's root is one host uid: /proc/keys listed the session keyrings of all the episodes
    # running beside it (rt5 p08: 49); masked as Docker masks it, with /sys/firmware, kcore, timer_list
    with Sandbox() as one, Sandbox() as two:
        assert one.run("true").exit_code == 0
        r = two.run("wc -l < /proc/keys; ls -A /sys/firmware 2>/dev/null | wc -l; "
                    "{ echo 1 > /proc/sys/net/ipv4/ip_forward; } 2>/dev/null; echo $?")
        assert r.output.split() == ["0", "0", "1"], r.output


def test_the_trainers_keys_are_not_the_episodes():
    libc = ctypes.CDLL(None, use_errno=True)
    key = libc.syscall(248, b"user", b"echo-trainer", b"token", 5, -3)      # the trainer's session keyring
    try:
        with Sandbox() as box:
            r = box.run(py("print(libc.syscall(250, 10, -3, b'user', b'echo-trainer', 0) > 0, e())"))
            assert r.output.startswith("False")
    finally:
        if key > 0:
            libc.syscall(250, 3, key)                                           # KEYCTL_REVOKE


@pytest.mark.skipif(os.getuid() != 0, reason="a user's sandboxes are charged to that user, as its own")
def test_a_sandboxs_session_keyring_is_charged_to_its_own_owner_uid():
    # made as the namespace's root, host uid 1,000,000 for all of them: at 200 keys a uid, the 201st
    # sandbox alive at once failed to start (EDQUOT); a batch of 16 x 16 episodes reaches it
    with Sandbox() as box:
        owner = sandbox.owner_uid(box._proc.pid)
        users = {int(k): v for k, v in (line.split(":", 1) for line in
                                        Path("/proc/key-users").read_text().splitlines())}
        assert int(users[owner].split()[0]) >= 1


# ---- the verifier's status channel --------------------------------------------------------------------

# The agent's program, which the task's check runs: it reads the shell's memory for the per-command nonce
# and writes "finished, exit 0" to the shell's status descriptor through /proc.
FORGE = r"""
import os, re
found, me = set(), str(os.getpid())
for p in [p for p in os.listdir('/proc') if p.isdigit() and p != me]:
    try:
        mem, maps = open(f'/proc/{p}/mem', 'rb', 0), open(f'/proc/{p}/maps').read().splitlines()
    except OSError:
        continue
    for line in maps:
        span, perm = line.split()[:2]
        lo, hi = (int(x, 16) for x in span.split('-'))
        if 'rw' in perm and hi - lo < 64 << 20:
            try:
                mem.seek(lo)
                found |= set(re.findall(rb'n ([0-9a-f]{16}) %d', mem.read(hi - lo)))
            except (OSError, ValueError, OverflowError):
                pass
for p in [p for p in os.listdir('/proc') if p.isdigit() and p != me]:
    for fd in os.listdir(f'/proc/{p}/fd') if os.access(f'/proc/{p}/fd', os.R_OK) else []:
        if int(fd) > 2 and os.readlink(f'/proc/{p}/fd/{fd}').startswith('pipe:'):
            try:
                w = os.open(f'/proc/{p}/fd/{fd}', os.O_WRONLY | os.O_NONBLOCK)
                os.write(w, b''.join(b'n ' + n + b' 0\n' for n in found))
            except OSError:
                pass
"""


def task_with_check(tmp_path, test_sh: str, name: str = "t"):
    path = tmp_path / name
    for rel, text in {"task.toml": "[agent]\ntimeout_sec = 60\n[verifier]\ntimeout_sec = 20\n",
                      "instruction.md": "x\n", "tests/test.sh": test_sh}.items():
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_text(text)
    return harbor.load_task(path)


def test_a_forged_finished_line_does_not_end_the_verifier_early(tmp_path):
    # The check runs the agent's program, then writes reward 0; a forged "finished" would have the reward
    # read in between, when the agent's program has just written 1.
    task = task_with_check(tmp_path, "python3 /app/forge.py; echo 1 > /logs/verifier/reward.txt; sleep 1\n"
                                     "echo 0 > /logs/verifier/reward.txt\n")
    with harbor.start_task(task) as box:
        box.copy_in(_write(tmp_path / "forge.py", FORGE), "/app")
        t = time.monotonic()
        assert harbor.verify(box, task)[0] == 0.0
        assert time.monotonic() - t > 1.0


def test_a_forged_exit_status_does_not_hide_a_broken_check(tmp_path):
    # The check's runner is missing (exit 127: a verifier error); the agent's program forges exit 0.
    # A reward is written first: the runner's exit status, not the reward file, says the check was broken.
    task = task_with_check(tmp_path, "python3 /app/forge.py; echo 1 > /logs/verifier/reward.txt; sleep 0.5\n"
                                     "no-such-test-runner\n")
    with harbor.start_task(task) as box:
        box.copy_in(_write(tmp_path / "forge.py", FORGE), "/app")
        with pytest.raises(harbor.VerifierError, match="127"):
            harbor.verify(box, task)


def test_killing_the_verifiers_shell_is_not_a_clean_result(tmp_path):
    # The agent's program writes reward 1 and kills the shell running the check before the check can
    # overwrite it: the check did not finish, so there is no reward to read.
    kill = "echo 1 > /logs/verifier/reward.txt; kill -9 $PPID"
    task = task_with_check(tmp_path, "bash /app/kill.sh; echo 0 > /logs/verifier/reward.txt\n")
    with harbor.start_task(task) as box:
        box.copy_in(_write(tmp_path / "kill.sh", kill), "/app")
        try:
            reward, why = harbor.verify(box, task)
        except harbor.VerifierError:
            return
        assert reward == 0.0, why


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


# ---- limits fail closed --------------------------------------------------------------------------------

def test_a_tiny_cpu_share_is_clamped_not_dropped():
    with Sandbox(limits=Limits(cpus=0.001)) as box:
        assert box.cgroup is not None                          # memory, pids and CPU all still limited
        assert box.run("echo ok").output == "ok\n"


def test_a_zero_memory_limit_is_clamped_not_dropped():
    with Sandbox(limits=Limits(memory_mb=0, storage_mb=16)) as box:
        assert box.cgroup is not None
        assert box.run("echo ok").output == "ok\n"


def test_a_memory_limit_over_the_hosts_ram_is_clamped_to_three_quarters_of_it(capsys):
    ram_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") >> 20
    with Sandbox(limits=Limits(memory_mb=ram_mb * 4, storage_mb=16)) as box:
        limit = box.cgroup.dirs.get("unified", box.cgroup.dirs.get("memory"))
        text = next(limit / f for f in ("memory.max", "memory.limit_in_bytes") if (limit / f).exists())
        assert int(text.read_text()) == (ram_mb * 3 // 4) << 20
    assert f"memory_mb {ram_mb * 4} -> {ram_mb * 3 // 4}" in capsys.readouterr().err


def test_a_cgroup_that_cannot_be_made_stops_the_episode(monkeypatch, tmp_path):
    monkeypatch.setattr(sandbox, "ALLOW_NO_CGROUP", False)
    monkeypatch.setattr(sandbox.Cgroup, "_parents", staticmethod(lambda: (tmp_path / "no-such", {})))
    with pytest.raises(sandbox.SandboxError, match="--allow-no-cgroup"):
        with Sandbox() as box:
            box.run("true")
    monkeypatch.setattr(sandbox, "ALLOW_NO_CGROUP", True)       # asked for: per-process limits only
    with Sandbox() as box:
        assert box.cgroup is None and box.run("echo ok").output == "ok\n"


def test_a_missing_cpu_controller_stops_the_episode(monkeypatch):
    monkeypatch.setattr(sandbox, "ALLOW_NO_CGROUP", False)
    v2, v1 = sandbox.Cgroup._parents()
    if v2:
        pytest.skip("cgroup v2: one hierarchy holds every controller")
    monkeypatch.setattr(sandbox.Cgroup, "_parents", staticmethod(lambda: (None, {k: v for k, v in v1.items()
                                                                             if k != "cpu"})))
    with pytest.raises(sandbox.SandboxError):
        with Sandbox() as box:
            box.run("true")


# ---- the host fallback shows system directories, not data ------------------------------------------------

@pytest.mark.parametrize("top", ["var/tmp", "opt", "srv"])
def test_host_data_directories_are_not_visible(tmp_path, top):
    secret = Path("/") / top / f"echo-data-{tmp_path.name}"
    secret.mkdir()
    try:
        (secret / "secret.txt").write_text("host data\n")
        with Sandbox() as box:
            assert "host data" not in box.run(f"cat {secret}/secret.txt").output
    finally:
        shutil.rmtree(secret)


def test_a_sibling_tasks_files_are_not_visible(tmp_path):
    root = Path("/var/tmp") / f"echo-tasks-{tmp_path.name}"
    for name in ("mine", "sibling"):
        (root / name / "tests").mkdir(parents=True)
        (root / name / "instruction.md").write_text("x\n")
        (root / name / "task.toml").write_text("[agent]\ntimeout_sec = 60\n")
        (root / name / "tests/test.sh").write_text(f"echo {name}-answer\n")
    try:
        with harbor.start_task(harbor.load_task(root / "mine")) as box:
            assert "sibling-answer" not in box.run(f"cat {root}/sibling/tests/test.sh").output
    finally:
        shutil.rmtree(root)


# The agent's process left running (as Harbor leaves them): it waits for the verifier's processes and
# tries to trace them (to change what they run) and to read their memory.
WATCH = r"""
import ctypes, os, time
libc, got, end = ctypes.CDLL(None, use_errno=True), set(), time.time() + 4
while time.time() < end and len(got) < 3:
    for p in [p for p in os.listdir('/proc') if p.isdigit()]:
        try:
            if not open(f'/proc/{p}/cmdline', 'rb').read().startswith(b'echo-verifier-mark'):
                continue
        except OSError:
            continue
        got.add('seen')
        if libc.ptrace(0x4206, int(p), 0, 0) == 0:                     # PTRACE_SEIZE
            got.add('traced')
        try:
            open(f'/proc/{p}/mem', 'rb').close()
            got.add('mem')
        except OSError:
            pass
    time.sleep(0.01)
open('/tmp/watch.out', 'w').write(' '.join(sorted(got)))
"""


def test_the_agents_processes_cannot_trace_or_read_the_verifiers(tmp_path):
    with Sandbox() as box:
        box.copy_in(_write(tmp_path / "watch.py", WATCH), "/tmp")
        box.run("python3 /tmp/watch.py >/dev/null 2>&1 &")
        trusted = getattr(box, "run_fresh", None) or box._run        # how the verifier's commands run
        r = trusted("(exec -a echo-verifier-mark sleep 1); echo checked", 10)
        assert r.output == "checked\n"
        box.run("sleep 3.5")
        assert box.run("cat /tmp/watch.out").output == "seen"         # found it, and could do nothing


# ---- the filter itself, on both architectures, through a small classic-BPF interpreter --------------------

program = functools.cache(seccomp.program)


def execute(machine: str, nr: int, arch: int | None = None, arg0: int = 0) -> tuple[int, int]:
    """seccomp's verdict for one call, and how many instructions gave it: execute seccomp.program() on a
    struct seccomp_data."""
    arch = seccomp.AUDIT_ARCH[machine] if arch is None else arch
    data = struct.pack("IIQ6Q", nr, arch, 0, arg0, 0, 0, 0, 0, 0)
    prog, pc, a = program(machine), 0, 0
    for steps in range(1, len(prog) + 1):                 # forward jumps only: each instruction at most once
        code, jt, jf, k = prog[pc]
        if code == seccomp.LD_W_ABS:
            a = struct.unpack_from("I", data, k)[0]
        elif code == seccomp.RET:
            return k, steps
        else:
            hit = {seccomp.JEQ: a == k, seccomp.JGE: a >= k, seccomp.JSET: bool(a & k)}[code]
            pc += jt if hit else jf
        pc += 1
    raise AssertionError("the program ran past its end")


def run_filter(machine: str, nr: int, arch: int | None = None, arg0: int = 0) -> int:
    return execute(machine, nr, arch, arg0)[0]


ALLOW, EPERM, ENOSYS = seccomp.RET_ALLOW, seccomp.RET_ERRNO(1), seccomp.RET_ERRNO(38)
both = pytest.mark.parametrize("machine", seccomp.ARCHES)


def nr(machine: str, name: str) -> int:
    return seccomp.SYSCALLS[name][seccomp.ARCHES.index(machine)]


@both
def test_every_call_of_dockers_unconditional_rule_is_allowed(machine):
    names = [n for n in seccomp.DOCKER_NAMES if n in seccomp.SYSCALLS and nr(machine, n) is not None]
    assert len(names) >= 250 and "read" in names and "execve" in names
    for name in set(names) - seccomp.REFUSED - {"personality", "socket"}:
        assert run_filter(machine, nr(machine, name)) == ALLOW, name
    for name in seccomp.DOCKER_CONDITIONAL:                          # conditions a default container meets
        if nr(machine, name) is not None:                             # arch_prctl, modify_ldt: x86-64 only
            assert run_filter(machine, nr(machine, name)) == ALLOW, name


@both
def test_calls_no_rule_allows_a_default_container_are_eperm(machine):
    for name in ("get_mempolicy", "set_mempolicy", "mbind", "migrate_pages", "move_pages", "kcmp", "unshare",
                 "setns", "mount", "fsopen", "keyctl", "add_key", "bpf", "perf_event_open", "userfaultfd",
                 "kexec_load", "init_module", "swapon", "acct", "reboot", "open_by_handle_at",
                 "name_to_handle_at", "io_uring_setup", "io_uring_enter"):
        assert run_filter(machine, nr(machine, name)) == EPERM, name


@both
def test_calls_newer_than_the_profile_are_enosys_so_libc_falls_back(machine):
    assert max(n for pair in seccomp.SYSCALLS.values() for n in pair if n is not None) == 469
    for name in ("set_mempolicy_home_node", "cachestat", "fchmodat2", "listmount", "statmount",
                 "lsm_get_self_attr", "lsm_list_modules", "mseal", "file_setattr"):
        assert run_filter(machine, nr(machine, name)) == ENOSYS, name
    assert run_filter(machine, nr(machine, "futex_waitv")) == ALLOW                   # the highest allowed
    assert run_filter(machine, 1000) == run_filter(machine, 0x3FFFFFFF) == ENOSYS


@both
def test_the_argument_rules_are_dockers(machine):
    assert run_filter(machine, nr(machine, "clone3")) == ENOSYS
    assert run_filter(machine, nr(machine, "socket"), arg0=40) == EPERM                           # AF_VSOCK
    for family in (1, 2, 10, 16):                                        # unix, inet, inet6, netlink
        assert run_filter(machine, nr(machine, "socket"), arg0=family) == ALLOW
    clone = nr(machine, "clone")
    assert run_filter(machine, clone, arg0=17) == ALLOW                                        # fork
    assert run_filter(machine, clone, arg0=0x10000000 | 17) == EPERM                         # CLONE_NEWUSER
    assert run_filter(machine, clone, arg0=0x02000000) == EPERM                            # CLONE_NEWCGROUP
    for value, verdict in ((0, ALLOW), (8, ALLOW), (0xFFFFFFFF, ALLOW), (0x0040000, EPERM), (3, EPERM)):
        assert run_filter(machine, nr(machine, "personality"), arg0=value) == verdict


@both
def test_another_architecture_is_killed_and_x32_refused(machine):
    assert run_filter(machine, 0, arch=0x40000003) == seccomp.RET_KILL_PROCESS           # i386 / arm32
    if machine == "x86_64":
        assert run_filter(machine, 0x40000000 + 39) == EPERM                                # x32 getpid


def test_the_x86_64_numbers_are_the_kernel_headers():
    header = Path("/usr/include/x86_64-linux-gnu/asm/unistd_64.h")
    if not header.exists():
        pytest.skip(f"{header} missing")
    import re
    uapi = {m[1]: int(m[2]) for m in re.finditer(r"#define __NR_(\w+) (\d+)", header.read_text())}
    for name, (x86, _) in seccomp.SYSCALLS.items():
        assert uapi.get(name, x86) == x86, name
    assert all(uapi.get(n) is None for n in seccomp.DOCKER_NAMES if n not in seccomp.SYSCALLS)


def test_the_program_is_short_and_every_verdict_cheap():
    for machine in seccomp.ARCHES:
        assert len(seccomp.program(machine)) < 200
        assert max(execute(machine, n)[1] for n in range(500)) <= 20


def test_allow_no_cgroup_is_a_flag_of_eval(monkeypatch, tmp_path, capsys):
    # a machine without a cgroup: the episode does not start, unless --allow-no-cgroup asks for it
    import json

    import eval as E
    monkeypatch.setattr(sandbox, "ALLOW_NO_CGROUP", False)
    monkeypatch.setattr(sandbox.Cgroup, "_parents", staticmethod(lambda: (tmp_path / "no-such", {})))
    task = tmp_path / "tasks/t"
    for rel, text in {"task.toml": "", "instruction.md": "Do it.\n", "solution/solve.sh": "true\n",
                      "tests/test.sh": "echo 1 > /logs/verifier/reward.txt\n"}.items():
        (task / rel).parent.mkdir(parents=True, exist_ok=True)
        (task / rel).write_text(text)
    out = tmp_path / "out.json"
    for flag, reward in (([], 0.0), (["--allow-no-cgroup"], 1.0)):
        E.main(["--agent", "oracle", "--tasks", str(tmp_path / "tasks"), "--workers", "1",
                "--json", str(out), *flag])
        record = json.loads(out.read_text())["tasks"]["t"]
        assert record["reward"] == reward
        if not flag:
            assert "--allow-no-cgroup" in record["error"]
