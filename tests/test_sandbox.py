"""Sandbox behaviour: the shell protocol, limits, isolation and teardown (sandbox.py)."""
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import sandbox  # noqa: E402
from sandbox import Limits, Sandbox  # noqa: E402


def alive(pids) -> list[int]:
    """Those of the host pids that still run (zombies count as gone)."""
    return [p for p in pids if sandbox.alive(p)]


def episode_pids(sb) -> list[int]:
    """Host pids of every process of a sandbox: pid 1 and its descendants, nested namespaces included."""
    return sb.processes()


@pytest.fixture
def sb():
    with Sandbox() as s:
        yield s


def test_cwd_and_env_persist(sb):
    assert sb.run("pwd").output == "/app\n"
    assert sb.run("cd /tmp && export FOO=bar && x=1").exit_code == 0
    assert sb.run('pwd; echo $FOO $x').output == "/tmp\nbar 1\n"


def test_exit_code_stderr_and_syntax_errors(sb):
    r = sb.run("echo out; echo err >&2; false")
    assert (r.output, r.exit_code, r.timed_out) == ("out\nerr\n", 1, False)
    assert sb.run("echo 'unterminated").exit_code == 2          # does not swallow the next command
    assert sb.run("echo next").output == "next\n"


def test_commands_cannot_read_the_protocol(sb):
    assert sb.run("cat; read x; echo done").output == "done\n"  # stdin is /dev/null
    assert sb.run("cat <<'EOF'\nline with 'quotes' and \\ and $HOME\nEOF").output == \
        "line with 'quotes' and \\ and $HOME\n"


def test_timeout_kills_the_command_and_keeps_the_shell(sb):
    sb.run("cd /tmp; export KEEP=1; sleep 300 &")               # started before: must survive
    t = time.monotonic()
    r = sb.run("sleep 1000 & sleep 1000", timeout=1)
    assert r.timed_out and r.exit_code == -1 and time.monotonic() - t < 3
    # (bash may first report the killed background job: "... Killed sleep 1000")
    assert sb.run("echo $KEEP; pwd").output.endswith("1\n/tmp\n")
    alive = sb.run("ps -eo stat=,args= | grep -v '^Z' | grep -o 'sleep [0-9][0-9]*'").output
    assert alive == "sleep 300\n"                                # only the earlier background job


def test_timeout_of_a_shell_builtin_restarts_the_shell(sb):
    r = sb.run("while :; do :; done", timeout=1)
    assert r.timed_out and "shell had to be restarted" in r.output
    assert sb.run("echo ok").output == "ok\n"


def test_infinite_output_is_capped(sb):
    sb.limits = Limits(output_chars=1000)
    r = sb.run("yes", timeout=1)
    assert r.timed_out and r.output.startswith("y\ny\n")
    head, note = r.output.split("\n[output cut")
    assert len(head) == 1000 and "first 1,000 characters" in note
    r = sb.run("seq 1 100000")
    assert r.exit_code == 0 and r.output.startswith("1\n2\n") and "[output cut" in r.output


def test_binary_output_is_replaced_not_fatal(sb):
    r = sb.run("head -c 100000 /dev/urandom")
    assert r.exit_code == 0 and "\ufffd" in r.output and "[output cut" in r.output


def test_memory_hog_is_stopped_and_the_shell_survives():
    with Sandbox(limits=Limits(memory_mb=256)) as sb:
        r = sb.run("python3 -c 'x = bytearray(10**9); print(len(x))'")
        if sb.cgroup:          # the cgroup's OOM killer takes the hog, not the shell or pid 1
            assert r.exit_code == 137 and "1000000000" not in r.output
        else:                  # RLIMIT_AS: the allocation fails
            assert r.exit_code == 1 and "MemoryError" in r.output
        assert sb.run("echo alive").output == "alive\n"


def test_files_count_against_a_bounded_writable_layer():
    with Sandbox(limits=Limits(memory_mb=256, storage_mb=64)) as sb:
        for path in ("/app/big", "/tmp/big", "/dev/shm/big"):
            r = sb.run(f"head -c 100M /dev/zero > {path}; echo rc=$?; rm -f {path}")
            assert "No space left on device" in r.output and "rc=1" in r.output, path
        assert sb.run("echo alive").output == "alive\n"


@pytest.mark.parametrize("memory_mb", [64, 256])
def test_every_tmpfs_filled_together_is_enospc_and_the_sandbox_lives(memory_mb):
    # the writable layer (/tmp, /app) and /dev/shm are all charged to the cgroup: filled one after the
    # other (nothing removed), a 64 MB /dev/shm beside a layer of 3/4 of the memory killed the sandbox
    with Sandbox(limits=Limits(memory_mb=memory_mb, storage_mb=4096)) as sb:
        if not sb.cgroup:
            pytest.skip("no cgroup here: files are not memory")
        for path in ("/tmp/big", "/dev/shm/big", "/app/big", "/dev/big"):
            r = sb.run(f"head -c {memory_mb}M /dev/zero > {path}; echo rc=$?")
            assert "No space left on device" in r.output and "rc=1" in r.output, path
        assert sb.run("echo alive").output == "alive\n"


# Memory no process holds (a memfd written, not mapped): the OOM killer may take anything of the sandbox,
# pid 1 or its parent included where oom_score_adj -1000 cannot be set (no CAP_SYS_RESOURCE)
MEMFD = ("python3 -c 'import os; fd = os.memfd_create(\"x\", 0); os.dup2(fd, 3); "
         "os.execvp(\"bash\", [\"bash\", \"-c\", \"head -c 512M /dev/zero >&3; sleep 2\"])'")


def test_a_sandbox_killed_by_its_own_oom_is_the_agents_failure():
    import harbor
    with Sandbox(limits=Limits(memory_mb=128)) as sb:
        if not sb.cgroup:
            pytest.skip("no cgroup here")
        try:
            sb.run(MEMFD, timeout=20)
            alive = sb.run("echo alive", timeout=20).output
        except sandbox.SandboxError as e:          # reward 0 and trained on, never "sandbox failed"
            assert isinstance(e, sandbox.OutOfMemory), e
            outcome = harbor.outcome_of(e)
            assert outcome == harbor.Outcome.OUT_OF_MEMORY and not outcome.machine and not outcome.error
        else:
            assert alive == "alive\n"


def test_fork_bomb_is_contained():
    with Sandbox(limits=Limits(nproc=16)) as sb:
        sb.run(":(){ :|:& };:", timeout=2)
        time.sleep(0.3)
        assert len(alive(episode_pids(sb))) <= 16 + 1          # the bomb's, plus pid 1 outside the limit
        assert sb.run("echo alive", timeout=10).output.endswith("alive\n")
        pids = episode_pids(sb)
        assert len(alive(pids)) >= 2                               # pid 1 and the shell, at least
    assert alive(pids) == []


def test_host_is_read_only_workdir_and_tmp_writable(sb):
    for path in ("/etc/x", "/usr/x", "/usr/local/bin/x"):
        r = sb.run(f"touch {path}")
        assert r.exit_code == 1 and "Read-only file system" in r.output, path
    assert sb.run("echo hi > f && cat f && echo t > /tmp/t && cat /tmp/t").output == "hi\nt\n"
    assert sb.read_file("/app/f") == "hi\n"
    assert sb.run("cat /etc/shadow").exit_code == 1                  # host root's files stay host root's


def test_private_paths_are_hidden(tmp_path):
    project = Path(__file__).resolve().parents[1]
    secret = Path("/var/tmp") / f"echo-hide-{os.getpid()}"          # under a directory the sandbox sees
    secret.mkdir()
    (secret / "answer").write_text("42")
    try:
        with Sandbox(hide=[secret]) as sb:
            for path in (project, "/root", "/home", secret):
                assert sb.run(f"ls -A {path} 2>/dev/null | wc -l").output.strip() == "0", path
            assert sb.run(f"cat {secret}/answer").exit_code == 1
    finally:
        (secret / "answer").unlink()
        secret.rmdir()


def test_no_network_but_loopback(sb):
    assert sb.run("ip -o link | cut -d: -f2").output.split() == ["lo"]
    assert sb.run("ip route; ip -6 route | grep -v '^::1\\|^fe80'").output.strip() == ""
    server = textwrap.dedent("""\
        import socket
        s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
        c = socket.create_connection(s.getsockname(), timeout=2); c.sendall(b"ping")
        print(s.accept()[0].recv(4).decode())""")
    assert sb.run(f"python3 -c '{server}'").output == "ping\n"
    # Fails locally without sending anything: there is no route.
    r = sb.run("python3 -c 'import socket; socket.create_connection((\"10.255.255.1\", 80), timeout=2)'")
    assert "Network is unreachable" in r.output


def test_exit_and_kill_of_the_shell_start_a_fresh_one(sb):
    sb.run("cd /tmp; export X=1")
    r = sb.run("exit 3")
    assert r.exit_code == 3 and "fresh shell" in r.output
    assert sb.run("pwd; echo \"[$X]\"").output == "/app\n[]\n"
    r = sb.run("kill -9 $$")
    assert r.exit_code == 137 and "fresh shell" in r.output
    assert sb.run("kill -9 -1; kill -9 1; echo ok").exit_code in (0, 137)
    assert sb.run("echo alive").output == "alive\n"


def test_teardown_kills_background_processes_and_removes_files():
    with Sandbox() as sb:
        sb.run("sleep 1000 & setsid sleep 1001 & nohup sleep 1002 >/dev/null 2>&1 &")
        pids, state = episode_pids(sb), sb.dir
        assert len(alive(pids)) >= 5                               # pid 1, the shell, three sleeps
    assert alive(pids) == [] and not state.exists()


def test_kill9_of_the_caller_leaves_nothing_behind(tmp_path):
    script = textwrap.dedent(f"""\
        import sys, time; sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})
        import sandbox
        sb = sandbox.Sandbox().__enter__()
        sb.run("sleep 1000 & setsid sleep 1001 &")
        print(" ".join(map(str, sb.processes())), sb.dir, flush=True)
        sb.run("sleep 1000")""")
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    *pids, state = child.stdout.readline().split()
    pids = [int(p) for p in pids]
    assert len(alive(pids)) >= 4
    child.kill()
    child.wait()
    deadline = time.monotonic() + 5
    while alive(pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert alive(pids) == []
    with Sandbox():                                                  # the next start reaps the state dir
        assert not Path(state).exists()


def test_episode_clock():
    with Sandbox(limits=Limits(episode_timeout=1.0)) as sb:
        r = sb.run("sleep 5", timeout=30)
        assert r.timed_out and sb.expired
        r = sb.run("echo late")
        assert r.timed_out and "episode time limit" in r.output


def test_copy_in_and_read_file(sb, tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "run.sh").write_text("echo from-host\n")
    sb.copy_in(tmp_path / "d", "/tests")
    assert sb.run("bash /tests/run.sh && echo x >> /tests/run.sh").output == "from-host\n"
    sb.run("mkdir -p /logs && echo 0.5 > /logs/r")
    assert sb.read_file("/logs/r") == "0.5\n" and sb.read_file("/logs/none") is None
    sb.run("ln -s /etc/passwd /logs/link")
    with pytest.raises(OSError, match="symlink"):
        sb.read_file("/logs/link")


def test_read_file_of_a_fifo_is_an_error_at_once(sb):
    # rt9 p05: an image whose /etc/passwd is a FIFO blocked the trainer in open() for good (USER lookup)
    import threading
    sb.run("mkdir -p /logs && mkfifo /logs/p")
    got = []

    def read():
        try:
            got.append(sb.read_file("/logs/p"))
        except OSError as e:
            got.append(e)
    t = threading.Thread(target=read, daemon=True)
    t.start()
    t.join(10)
    if t.is_alive():                     # unblock the open so that the sandbox can close
        sb.run("echo x > /logs/p &")
    assert got and isinstance(got[0], OSError) and "not a regular file" in str(got[0])


def test_dev_stdout_and_stderr_open_for_the_shell_and_a_fresh_command():
    # a container's root owns its stdout; a pipe the host's root made was no one's inside: EACCES (rt20a)
    with Sandbox() as box:
        assert box.run("echo out > /dev/stdout; echo err > /dev/stderr").output == "out\nerr\n"
        r = box.run_fresh("echo out > /dev/stdout; echo err > /dev/stderr", 10)
        assert (r.output, r.exit_code) == ("out\nerr\n", 0)
