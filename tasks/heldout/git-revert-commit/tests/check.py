import os, subprocess, sys, tempfile
sys.path.insert(0, "/tests")
import gen

seed = int(os.environ.get("TASK_SEED", "0"))
orig_head = gen.build(os.path.join(tempfile.mkdtemp(), "repo"), seed)
_, _, expected = gen.plan(seed)


def git(*args):
    return subprocess.run(["git", "-C", "/app/repo", *args], capture_output=True, text=True)


if git("symbolic-ref", "--short", "HEAD").stdout.strip() != "main":
    sys.exit("FAIL: main is not checked out")
head = git("rev-parse", "main").stdout.strip()
if head == orig_head:
    sys.exit("FAIL: main has no new commit")
if git("merge-base", "--is-ancestor", orig_head, "main").returncode != 0:
    sys.exit("FAIL: history was rewritten (original head is not an ancestor of main)")
if git("status", "--porcelain").stdout.strip():
    sys.exit("FAIL: working tree is not clean")
files = git("ls-tree", "-r", "--name-only", "main").stdout.split()
if sorted(files) != sorted(expected):
    sys.exit(f"FAIL: files in main are {sorted(files)}, expected {sorted(expected)}")
for path, content in expected.items():
    if git("show", f"main:{path}").stdout != content:
        sys.exit(f"FAIL: {path} in main does not have the expected content")
print("ok")
