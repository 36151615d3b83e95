import os, sys
sys.path.insert(0, "/tests")
import gen

seed = int(os.environ.get("TASK_SEED", "0"))
files = gen.plan(seed)
root = "/app/cache"
present = set()
for d, _, names in os.walk(root):
    present |= {os.path.relpath(os.path.join(d, n), root) for n in names}
if present != set(files):
    sys.exit(f"FAIL: files added or removed: {sorted(present ^ set(files))}")
inode_of_blob = {}
for path, blob in files.items():
    full = os.path.join(root, path)
    if os.path.islink(full) or not os.path.isfile(full):
        sys.exit(f"FAIL: {path} is not a regular file")
    if open(full, "rb").read() != blob:
        sys.exit(f"FAIL: contents of {path} changed")
    ino = os.stat(full).st_ino
    if inode_of_blob.setdefault(blob, ino) != ino:
        sys.exit(f"FAIL: {path} is not hard-linked to its identical copies")
if len(set(inode_of_blob.values())) != len(inode_of_blob):
    sys.exit("FAIL: files with different contents share an inode")
print("ok")
