"""A tool's cache in the workdir (or anywhere else) is the image's for the verifier (rt20a p14).

test.sh ran `ruff check calc.py` in /app; the agent had linted a clean calc.py, then written one with a lint
error under the same mtime and mode, the key of ruff's /app/.ruff_cache entry: the verifier's ruff answered
"clean" from the agent's cache, 1.0. Now each cache of harbor.TOOL_CACHES the agent made or changed is seen
by test.sh as the image had it (harbor.cache_views, through the homes bytecode_views uses), while the
agent's own commands keep theirs. The tool below stands in for ruff and eslint: it trusts a cache entry
keyed by the file's mtime and mode, never its bytes (the real ruff: the probe, on the Debian base)."""
from types import SimpleNamespace

import pytest

import harbor
import tamper
from test_agent_processes import make_task, score
from test_verifier_homes import DEFAULT, KILL

# lint FILE CACHE (its report on stderr): "cached" where CACHE holds FILE's key (path, mtime, mode); else
# an F401 for `import os`, and a clean file's key is added to CACHE
LINT = ("lint() { k=\"$1 $(stat -c '%Y %a' \"$1\")\"; grep -qxF \"$k\" \"$2\" 2>/dev/null && "
        "{ echo cached >&2; return 0; }; "
        "grep -q '^import os' \"$1\" && { echo \"$1: F401\" >&2; return 1; }; "
        "mkdir -p \"$(dirname \"$2\")\"; echo \"$k\" >> \"$2\"; }\n")
HOST = "FROM host\nWORKDIR /app\n"
CLEAN = "printf 'def add(a, b):\\n    return a + b\\n' > calc.py"
DIRTY = "printf 'import os\\ndef add(a, b):\\n    return a + b\\n' > calc.py"


def check(cache: str) -> str:
    """test.sh: lint calc.py with `cache`, then run it."""
    return (LINT + f"cd /app; if lint calc.py {cache} && python3 -c 'import calc; assert calc.add(2, 3) == 5'"
            "; then echo 1; else echo 0; fi > /logs/verifier/reward.txt\n")


def forge(cache: str) -> str:
    """The agent's: lint a clean calc.py (its key cached), then write a dirty one under the same mtime."""
    return (LINT + f"cd /app && {CLEAN} && lint calc.py {cache} && touch -r calc.py /tmp/ref && {DIRTY} && "
            f"touch -r /tmp/ref calc.py && lint calc.py {cache}")


def build(tmp_path, cache: str, dockerfile: str = HOST) -> harbor.Task:
    t = make_task(tmp_path, check(cache), dockerfile=dockerfile)
    harbor.build_task(t, log=lambda m: None)
    return t


def test_the_caches_on_a_changed_path_are_its_outermost_tool_cache():
    t = SimpleNamespace(name="t")
    changes = [tamper.Change(p, k) for p, k in [
        ("/app/.ruff_cache", "dir"), ("/app/.ruff_cache/0.6.9/123", "file"),
        ("/app/web/node_modules/.cache/babel-loader/x.json", "file"), ("/app/.eslintcache", "file"),
        ("/app/tsconfig.tsbuildinfo", "file"), ("/app/.cache/x/.mypy_cache/3.11/calc.meta.json", "file"),
        ("/app/calc.py", "file"), ("/app/target/release/app", "file"),            # build output
        ("/app/.tox/py311/bin/python", "link"),                                  # an environment
        ("/app/cache/a.txt", "file")]]                                           # no tool's name
    assert [d for d, _ in harbor.cache_views(t, changes)] == [
        "/app/.ruff_cache", "/app/web/node_modules/.cache", "/app/.eslintcache", "/app/tsconfig.tsbuildinfo",
        "/app/.cache"]
    assert all(kept == () for _, kept in harbor.cache_views(t, changes))      # nothing of the agent's


# ---- attacks: each scored 1.0 before (the verifier's tool read the agent's cache) -----------------------

@pytest.mark.parametrize("limits", [DEFAULT, KILL], ids=["default", "kill"])
def test_a_forged_ruff_cache_in_the_workdir_does_not_answer_for_the_verifier(tmp_path, limits):
    t = build(tmp_path, ".ruff_cache/0.6.9/calc")
    assert score(t, forge(".ruff_cache/0.6.9/calc"), limits=limits) == 0.0


def test_a_forged_eslint_cache_file_does_not_answer_for_the_verifier(tmp_path):
    t = build(tmp_path, ".eslintcache")
    assert score(t, forge(".eslintcache")) == 0.0


def test_a_forged_cache_in_a_subdirectory_of_the_workdir_does_not_answer(tmp_path):
    t = build(tmp_path, "web/node_modules/.cache/lint/results")
    assert score(t, forge("web/node_modules/.cache/lint/results")) == 0.0


def test_the_verifier_sees_the_images_own_cache_not_the_agents_edit_of_it(tmp_path):
    # the image ships a .ruff_cache entry (another file's); the agent's entry appended to it is not seen
    image = HOST + ("RUN mkdir -p /app/.ruff_cache/0.6.9 && "
                    "echo 'other.py 1 644' > /app/.ruff_cache/0.6.9/calc\n")
    t = build(tmp_path, ".ruff_cache/0.6.9/calc", image)
    assert score(t, forge(".ruff_cache/0.6.9/calc")) == 0.0


# ---- no false positive ------------------------------------------------------------------------------------

def test_the_agents_own_commands_keep_reading_its_cache_and_an_honest_answer_scores(tmp_path):
    t = build(tmp_path, ".ruff_cache/0.6.9/calc")
    with harbor.start_task(t) as env:
        # the agent's second lint of the forged file is answered from its own cache, as ruff's would be
        assert env.run(forge(".ruff_cache/0.6.9/calc"), timeout=30).output.split() == ["cached"]
        assert env.verify()[0] == 0.0
    assert score(t, LINT + f"cd /app && {CLEAN} && lint calc.py .ruff_cache/0.6.9/calc") == 1.0
