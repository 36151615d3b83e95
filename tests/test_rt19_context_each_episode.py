"""rt19b p31: a build context copied at every episode's start is capped as a Dockerfile-less environment/
is (rt14b p18): FROM host runs every step per episode (no image to cache a layer on), and an image runs
those after `ARG TASK_SEED` per episode. 40,000 files were 16 s of every start. The cap is lowered here so
that the trees stay small; the refusals failed on the code before."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import harbor  # noqa: E402
from test_rt17a_tree_costs import plain_task, refusal  # noqa: E402


@pytest.fixture
def small_cap(monkeypatch):
    monkeypatch.setattr(harbor, "MAX_TREE_ENTRIES", 20)


def with_context(tmp_path: Path, dockerfile: str, files: int) -> Path:
    path = plain_task(tmp_path, {"environment/Dockerfile": dockerfile})
    (path / "environment" / "data").mkdir()
    for i in range(files):
        (path / "environment" / "data" / f"f{i}").write_text("x")
    return path


@pytest.mark.parametrize("dockerfile", [
    "FROM host\nCOPY data /data\n",                                       # every step, every episode
    "FROM host\nWORKDIR /app\nADD data /app/data\n",
    "FROM debian:bookworm\nARG TASK_SEED\nCOPY data /data\n",            # a seeded step
])
def test_a_context_copied_at_every_start_is_capped(tmp_path, small_cap, dockerfile):
    assert "environment/ has over 20 files" in refusal(with_context(tmp_path, dockerfile, 25))


@pytest.mark.parametrize("dockerfile", [
    "FROM debian:bookworm\nCOPY data /data\nARG TASK_SEED\nRUN true\n",  # cached once, in a layer
    "FROM host\nRUN true\n",                                              # copies nothing
])
def test_a_context_copied_once_or_not_at_all_is_not(tmp_path, small_cap, dockerfile):
    assert harbor.load_task(with_context(tmp_path, dockerfile, 25)).name == "t"
