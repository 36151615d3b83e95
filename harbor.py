"""The Harbor / Terminal-Bench 2 task format (METHOD.md §8): tasks loaded and checked, episodes started
on their built environment (images.py, sandbox.py), and the verifier.

    task/task.toml                 [agent] [verifier] [environment]: timeouts, resources, env, workdir
    task/instruction.md            the prompt
    task/environment/Dockerfile    (+ its build context) the episode's environment, parsed into Steps
    task/tests/test.sh             the verifier: writes /logs/verifier/reward.txt or reward.json
    task/solution/solve.sh         the oracle (optional)

Every loader error is a TaskError, and every setup error a SetupError, with a one-line message starting
`task '<name>': `, so a run over thousands of tasks reports each bad one as one line and goes on.
"""
from __future__ import annotations

import json
import math
import os
import re
import shlex
import sys
import time
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

import images
import sandbox
from errors import ConfigError, EchoError, MissingError

# Caps on task.toml numbers: a typo like timeout_sec = 60000000 should fail at load, not hang a run.
MAXIMA = {"[agent].timeout_sec": 86400, "[verifier].timeout_sec": 7200,
          "[environment].build_timeout_sec": 7200, "[environment].cpus": 256,
          "[environment].memory_mb": 65536, "[environment].storage_mb": 262144}
# A symlink at one of these would copy a host file (~/.ssh/id_rsa) into an episode or a prompt. Links
# *inside* environment/ and tests/ are fine: the copier copies them as links.
NO_SYMLINKS = ("task.toml", "instruction.md", "environment", "environment/Dockerfile", "tests",
               "tests/test.sh", "solution", "solution/solve.sh")


class TaskError(ConfigError):
    """A task that cannot be loaded; the message is one line starting `task '<name>': `."""


@dataclass
class Step:
    instr: str          # upper case: RUN, COPY, ENV, ... or COPY_HEREDOC (see parse_dockerfile)
    args: str
    line: int           # 1-based Dockerfile line where the instruction starts


@dataclass
class Task:
    name: str
    path: Path
    instruction: str
    agent_timeout: float               # [agent].timeout_sec: the episode wall clock
    verifier_timeout: float            # [verifier].timeout_sec
    build_timeout: float               # [environment].build_timeout_sec
    cpus: float
    memory_mb: int                     # [environment].memory_mb, or memory = "2G"
    storage_mb: int                    # [environment].storage_mb, or storage = "10G"
    allow_internet: bool
    workdir: str                       # absolute, normalised, no '..'
    env: dict[str, str]                # [environment].env; the Dockerfile's ENV is the builder's to add
    verifier_env: dict[str, str]       # [verifier].env
    dockerfile: list[Step]             # [] without environment/Dockerfile
    has_solution: bool


def _show(value) -> str:
    """A value for a one-line message: repr escapes newlines, a long value is cut with '...'."""
    if isinstance(value, str):
        return repr(value[:60]) + ("..." if len(value) > 60 else "")
    r = repr(value)
    return r if len(r) <= 80 else r[:80].rsplit(" ", 1)[0] + " ..."


def load_task(path) -> Task:
    path = Path(path)
    def fail(msg: str) -> TaskError:
        return TaskError(f"task '{path.name}': {msg}")
    def need(rel: str) -> Path:
        if not (path / rel).is_file():
            raise fail(f"{rel} missing")
        return path / rel
    def read(rel: str) -> str:
        try:
            return need(rel).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise fail(f"{rel} unreadable: {e}") from None

    if not path.is_dir():
        raise fail(f"{path} is not a directory")
    for rel in NO_SYMLINKS:
        if (path / rel).is_symlink():
            raise fail(f"{rel} is a symlink (refused: it could expose host files); make it a regular file")
    try:
        conf = tomllib.loads(read("task.toml"))
    except tomllib.TOMLDecodeError as e:
        raise fail(f"task.toml is not valid TOML: {str(e).splitlines()[0]}") from None
    instruction = read("instruction.md").strip()
    if not instruction:
        raise fail("instruction.md is empty")
    need("tests/test.sh")
    for section in ("agent", "verifier", "environment"):
        if not isinstance(conf.setdefault(section, {}), dict):
            raise fail(f"[{section}] must be a table, got {_show(conf[section])}")
    environ = conf["environment"]
    for size in ("memory", "storage"):           # Harbor also writes memory = "2G", storage = "10G"
        if size in environ and f"{size}_mb" not in environ:
            environ[f"{size}_mb"] = _megabytes(environ[size], f"[environment].{size}", fail)
    internet = environ.get("allow_internet", False)
    if not isinstance(internet, bool):
        raise fail(f"[environment].allow_internet must be true or false, got {_show(internet)}")
    if "network_mode" in environ:              # newer Harbor schemas: "public" or "no-network"
        mode = environ["network_mode"]
        if mode not in ("public", "no-network", "none"):
            raise fail(f"[environment].network_mode must be 'public' or 'no-network', got {_show(mode)}")
        internet = mode == "public"

    def number(key: str, default: float) -> float:
        section, field = key[1:].split("].")
        v = conf[section].get(field, default)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:    # `not >`: NaN fails too
            raise fail(f"{key} must be a positive number, got {_show(v)}")
        if not v <= MAXIMA[key]:
            raise fail(f"{key} = {v:.15g} is over the maximum {MAXIMA[key]}")
        return v

    dockerfile, docker_workdir = [], None
    if (path / "environment/Dockerfile").is_file():
        text = read("environment/Dockerfile")
        try:
            dockerfile = parse_dockerfile(text)
            docker_workdir = _simulate(dockerfile, {})[1]
        except ValueError as e:
            raise fail(f"environment/Dockerfile: {e}") from None
    workdir = environ["workdir"] if "workdir" in environ else docker_workdir or "/app"
    return Task(name=path.name, path=path, instruction=instruction,
                agent_timeout=float(number("[agent].timeout_sec", 600)),
                verifier_timeout=float(number("[verifier].timeout_sec", 120)),
                build_timeout=float(number("[environment].build_timeout_sec", 600)),
                cpus=number("[environment].cpus", 1),
                memory_mb=math.ceil(number("[environment].memory_mb", 2048)),
                storage_mb=math.ceil(number("[environment].storage_mb", 10240)),
                allow_internet=internet, workdir=_workdir(workdir, fail),
                env=_env_table(environ.get("env", {}), "[environment].env", fail),
                verifier_env=_env_table(conf["verifier"].get("env", {}), "[verifier].env", fail),
                dockerfile=dockerfile, has_solution=(path / "solution/solve.sh").is_file())


def _megabytes(value, key: str, fail) -> float:
    """Harbor's size strings, '2G', '512M', '1.5GiB', '10GB', in MB (binary units, as Docker's)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT])i?B?\s*", value, re.I) if isinstance(value, str) else None
    if not m:
        raise fail(f"{key} must look like '2G' or '512M', got {_show(value)}")
    return float(m[1]) * {"K": 1 / 1024, "M": 1, "G": 1024, "T": 1024 ** 2}[m[2].upper()]


def _workdir(value, fail) -> str:
    """Absolute, no '..' (the sandbox mounts it under its own root), normalised: '//a/b/' -> '/a/b'."""
    problem = ("is not a string" if not isinstance(value, str) else
               "contains a NUL or a newline" if re.search(r"[\0\n\r]", value) else
               "is not an absolute path" if not value.startswith("/") else
               "has a '..' component" if ".." in value.split("/") else None)
    if problem:
        raise fail(f"workdir {problem}: {_show(value)}")
    return "/" + os.path.normpath(value).lstrip("/")      # normpath keeps a leading '//'; '/' stays '/'


def _env_table(value, where: str, fail) -> dict[str, str]:
    """A TOML table {K = "V"} or a list ["K=V", ...] as a dict of strings."""
    if isinstance(value, list) and all(isinstance(x, str) and "=" in x for x in value):
        value = dict(x.split("=", 1) for x in value)
    if not isinstance(value, dict) or any(isinstance(v, (dict, list)) for v in value.values()):
        raise fail(f"{where} must be a table or a list of 'KEY=VALUE' strings, got {_show(value)}")
    env = {str(k): str(v) for k, v in value.items()}
    for k, v in env.items():
        if not re.fullmatch(r"[^=\0]+", k) or "\0" in v:      # exec would refuse these, mid-episode
            raise fail(f"{where}: bad variable {_show(k)} (empty, or '=' or NUL in the name or value)")
    return env


def load_tasks(root, errors: list[str] | None = None) -> list[Task]:
    """Every subdirectory of root with a task.toml, by name. A bad task is reported as one line, in `errors`
    if given, else on stderr, and the rest still load. No loadable task at all is a FileNotFoundError."""
    root = Path(root)
    dirs = sorted((d for d in root.iterdir() if d.is_dir() and os.path.lexists(d / "task.toml")),
                  key=lambda d: d.name) if root.is_dir() else []
    if not dirs:
        raise MissingError(f"no tasks in {root}: expected subdirectories with a task.toml")
    tasks, failed = [], []
    for d in dirs:
        try:
            tasks.append(load_task(d))
        except TaskError as e:
            failed.append(str(e))
            if errors is not None:
                errors.append(str(e))
            else:
                print(e, file=sys.stderr)
    if not tasks:
        raise MissingError(f"no loadable tasks in {root}: {len(dirs)} failed; first: {failed[0]}")
    return tasks


# ---- Dockerfile -----------------------------------------------------------------------------------------

# A BuildKit heredoc marker (group 3 is its name): <<EOF, <<-EOF, << 'EOF', <<"EOF". Escapes, quoted
# strings and $((...)) are matched first, so a `<<` inside them is not taken for a marker.
HEREDOC = re.compile(r"""\\.|'[^']*'|"(?:\\.|[^"\\])*"|\$\(\([^)]*\)\)"""
                     r"""|(?<!<)<<(-?)[ \t]*(["']?)([A-Za-z_]\w*)\2""")


def parse_dockerfile(text: str) -> list[Step]:
    """Steps as Docker parses them: comments dropped; `\\` continuations joined as Docker does (the next line
    appended as is; comment and blank lines inside dropped); instructions upper-cased; args as text (JSON form
    too). Heredocs in RUN, COPY and ADD, their bodies following the instruction in marker order:
        RUN <<EOF                   the body alone is the script (<<- tabs stripped);
        RUN cat <<A > a && ... <<B  the shell text `line\\n<body A>A\\n<body B>B`, as BuildKit runs it;
        COPY [--flags] <<EOF dest   Step("COPY_HEREDOC", JSON {"dest", "body", "expand", "flags"}), one per
                                    heredoc: dest is dest/EOF if dest ends in '/' or there are several
                                    sources; expand is true if $VARs in the body are to be substituted.
    Unknown instruction words parse fine: the builder decides what it supports. Raises ValueError."""
    steps, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        start, line, i = i + 1, lines[i].strip(), i + 1
        if not line or line.startswith("#"):
            continue
        while line.rstrip().endswith("\\"):
            line = line.rstrip()[:-1]
            while i < len(lines) and (not lines[i].strip() or lines[i].lstrip().startswith("#")):
                i += 1
            if i < len(lines):
                line, i = line + lines[i], i + 1
        word, args = (re.split(r"\s+", line, maxsplit=1) + [""])[:2]
        instr, args = word.upper(), args.strip()
        if not re.fullmatch(r"[A-Z]+", instr):
            raise ValueError(f"line {start}: cannot parse {_show(line)}")
        marks = [m for m in HEREDOC.finditer(args) if m[3]] if instr in ("RUN", "COPY", "ADD") else []
        bodies = []
        for m in marks:
            body = []
            while i < len(lines) and (lines[i].lstrip("\t") if m[1] else lines[i]).rstrip() != m[3]:
                body.append(lines[i] + "\n")
                i += 1
            if i == len(lines):
                raise ValueError(f"line {start}: {instr} heredoc {m[3]} is never closed (no line {m[3]!r})")
            bodies.append("".join(body))
            i += 1
        if not marks:
            steps.append(Step(instr, args, start))
        elif instr != "RUN":
            steps += _copy_heredoc(instr, args, marks, bodies, start)
        elif len(marks) == 1 and args == marks[0][0]:
            steps.append(Step("RUN", _chomp(bodies[0], marks[0][1]).rstrip("\n"), start))
        else:
            steps.append(Step("RUN", args + "".join(f"\n{b}{m[3]}" for m, b in zip(marks, bodies)), start))
    return steps


def _chomp(body: str, dash: str) -> str:
    """<<-EOF strips the body's leading tabs."""
    return re.sub(r"(?m)^\t+", "", body) if dash else body


def _split(args: str, line: int) -> list[str]:
    try:
        return shlex.split(args)
    except ValueError as e:                      # "No closing quotation"
        raise ValueError(f"line {line}: {e} in {_show(args)}") from None


def _copy_heredoc(instr: str, args: str, marks, bodies, line: int) -> list[Step]:
    """COPY <<EOF dest: one COPY_HEREDOC step per heredoc, then a plain step for any file sources left."""
    words = _split(HEREDOC.sub(lambda m: "" if m[3] else m[0], args), line)
    flags, rest = [w for w in words if w.startswith("--")], [w for w in words if not w.startswith("--")]
    if not rest:
        raise ValueError(f"line {line}: {instr} <<{marks[0][3]} needs a destination")
    *sources, dest = rest
    into_dir = dest.endswith("/") or len(marks) + len(sources) > 1
    steps = [Step("COPY_HEREDOC", json.dumps({"dest": dest.rstrip("/") + "/" + m[3] if into_dir else dest,
                                              "body": _chomp(b, m[1]), "expand": not m[2], "flags": flags}),
                  line) for m, b in zip(marks, bodies)]
    return steps + ([Step(instr, shlex.join(flags + sources + [dest]), line)] if sources else [])


def _simulate(steps: list[Step], env: dict[str, str]) -> tuple[dict[str, str], str | None, dict[str, str]]:
    """Replay ENV, ARG and WORKDIR only: (env plus the ENV values, the final WORKDIR or None, the ARG values).
    `env` is the base environment $VARs come from (the builder passes its own, for $HOME and $PATH)."""
    env, args, workdir = dict(env), {}, None
    for s in steps:
        scope = {**args, **env}                  # ENV wins over an ARG of the same name, as in Docker
        if s.instr == "WORKDIR":
            workdir = os.path.normpath(os.path.join(workdir or "/", images.subst(s.args, scope)))
        elif s.instr in ("ENV", "ARG"):
            words = _split(s.args, s.line)
            if not words or "=" in words[0] and not all("=" in w for w in words):
                raise ValueError(f"line {s.line}: {s.instr} {_show(s.args)}: expected K V, K=V ... or K")
            if "=" in words[0]:
                pairs = [w.split("=", 1) for w in words]
            else:                                # ENV K some value;  ARG K (no default: stays unset)
                pairs = [(words[0], " ".join(words[1:]))] if s.instr == "ENV" else [(words[0], None)]
            for k, v in pairs:
                if v is not None:
                    (env if s.instr == "ENV" else args)[k] = images.subst(v, scope)
    return env, workdir, args


# ---- environments and episodes: the loaded task, built (images.py) and run (sandbox.py) -----------------

class SetupError(EchoError, RuntimeError):
    """A task's environment could not be built or started; one line naming the task. `infrastructure`:
    the machine failed (the sandbox did not start), not the task (its build failed): worth one retry."""

    def __init__(self, message: str, infrastructure: bool = False):
        super().__init__(message)
        self.infrastructure = infrastructure


class VerifierError(EchoError, RuntimeError):
    """The verifier itself could not run (its test runner is missing, say): not a reward of 0."""


_built: dict[tuple, object] = {}
# Settings for every episode of the process, from echo.py / eval.py flags: an image store directory
# (--images), and the trainer's switch that forces episode network off whatever the task allows.
IMAGES: Path | None = None
INTERNET = True


def build_task(task: Task, store: Path | None = None, log=print):
    """The task's environment up to `ARG TASK_SEED`: its base image with the Dockerfile's steps built into
    cached layers (images.py). Remembered per process: later episodes only look it up."""
    key = (task.path, store)
    if key in _built:
        return _built[key]
    steps = [s for s in task.dockerfile if s.instr != "FROM"]
    froms = [s for s in task.dockerfile if s.instr == "FROM"]
    if len(froms) > 1:
        raise images.BuildError(f"line {froms[1].line}: multi-stage builds (a second FROM) are not supported")
    words = [w for w in (froms[0].args.split() if froms else ["host"]) if not w.startswith("--")]
    image = images.resolve(words[0], store, log)
    state = images.start_state(image)
    if image.rootfs is not None:               # on the host's directories nothing can be cached
        state = images.build(_cached_steps(steps), state, task.path / "environment", task.build_timeout,
                             _limits(task, sandbox.Limits()), log)
    _built[key] = state
    return state


def _cached_steps(steps: list[Step]) -> list[Step]:
    """The steps before `ARG TASK_SEED`: those after it make a task instance and run in every episode."""
    for i, s in enumerate(steps):
        if s.instr == "ARG" and s.args.split("=")[0].strip() == "TASK_SEED":
            return steps[:i]
    return steps


def _limits(task: Task, limits):
    return replace(limits, episode_timeout=min(limits.episode_timeout, task.agent_timeout),
                   memory_mb=task.memory_mb, storage_mb=task.storage_mb, cpus=task.cpus)


def start_task(task: Task, seed: int = 0, limits=None, store: Path | None = None,
               internet: bool | None = None, log=print):
    """An entered Sandbox with the task's environment: the cached build below a fresh writable layer, the
    seeded steps run with TASK_SEED, the shell in the workdir and the episode clock just started.
    Network only if the task allows it and `internet` (the trainer's switch) does too."""
    limits = _limits(task, limits or sandbox.Limits())
    store = store or IMAGES
    internet = INTERNET if internet is None else internet
    try:
        state = build_task(task, store, log)
        host = state.image.rootfs is None
        steps = [s for s in task.dockerfile if s.instr != "FROM"]
        seeded = steps if host else steps[len(_cached_steps(steps)):]
        if host:
            state = images.start_state(state.image)
        context = task.path / "environment"
        plan = []                              # (step, the state it runs in); the last has every ENV
        for step in seeded:
            state = images.advance(state, step, context)
            plan.append((step, state))
        sb = sandbox.Sandbox(task.workdir, env={**state.env, **task.env}, limits=limits,
                             layers=None if host else state.layers, network=task.allow_internet and internet,
                             hide=[task.path])
        sb.__enter__()
    except (images.BuildError, sandbox.SandboxError, OSError) as e:
        raise SetupError(f"task '{task.name}': {e}",
                         infrastructure=not isinstance(e, images.BuildError)) from None
    try:
        if not task.dockerfile and context.is_dir():
            sb.copy_in(context, task.workdir)
        for step, step_state in plan:
            images.run_step(sb, step, step_state, context, seed=seed, timeout=task.build_timeout)
        sb._run(f"mkdir -p {shlex.quote(task.workdir)}; cd {shlex.quote(task.workdir)}", 10)
        sb._t0 = time.monotonic()              # the episode clock starts when the agent does
        return sb
    except (images.BuildError, sandbox.SandboxError, OSError) as e:
        sb.close()
        raise SetupError(f"task '{task.name}': {e}",
                         infrastructure=not isinstance(e, images.BuildError)) from None
    except BaseException:
        sb.close()
        raise


def run_solution(sb, task: Task):
    """The oracle: copy solution/ to /solution and run solve.sh in the workdir (without TASK_SEED)."""
    if not task.has_solution:
        raise FileNotFoundError(f"task '{task.name}': solution/solve.sh missing")
    sb.copy_in(task.path / "solution", "/solution")
    return sb._run(f"cd {shlex.quote(task.workdir)} && bash /solution/solve.sh", task.agent_timeout)


def verify(sb, task: Task, seed: int = 0) -> tuple[float, str]:
    """(reward, reason): run tests/test.sh in the episode's container, as Harbor does, and read
    /logs/verifier/reward.json or reward.txt. Reason is "" on a clean read; a missing or garbled reward or
    a timeout is reward 0 with the reason. A test runner that cannot run raises VerifierError."""
    # Every process the agent started dies first, nested namespaces included, and the verifier gets a
    # fresh shell: nothing of the agent's can race it or leave variables (PATH, LD_PRELOAD) behind.
    sb.restart_shell()
    r = sb._run("rm -rf /tests /logs/verifier && mkdir -p /tests /logs/verifier", 30)
    if r.exit_code:
        raise VerifierError(f"cannot prepare /tests and /logs/verifier: {' '.join(r.output.split())[-200:]}")
    sb.copy_in(task.path / "tests", "/tests")
    env = {**task.verifier_env, "TASK_SEED": str(seed), "PYTHONNOUSERSITE": "1"}
    assign = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    # A fresh bash that pid 1 starts and waits for (Sandbox.run_fresh): its end and exit status cannot be
    # forged by anything the agent left or wrote; `exec` so that test.sh's own death is what pid 1 sees.
    r = sb.run_fresh(f"cd {shlex.quote(task.workdir)}; exec env {assign} bash /tests/test.sh",
                     task.verifier_timeout)
    if r.timed_out:
        return 0.0, f"verifier timed out after {task.verifier_timeout:g} s"
    if r.signal:                               # killed before it could finish: there is no reward to read
        raise VerifierError(f"task '{task.name}': test.sh was killed by signal {r.signal}")
    # A command test.sh itself cannot run (bash names the script: "/tests/test.sh: line 3: pytest: command
    # not found") means the verifier is broken, whatever reward it then wrote.
    lines = r.output.strip().splitlines()
    broken = [l for l in lines if re.match(r"/tests/test\.sh: line \d+: .*(command not found|No such file"
                                           r" or directory|Permission denied)$", l)]
    if broken or r.exit_code in (126, 127):
        why = (broken or lines or ["(no output)"])[-1]
        raise VerifierError(f"task '{task.name}': test.sh exit {r.exit_code}: {why.strip()[:200]}")
    tail = f" (test.sh exit {r.exit_code}: {' '.join(r.output.split())[-200:]!r})"
    for name in ("reward.json", "reward.txt"):
        text = sb.read_file(f"/logs/verifier/{name}")
        if text is None:
            continue
        if not text.strip():
            return 0.0, f"{name} empty" + tail
        try:
            value = json.loads(text)["reward"] if name == "reward.json" else float(text.strip())
            reward = float(value)
            if not math.isfinite(reward):
                raise ValueError
        except (ValueError, KeyError, TypeError):
            return 0.0, f"{name} garbled: {text.strip()[:80]!r}" + tail
        return reward, ""
    return 0.0, "reward.txt missing" + tail
