"""Explorer for env-hidden: either reads /app/env.sh, follows the hidden file it sources and reads
API_KEY there, or sources it and prints the variable; writes the value it read."""
import re


def need(match, what: str, out: str):
    """The regex match (or value) parsed from an output; a clear error when the output lacks it."""
    if not match:
        raise ValueError(f"no {what} in the output {out[:200]!r}")
    return match


def answer(rng, value: str) -> str:
    """A command writing `value`, read from an earlier output, to /app/answer.txt."""
    return rng.choice([f"echo {value} > /app/answer.txt", f"printf '%s\\n' {value} > /app/answer.txt"])


def explore(rng):
    way = rng.choice(["follow", "follow", "source", "env"])
    if way == "follow":
        if rng.random() < 0.5:
            yield "ls -a /app"
        out = yield "cat /app/env.sh"
        hidden = need(re.search(r"^(?:\.|source)\s+(\S+)", out, re.M), "sourced file", out)[1]
        out = yield rng.choice([f"cat {hidden}", f"grep API_KEY {hidden}"])
        value = need(re.search(r"API_KEY=(\S+)", out), "API_KEY", out)[1]
    elif way == "source":
        out = yield rng.choice(["source /app/env.sh && echo $API_KEY", ". /app/env.sh; echo \"$API_KEY\""])
        value = need(re.fullmatch(r"\s*(\w+)\s*", out), "value", out)[1]
    else:
        out = yield "bash -c '. /app/env.sh; env' | grep API"
        value = need(re.search(r"^API_KEY=(\S+)", out, re.M), "API_KEY", out)[1]
    yield answer(rng, value)
    if rng.random() < 0.5:
        yield "cat /app/answer.txt"
