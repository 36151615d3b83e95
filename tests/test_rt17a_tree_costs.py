"""rt17a p23: a task's trees cost the trainer host work at every verify (tests/ staged and walked a few times)
and episode (solution/, a Dockerfile-less environment/ copied whole), so the loader caps what makes that
work: entries, depth and the sum of the entries' paths. A tests/ of 390 chains 250 deep (97,500 entries,
under the entry cap) was ~93 s of the trainer's CPU a verify. The refusal tests failed on the code before."""
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import harbor  # noqa: E402
from test_rt13_trainer import plain_task  # noqa: E402


def refusal(path: Path) -> str:
    with pytest.raises(harbor.TaskError) as e:
        harbor.load_task(path)
    return str(e.value)


def test_tests_deeper_than_pid_1_copies_into_tests_is_refused_at_load(tmp_path):
    # pid 1 leaves out what is 64 directories down (sandbox_init.TMP_DEPTH): every verify would fail
    path = plain_task(tmp_path, {})
    (path / "tests" / "/".join(["d"] * 64)).mkdir(parents=True)
    assert refusal(path) == "task 't': tests/ is nested deeper than 63 directories"


def test_tests_63_deep_loads(tmp_path):
    path = plain_task(tmp_path, {})
    (path / "tests" / "/".join(["d"] * 63)).mkdir(parents=True)
    assert harbor.load_task(path).name == "t"


def test_deep_chains_over_the_path_bytes_cap_are_refused(tmp_path, monkeypatch):
    # 5 chains c0/d/d/.../d, 30 deep: 150 entries, far under the entry cap; paths of 2..60 bytes, 4,650 in all
    monkeypatch.setattr(harbor, "MAX_TREE_PATH_BYTES", 4096, raising=False)
    path = plain_task(tmp_path, {})
    for i in range(5):
        (path / "tests" / f"c{i}" / "/".join(["d"] * 29)).mkdir(parents=True)
    assert refusal(path).startswith("task 't': tests/ has over 4,096 bytes of paths")


def test_long_names_in_one_directory_over_the_path_bytes_cap_are_refused(tmp_path, monkeypatch):
    # 20 files of 255-byte names (NAME_MAX): 20 entries, 5,100 bytes of paths
    monkeypatch.setattr(harbor, "MAX_TREE_PATH_BYTES", 4096, raising=False)
    path = plain_task(tmp_path, {f"tests/{i:03d}" + "x" * 252: "" for i in range(20)})
    assert refusal(path).startswith("task 't': tests/ has over 4,096 bytes of paths")


@pytest.mark.parametrize("tree", ["solution", "environment"])     # environment/: a Dockerfile-less one
def test_solution_or_environment_over_the_path_bytes_cap_is_refused_naming_it(tmp_path, monkeypatch, tree):
    monkeypatch.setattr(harbor, "MAX_TREE_PATH_BYTES", 4096, raising=False)
    path = plain_task(tmp_path, {f"{tree}/{i:03d}" + "x" * 252: "" for i in range(20)})
    assert refusal(path).startswith(f"task 't': {tree}/ has over 4,096 bytes of paths")


def test_a_tree_at_the_path_bytes_cap_loads(tmp_path, monkeypatch):
    # tests/test.sh (7 bytes), tests/a (1), tests/a/bc (4): 12 bytes of paths
    monkeypatch.setattr(harbor, "MAX_TREE_PATH_BYTES", 12, raising=False)
    path = plain_task(tmp_path, {"tests/a/bc": ""})
    assert harbor.load_task(path).name == "t"
    (path / "tests/a/d").write_text("")                # 3 bytes more
    assert "tests/ has over 12 bytes of paths" in refusal(path)


def test_a_tests_tree_of_5001_entries_is_refused(tmp_path):
    # staged at every verify and walked a few times more: 10,000 empty files were ~3-7 s of the trainer's
    # CPU a verify, 100,000 (the cap before) ~20 s or more
    path = plain_task(tmp_path, {})
    for i in range(5_000):                             # and test.sh: 5,001
        (path / "tests" / f"f{i}").touch()
    assert refusal(path).startswith("task 't': tests/ has over 5000 files and directories")


def test_the_stamp_of_a_deep_tree_sees_a_file_changed_at_its_bottom(tmp_path):
    # _tree_stamp now walks by descriptors: what it tells apart is what the full-path walk did
    bottom = tmp_path / "/".join(["d"] * 60)
    bottom.mkdir(parents=True)
    (bottom / "f").write_text("a")
    before = harbor._tree_stamp(tmp_path)
    assert len(before) == 61 and harbor._tree_stamp(tmp_path) == before
    (bottom / "f").write_text("ab")
    assert harbor._tree_stamp(tmp_path) != before


def test_the_stamp_follows_no_link(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "f").write_text("a")
    os.symlink(tmp_path / "outside", tmp_path / "tests" / "l")
    before = harbor._tree_stamp(tmp_path / "tests")
    (tmp_path / "outside" / "f").write_text("ab")
    assert len(before) == 1 and harbor._tree_stamp(tmp_path / "tests") == before


@pytest.mark.parametrize("service", ["main", "side"])
def test_a_compose_bind_volume_over_the_path_bytes_cap_is_refused_naming_it(tmp_path, monkeypatch, service):
    # a ./path volume is copied into every episode too, walked first with no clock of its own
    monkeypatch.setattr(harbor, "MAX_TREE_PATH_BYTES", 4096, raising=False)
    spec = "    volumes: ['./data:/data']\n"
    path = plain_task(tmp_path, {
        "environment/Dockerfile": "FROM host\n",
        "environment/docker-compose.yaml": "services:\n" + (f"  main:\n{spec}" if service == "main" else "") +
        "  side:\n    image: host\n" + (spec if service == "side" else ""),
        **{f"environment/data/{i:03d}" + "x" * 252: "" for i in range(20)}})
    assert refusal(path).startswith("task 't': environment/data/ has over 4,096 bytes of paths")


def test_a_compose_bind_volume_under_the_caps_loads(tmp_path):
    path = plain_task(tmp_path, {
        "environment/Dockerfile": "FROM host\n", "environment/data/a.csv": "a,b\n",
        "environment/docker-compose.yaml": "services:\n  main:\n    volumes: ['./data:/data']\n"})
    assert harbor.load_task(path).name == "t"
