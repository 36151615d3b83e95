"""A bad task is one line, fast: the loader parses task text in linear time. Each case is a few hundred KB
(under the 1 MiB file cap) built to make one of the loader's regexes rescan or backtrack quadratically;
loading it beside a good task must take under 5 s, a stall bound (seconds to hours before; ~0.2 s now)."""
import time

import pytest

from harbor import load_tasks

N = 300_000
COMPOSE = "services:\n  main:\n    build: .\n"
CASES = {
    # compose.py: the anchor/tag check and a plain key over a long run of spaces
    "compose-spaces": ("environment/docker-compose.yaml", COMPOSE + " " * N + "x\n"),
    "compose-key": ("environment/docker-compose.yaml", COMPOSE + "    a" + " " * N + "x: 1\n"),
    # a flow list of `"\` pairs: every `"` is an unclosed string scanned to the end
    "compose-flow": ("environment/docker-compose.yaml", COMPOSE + '    command: ["' + '\\"' * N + "]\n"),
    # a long word: shlex.split builds it a character at a time, copying it each time
    "compose-word": ("environment/docker-compose.yaml", COMPOSE + "    command: a" + "x" * 2 * N + "\n"),
    # ${...} substitution: every unclosed `${a:-` scans to the end of the value
    "compose-subst": ("environment/docker-compose.yaml",
                      COMPOSE + "    environment:\n      A: " + "${a:-" * (N // 5) + "\n"),
    # a duration: findall retries a run of digits with no unit from each digit
    "compose-duration": ("environment/docker-compose.yaml",
                         COMPOSE + "    healthcheck:\n      test: [CMD, 'true']\n      interval: "
                         + "1" * N + "x\n"),
    # dockerfile.py: the heredoc scan over unclosed `$((`, one long word, ${...}, a HEALTHCHECK duration
    "dockerfile-arith": ("environment/Dockerfile", "FROM host\nRUN echo " + "$(( " * (N // 4) + "\n"),
    "dockerfile-word": ("environment/Dockerfile", "FROM host\nENV A=" + "x" * 2 * N + "\n"),
    "dockerfile-subst": ("environment/Dockerfile", "FROM host\nENV A=" + "${a:-" * (N // 5) + "\n"),
    "dockerfile-duration": ("environment/Dockerfile",
                            "FROM host\nHEALTHCHECK --interval=" + "1" * N + "x CMD true\n"),
    # harbor.py: tomllib checks every prefix of a dotted key (a [table] name too) as it makes it
    "toml-dotted-key": ("task.toml", "[agent]\ntimeout_sec = 60\n" + "a." * (N // 2) + "b = 1\n"),
    "toml-table-name": ("task.toml", "[" + "a." * (N // 2) + "b]\n"),
}


@pytest.mark.parametrize("case", CASES)
def test_an_adversarial_task_file_loads_or_fails_in_linear_time(tmp_path, case):
    rel, text = CASES[case]
    for name, files in (("bad", {rel: text}), ("good", {})):
        files = {"task.toml": "[agent]\ntimeout_sec = 60\n", "instruction.md": "Do it.\n",
                 "tests/test.sh": "echo 1 > /logs/verifier/reward.txt\n", **files}
        for f, body in files.items():
            (tmp_path / name / f).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name / f).write_text(body)
    errors, t0 = [], time.monotonic()
    tasks = load_tasks(tmp_path, errors)
    took = time.monotonic() - t0
    assert took < 5, f"{case}: load_tasks took {took:.1f} s"   # a stall bound: quadratic took > 15 s
    assert "good" in [t.name for t in tasks]
    assert all("\n" not in e for e in errors)
