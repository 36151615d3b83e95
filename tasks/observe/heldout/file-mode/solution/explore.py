"""Explorer for file-mode: reads the permissions of /app/secret.key from stat -c %a (octal) or from
ls -l / stat -c %A (rwx, turned into octal) and writes the octal number."""
import re


def need(match, what: str, out: str):
    """The regex match (or value) parsed from an output; a clear error when the output lacks it."""
    if not match:
        raise ValueError(f"no {what} in the output {out[:200]!r}")
    return match


def answer(rng, value: str) -> str:
    """A command writing `value`, read from an earlier output, to /app/answer.txt."""
    return rng.choice([f"echo {value} > /app/answer.txt", f"printf '%s\\n' {value} > /app/answer.txt"])


def octal(rwx: str) -> str:
    """'rw-r-----' -> '640'."""
    bits = "".join("0" if c == "-" else "1" for c in rwx)
    return f"{int(bits, 2):o}"


def explore(rng):
    if rng.random() < 0.3:
        yield "ls /app"
    out = yield rng.choice(["stat -c %a /app/secret.key", "stat -c '%A %n' /app/secret.key",
                            "ls -l /app/secret.key", "ls -l /app"])
    if m := re.search(r"^-([rwx-]{9})\S* .*secret\.key$", out, re.M):   # "-rw-r----- 1 root ... secret.key"
        mode = octal(m[1])
    else:                                               # stat -c %a: "640"
        mode = need(re.fullmatch(r"\s*([0-7]{3,4})\s*", out), "mode", out)[1]
    yield answer(rng, mode)
    if rng.random() < 0.5:
        yield "cat /app/answer.txt"
