"""A build context's .dockerignore, as Docker reads it (images.py, dockerfile.ignore_rules): what it excludes
is as if absent from the context, for COPY, its cache key and its errors. rt21b p31: nothing read the file,
so `COPY . /app` gave the agent an answers/ directory and *.secret files Docker leaves out."""
import time
from pathlib import Path

import pytest

import dockerfile
import images
from harbor import load_task, start_task

IGNORE = "answers\n*.secret\n"
FILES = {"answers/key.txt": "ANSWER\n", "x.secret": "ANSWER\n", "main.c": "int main(){}\n",
         "src/a.secret": "kept: *.secret is the root's only\n"}


def context(tmp_path: Path, ignore: str = IGNORE, files: dict = FILES) -> Path:
    ctx = tmp_path / "environment"
    for rel, text in {".dockerignore": ignore, **files}.items():
        (ctx / rel).parent.mkdir(parents=True, exist_ok=True)
        (ctx / rel).write_text(text)
    return ctx


def copied(ctx: Path) -> list[str]:
    """What `COPY . /app` puts in the image (a FROM host task's), as paths relative to /app, "." first."""
    task = ctx.parent
    (ctx / "Dockerfile").write_text("FROM host\nCOPY . /app\nWORKDIR /app\n")
    (task / "tests").mkdir(exist_ok=True)
    (task / "tests/test.sh").write_text("echo 0 > /logs/verifier/reward.txt\n")
    (task / "task.toml").write_text("[agent]\ntimeout_sec = 60\n")
    (task / "instruction.md").write_text("Do it.\n")
    with start_task(load_task(task)) as sb:
        out = sb.run("cd /app && find . | sort").output.split()
    return [p.removeprefix("./") for p in out if p not in ("./Dockerfile", "./.dockerignore")]


def copy_key(ctx: Path, args: str = ". /app") -> str:
    step = dockerfile.parse(f"FROM host\nCOPY {args}\n")[1]
    return images.advance(images.start_state(images.resolve("host")), step, ctx).key


def test_the_probes_task_copies_none_of_what_dockerignore_excludes(tmp_path):
    # the Dockerfile and .dockerignore are the context's too, copied unless excluded (as Docker's COPY .)
    assert copied(context(tmp_path)) == [".", "main.c", "src", "src/a.secret"]


def test_an_exception_re_includes_a_file_under_an_excluded_directory(tmp_path):
    ctx = context(tmp_path, "answers\n!answers/keep.txt\n", {**FILES, "answers/keep.txt": "k\n"})
    assert [p for p in copied(ctx) if p.startswith("answers")] == ["answers", "answers/keep.txt"]


def test_the_last_matching_line_wins(tmp_path):
    ctx = context(tmp_path, "!main.c\n*.c\n")          # the exception comes first: *.c wins
    assert "main.c" not in copied(ctx)


def test_a_directory_no_exception_can_reach_is_gone_whatever_a_later_line_says(tmp_path):
    # BuildKit skips answers/ whole: no exception has a wildcard or names a path under it
    ctx = context(tmp_path, "answers\n!key.txt\n")
    assert not [p for p in copied(ctx) if p.startswith("answers")]
    # a wildcard exception makes it walk in, and keep what the exception matches
    ctx = context(tmp_path / "w", "answers\n!*/key.txt\n")
    assert [p for p in copied(ctx) if p.startswith("answers")] == ["answers", "answers/key.txt"]


def test_double_star_excludes_at_any_depth(tmp_path):
    ctx = context(tmp_path, "**/*.log\n", {"x.log": "", "a/b/c.log": "", "a/b/c.txt": ""})
    assert copied(ctx) == [".", "a", "a/b", "a/b/c.txt"]


def test_a_directory_pattern_excludes_everything_below_it(tmp_path):
    ctx = context(tmp_path, "/build/\n", {"build/x/y.o": "", "src/build/z": ""})   # a leading / dropped
    assert copied(ctx) == [".", "src", "src/build", "src/build/z"]


def test_comments_and_blank_lines_are_not_patterns(tmp_path):
    ctx = context(tmp_path, "# answers\n\n   \n  x.secret  \n")
    assert "answers/key.txt" in copied(ctx) and "x.secret" not in copied(ctx)


def test_an_excluded_files_content_is_not_in_the_cache_key(tmp_path):
    ctx = context(tmp_path)
    before = copy_key(ctx)
    (ctx / "answers/key.txt").write_text("ANOTHER ANSWER\n")
    (ctx / "x.secret").write_text("changed\n")
    assert copy_key(ctx) == before
    (ctx / "main.c").write_text("int main(){return 1;}\n")       # a kept file still rebuilds
    assert copy_key(ctx) != before


@pytest.mark.parametrize("args", ["*.secret /x/", "answers /x/", "answers/key.txt /x"])
def test_a_copy_of_only_excluded_files_fails_as_dockers(tmp_path, args):
    with pytest.raises(images.BuildError, match="no source files"):
        copy_key(context(tmp_path), args)


def test_a_bad_or_oversized_dockerignore_is_one_line(tmp_path):
    with pytest.raises(images.BuildError, match=r"environment/.dockerignore line 1: syntax error"):
        copy_key(context(tmp_path, "[abc\n"))
    with pytest.raises(images.BuildError, match="over 1000 patterns"):
        copy_key(context(tmp_path / "n", "a\n" * 1001))


def test_a_pathological_dockerignore_is_matched_in_linear_time():
    t = time.perf_counter()
    rules = dockerfile.ignore_rules("\n".join(["*a" * 30 + "b", "**/" * 20 + "x"] * 500))  # near the caps
    assert not dockerfile.ignored(rules, dockerfile.ignore_matches(rules, None, "a" * 255))
    assert time.perf_counter() - t < 0.5
    t = time.perf_counter()
    assert not dockerfile.glob_match(dockerfile._ignore_tokens("*a" * 512, 1), "a" * 4095 + "b")
    assert time.perf_counter() - t < 0.5


def test_each_context_reads_the_dockerignore_at_its_own_root(tmp_path):
    # a compose service's context (environment/web), a separate verifier's (tests/): their own file, not
    # environment/'s
    ctx = context(tmp_path, "web/secret.txt\n", {"web/secret.txt": "s\n"})
    copy_key(ctx / "web", "secret.txt /srv/")                          # environment/'s rule is not web's
    (ctx / "web/.dockerignore").write_text("secret.txt\n")
    with pytest.raises(images.BuildError, match="no source files"):
        copy_key(ctx / "web", "secret.txt /srv/")
