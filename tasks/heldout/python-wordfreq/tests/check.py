import os, random, subprocess, sys, tempfile
sys.path.insert(0, "/tests")
import gen

seed = int(os.environ.get("TASK_SEED", "0"))
rng = random.Random(seed * 7919 + 1)
if not os.path.isfile("/app/wordfreq.py"):
    sys.exit("FAIL: /app/wordfreq.py missing")
tmp = tempfile.mkdtemp()
cases = [(gen.text(rng), None) for _ in range(4)] + [(gen.text(rng), rng.randint(1, 25)) for _ in range(4)]
cases.append(("Hello, hello... HELLO world! it's 3am\n", 3))
for k, (content, n) in enumerate(cases):
    path = os.path.join(tmp, f"in{k}.txt")
    with open(path, "w") as f:
        f.write(content)
    args = ["python3", "/app/wordfreq.py", path] + ([str(n)] if n is not None else [])
    r = subprocess.run(args, capture_output=True, text=True, timeout=10)
    want = gen.expected(content, n or 10)
    got = "".join(l.rstrip() + "\n" for l in r.stdout.strip().splitlines())
    if r.returncode != 0 or got != want:
        sys.exit(f"FAIL: case {k} (N={n}): rc={r.returncode}\ngot:\n{r.stdout}{r.stderr[-500:]}\nwant:\n{want}")
print("ok")
