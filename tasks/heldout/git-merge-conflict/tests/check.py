import os, subprocess, sys, tempfile
sys.path.insert(0, "/tests")
import gen

seed = int(os.environ.get("TASK_SEED", "0"))
main_head, feature_head = gen.build(os.path.join(tempfile.mkdtemp(), "repo"), seed)
*_, expected = gen.plan(seed)


def git(*args):
    return subprocess.run(["git", "-C", "/app/repo", *args], capture_output=True, text=True)


if git("symbolic-ref", "--short", "HEAD").stdout.strip() != "main":
    sys.exit("FAIL: main is not checked out")
if git("rev-parse", "-q", "--verify", "MERGE_HEAD").returncode == 0:
    sys.exit("FAIL: the merge is still in progress")
parents = git("rev-list", "--parents", "-n", "1", "main").stdout.split()[1:]
if parents != [main_head, feature_head]:
    sys.exit(f"FAIL: main's head has parents {parents}, expected [{main_head}, {feature_head}]")
if git("status", "--porcelain").stdout.strip():
    sys.exit("FAIL: working tree is not clean")
got = git("show", "main:settings.ini").stdout
if got != expected:
    sys.exit(f"FAIL: settings.ini is\n{got}\nexpected\n{expected}")
if git("show", "main:NOTES.md").returncode != 0:
    sys.exit("FAIL: NOTES.md from feature is missing")
print("ok")
