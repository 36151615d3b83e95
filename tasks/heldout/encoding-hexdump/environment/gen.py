"""Write /app/firmware.dump: the `hexdump -C` listing of a binary image (with `*` for repeated rows)."""
import os, random


def image(seed):
    rng = random.Random(seed)
    data = b"FWIMG\x01\x00" + rng.randint(1, 9).to_bytes(1, "big") + bytes(rng.randrange(256) for _ in range(rng.randint(40, 300)))
    data += b"\x00" * rng.choice([32, 48, 64, 160]) + b"\xff" * 16 + b"build " + str(rng.randint(100, 999)).encode()
    return data + bytes(rng.randrange(256) for _ in range(rng.randint(0, 40)))


def hexdump_c(data):
    """Same text as `hexdump -C`: identical consecutive 16-byte rows collapse to a single `*` line."""
    out, prev, starred = [], None, False
    for off in range(0, len(data), 16):
        row = data[off:off + 16]
        if row == prev and len(row) == 16:
            if not starred:
                out.append("*")
                starred = True
            continue
        prev, starred = row, False
        hexes = [f"{b:02x}" for b in row] + ["  "] * (16 - len(row))
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in row)
        out.append(f"{off:08x}  {' '.join(hexes[:8])}  {' '.join(hexes[8:])}  |{text}|")
    out.append(f"{len(data):08x}")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    with open("/app/firmware.dump", "w") as f:
        f.write(hexdump_c(image(int(os.environ.get("TASK_SEED", "0")))))
