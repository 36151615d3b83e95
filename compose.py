"""Multi-container tasks: environment/docker-compose.yaml as Harbor reads it, loaded into Services that
harbor.start_task starts beside the main container (METHOD.md §8).

Harbor runs `docker compose` with its own file first (the service `main`: built from environment/, its
command `sleep infinity`) and the task's file last, so the task's `main` only adds to it (environment,
volumes, depends_on) and every other service is a sidecar. Here every service is a Sandbox of its own (its
image built by images.py, its own writable layer, cgroup and seccomp filter) in the main container's
network namespace: services reach each other on localhost and by name (/etc/hosts), as in one Docker
network, without a bridge. What is parsed is the YAML that compose files of tasks use (block mappings and
sequences, [flow, lists], {} maps, quoted and plain scalars, comments, ${VAR:-default}); every key that is
not supported is refused when the task loads, in one line naming it.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import stat
from dataclasses import dataclass, field
from pathlib import Path

import dockerfile
import sandbox
from dockerfile import Step

# Keys of a service that change nothing here: one network namespace for all (networks: only their aliases
# are read; ports: only checked for clashes), no restarts within an episode, names and terminals that only
# Docker uses, and security_opt (SELinux labels, seccomp=...): every container keeps echo's own
# confinement, never a weaker one.
IGNORED = {"ports", "expose", "networks", "container_name", "restart", "platform", "pull_policy",
           "stop_grace_period", "init", "security_opt", "tty", "stdin_open", "labels"}
SUPPORTED = {"image", "build", "environment", "env_file", "volumes", "command", "entrypoint", "depends_on",
             "healthcheck", "working_dir", "hostname"}
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
MAIN = "main"                                    # Harbor's name for the agent's container
VOLUME_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")     # Docker's rule for a named volume
SERVICE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")    # compose's for a service
# Where the main container takes no volume: the agent can write any volume (check_ground judges the main
# container's as it judges its writable layer), and none may sit where the verifier finds its programs,
# libraries or tests, which the image's layers hold.
MAIN_SYSTEM = {"", "bin", "sbin", "usr", "etc", "tests", "logs", "solution", "proc", "dev", "sys", "run"}


# A healthcheck's caps, as [environment.healthcheck]'s (harbor.py): a typo like `retries: 2000000000` fails
# the load; the episode's setup clock (build_timeout_sec) bounds the wait for every service in any case.
MAX_SECONDS, MAX_RETRIES = 3600, 1000

# Services in one compose file, `main` included. Each sidecar holds ~7 of the trainer's file descriptors
# while its episode lives (its sandbox's pipes and sockets): 175 of them ran a trainer out of a 1024 soft
# limit (EMFILE, rt11b p11), and 40,000 made every load_task stall (p18). 16 is ~110 fds an episode, room
# for eight such episodes at once under 1024, and well over the few services that tasks use.
MAX_SERVICES = 16
MAX_ENV_FILES = 64                 # distinct env_file paths of a service (see _env_files)
# A service's volumes, and their specs' bytes together: each is a mount pid 1 makes and copies into every
# namespace it nests, and the list travels in the sandbox's config to the starter (one socket message, 208
# KiB on Linux): 3,000 short volumes made pid 1's clone fail with ENOMEM and 70 long targets outgrew the
# message, each booked as the machine's failure (rt15b p03, p17). Tasks mount a handful.
MAX_VOLUMES, MAX_VOLUME_BYTES = 64, 32 << 10


@dataclass
class Healthcheck:
    command: str                                 # run by bash in the service's container; exit 0 = healthy
    interval: float = 30.0
    timeout: float = 30.0
    retries: int = 3
    start_period: float = 0.0

    @property
    def patience(self) -> float:
        """How long Docker lets it fail before the service is unhealthy (seconds)."""
        return self.start_period + self.retries * (self.interval + self.timeout)


@dataclass
class Service:
    name: str
    dockerfile: list[Step]                       # its Dockerfile's steps, or just FROM <image>
    context: Path                                # its build context, inside the task's environment/
    env: dict[str, str] = field(default_factory=dict)
    volumes: list[tuple[str, str, bool]] = field(default_factory=list)   # (volume or ./path, target, ro)
    # compose's own entrypoint and command (None: not set); what runs joins them with the built image's
    # ENTRYPOINT and CMD (its config, its base's included) by Docker's rule, at start (argv)
    entrypoint: list[str] | None = None
    args: list[str] | None = None
    depends_on: dict[str, str] = field(default_factory=dict)             # name -> condition
    healthcheck: Healthcheck | None = None
    workdir: str | None = None
    ports: set[int] = field(default_factory=set)
    aliases: list[str] = field(default_factory=list)    # more names for it: hostname, network aliases


@dataclass
class Compose:
    main: Service                                # what the task's file adds to `main` (no dockerfile)
    services: list[Service]                      # the sidecars, in the order they start (depends_on)
    volumes: list[str]                           # named volumes: one fresh directory per episode


# ---- a YAML subset ---------------------------------------------------------------------------------------

def parse_yaml(text: str):
    """Block mappings and sequences of scalars, flow lists and maps, comments. Anchors, tags, multi-line
    and block scalars are refused with their line (ValueError)."""
    lines = []
    for n, raw in enumerate(text.splitlines(), 1):
        body = _uncomment(raw).rstrip()
        if body.strip() in ("", "---"):
            continue
        if "\0" in raw:      # no argv string, variable or path holds one: a start would fail (rt11b p16)
            raise ValueError(f"line {n}: a NUL byte")
        if "\t" in raw[:len(raw) - len(raw.lstrip())]:
            raise ValueError(f"line {n}: a tab in the indentation")
        if _anchor_or_tag(body) or body.rstrip().endswith((": |", ": >")):
            raise ValueError(f"line {n}: anchors, tags and block scalars are not supported: {body.strip()!r}")
        lines.append([len(body) - len(body.lstrip()), body.strip(), n])
    value, i = _block(lines, 0, lines[0][0] if lines else 0)
    if i < len(lines):
        raise ValueError(f"line {lines[i][2]}: unexpected indentation")
    return value


def _block(lines, i, indent):
    if i >= len(lines) or lines[i][0] < indent:
        return None, i
    if lines[i][1] == "-" or lines[i][1].startswith("- "):
        items = []
        dash = lambda line: line[1] == "-" or line[1].startswith("- ")          # noqa: E731
        while i < len(lines) and lines[i][0] == indent and dash(lines[i]):
            rest = lines[i][1][1:].strip()
            if not rest:                         # "-" alone: the item is the block below
                deeper = i + 1 < len(lines) and lines[i + 1][0] > indent
                item, i = _block(lines, i + 1, lines[i + 1][0]) if deeper else (None, i + 1)
            elif _key(rest):                     # "- key: v" starts a mapping indented past the dash
                lines[i] = [indent + 2, rest, lines[i][2]]
                item, i = _block(lines, i, indent + 2)
            else:
                item, i = _scalar(rest, lines[i][2]), i + 1
            items.append(item)
        return items, i
    if not _key(lines[i][1]):                  # a plain value on a line of its own
        return _scalar(lines[i][1], lines[i][2]), i + 1
    table = {}
    while i < len(lines) and lines[i][0] == indent:
        n, kv = lines[i][2], _key(lines[i][1])
        if not kv:
            raise ValueError(f"line {n}: expected 'key: value', got {lines[i][1]!r}")
        key, rest = kv
        if key in table:
            raise ValueError(f"line {n}: key {key!r} given twice")
        i += 1
        if rest:
            table[key] = _scalar(rest, n)
        elif i < len(lines) and (lines[i][0] > indent or lines[i][0] == indent and lines[i][1][:2] == "- "):
            table[key], i = _block(lines, i, lines[i][0])
        else:
            table[key] = None
    if i < len(lines) and lines[i][0] > indent:
        raise ValueError(f"line {lines[i][2]}: unexpected indentation")
    return table, i


# Task text is parsed in linear time: a regex whose scan can fail and restart from the next character (a
# `.*` or `[^x]*` before a backtrack point, overlapping quantifiers) is quadratic in a line, and a compose
# file of one 300 KB line would stall load_tasks for every task. These use string methods instead.

def _anchor_or_tag(body: str) -> bool:
    """Does the line, before its first quote, start with or hold ': X' or '- X' for X an anchor, alias,
    tag or block-scalar sign (&*!|>)?"""
    head = body[:min([i for i in (body.find("'"), body.find('"')) if i >= 0], default=len(body))]
    return head[:1] in tuple("&*!|>") or any(p + c in head for p in (": ", "- ") for c in "&*!|>")


def _key(s: str):
    """(key, rest) of 'key: rest' or 'key:' (the key may be quoted), else None. A plain key runs to the first
    ':' after its first character; that ':' must end the line or be followed by white space."""
    if s[:1] in ("'", '"'):
        end = s.find(s[0], 1)                      # the key is the quoted text
        if end < 0:
            return None
        key, after = s[:end + 1], s[end + 1:].lstrip()
    elif s and not s[0].isspace() and s[0] not in "'\"[{":
        colon = s.find(":", 1)
        if colon < 0:
            return None
        key, after = s[:colon].rstrip(), s[colon:]
    else:
        return None
    if after[:1] != ":" or after[1:2] and not after[1].isspace():
        return None
    return key.strip("\"'"), after[1:].strip()


# One item of a flow collection: a quoted string (a `"` may escape) or a character that is not a comma.
_DQ_REST = re.compile(r'(?:\\.|[^"\\])*"')


def _flow_items(s: str) -> list[str]:
    """s split at its commas outside quotes. A quote that never closes is a plain character; once one `"`
    has no end no later one has (it would have been escaped in the first one's scan), so each character is
    scanned a bounded number of times."""
    items, start, i, dq = [], 0, 0, True
    while (m := _FLOW_STOP.search(s, i)):
        i = m.start() + 1
        if m[0] == ",":
            items.append(s[start:i - 1])
            start = i
        elif m[0] == "'":
            i = s.find("'", i) + 1 or i
        elif dq:
            e = _DQ_REST.match(s, i)
            i, dq = (e.end(), True) if e else (i, False)
    return items + [s[start:]]


_FLOW_STOP = re.compile(r"""[,'"]""")


def _uncomment(s: str) -> str:
    quote = None
    for i, c in enumerate(s):
        if quote:
            quote = None if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c == "#" and (i == 0 or s[i - 1] in " \t"):
            return s[:i]
    return s


def _scalar(s: str, n: int):
    if s[0] in "[{":                             # a flow list or map, one level: [a, "b c"], {k: v}, {}
        if s[-1] != {"[": "]", "{": "}"}[s[0]] or re.search(r"\[|(?<!\$)\{", s[1:-1]):
            raise ValueError(f"line {n}: only one-line, unnested flow collections are supported: {s!r}")
        parts = [p.strip() for p in _flow_items(s[1:-1])]
        parts = [p for p in parts if p]
        if s[0] == "[":
            return [_scalar(p, n) for p in parts]
        pairs = [_key(p) for p in parts]
        if not all(pairs):
            raise ValueError(f"line {n}: expected {{key: value, ...}}, got {s!r}")
        return {k: _scalar(v, n) if v else None for k, v in pairs}
    if s[0] == '"':
        try:
            value = json.loads(s)
        except ValueError:
            raise ValueError(f"line {n}: a bad double-quoted string: {s!r}") from None
        if "\0" in value:                     # "\u0000" is a NUL too (rt11b p16)
            raise ValueError(f"line {n}: a bad double-quoted string: {s!r}")
        return value
    if s[0] == "'":
        if len(s) < 2 or s[-1] != "'":
            raise ValueError(f"line {n}: a bad single-quoted string: {s!r}")
        return s[1:-1].replace("''", "'")
    if re.fullmatch(r"-?\d+", s):
        return int(s)
    return {"true": True, "false": False, "null": None, "~": None}.get(s, s)


# ---- a compose file, as Harbor's services ----------------------------------------------------------------

def load(path: Path, env: dict[str, str], read) -> Compose:
    """environment/docker-compose.yaml of a task as a Compose; ValueError (one line) for anything that is
    refused. `env`: the task's [environment].env, for ${VAR} (Harbor passes it to docker compose);
    `read(rel)`: the task's file reader (size limits)."""
    project = re.sub(r"[^a-z0-9_-]", "-", path.name.lower())      # Harbor's is its trial's name
    names = {"COMPOSE_PROJECT_NAME": project, **env}
    data = _interpolate(parse_yaml(read("environment/docker-compose.yaml")), names)
    if not isinstance(data, dict) or not isinstance(data.get("services"), dict):
        raise ValueError("no 'services:' mapping")
    if len(data["services"]) > MAX_SERVICES:
        raise ValueError(f"{len(data['services'])} services, over the cap of {MAX_SERVICES} "
                         "(compose.MAX_SERVICES: each is a container of every episode's)")
    for key in data:
        if key not in ("services", "volumes", "networks", "version", "name"):
            raise ValueError(f"top-level key {key!r} is not supported")
    volumes = data.get("volumes") or {}
    for name, spec in (volumes.items() if isinstance(volumes, dict) else [("", 1)]):
        if spec not in (None, {}):
            raise ValueError(f"volumes: {name or volumes!r} with options (driver, external, ...) "
                             "is not supported")
        # The name becomes a directory of the episode (harbor.Services): `x/../../../../tmp/d` made a
        # host directory as root and handed it to the sandboxes (rt10b p29), `x/d` a path inside another
        # volume that a sidecar could swap for a link (p30). Docker refuses both: its rule, here too.
        if not isinstance(name, str) or not VOLUME_NAME.fullmatch(name):
            raise ValueError(f"volumes: {str(name)[:60]!r} is not a volume name (a letter or digit, then "
                             "letters, digits, '_', '.' or '-', as Docker's)")
    env_dir = path / "environment"
    services = {name: _service(name, spec, env_dir, read, set(volumes))
                for name, spec in data["services"].items()}
    main = services.pop(MAIN, None) or Service(MAIN, [], env_dir)
    for s in [main, *services.values()]:
        for d, condition in s.depends_on.items():
            if d not in services:
                raise ValueError(f"services.{s.name}.depends_on: no service {d!r}")
            if condition == "service_healthy" and not may_be_healthy(services[d]):   # as compose refuses it
                raise ValueError(f"services.{s.name}.depends_on: {d!r} has no healthcheck to be healthy by")
    seen: dict[int, str] = {}
    for s in [main, *services.values()]:
        for port in s.ports:
            if port in seen:
                raise ValueError(f"services {seen[port]} and {s.name} both listen on port {port}: echo runs "
                                 "all services in one network namespace, where only one can")
            seen[port] = s.name
    return Compose(main, _order(services), sorted(volumes))


def _service(name: str, spec, env_dir: Path, read, volumes: set[str]) -> Service:
    where = f"services.{name}"
    if not SERVICE_NAME.fullmatch(str(name)):
        raise ValueError(f"{where}: a service name must be letters, digits, '.', '_' or '-'")
    if not isinstance(spec, dict):
        raise ValueError(f"{where} must be a mapping")
    for key in spec:
        if key not in SUPPORTED | IGNORED:
            raise ValueError(f"{where}.{key} is not supported")
    s = Service(name, [], env_dir, env={**_env_files(spec.get("env_file"), env_dir, read, where),
                                        **_environment(spec.get("environment"), where)},
                depends_on=_depends(spec.get("depends_on"), where), workdir=spec.get("working_dir"))
    too_big = sandbox.env_overflow(s.env)
    if too_big:
        raise ValueError(f"{where}.environment: {too_big}")
    if s.workdir is not None and (not isinstance(s.workdir, str) or not s.workdir.startswith("/")):
        raise ValueError(f"{where}.working_dir must be an absolute path")
    specs = spec.get("volumes") or []
    if isinstance(specs, list) and (len(specs) > MAX_VOLUMES or
                                    sum(len(str(v)) for v in specs) > MAX_VOLUME_BYTES):
        raise ValueError(f"{where}.volumes: over {MAX_VOLUMES} volumes or {MAX_VOLUME_BYTES >> 10} KiB of "
                         "specs (each is a mount in every namespace of the sandbox)")
    for v in specs:
        s.volumes.append(_volume(v, where, env_dir, volumes))
    networks = spec.get("networks")
    for net in (networks or {}).values() if isinstance(networks, dict) else []:
        s.aliases += [str(a) for a in ((net or {}).get("aliases") or [] if isinstance(net, dict) else [])]
    s.aliases += [str(spec["hostname"])] if spec.get("hostname") else []
    for a in s.aliases:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", a):
            raise ValueError(f"{where}: {a!r} is not a host name")
    for key in ("ports", "expose"):              # lists, as compose's schema has them (rt6 p15: `ports: 5`)
        if not isinstance(spec.get(key) or [], list):
            raise ValueError(f"{where}.{key} must be a list, got {spec[key]!r}"[:200])
    for p in [*(spec.get("ports") or []), *(spec.get("expose") or [])]:
        p = p.get("target", "") if isinstance(p, dict) else p      # the long syntax: {target: 80, ...}
        m = re.fullmatch(r"(?:.*:)?(\d+)(?:-\d+)?(?:/\w+)?", str(p))
        if m:
            s.ports.add(int(m[1]))
    entrypoint, command = _words(spec.get("entrypoint")), _words(spec.get("command"))
    if "healthcheck" in spec:
        s.healthcheck = _healthcheck(spec["healthcheck"], where)
    # started as one `bash -c` string: the Dockerfile's cap (dockerfile.replay: E2BIG, rt20b p19, p31)
    for key, words in (("entrypoint", entrypoint), ("command", command),
                       ("healthcheck", [s.healthcheck.command] if s.healthcheck else None)):
        if words and len(shlex.join(words).encode()) > dockerfile.COMMAND_MAX_BYTES:
            raise ValueError(f"{where}.{key}: over {dockerfile.COMMAND_MAX_BYTES} bytes of command")
    if name == MAIN:                             # Harbor builds it from environment/ and runs sleep infinity
        if command is not None and command not in (["sleep", "infinity"], ["sh", "-c", "sleep infinity"]):
            raise ValueError(f"{where}.command {shlex.join(command)!r} is not supported: the main "
                             "container's is Harbor's (sleep infinity)")
        for key in ("image", "build", "healthcheck", "working_dir", "entrypoint"):
            if key in spec and not (key == "build" and spec[key] in (".", {"context": "."})):
                raise ValueError(f"{where}.{key} is not supported: the main container is the task's "
                                 "Dockerfile")
        return s
    if ("image" in spec) == ("build" in spec):
        raise ValueError(f"{where} needs one of image or build")
    if "image" in spec:
        s.dockerfile = [Step("FROM", str(spec["image"]), 1)]
    else:
        build = spec["build"] if isinstance(spec["build"], dict) else {"context": spec["build"]}
        for key in build:
            if key not in ("context", "dockerfile"):
                raise ValueError(f"{where}.build.{key} is not supported")
        s.context = _inside(env_dir, str(build.get("context", ".")), f"{where}.build.context")
        file = _inside(env_dir, str(build.get("dockerfile", "Dockerfile")), f"{where}.build.dockerfile",
                       under=str(s.context.relative_to(env_dir)))
        s.dockerfile = dockerfile.parse(read(str(file.relative_to(env_dir.parent))))
        dockerfile.stage(s.dockerfile)
    s.entrypoint, s.args = entrypoint, command  # the image's ENTRYPOINT and CMD join them at start (argv)
    return s


def may_be_healthy(s: Service) -> bool:
    """Whether `s` can have a healthcheck: its compose one, else its image's HEALTHCHECK, which its
    Dockerfile's last one says, or else only its base image's config (known once pulled: harbor checks it
    at start). FROM host has no config."""
    if s.healthcheck is not None:
        return True
    last = next((st for st in reversed(s.dockerfile) if st.instr == "HEALTHCHECK"), None)
    if last is not None:
        return last.args.strip().upper() != "NONE"
    return dockerfile.stage(s.dockerfile)[0] != "host"


def argv(entrypoint: list[str] | None, command: list[str] | None, image_entrypoint: list[str] | None,
         image_cmd: list[str] | None) -> list[str]:
    """What a service runs, by Docker's rule: the entrypoint (compose's, else the image's) followed by the
    command (compose's, else the image's CMD unless compose set an entrypoint). [] : nothing to run."""
    return ((entrypoint if entrypoint is not None else image_entrypoint or [])
            + (command if command is not None else [] if entrypoint is not None else image_cmd or []))


def _words(value) -> list[str] | None:
    """A compose command or entrypoint as words: a list as it is, a string split as compose splits it
    (no shell runs it)."""
    if value is None:
        return None
    return [str(c) for c in value] if isinstance(value, list) else dockerfile.shell_words(str(value))


def _interpolate(value, env: dict[str, str], budget: list[int] | None = None):
    """Compose's ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, $VAR and $$ in every string, from
    `env` (the task's [environment].env and COMPOSE_PROJECT_NAME; never this machine's environment). An
    unset variable is "", as compose makes it (with a warning there). What is substituted adds up to at
    most dockerfile.MAX_VALUE over the whole file (`budget`, what is left): a 1 MiB file of `$A` repeated
    would be 16 GiB of a 64 KiB variable; refused as soon as the parts add up to more."""
    budget = [dockerfile.MAX_VALUE] if budget is None else budget
    if isinstance(value, dict):
        return {k: _interpolate(v, env, budget) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, env, budget) for v in value]
    if not isinstance(value, str):
        return value

    def one(m: re.Match) -> str:
        if m[0] == "$$":
            return "$"
        name, how, other = m[1] or m[4], m[2], m[3]
        unset = name not in env or (env[name] == "" and how and how.startswith(":"))
        if how in (":?", "?") and unset:
            raise ValueError(f"${{{name}}} is not set: {other or 'required'} (task.toml's [environment].env)")
        out = other if unset and how in (":-", "-") else "" if unset else env[name]
        budget[0] -= len(out)
        if budget[0] < 0:
            raise ValueError(f"the values substituted for its variables add up to over "
                             f"{dockerfile.MAX_VALUE >> 20} MiB")
        return out
    return dockerfile.sub_braced(r"\$\$|\$\{(\w+)(?:(:?[-?])([^}]*))?\}|\$(\w+)", one, value)


def _environment(value, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, list):
        if not all(isinstance(x, str) and "=" in x for x in value):
            raise ValueError(f"{where}.environment: a list entry without '=' (a variable from the host's "
                             "environment) is not supported")
        value = dict(x.split("=", 1) for x in value)
    if not isinstance(value, dict) or any(v is None or isinstance(v, (dict, list)) for v in value.values()):
        raise ValueError(f"{where}.environment must map names to values")
    return {str(k): ("true" if v is True else "false" if v is False else str(v)) for k, v in value.items()}


def _env_files(value, env_dir: Path, read, where: str) -> dict[str, str]:
    """env_file: files inside environment/ of KEY=VALUE lines (# comments, optional quotes), in order: a
    later file's value wins, a key keeps the place its first file gave it (as compose's)."""
    rels = [value] if isinstance(value, str) else value or []
    for rel in rels:
        if not isinstance(rel, str):
            raise ValueError(f"{where}.env_file: only paths are supported, got {rel!r}")
    # Each file is read and parsed once however often it is listed: one 1 MiB env_file listed 80 times was
    # parsed 80 times at load, 16 s, and a 1 MiB compose file lists it 100,000 times (rt12b p21). Distinct
    # paths are capped, as each may walk MAX_LINKS links, so load work follows the task's bytes.
    if len(set(rels)) > MAX_ENV_FILES:
        raise ValueError(f"{where}.env_file: {len(set(rels))} files, over the cap of {MAX_ENV_FILES} "
                         "(compose.MAX_ENV_FILES)")
    parsed: dict[Path, dict[str, str]] = {}
    files = {rel: _inside(env_dir, rel, f"{where}.env_file") for rel in dict.fromkeys(rels)}
    for rel, file in files.items():
        if file not in parsed:
            parsed[file] = _env_file(read(str(file.relative_to(env_dir.parent))), rel, where)
    out: dict[str, str] = {}
    for rel in files:                              # keys in the order they are first set
        out.update(dict.fromkeys(parsed[files[rel]]))
    for rel in reversed(list(dict.fromkeys(reversed(rels)))):   # values from each file's last listing on
        out.update(parsed[files[rel]])
    return out


def _env_file(text: str, rel: str, where: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if "\0" in line:                  # exec would refuse the variable (rt11b p16)
            raise ValueError(f"{where}.env_file {rel!r} line {n}: a NUL byte")
        if not line or line.startswith("#"):
            continue
        key, eq, val = line.removeprefix("export ").partition("=")
        if not eq or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", key.strip()):
            raise ValueError(f"{where}.env_file {rel!r} line {n}: expected KEY=VALUE")
        val = val.strip()
        out[key.strip()] = val[1:-1] if len(val) > 1 and val[0] == val[-1] and val[0] in "'\"" else val
    return out


def _depends(value, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, list):
        return {str(d): "service_started" for d in value}
    if not isinstance(value, dict):
        raise ValueError(f"{where}.depends_on must be a list or a mapping")
    out = {}
    for d, spec in value.items():
        cond = (spec or {}).get("condition", "service_started") if isinstance(spec, dict) else None
        if cond not in CONDITIONS:
            raise ValueError(f"{where}.depends_on.{d}: condition {cond!r} is not one of {sorted(CONDITIONS)}")
        out[str(d)] = cond
    return out


def _volume(v, where: str, env_dir: Path, volumes: set[str]) -> tuple[str, str, bool]:
    if not isinstance(v, str):
        raise ValueError(f"{where}.volumes: only the short syntax 'source:target[:ro]' is supported, "
                         f"got {v!r}")
    parts = v.split(":")
    if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] not in ("ro", "rw")):
        raise ValueError(f"{where}.volumes: {v!r} is not 'source:target[:ro|rw]'")
    source, target = parts[:2]
    if not target.startswith("/") or ".." in target.split("/") or not target.strip("/"):
        raise ValueError(f"{where}.volumes: target {target!r} must be an absolute path without '..', not /")
    top = target.strip("/").split("/")[0]
    if where == f"services.{MAIN}" and (top in MAIN_SYSTEM or top.startswith("lib")):
        raise ValueError(f"{where}.volumes: target {target!r} is refused: the verifier's programs and tests "
                         "live there, and a volume is outside what tamper.py checks")
    if source.startswith((".", "/", "~")):
        if not source.startswith("."):
            raise ValueError(f"{where}.volumes: host path {source!r} is not supported (only paths inside "
                             "environment/, and named volumes)")
        source = "./" + str(_inside(env_dir, source, f"{where}.volumes").relative_to(env_dir))
    elif source not in volumes:
        raise ValueError(f"{where}.volumes: named volume {source!r} is not declared under top-level volumes")
    return source, target, len(parts) == 3 and parts[2] == "ro"


MAX_LINKS = 40                                   # as the kernel's ELOOP: more is a loop, or as good as one


def _inside(env_dir: Path, rel: str, where: str, under: str = ".") -> Path:
    """env_dir/under/rel as a path with no symlink in it, which must exist inside the task's environment/.
    Walked one component at a time with lstat; a link's target is read and walked in its place, from the
    link's directory, and one that is absolute or climbs out of environment/ is refused, as are more
    than MAX_LINKS links (a loop). Nothing here resolves a task's path against the host's root
    (Path.resolve() follows a link to / as the host's /, and raises RuntimeError on a loop: rt6 p14)."""
    if rel.startswith("/"):
        raise ValueError(f"{where}: {rel!r} is not a path inside environment/")
    todo, stack, links = [*under.split("/"), *rel.split("/")], [], 0
    while todo:
        part = todo.pop(0)
        if part in ("", "."):
            continue
        if part == "..":
            if not stack:
                raise ValueError(f"{where}: {rel!r} is not a path inside environment/")
            stack.pop()
            continue
        try:
            mode = os.lstat(env_dir.joinpath(*stack, part)).st_mode
        except (FileNotFoundError, NotADirectoryError):
            raise ValueError(f"{where}: {rel!r} is missing from environment/") from None
        if stat.S_ISLNK(mode):
            links += 1
            target = os.readlink(env_dir.joinpath(*stack, part))
            if links > MAX_LINKS or target.startswith("/"):
                raise ValueError(f"{where}: {rel!r} is not a path inside environment/ (a symlink "
                                 + ("loop)" if links > MAX_LINKS else f"to {target!r})"))
            todo[:0] = target.split("/")
        elif todo and [p for p in todo if p not in ("", ".")] and not stat.S_ISDIR(mode):
            raise ValueError(f"{where}: {rel!r} is missing from environment/")
        else:
            stack.append(part)
    return env_dir.joinpath(*stack)


def _healthcheck(spec, where: str) -> Healthcheck | None:
    if not isinstance(spec, dict):
        raise ValueError(f"{where}.healthcheck must be a mapping")
    for key in spec:
        if key not in ("test", "interval", "timeout", "retries", "start_period", "start_interval", "disable"):
            raise ValueError(f"{where}.healthcheck.{key} is not supported")
    test = spec.get("test")
    if spec.get("disable") or test in (["NONE"], "NONE"):
        return None
    if isinstance(test, list) and test and test[0] in ("CMD", "CMD-SHELL") and len(test) > 1:
        command = shlex.join(test[1:]) if test[0] == "CMD" else " ".join(test[1:])
    elif isinstance(test, str) and test:
        command = test
    else:
        raise ValueError(f"{where}.healthcheck.test must be [CMD, ...], [CMD-SHELL, ...] or a string")
    h = Healthcheck(command)
    for key in ("interval", "timeout", "start_period"):     # capped as [environment.healthcheck]'s are
        if key in spec:
            setattr(h, key, _seconds(spec[key], f"{where}.healthcheck.{key}"))
            if not (0 <= getattr(h, key) <= MAX_SECONDS if key == "start_period" else
                    0 < getattr(h, key) <= MAX_SECONDS):
                raise ValueError(f"{where}.healthcheck.{key} must be at most {MAX_SECONDS}s"
                                 f"{'' if key == 'start_period' else ' and more than 0s'}, got {spec[key]!r}")
    retries = spec.get("retries", 3)
    if isinstance(retries, bool) or not isinstance(retries, int) or not 1 <= retries <= MAX_RETRIES:
        raise ValueError(f"{where}.healthcheck.retries must be a whole number from 1 to {MAX_RETRIES}, "
                         f"got {retries!r}")
    h.retries = retries
    return h


def _seconds(value, where: str) -> float:
    """Docker's durations: '2s', '1m30s', '500ms', '1h'."""
    parts = re.findall(dockerfile.DURATION, str(value))
    if not parts or "".join(a + b for a, b in parts) != str(value):
        raise ValueError(f"{where} must be a duration like '5s' or '1m30s', got {value!r}")
    return sum(float(a) * {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6}[b] for a, b in parts)


def _order(services: dict[str, Service]) -> list[Service]:
    """Sidecars in depends_on order (each after those it depends on); a cycle is refused. Linear: the
    names done are a dict (rescanning a list per service was quadratic: rt11b p18)."""
    done: dict[str, Service] = {}
    visiting: set[str] = set()

    def visit(s: Service) -> None:
        if s.name in done:
            return
        if s.name in visiting:
            raise ValueError(f"services.{s.name}.depends_on: a cycle")
        visiting.add(s.name)
        for d in s.depends_on:
            visit(services[d])
        done[s.name] = s
    for s in services.values():
        visit(s)
    return list(done.values())
