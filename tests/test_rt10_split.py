"""eval.split_script cuts solve.sh into agent turns with bash's own parser, within a size cap and a
deadline, and without re-parsing the lines of a heredoc or an open quote one by one (rt10b p09: a
solve.sh of one long heredoc ran `bash -n` on the growing chunk after every line: 44.6 s for 1,000 lines
of 500 bytes, quadratic, no cap). Each test counts bash's runs, so none depends on the machine's speed."""
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import eval as ev  # noqa: E402


@pytest.fixture
def parses(monkeypatch):
    """The bash -n runs split_script makes."""
    runs, real = [], subprocess.run
    monkeypatch.setattr(ev.subprocess, "run", lambda *a, **k: runs.append(a[0]) or real(*a, **k))
    return runs


@pytest.mark.parametrize("opening, closing", [("cat > /tmp/x <<'EOF'", "EOF"), ("cat <<-X", "\tX"),
                                               ("echo 'a", "b'"), ('echo "a', 'b"'), ("x=$(echo a", ")")])
def test_a_long_heredoc_or_quote_is_parsed_a_bounded_number_of_times(parses, opening, closing):
    script = f"cd /app\n{opening}\n" + "a line of data\n" * 2000 + f"{closing}\nls\n"
    commands = ev.split_script(script)
    assert commands == ["cd /app", script.split("\n", 1)[1].rsplit("\nls\n", 1)[0], "ls"]
    assert len(parses) <= 8                    # was 2,003: one per line, on a growing chunk


def test_a_script_over_the_cap_is_one_line_error():
    with pytest.raises(ValueError, match=r"^split_script: the script is over 1 MiB$"):
        ev.split_script("echo a\n" * 200_000)


def test_a_script_that_does_not_parse_is_refused_by_one_parse(parses):
    with pytest.raises(ValueError, match="split_script: bash cannot parse the script: .*unexpected token"):
        ev.split_script("echo a\n" + "echo b\n" * 3000 + "echo c; }\n")
    assert len(parses) == 1


def test_the_split_has_a_deadline(monkeypatch):
    monkeypatch.setattr(ev, "SPLIT_SECONDS", 0.0)
    with pytest.raises(ValueError, match=r"^split_script: over 0 s"):
        ev.split_script("echo a\necho b\n")


def test_a_tasks_solve_sh_is_split_once_and_read_within_the_cap(tmp_path, parses):
    from types import SimpleNamespace
    (tmp_path / "solution").mkdir()
    (tmp_path / "solution" / "solve.sh").write_text("cd /app\nls\n")
    task = SimpleNamespace(path=tmp_path, name="t")
    assert ev._solution_commands(task) == ev._solution_commands(task) == ["cd /app", "ls"]
    assert len(parses) == 3                    # the whole script, then each command: the second call none
    (tmp_path / "solution" / "solve.sh").write_bytes(b"#" * (ev.SCRIPT_BYTES + 1))
    with pytest.raises(ValueError, match=r"^task 't': solution/solve.sh: split_script: the script is over"):
        ev._solution_commands(task)
