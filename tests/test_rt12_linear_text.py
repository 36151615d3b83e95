"""rt12b p18, p19, p21: the work the trainer does on a task's text follows the text's bytes, not their square
or a product of its parts: every regex over task text is linear (1 MiB inputs under a time bound, each in a
child process the bound can kill), and a compose env_file is read once however often it is listed."""
import subprocess
import sys
from pathlib import Path

import pytest

import compose
import tamper

REPO = Path(__file__).resolve().parents[1]
MIB = 1 << 20


def finishes(code: str, seconds: float = 20) -> bool:
    """Whether `code` (run with the repository importable) ends within `seconds`; a quadratic regex on
    1 MiB takes hours, a linear one well under a second even on a loaded machine."""
    try:
        subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(REPO)!r})\n{code}"],
                       timeout=seconds, check=True)
        return True
    except subprocess.TimeoutExpired:
        return False


@pytest.mark.parametrize("text", ["'a' * MIB", "'a9' * (MIB // 2)", "'a.' * (MIB // 2)",
                                  "'a.py' * (MIB // 4)"])
def test_the_instructions_asked_modules_are_found_in_linear_time(text):
    # `([A-Za-z_]\w*)\.py\b` rescanned a word's rest from each of its characters: 40,000 took 19 s
    assert finishes(f"import tamper\nMIB = {MIB}\ntamper.asked_modules({text})")


def test_asked_modules_still_names_each_py_file_the_instruction_names():
    assert tamper.asked_modules("write /app/calendar.py and x.py, then _a9.py; not a.pyc") == {
        "calendar", "x", "_a9"}


@pytest.mark.parametrize("line", ["'from ' + 'a' * MIB", "'from ' + 'a.' * (MIB // 2)",
                                  "';from a' * (MIB // 7)"])
def test_a_tests_file_is_read_for_imports_in_linear_time(tmp_path, line):
    # `([A-Za-z_]\w*)[\w.]*` split a word between its two quantifiers every way: 48,000 characters took 15 s
    (tmp_path / "test_x.py").write_text(eval(line, {"MIB": MIB}) + "\n")
    assert finishes(f"import tamper\nassert tamper.tests_imports({str(tmp_path)!r}) is not None")


def test_the_images_guarded_imports_are_read_in_linear_time():
    # the same split in _GUARDED, over the image's own Python files (up to HOOK_FILE_BYTES, 4 MiB each)
    assert finishes(f"import tamper\ntamper.guarded_imports('try:\\n from ' + 'a' * {MIB})")
    assert tamper.guarded_imports("try:\n    from simplejson.x import y\n    import a.b as c, d\n") == {
        "simplejson", "a", "d"}


def test_imports_are_still_read_from_from_lines(tmp_path):
    (tmp_path / "test_x.py").write_text("from os.path import join\nimport json; from sys import argv\n"
                                        "from . import x\n")
    assert tamper.tests_imports(str(tmp_path)) == {"os", "json", "sys"}


def env_files(tmp_path, value, files: dict[str, str]):
    """compose._env_files over `files` in environment/; (the variables, how many times each file was read)."""
    env_dir = tmp_path / "environment"
    env_dir.mkdir(exist_ok=True)
    for name, text in files.items():
        (env_dir / name).write_text(text)
    reads: dict[str, int] = {}

    def read(rel: str) -> str:
        reads[rel] = reads.get(rel, 0) + 1
        return (tmp_path / rel).read_text()
    return compose._env_files(value, env_dir, read, "services.main"), reads


def test_an_env_file_listed_many_times_is_read_once(tmp_path):
    # each listing was read and parsed again: a 1 MiB file listed 80 times took 16 s to load
    env, reads = env_files(tmp_path, ["e", "./e"] * 5000, {"e": "A=1\n" * 25000})
    assert env == {"A": "1"} and reads == {"environment/e": 1}


def test_a_later_listing_wins_and_a_key_keeps_its_first_place(tmp_path):
    env, _ = env_files(tmp_path, ["e", "f", "e"], {"e": "A=e\nB=e\n", "f": "C=f\nA=f\n"})
    assert list(env.items()) == [("A", "e"), ("B", "e"), ("C", "f")]
    env, _ = env_files(tmp_path, ["e", "f"], {})
    assert list(env.items()) == [("A", "f"), ("B", "e"), ("C", "f")]


def test_more_distinct_env_files_than_the_cap_are_refused_in_one_line(tmp_path):
    names = [f"e{i}" for i in range(compose.MAX_ENV_FILES + 1)]
    with pytest.raises(ValueError, match=f"{compose.MAX_ENV_FILES + 1} files, over the cap"):
        env_files(tmp_path, names, {n: "A=1\n" for n in names})
