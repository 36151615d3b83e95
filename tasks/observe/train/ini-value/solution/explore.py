"""Explorer for ini-value: shows the [db] section of /app/app.ini (the whole file, grep -A, sed) and
reads its port; or finds the line numbers of section headers and of port lines, and picks the port
between [db] and the next header. Writes the port."""
import re


def need(match, what: str, out: str):
    """The regex match (or value) parsed from an output; a clear error when the output lacks it."""
    if not match:
        raise ValueError(f"no {what} in the output {out[:200]!r}")
    return match


def answer(rng, value: str) -> str:
    """A command writing `value`, read from an earlier output, to /app/answer.txt."""
    return rng.choice([f"echo {value} > /app/answer.txt", f"printf '%s\\n' {value} > /app/answer.txt"])


def db_port(out: str) -> str:
    """The port under [db] in ini text (a port before any header counts: awk-style output has none)."""
    section = None
    for line in out.splitlines():
        if m := re.fullmatch(r"\s*\[(\w+)\]\s*", line):
            section = m[1]
        elif (m := re.fullmatch(r"\s*port\s*=\s*(\d+)\s*", line)) and section in ("db", None):
            return m[1]
    raise ValueError(f"no port under [db] in the output {out[:200]!r}")


def explore(rng):
    way = rng.choice(["cat", "grep -A3", "sed", "line numbers"])
    if way == "line numbers":
        heads = yield "grep -n '^\\[' /app/app.ini"          # "5:[db]"
        ports = yield rng.choice(["grep -n port /app/app.ini", "grep -n '^port' /app/app.ini"])
        starts = [(int(n), name) for n, name in re.findall(r"^(\d+):\[(\w+)\]", heads, re.M)]
        start = need([n for n, name in starts if name == "db"], "[db] header", heads)[0]
        end = min([n for n, _ in starts if n > start], default=10 ** 6)
        found = [v for n, v in re.findall(r"^(\d+):port\s*=\s*(\d+)", ports, re.M) if start < int(n) < end]
        port = need(found, "port line inside [db]", ports)[0]
    else:
        out = yield {"cat": "cat /app/app.ini", "grep -A3": "grep -A3 '\\[db\\]' /app/app.ini",
                     "sed": "sed -n '/\\[db\\]/,/^$/p' /app/app.ini"}[way]
        port = db_port(out)
    yield answer(rng, port)
    if rng.random() < 0.5:
        yield "cat /app/answer.txt"
