"""The Harbor task loader (harbor.py): task.toml checks, refused symlinks, workdir, Dockerfile parsing."""
import json
import math
import subprocess
from pathlib import Path

import pytest

from dockerfile import Config, Step, replay, stage, subst
from dockerfile import parse as parse_dockerfile
from dockerfile import workdir as dockerfile_workdir
from harbor import MAXIMA, Outcome, TaskError, load_task, load_tasks, outcome_of


def make_task(root: Path, name: str = "t", files: dict[str, str] | None = None, toml: str = "") -> Path:
    """A task directory; `files` overrides or adds files (None as a value deletes the default)."""
    path = root / name
    defaults = {"task.toml": toml or "[agent]\ntimeout_sec = 60\n", "instruction.md": "Do the thing.\n",
                "tests/test.sh": "echo 1 > /logs/verifier/reward.txt\n"}
    for rel, text in {**defaults, **(files or {})}.items():
        if text is not None:
            (path / rel).parent.mkdir(parents=True, exist_ok=True)
            (path / rel).write_text(text)
    return path


def load_error(path: Path) -> str:
    with pytest.raises(TaskError) as e:
        load_task(path)
    assert "\n" not in str(e.value)                  # every loader error is one line
    return str(e.value)


def toml_error(tmp_path, toml: str) -> str:
    return load_error(make_task(tmp_path, "x", toml=toml))


# ---- task.toml ----------------------------------------------------------------------------------------

def test_load_task_reads_the_toml(tmp_path):
    toml = ('[agent]\ntimeout_sec = 300\n[verifier]\ntimeout_sec = 30\nenv = { V = "1" }\n'
            '[environment]\ncpus = 2\nmemory = "1G"\nstorage_mb = 4096\nbuild_timeout_sec = 900\n'
            'allow_internet = true\nenv = ["A=1", "B=x=y"]\n')
    t = load_task(make_task(tmp_path, "x", toml=toml, files={"solution/solve.sh": "true\n"}))
    assert (t.name, t.instruction, t.agent_timeout, t.verifier_timeout, t.build_timeout) == \
        ("x", "Do the thing.", 300, 30, 900)
    assert (t.cpus, t.memory_mb, t.storage_mb, t.allow_internet) == (2, 1024, 4096, True)
    assert (t.workdir, t.env, t.verifier_env) == ("/app", {"A": "1", "B": "x=y"}, {"V": "1"})
    assert t.has_solution and t.dockerfile == []


def test_load_task_defaults(tmp_path):
    t = load_task(make_task(tmp_path, toml="\n"))
    assert (t.agent_timeout, t.verifier_timeout, t.build_timeout, t.cpus, t.memory_mb, t.storage_mb) == \
        (600.0, 120.0, 600.0, 1, 2048, 10240)
    assert (t.allow_internet, t.workdir, t.env, t.verifier_env, t.has_solution) == \
        (None, "/app", {}, {}, False)


@pytest.mark.parametrize("files, error", [
    ({"instruction.md": None}, "task 'x': instruction.md missing"),
    ({"tests/test.sh": None}, "task 'x': tests/test.sh missing"),
    ({"task.toml": None}, "task 'x': task.toml missing"),
    ({"task.toml": "[agent\n"}, "task 'x': task.toml is not valid TOML: Expected ']' at the end of a table"),
    ({"task.toml": "[agent]\ntimeout_sec = 'soon'\n"},
     "task 'x': [agent].timeout_sec must be a positive number, got 'soon'"),
    ({"task.toml": "agent = 5\n"}, "task 'x': [agent] must be a table, got 5"),
    ({"task.toml": "[environment]\nworkdir = 'app'\n"}, "task 'x': workdir is not an absolute path: 'app'"),
    ({"instruction.md": "  \n"}, "task 'x': instruction.md is empty"),
    ({"environment/Dockerfile": "RUN <<EOF\necho\n"},
     "task 'x': environment/Dockerfile: line 1: RUN heredoc EOF is never closed (no line 'EOF')"),
])
def test_load_task_errors_name_the_task_and_the_problem(tmp_path, files, error):
    assert load_error(make_task(tmp_path, "x", files=files)).startswith(error)


@pytest.mark.parametrize("key", MAXIMA)
def test_each_number_is_capped_at_its_maximum(tmp_path, key):
    section, field = key[1:].split("].")
    assert load_task(make_task(tmp_path, "ok", toml=f"[{section}]\n{field} = {MAXIMA[key]}\n"))
    error = toml_error(tmp_path, f"[{section}]\n{field} = {MAXIMA[key] + 1}\n")
    assert error == f"task 'x': {key} = {MAXIMA[key] + 1} is over the maximum {MAXIMA[key]}"


@pytest.mark.parametrize("value", ["0", "-1", "true", "'5'", "nan", "inf"])
def test_numbers_must_be_positive_numbers(tmp_path, value):
    error = toml_error(tmp_path, f"[environment]\ncpus = {value}\n")
    assert error.startswith("task 'x': [environment].cpus ")           # "must be positive" or "over the max"


@pytest.mark.parametrize("value, expected", [("true", True), ("false", False)])
def test_allow_internet_is_a_bool(tmp_path, value, expected):
    toml = f"[environment]\nallow_internet = {value}\n"
    assert load_task(make_task(tmp_path, toml=toml)).allow_internet is expected


@pytest.mark.parametrize("value, shown", [('"yes"', "'yes'"), ("1", "1")])
def test_allow_internet_must_be_a_bool(tmp_path, value, shown):
    assert toml_error(tmp_path, f"[environment]\nallow_internet = {value}\n") == \
        f"task 'x': [environment].allow_internet must be true or false, got {shown}"


@pytest.mark.parametrize("toml, expected", [
    ("", (None, None, None)),                            # not set: Harbor's default, on (where pasta is)
    ('[environment]\nnetwork_mode = "no-network"\n', (False, False, False)),
    ('[environment]\nallow_internet = false\nnetwork_mode = "public"\n', (True, True, True)),  # mode wins
    ('[agent]\nnetwork_mode = "no-network"\n', (None, False, None)),
    ('[environment]\nallow_internet = false\n[verifier]\nnetwork_mode = "public"\n', (False, False, True)),
    ('[agent]\nnetwork_mode = "public"\n[verifier]\nnetwork_mode = "none"\n', (None, True, False)),
])
def test_network_per_phase(tmp_path, toml, expected):
    t = load_task(make_task(tmp_path, toml=toml))
    assert (t.allow_internet, t.agent_network, t.verifier_network) == expected


@pytest.mark.parametrize("section", ["environment", "agent", "verifier"])
def test_a_network_allowlist_is_refused_in_one_line(tmp_path, section):
    toml = f'[{section}]\nnetwork_mode = "allowlist"\nallowed_hosts = ["pypi.org"]\n'
    assert toml_error(tmp_path, toml) == (
        f"task 'x': [{section}].network_mode 'allowlist' (allowed_hosts) is not supported: echo's network "
        "cannot filter hosts; use 'public' or 'no-network'")


@pytest.mark.parametrize("value, shown", [('"bridge"', "'bridge'"), ("true", "True")])
def test_network_mode_must_be_harbors(tmp_path, value, shown):
    assert toml_error(tmp_path, f"[verifier]\nnetwork_mode = {value}\n") == \
        f"task 'x': [verifier].network_mode must be 'public' or 'no-network', got {shown}"


@pytest.mark.parametrize("toml, memory_mb, storage_mb", [
    ('memory = "512M"', 512, 10240), ('memory = "1.5G"', 1536, 10240), ('memory = "2GiB"', 2048, 10240),
    ('storage = "10G"', 2048, 10240), ('storage = "20GB"', 2048, 20480),
    ('memory = "4G"\nmemory_mb = 1000', 1000, 10240),                  # memory_mb wins over memory
])
def test_memory_and_storage_size_strings(tmp_path, toml, memory_mb, storage_mb):
    t = load_task(make_task(tmp_path, toml=f"[environment]\n{toml}\n"))
    assert (t.memory_mb, t.storage_mb) == (memory_mb, storage_mb)


def test_bad_or_too_big_size_strings(tmp_path):
    assert toml_error(tmp_path, '[environment]\nmemory = "lots"\n') == \
        "task 'x': [environment].memory must look like '2G' or '512M', got 'lots'"
    assert toml_error(tmp_path, '[environment]\nstorage = "1T"\n') == \
        "task 'x': [environment].storage_mb = 1048576 is over the maximum 262144"


def test_env_tables(tmp_path):
    t = load_task(make_task(tmp_path, toml='[environment]\nenv = { A = "1", N = 2 }\n[verifier.env]\n'))
    assert (t.env, t.verifier_env) == ({"A": "1", "N": "2"}, {})
    assert toml_error(tmp_path, "[environment]\nenv = ['A']\n") == \
        "task 'x': [environment].env must be a table or a list of 'KEY=VALUE' strings, got ['A']"
    assert toml_error(tmp_path, "[verifier]\nenv = ['=1']\n") == \
        "task 'x': [verifier].env: bad variable '' (empty, or '=' or NUL in the name or value)"


def test_long_values_are_cut_in_messages(tmp_path):
    error = toml_error(tmp_path, f"[agent]\ntimeout_sec = '{'word ' * 40}'\n")
    assert error == f"task 'x': [agent].timeout_sec must be a positive number, got {repr('word ' * 12)}..."


# ---- symlinks -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("rel", ["task.toml", "instruction.md", "environment", "environment/Dockerfile",
                                 "tests", "tests/test.sh", "solution", "solution/solve.sh"])
def test_a_symlink_where_a_task_file_belongs_is_refused(tmp_path, rel):
    files = {"environment/Dockerfile": "FROM x\n", "solution/solve.sh": "true\n"}
    path = make_task(tmp_path, "x", files=files)
    host = tmp_path / "host" / rel                    # a host file or directory with the same contents
    host.parent.mkdir(parents=True, exist_ok=True)
    (path / rel).rename(host)
    (path / rel).symlink_to(host)
    assert load_error(path) == \
        f"task 'x': {rel} is a symlink (refused: it could expose host files); make it a regular file"


def test_symlinks_inside_environment_and_tests_are_allowed(tmp_path):
    path = make_task(tmp_path, files={"environment/data.txt": "d", "tests/helper.py": ""})
    (path / "environment/link").symlink_to("data.txt")
    (path / "tests/link.py").symlink_to("/etc/hostname")
    assert load_task(path).name == "t"


# ---- workdir ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("workdir, error", [
    ('"/../../../var/tmp/x"', "has a '..' component: '/../../../var/tmp/x'"),
    ('"/app/../etc"', "has a '..' component: '/app/../etc'"),
    ('"app"', "is not an absolute path: 'app'"),
    ('""', "is not an absolute path: ''"),
    ('"/app\\nrm -rf /"', "contains a NUL or a newline: '/app\\nrm -rf /'"),
    ('"/app\\u0000x"', "contains a NUL or a newline: '/app\\x00x'"),
    ("5", "is not a string: 5"),
])
def test_bad_workdirs_are_refused(tmp_path, workdir, error):
    assert toml_error(tmp_path, f"[environment]\nworkdir = {workdir}\n") == f"task 'x': workdir {error}"


@pytest.mark.parametrize("workdir, expected", [("//srv//x/", "/srv/x"), ("/", "/"), ("/a/./b", "/a/b")])
def test_workdir_is_normalised(tmp_path, workdir, expected):
    assert load_task(make_task(tmp_path, toml=f'[environment]\nworkdir = "{workdir}"\n')).workdir == expected


def test_workdir_comes_from_the_toml_then_the_last_dockerfile_workdir(tmp_path):
    dockerfile = {"environment/Dockerfile": "FROM x\nENV D=/srv\nWORKDIR $D\nWORKDIR sub/../code\n"}
    assert load_task(make_task(tmp_path, "a", files=dockerfile)).workdir == "/srv/code"
    toml = '[environment]\nworkdir = "/w"\n'
    assert load_task(make_task(tmp_path, "b", files=dockerfile, toml=toml)).workdir == "/w"


# ---- load_tasks ---------------------------------------------------------------------------------------

def test_load_tasks_sorted_and_error_when_empty(tmp_path):
    for name in ("b", "a"):
        make_task(tmp_path, name)
    (tmp_path / "not-a-task").mkdir()
    assert [t.name for t in load_tasks(tmp_path)] == ["a", "b"]
    with pytest.raises(FileNotFoundError, match="no tasks in .*: expected subdirectories with a task.toml"):
        load_tasks(tmp_path / "not-a-task")


def test_load_tasks_reports_a_bad_task_by_name_and_loads_the_rest(tmp_path, capsys):
    make_task(tmp_path, "good")
    make_task(tmp_path, "bad", files={"instruction.md": None})
    errors = []
    assert [t.name for t in load_tasks(tmp_path, errors)] == ["good"]
    assert errors == ["task 'bad': instruction.md missing"]
    assert [t.name for t in load_tasks(tmp_path)] == ["good"]
    assert capsys.readouterr().err == "task 'bad': instruction.md missing\n"


def test_a_dangling_task_toml_symlink_is_reported_not_skipped(tmp_path):
    make_task(tmp_path, "good")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad/task.toml").symlink_to(tmp_path / "nowhere")
    errors = []
    load_tasks(tmp_path, errors)
    assert errors == ["task 'bad': task.toml is a symlink (refused: it could expose host files); "
                      "make it a regular file"]


def test_load_tasks_with_no_loadable_task_says_why(tmp_path):
    make_task(tmp_path, "only", files={"tests/test.sh": None})
    with pytest.raises(FileNotFoundError) as e:
        load_tasks(tmp_path, [])
    assert str(e.value) == \
        f"no loadable tasks in {tmp_path}: 1 failed; first: task 'only': tests/test.sh missing"



# A task's files are the task author's: whatever they hold, the task is one line and the others load (rt6 p14,
# p15). The compose shapes below once escaped load_task as RuntimeError (a symlink loop, Path.resolve) and
# TypeError (`ports: 5`), and load_tasks, which catches only TaskError, stopped there.
@pytest.mark.parametrize("compose, links", [
    ("services:\n  main:\n    env_file: ./loop\n", {"loop": "loop"}),
    ("services:\n  main:\n    env_file: ./a\n", {"a": "b", "b": "a"}),
    ("services:\n  web:\n    build: ./loop\n", {"loop": "loop"}),
    ("services:\n  main:\n    volumes: ['./loop:/data']\n", {"loop": "loop"}),
    ("services:\n  web:\n    image: alpine\n    ports: 5\n", {}),
    ("services:\n  web:\n    image: alpine\n    expose: 5\n", {}),
    ("services:\n  web:\n    image: alpine\n    ports: true\n", {}),
    ("services:\n  web:\n    image: alpine\n    expose: {a: 1}\n", {}),
])
def test_an_odd_compose_file_is_one_line_and_the_other_tasks_load(tmp_path, compose, links):
    make_task(tmp_path, "good")
    bad = make_task(tmp_path, "bad", files={"environment/docker-compose.yaml": compose,
                                            "environment/Dockerfile": "FROM host\n"})
    for name, target in links.items():
        (bad / "environment" / name).symlink_to(target)
    errors = []
    assert [t.name for t in load_tasks(tmp_path, errors)] == ["good"]
    assert len(errors) == 1 and errors[0].startswith("task 'bad': ") and "\n" not in errors[0]


@pytest.mark.parametrize("error", [RuntimeError("x"), TypeError("y"), KeyError("z"), AttributeError("w")])
def test_any_exception_while_parsing_a_task_is_one_task_error_line(tmp_path, monkeypatch, error):
    import harbor
    def broken(*a, **k):
        raise error
    monkeypatch.setattr(harbor, "_harbor_features", broken)
    msg = load_error(make_task(tmp_path))
    assert msg.startswith(f"task 't': cannot be loaded: {type(error).__name__}: ")


def test_a_compose_path_through_a_link_out_of_environment_is_refused_without_resolving_it(tmp_path):
    bad = make_task(tmp_path, "x", files={"environment/docker-compose.yaml":
                                          "services:\n  main:\n    env_file: ./l/etc/hostname\n",
                                          "environment/Dockerfile": "FROM host\n"})
    (bad / "environment/l").symlink_to("/")
    assert "env_file: './l/etc/hostname' is not a path inside environment/" in load_error(bad)


def test_a_compose_path_through_a_link_inside_environment_still_loads(tmp_path):
    ok = make_task(tmp_path, "x", files={"environment/docker-compose.yaml":
                                         "services:\n  main:\n    env_file: ./cfg/.env\n",
                                         "environment/conf/real.env": "A=1\n",
                                         "environment/Dockerfile": "FROM host\n"})
    (ok / "environment/cfg").symlink_to("conf")
    (ok / "environment/conf/.env").symlink_to("real.env")
    assert load_task(ok).compose.main.env == {"A": "1"}

# ---- parse_dockerfile ---------------------------------------------------------------------------------

def test_parse_dockerfile():
    text = ("# comment\nFROM python:3.11\nRUN apt-get update && \\\n    # inline comment\n"
            "    apt-get install -y x\nrun <<EOF\necho a\necho b\nEOF\nENV A=1\n")
    assert parse_dockerfile(text) == [
        Step("FROM", "python:3.11", 2),
        Step("RUN", "apt-get update &&     apt-get install -y x", 3),    # Docker keeps the next line's indent
        Step("RUN", "echo a\necho b", 6), Step("ENV", "A=1", 10)]


def test_json_args_are_kept_as_text_and_an_unknown_instruction_names_its_line():
    assert parse_dockerfile('CMD ["bash", "-c", "x"]\n') == [Step("CMD", '["bash", "-c", "x"]', 1)]
    with pytest.raises(ValueError, match="^line 2: unknown instruction FROOB$"):
        parse_dockerfile('CMD ["bash", "-c", "x"]\nFROOB  a b\n')


@pytest.mark.parametrize("text, error", [
    ("FROM x\nFROOB x\n", "line 2: unknown instruction FROOB"),
    ("FROM a AS b\nCOPY --from=b /a /a\n", "line 2: COPY --from=b names this stage or a later one"),
    ("FROM x\nCOPY --from=1 /a /a\nFROM y\n", "line 2: COPY --from=1 names this stage or a later one"),
    ("FROM a AS b\nFROM c AS B\n", "line 2: stage name 'b' is used twice"),
    ("FROM x\nADD git@github.com:o/r.git /r\n", "line 2: ADD of a git repository is not supported (clone it "
     "in a RUN)"),
    ("FROM x\nADD --keep-git-dir=true https://e.org/r.git /r\n",
     "line 2: ADD --keep-git-dir is not supported"),
    ("FROM x\nADD ftp://e.org/f /f\n", "line 2: ADD 'ftp://e.org/f': only http and https URLs are fetched"),
    ("FROM x\nADD --checksum=sha256:12 https://e.org/f /f\n", "line 2: ADD '--checksum=sha256:12': expected "
     "--checksum=sha256:<64 hex digits>"),
    ("FROM x\nCOPY --exclude=*.pyc . /app\n", "line 2: COPY --exclude is not supported"),
    ("FROM x AS a\nFROM a\nCOPY --from=Bad:tag /a /a\n", "line 3: bad image reference 'Bad:tag' (want "
     "[host/]name[:tag][@sha256:<64 hex>])"),
    ("RUN true\nFROM x\n", "line 1: RUN before FROM (only ARG may come before FROM)"),
    ("FROM x\nSHELL bash -c\n", "line 2: SHELL 'bash -c': expected a JSON array like [\"/bin/bash\", \"-c\"]"),
])
def test_what_echo_cannot_build_is_a_load_error_naming_the_line(tmp_path, text, error):
    assert load_error(make_task(tmp_path, "x", files={"environment/Dockerfile": text})) == \
        f"task 'x': environment/Dockerfile: {error}"


def test_a_line_that_is_no_instruction_names_its_line():
    with pytest.raises(ValueError, match=r"^line 2: cannot parse 'print\(1\)'$"):
        parse_dockerfile("FROM x\nprint(1)\n")


def test_heredoc_after_a_command_is_kept_as_shell_text():
    text = "FROM x\nRUN cat > f << 'EOF'\na $HOME\nEOF\nWORKDIR /w\n"
    assert parse_dockerfile(text)[1:] == \
        [Step("RUN", "cat > f << 'EOF'\na $HOME\nEOF", 2), Step("WORKDIR", "/w", 5)]


def test_heredoc_feeding_a_program():
    assert parse_dockerfile("RUN python3 - <<'PY'\nprint(1)\nPY\n") == \
        [Step("RUN", "python3 - <<'PY'\nprint(1)\nPY", 1)]


def test_several_heredocs_on_one_line_take_their_bodies_in_order():
    text = "RUN cat <<A > a && cat <<B > b\n1\nA\n2\nB\n"
    assert parse_dockerfile(text) == [Step("RUN", "cat <<A > a && cat <<B > b\n1\nA\n2\nB", 1)]


def test_heredoc_after_a_continuation():
    text = "RUN mkdir -p d && \\\n    cat > d/f <<EOF\nx\nEOF\n"
    assert parse_dockerfile(text) == [Step("RUN", "mkdir -p d &&     cat > d/f <<EOF\nx\nEOF", 1)]


def test_dash_heredoc_keeps_tabs_for_the_shell_and_ends_on_a_tabbed_terminator():
    text = "RUN cat <<-EOF > f\n\tx\n\tEOF\nRUN <<-EOF\n\techo y\n\tEOF\n"
    assert parse_dockerfile(text) == [Step("RUN", "cat <<-EOF > f\n\tx\nEOF", 1), Step("RUN", "echo y", 4)]


def test_heredoc_shell_text_runs_under_sh(tmp_path):
    text = "RUN cat <<A > a && cat <<-'B' > b\n$HOME\nA\n\t$HOME\n\tB\n"
    shell = parse_dockerfile(text)[0].args
    subprocess.run(["/bin/sh", "-c", shell], cwd=tmp_path, env={"HOME": "/h"}, check=True)
    assert ((tmp_path / "a").read_text(), (tmp_path / "b").read_text()) == ("/h\n", "$HOME\n")


@pytest.mark.parametrize("line", ['RUN echo "a << b"', "RUN cat <<< word", "RUN echo $((1 << 3))",
                                  "ENV X <<EOF"])
def test_things_that_look_like_heredocs_are_not(line):
    assert parse_dockerfile(line + "\nWORKDIR /w\n") == \
        [Step(*line.split(" ", 1), 1), Step("WORKDIR", "/w", 2)]


def test_copy_heredoc_becomes_a_file_step():
    text = 'COPY --chmod=755 <<EOF /usr/local/bin/hi\necho "$X"\nEOF\nCOPY <<\'A\' <<B /etc/\na\nA\nb\nB\n'
    steps = parse_dockerfile(text)
    assert [(s.instr, s.line, json.loads(s.args)) for s in steps] == [
        ("COPY_HEREDOC", 1, {"dest": "/usr/local/bin/hi", "body": 'echo "$X"\n', "expand": True,
                             "flags": ["--chmod=755"]}),
        ("COPY_HEREDOC", 4, {"dest": "/etc/A", "body": "a\n", "expand": False, "flags": []}),
        ("COPY_HEREDOC", 4, {"dest": "/etc/B", "body": "b\n", "expand": True, "flags": []})]


def test_unclosed_heredoc_names_its_line():
    with pytest.raises(ValueError, match=r"^line 2: RUN heredoc PY is never closed \(no line 'PY'\)$"):
        parse_dockerfile("FROM x\nRUN python3 <<PY\nprint(1)\n PY\n")


# ---- ENV / ARG / WORKDIR replay -----------------------------------------------------------------------

def test_subst_forms():
    assert subst("$A-${A}-${B:-dflt}-${A:-dflt}-$NONE.", {"A": "1"}) == "1-1-dflt-1-."
    assert subst("${A:+alt}|${B:+alt}|${E:-d}|${E:+alt}", {"A": "1", "E": ""}) == "alt||d|"
    assert subst("${B:-$A/x}", {"A": "1"}) == "1/x"


def test_replay_env_arg_workdir_shell_and_user():
    text = ('ARG V\nARG W=2\nENV K one two\nENV A=1 B="a b" C=$W\nWORKDIR /x\nWORKDIR ${A}y\n'
            'SHELL ["/bin/bash", "-c"]\nUSER $A\n')
    config = Config(env={"HOME": "/root"})
    for step in parse_dockerfile(text):
        config = replay(config, step)
    assert (config.env, config.args) == ({"HOME": "/root", "K": "one two", "A": "1", "B": "a b", "C": "2"},
                                         {"V": "", "W": "2"})
    assert (config.workdir, config.shell, config.user) == ("/x/1y", ["/bin/bash", "-c"], "1")


def test_home_is_not_in_scope_at_build_time_as_in_docker():
    assert dockerfile_workdir(parse_dockerfile("FROM x\nWORKDIR $HOME/w\n")) == "/w"
    assert dockerfile_workdir(parse_dockerfile("FROM x\nENV HOME=/home/a\nWORKDIR $HOME/w\n")) == "/home/a/w"
    assert dockerfile_workdir(parse_dockerfile("FROM x\nRUN true\n")) is None


def test_an_arg_before_from_is_a_build_argument_of_from_and_of_a_bare_arg_after_it():
    steps = parse_dockerfile("ARG TAG=3.11\nARG D=/d\nFROM python:${TAG}-slim\nARG D\nWORKDIR $D/$TAG\n")
    ref, build_args, body = stage(steps)
    assert (ref, build_args, [s.line for s in body]) == ("python:3.11-slim", {"TAG": "3.11", "D": "/d"}, [4, 5])
    assert dockerfile_workdir(steps) == "/d"      # TAG is not redeclared after FROM: empty there


def test_replay_refuses_a_nameless_env():
    with pytest.raises(ValueError, match="^line 1: ENV ''"):
        replay(Config(), Step("ENV", "", 1))


def test_caps_are_sane_numbers():
    assert all(isinstance(v, int) and v > 0 and math.isfinite(v) for v in MAXIMA.values())


def test_a_dockerfile_env_with_an_open_quote_names_its_line(tmp_path):
    error = load_error(make_task(tmp_path, "x", files={"environment/Dockerfile": 'FROM x\nENV A="b\n'}))
    assert error == "task 'x': environment/Dockerfile: line 2: No closing quotation in 'A=\"b'"


def test_a_file_that_is_not_utf8_is_one_line_error(tmp_path):
    path = make_task(tmp_path, "x", files={"environment/Dockerfile": ""})
    (path / "environment/Dockerfile").write_bytes(b"FROM \xff\n")
    assert load_error(path).startswith("task 'x': environment/Dockerfile unreadable: 'utf-8' codec")


# ---- Harbor keys echo does not run ----------------------------------------------------------------------

@pytest.mark.parametrize("toml, error", [
    ('[environment]\ngpus = 1\n', "[environment].gpus = 1 is not supported: sandboxes get no GPU"),
    ('[environment]\nos = "windows"\n', "[environment].os = 'windows' is not supported: only Linux"),
    # a separate verifier runs (test_harbor_verifier.py) from its own image, which needs tests/Dockerfile
    ('[verifier]\nenvironment_mode = "separate"\n', "the separate verifier's image needs tests/Dockerfile"),
    ('[verifier.environment]\ncpus = 1\n', "the separate verifier's image needs tests/Dockerfile"),
    ('[[steps]]\nname = "one"\n', "steps = [1 entries] is not supported: multi-step tasks"),
])
def test_a_harbor_feature_echo_does_not_run_is_refused_in_one_line(tmp_path, toml, error):
    assert error in toml_error(tmp_path, toml)


@pytest.mark.parametrize("toml", ['[environment]\ngpus = 0\nos = "linux"\nmcp_servers = []\n',
                                  '[verifier]\nenvironment_mode = "shared"\n'])
def test_harbors_defaults_for_those_keys_load(tmp_path, toml):
    load_task(make_task(tmp_path, toml=toml))


def test_a_multi_step_task_is_refused_for_its_steps_not_its_missing_instruction(tmp_path):
    path = make_task(tmp_path, toml='[[steps]]\nname = "one"\n', files={"instruction.md": None})
    assert "multi-step" in load_error(path)


def test_a_key_harbor_does_not_have_is_said_once_and_the_task_loads(tmp_path, capsys):
    t = load_task(make_task(tmp_path, "typo", toml='[agent]\ntimeout = 30\n[metadata]\nanything = 1\n'))
    assert t.agent_timeout == 600                    # Harbor ignores the typo too: its default applies
    err = capsys.readouterr().err
    assert "'typo': [agent].timeout not a Harbor task.toml key; ignored" in err and "metadata" not in err


def test_mcp_servers_load_and_are_said_once_not_connected(tmp_path, capsys):
    # Harbor hands them to an agent that takes MCP tools; echo's types bash: the task runs as Harbor runs
    # it for such an agent, and the user is told
    load_task(make_task(tmp_path, "mcp", toml='[[environment.mcp_servers]]\nname = "m"\n'
                                               'transport = "streamable-http"\nurl = "http://m:8000/mcp"\n'))
    assert "'mcp': [environment].mcp_servers not connected" in capsys.readouterr().err


def test_solution_env_is_read(tmp_path):
    t = load_task(make_task(tmp_path, toml='[solution]\nenv = { TOKEN = "a b", "X-Y" = "1" }\n'))
    assert t.solution_env == {"TOKEN": "a b", "X-Y": "1"}


@pytest.mark.parametrize("toml, where", [
    ("[environment.env]\n" + "".join(f'K{i} = "{"x" * 100}"\n' for i in range(9000)), "[environment].env"),
    ("[verifier.env]\nBIG = '" + "x" * 200_000 + "'\n", "[verifier].env"),          # one string over 128 KiB
    ("[solution]\nenv = ['" + "A=" + "y" * 70_000 + "']\n", "[solution].env"),
])
def test_an_environment_exec_would_refuse_is_the_tasks_fault_at_load(tmp_path, toml, where):
    # Before: loaded, then every start failed with E2BIG, counted as the machine's failure and retried.
    error = toml_error(tmp_path, toml)
    assert error.startswith(f"task 'x': {where}: ") and "over 65536" in error and "E2BIG" in error
    assert len(error) < 300


def test_an_environment_under_the_cap_loads(tmp_path):
    t = load_task(make_task(tmp_path, toml="[environment.env]\nA = '" + "x" * 60_000 + "'\n"))
    assert len(t.env["A"]) == 60_000


# ---- a substituted value has a length cap (CONTAINMENT.md: a bad task is one line, fast) ----------

def _load_capped(task: Path) -> tuple[str, float]:
    """load_task in a child under a 2 GiB address space (the uncapped growth would take the host's RAM):
    (its one-line error or "loaded", seconds it took)."""
    code = ("import json, sys, time; from harbor import load_task, TaskError\nt = time.monotonic()\n"
            "try:\n    load_task(sys.argv[1]); out = 'loaded'\n"
            "except (TaskError, MemoryError) as e:\n    out = f'{type(e).__name__}: {e}'\n"
            "print(json.dumps([out, time.monotonic() - t]))\n")
    import resource, sys
    r = subprocess.run([sys.executable, "-c", code, str(task)], capture_output=True, text=True, timeout=60,
                       cwd=Path(__file__).parent.parent,
                       preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30)))
    assert r.returncode == 0, r.stderr[-500:]
    out, seconds = json.loads(r.stdout)
    return out, seconds


BOMBS = {   # each grows a value exponentially from a few hundred bytes of Dockerfile
    "ARG doubling (the red team's)": "ARG A0=xxxxxxxxxxxxxxxx\n" + "".join(
        f"ARG A{i}=${{A{i - 1}}}${{A{i - 1}}}\n" for i in range(1, 41)) + "WORKDIR /app/${A40}\n",
    "ENV x8 through a default": "ENV B0=xxxxxxxx\n" + "".join(
        f"ENV B{i}=${{NONE:-$B{i - 1}$B{i - 1}$B{i - 1}$B{i - 1}$B{i - 1}$B{i - 1}$B{i - 1}$B{i - 1}}}\n"
        for i in range(1, 14)) + "RUN true\n",
    # linear, not exponential: one value just under any single cap, referenced by many keys of one line
    "many keys of one large value": "ARG C0=xxxxxxxxxxxxxxxx\n" + "".join(
        f"ARG C{i}=$C{i - 1}$C{i - 1}\n" for i in range(1, 16)) + "ENV " + " ".join(
        f"K{i}=$C15" for i in range(20_000)) + "\n",
}


@pytest.mark.parametrize("bomb", BOMBS)
def test_a_growing_substitution_is_one_line_error_in_seconds(tmp_path, bomb):
    task = make_task(tmp_path, files={"environment/Dockerfile": "FROM debian:bookworm\n" + BOMBS[bomb]})
    out, seconds = _load_capped(task)
    assert out.startswith("TaskError: ") and "over 1 MiB" in out and "\n" not in out, out
    assert seconds < 5, seconds        # a stall bound, not a speed test: uncapped takes minutes or all RAM


def test_a_compose_file_that_repeats_a_large_variable_is_one_line_error_in_seconds(tmp_path):
    # linear: 300,000 references in a 600 KB file to one 60 KB variable of task.toml would be 18 GB
    toml = '[agent]\ntimeout_sec = 60\n[environment.env]\nA = "' + "x" * 60_000 + '"\n'
    text = "services:\n  main:\n    environment:\n      B: " + "$A" * 300_000 + "\n"
    task = make_task(tmp_path, toml=toml, files={"environment/Dockerfile": "FROM host\nWORKDIR /app\n",
                                                 "environment/docker-compose.yaml": text})
    out, seconds = _load_capped(task)
    assert out.startswith("TaskError: ") and "over 1 MiB" in out and "\n" not in out, out
    assert seconds < 5, seconds        # a stall bound, not a speed test: uncapped takes minutes or all RAM


@pytest.mark.parametrize("workdir, error", [
    ("/" + "a" * 256, "has a component over 255 bytes: '/" + "a" * 59 + "'..."),
    ("/" + "/".join(["b" * 200] * 21), "is over 4095 bytes: '/" + "b" * 59 + "'..."),
    ("/proc/sys/x", "is under /proc, /sys or /dev: '/proc/sys/x'"),
    ("/sys", "is under /proc, /sys or /dev: '/sys'"),
    ("//dev/./x", "is under /proc, /sys or /dev: '//dev/./x'"),
])
def test_a_workdir_pid_1_cannot_make_is_refused_at_load(tmp_path, workdir, error):
    # rt8 p05: each failed the sandbox's start, booked as the machine's (retried, counted to stop the run)
    assert toml_error(tmp_path, f'[environment]\nworkdir = "{workdir}"\n') == f"task 'x': workdir {error}"
    with pytest.raises(TaskError) as e:
        load_task(tmp_path / "x")
    assert outcome_of(e.value) == Outcome.SETUP_TASK           # the task's failure, not the machine's
    longest = "/" + "c" * 255                                     # NAME_MAX itself is fine
    toml = f'[environment]\nworkdir = "{longest}"\n'
    assert load_task(make_task(tmp_path, "y", toml=toml)).workdir == longest
