import errno, os, signal, subprocess, sys, tempfile, time

# ---- The agent's code runs as nobody, never as root (README "Containment", invariant 3): it cannot write
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

# Git never runs the repository's own programs here: no fsmonitor, no hooks, no system or global config
# (safe.directory from the command line, a protected scope), and it runs as nobody like the agent's code.
GIT = ["git", "-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null", "-c", "safe.directory=*"]
GIT_ENV = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null"}


sys.path.insert(0, "/tests")
import gen

seed = int(os.environ.get("TASK_SEED", "0"))
main_head, tags, (major, minor, patch) = gen.build(os.path.join(tempfile.mkdtemp(), "repo"), seed)
newest = tags["v%d.%d.%d" % (major, minor, patch)]


def git(*args):
    return agent([*GIT, "-C", "/app/repo", *args], capture_output=True, text=True, env=GIT_ENV)


if git("rev-parse", "main").stdout.strip() != main_head:
    sys.exit("FAIL: main was moved")
for name, commit in tags.items():
    if git("rev-parse", f"{name}^{{commit}}").stdout.strip() != commit:
        sys.exit(f"FAIL: tag {name} was moved or deleted")
r = git("rev-parse", "--verify", "refs/heads/hotfix")
if r.returncode != 0:
    sys.exit("FAIL: branch hotfix does not exist")
tip = r.stdout.strip()
if git("rev-parse", f"{tip}^").stdout.strip() != newest:
    sys.exit("FAIL: hotfix is not exactly one commit on top of the newest release tag")
changed = git("diff", "--name-only", newest, tip).stdout.split()
if changed != ["VERSION"]:
    sys.exit(f"FAIL: hotfix commit changes {changed}, expected only VERSION")
want = f"{major}.{minor}.{patch + 1}"
got = git("show", f"{tip}:VERSION").stdout
if got.strip() != want:
    sys.exit(f"FAIL: VERSION on hotfix is {got!r}, expected {want!r}")
print("ok")
