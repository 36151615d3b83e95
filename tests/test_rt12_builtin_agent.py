"""The built-in checks' agent() (CONTAINMENT.md, invariant 3; rt12a p02, p03): the agent's code it runs
as nobody cannot outlive it, and root's handing of the scratch directories to nobody resolves no path
through a name nobody could change. Each distinct text of the 21 checks' own helpers (everything above
HELPERS_END, as in test_reward_forgery's answer-key test) is run as root in a sandbox.

Failing before (agent() judged liveness by the leader's state in /proc/PID/stat, killed by a scan of
/proc, and chowned by path after os.walk): a process whose leader thread exited alone (stat says Z) lived
on after agent() returned, and a directory swapped for a link to a root-owned tree while the walk listed
it made root chown that tree's directory to nobody. The non-dumpable process and the fork hopper are the
class's other shapes; the old scan happened to catch them (/proc/PID keeps the euid as its owner, and 100
passes outran this hopper), kill(-1) as nobody catches them by construction."""
import shutil

import harbor
from test_reward_forgery import BUILTIN, HELPERS_END, TASKS, make_task

CHECKS = sorted(c for d in BUILTIN if (c := d / "tests/check.py").is_file()
                and "def agent(argv" in c.read_text())
# One check per distinct text above HELPERS_END: the sandbox runs exactly that text (helpers_of), so a
# check whose helpers repeat another's byte for byte adds no case, only ~2 s of survivors (8 of the 21).
DISTINCT = list({c.read_text().split(HELPERS_END)[0]: c for c in CHECKS}.values())

# Run as root in a sandbox: "python3 script.py CHECK...", one line of verdicts per check.
PRELUDE = """
import ctypes, os, platform, sys, time
os.makedirs("/tests", exist_ok=True)


def alive_nobody():
    # every live thread with a nobody uid, found independently of the helpers under test
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            for tid in os.listdir(f"/proc/{pid}/task"):
                status = open(f"/proc/{pid}/task/{tid}/status").read()
                uids = status.split("Uid:")[1].split("\\n")[0].split()
                if "65534" in uids and status.split("State:")[1].split()[0] not in ("Z", "X"):
                    found.append(int(tid))
        except (OSError, IndexError):
            pass
    return found


def helpers_of(path):
    helpers = {}
    exec(open(path).read().split(%r)[0], helpers)
    return helpers
""" % HELPERS_END

# Each survivor: the agent's code forks a detached child that lives on, then returns.
SURVIVOR = """
import ctypes, os, platform, sys, threading, time
if os.fork():
    time.sleep(0.3)
    os._exit(0)
os.setsid()
how = sys.argv[1]
if how == "zombie leader":        # the leader thread exits alone; /proc/PID/stat says Z, a thread runs on
    threading.Thread(target=time.sleep, args=(600,)).start()
    ctypes.CDLL(None).syscall({"x86_64": 60, "aarch64": 93}[platform.machine()], 0)    # SYS_exit
if how == "non-dumpable":         # /proc/PID is then root's
    ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)                                               # PR_SET_DUMPABLE
    time.sleep(600)
if how == "fork hopper":          # a new pid every few microseconds
    while True:
        if os.fork():
            os._exit(0)
"""

SURVIVORS = PRELUDE + """
open("/opt/survivor.py", "w").write(%r)
for path in sys.argv[1:]:
    agent = helpers_of(path)["agent"]
    verdicts = []
    for how in ("zombie leader", "non-dumpable", "fork hopper"):
        agent(["python3", "-I", "/opt/survivor.py", how], timeout=30)
        time.sleep(0.2)
        left = alive_nobody()
        verdicts.append(f"{how}={'LEFT' if left else 'gone'}")
        for tid in left:              # the next check starts clean whatever this one left
            try:
                os.kill(tid, 9)
            except OSError:
                pass
    print("CHECK", path, *verdicts, flush=True)
""" % SURVIVOR

# The walk's race made deterministic: the listing of d/a/b swaps d/a for a link to /victim (as p02's
# survivor does with renameat2 while the walk lists it); /victim/b/verifier stands for /logs/verifier.
SWAP = PRELUDE + """
real_listdir, real_scandir = os.listdir, os.scandir


def swapping(real):
    def listing(p=".", *rest):
        where = os.readlink(f"/proc/self/fd/{p}") if isinstance(p, int) else str(p)
        if where == f"{D}/a/b" and not os.path.islink(f"{D}/a"):
            os.rename(f"{D}/a", f"{D}/old")
            os.symlink("/victim", f"{D}/a")
        return real(p, *rest)
    return listing


for path in sys.argv[1:]:
    shutil_rm = __import__("shutil").rmtree
    shutil_rm("/victim", ignore_errors=True)
    os.makedirs("/victim/b/verifier")
    h = helpers_of(path)
    D = h["scratch"]()
    os.makedirs(f"{D}/a/b/verifier")
    os.listdir, os.scandir = swapping(real_listdir), swapping(real_scandir)
    try:
        h["agent"](["true"])
    finally:
        os.listdir, os.scandir = real_listdir, real_scandir
    victim = os.stat("/victim/b/verifier").st_uid
    mine = os.stat(f"{D}/old/b/verifier").st_uid
    print("CHECK", path, "victim=" + ("CHOWNED" if victim else "root's"), f"scratch={mine}", flush=True)
"""

# What an honest script needs still holds: the scratch (files, a directory, a link) is nobody's to write,
# and a link's target is left as it was.
HONEST = PRELUDE + """
for path in sys.argv[1:]:
    os.makedirs("/victim2", exist_ok=True)
    h = helpers_of(path)
    D = h["scratch"]()
    os.makedirs(f"{D}/sub")
    open(f"{D}/sub/in.txt", "w").write("x")
    os.symlink("/victim2", f"{D}/link")
    r = h["agent"](["sh", "-c", f"echo y >> {D}/sub/in.txt && mkdir {D}/sub/out && touch {D}/new"])
    print("CHECK", path, f"rc={r.returncode}", f"victim2={os.stat('/victim2').st_uid}",
          f"link={os.lstat(D + '/link').st_uid}", flush=True)
"""


def run_over_checks(tmp_path, script: str) -> dict[str, list[str]]:
    """{check, relative to tasks/: the words its line printed}, one run of script over every distinct
    check."""
    xfer = tmp_path / "checks"
    xfer.mkdir()
    for i, c in enumerate(DISTINCT):
        shutil.copy(c, xfer / f"{i}.py")
    with harbor.start_task(make_task(tmp_path, "true\n"), seed=0) as env:
        env.copy_in(xfer, "/opt/checks")
        env.run(f"cat > /opt/script.py <<'EOF'\n{script}EOF", timeout=30)
        names = " ".join(f"/opt/checks/{i}.py" for i in range(len(DISTINCT)))
        out = env.run("python3 /opt/script.py " + names, timeout=300).output
    lines = [line.split() for line in out.splitlines() if line.startswith("CHECK /opt/checks/")]
    assert len(lines) == len(DISTINCT), out[-3000:]
    return {str(DISTINCT[int(w[1].split("/")[3].split(".")[0])].relative_to(TASKS)): w[2:] for w in lines}


def test_every_builtin_checks_helpers_are_the_same_text():
    """One agent() for every built-in check: a fix to one is a fix to all (the two git checks add GIT)."""
    helpers = [c.read_text().split(HELPERS_END)[0].split("# ---- The agent's code")[1] for c in CHECKS]
    blocks = {h.split("\n# Git ")[0].strip() for h in helpers}
    assert len(CHECKS) == 21 and len(blocks) == 1


def test_nothing_of_the_agents_code_outlives_agent(tmp_path):
    got = run_over_checks(tmp_path, SURVIVORS)
    bad = {c: v for c, v in got.items() if any(w.endswith("=LEFT") for w in v)}
    assert bad == {}, bad


def test_agent_chowns_nothing_through_a_name_swapped_for_a_link(tmp_path):
    got = run_over_checks(tmp_path, SWAP)
    assert {c: v for c, v in got.items() if v != ["victim=root's", "scratch=65534"]} == {}


def test_the_agents_code_may_still_write_its_scratch(tmp_path):
    got = run_over_checks(tmp_path, HONEST)
    assert {c: v for c, v in got.items() if v != ["rc=0", "victim2=0", "link=65534"]} == {}
