import json, os, subprocess, sys
sys.path.insert(0, "/tests")
import gen

seed = int(os.environ.get("TASK_SEED", "0"))
data = gen.datasets(seed)
probe = r'''
import json, sys
sys.path.insert(0, "/app")
import stats
out = []
for xs in json.loads(sys.argv[1]):
    row = {}
    for name in ("mean", "median", "mode", "variance", "value_range"):
        arg = list(xs)
        row[name] = getattr(stats, name)(arg)
        row[name + "_mutated"] = arg != xs
    out.append(row)
print(json.dumps(out))
'''
r = subprocess.run(["python3", "-c", probe, json.dumps(data)], capture_output=True, text=True, timeout=30, cwd="/tmp")
if r.returncode != 0:
    sys.exit(f"FAIL: calling stats crashed:\n{r.stderr[-1500:]}")
results = json.loads(r.stdout.strip().splitlines()[-1])
for xs, got in zip(data, results):
    for name, want in gen.reference(xs).items():
        if got[name + "_mutated"]:
            sys.exit(f"FAIL: {name}({xs}) modified its argument")
        if not isinstance(got[name], (int, float)) or abs(got[name] - want) > 1e-9:
            sys.exit(f"FAIL: {name}({xs}) = {got[name]!r}, expected {want!r}")
print("ok")
