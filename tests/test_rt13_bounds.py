"""rt13b p11-p13, p17, p22-p25, rt13a p07, p15: the trainer's time and keys. Every parse of task- or
agent-controlled text is linear and bounded (1 MiB or the cap under a time bound, in a child process the
bound can kill), an exec form nested too deep is the task's one line, a COPY's hash runs on the build's
clock, cache keys are whole sha256 digests, a TASK_SEED declared beside other ARGs seeds what follows, and
make -C's and `node --test`'s words for a missing /tests path are a runner missing."""
import base64
import errno
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import dockerfile
import harbor
import images
import seccomp
import tamper

REPO = Path(__file__).resolve().parents[1]
MIB = 1 << 20


def finishes(code: str, seconds: float = 20) -> bool:
    """Whether `code` (run with the repository importable) ends within `seconds`: a quadratic parse of its
    input takes minutes to hours, a linear one about a second even on a loaded machine."""
    try:
        subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(REPO)!r})\n{code}"],
                       timeout=seconds, check=True)
        return True
    except subprocess.TimeoutExpired:
        return False


# p11: Docker's ARG declares every name on its line
@pytest.mark.parametrize("line", ["ARG A=1 TASK_SEED=0", "ARG A TASK_SEED", 'ARG "TASK_SEED"'])
def test_a_task_seed_among_other_args_seeds_the_steps_after(line):
    steps = dockerfile.parse(f"FROM debian:bookworm\nRUN echo base\n{line}\nRUN echo $TASK_SEED > /seed\n")
    assert [s.args for s in harbor._cached_steps(steps[1:])] == ["echo base"]
    assert [s.args for s in dockerfile.cached_steps(dockerfile.stages(steps)[0])] == ["echo base"]


def test_each_name_of_an_arg_line_is_declared():
    config = dockerfile.Config(env={}, workdir="/", build_args={"B": "given"})
    step = dockerfile.parse("FROM x\nARG A=1 B TASK_SEED\n")[1]
    assert dockerfile.replay(config, step).args == {"A": "1", "B": "given", "TASK_SEED": ""}
    assert not dockerfile.is_seed(dockerfile.parse("FROM x\nARG TASK_SEEDS=1 A\n")[1])


# p13: json.loads raises RecursionError on deep nesting: the task's bad line, not the harness's error
def test_an_exec_form_nested_too_deep_is_not_json():
    deep = "[" * 100_000 + "]" * 100_000
    assert dockerfile.command(deep, ["/bin/sh", "-c"]) == ["/bin/sh", "-c", deep]
    with pytest.raises(ValueError):
        dockerfile.loads(deep)
    step = dockerfile.parse(f"FROM x\nCOPY {deep}\n")[1]
    with pytest.raises(images.BuildError):
        images._copy_sources(step, dockerfile.Config(env={}, workdir="/"), Path("/nonexistent"))


# p17: 64 bits of a key fall to a birthday search; the whole digest does not
def test_layer_and_base_keys_are_whole_sha256_digests():
    image = images.Image(name="x", rootfs=None, digest="sha256:" + "0" * 64)
    state = images.start_state(image)
    step = dockerfile.parse("FROM x\nRUN true\n")[1]
    after = images.advance(state, step, Path("/nonexistent"))
    for key in (state.key, after.key):
        assert len(base64.urlsafe_b64decode(key + "=")) == 32


# p22, p23, p24, p25: linear in the text, whatever its shape
def test_nested_try_lines_are_read_in_linear_time():
    # each `try:` searched to the end of the file for its block's end: 800 lines took ~40 s
    code = ("import tamper\ntext = ''.join(' ' * i + 'try:\\n' for i in range(2890))[:4 << 20]\n"
            "assert tamper.guarded_imports(text + ' ' * 2890 + 'import x\\n') == {'x'}")
    assert finishes(code)


def test_guarded_imports_still_ends_a_block_at_a_line_no_deeper():
    text = ("try:\n    import a\n    try:\n        import b\n    # c\n    except E:\n        import c\n"
            "import d\ntry: import e\nfinally:\n    import f\nx = 1\n")
    assert tamper.guarded_imports(text) == {"a", "b", "c", "e"}        # as before: `finally:` ends it


@pytest.mark.parametrize("unit", ["a=;", "a=do", "a=do ", "a=/do ", "a=! ", "a=$(", "a=x\"do ", "a=(do ",
                                  " -exec a=1"])
def test_exec_named_is_linear_in_assignment_chains(unit):
    # every `;` (or `do`, `!`...) in a value restarted the chain to its end: 64 KiB of `a=;` took ~40 s
    assert finishes(f"import tamper\ntamper.exec_named({unit!r} * ({MIB} // {len(unit)}))")


def test_exec_named_still_sees_a_program_after_assignments():
    assert tamper.exec_named("X=1 Y='a b' Z=$(pwd) /opt/run --x\nfind . -exec /opt/each {} \\;\n"
                             "for f in x; do /opt/loop; done\ntimeout 10 /opt/slow\n") == {
        "/opt/run", "/opt/each", "/opt/loop", "/opt/slow"}
    assert tamper.exec_named("PATH=/usr/local/env/bin /opt/run\nd=/x/do /opt/y\n") == {"/opt/run",
                                                                                       "/opt/y"}


@pytest.mark.parametrize("text", ["'curl ' + 'a' * (3 * MIB // 2)", "'\\n' * MIB + 'curl x'",
                                  "('curl \"' + 'a' * 20000 + '\"\\n') * 50"])
def test_the_tests_downloads_are_read_in_bounded_time(tmp_path, text):
    # shlex is quadratic in a word (1.5 MiB: hours); ASSIGNED's `^\s*` crossed every blank line (32 KiB: 44 s)
    (tmp_path / "t.sh").write_text(eval(text, {"MIB": MIB}))
    assert finishes(f"import harbor\nharbor.fetched_paths(__import__('pathlib').Path({str(tmp_path)!r}))")


def test_the_tests_downloads_are_still_read(tmp_path):
    (tmp_path / "test.sh").write_text("  J=/tmp/j.jar\ncurl -fsSL https://example.com/x.jar -o $J\n")
    assert harbor.fetched_paths(tmp_path) == ("/tmp/j.jar",)


def test_an_agents_pyproject_with_a_deep_key_is_not_parsed_and_counts():
    text = "a" + ".a" * (32 * 1024 - 1) + " = 1\n"
    t0 = time.monotonic()
    assert tamper.installer_settings(text)
    assert time.monotonic() - t0 < 1
    assert tamper.installer_settings("[project]\nname = 'x'\n[tool.uv]\nindex-url = 'https://x'\n") == {
        "uv.index-url": "'https://x'"}
    assert tamper.installer_settings("a = " + "[" * 50_000 + "]" * 50_000) == {}   # RecursionError


# p12: a sparse file is no disk and seconds of hashing
def test_a_copys_hash_stops_at_the_builds_deadline(tmp_path):
    (tmp_path / "big").touch()
    os.truncate(tmp_path / "big", (images.BUILD_DISK_MB << 20) - 1)     # under the cap: read whole
    t0 = time.monotonic()
    with pytest.raises(images.BuildError, match="build_timeout_sec"):
        images._context_hash([(tmp_path / "big", "/big", False)], tmp_path, time.monotonic() + 0.5)
    assert time.monotonic() - t0 < 5


# rt13a p07, p15: a runner that never started, in node's and make's words
@pytest.mark.parametrize("line", ["Could not find '/tests/app.test.js'",
                                  "make: *** /tests/suite: No such file or directory.  Stop."])
def test_a_missing_tests_path_in_node_test_or_make_c_words_is_a_runner_missing(line):
    assert harbor.runner_missing(line)
    assert not harbor.runner_missing(line.replace("/tests/", "/app/"))


# p15: fallocate takes the disk in one call, between two of the layer's walks
def test_a_build_steps_filter_refuses_fallocate_as_a_filesystem_without_it():
    def verdict(name, **kw):
        nr = seccomp.SYSCALLS[name][seccomp.ARCHES.index("x86_64")]
        return [v for first, v in seccomp.verdicts("x86_64", **kw) if first <= nr][-1]
    eopnotsupp = ((seccomp.RET, 0, 0, seccomp.RET_ERRNO(errno.EOPNOTSUPP)),)
    assert verdict("fallocate", build=True) == verdict("fallocate", agent=True, build=True) == eopnotsupp
    assert verdict("fallocate") == verdict("fallocate", agent=True) == seccomp.ALLOW   # episodes: Docker's
    assert verdict("write", build=True) == seccomp.ALLOW
    assert images.sandbox.Limits().build is False
