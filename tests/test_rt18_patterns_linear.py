"""Every pattern harbor.py and tamper.py run on text the task or the agent wrote is linear: each module-level
pattern, used as the module uses it (search, match, ...), takes under 0.5 s (a loaded machine's bound) on
50,000 characters built to make it backtrack. rt18a p04: SHELL_MISSING's two `[^:\\s]*` around a '/' took 3 s
on a 16,000-char line of '/' (33 s at 50,000), run on test.sh's last lines with the GIL held."""
import re
import time

import pytest

import harbor
import tamper

N = 50_000
BOUND = 0.5                 # the slowest linear one (tamper._WORD.finditer) takes ~0.08 s, idle
# runs that a greedy class can split many ways: separators, path characters, shell-message prefixes
UNITS = ["/", " ", "a:", "a", ":", "a/", "/ ", "-", ".", "a.", "0.", "\t", "\n", "/a", "x:/", "..", "#", "a,",
         "${", "$", "line 1: ", "1: ", ": /", "a@", "\\", "'", '"', "= ", "[", "(", "'a' "]
METHODS = ("search", "match", "fullmatch", "finditer", "findall", "sub", "split")


def used(module) -> list[tuple[str, re.Pattern, str]]:
    """(name, pattern, method) for each module-level compiled pattern and each way the module calls it."""
    src = open(module.__file__).read()
    return [(name, p, m) for name, p in vars(module).items() if isinstance(p, re.Pattern)
            for m in sorted(set(re.findall(rf"\b{re.escape(name)}\.({'|'.join(METHODS)})\(", src)))]


def slowest(p: re.Pattern, method: str) -> tuple[float, str]:
    worst = (0.0, "")
    for u in UNITS:
        s = u * (N // len(u))
        t = time.perf_counter()
        r = p.sub("", s) if method == "sub" else getattr(p, method)(s)
        if method == "finditer":
            list(r)
        worst = max(worst, (time.perf_counter() - t, u))
    return worst


@pytest.mark.parametrize("name,pattern,method", used(harbor) + used(tamper),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_each_pattern_is_linear_on_adversarial_text(name, pattern, method):
    dt, unit = slowest(pattern, method)
    assert dt < BOUND, f"{name}.{method} took {dt:.2f}s on {unit!r} x {N // len(unit)}"


@pytest.mark.parametrize("line", ["/" * N, "/" * N + ": command not found", "line 3: " + "a/" * (N // 2)],
                         ids=["slashes", "slashes-not-found", "line-3-a/"])
def test_a_long_line_of_test_shs_output_is_judged_fast(line):
    t = time.perf_counter()
    harbor.names_deliverable(line, "/app")
    harbor.runner_missing(line, workdir="/app")
    assert time.perf_counter() - t < BOUND


@pytest.mark.parametrize("line,deliverable", [
    ("/app/count.sh: line 1: /app/x/y.sh: No such file or directory", True),
    ("bash: /app/count.sh: Permission denied", True),
    ("/tests/test.sh: line 3: ./run.sh: command not found", True),   # relative: the workdir's
    ("/tests/test.sh: line 3: /usr/bin/pytest: No such file or directory", False),
    ("bash: /app/a b.sh: command not found", False),                # a path holds no space
])
def test_shell_missing_still_names_the_deliverable(line, deliverable):
    assert harbor.names_deliverable(line, "/app") is deliverable
