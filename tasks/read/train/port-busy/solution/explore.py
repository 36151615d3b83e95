"""Explorer for port-busy: runs server.py, reads the free port its error names, writes it to
server.env and runs the server again."""
import re


def need(match, what: str, out: str):
    """The regex match parsed from an output; a clear error when the output lacks it."""
    if not match:
        raise ValueError(f"no {what} in the output {out[:200]!r}")
    return match


def explore(rng):
    if rng.random() < 0.4:
        yield "cat /app/server.env"
    out = yield "python3 /app/server.py"
    port = need(re.search(r"Next free port: (\d+)", out), "free port", out)[1]
    yield rng.choice([f"sed -i 's/^PORT=.*/PORT={port}/' /app/server.env",
                      f"printf 'HOST=127.0.0.1\\nPORT={port}\\n' > /app/server.env"])
    yield "python3 /app/server.py"
