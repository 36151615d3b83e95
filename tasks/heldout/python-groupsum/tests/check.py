import os, random, subprocess, sys
sys.path.insert(0, "/tests")
import gen

seed = int(os.environ.get("TASK_SEED", "0"))
rng = random.Random(seed * 7919 + 3)
if not os.path.isfile("/app/groupsum.py"):
    sys.exit("FAIL: /app/groupsum.py missing")
for k in range(8):
    text = gen.table(rng)
    group, value = rng.choice(["region", "product", "date"]), rng.choice(["amount", "qty"])
    want = gen.expected(text, group, value)
    r = subprocess.run(["python3", "/app/groupsum.py", group, value], input=text, capture_output=True, text=True,
                       timeout=10)
    got = "".join(l.rstrip() + "\n" for l in r.stdout.strip().splitlines())
    if r.returncode != 0 or got != want:
        sys.exit(f"FAIL: case {k} ({group}, {value}): rc={r.returncode}\ngot:\n{r.stdout}{r.stderr[-500:]}\n"
                 f"want:\n{want}")
print("ok")
