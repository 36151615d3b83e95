import json, os, subprocess, sys
sys.path.insert(0, "/tests")
import gen

seed = int(os.environ.get("TASK_SEED", "0"))
valid, invalid, formats = gen.cases(seed)
probe = r'''
import json, sys
sys.path.insert(0, "/app")
import durations
valid, invalid, formats = json.loads(sys.argv[1])
out = {"parse": {}, "accepted": [], "format": {}, "negative_ok": False}
for text in valid:
    out["parse"][text] = durations.parse_duration(text)
for text in invalid:
    try:
        durations.parse_duration(text)
        out["accepted"].append(text)
    except ValueError:
        pass
for s in formats:
    out["format"][s] = durations.format_duration(int(s))
try:
    durations.format_duration(-5)
except ValueError:
    out["negative_ok"] = True
print(json.dumps(out))
'''
r = subprocess.run(["python3", "-c", probe, json.dumps([list(valid), invalid, list(formats)])],
                   capture_output=True, text=True, timeout=30, cwd="/tmp")
if r.returncode != 0:
    sys.exit(f"FAIL: calling durations crashed:\n{r.stderr[-1500:]}")
out = json.loads(r.stdout.strip().splitlines()[-1])
for text, want in valid.items():
    if out["parse"][text] != want:
        sys.exit(f"FAIL: parse_duration({text!r}) = {out['parse'][text]!r}, expected {want}")
if out["accepted"]:
    sys.exit(f"FAIL: parse_duration accepted invalid input {out['accepted']}")
for s, want in formats.items():
    if out["format"][str(s)] != want:
        sys.exit(f"FAIL: format_duration({s}) = {out['format'][str(s)]!r}, expected {want!r}")
if not out["negative_ok"]:
    sys.exit("FAIL: format_duration(-5) did not raise ValueError")
texts = list(valid)[-3:]
cli = subprocess.run(["python3", "/app/durations.py", *texts], capture_output=True, text=True, timeout=10)
want = gen.fmt(sum(valid[t] for t in texts))
if cli.stdout.strip() != want:
    sys.exit(f"FAIL: durations.py {texts} printed {cli.stdout.strip()!r}, expected {want!r}")
print("ok")
