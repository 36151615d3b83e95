"""The agent's processes alive into verification (Limits.keep_agent_processes, Harbor's lifecycle and the
default; --kill-agent-processes the old one), and the
verifier's integrity without killing them (CONTAINMENT.md: what survives cannot write the verifier's
files or reward, change what it executes, or reach into its processes).

A service task first: the oracle starts a web server that the tests talk to. Then attacks by a survivor, a
process the agent left running that strikes once verification has started. Each names what it would win: a
reward of 1 on an unsolved task. On the "just don't kill" version (the verifier run beside the survivors,
nothing else changed: Sandbox.seal replaced by `lambda self: True` and harbor._run_tests called with
sealed=False) the /tests rewrite, the /tmp download swap, both interpreter swaps and the six real-image
start-up forgeries scored 1.0; the reward writer, the signals and ptrace or /proc/<pid>/mem were already
held there (the verifier's private /logs/verifier, and its capability set, which no process of the agent
covers)."""
import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

import harbor

KEEP = harbor.Limits(keep_agent_processes=True)
KILL = harbor.Limits(keep_agent_processes=False)           # --kill-agent-processes


def make_task(root: Path, test_sh: str, dockerfile: str | None = None, files=None) -> harbor.Task:
    path = root / "t"
    for rel, text in {"task.toml": "[verifier]\ntimeout_sec = 15\n[environment]\nallow_internet = false\n",
                      "instruction.md": "Do it.\n", "tests/test.sh": test_sh,
                      **({"environment/Dockerfile": dockerfile} if dockerfile else {}),
                      **(files or {})}.items():
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_text(text)
    return harbor.load_task(path)


def score(task, attack: str | None = None, oracle: bool = False, limits=KEEP, **start):
    """The verifier's verdict on one episode: its reward, or its Outcome's value."""
    with harbor.start_task(task, limits=limits, **start) as env:
        if oracle:
            env.solve()
        if attack:
            env.run(attack, timeout=30)
        try:
            return env.verify()[0]
        except Exception as e:  # noqa: BLE001 - the outcome is the answer
            return harbor.outcome_of(e).value


# ---- the option: a service the agent started is what the tests talk to ------------------------------------

SERVE = ("mkdir -p /app/site && echo hello > /app/site/index.html\n"
         "nohup python3 -m http.server 8123 --bind 127.0.0.1 --directory /app/site >/dev/null 2>&1 &\n"
         "for i in $(seq 50); do python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", 8123))' "
         "2>/dev/null && break; sleep 0.1; done\n")
FETCH = ("python3 -c 'import urllib.request as u; "
         "assert u.urlopen(\"http://127.0.0.1:8123/\").read() == b\"hello\\n\"'"
         " && echo 1 > /logs/verifier/reward.txt || echo 0 > /logs/verifier/reward.txt\n")


@pytest.fixture
def service_task(tmp_path):
    return make_task(tmp_path, FETCH, files={"solution/solve.sh": SERVE})


def test_a_service_the_oracle_started_answers_the_tests_when_kept(service_task):
    assert score(service_task, oracle=True) == 1.0
    assert score(service_task) == 0.0                      # nothing started: nothing answers


def test_by_default_the_agents_processes_are_kept_as_in_harbor(service_task):
    assert harbor.Limits().keep_agent_processes
    assert score(service_task, oracle=True, limits=harbor.Limits()) == 1.0


def test_with_kill_agent_processes_the_service_is_gone_before_the_tests(service_task):
    assert score(service_task, oracle=True, limits=KILL) == 0.0


@pytest.mark.parametrize("flag, reward", [([], 1.0), (["--kill-agent-processes"], 0.0)])
def test_the_flag_of_eval_and_echo(service_task, tmp_path, flag, reward):
    import json
    import eval as E
    import runs
    E.main(["--agent", "oracle", "--tasks", str(service_task.path.parent), "--json", str(tmp_path / "r.json"),
            *flag])
    assert json.loads((tmp_path / "r.json").read_text())["tasks"]["t"]["reward"] == reward
    assert runs.rollout_limits(runs.parse_args(flag)).keep_agent_processes == (not flag)


def test_the_old_keep_flag_is_gone(capsys):
    import eval as E
    import runs
    for parse in (runs.parse_args, lambda argv: E.main(["--agent", "oracle", *argv])):
        with pytest.raises(SystemExit) as e:
            parse(["--keep-agent-processes"])
        assert e.value.code == 2
        assert "unrecognized arguments: --keep-agent-processes" in capsys.readouterr().err


# ---- survivors on the host fallback (no Dockerfile) -------------------------------------------------------

CHECK = "import sys; sys.exit(open('/app/answer').read().strip() != '42')\n"
SLOW_CHECK = "sleep 1; if python3 /tests/check.py; then echo 1; else echo 0; fi > /logs/verifier/reward.txt\n"
# Strikes once verification starts: the seal has made the root mount of its namespace read-only, then
# test.sh's pid $v once its command line shows (tes[t]: the survivor's own command line holds the pattern,
# not what it matches). The agent's PID namespace holds no verifier process (test_rt13_pidns.py): after
# 20 tries without one, $v is a pid that names nothing there, and the strike goes on while test.sh runs.
WAIT = ("until grep -qs ' / / ro[, ]' /proc/self/mountinfo; do sleep 0.01; done; "
        "for i in $(seq 20); do v=$(grep -ls tests/tes[t].sh /proc/[0-9]*/cmdline | head -1 | cut -d/ -f3); "
        "[ -n \"$v\" ] && break; sleep 0.01; done; v=${v:-999999}; ")


def survivor(body: str) -> str:
    return f"nohup bash -c {shlex.quote(body)} >/dev/null 2>&1 &"


def settled(env, path: str) -> None:
    """Until the survivor has written `path` (WAIT's tries may outlast a short test.sh on a loaded machine)."""
    env.run(f"for i in $(seq 200); do [ -e {path} ] && break; sleep 0.05; done", timeout=30)


@pytest.fixture
def check_task(tmp_path):
    return make_task(tmp_path, SLOW_CHECK, files={"tests/check.py": CHECK})


def test_an_honest_episode_still_scores(check_task):
    assert score(check_task, "mkdir -p /app; echo 42 > /app/answer") == 1.0
    assert score(check_task, "mkdir -p /app; echo 41 > /app/answer") == 0.0


REWRITE_TESTS = "while :; do [ -f /tests/check.py ] && echo pass > /tests/check.py; sleep 0.01; done"


def test_a_survivor_cannot_rewrite_the_tests(check_task):
    assert score(check_task, survivor(REWRITE_TESTS)) == 0.0


def test_a_survivor_cannot_write_the_reward(check_task):
    # before the check it would be a planted reward ("tampered", test_reward_forgery); it strikes after
    attack = survivor(WAIT + "while :; do mkdir -p /logs/verifier; echo 1 > /logs/verifier/reward.txt; done")
    assert score(check_task, attack) == 0.0


def test_a_survivor_that_kills_the_verifier_wins_nothing(check_task):
    for sig in ("KILL", "TERM", "STOP"):
        assert score(check_task, survivor(WAIT + f"pkill -{sig} -P $v; kill -{sig} $v")) in (
            0.0, "verifier error")


def test_a_survivor_cannot_swap_what_the_verifier_downloads_to_tmp(tmp_path):
    # as test.sh fetches its runner (pip, uv's installer) into /tmp, then runs it
    task = make_task(tmp_path, "cp /tests/check.py /tmp/runner.py; sleep 1; " + SLOW_CHECK.replace(
        "/tests/check.py", "/tmp/runner.py"), files={"tests/check.py": CHECK})
    attack = survivor("while :; do echo pass > /tmp/runner.py; sleep 0.01; done")
    # the agent's /tmp/runner.py is where test.sh copies a file of its tests: tampered since rt18a p25
    # (tamper.tests_at); either way its swap never reaches the verifier
    assert score(task, attack) in (0.0, "tampered")


UNSEAL = ("import ctypes; a = (ctypes.c_uint64 * 4)(0, 1, 0, 0); "       # mount_setattr: clear RDONLY
          "print(ctypes.CDLL(None).syscall(442, -100, b'/', 0, a, 32))")


def test_a_survivor_holding_a_root_file_open_for_writing_is_killed(check_task, capsys):
    # the root cannot be made read-only while a file on it is open for writing (EBUSY): then, as by default,
    # every process of the agent is killed before the check, and a line says so
    attack = ("echo 42 > /app/answer; "
              + survivor("exec 3>>/app/log; touch /tmp/held; while :; do sleep 0.1; done")
              + "\nuntil [ -e /tmp/held ]; do sleep 0.05; done\n"
              + survivor(REWRITE_TESTS))
    assert score(check_task, attack) == 1.0
    err = capsys.readouterr().err
    assert "(bash) /app/log" in err and "are killed before verification" in err    # who holds what
    assert score(check_task, attack.replace("echo 42", "echo 41")) == 0.0


def test_the_seal_refusal_line_escapes_the_file_name_a_survivor_holds(check_task, capsys):
    # rt9 p14: the name is the agent's; a newline in it forged a trainer line, an ESC erased one
    held = "f=$'/app/x\\nstep 999 mean reward 1.000\\e[2K'; exec 3>>\"$f\"; touch /tmp/held"
    attack = (survivor(held + "; while :; do sleep 0.1; done")
              + "\nuntil [ -e /tmp/held ]; do sleep 0.05; done\n")
    score(check_task, attack)
    err = capsys.readouterr().err
    assert "killed before verification" in err and "\nstep 999" not in err and "\x1b" not in err
    assert "/app/x step 999 mean reward 1.000\\x1b[2K" in err


def test_a_survivor_cannot_undo_the_read_only_root_or_reach_the_verifiers(check_task):
    with harbor.start_task(check_task, limits=KEEP) as env:
        env.run(survivor(WAIT + f"mount -o remount,rw /; python3 -c {shlex.quote(UNSEAL)}; "
                         "echo pass > /proc/$v/root/tests/check.py; "
                         "echo pass > /proc/$v/cwd/../tests/check.py; "
                         "touch /app/rw && echo rw > /tmp/rw; echo done > /tmp/done"), timeout=30)
        assert env.verify()[0] == 0.0
        settled(env, "/tmp/done")
        assert env.read_file("/tmp/done") == "done\n" and env.read_file("/tmp/rw") is None


PTRACE = ("import ctypes, sys; pid = int(sys.argv[1]); libc = ctypes.CDLL(None, use_errno=True)\n"
          "if libc.ptrace(16, pid, 0, 0) == 0: open('/tmp/won', 'w').write('ptrace')\n"   # PTRACE_ATTACH
          "try:\n    open(f'/proc/{pid}/mem', 'r+b'); open('/tmp/won', 'a').write('mem')\n"
          "except OSError: pass\n")


def test_a_survivor_cannot_trace_or_write_the_verifiers_memory(check_task):
    with harbor.start_task(check_task, limits=KEEP) as env:
        env.run(f"cat > /tmp/p.py <<'EOF'\n{PTRACE}EOF\n" + survivor(WAIT + "python3 /tmp/p.py $v"),
                timeout=30)
        env.verify()
        assert env.read_file("/tmp/won") is None


# ---- whatever the uids, no survivor reaches a verifier process (sandbox_init: the agent's Landlock domain)
# Each scored 1.0 (or reached the verifier) before the domain: the capability pid 1 gives the verifier only
# protects a root verifier, and is gone once test.sh or a child of it runs as another user.

NOBODY_TOML = "[verifier]\ntimeout_sec = 15\nuser = \"nobody\"\n[environment]\nallow_internet = false\n"
AS_NOBODY = "setpriv --reuid=65534 --regid=65534 --clear-groups "


def test_a_survivor_of_the_verifiers_uid_cannot_write_the_reward_through_its_proc_root(tmp_path):
    # K1: test.sh runs as nobody ([verifier].user); a survivor of that uid opens /proc/<test.sh>/root
    task = make_task(tmp_path, SLOW_CHECK, files={"tests/check.py": CHECK, "task.toml": NOBODY_TOML})
    assert score(task, "mkdir -p /app; echo 42 > /app/answer; chmod -R a+rX /app") == 1.0
    attack = AS_NOBODY + "bash -c " + shlex.quote(survivor(
        WAIT + "while :; do echo '{\"reward\": 1.0}' > /proc/$v/root/logs/verifier/reward.json; done"))
    assert score(task, attack) == 0.0


def test_a_survivor_cannot_reach_a_child_that_a_root_test_sh_runs_as_another_user(tmp_path):
    # K1c: a root test.sh runs a step via setpriv as nobody; a survivor of nobody's uid, with the capability
    # to write root's files in hand (ambient CAP_DAC_OVERRIDE), goes in through that child's /proc/PID/root
    test_sh = (AS_NOBODY + "python3 -c 'import time; time.sleep(2)' marker-k1c\n" + SLOW_CHECK.replace(
        "> /logs/verifier/reward.txt", "> /logs/verifier/reward.txt; sleep 1"))
    task = make_task(tmp_path, test_sh, files={"tests/check.py": CHECK})
    body = ("until grep -qs marker-k[1]c /proc/[0-9]*/cmdline; do sleep 0.01; done; "
            "for p in $(grep -ls marker-k[1]c /proc/[0-9]*/cmdline | cut -d/ -f3); do "
            "echo '{\"reward\": 1.0}' > /proc/$p/root/logs/verifier/reward.json; done")
    attack = ("nohup setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=+dac_override "
              f"--ambient-caps=+dac_override bash -c {shlex.quote(body)} >/dev/null 2>&1 &")
    assert score(task, attack) == 0.0


REACH = ("import ctypes, os, signal, sys; v = int(sys.argv[1]); libc = ctypes.CDLL(None, use_errno=True)\n"
         "won = []\n"
         "def tried(what, f):\n"
         "    try:\n        f(); won.append(what)\n    except OSError:\n        pass\n"
         "tried('signal', lambda: os.kill(v, 0))\n"
         "tried('environ', lambda: open(f'/proc/{v}/environ', 'rb').read())\n"
         "tried('cwd', lambda: os.listdir(f'/proc/{v}/cwd'))\n"
         "tried('fd', lambda: os.readlink(f'/proc/{v}/fd/1'))\n"
         "tried('mem', lambda: open(f'/proc/{v}/mem', 'r+b'))\n"
         "def getfd():\n"
         "    pfd = os.pidfd_open(v)\n"
         "    if libc.syscall(438, pfd, 0, 0) < 0: raise OSError(ctypes.get_errno(), 'pidfd_getfd')\n"
         "tried('pidfd_getfd', getfd)\n"
         "if libc.ptrace(16, v, 0, 0) == 0: won.append('ptrace')\n"       # PTRACE_ATTACH
         "open('/tmp/w/won', 'w').write(' '.join(won))\n")


def test_no_survivor_of_the_verifiers_uid_signals_traces_or_reads_its_processes(tmp_path):
    # the class, on a nobody test.sh by a nobody survivor: signals, /proc/PID/environ, cwd, fd, mem,
    # pidfd_getfd, ptrace; before the domain the signal, environ, cwd and fd got through
    task = make_task(tmp_path, SLOW_CHECK, files={"tests/check.py": CHECK, "task.toml": NOBODY_TOML})
    with harbor.start_task(task, limits=KEEP) as env:
        env.run(f"mkdir -m 777 /tmp/w; cat > /tmp/w/reach.py <<'EOF'\n{REACH}EOF\n" + AS_NOBODY + "bash -c "
                + shlex.quote(survivor(WAIT + "python3 /tmp/w/reach.py $v")), timeout=30)
        assert env.verify()[0] == 0.0
        assert env.run("sleep 0.5; cat /tmp/w/won").output == ""          # it ran, and won nothing


def test_the_agents_processes_still_reach_each_other_across_shell_restarts():
    # one domain for all of them: what an earlier shell started, or the image's ENTRYPOINT, can be killed
    import sandbox
    with sandbox.Sandbox(limits=KEEP) as sb:
        sb.start("exec sleep 1000")
        sb.run("sleep 999 >/dev/null 2>&1 &")
        sb.run("exit")                                         # a fresh shell, started by pid 1 again
        r = sb.run("for p in $(grep -l ^sleep /proc/[0-9]*/cmdline | cut -d/ -f3); do "
                   "kill $p && echo killed; done")
        assert r.output.split() == ["killed", "killed"]


def test_without_landlock_the_default_refuses_to_start_and_names_the_flag(check_task, monkeypatch):
    import sandbox_init
    monkeypatch.setattr(sandbox_init, "landlock_abi", lambda: 5)
    refused = "needs Landlock ABI 6.*this kernel has 5: run with --kill-agent-processes"
    with pytest.raises(harbor.SetupError, match=refused):
        score(check_task, limits=harbor.Limits())
    assert score(check_task, "mkdir -p /app; echo 42 > /app/answer", limits=KILL) == 1.0


# ---- what the verifier creates, writes or runs never resolves where survivors write -----------------------
# Each scored 1.0 before: the verifier's /tmp was an overlay whose lower layer was the survivors' live /tmp,
# and /run, /var/lib, /var/log, ... were theirs and its alike.

VENV_TEST = ("sleep 1; python3 -m venv --without-pip /tmp/venv && /tmp/venv/bin/python /tests/check.py "
             "&& echo 1 > /logs/verifier/reward.txt || echo 0 > /logs/verifier/reward.txt\n")
PTH = "import os; open('/logs/verifier/reward.json', 'w').write('{\"reward\": 1.0}')"


def test_a_survivor_cannot_plant_a_pth_in_the_venv_test_sh_makes_in_tmp(tmp_path):
    # K2: the survivor makes /tmp/venv/lib/pythonX.Y/site-packages/zz.pth once test.sh runs
    task = make_task(tmp_path, VENV_TEST, files={"tests/check.py": CHECK})
    assert score(task, "mkdir -p /app; echo 42 > /app/answer") == 1.0
    site = "/tmp/venv/lib/python3.$(python3 -c 'import sys; print(sys.version_info[1])')/site-packages"
    attack = survivor(WAIT + f"d={site}; mkdir -p $d; echo {shlex.quote(PTH)} > $d/zz.pth")
    assert score(task, attack) == 0.0


def test_a_survivor_cannot_link_what_test_sh_downloads_to_a_fifo_of_its_own(tmp_path):
    # K3: /tmp/installer.sh made a link to a FIFO in /run once test.sh runs; test.sh then writes the
    # download there and runs the file, which reads the survivor's payload
    test_sh = ("sleep 1; cp /tests/installer.sh /tmp/installer.sh; sh /tmp/installer.sh\n"
               "if python3 /tests/check.py; then echo 1; else echo 0; fi > /logs/verifier/reward.txt\n")
    task = make_task(tmp_path, test_sh, files={"tests/check.py": CHECK, "tests/installer.sh": "true\n"})
    body = ("mkdir -p /run/x; mkfifo /run/x/fifo; " + WAIT + "ln -sf /run/x/fifo /tmp/installer.sh; "
            "cat /run/x/fifo >/dev/null; echo 'mkdir -p /app; echo 42 > /app/answer' > /run/x/fifo")
    assert score(task, survivor(body)) == 0.0


def test_a_link_left_in_tmp_does_not_take_the_verifiers_writes_out_of_it(tmp_path):
    # planted before the seal: /tmp/runner.py a link into /run, where the survivor rewrites what test.sh
    # copies through it; the verifier's copy of /tmp leaves out a link that leaves it
    test_sh = "cp /tests/check.py /tmp/runner.py; sleep 1; " + SLOW_CHECK.replace("/tests/check.py",
                                                                                    "/tmp/runner.py")
    task = make_task(tmp_path, test_sh, files={"tests/check.py": CHECK})
    attack = ("mkdir -p /run/x; ln -s /run/x/runner.py /tmp/runner.py; "     # cp writes through a link
              + survivor("while :; do echo pass > /run/x/runner.py; sleep 0.01; done"))     # that resolves
    # 0.0 (the copy leaves the link out), or tampered: the check after the tests sees the agent's link lead
    # to a file written meanwhile (tamper._link_into)
    assert score(task, attack) in (0.0, "tampered")


# test.sh makes a venv in /tmp and a runner in it unless one is there: the agent's, made first, is judged by
# the check after the tests (tamper.py: an environment test.sh creates, pre-made), which reads what the
# verifier wrote over its copy of /tmp (before: unseen, and it scored 1.0)
KEPT_RUNNER = ("python3 -m venv --without-pip /tmp/v\n[ -x /tmp/v/bin/runtests ] || { printf '#!/bin/sh\\n"
               "exec python3 /tests/check.py\\n' > /tmp/v/bin/runtests; chmod +x /tmp/v/bin/runtests; }\n"
               "if /tmp/v/bin/runtests; then echo 1; else echo 0; fi > /logs/verifier/reward.txt\n")


def test_a_runner_the_agent_pre_made_in_the_venv_test_sh_makes_in_tmp_is_tampered(tmp_path):
    task = make_task(tmp_path, KEPT_RUNNER, files={"tests/check.py": CHECK})
    assert score(task, "mkdir -p /app; echo 42 > /app/answer") == 1.0
    assert score(task, "mkdir -p /tmp/v/bin; printf '#!/bin/sh\\nexit 0\\n' > /tmp/v/bin/runtests; "
                 "chmod +x /tmp/v/bin/runtests") == "tampered"


def test_tests_larger_than_the_sandbox_holds_are_a_verifier_error_when_kept(tmp_path, monkeypatch):
    # task_facts reads tests/ for what it names up to HOME_SCAN_BYTES: 16 MiB of the big file's NULs through
    # its regexes were most of this test (50 of 54 s loaded); the file is over any budget, so a smaller one
    # gives the same facts
    monkeypatch.setattr(harbor, "HOME_SCAN_BYTES", 1 << 16)
    task = make_task(tmp_path, "echo 1 > /logs/verifier/reward.txt\n")
    with open(task.path / "tests" / "big", "wb") as f:
        f.truncate(2 << 30)                    # sparse: no disk until someone copies it
    assert score(task) == "verifier error"     # the task's fault, not the machine's ("sandbox failed")


SOCK_SERVER = ("import os, socket; s = socket.socket(socket.AF_UNIX); s.bind('/tmp/svc.sock'); s.listen(); "
               "os.chmod('/tmp/svc.sock', 0o777)\n"
               "while True:\n    c, _ = s.accept(); c.sendall(b'42'); c.close()\n")
SOCK_TEST = ("[ \"$(cat /tmp/inside)\" = note ] && "
             "python3 -c 'import socket; s = socket.socket(socket.AF_UNIX); s.connect(\"/tmp/svc.sock\"); "
             "assert s.recv(2) == b\"42\"' && echo 1 > /logs/verifier/reward.txt "
             "|| echo 0 > /logs/verifier/reward.txt\n")


def test_the_verifier_still_sees_what_the_agent_left_in_tmp_and_its_service_socket(tmp_path):
    # Harbor's semantics kept: a file, a link inside /tmp, and a unix socket a survivor listens on
    task = make_task(tmp_path, SOCK_TEST)
    agent = (f"cat > /tmp/srv.py <<'EOF'\n{SOCK_SERVER}EOF\nnohup python3 /tmp/srv.py >/dev/null 2>&1 &\n"
             "echo note > /tmp/app-note; ln -s /tmp/app-note /tmp/inside; "
             "until [ -S /tmp/svc.sock ]; do sleep 0.05; done")
    assert score(task, agent) == 1.0
    assert score(task, agent.replace("echo note", "echo other")) == 0.0


# ---- survivors on an overlay: the interpreter the verifier runs -------------------------------------------

@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """An image store with a tiny base whose /usr/bin/python3 is a stand-in check (exit 0 iff /app/answer
    holds 42) and the few tools a survivor uses."""
    if not shutil.which("ldd"):
        pytest.skip("needs ldd to copy the host's bash into a base")
    from test_images import tiny_rootfs
    store = tmp_path_factory.mktemp("store")
    os.chmod(store, 0o755)
    root = tiny_rootfs(store / "tiny")
    for tool in ("chmod", "sleep", "head", "cut", "grep", "nohup", "ln"):
        path = shutil.which(tool)
        out = subprocess.run(["ldd", path], capture_output=True, text=True).stdout
        for f in {path, *(w for w in out.split() if w.startswith("/"))}:
            dest = root / "usr/bin" / tool if f == path else root / f.lstrip("/")
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(f, dest)                     # links followed: the library itself
    (root / "usr/bin/python3").write_text('#!/bin/sh\n[ "$(cat /app/answer 2>/dev/null)" = 42 ]\n')
    (root / "usr/bin/python3").chmod(0o755)
    (root / "usr/local/bin").mkdir(parents=True, exist_ok=True)
    return store


TINY_TEST = "sleep 1; if python3 /tests/check; then echo 1; else echo 0; fi > /logs/verifier/reward.txt\n"
STUB = "printf \"#!/bin/sh\\nexit 0\\n\" > {0}; chmod +x {0}"


@pytest.mark.parametrize("target", ["/usr/local/bin/python3", "/usr/bin/python3"],
                         ids=["a PATH shadow", "the interpreter rewritten"])
def test_a_survivor_cannot_swap_the_interpreter_after_the_check(tiny, tmp_path, target):
    task = make_task(tmp_path, TINY_TEST, dockerfile="FROM tiny\nWORKDIR /app\n")
    assert score(task, "echo 42 > /app/answer", store=tiny) == 1.0
    assert score(task, survivor(WAIT + STUB.format(target)), store=tiny) == 0.0



def test_a_hard_link_from_a_scratch_place_to_the_interpreter_is_refused(tiny, tmp_path):
    # /tmp stays writable to survivors; a link there to /usr/bin/python3 would write through the seal, but
    # /tmp is a mount of its own from the episode's start, and link(2) does not cross mounts (EXDEV)
    task = make_task(tmp_path, TINY_TEST, dockerfile="FROM tiny\nWORKDIR /app\n")
    attack = "ln /usr/bin/python3 /tmp/py; " + survivor(WAIT + STUB.format("/tmp/py"))
    assert score(task, attack, store=tiny) == 0.0


@pytest.mark.parametrize("place", ["/run", "/var/lib", "/var/log"])
def test_what_the_verifier_writes_outside_tmp_cannot_be_swapped(tiny, tmp_path, place):
    # the other places survivors still write reach the verifier as copies made at the seal: its write there
    # lands in its own upper layer, never where a survivor rewrites it (bash builtins only: the tiny base
    # has no cp or cat)
    test_sh = (f"printf '%s\\n' '[ \"$(< /app/answer)\" = 42 ]' > {place}/c.sh; sleep 1\n"
               f"if source {place}/c.sh; then echo 1; else echo 0; fi > /logs/verifier/reward.txt\n")
    task = make_task(tmp_path, test_sh, files={"environment/d/x": "x\n"},
                     dockerfile="FROM tiny\nCOPY d /var/lib/d\nCOPY d /var/log/d\nWORKDIR /app\n")
    attack = survivor(f"while :; do [ -s {place}/c.sh ] && echo true > {place}/c.sh; sleep 0.01; done")
    assert score(task, attack, store=tiny) in (0.0, "verifier error")       # EROFS, then no c.sh


# ---- on the real Debian base: Python's start-up forgeries, planted once the verifier runs -----------------

@pytest.fixture(scope="module")
def real_task(debian_base, image_cache, tmp_path_factory):
    import images
    from test_reward_forgery import REAL_DOCKERFILE, REAL_TEST_PY, REAL_TEST_SH
    images.CACHE = image_cache                 # module scope: the autouse fixture only patches per test
    task = make_task(tmp_path_factory.mktemp("real"), "sleep 1; " + REAL_TEST_SH, dockerfile=REAL_DOCKERFILE,
                     files={"tests/test_outputs.py": REAL_TEST_PY, "solution/solve.sh": SERVE})
    harbor.build_task(task, log=lambda m: None)
    return task


def real_attacks():
    from test_reward_forgery import REAL_ATTACKS
    return REAL_ATTACKS


@pytest.fixture(scope="module")
def planted_late(real_task):
    """(the verdict, {attack: what its plant printed, then its exit status}) of ONE episode in which a
    survivor plants every start-up forgery once test.sh runs, each in a subshell of its own at the same
    moment. Each makes the tests pass, so any one that reached the verifier scores 1.0 for the episode
    (and fails every case below); an episode per forgery cost ~1.8 s each, 13 of them."""
    attacks = real_attacks()
    plants = "".join(f"( ( {body} ) > /tmp/planted-{i} 2>&1; echo \"exit $?\" >> /tmp/planted-{i} ) & "
                     for i, body in enumerate(attacks.values()))
    with harbor.start_task(real_task, limits=KEEP) as env:
        env.run(survivor(WAIT + plants + "wait; touch /tmp/planted-all"), timeout=30)
        try:
            verdict = env.verify()[0]
        except Exception as e:  # noqa: BLE001 - the outcome is the answer
            verdict = harbor.outcome_of(e).value
        settled(env, "/tmp/planted-all")
        return verdict, {name: env.read_file(f"/tmp/planted-{i}") for i, name in enumerate(attacks)}


@pytest.mark.parametrize("attack", list(real_attacks()))
def test_start_up_forgeries_planted_after_the_check_do_not_reach_the_verifier(planted_late, attack):
    # each is "tampered" when the agent plants it before the check (test_reward_forgery); here a survivor
    # plants it once test.sh runs, after the check: on the naive version each scored 1.0
    verdict, planted = planted_late
    assert "exit " in (planted[attack] or ""), planted      # its plant ran, during test.sh
    assert verdict == 0.0, planted


def test_the_real_image_keeps_a_service_and_honest_work(real_task):
    assert score(real_task, "echo 42 > /app/answer.txt") == 1.0
    with harbor.start_task(real_task, limits=KEEP) as env:
        env.solve()                            # the web server, on the real image's python3
        env.run("echo 42 > /app/answer.txt; " + survivor(
            WAIT + "for d in /var/lib/dpkg /var/cache/apt /var/lib/redis /var/log /usr/lib /app; do "
            "mkdir -p $d 2>/dev/null; touch $d/x 2>/dev/null && echo $d; done > /tmp/wrote"), timeout=30)
        assert env.verify()[0] == 1.0
        assert env.run("python3 -c 'import urllib.request as u; print(u.urlopen(\"http://127.0.0.1:8123/\")"
                       ".read())'", timeout=30).output.strip() == "b'hello\\n'"   # still serving
        settled(env, "/tmp/wrote")
        assert env.read_file("/tmp/wrote").split() == ["/var/lib/redis", "/var/log"]


REDIS_DOCKERFILE = """\
FROM debian:bookworm
RUN apt-get update && apt-get install -y --no-install-recommends redis-server supervisor \\
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
"""
REDIS_SOLVE = """\
printf '[program:redis]\\ncommand=redis-server --port 6379 --bind 127.0.0.1 --dir /var/lib/redis\\n' \\
    > /etc/supervisor/conf.d/redis.conf
echo user=redis >> /etc/supervisor/conf.d/redis.conf
supervisord -c /etc/supervisor/supervisord.conf
for i in $(seq 100); do redis-cli ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
redis-cli set answer 42
"""
REDIS_TEST = ('[ "$(redis-cli get answer)" = 42 ] && echo 1 > /logs/verifier/reward.txt '
              '|| echo 0 > /logs/verifier/reward.txt\n')


def test_redis_under_supervisord_answers_the_tests_when_kept(real_task, tmp_path):
    # the example: the tests talk to the redis the agent started under supervisord, whose log files
    # (/var/log), socket (/run) and data (/var/lib/redis) stay open across the seal (real_task: the base)
    task = make_task(tmp_path, REDIS_TEST, dockerfile=REDIS_DOCKERFILE,
                     files={"solution/solve.sh": REDIS_SOLVE})
    assert score(task, oracle=True) == 1.0
    assert score(task, oracle=True, limits=KILL) == 0.0


# ---- the verifier's resources are not theirs to spend (rt6 p12) -------------------------------------------
# At the seal the survivors move to a cgroup of their own (sandbox.Cgroup.split), capped at half the
# episode's processes and memory, so a check's fork cannot fail for them. The task: remove every ERROR line
# from /app/log.txt; the agent does nothing, and a check that reads a failed fork as "grep found nothing"
# passes. Each attack scored 1.0 before (one pids budget for survivors and verifier: pids.max 256).

LOG = "mkdir -p /app; printf 'INFO ok\\nERROR disk full\\n' > /app/log.txt; "
NEGATIVE = ("import os, time\ntime.sleep(2)\n"                    # the check's setup takes a while
            "found = os.system('grep -q ERROR /app/log.txt') == 0\n"  # -1 when the fork fails
            "open('/logs/verifier/reward.txt', 'w').write('0' if found else '1')\n")


def test_a_survivor_forking_to_the_limit_once_test_sh_runs_leaves_the_verifier_its_share(tmp_path):
    task = make_task(tmp_path, "python3 /tests/check.py\n", files={"tests/check.py": NEGATIVE})
    assert score(task, LOG) == 0.0
    assert score(task, LOG + survivor(WAIT + "while :; do sleep 300 & done")) == 0.0


def test_a_survivor_spawning_threads_to_the_limit_leaves_the_verifier_its_share(tmp_path):
    # threads count as pids too: one process of the agent's, its threads up to the limit
    threads = ("import threading, time\nwhile True:\n    try:\n"
               "        threading.Thread(target=time.sleep, args=(300,), daemon=True).start()\n"
               "    except RuntimeError:\n        time.sleep(0.01)\n")
    task = make_task(tmp_path, "python3 /tests/check.py\n", files={"tests/check.py": NEGATIVE})
    assert score(task, LOG + survivor(WAIT + f"python3 -c {shlex.quote(threads)}")) == 0.0


def test_more_processes_than_their_share_at_the_seal_are_killed_before_the_tests(tmp_path, capfd):
    # 200 of 256 held before verification: the verifier's part is theirs already, so they are all killed
    # (said in one line) rather than left to take the rest once test.sh runs
    task = make_task(tmp_path, "python3 /tests/check.py\n", files={"tests/check.py": NEGATIVE})
    held = survivor("for i in $(seq 200); do sleep 300 & done; " + WAIT + "while :; do sleep 300 & done")
    assert score(task, LOG + held + " sleep 2") == 0.0
    err = capfd.readouterr().err
    assert "over their share of the episode's processes (128 of 256)" in err and "killed before" in err
