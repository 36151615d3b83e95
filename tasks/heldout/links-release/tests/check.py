import os, sys
sys.path.insert(0, "/tests")
import gen

seed = int(os.environ.get("TASK_SEED", "0"))
releases, newest = gen.plan(seed)
if not os.path.islink("/app/current"):
    sys.exit("FAIL: /app/current is not a symlink")
target = os.readlink("/app/current").rstrip("/")
if target.startswith("./"):
    target = target[2:]
if target != f"releases/{newest}":
    sys.exit(f"FAIL: /app/current -> {target!r}, expected 'releases/{newest}'")
for version, tools in releases.items():
    if sorted(os.listdir(f"/app/releases/{version}/bin")) != tools:
        sys.exit(f"FAIL: /app/releases/{version}/bin was modified")
entries = sorted(os.listdir("/app/bin"))
if entries != releases[newest]:
    sys.exit(f"FAIL: /app/bin contains {entries}, expected {releases[newest]}")
for name in entries:
    p = f"/app/bin/{name}"
    if not os.path.islink(p) or os.readlink(p) != f"../current/bin/{name}" or not os.path.isfile(p):
        sys.exit(f"FAIL: /app/bin/{name} is not a working symlink to ../current/bin/{name}")
print("ok")
