import os, random, subprocess, sys, tempfile
sys.path.insert(0, "/tests")
import gen

seed = int(os.environ.get("TASK_SEED", "0"))
rng = random.Random(seed * 7919 + 5)
tmp = tempfile.mkdtemp()
for k in range(8):
    text = gen.items_csv(rng, ties=k % 2 == 0)
    path = os.path.join(tmp, f"items{k}.csv")
    with open(path, "w") as f:
        f.write(text)
    r = subprocess.run(["python3", "/app/report.py", path], capture_output=True, text=True, timeout=10)
    want = gen.report(text)
    got = "".join(l.rstrip() + "\n" for l in r.stdout.strip().splitlines())
    if r.returncode != 0 or got != want:
        sys.exit(f"FAIL: case {k}: rc={r.returncode}\ngot:\n{r.stdout}{r.stderr[-500:]}\nwant:\n{want}\ninput:\n{text}")
print("ok")
