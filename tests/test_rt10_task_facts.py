"""What the trainer derives from a task's tests/ for every episode's checks (harbor.task_facts: the stdlib
names its Python imports, its vendored modules, the homes it names) is read once per task and version of
its files, within a byte and time budget; past the budget every stdlib name is judged, never none (rt10b
p13: tests/ of 1 MiB `a=1` files cost ~3 s of ast each, twice an episode, under a process-wide lock)."""
import sys
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import harbor  # noqa: E402
import tamper  # noqa: E402


def count_calls(monkeypatch, module, name):
    calls, real = [], getattr(module, name)
    monkeypatch.setattr(module, name, lambda *a, **k: calls.append(a) or real(*a, **k))
    return calls


def test_a_tasks_tests_are_read_once_until_a_file_changes(tmp_path, monkeypatch):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text("import fractions\n")
    task = SimpleNamespace(path=tmp_path, name="t")
    parses = count_calls(monkeypatch, tamper, "shadow_names")
    first = harbor.task_facts(task)
    assert harbor.task_facts(task) is first and "fractions" in first.imports and len(parses) == 1
    (tmp_path / "tests" / "test_x.py").write_text("import calendar\n")      # a new version of the file
    assert "calendar" in harbor.task_facts(task).imports and len(parses) == 2


def test_tests_over_the_byte_budget_judge_every_stdlib_name(tmp_path, monkeypatch):
    monkeypatch.setattr(tamper, "SHADOW_SCAN_BYTES", 1000)
    for i in range(3):
        (tmp_path / f"t{i}.py").write_text("a = 1\n" * 100)                  # 600 bytes each
    names = tamper.shadow_names(str(tmp_path))
    assert names == tamper.ALL_IMPORTS and "fractions" in names              # conservative, not skipped


def test_tests_over_the_time_budget_judge_every_stdlib_name(tmp_path, monkeypatch):
    monkeypatch.setattr(tamper, "SHADOW_SCAN_SECONDS", 0.0)
    (tmp_path / "t.py").write_text("import json\n")
    assert tamper.shadow_names(str(tmp_path)) == tamper.ALL_IMPORTS


def test_a_test_file_over_1_mib_is_read_whole_not_cut_and_skipped(tmp_path):
    (tmp_path / "test_big.py").write_text("a = 1\n" * 200_000 + "import fractions\n")   # 1.2 MB
    assert "fractions" in tamper.shadow_names(str(tmp_path))


def test_imports_are_read_in_every_statement_form_without_ast(tmp_path):
    (tmp_path / "test_forms.py").write_text(
        "import os.path as p, fractions\ntry: import calendar\nexcept ImportError: pass\nx = 1; import csv\n"
        "from decimal import Decimal\nfrom . import local\nimport json, \\\n    statistics\n"
        "def f():\n    from zipfile import ZipFile\nimport solution\nx = 1+" + "1+" * 300_000 + "1\n")
    names = tamper.shadow_names(str(tmp_path))
    assert {"os", "fractions", "calendar", "csv", "decimal", "json", "statistics", "zipfile"} <= names
    assert "solution" not in names and "local" not in names                  # not the stdlib's
