"""The agent's processes act on another process's resources by its pid (rt12a p01, p04, p13, p20): prlimit,
setpriority, ioprio_set and sched_setaffinity/param/scheduler/attr ask the kernel only for a uid match, and
pid 1 and the verifier's processes have the agent's uid (0 in the namespace). A survivor lowered test.sh's
RLIMIT_NPROC (a check's os.system() returned -1: a negative check passed), a reference run's RLIMIT_CPU
(killed: empty output, equal to the agent's empty one), test.sh's RLIMIT_AS (python3 could not start, bash
took the else branch); the agent's own shell lowered pid 1's RLIMIT_NPROC, which test.sh inherited, in both
lifecycles. The agent's filter allows these calls on the caller alone (seccomp.AGENT_RULES), and pid 1
starts every process with the rlimits the sandbox gave it, not its own (sandbox_init.RLIMITS)."""
import struct
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import seccomp  # noqa: E402
from sandbox import Sandbox  # noqa: E402
from test_agent_processes import KEEP, KILL, make_task, score  # noqa: E402


def verdict(name: str, *args: int, machine: str = "x86_64", agent: bool = True) -> int:
    """seccomp.program()'s return value for one call with these arguments (a classic-BPF interpreter)."""
    nr = seccomp.SYSCALLS[name][seccomp.ARCHES.index(machine)]
    args = (list(args) + [0] * 6)[:6]
    data = struct.pack("IIQ6Q", nr, seccomp.AUDIT_ARCH[machine], 0, *(a & (1 << 64) - 1 for a in args))
    prog, pc, a = seccomp.program(machine, agent), 0, 0
    while True:
        code, jt, jf, k = prog[pc]
        if code == seccomp.LD_W_ABS:
            a = struct.unpack_from("I", data, k)[0]
        elif code == seccomp.RET:
            return k
        else:
            pc += jt if {seccomp.JEQ: a == k, seccomp.JGE: a >= k, seccomp.JSET: bool(a & k)}[code] else jf
        pc += 1


ALLOW, EPERM = seccomp.RET_ALLOW, seccomp.RET_ERRNO(1)
both = pytest.mark.parametrize("machine", seccomp.ARCHES)
NEW = 0x7FFC_0000_1000                        # a pointer to a new limit: high and low halves both non-zero


@both
def test_the_agents_filter_allows_prlimit_on_itself_or_to_read_only(machine):
    assert verdict("prlimit64", 0, 6, NEW, 0, machine=machine) == ALLOW             # setrlimit, ulimit -u
    assert verdict("prlimit64", 1, 6, NEW, 0, machine=machine) == EPERM             # pid 1's RLIMIT_NPROC
    assert verdict("prlimit64", 1, 6, 1 << 32, 0, machine=machine) == EPERM         # low half 0, high not
    assert verdict("prlimit64", 1, 6, 0, NEW, machine=machine) == ALLOW             # prlimit --pid 1: reads


@both
def test_the_agents_filter_allows_nice_ioprio_and_affinity_on_itself_alone(machine):
    assert verdict("setpriority", 0, 0, 10, machine=machine) == ALLOW               # nice(10)
    assert verdict("setpriority", 0, 1, 10, machine=machine) == EPERM               # renice -p 1
    assert verdict("setpriority", 1, 0, 10, machine=machine) == EPERM               # PRIO_PGRP: pid 1's group
    assert verdict("setpriority", 2, 0, 10, machine=machine) == EPERM               # PRIO_USER: every process
    assert verdict("ioprio_set", 1, 0, 3 << 13, machine=machine) == ALLOW           # ionice -c3 cmd
    assert verdict("ioprio_set", 1, 7, 3 << 13, machine=machine) == EPERM
    assert verdict("ioprio_set", 2, 0, 3 << 13, machine=machine) == EPERM           # IOPRIO_WHO_PGRP
    for name in ("sched_setaffinity", "sched_setparam", "sched_setscheduler", "sched_setattr"):
        assert verdict(name, 0, 8, NEW, machine=machine) == ALLOW, name
        assert verdict(name, 1, 8, NEW, machine=machine) == EPERM, name


@both
def test_the_agents_filter_differs_only_in_those_calls(machine):
    assert len(seccomp.program(machine, agent=True)) < 200                           # jumps stay 8 bits
    names = [n for n, nrs in seccomp.SYSCALLS.items() if nrs[seccomp.ARCHES.index(machine)] is not None]
    changed = {n for n in names if verdict(n, 1, 1, NEW, machine=machine)
               != verdict(n, 1, 1, NEW, machine=machine, agent=False)}
    assert changed == set(seccomp.AGENT_RULES)


@both
def test_the_verifiers_filter_keeps_dockers_rules(machine):
    for name in ("prlimit64", "setpriority", "ioprio_set", "sched_setaffinity", "sched_setattr"):
        assert verdict(name, 1, 1, NEW, machine=machine, agent=False) == ALLOW, name


# ---- in a sandbox: the agent's shell ---------------------------------------------------------------------

CALLS = ("import os, resource, sys\n"
         "pid, cpus = int(sys.argv[1]), os.sched_getaffinity(0)\n"
         "for name, call in (('prlimit', lambda: resource.prlimit(pid, resource.RLIMIT_NPROC, (50, 50))),\n"
         "                   ('setpriority', lambda: os.setpriority(os.PRIO_PROCESS, pid, 19)),\n"
         "                   ('sched_setaffinity', lambda: os.sched_setaffinity(pid, {min(cpus)}))):\n"
         "    try:\n"
         "        call(); print(name, 'ok')\n"
         "    except OSError as e:\n"
         "        print(name, e.errno)\n")
REFUSED = "prlimit 1\nsetpriority 1\nsched_setaffinity 1\n"


@pytest.fixture(scope="module")
def sb():
    with Sandbox() as s:
        s.run(f"cat > /tmp/calls.py <<'EOF'\n{CALLS}EOF")
        yield s


def test_the_agents_shell_cannot_set_pid_1s_limits_nice_or_cpus(sb):
    assert sb.run("python3 /tmp/calls.py 1").output == REFUSED
    assert sb.run("grep 'Max processes' /proc/1/limits").output.split()[2] != "50"


def test_nor_another_process_of_its_own(sb):
    r = sb.run("sleep 30 & python3 /tmp/calls.py $!; kill $!")
    assert r.output == REFUSED


def test_on_itself_each_call_works(sb):
    assert sb.run("python3 /tmp/calls.py 0").output == REFUSED.replace(" 1\n", " ok\n")
    r = sb.run("(ulimit -u 100 && ulimit -u); echo $(( $(nice -n 1 nice) - $(nice) ))")  # under any nice
    assert r.output == "100\n1\n"


def test_the_verifiers_processes_keep_dockers_rules(sb):
    r = sb.run_fresh("python3 /tmp/calls.py $$", 30, private_logs=True)
    assert r.output == REFUSED.replace(" 1\n", " ok\n")


def test_the_agents_shell_cannot_raise_a_verifier_processs_oom_score_adj(sb):
    # rt12 k10: no longer by its pid, which the agent's PID namespace does not hold (test_rt13_pidns.py)
    sb.run_fresh("(exec -a echo-verifier-oom sleep 10) >/dev/null 2>&1 &", 30, private_logs=True)
    sb.run("for f in /proc/[0-9]*/oom_score_adj; do echo 1000 > $f; done 2>/dev/null")
    r = sb.run_fresh("p=$(pgrep -f ^echo-verifier-oom); cat /proc/$p/oom_score_adj; kill $p", 30,
                     private_logs=True)
    assert r.output == "0\n", r.output


def lower_pid_1s(box, soft: bool) -> None:
    """RLIMIT_MSGQUEUE (which pid 1 itself never needs) lowered on pid 1 to 4 KiB, soft or both, by a process
    of the same uid that the agent's filter does not hold (the verifier's: Docker's rules)."""
    limit = "(4096, resource.getrlimit(resource.RLIMIT_MSGQUEUE)[1])" if soft else "(4096, 4096)"
    r = box.run_fresh(f"python3 -c 'import resource; resource.prlimit(1, resource.RLIMIT_MSGQUEUE, {limit})' "
                      "&& grep -c 'queue size  *4096  ' /proc/1/limits", 30, private_logs=True)
    assert r.output == "1\n", r.output


def test_every_process_starts_with_the_sandboxs_rlimits_not_pid_1s_own(sb):
    given = sb.run_fresh("ulimit -q", 30, private_logs=True).output                   # bytes
    lower_pid_1s(sb, soft=True)
    assert given != "4096\n" and sb.run_fresh("ulimit -q", 30, private_logs=True).output == given
    assert sb.run_fresh("ulimit -q", 30).output == given


def test_a_verifier_under_a_lowered_hard_limit_does_not_start():
    with Sandbox() as box:
        lower_pid_1s(box, soft=False)
        r = box.run_fresh("echo ran", 30, private_logs=True)
        assert "ran" not in r.output and "RLIMIT_MSGQUEUE" in r.output, r.output


# ---- the episode: p20, no survivor needed --------------------------------------------------------------

NEGATIVE = ("python3 -c 'import os; clean = os.system(\"grep -q ERROR /app/service.log\") != 0; "
            "open(\"/logs/verifier/reward.txt\", \"w\").write(\"1\" if clean else \"0\")'\n")


@pytest.mark.parametrize("limits", [KEEP, KILL], ids=["kept", "killed"])
def test_pid_1s_rlimit_nproc_set_by_the_agent_does_not_pass_a_negative_check(tmp_path, limits):
    # before: 1.0 at n = 6 (kept) and 5 (killed): pid 1 still starts test.sh, test.sh its check, and the
    # check's grep no longer forks
    task = make_task(tmp_path, NEGATIVE, dockerfile="FROM host\nWORKDIR /app\n")
    for n in (5, 6, 7):
        attack = ("echo ERROR > /app/service.log; python3 -c 'import resource; "
                  f"resource.prlimit(1, resource.RLIMIT_NPROC, ({n}, {n}))'")
        assert score(task, attack=attack, limits=limits) == 0.0, n
