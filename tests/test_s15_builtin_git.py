"""The built-in git checks read the repository's own objects (rt15a p09, p10): a replace ref or an
info/grafts file of the agent's made the check's rev-parse, diff and merge-base see a history the objects
do not hold, and an unsolved repository scored 1. The checks' git runs with GIT_NO_REPLACE_OBJECTS and no
graft file. Each attack is the agent's whole episode on the built-in task."""
from pathlib import Path

import harbor

TASKS = Path(__file__).resolve().parents[1] / "tasks" / "heldout"
REPLACE = """cd /app/repo
tag=$(git tag -l 'v*' | sort -V | tail -n 1)
newest=$(git rev-parse "$tag^{commit}")
main=$(git rev-parse main)
IFS=. read -r major minor patch < <(git show "$newest:VERSION")
blob=$(printf '%s.%s.%s\\n' "$major" "$minor" "$((patch + 1))" | git hash-object -w --stdin)
tree=$(git ls-tree "$newest" | sed "s/[0-9a-f]\\{40\\}\\tVERSION\\$/$blob\\tVERSION/" | git mktree)
fake=$(git commit-tree "$tree" -p "$newest" -m bump)
git branch -f hotfix "$main"
git replace -f "$main" "$fake"
"""
GRAFT = """cd /app/repo
orig=$(git rev-parse main)
bad=$(git log --format=%H --grep='Switch price rounding to floor' main | head -1)
git revert --no-edit "$bad" >/dev/null
root=$(git commit-tree "$(git rev-parse 'main^{tree}')" -m "one root commit")
git update-ref refs/heads/main "$root"
git reset -q --hard main
echo "$root $orig" > .git/info/grafts
"""


def reward(name: str, commands: str) -> float:
    with harbor.start_task(harbor.load_task(TASKS / name), 0) as env:
        assert env.run(commands, timeout=60).exit_code == 0
        return env.verify()[0]


def test_a_replace_ref_does_not_make_main_a_hotfix():
    assert reward("git-hotfix-branch", REPLACE) == 0.0


def test_a_graft_does_not_make_rewritten_history_descend_from_the_original():
    assert reward("git-revert-commit", GRAFT) == 0.0
