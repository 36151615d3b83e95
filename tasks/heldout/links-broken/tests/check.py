import os, sys
sys.path.insert(0, "/tests")
import gen

seed = int(os.environ.get("TASK_SEED", "0"))
files, links, broken = gen.plan(seed)
root = "/app/site"
try:
    got = [l.strip() for l in open("/app/broken.txt").read().strip().splitlines()]
except FileNotFoundError:
    sys.exit("FAIL: /app/broken.txt missing")
got = [g[2:] if g.startswith("./") else g for g in got]
if got != sorted(broken, key=lambda s: s.encode()):
    sys.exit(f"FAIL: broken.txt lists\n{got}\nexpected\n{broken}")
for path in broken:
    if os.path.lexists(os.path.join(root, path)):
        sys.exit(f"FAIL: broken link {path} still exists")
for path, target in links.items():
    if path not in broken:
        full = os.path.join(root, path)
        if not os.path.islink(full) or os.readlink(full) != target:
            sys.exit(f"FAIL: working link {path} was changed or removed")
for path, text in files.items():
    full = os.path.join(root, path)
    if os.path.islink(full) or not os.path.isfile(full) or open(full).read() != text:
        sys.exit(f"FAIL: regular file {path} was changed or removed")
print("ok")
