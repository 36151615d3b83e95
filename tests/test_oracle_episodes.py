"""The scripted oracle (eval.py): solve.sh as agent turns through the real scaffold and sandbox."""
import json

import pytest

import eval as ev
import rollout as R
import harbor
from test_rollout import TOK


@pytest.mark.parametrize("script, want", [
    ("#!/bin/bash\n# comment\ncd /app\n\nls -la\n", ["cd /app", "ls -la"]),
    ("set -euo pipefail\necho a\nexit 0\n", ["echo a"]),
    ("for f in *; do\n  echo $f\ndone\ncat > x <<'EOF'\nhi\nEOF\n", ["for f in *; do\n  echo $f\ndone", "cat > x <<'EOF'\nhi\nEOF"]),
    ("find . \\\n  -type f\nf() {\n  exit 1\n}\n", ["find . \\\n  -type f", "f() {\n  exit 1\n}"]),
])
def test_split_script_keeps_multiline_commands_whole(script, want):
    assert ev.split_script(script) == want


def test_format_action_is_what_parse_action_reads():
    a = R.parse_action(R.format_action("echo 'a b'\nls", "Step 1 of 2.").removeprefix("<think>\n"))
    assert (a.tool, a.command, a.warnings) == ("bash", "echo 'a b'\nls", [])
    assert R.parse_action(R.format_action(None, "Done.").removeprefix("<think>\n")).tool == "done"


@pytest.mark.parametrize("name", ["csv-join-totals", "files-dedupe-photos"])
def test_scripted_oracle_episode_solves_the_task_and_retokenizes(tmp_path, name):
    task = harbor.load_task(f"tasks/train/{name}")
    path = tmp_path / "demos.jsonl"
    res = ev.record_demos([task], "3-3", path)
    assert res[name]["reward"] == 1.0
    rec = json.loads(path.read_text())
    assert (rec["task"], rec["seed"], rec["reward"]) == (name, 3, 1.0)
    msgs = rec["messages"]
    assert [m["role"] for m in msgs[2:4]] == ["assistant", "tool"] and msgs[-1]["content"].endswith(
        "<function=done>\n</function>\n</tool_call>")
    assert msgs[3]["content"].startswith("Command 'cd /app")
    ids, roles = R.tokenize_messages(TOK, msgs)
    assert len(ids) == len(roles) and R.ACTION in roles and R.ENV in roles
    assert TOK.decode([i for i, r in zip(ids, roles) if r == R.ACTION]).count("<tool_call>") == len(msgs[2::2])
