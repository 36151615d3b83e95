"""What a survivor (a process the agent left running, Limits.keep_agent_processes) can still reach of the
verifier's: nothing live. CONTAINMENT.md, keep mode: every place survivors still write reaches the
verifier as a copy made at the seal, which the check reads too, and the only live things left are the
sockets of the services a test names, never those that system libraries and tools connect to on their own.

Each attack strikes after the check, once test.sh runs, and names what it would win: a reward of 1. On the
code before this rule (463a98b: only /tmp and /var/tmp copied, the other SCRATCH places live and read-only
to the verifier, every socket bound) each one scored 1.0, and the two tests of what still works failed
(the verifier's write in /run was EROFS; nscd's socket was bound); the fd test found the verifier's
/logs/verifier in the new agent shell. With the copies alone (1b39b28), the link through
/proc/<a survivor>/root and the /var/run link into /tmp still scored 1.0. All run on the host fallback
(no Dockerfile): its /usr and /etc are the host's."""
import shlex
import shutil

import pytest

import harbor
from test_agent_processes import KEEP, WAIT, make_task, score, survivor

REWARD_1 = "echo '{\"reward\": 1}' > /logs/verifier/reward.json"


# ---- 1. a place survivors still write, changed after the check --------------------------------------------

@pytest.mark.skipif(not shutil.which("git"), reason="needs git on the host")
def test_a_git_filter_added_after_the_check_to_a_git_dir_in_run_does_not_run(tmp_path):
    # P02's shape: the repository's git dir lives in /run (live scratch), clean at the check; the survivor
    # adds a clean filter once test.sh runs, and test.sh's `git status` would run it as the verifier
    test_sh = "sleep 1; cd /app/r && git status --porcelain >/dev/null; echo 0 > /logs/verifier/reward.txt\n"
    task = make_task(tmp_path, test_sh)
    repo = ("mkdir -p /app/r && git init -q --separate-git-dir=/run/g /app/r && cd /app/r && echo a > f && "
            "echo '* filter=x' > .gitattributes && git add -A && "
            "git -c user.email=a@b -c user.name=a commit -qm i && echo b > f; ")
    filter_ = f'[filter "x"]\n\tclean = "{REWARD_1.replace(chr(34), chr(92) + chr(34))}; cat"\n'
    attack = repo + survivor(WAIT + f"printf %s {shlex.quote(filter_)} >> /run/g/config")
    assert score(task, repo) == 0.0                        # the repository alone: test.sh's own 0
    assert score(task, attack) == 0.0


@pytest.mark.skipif(not shutil.which("git"), reason="needs git on the host")
def test_the_verifiers_git_config_reached_through_a_survivors_proc_root_is_not_live(tmp_path):
    # the same filter in the verifier's global git config, ~/.config a link to /proc/<a survivor>/root/tmp:
    # their live view of every place the copies stand for; the verifier's own Landlock domain refuses it
    test_sh = "sleep 1; cd /app/r && git status --porcelain >/dev/null; echo 0 > /logs/verifier/reward.txt\n"
    task = make_task(tmp_path, test_sh)
    repo = ("mkdir -p /app/r && git init -q /app/r && cd /app/r && echo a > f && "
            "echo '* filter=x' > .gitattributes && git add -A && "
            "git -c user.email=a@b -c user.name=a commit -qm i && echo b > f; ")
    filter_ = f'[filter "x"]\n\tclean = "{REWARD_1.replace(chr(34), chr(92) + chr(34))}; cat"\n'
    strike = survivor("echo $$ > /run/pid; " + WAIT + "mkdir -p /tmp/cfg/git; "
                      f"printf %s {shlex.quote(filter_)} > /tmp/cfg/git/config; sleep 30")
    attack = repo + strike + " sleep 0.3; ln -s /proc/$(cat /run/pid)/root/tmp/cfg /root/.config"
    # 0.0, or tampered: a link into /proc is judged before the tests (tamper._link_into), the verifier's
    # homes are the image's, and its domain refuses /proc/<a survivor>/root besides
    assert score(task, attack) in (0.0, "tampered")


def test_a_module_planted_after_the_check_where_test_sh_runs_python_is_not_imported(tmp_path):
    # a json.py beside the script test.sh runs (sys.path[0]), in the service's directory under /run: the
    # check calls it tampered when it is there before; a survivor plants it once test.sh runs
    test_sh = "sleep 1; cd /run/app && python3 main.py; echo 0 > /logs/verifier/reward.txt\n"
    task = make_task(tmp_path, test_sh)
    app = "mkdir -p /run/app && echo 'import json' > /run/app/main.py; "
    attack = app + survivor(WAIT + f"echo {shlex.quote(f'import os; os.system({REWARD_1!r})')} "
                                   "> /run/app/json.py")
    assert score(task, app + f"echo {shlex.quote(f'import os; os.system({REWARD_1!r})')} > /run/app/json.py"
                 ) == "tampered"                           # planted before the check
    assert score(task, attack) == 0.0


def test_the_verifier_sees_what_the_agent_left_in_run_and_writes_there_privately(tmp_path):
    # Harbor's semantics kept: the agent's file in /run is there for the verifier, which may write beside
    # it now (before: EROFS); a survivor rewriting the same name changes nothing of the verifier's
    test_sh = ("echo '[ \"$(cat /run/app/answer)\" = 42 ]' > /run/app/c.sh; sleep 1; "
               "if sh /run/app/c.sh; then echo 1; else echo 0; fi > /logs/verifier/reward.txt\n")
    task = make_task(tmp_path, test_sh)
    agent = "mkdir -p /run/app && echo 42 > /run/app/answer; "
    assert score(task, agent) == 1.0
    swap = survivor(WAIT + "while :; do echo 'exit 1' > /run/app/c.sh; echo 41 > /run/app/answer; "
                           "sleep 0.01; done")
    assert score(task, agent + swap) == 1.0


# ---- 2. sockets that system libraries and tools connect to on their own ------------------------------------

# A fake nscd (glibc asks it before /etc/passwd, whatever nsswitch.conf says): every user exists, as uid 4242.
NSCD = r'''
import os, socket, struct
os.makedirs("/var/run/nscd", exist_ok=True)
s = socket.socket(socket.AF_UNIX); s.bind("/var/run/nscd/socket"); s.listen(64)
os.chmod("/var/run/nscd/socket", 0o666)
while True:
    c, _ = s.accept()
    ver, typ, n = struct.unpack("3i", c.recv(12)); key = c.recv(n).rstrip(b"\0")
    if typ == 0:                               # GETPWBYNAME
        f = [key + b"\0", b"x\0", b"\0", b"/\0", b"/bin/sh\0"]
        c.sendall(struct.pack("9i", 2, 1, len(f[0]), 2, 4242, 4242, 1, 2, len(f[4])) + b"".join(f))
    else:
        c.sendall(struct.pack("9i", 2, 0, 0, 0, -1, -1, 0, 0, 0))
    c.close()
'''
GHOST_TEST = ("sleep 1; if [ \"$(id -u ghost-user 2>/dev/null)\" = 4242 ]; then echo 1; else echo 0; fi "
              "> /logs/verifier/reward.txt\n")


@pytest.mark.parametrize("var_run", ["/run", "/tmp/vr", "/app/vr"],
                         ids=["/var/run -> /run", "/var/run -> /tmp/vr", "/var/run -> /app/vr"])
def test_the_verifiers_user_lookups_never_reach_a_survivors_nscd(tmp_path, var_run):
    # P03's shape: glibc asks /var/run/nscd/socket before /etc/passwd; a fake nscd makes a user up (P03:
    # "app" as uid 0 with the agent's login shell, and test.sh's `su app` runs it as root). The host
    # fallback has no /var/run: the agent links it to /run, or into /tmp (a link on the sealed root that the
    # check does not judge), where the socket's path in the copy is of no interest, or into the workdir,
    # where the socket, made before the seal, stays on the root and live whatever the copies
    task = make_task(tmp_path, GHOST_TEST)
    start = (f"mkdir -p {var_run}; ln -s {var_run} /var/run\n"
             f"cat > /tmp/ns.py <<'EOF'\n{NSCD}EOF\nnohup python3 /tmp/ns.py >/dev/null 2>&1 &\n"
             "until [ -S /var/run/nscd/socket ]; do sleep 0.05; done; ")
    with harbor.start_task(task, limits=KEEP) as env:
        said = env.run(start + "id -u ghost-user", timeout=30).output.split()[-1:]
        if said != ["4242"]:
            pytest.skip(f"the host's libc does not ask nscd (`id -u ghost-user` said {said})")
    assert score(task, start) == 0.0


@pytest.mark.skipif(not shutil.which("tmux"), reason="needs tmux on the host")
def test_the_verifiers_tmux_never_reaches_a_survivors_tmux_server(tmp_path):
    # test.sh drives a program in tmux and reads its pane; tmux connects to /tmp/tmux-<uid>/default on its
    # own, where the agent's server (it worked in tmux, or left one) has a session of that name saying PASS
    test_sh = ("tmux new-session -d -s grade 'echo FAIL; sleep 30'; sleep 0.5; "
               "if tmux capture-pane -t grade -p | grep -q PASS; then echo 1; else echo 0; fi "
               "> /logs/verifier/reward.txt; tmux kill-server\n")
    task = make_task(tmp_path, test_sh)
    assert score(task, "tmux new-session -d -s grade 'echo PASS; sleep 600'; sleep 0.5") == 0.0


def test_a_service_socket_the_test_names_still_connects_beside_an_implicit_one(tmp_path):
    # the rule is the path, not the socket: /run/app/svc.sock (the test's) is bound, /run/nscd's is not
    server = ("import os, socket; os.makedirs('/run/app', exist_ok=True); s = socket.socket(socket.AF_UNIX)\n"
              "s.bind('/run/app/svc.sock'); s.listen()\n"
              "while True:\n    c, _ = s.accept(); c.sendall(b'42'); c.close()\n")
    test_sh = ("python3 -c 'import socket; s = socket.socket(socket.AF_UNIX); "
               "s.connect(\"/run/app/svc.sock\"); assert s.recv(2) == b\"42\"' && [ ! -e /run/nscd/socket ] "
               "&& echo 1 > /logs/verifier/reward.txt || echo 0 > /logs/verifier/reward.txt\n")
    task = make_task(tmp_path, test_sh)
    agent = (f"ln -s /run /var/run; cat > /tmp/srv.py <<'EOF'\n{server}EOF\n"
             f"cat > /tmp/ns.py <<'EOF'\n{NSCD}EOF\n"
             "nohup python3 /tmp/srv.py >/dev/null 2>&1 & nohup python3 /tmp/ns.py >/dev/null 2>&1 &\n"
             "until [ -S /run/app/svc.sock ] && [ -S /run/nscd/socket ]; do sleep 0.05; done")
    assert score(task, agent) == 1.0


# ---- 3. what pid 1 hands on -------------------------------------------------------------------------------

def test_a_new_agent_shell_started_while_the_verifier_runs_holds_none_of_its_fds(tmp_path):
    # P01: a survivor kills the zygote and the agent's shell once test.sh runs; pid 1 starts both again
    # while the verifier runs, and neither may hold the verifier's /logs/verifier (pid 1 received its fd)
    task = make_task(tmp_path, "sleep 3; echo 0 > /logs/verifier/reward.txt\n")
    with harbor.start_task(task, limits=KEEP) as env:
        kill = survivor(WAIT + "pkill -9 -f sandbox_ini[t]; kill -9 $(cat /tmp/shell)")   # zygote, shell
        env.run("echo $$ > /tmp/shell; " + kill, timeout=30)
        assert env.verify()[0] == 0.0
        # a directory among its fds: the verifier's tmpfs (inherited, it reads as "/" from here)
        out = env.run("for f in /proc/$$/fd/*; do [ -d $f ] && echo $f; done; cat /tmp/shell; echo $$",
                      timeout=30).output.split()
    assert out[-1] != out[-2]                  # a new shell
    assert out[:-2] == []


# ---- the mounts beneath a copied place: the verifier sees them as they are --------------------------------

def test_a_volume_beneath_a_copied_place_is_the_verifiers_own_and_still_sealed_to_survivors(tmp_path):
    # a compose volume at /var/lib/data: not copied with /var/lib but bound back over the copy, writable to
    # the verifier, read-only to a survivor (sealed with the root), and what the agent left there is read
    from test_compose import VOLUME_AT, make_task as compose_task
    test_sh = ("sleep 2; touch /var/lib/data/by-the-verifier || exit 1\n"
               "if [ -e /var/lib/data/forged ] || [ \"$(cat /var/lib/data/answer)\" != 42 ]; then echo 0; "
               "else echo 1; fi > /logs/verifier/reward.txt\n")
    files = {"environment/docker-compose.yaml": VOLUME_AT.format(source="data", target="/var/lib/data"),
             "tests/test.sh": test_sh}
    task = harbor.load_task(compose_task(tmp_path, files))
    with harbor.start_task(task, limits=KEEP) as env:
        env.run("echo 42 > /var/lib/data/answer; "
                "nohup sh -c 'sleep 1; echo x > /var/lib/data/forged' >/dev/null 2>&1 &", timeout=30)
        assert env.verify() == (1.0, "")
        assert sorted(env.run("ls /var/lib/data", timeout=30).output.split()) == ["answer", "by-the-verifier"]


# ---- 4. the copy is exact, or there is none -----------------------------------------------------------------

ASKED_GONE = ("[ -e /tmp/{0} ] || [ -L /tmp/{0} ] && echo 0 > /logs/verifier/reward.txt "
              "|| echo 1 > /logs/verifier/reward.txt\n")


def test_a_fifo_and_a_link_that_leaves_tmp_are_in_the_verifiers_copy(tmp_path):
    # the task asks for them gone; an agent that leaves them (and a process alive) scored 1.0 when the copy
    # left FIFOs and links out of /tmp (rt5 p11): a partial view is a world that is not theirs
    task = make_task(tmp_path, ASKED_GONE.format("q"))
    assert score(task, "mkfifo /tmp/q; " + survivor("sleep 30")) == 0.0
    task = make_task(tmp_path / "l", ASKED_GONE.format("l"))
    assert score(task, "ln -s /etc/hostname /tmp/l; " + survivor("sleep 30")) == 0.0
    assert score(task, survivor("sleep 30")) == 1.0


def test_what_cannot_be_copied_exactly_has_them_killed_not_hidden_from_the_tests(tmp_path, capfd):
    # a sparse file past the copy's cap was left out and the tests saw /tmp without it (rt5 p10: 1.0);
    # now the seal is refused, said in one line, and the tests run on the live /tmp with nobody alive
    task = make_task(tmp_path, ASKED_GONE.format("big"))
    assert score(task, "truncate -s 600M /tmp/big; " + survivor("sleep 30")) == 0.0
    err = capfd.readouterr().err
    assert "cannot be copied exactly for the verifier" in err and "killed before verification" in err


# ---- 5. kernel objects the verifier allocates: in instances of its own (rt6 p01) --------------------------
# The verifier's mount namespace has a devpts instance of its own (its ptys are not in /dev/pts of the
# agent's processes), and the verifier an IPC namespace of its own (SysV objects, POSIX message queues):
# a survivor cannot name what it allocates, nor pre-empt a key or name it asks for. Each scored 1.0 before
# (the verifier's /dev/pts bound from the agent's /dev, one IPC namespace for the whole sandbox).

def _pass_if(check: str, hello: bool = True) -> str:
    """test.sh: run the agent's /app/prog (which should do the work), then a Python check."""
    return (f"{'/app/prog; ' if hello else ''}if python3 -c {shlex.quote(check)}; then echo 1; "
            "else echo 0; fi > /logs/verifier/reward.txt\n")


PROG = "printf '#!/bin/sh\\nsleep 1\\n' > /app/prog; chmod +x /app/prog; "
# the probe's shape (pexpect, script(1)): the agent's program under a pty, its output read from the master
PTY_CHECK = ("import os, pty, select, sys, time\npid, fd = pty.fork()\n"
             "if pid == 0: os.execv('/app/prog', ['/app/prog'])\nbuf, end = b'', time.time() + 3\n"
             "while time.time() < end:\n    if select.select([fd], [], [], 0.1)[0]:\n"
             "        try: d = os.read(fd, 1024)\n        except OSError: break\n"
             "        if not d: break\n        buf += d\nsys.exit(b'HELLO' not in buf)\n")


def test_a_survivor_writing_into_every_new_pty_never_reaches_the_verifiers(tmp_path):
    task = make_task(tmp_path, _pass_if(PTY_CHECK, hello=False))
    inject = survivor("seen=\" $(ls /dev/pts | tr '\\n' ' ') \"; while :; do for p in /dev/pts/[0-9]*; do "
                      "n=${p##*/}; case \"$seen\" in *\" $n \"*) ;; *) printf 'HELLO\\r\\n' > $p 2>/dev/null "
                      "&& seen=\"$seen$n \";; esac; done; sleep 0.01; done")
    assert score(task, PROG + inject) == 0.0


def test_a_survivors_sysv_segment_at_the_key_the_check_reads_is_not_the_verifiers(tmp_path):
    # the task: /app/prog leaves PASS in SysV shared memory at key 0x4242; the agent's prog does nothing,
    # and a survivor makes the segment once test.sh runs
    shm = ("import ctypes as c; l = c.CDLL(None, use_errno=True); l.shmat.restype = c.c_void_p\n"
           "i = l.shmget(0x4242, 64, {flags}); a = l.shmat(i, None, 0)\n")
    check = shm.format(flags=0) + "import sys; sys.exit(i < 0 or c.string_at(a, 4) != b'PASS')\n"
    make = shm.format(flags=0o1666) + "c.memmove(a, b'PASS', 4)\n"
    task = make_task(tmp_path, _pass_if(check))
    assert score(task, PROG + survivor(WAIT + f"python3 -c {shlex.quote(make)}; sleep 30")) == 0.0


def test_a_survivors_posix_message_queue_the_check_reads_is_not_the_verifiers(tmp_path):
    # the same with a POSIX message queue /grade (mq_open: the IPC namespace's own mqueue instance)
    mq = ("import ctypes as c, os; l = c.CDLL('librt.so.1', use_errno=True)\n"
          "q = l.mq_open(b'/grade', {flags}, 0o666, None)\n")
    check = (mq.format(flags="os.O_RDONLY | os.O_NONBLOCK") + "b = c.create_string_buffer(8192)\n"
             "import sys; sys.exit(q < 0 or l.mq_receive(q, b, 8192, None) != 4 or b.raw[:4] != b'PASS')\n")
    make = mq.format(flags="os.O_CREAT | os.O_WRONLY") + "l.mq_send(q, b'PASS', 4, 0)\n"
    task = make_task(tmp_path, _pass_if(check))
    assert score(task, PROG + survivor(WAIT + f"python3 -c {shlex.quote(make)}; sleep 30")) == 0.0


def test_the_verifier_still_has_ptys_and_ipc_of_its_own(tmp_path):
    # what the invariant keeps working: a pty, a SysV segment and a message queue the verifier makes itself
    check = (PTY_CHECK.replace("sys.exit(b'HELLO' not in buf)", "assert pid > 0") +
             "import ctypes as c; l = c.CDLL(None, use_errno=True); assert l.shmget(0x77, 64, 0o1600) >= 0\n"
             "r = c.CDLL('librt.so.1')\n"
             "assert r.mq_open(b'/own', os.O_CREAT | os.O_RDWR, 0o600, None) >= 0\n")
    task = make_task(tmp_path, _pass_if(check))
    assert score(task, PROG + survivor("sleep 30")) == 1.0


# ---- 6. what the verifier is given: never where survivors look (rt6 p18) ----------------------------------
# The tests reach the verifier through a stage only its own mount namespace sees (pid 1's fd of a host
# directory that no mount of the sandbox shows), never /run/xfer, which every process of the sandbox sees.
# Each attack below found the secret before (the stage in /run/xfer for the whole of test.sh).

SECRET = "e3b0c44298fc1c14"


def _stolen(tmp_path, attack: str) -> str:
    """What a survivor collected in /dev/shm/stolen while test.sh ran (with the tests' secret.txt)."""
    task = make_task(tmp_path, "sleep 2; echo 0 > /logs/verifier/reward.txt\n",
                     files={"tests/secret.txt": SECRET + "\n"})
    with harbor.start_task(task, limits=KEEP) as env:
        env.run(survivor(attack), timeout=30)
        assert env.verify()[0] == 0.0
        return env.run("cat /dev/shm/stolen 2>/dev/null", timeout=30).output


def test_a_survivor_polling_run_xfer_never_sees_the_tests(tmp_path):
    # the probe's shape: the stage's name is random, the directory it sits in is not
    assert SECRET not in _stolen(tmp_path, WAIT + "for i in $(seq 300); do cat /run/xfer/*/secret.txt "
                                                  ">> /dev/shm/stolen 2>/dev/null; sleep 0.01; done")


def test_a_survivor_holding_the_staging_dir_open_from_before_never_sees_the_tests(tmp_path):
    # a directory fd taken before the seal: whatever the paths, the staging directory itself
    assert SECRET not in _stolen(tmp_path, "exec 3</run/xfer; " + WAIT +
                                 "for i in $(seq 300); do cat /proc/$$/fd/3/*/secret.txt >> /dev/shm/stolen "
                                 "2>/dev/null; sleep 0.01; done")


def test_a_survivor_searching_every_mount_for_the_tests_finds_none(tmp_path):
    # wherever a stage might sit (any mount the sandbox shows): every name the tests hold, searched for
    assert SECRET not in _stolen(tmp_path, WAIT + "for i in $(seq 20); do find / -path /proc -prune -o "
                                 "-name secret.txt -exec cat {} + >> /dev/shm/stolen 2>/dev/null; done")
