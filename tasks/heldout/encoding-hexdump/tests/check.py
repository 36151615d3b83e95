import os, sys
sys.path.insert(0, "/tests")
import gen

seed = int(os.environ.get("TASK_SEED", "0"))
want = gen.image(seed)
try:
    got = open("/app/firmware.bin", "rb").read()
except FileNotFoundError:
    sys.exit("FAIL: /app/firmware.bin missing")
if got != want:
    sys.exit(f"FAIL: firmware.bin ({len(got)} bytes) differs from the original ({len(want)} bytes)")
print("ok")
