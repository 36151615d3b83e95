#!/bin/bash
python3 - <<'PY'
out, prev, pending = bytearray(), b"", False
for line in open("/app/firmware.dump"):
    line = line.rstrip("\n")
    if line == "*":
        pending = True
        continue
    off = int(line[:8], 16)
    if pending:  # repeat the previous row until this offset
        while len(out) < off:
            out += prev
        pending = False
    hexes = line[10:58].split()
    if hexes:
        prev = bytes(int(h, 16) for h in hexes)
        out += prev
del out[off:]
open("/app/firmware.bin", "wb").write(out)
PY
