import os, subprocess, sys, tempfile
sys.path.insert(0, "/tests")
import gen

seed = int(os.environ.get("TASK_SEED", "0"))
main_head, tags, (major, minor, patch) = gen.build(os.path.join(tempfile.mkdtemp(), "repo"), seed)
newest = tags["v%d.%d.%d" % (major, minor, patch)]


def git(*args):
    return subprocess.run(["git", "-C", "/app/repo", *args], capture_output=True, text=True)


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
