"""Verifier: rebuilds this instance from TASK_SEED with gen.build() and checks the final state of /app."""
import errno
import json
import math
import os
import random
import signal
import stat
import subprocess
import sys
import tempfile
import time

# ---- The agent's code runs as nobody, never as root (CONTAINMENT.md, invariant 3): it cannot write
# /logs/verifier, signal or trace this check, or leave a process behind while the check reads its results.
NOBODY_ID = 65534
NOBODY = ["setpriv", f"--reuid={NOBODY_ID}", f"--regid={NOBODY_ID}", "--clear-groups", "--"]
SCRATCH = []


def scratch():
    """A fresh directory the agent's code may work in (handed to nobody when that code runs)."""
    SCRATCH.append(tempfile.mkdtemp())
    return SCRATCH[-1]


def agent(argv, **kw):
    """subprocess.run(argv, **kw) as nobody, after handing it the scratch directories. No process of
    nobody's is alive while root hands them over or once this returns (_end_nobody), and the handing over
    resolves no path through a name nobody could change (_give). /tests is root's alone first: the check's
    own files (gen.py's reference answers) are not the agent's code's to read."""
    os.chown("/tests", 0, 0)
    os.chmod("/tests", 0o700)
    _end_nobody()
    for top in SCRATCH:
        _give(top)
    try:
        return subprocess.run(NOBODY + argv, **kw)
    finally:
        _end_nobody()


def _end_nobody():
    """Kills every process of nobody's and returns once no thread with a nobody id is alive; raises (the
    check fails) if one still is after about 10 s. The kill is kill(-1, SIGKILL) sent by a child as nobody:
    one pass over all the uid's processes under the kernel's task list lock, which a process that forks
    and exits in a loop cannot outrun as it can a scan of /proc. Liveness is judged per thread, by the
    uids and state in /proc/*/task/*/status, not by the leader's state (a leader that exited alone reads
    Z while its threads run on)."""
    for _ in range(1000):
        pid = os.fork()
        if pid == 0:                   # kill(-1) is reached only with every id nobody's
            try:
                os.setgroups([])
                os.setresgid(NOBODY_ID, NOBODY_ID, NOBODY_ID)
                os.setresuid(NOBODY_ID, NOBODY_ID, NOBODY_ID)
            except BaseException:
                os._exit(1)
            try:
                os.kill(-1, signal.SIGKILL)
            finally:
                os._exit(0)            # ESRCH too: nothing of nobody's to kill
        if os.waitpid(pid, 0)[1] != 0:
            raise RuntimeError("could not become nobody to kill nobody's processes")
        left = _nobody_tasks()
        if not left:
            return
        for tgid in {tgid for tgid, _ in left}:     # and as root: one with only some of its ids nobody's
            try:
                os.kill(tgid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.01)
    raise RuntimeError(f"nobody's threads (pid, tid) still alive after SIGKILL: {left[:10]}")


def _nobody_tasks():
    """(pid, tid) of every thread alive (not Z or X) with any of its uids (real, effective, saved, fs)
    nobody's."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:                # gone
            continue
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/status") as f:
                    status = dict(line.split(":", 1) for line in f if ":" in line)
            except OSError:
                continue
            if status["State"].split()[0] not in ("Z", "X") and str(NOBODY_ID) in status["Uid"].split():
                found.append((int(pid), int(tid)))
    return found


def _give(top):
    """Hands the directory top and everything in it to nobody. Every step is taken from an open directory
    and follows no link (O_DIRECTORY|O_NOFOLLOW, fchownat with AT_SYMLINK_NOFOLLOW), so a name swapped for
    a link (to /logs, say) is changed as itself, never what it names. top gone or no longer a directory
    (the agent's code removed it): nothing to hand over."""
    try:
        fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except (FileNotFoundError, NotADirectoryError):
        return
    except OSError as e:
        if e.errno == errno.ELOOP:     # a link
            return
        raise
    try:
        _give_at(fd)
    finally:
        os.close(fd)


def _give_at(fd):
    os.fchown(fd, NOBODY_ID, NOBODY_ID)
    for name in os.listdir(fd):
        try:
            sub = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
        except OSError as e:
            if e.errno in (errno.ENOTDIR, errno.ELOOP):      # a file, or a link: the name itself
                os.chown(name, NOBODY_ID, NOBODY_ID, dir_fd=fd, follow_symlinks=False)
                continue
            raise
        try:
            _give_at(sub)
        finally:
            os.close(sub)


def read_back(top, *names):
    """What root reads back from the scratch directory top once the agent's code has held it: the sorted
    names in the directory top/NAMES..., or the text of the regular file there (1 MiB at most). Each name
    is opened from the directory before it with O_NOFOLLOW, so a name the agent's code made a link (to
    /logs/verifier, /dev/zero) or a fifo is never what root opens (rt14a p04): OSError, the check fails."""
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        for name in names:
            fd, up = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=fd), fd
            os.close(up)
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            return sorted(os.listdir(fd))
        if not stat.S_ISREG(mode):
            raise OSError(f"{os.path.join(top, *names)} is neither a directory nor a regular file")
        with open(fd, closefd=False) as f:
            return f.read(1 << 20)
    finally:
        os.close(fd)

# ---- What the agent's functions did is judged by root, and fails closed (CONTAINMENT.md, invariant 3;
# rt14a p01-p03). The agent's process gets only inputs, shuffled (valid and invalid together: their order is
# no label of the answer), and prints only what each call returned or raised; it computes no verdict. Its
# module may patch anything in that process, but what it could print then is a function of the inputs alone,
# as an honest module's is. Root compares each value with same(), where NaN, inf and a wrong type fail.
CALLS = r'''
import json, sys
dumps, write = json.dumps, sys.stdout.write         # bound before the agent's module is imported
calls = json.loads(sys.stdin.read())
sys.path.insert(0, "/app")
module = __import__(sys.argv[1])
out = []
for name, args in calls:
    try:
        out.append({"returned": getattr(module, name)(*args), "args": args})    # args: as the call left them
    except Exception as e:
        out.append({"raised": "ValueError" if isinstance(e, ValueError) else "other", "args": args})
write("\n" + dumps(out, default=repr) + "\n")
'''


def call_each(module, calls):
    """What module.NAME(*ARGS) did for each [NAME, ARGS] of calls, in calls' order, all called in one
    process of the agent's code in a random order: {"returned": value, "args": ARGS as the call left them},
    or {"raised": "ValueError" | "other", "args": ...}. Exits FAIL if that process did not say."""
    order = list(range(len(calls)))
    random.SystemRandom().shuffle(order)
    # cwd: a fresh empty directory, so that `import json` in -c's sys.path[0] finds no file of the agent's
    r = agent(["python3", "-E", "-s", "-c", CALLS, module], input=json.dumps([calls[i] for i in order]),
              capture_output=True, text=True, timeout=60, cwd=scratch())
    try:
        got = json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        got = None
    if r.returncode != 0 or not isinstance(got, list) or len(got) != len(calls) \
            or not all(isinstance(g, dict) and "args" in g for g in got):
        sys.exit(f"FAIL: calling {module} crashed (rc {r.returncode}):\n{r.stderr[-1500:]}")
    back = [None] * len(calls)
    for i, g in zip(order, got):
        back[i] = g
    return back


def same(got, want, tol=0):
    """Whether the agent's value got is want, failing closed: a number (int or float, never a bool) that is
    finite and within tol of want; a str, bool or None equal to want and of its type; a list or dict of such
    values, item by item. NaN, inf, a number too large for a float, or any other type is not want."""
    if isinstance(want, bool) or want is None or isinstance(want, str):
        return type(got) is type(want) and got == want
    if isinstance(want, (int, float)):
        if type(got) not in (int, float):
            return False
        try:
            return math.isfinite(got) and abs(got - want) <= tol
        except OverflowError:          # an int beyond a float's range, against a float want
            return False
    if isinstance(want, (list, tuple)):
        return type(got) is list and len(got) == len(want) and all(map(same, got, want, [tol] * len(want)))
    if isinstance(want, dict):
        return (type(got) is dict and got.keys() == want.keys()
                and all(same(got[k], want[k], tol) for k in want))
    raise TypeError(f"same(): no rule for a want of type {type(want).__name__}")


def returned(g, want, tol=0):
    """Whether a call_each result is a return of want (same())."""
    return "raised" not in g and "returned" in g and same(g["returned"], want, tol)


def raised(g):
    """Whether a call_each result is a ValueError raised."""
    return "returned" not in g and g.get("raised") == "ValueError"


sys.path.insert(0, "/tests")
from gen import build, write, make_tree  # noqa: E402

SEED = int(os.environ.get("TASK_SEED", "0"))
files, exp = build(random.Random(SEED))


def sh(*args):
    """Runs `bash ARGS...` (an agent-written script) with a time limit."""
    return agent(["bash", *args], capture_output=True, text=True, timeout=20)


def check():
    hidden = random.Random(SEED * 1000 + 17)
    for case in range(4):
        tmp = scratch()
        fs, want = make_tree(hidden, "d")
        write(fs, tmp)
        r = sh("/app/extcount.sh", os.path.join(tmp, "d"))
        got = [" ".join(line.split()) for line in r.stdout.strip().splitlines()]
        assert got == want, f"case {case}: got {got}, want {want}"


if __name__ == "__main__":
    try:
        check()
    except Exception as e:  # a missing file or a wrong value both mean reward 0
        print(f"FAIL: {type(e).__name__}: {e}")
        sys.exit(1)
    print("OK")
