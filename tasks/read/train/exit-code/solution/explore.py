"""Explorer for exit-code: runs the job, reads its exit code from the observation's exit status, looks
the code up in codes.txt and writes the cause."""
import re


def need(match, what: str, out: str):
    """The regex match parsed from an output; a clear error when the output lacks it."""
    if not match:
        raise ValueError(f"no {what} in the output {out[:200]!r}")
    return match


def explore(rng):
    out = yield rng.choice(["/app/job.sh; echo $?", "bash /app/job.sh; echo exit=$?"])
    code = need(re.search(r"(\d+)\s*$", out), "exit code", out)[1]
    out = yield rng.choice(["cat /app/codes.txt", f"grep '^{code} ' /app/codes.txt"])
    cause = need(re.search(rf"^{code} (\w+)", out, re.M), "cause", out)[1]
    yield f"echo {cause} > /app/answer.txt"
