"""The Dockerfile interpreter, once: parsing into Steps, Docker's variable substitution, the replay of
ENV, ARG, WORKDIR, SHELL, USER, ENTRYPOINT and CMD, and a USER resolved to ids from the image's
/etc/passwd. The loader (harbor.load_task) and the builder (images.py) both use it, so the directory a
build runs in is the one the agent and the verifier start in, and a RUN after `USER app` runs as app.

Docker's rules kept here:
- $VAR, ${VAR}, ${VAR:-default} (VAR unset or empty) and ${VAR:+alternative} (VAR set and not empty) see
  only the image's own environment, the Dockerfile's ENV and ARG values (ENV wins), and Docker's default
  PATH: not the runtime's $HOME, so `WORKDIR $HOME/w` is `/w` unless an ENV sets HOME, as in Docker.
- An ARG before FROM is a build argument of FROM alone; after FROM, `ARG NAME` without a value takes it.
- Every instruction word must be Docker's; what echo does not support (ADD of a git repository, ADD
  --keep-git-dir, COPY --exclude/--parents, a --from naming its own or a later stage) is refused when the
  task loads, with its line.
- Multi-stage builds as Docker's: `FROM x AS name` starts a stage; `FROM name` continues an earlier stage
  (its files, ENV and WORKDIR); `COPY --from=name` or `--from=<index>` copies from an earlier stage, any
  other --from is an image. The task's image is the last stage; only the stages it needs are built.
"""
from __future__ import annotations

import json
import os
import re
import shlex
from dataclasses import dataclass, field, replace

# Docker's default PATH, in scope for $PATH when the image sets none (as BuildKit does).
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# A substituted value, and all the ENV and ARG values of a stage together, are at most MAX_VALUE: each ARG
# may double the last ($A$A), so n lines grow a value 2^n; refused when the task loads, before it is
# allocated.
# (A process's environment holds at most 128 KiB per string anyway.)
MAX_VALUE = 1 << 20
INSTRUCTIONS = {"FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT",
                "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"}


@dataclass
class Step:
    instr: str          # upper case: RUN, COPY, ENV, ... or COPY_HEREDOC (see parse)
    args: str
    line: int           # 1-based Dockerfile line where the instruction starts


@dataclass(frozen=True)
class Health:
    """A HEALTHCHECK, with Docker's defaults: `test` (an argv: the exec form as it is, the shell form as
    /bin/sh -c) passes at its first exit 0; a failure within start_period does not count, `retries`
    consecutive ones after it make the container unhealthy. Each try is cut at `timeout` (seconds)."""
    test: list[str]
    interval: float = 30.0
    timeout: float = 30.0
    start_period: float = 0.0
    start_interval: float = 5.0
    retries: int = 3


# A HEALTHCHECK's caps, as [environment.healthcheck]'s and a compose healthcheck's: a typo fails the load.
HEALTH_MAX_SECONDS, HEALTH_MAX_RETRIES = 3600, 1000


@dataclass
class Config:
    """The Dockerfile's state after some steps (what ENV, ARG, WORKDIR, SHELL and USER have set)."""
    env: dict[str, str] = field(default_factory=dict)       # the image's environment plus ENV values
    args: dict[str, str] = field(default_factory=dict)      # ARG values of this stage
    workdir: str = "/"
    shell: list[str] = field(default_factory=lambda: ["/bin/sh", "-c"])
    user: str = "root"
    entrypoint: list[str] | None = None     # ENTRYPOINT as argv (the shell form as SHELL + its text)
    cmd: list[str] | None = None            # CMD likewise; recorded only: Harbor replaces it (harbor.py)
    healthcheck: Health | None = None       # HEALTHCHECK (NONE: None): docker compose up --wait awaits it
    cmd_set: bool = False                   # a CMD of this stage's (an ENTRYPOINT resets an inherited one)
    build_args: dict[str, str] = field(default_factory=dict)   # ARGs declared before FROM
    env_lines: dict[str, int] = field(default_factory=dict)    # the line of the ENV that set each variable

    def scope(self) -> dict[str, str]:
        """What $VARs of the next instruction expand from."""
        return {"PATH": DEFAULT_PATH, **self.args, **self.env}


def _show(value) -> str:
    return repr(value[:60]) + ("..." if len(value) > 60 else "")


# ---- parsing --------------------------------------------------------------------------------------------

# A BuildKit heredoc marker (group 3 is its name): <<EOF, <<-EOF, << 'EOF', <<"EOF". Escapes, quoted
# strings and $((...)) are matched first, so a `<<` inside them is not taken for a marker. `$((` takes
# everything up to its first `)` even when `))` does not follow: a failed match would be rescanned from the
# next `$((`, quadratic in the line (a 256 KB line of unclosed `$((` took 6 s to parse).
HEREDOC = re.compile(r"""\\.|'[^']*'|"(?:\\.|[^"\\])*"|\$\(\([^)]*\)?\)?"""
                     r"""|(?<!<)<<(-?)[ \t]*(["']?)([A-Za-z_]\w*)\2""")


def parse(text: str) -> list[Step]:
    """Steps as Docker parses them: comments dropped; `\\` continuations joined as Docker does (the next line
    appended as is; comment and blank lines inside dropped); instructions upper-cased; args as text (JSON form
    too). Heredocs in RUN, COPY and ADD, their bodies following the instruction in marker order:
        RUN <<EOF                   the body alone is the script (<<- tabs stripped);
        RUN cat <<A > a && ... <<B  the shell text `line\\n<body A>A\\n<body B>B`, as BuildKit runs it;
        COPY [--flags] <<EOF dest   Step("COPY_HEREDOC", JSON {"dest", "body", "expand", "flags"}), one per
                                    heredoc: dest is dest/EOF if dest ends in '/' or there are several
                                    sources; expand is true if $VARs in the body are to be substituted.
    An instruction word that is not Docker's raises ValueError naming its line, as any parse error."""
    steps, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        start, line, i = i + 1, lines[i].strip(), i + 1
        if not line or line.startswith("#"):
            continue
        parts = [line]                         # joined once at the end: linear in the instruction's length
        while parts[-1].rstrip().endswith("\\"):
            parts[-1] = parts[-1].rstrip()[:-1]
            while i < len(lines) and (not lines[i].strip() or lines[i].lstrip().startswith("#")):
                i += 1
            if i == len(lines):
                break
            parts.append(lines[i])
            i += 1
        line = "".join(parts)
        word, args = (re.split(r"\s+", line, maxsplit=1) + [""])[:2]
        instr, args = word.upper(), args.strip()
        if not re.fullmatch(r"[A-Z]+", instr):
            raise ValueError(f"line {start}: cannot parse {_show(line)}")
        if instr not in INSTRUCTIONS:
            raise ValueError(f"line {start}: unknown instruction {word}")
        if "\0" in line:      # no argv string, variable or path holds one: a start would fail (rt11b p16)
            raise ValueError(f"line {start}: {instr} {_show(args)}: a NUL byte")
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


def split(args: str, line: int) -> list[str]:
    """shlex words of an instruction's arguments; an unclosed quote is a ValueError naming the line."""
    try:
        return shell_words(args)
    except ValueError as e:                      # "No closing quotation"
        raise ValueError(f"line {line}: {e} in {_show(args)}") from None


# One piece of a word: plain characters, an escaped one, a '...' or "..." string, or the white space
# between words (shlex's: space, tab, CR, LF).
_WORD_PART = re.compile(r"""[^ \t\r\n'"\\]+|\\(.)|'([^']*)'|"((?:[^"\\]|\\.)*)"|([ \t\r\n]+)""", re.S)


def shell_words(s: str) -> list[str]:
    """shlex.split(s), in linear time: shlex builds each word a character at a time on an attribute, which
    copies it each time (a 1 MB word took 27 s). The same ValueErrors: "No closing quotation", "No escaped
    character"."""
    words, word, started, i = [], [], False, 0
    while i < len(s):
        m = _WORD_PART.match(s, i)
        if not m:                                # a lone `\` at the end, or a quote that never closes
            bare = s[i] == "\\" or s[i] == '"' and re.fullmatch(r'"(?:[^"\\]|\\.)*\\', s[i:], re.S)
            raise ValueError("No escaped character" if bare else "No closing quotation")
        i = m.end()
        if m[4]:
            if started:
                words.append("".join(word))
            word, started = [], False
            continue
        started = True
        if m[3] is not None:                     # in "...", `\` escapes only `"` and `\`
            word.append(re.sub(r'\\(.)', lambda e: e[1] if e[1] in '"\\' else e[0], m[3], flags=re.S))
        else:
            word.append(m[1] if m[1] is not None else m[2] if m[2] is not None else m[0])
    return words + ["".join(word)] if started else words


def _copy_heredoc(instr: str, args: str, marks, bodies, line: int) -> list[Step]:
    """COPY <<EOF dest: one COPY_HEREDOC step per heredoc, then a plain step for any file sources left."""
    words = split(HEREDOC.sub(lambda m: "" if m[3] else m[0], args), line)
    flags, rest = [w for w in words if w.startswith("--")], [w for w in words if not w.startswith("--")]
    if not rest:
        raise ValueError(f"line {line}: {instr} <<{marks[0][3]} needs a destination")
    *sources, dest = rest
    into_dir = dest.endswith("/") or len(marks) + len(sources) > 1
    steps = [Step("COPY_HEREDOC", json.dumps({"dest": dest.rstrip("/") + "/" + m[3] if into_dir else dest,
                                              "body": _chomp(b, m[1]), "expand": not m[2], "flags": flags}),
                  line) for m, b in zip(marks, bodies)]
    return steps + ([Step(instr, shlex.join(flags + sources + [dest]), line)] if sources else [])


# ---- what echo runs of a parsed Dockerfile --------------------------------------------------------------

@dataclass
class Stage:
    """One `FROM ... [AS name]` and the steps after it."""
    index: int
    name: str                  # `AS name`, lower-cased as Docker compares them; "" without one
    base: str                  # the FROM reference, build args substituted ("host" without a FROM)
    parent: int | None         # the earlier stage `base` names (FROM builder), else None: an image
    build_args: dict[str, str] # the ARGs declared before the first FROM
    steps: list[Step]
    line: int                  # FROM's line (0 without a FROM)
    sources: dict[str, int] = field(default_factory=dict)   # COPY --from values naming an earlier stage
    layers: int = 1            # the layers its image has: its base's (an image: 1) and one per step
    seeded: int | None = None  # its first step that sees TASK_SEED, or copies or continues one that did


# Flags of COPY/ADD that change what lands in the image and that echo does not implement.
UNSUPPORTED_FLAGS = {"--keep-git-dir", "--exclude", "--parents"}
# A stage's image is an overlay mount of all its layers: more than an overlay takes (Docker's own limit is
# 127 lower layers; images.layer_cap is the tighter one the cache's path lengths allow) is refused at load.
# Stages: real Dockerfiles have a handful; a Dockerfile of thousands only makes the loader and builder slow.
MAX_LAYERS = 120
MAX_STAGES = 100
LAYER_STEPS = ("RUN", "COPY", "ADD", "COPY_HEREDOC")


def stages(steps: list[Step]) -> list[Stage]:
    """The Dockerfile's stages, in order. Raises ValueError naming the line of anything echo cannot build:
    an instruction before FROM other than ARG, a stage name used twice, a --from naming the stage itself
    or a later one, ADD of a git repository or of a URL scheme other than http(s), --checksum anywhere but
    ADD <url>, a flag in UNSUPPORTED_FLAGS, a SHELL that is not a JSON array."""
    froms = [i for i, s in enumerate(steps) if s.instr == "FROM"]
    if len(froms) > MAX_STAGES:
        raise ValueError(f"line {steps[froms[MAX_STAGES]].line}: {len(froms)} stages (FROM lines), more "
                         f"than the {MAX_STAGES} echo builds")
    head = steps[:froms[0]] if froms else []
    global_args = Config()
    for s in head:
        if s.instr != "ARG":
            raise ValueError(f"line {s.line}: {s.instr} before FROM (only ARG may come before FROM)")
        if is_seed(s):        # FROM's reference would read it, and an image is resolved once
            raise ValueError(f"line {s.line}: ARG TASK_SEED before FROM: a base image is the same for every "
                             "episode; declare it in a stage")
        global_args = replay(global_args, s)
    bounds = list(zip(froms, froms[1:] + [len(steps)])) if froms else [(-1, len(steps))]
    out: list[Stage] = []
    named: dict[str, int] = {}                 # stage name -> index: every lookup is one, not a scan
    for i, (start, end) in enumerate(bounds):
        base, name, parent, line = "host", "", None, 0
        if start >= 0:
            line = steps[start].line
            words = [w for w in split(steps[start].args, line) if not w.startswith("--")]  # --platform
            if len(words) not in (1, 3) or len(words) == 3 and words[1].upper() != "AS":
                raise ValueError(f"line {line}: FROM {_show(steps[start].args)}: expected FROM image "
                                 "[AS name]")
            base = subst(words[0], global_args.args)
            name = words[2].lower() if len(words) == 3 else ""
            if name and name in named:
                raise ValueError(f"line {line}: stage name {name!r} is used twice")
            parent = named.get(base.lower())
        stage_ = Stage(i, name, base, parent, global_args.args, steps[start + 1:end], line)
        stage_.layers = (out[parent].layers if parent is not None else 1) + sum(
            s.instr in LAYER_STEPS for s in stage_.steps)
        if stage_.layers > MAX_LAYERS:
            raise ValueError(f"line {line}: stage {name or i} has {stage_.layers} layers (its base's and one "
                             f"per RUN/COPY/ADD), more than the {MAX_LAYERS} an overlay mount takes")
        # What sees the seed, and everything that depends on it, runs per episode (harbor.py's _start): the
        # steps after `ARG TASK_SEED`, a stage continuing a seeded one from its start, and a stage that
        # copies from a seeded one from that COPY on.
        stage_.seeded = 0 if parent is not None and out[parent].seeded is not None else None
        for j, s in enumerate(stage_.steps):
            _check_copy(s, stage_)
            value = copy_from(s)
            src = (int(value) if value and value.isdigit() else named.get((value or "").lower()))
            if value is not None and src is not None:
                stage_.sources[value] = src
            if stage_.seeded is None and (is_seed(s) or value is not None and src is not None
                                          and out[src].seeded is not None):
                stage_.seeded = j
        out.append(stage_)
        if name:
            named[name] = i
    return out


def is_seed(s: Step) -> bool:
    """An ARG that declares TASK_SEED: Docker's ARG takes several names on one line (`ARG A=1 TASK_SEED=0`,
    `ARG A TASK_SEED`), and each step after any of them sees it (rt13b p11)."""
    if s.instr != "ARG":
        return False
    try:
        words = split(s.args, s.line)
    except ValueError:                         # replay refuses the line itself
        words = s.args.split()
    return any(w.split("=", 1)[0] == "TASK_SEED" for w in words)


def loads(text: str):
    """json.loads, with a nesting too deep for it (its RecursionError) raised as ValueError: an exec form's
    or SHELL's JSON is the task's text, and any parse error of it is the task's one line (rt13b p13)."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deep") from None


def cached_steps(st: Stage) -> list[Step]:
    """The steps of a stage built into cached layers: those before the first that sees the seed."""
    return st.steps if st.seeded is None else st.steps[:st.seeded]


def copy_from(step: Step) -> str | None:
    """The value of a COPY's --from flag, None without one."""
    if step.instr != "COPY" or step.args.startswith("["):
        return None
    return next((w.split("=", 1)[1] if "=" in w else "" for w in split(step.args, step.line)
                 if w.startswith("--from")), None)


def source_stage(value: str, stages_: list[Stage]) -> Stage | None:
    """The stage a --from value names (its name, or its index as a number), None if it names an image.
    stages() resolves each stage's once (Stage.sources); this is for a list of stages made otherwise."""
    if value.isdigit():
        return stages_[int(value)] if int(value) < len(stages_) else None
    return next((st for st in stages_ if st.name and st.name == value.lower()), None)


def _check_copy(s: Step, this: Stage) -> None:
    if s.instr not in ("COPY", "ADD") or s.args.startswith("["):
        return
    words = split(s.args, s.line)
    flags = [w for w in words if w.startswith("--")]
    for f in flags:
        name = f.split("=", 1)[0]
        if name in UNSUPPORTED_FLAGS:
            raise ValueError(f"line {s.line}: {s.instr} {name} is not supported")
        if name == "--from" and s.instr == "ADD":
            raise ValueError(f"line {s.line}: ADD --from is not Docker's (use COPY --from)")
        if name == "--checksum" and s.instr == "COPY":
            raise ValueError(f"line {s.line}: COPY --checksum is not Docker's (ADD <url> takes it)")
        if name == "--checksum" and not re.fullmatch(r"--checksum=sha256:[0-9a-f]{64}", f):
            raise ValueError(f"line {s.line}: ADD {_show(f)}: expected --checksum=sha256:<64 hex digits>")
    value = copy_from(s)
    if value is not None:
        if not value:
            raise ValueError(f"line {s.line}: COPY --from needs a stage or an image")
        if (value.isdigit() and int(value) >= this.index) or this.name and value.lower() == this.name:
            raise ValueError(f"line {s.line}: COPY --from={value} names this stage or a later one")
    urls = [w for w in words if re.match(r"[\w+.-]+://|git@", w)]
    for u in urls:
        if s.instr == "COPY":
            raise ValueError(f"line {s.line}: COPY cannot take a URL ({_show(u)}; ADD can)")
        if re.match(r"git@|git://", u) or re.match(r"https?://", u) and urlpath(u).endswith(".git"):
            raise ValueError(f"line {s.line}: ADD of a git repository is not supported (clone it in a RUN)")
        if not re.match(r"https?://", u):
            raise ValueError(f"line {s.line}: ADD {_show(u)}: only http and https URLs are fetched")
    if any(f.startswith("--checksum") for f in flags) and not urls:
        raise ValueError(f"line {s.line}: ADD --checksum is for a URL source only")


def urlpath(url: str) -> str:
    """The path of a URL, without its query and fragment."""
    return re.sub(r"^[\w+.-]+://[^/?#]*", "", url).split("?")[0].split("#")[0]


def stage(steps: list[Step]) -> tuple[str, dict[str, str], list[Step]]:
    """The last stage (the task's image), checked whole as stages() does: (its FROM reference with build
    args substituted, "host" without a FROM, or the name of the earlier stage it continues; the build
    args, the ARGs before the first FROM; its steps)."""
    last = stages(steps)[-1]
    return last.base, last.build_args, last.steps


def references(steps: list[Step]) -> list[tuple[int, str]]:
    """(line, reference) of every image a build of these steps may need: the stages' bases (line 0
    without a FROM) and COPY --from images."""
    all_, refs = stages(steps), []
    for st in all_:
        refs += [(st.line, st.base)] if st.parent is None else []
        refs += [(s.line, subst(v, st.build_args)) for s in st.steps if (v := copy_from(s)) is not None
                 and v not in st.sources]
    return refs


COMMAND_MAX_BYTES = 64 << 10


def replay(config: Config, step: Step) -> Config:
    """The Config after one step: ENV, ARG, WORKDIR, SHELL, USER, ENTRYPOINT and CMD change it, any other
    instruction not. A malformed one raises ValueError naming its line."""
    after = _replay(config, step)
    if after is config:
        return after
    argvs = [after.shell, after.entrypoint or [], after.cmd or [],
             after.healthcheck.test if after.healthcheck else []]
    new = [k + v for k, v in after.env.items() if config.env.get(k) is not v]   # only what this step set
    # A JSON "\u0000" (exec form, SHELL) is a NUL too, and an ENV name or value may take one from the
    # image's own variables: pid 1's exec or the shell's start would fail, blamed on the machine (rt11b p16).
    if any("\0" in w for w in [*new, after.workdir, *sum(argvs, [])]):
        raise ValueError(f"line {step.line}: {step.instr} {_show(step.args)}: a NUL byte")
    # pid 1 starts an ENTRYPOINT or a HEALTHCHECK as one `bash -c` string, which exec takes under 128 KiB
    # (MAX_ARG_STRLEN), and a kept agent's zygote in one message: past that, E2BIG at every start, booked as
    # the machine's and retried (rt20b p19, p31); refused here, under the variables' own cap
    for argv in argvs:
        if sum(len(w) for w in argv) > COMMAND_MAX_BYTES or len(shlex.join(argv).encode()) > COMMAND_MAX_BYTES:
            raise ValueError(f"line {step.line}: {step.instr}: over {COMMAND_MAX_BYTES} bytes of command")
    return after


def _replay(config: Config, step: Step) -> Config:
    scope, where = config.scope(), f"line {step.line}: {step.instr}"
    if step.instr == "WORKDIR":
        path = os.path.join(config.workdir, subst(step.args, scope))     # relative: from the last WORKDIR
        return replace(config, workdir=os.path.normpath(path))
    if step.instr == "USER":
        user = subst(step.args, scope).strip()
        if not re.fullmatch(r"[\w.-]+(:[\w.-]+)?", user):
            raise ValueError(f"{where} {_show(step.args)}: expected a user, user:group or uid:gid")
        return replace(config, user=user)
    if step.instr == "CMD":
        return replace(config, cmd=command(step.args, config.shell), cmd_set=True)
    if step.instr == "ENTRYPOINT":             # Docker: it resets a CMD the base image set, not this stage's
        return replace(config, entrypoint=command(step.args, config.shell),
                       cmd=config.cmd if config.cmd_set else None)
    if step.instr == "HEALTHCHECK":
        return replace(config, healthcheck=health(step.args, where))
    if step.instr == "SHELL":
        try:
            shell = loads(step.args)
        except ValueError:
            shell = None
        if not (isinstance(shell, list) and shell and all(isinstance(w, str) for w in shell)):
            raise ValueError(f'{where} {_show(step.args)}: expected a JSON array like ["/bin/bash", "-c"]')
        return replace(config, shell=shell)
    if step.instr in ("ENV", "ARG"):
        words = split(step.args, step.line)
        if not words or step.instr == "ENV" and "=" in words[0] and not all("=" in w for w in words):
            raise ValueError(f"{where} {_show(step.args)}: expected K V, K=V ... or K")
        if step.instr == "ARG":                  # Docker's `ARG A=1 B C=3`: each name declared (rt13b p11)
            pairs = [(w.split("=", 1) + [None])[:2] for w in words]
        elif "=" in words[0]:
            pairs = [w.split("=", 1) for w in words]
        else:                                    # ENV K some value;  ARG K (no default)
            pairs = [(words[0], " ".join(words[1:]))] if step.instr == "ENV" else [(words[0], None)]
        env, args, lines = dict(config.env), dict(config.args), dict(config.env_lines)
        size = sum(map(len, env.values())) + sum(map(len, args.values()))   # many keys of one large value
        for k, v in pairs:
            into = env if step.instr == "ENV" else args
            size -= len(into.get(k, ""))
            if step.instr == "ENV":
                env[k], lines[k] = subst(v, scope), step.line
            else:                   # ARG K keeps its value, else takes the build argument K, else ""
                args[k] = subst(v, scope) if v is not None else args.get(k, config.build_args.get(k, ""))
            size += len(into[k])
            if size > MAX_VALUE:
                raise ValueError(f"{where}: its ENV and ARG values add up to over {MAX_VALUE >> 20} MiB")
        return replace(config, env=env, args=args, env_lines=lines)
    return config


def command(args: str, shell: list[str]) -> list[str]:
    """An ENTRYPOINT's or CMD's argv: the exec form (a JSON array of strings) as it is, the shell form as
    SHELL + [text], as Docker runs it (not valid JSON is the shell form, as in Docker). No substitution:
    Docker leaves $VARs of both forms to the shell, if any, at run time."""
    if args.startswith("["):
        try:
            words = loads(args)
        except ValueError:
            words = None
        if isinstance(words, list) and all(isinstance(w, str) for w in words):
            return words
    return [*shell, args] if args else []


def health(args: str, where: str) -> Health | None:
    """HEALTHCHECK [--interval=D] [--timeout=D] [--start-period=D] [--start-interval=D] [--retries=N]
    CMD command, or NONE (None: no check, an inherited one too). Durations as Docker writes them (30s,
    1m30s, 500ms). A malformed one raises ValueError naming `where`."""
    options = {}
    rest = args.strip()
    while m := re.match(r"--([a-z-]+)=(\S+)\s+", rest):
        options[m[1]], rest = m[2], rest[m.end():]
    if rest.upper() == "NONE" and not options:
        return None
    if not rest[:4].upper() == "CMD " or not rest[4:].strip():
        raise ValueError(f"{where} {_show(args)}: expected NONE or [--option=value ...] CMD command")
    body = rest[4:].strip()
    test = command(body, ["/bin/sh", "-c"])    # Docker's CMD-SHELL is /bin/sh -c, whatever SHELL says
    if not test:
        raise ValueError(f"{where} {_show(args)}: an empty command")
    h = Health(test)
    for key, value in options.items():
        field_ = key.replace("-", "_")
        if field_ not in ("interval", "timeout", "start_period", "start_interval", "retries"):
            raise ValueError(f"{where}: --{key} is not a HEALTHCHECK option")
        if field_ == "retries":
            if not value.isdigit() or not 0 < int(value) <= HEALTH_MAX_RETRIES:
                raise ValueError(f"{where}: --retries must be 1 to {HEALTH_MAX_RETRIES}, got {value!r}")
            h = replace(h, retries=int(value))
            continue
        parts = re.findall(DURATION, value)
        seconds = sum(float(n) * {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6}[u] for n, u in parts)
        if "".join(n + u for n, u in parts) != value or not 0 <= seconds <= HEALTH_MAX_SECONDS \
                or seconds == 0 and field_ != "start_period":
            raise ValueError(f"{where}: --{key} must be a duration up to {HEALTH_MAX_SECONDS}s such as 30s, "
                             f"got {value!r}")
        h = replace(h, **{field_: seconds})
    return h


def config_health(value) -> Health | None:
    """An image config's Healthcheck as a registry gives it (Test: ["CMD", ...], ["CMD-SHELL", text] or
    ["NONE"]; Interval, Timeout, StartPeriod, StartInterval in nanoseconds, 0 for the default; Retries):
    a Health, or None for none, NONE, or one that cannot be read."""
    if not isinstance(value, dict):
        return None
    test = value.get("Test")
    if not (isinstance(test, list) and len(test) > 1 and all(isinstance(w, str) for w in test)):
        return None
    if test[0] not in ("CMD", "CMD-SHELL"):
        return None
    h = Health(test[1:] if test[0] == "CMD" else ["/bin/sh", "-c", test[1]])
    for key, field_ in (("Interval", "interval"), ("Timeout", "timeout"), ("StartPeriod", "start_period"),
                        ("StartInterval", "start_interval")):
        ns = value.get(key)
        if isinstance(ns, int) and 0 < ns <= HEALTH_MAX_SECONDS * 10**9:
            h = replace(h, **{field_: ns / 1e9})
    retries = value.get("Retries")
    if isinstance(retries, int) and 0 < retries <= HEALTH_MAX_RETRIES:
        h = replace(h, retries=retries)
    return h


@dataclass(frozen=True)
class User:
    """A USER resolved in an image, as Docker resolves it: ids, supplementary groups, home and name."""
    uid: int
    gid: int
    groups: tuple[int, ...] = ()
    home: str = "/"
    name: str = ""

    @property
    def root(self) -> bool:
        return self.uid == 0 and self.gid == 0 and not self.groups


ROOT = User(0, 0, (), "/root", "root")


def resolve_user(spec: str, passwd: str | None, group: str | None) -> User:
    """`name`, `uid`, `name:group` or `uid:gid` against the image's /etc/passwd and /etc/group texts (None:
    the file is missing), as Docker (runc's GetExecUser) does: a name must be in passwd; a number need not
    be (then gid 0, home /); without a group, the primary gid is passwd's and the supplementary groups are
    those /etc/group lists the user in; with one, that group alone. Raises ValueError with the reason."""
    who, _, grp = spec.partition(":")
    users = [l.split(":") for l in (passwd or "").splitlines() if l.count(":") >= 6]
    groups = [l.split(":") for l in (group or "").splitlines() if l.count(":") >= 3]
    match = [u for u in users if u[0] == who] or [u for u in users if who.isdigit() and u[2] == who]
    if match:
        name, uid, gid, home = match[0][0], int(match[0][2]), int(match[0][3]), match[0][5] or "/"
    elif who.isdigit():
        name, uid, gid, home = who, int(who), 0, "/"
    else:
        raise ValueError(f"USER {spec}: no user {who!r} in the image's /etc/passwd")
    if grp:
        found = [g for g in groups if g[0] == grp] or [g for g in groups if grp.isdigit() and g[2] == grp]
        if not found and not grp.isdigit():
            raise ValueError(f"USER {spec}: no group {grp!r} in the image's /etc/group")
        return User(uid, int(found[0][2]) if found else int(grp), (), home, name)
    extra = tuple(sorted({int(g[2]) for g in groups if name in g[3].split(",") and int(g[2]) != gid}))
    return User(uid, gid, extra, home, name)


def workdir(steps: list[Step]) -> str | None:
    """The directory the last WORKDIR leaves (None without a WORKDIR), as the builder replays it on an
    image whose own config sets no variable the Dockerfile uses. Raises ValueError as stage and replay."""
    config = final(steps)                      # replayed either way: a bad line raises here
    return config.workdir if any(s.instr == "WORKDIR" for st in _chain(steps) for s in st.steps) else None


def final(steps: list[Step]) -> Config:
    """The last stage's Config (its ENV, WORKDIR, ENTRYPOINT, ...) replayed likewise: what the task's files
    give pid 1. Raises ValueError as stage and replay."""
    config = Config()
    for st in _chain(steps):
        config = replace(config, args={}, build_args=st.build_args)
        for s in st.steps:
            config = replay(config, s)
    return config


def _chain(steps: list[Step]) -> list[Stage]:
    """The last stage and the stages it continues (FROM builder), first first."""
    chain, all_ = [], stages(steps)
    st: Stage | None = all_[-1]
    while st is not None:                      # FROM builder: builder's WORKDIR carries on
        chain.insert(0, st)
        st = all_[st.parent] if st.parent is not None else None
    return chain


def subst(s: str, env: dict[str, str]) -> str:
    """Docker's $VAR, ${VAR}, ${VAR:-default} and ${VAR:+alternative}; an unset variable is ''. A result
    over MAX_VALUE raises ValueError as soon as its parts add up to more, before it is joined."""
    size = len(s)

    def one(m: re.Match) -> str:
        nonlocal size
        name = m[1] or m[4]
        value = env.get(name, "")
        if m[2] == ":-":
            value = value or subst(m[3], env)
        elif m[2] == ":+":
            value = subst(m[3], env) if value else ""
        size += len(value)
        if size > MAX_VALUE:
            raise ValueError(f"substituting {_show(s)} gives a value over {MAX_VALUE >> 20} MiB")
        return value
    return sub_braced(r"\$(?:\{(\w+)(?:(:[-+])([^}]*))?\}|(\w+))", one, s)


# A duration's parts ('1m30s'). A part starts where a run of digits does: findall would otherwise retry a
# long run of digits with no unit from each of its digits, quadratic in the run.
DURATION = re.compile(r"(?<!\d)(\d+(?:\.\d+)?)(ms|us|h|m|s)")


def sub_braced(pattern: str, one, s: str) -> str:
    """re.sub(pattern, one, s) for a $VAR pattern whose `\\{...` alternative scans to the next '}'. Past the
    last '}' of s each such scan fails and re.sub retries it from the next '${': quadratic in a line of
    unclosed '${a:-'. No '${' there can match, so the tail is substituted with that alternative disabled,
    which leaves it as the full pattern would."""
    cut = s.rfind("}") + 1
    return re.sub(pattern, one, s[:cut]) + re.sub(pattern.replace(r"\{", r"(?!)\{", 1), one, s[cut:])


# ---- .dockerignore: what of a build context Docker leaves out ---------------------------------------------
MAX_IGNORE_LINES, MAX_IGNORE_CHARS, MAX_IGNORE_BYTES = 1000, 1024, 64 << 10


@dataclass(frozen=True)
class IgnoreRule:
    text: str                      # the cleaned pattern, without its `!`
    exception: bool                # a `!` line: re-includes
    tokens: tuple                  # ("lit", c) ("one",) ("star",) ("class", neg, ranges) ("dirs",) ("all",)
    glob: _Glob = field(compare=False, repr=False, default=None)   # the tokens as glob_match runs them


def ignore_rules(text: str) -> list[IgnoreRule]:
    """A .dockerignore's rules, in order. Docker's rules, as BuildKit reads the file (moby/patternmatcher,
    tonistiigi/fsutil), for every build context (environment/, a compose service's, a separate verifier's
    tests/):
    - The file `.dockerignore` at the context's root, one pattern a line; a line's whitespace is trimmed, a
      blank line or one starting with `#` is skipped. A leading `!` makes an exception (re-include), its rest
      trimmed too. Each pattern is cleaned (Go's filepath.Clean: `a//b/./c/..` is `a/b`) and one leading `/`
      dropped: every pattern is relative to the context's root.
    - Syntax: Go's filepath.Match (`*` any run of characters but `/`, `?` one character but `/`, `[a-z]`,
      `[^a]` a class, `\\x` the character x), extended with `**`: any number of directories, none included
      (`**/x` is x at any depth, `a/**` everything below a, `a/**/b` a/b, a/c/b, ...). A malformed one (an
      unclosed `[`) fails the build, as Docker's does.
    - A pattern matches a path if it matches the path or any directory above it (`answers` excludes
      answers/key.txt); of the lines that match, the LAST wins: excluded if it is a pattern, kept if an
      exception.
    - An excluded directory is still walked, and what an exception keeps below it is sent with the
      directories above it, unless no exception could reach below it: when no exception has a wildcard and
      none starts with the directory's path, the directory and everything under it are gone (BuildKit's
      walk skips it), whatever a later line says.
    - The Dockerfile and .dockerignore are read whatever the file says; a COPY copies them unless excluded.
    Matching runs a pattern's positions at once, as the bits of an int (glob_match, no backtracking): linear
    in the path. At most MAX_IGNORE_BYTES in all, MAX_IGNORE_LINES patterns of MAX_IGNORE_CHARS characters
    each: past that, refused (ValueError, in one line)."""
    if len(text) > MAX_IGNORE_BYTES:           # before a line is read: its parse and its matches stay small
        raise ValueError(f".dockerignore: over {MAX_IGNORE_BYTES >> 10} KiB")
    rules = []
    for n, raw in enumerate(text.removeprefix("\ufeff").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if len(rules) >= MAX_IGNORE_LINES:
            raise ValueError(f".dockerignore: over {MAX_IGNORE_LINES} patterns (line {n}); use fewer")
        if len(line) > MAX_IGNORE_CHARS:
            raise ValueError(f".dockerignore line {n}: over {MAX_IGNORE_CHARS} characters")
        exception = line.startswith("!")
        pattern = line[1:].strip() if exception else line
        if not pattern:
            raise ValueError(f".dockerignore line {n}: illegal exclusion pattern {line!r}")
        pattern = os.path.normpath(pattern).replace("//", "/")   # Go's Clean: normpath keeps a leading //
        if len(pattern) > 1 and pattern.startswith("/"):
            pattern = pattern[1:]
        tokens = _ignore_tokens(pattern, n)
        rules.append(IgnoreRule(pattern, exception, tokens, _Glob(tokens)))
    return rules


def _ignore_tokens(p: str, n: int) -> tuple:
    """The pattern as moby's compile reads it: `**` then `/` or the end is ("dirs",) (any run of whole
    directories, moby's `(.*/)?`) or ("all",) at the end (moby's `.*`), a lone `*` ("star",)."""
    out, i = [], 0
    while i < len(p):
        c = p[i]
        if c == "*" and p[i + 1:i + 2] == "*":
            i += 2 + (p[i + 2:i + 3] == "/")
            tok = ("all",) if i >= len(p) else ("dirs",)
            if out and out[-1] == ("dirs",):   # `**/**/` is `**/`, `**/**` is `**`: one token, so that
                out.pop()                      # glob_match's closure takes a step, not one per repeat
            out.append(tok)
            continue
        if c == "*":
            out.append(("star",))
        elif c == "?":
            out.append(("one",))
        elif c == "[":
            j, neg, ranges = i + 1, p[i + 1:i + 2] == "^", []
            j += neg
            while j < len(p) and p[j] != "]":
                lo = p[j + 1] if p[j] == "\\" and j + 1 < len(p) else p[j]
                j += 2 if p[j] == "\\" else 1
                hi = lo
                if p[j:j + 1] == "-" and j + 1 < len(p) and p[j + 1] != "]":
                    hi = p[j + 2] if p[j + 1] == "\\" and j + 2 < len(p) else p[j + 1]
                    j += 3 if p[j + 1] == "\\" else 2
                ranges.append((lo, hi))
            if j >= len(p) or not ranges:
                raise ValueError(f".dockerignore line {n}: syntax error in pattern {p!r}")
            out.append(("class", neg, tuple(ranges)))
            i = j
        elif c == "\\":
            if i + 1 >= len(p):
                raise ValueError(f".dockerignore line {n}: syntax error in pattern {p!r}")
            i += 1
            out.append(("lit", p[i]))
        else:
            out.append(("lit", c))
        i += 1
    return tuple(out)


class _Glob:
    """A pattern's tokens as bit masks, for glob_match: bit i is "at token i", bit len(tokens) the end."""
    def __init__(self, tokens: tuple):
        self.end = 1 << len(tokens)
        self.lit: dict[str, int] = {}
        self.one = self.star = self.all = self.dirs = 0
        self.classes = []
        for i, tok in enumerate(tokens):
            bit = 1 << i
            if tok[0] == "lit":
                self.lit[tok[1]] = self.lit.get(tok[1], 0) | bit
            elif tok[0] == "class":
                self.classes.append((bit, tok[1], tok[2]))
            else:
                setattr(self, tok[0], getattr(self, tok[0]) | bit)
        self.skip = self.star | self.all | self.dirs      # may match nothing
        self.cache: dict[str, tuple[int, int]] = {}

    def masks(self, ch: str) -> tuple[int, int]:
        """(tokens that consume `ch` and move on, tokens that consume it and stay: `*`, a final `**`)."""
        if ch not in self.cache:
            # moby hands a class to Go's regexp: `[^a]` takes a `/` too
            cls = sum(bit for bit, neg, ranges in self.classes
                      if any(lo <= ch <= hi for lo, hi in ranges) != neg)
            slash = ch == "/"
            self.cache[ch] = (self.lit.get(ch, 0) | (0 if slash else self.one) | cls,
                              (0 if slash else self.star) | self.all)
        return self.cache[ch]

    def closure(self, d: int) -> int:
        while (more := d | ((d & self.skip) << 1)) != d:   # skip tokens that may match nothing
            d = more
        return d


def glob_match(tokens, path: str) -> bool:
    """Whether the whole of `path` matches: every position of the pattern at once, as bits of an int (a
    bit-parallel Thompson simulation), advanced one character at a time: a few integer operations per
    character whatever the pattern, never a backtrack. `inside`: positions inside a `**/`'s `.*`, which
    takes any character and moves on past a `/`."""
    g = tokens if isinstance(tokens, _Glob) else _Glob(tokens)
    d = g.closure(1)
    inside = d & g.dirs
    for ch in path:
        move, stay = g.masks(ch)
        d = ((d & move) << 1) | (d & stay) | ((inside << 1) if ch == "/" else 0)
        d = g.closure(d)
        inside |= d & g.dirs
        if not d and not inside:
            return False
    return bool(d & g.end)


def ignore_matches(rules: list[IgnoreRule], parent: tuple | None, rel: str) -> tuple:
    """Each rule's match of `rel` (a cleaned path relative to the context, `/`-separated): its own, or its
    parent directory's (`parent`, this function's result for it; None at the top), as moby's
    MatchesUsingParentResults carries them down a walk."""
    return tuple(bool(parent and parent[k]) or glob_match(r.glob, rel) for k, r in enumerate(rules))


def ignored(rules: list[IgnoreRule], matches: tuple) -> bool:
    """Excluded: the last rule that matches is a pattern, not an exception."""
    return next((not r.exception for r, m in zip(reversed(rules), reversed(matches)) if m), False)


def ignore_prunes(rules: list[IgnoreRule], rel_dir: str) -> bool:
    """Whether BuildKit skips an excluded directory whole: no exception has a wildcard and none names a
    path under it (fsutil's onlyPrefixExcludeExceptions)."""
    exceptions = [r for r in rules if r.exception]
    if any(re.search(r"[*?[\\]", r.text) for r in exceptions):
        return False
    return not any((r.text + "/").startswith(rel_dir + "/") for r in exceptions)
