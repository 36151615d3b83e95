"""The door to the environment: the Harbor / Terminal-Bench 2 task format (METHOD.md §8), tasks loaded
and checked, episodes started on their built environment (images.py, sandbox.py) as an Environment, the
verifier, and the Outcome an episode ends with. rollout, eval and echo use nothing below it.

    task/task.toml                 [agent] [verifier] [environment]: timeouts, resources, env, workdir,
                                   users, network, [environment.healthcheck]
    task/instruction.md            the prompt
    task/environment/Dockerfile    (+ its build context) the episode's environment (dockerfile.py)
    task/environment/docker-compose.yaml    sidecar services beside the main container (compose.py)
    task/tests/test.sh             the verifier: writes /logs/verifier/reward.txt or reward.json
    task/tests/Dockerfile          a separate verifier's image, tests/ its context (verify_separate)
    task/solution/solve.sh         the oracle (optional)

Every loader error is a TaskError, and every setup error a SetupError, with a one-line message starting
`task '<name>': `, so a run over thousands of tasks reports each bad one as one line and goes on.
"""
from __future__ import annotations

import fnmatch
import ipaddress
import itertools
import json
import math
import os
import re
import shlex
import stat
import sys
import threading
import time
import tomllib
import urllib.parse
from dataclasses import dataclass, field, replace
from functools import partial
from enum import Enum
from pathlib import Path

import compose
import dockerfile
import images
import sandbox
import sandbox_init
import tamper
from dockerfile import Step
from errors import ConfigError, EchoError, MissingError, one_line, say

# Caps on task.toml numbers: a typo like timeout_sec = 60000000 should fail at load, not hang a run.
MAXIMA = {"[agent].timeout_sec": 86400, "[verifier].timeout_sec": 7200,
          "[environment].build_timeout_sec": 7200, "[environment].cpus": 256,
          "[environment].memory_mb": 65536, "[environment].storage_mb": 262144}
# A symlink at one of these would copy a host file (~/.ssh/id_rsa) into an episode or a prompt. Links
# *inside* environment/ and tests/ are fine: the copier copies them as links.
NO_SYMLINKS = ("task.toml", "instruction.md", "environment", "environment/Dockerfile",
               "environment/docker-compose.yaml", "tests", "tests/test.sh", "tests/Dockerfile", "solution",
               "solution/solve.sh")
# The files the loader reads whole: a larger one is a bad task, refused in one line, not read into memory.
MAX_FILE_BYTES = 1 << 20
# tests/ and solution/ are copied whole into every episode that needs them (tests/ at every verify: staged on
# the host, then copied into /tests), and tests/ is walked by the trainer a few times a verify (_tree_stamp,
# the copy, the ground's readers): ~0.2 ms an entry whatever its size (rt12b p24: 2,000,000 empty files ~
# 365 s a verify), and each copy's calls name an entry by its path, walked by the kernel component by
# component, so a deep tree costs its depth at every entry (rt17a p23: 390 chains 250 deep, 97,500 entries,
# ~100 s of the trainer's CPU a verify). Entries alone do not bound that; entries and the sum of the
# entries' paths (in the tree, in bytes: depth and long names both count) do. Real tasks are far under both
# (55 sampled Harbor tasks: at most 46 entries and 1,026 bytes of paths in a tree); at both caps a verify
# costs the trainer 2-4 s of CPU (measured: 5,000 empty files; 79 chains 63 deep; 2,040 names of 255 bytes).
# Over either, the task is refused at load in one line, the walk stopped there: the check costs no more.
MAX_TREE_ENTRIES = 5_000
MAX_TREE_PATH_BYTES = 512 << 10


class TaskError(ConfigError):
    """A task that cannot be loaded; the message is one line starting `task '<name>': `."""


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
    allow_internet: bool | None        # [environment].allow_internet or network_mode; None: not set
    agent_network: bool | None         # [agent].network_mode, else allow_internet (the agent, the oracle)
    verifier_network: bool | None      # [verifier].network_mode, else allow_internet (test.sh)
    workdir: str                       # absolute, normalised, no '..'
    env: dict[str, str]                # [environment].env; the Dockerfile's ENV is the builder's to add
    verifier_env: dict[str, str]       # [verifier].env
    solution_env: dict[str, str]       # [solution].env: solve.sh's environment (the oracle's only)
    dockerfile: list[Step]             # [] without environment/Dockerfile
    has_solution: bool
    agent_user: str | None = None      # [agent].user: the agent and solve.sh; None: the image's USER
    verifier_user: str | None = None   # [verifier].user: test.sh; None: the image's USER
    healthcheck: Healthcheck | None = None       # [environment.healthcheck], awaited before the agent
    separate: SeparateVerifier | None = None     # the verifier's own container (Harbor's separate mode)
    compose: compose.Compose | None = None     # environment/docker-compose.yaml: the sidecar services


@dataclass
class Healthcheck:
    """[environment.healthcheck], Harbor's keys and defaults (Docker's HEALTHCHECK options): `command` is
    run until it exits 0; a failure in the first start_period_sec does not count (the next try comes
    start_interval_sec later), after it `retries` consecutive failures, interval_sec apart, fail the
    episode's setup. Each try is cut at timeout_sec."""
    command: str
    interval_sec: float = 5.0
    timeout_sec: float = 30.0
    start_period_sec: float = 0.0
    start_interval_sec: float = 5.0
    retries: int = 3


@dataclass
class Artifact:
    """One of task.toml's top-level `artifacts` (Harbor's ArtifactConfig, or a bare path): `source`, a path
    in the agent's container, or in the compose `service` named (schema 1.3: a sidecar holds it), is copied
    to the same path in a separate verifier's. `destination` is where Harbor collects it on the host
    (default: the source's name, under the trial's artifacts/); echo keeps no such collection, so it is only
    checked. `exclude`: globs left out of a directory (tar --exclude)."""
    source: str
    destination: str | None = None
    exclude: tuple[str, ...] = ()
    service: str | None = None


@dataclass
class SeparateVerifier:
    """[verifier].environment_mode = "separate", or a [verifier.environment] table (which implies it): as
    Harbor runs it, test.sh runs in a fresh container of its own, built from tests/Dockerfile with tests/ as
    its build context (the image holds the tests: tests/ is not copied in), with the resources of
    [verifier.environment] (without one, of a copy of [environment]). Its only inputs from the agent's
    container are /logs/artifacts and the task's `artifacts`, each copied to the same path."""
    dockerfile: list[Step]             # tests/Dockerfile
    workdir: str                       # [verifier.environment].workdir, else its WORKDIR, else Docker's "/"
    env: dict[str, str]                # [verifier.environment].env
    cpus: float
    memory_mb: int
    storage_mb: int
    build_timeout: float
    artifacts: list[Artifact]


def _show(value) -> str:
    """A value for a one-line message: repr escapes newlines, a long value is cut with '...'."""
    if isinstance(value, str):
        return repr(value[:60]) + ("..." if len(value) > 60 else "")
    r = repr(value)
    return r if len(r) <= 80 else r[:80].rsplit(" ", 1)[0] + " ..."


def _line(e: BaseException) -> str:
    """An error's message on one line, at most 200 characters."""
    return one_line(str(e))[:200]


def load_task(path) -> Task:
    """The task at `path`, or a TaskError of one line naming it. Invariant (rt6 p14, p15): EVERY exception
    raised while parsing a task's files becomes that one line (all but KeyboardInterrupt and SystemExit,
    which are not Exceptions), so a batch over thousands of tasks never stops at one; what a task holds
    cannot pick which exception a parser raises, so no list of expected ones is kept here."""
    path = Path(path)
    sandbox.hide_tasks(path)       # from every host-fallback episode of the run, not only its own (rt10b p20)
    shown = path.name if path.name.isprintable() else repr(path.name)[1:-1]   # a newline: '\n'
    def fail(msg: str) -> TaskError:
        return TaskError(f"task '{shown}': {msg}")
    def need(rel: str) -> Path:
        # a FIFO would block the read, a directory fail it; a link would read the host's file as root (an
        # instruction.md -> /etc/shadow in the policy's prompt)
        if (path / rel).is_symlink() or not (path / rel).is_file():
            raise fail(f"{rel} is not a regular file" if os.path.lexists(path / rel) else f"{rel} missing")
        return path / rel
    def read(rel: str) -> str:
        try:
            data = _task_file(str(need(rel)), MAX_FILE_BYTES + 1)
            if data is None:
                raise fail(f"{rel} is not a regular file")
            if len(data) > MAX_FILE_BYTES:
                raise fail(f"{rel} is over {MAX_FILE_BYTES >> 20} MiB")
            return data.decode("utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise fail(f"{rel} unreadable: {_line(e)}") from None

    try:
        return _load(path, fail, need, read)
    except TaskError:
        raise
    except Exception as e:                     # whatever its files hold (a link loop, `ports: 5`): one line,
        # so load_tasks goes on with the others (rt6 p14, p15); KeyboardInterrupt and SystemExit still stop
        raise fail(f"cannot be loaded: {type(e).__name__}: {_line(e)}") from None


def _load(path: Path, fail, need, read) -> Task:
    if not path.is_dir():
        raise fail(f"{path} is not a directory")
    if not path.name.isprintable():            # it is printed in every report line of the task's episodes
        raise fail("its directory name is not printable text (a newline, a control character or bytes that "
                   "are not UTF-8): rename it")
    for rel in NO_SYMLINKS:
        if (path / rel).is_symlink():
            raise fail(f"{rel} is a symlink (refused: it could expose host files); make it a regular file")
    text = read("task.toml")
    if DEEP_KEY.search(text):                  # tomllib takes time quadratic in a key's parts
        raise fail(f"task.toml has a dotted key or table name of over {DEEP_KEY_PARTS} parts")
    try:
        conf = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise fail(f"task.toml is not valid TOML: {str(e).splitlines()[0]}") from None
    except RecursionError:                     # tomllib recurses once per nesting level
        raise fail("task.toml is nested too deeply to parse") from None
    for section in ("agent", "verifier", "environment", "solution"):
        if not isinstance(conf.setdefault(section, {}), dict):
            raise fail(f"[{section}] must be a table, got {_show(conf[section])}")
    _harbor_features(conf, fail, path.name)      # first: a multi-step task has no instruction.md to miss
    instruction = read("instruction.md").strip()
    if not instruction:
        raise fail("instruction.md is empty")
    need("tests/test.sh")
    for tree in ("tests", "solution"):        # copied whole into episodes: checked whole, here
        _copyable(path, tree, fail)
    environ = conf["environment"]
    for size in ("memory", "storage"):           # Harbor also writes memory = "2G", storage = "10G"
        if size in environ and f"{size}_mb" not in environ:
            environ[f"{size}_mb"] = _megabytes(environ[size], f"[environment].{size}", fail)
    internet = environ.get("allow_internet")
    if not isinstance(internet, (bool, type(None))):
        raise fail(f"[environment].allow_internet must be true or false, got {_show(internet)}")
    internet = _network_mode(environ, "environment", fail, internet)
    agent_network = _network_mode(conf["agent"], "agent", fail, internet)
    verifier_network = _network_mode(conf["verifier"], "verifier", fail, internet)

    def number(key: str, default: float) -> float:
        section, field = key[1:].split("].")
        v = conf[section].get(field, default)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:    # `not >`: NaN fails too
            raise fail(f"{key} must be a positive number, got {_show(v)}")
        if not v <= MAXIMA[key]:    # an int as itself: a 400-digit one has no float to print as
            raise fail(f"{key} = {f'{v:.15g}' if isinstance(v, float) else _show(v)} is over the maximum "
                       f"{MAXIMA[key]}")
        return v

    steps, docker_workdir = [], None
    image = environ.get("docker_image")
    if image is not None:                      # Harbor's prebuilt image: used instead of the Dockerfile
        if not isinstance(image, str) or not image.strip():
            raise fail(f"[environment].docker_image must be an image reference, got {_show(image)}")
        try:                                   # resolved as a FROM line is (images.resolve)
            images.check_reference(image.strip())
        except images.BuildError as e:
            raise fail(f"[environment].docker_image: {e}") from None
        steps = [Step("FROM", image.strip(), 0)]
        if (path / "environment/Dockerfile").is_file():
            sandbox.say_once(f"task '{path.name}': [environment].docker_image {image.strip()!r} is its "
                             "environment, as in Harbor (without --force-build): environment/Dockerfile "
                             "is not built")
    elif (path / "environment/Dockerfile").is_file():
        text = read("environment/Dockerfile")
        try:   # every line is checked here: what would fail every episode's setup fails the load instead
            steps = dockerfile.parse(text)
            docker_workdir = dockerfile.workdir(steps)
            for line, ref in dockerfile.references(steps):   # the stages' bases, COPY --from images
                if ref != "host":              # `FROM ..`, `FROM /x`: never a path into an image store
                    try:
                        images.check_reference(ref)
                    except images.BuildError as e:
                        raise ValueError(f"line {line}: {e}") from None
            cap = images.layer_cap(images.CACHE)      # the default cache's; a build checks its own again
            for st in dockerfile.stages(steps):
                if st.layers > cap:
                    raise ValueError(f"line {st.line}: stage {st.name or st.index} has {st.layers} layers, "
                                     f"more than the {cap} an overlay mount of the image cache takes")
        except (ValueError, images.BuildError) as e:
            raise fail(f"environment/Dockerfile: {e}") from None
    if not steps or _copies_each_episode(steps):
        # no Dockerfile: environment/ is copied whole into every episode, as tests/ is (rt14b p18: 150,000
        # files were 29 s of every start); so is what a COPY or ADD takes from it at every episode's start,
        # on FROM host (no image to cache a layer on) or after `ARG TASK_SEED` (rt19b p31: 40,000 files,
        # 16 s a start)
        _copyable(path, "environment", fail)
    workdir = environ["workdir"] if "workdir" in environ else docker_workdir or "/app"
    separate, verifier_network = _separate_verifier(conf, path, fail, read, verifier_network)
    env = _env_table(environ.get("env", {}), "[environment].env", fail)
    if steps:                                  # pid 1 gets the Dockerfile's ENV and the task's env together
        replayed = dockerfile.final(steps)
        too_big = sandbox.env_overflow({**replayed.env, **env},
                                       {k: n for k, n in replayed.env_lines.items() if k not in env})
        if too_big:                            # E2BIG at the start reads as the machine's failure (rt11b p05)
            raise fail(f"environment/Dockerfile's ENV and [environment].env: {too_big}")
    services = None
    if (path / "environment/docker-compose.yaml").is_file():
        try:
            services = compose.load(path, env, read)
            for svc in services.services:
                ref = dockerfile.stage(svc.dockerfile)[0]
                if ref != "host":
                    images.check_reference(ref)
        except (ValueError, RecursionError, images.BuildError) as e:
            raise fail(f"environment/docker-compose.yaml: {_line(e)}") from None
        for svc in [services.main, *services.services]:      # a ./path volume: copied into every episode
            for source, _, _ in svc.volumes:                  # (resolved inside environment/, no link)
                if source.startswith("./"):
                    _copyable(path, os.path.normpath(f"environment/{source}"), fail)
    sidecars = [s.name for s in services.services] if services else []
    for a in separate.artifacts if separate else []:
        if a.service and a.service not in sidecars:
            raise fail(f"artifact {a.source!r}: service {a.service!r} is not one of "
                       "environment/docker-compose.yaml's services")
    return Task(name=path.name, path=path, instruction=instruction,
                agent_timeout=float(number("[agent].timeout_sec", 600)),
                verifier_timeout=float(number("[verifier].timeout_sec", 120)),
                build_timeout=float(number("[environment].build_timeout_sec", 600)),
                cpus=number("[environment].cpus", 1),
                memory_mb=math.ceil(number("[environment].memory_mb", 2048)),
                storage_mb=math.ceil(number("[environment].storage_mb", 10240)),
                allow_internet=internet, agent_network=agent_network, verifier_network=verifier_network,
                workdir=_workdir(workdir, fail),
                env=env,
                verifier_env=_env_table(conf["verifier"].get("env", {}), "[verifier].env", fail),
                solution_env=_env_table(conf["solution"].get("env", {}), "[solution].env", fail),
                dockerfile=steps, has_solution=(path / "solution/solve.sh").is_file(), compose=services,
                agent_user=_user(conf["agent"], "agent", fail),
                verifier_user=_user(conf["verifier"], "verifier", fail),
                healthcheck=_healthcheck(environ.get("healthcheck"), fail), separate=separate)


def _user(table: dict, section: str, fail) -> str | None:
    """[section].user: a name or a uid (Harbor's `str | int`), optionally `:group`, as Docker's USER takes
    it; the ids are resolved against the image's /etc/passwd when an episode starts."""
    value = table.get("user")
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < sandbox.ID_COUNT:
        return str(value)
    if isinstance(value, str) and re.fullmatch(r"[\w.-]+(:[\w.-]+)?", value) and not (
            value.split(":")[0].isdigit() and int(value.split(":")[0]) >= sandbox.ID_COUNT):
        return value
    raise fail(f"[{section}].user must be a user name or a uid below {sandbox.ID_COUNT} (optionally "
               f"':group'), got {_show(value)}")


def _healthcheck(table, fail) -> Healthcheck | None:
    """[environment.healthcheck] as a Healthcheck; a value echo cannot honour is refused in one line."""
    if table is None:
        return None
    where = "[environment.healthcheck]"
    if not isinstance(table, dict):
        raise fail(f"{where} must be a table, got {_show(table)}")
    if not isinstance(table.get("command"), str) or not table["command"].strip() or "\0" in table["command"]:
        raise fail(f"{where}.command must be a non-empty shell command, got {_show(table.get('command'))}")
    if len(table["command"].encode()) > dockerfile.COMMAND_MAX_BYTES:    # one `bash -c` string (E2BIG)
        raise fail(f"{where}.command: over {dockerfile.COMMAND_MAX_BYTES} bytes of command")
    values = {"command": table["command"]}
    for key in ("interval_sec", "timeout_sec", "start_period_sec", "start_interval_sec"):
        v = table.get(key, getattr(Healthcheck, key))
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not (
                0 <= v <= 3600 if key == "start_period_sec" else 0 < v <= 3600):
            raise fail(f"{where}.{key} must be a number of seconds in "
                       f"{'[0' if key == 'start_period_sec' else '(0'}, 3600], got {_show(v)}")
        values[key] = float(v)
    retries = table.get("retries", Healthcheck.retries)
    if isinstance(retries, bool) or not isinstance(retries, int) or not 1 <= retries <= 1000:
        raise fail(f"{where}.retries must be a whole number from 1 to 1000, got {_show(retries)}")
    return Healthcheck(**values, retries=retries)


def _separate_verifier(conf: dict, path: Path, fail, read, verifier_network: bool | None
                       ) -> tuple[SeparateVerifier | None, bool | None]:
    """(the separate verifier, the verifier's network). Harbor's rule for the mode: environment_mode if
    set, else "separate" when [verifier.environment] is, else "shared"; "shared" with a
    [verifier.environment] is refused. The verifier's network is [verifier].network_mode, else its
    environment's allow_internet / network_mode (without [verifier.environment]: [environment]'s)."""
    verifier = conf["verifier"]
    mode, table = verifier.get("environment_mode"), verifier.get("environment")
    if mode not in (None, "shared", "separate"):
        raise fail(f"[verifier].environment_mode must be 'shared' or 'separate', got {_show(mode)}")
    if table is not None and not isinstance(table, dict):
        raise fail(f"[verifier.environment] must be a table, got {_show(table)}")
    if mode == "shared" and table is not None:
        raise fail("[verifier].environment_mode = 'shared' conflicts with [verifier.environment]: drop the "
                   "table or set environment_mode = 'separate'")
    artifacts = _artifacts(conf.get("artifacts", []), fail)   # checked in either mode; used in separate
    if mode != "separate" and table is None:
        return None, verifier_network
    where = "[verifier.environment]"
    if table is None:                          # Harbor: a fresh copy of [environment], checked above
        table, where = conf["environment"], "[environment]"
    else:
        for key in table:
            if key not in HARBOR_KEYS["environment"]:
                sandbox.say_once(f"task '{path.name}': {where}.{key} not a Harbor task.toml key; ignored")
        for (section, key), (unrun, why) in UNRUN.items():
            if section == "environment" and key in table and unrun(table[key]):
                raise fail(f"{where}.{key} = {_show(table[key])} is not supported: {why}")
        for size in ("memory", "storage"):
            if size in table and f"{size}_mb" not in table:
                table = {**table, f"{size}_mb": _megabytes(table[size], f"{where}.{size}", fail)}
        internet = table.get("allow_internet")
        if not isinstance(internet, (bool, type(None))):
            raise fail(f"{where}.allow_internet must be true or false, got {_show(internet)}")
        internet = _network_mode(table, "verifier.environment", fail, internet)
        verifier_network = _network_mode(verifier, "verifier", fail, internet)
    if "docker_image" in table:
        raise fail(f"{where}.docker_image for a separate verifier is not supported: its image is built from "
                   "tests/Dockerfile, which holds the tests")
    if "healthcheck" in table:
        raise fail(f"{where}.healthcheck with a separate verifier is not supported: the verifier's container "
                   "is not health-checked")

    def number(key: str, default: float) -> float:
        v, most = table.get(key, default), MAXIMA[f"[environment].{key}"]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v <= most:
            raise fail(f"{where}.{key} must be a positive number up to {most}, got {_show(v)}")
        return v

    text = read("tests/Dockerfile") if (path / "tests/Dockerfile").is_file() else None
    if text is None:
        raise fail("the separate verifier's image needs tests/Dockerfile (tests/ is its build context)")
    try:
        steps = dockerfile.parse(text)
        docker_workdir = dockerfile.workdir(steps)
        ref = dockerfile.stage(steps)[0]
        if ref != "host":
            images.check_reference(ref)
    except (ValueError, images.BuildError) as e:
        raise fail(f"tests/Dockerfile: {e}") from None
    return SeparateVerifier(
        dockerfile=steps, workdir=_workdir(table.get("workdir", docker_workdir or "/"), fail),
        env=_env_table(table.get("env", {}), f"{where}.env", fail),
        cpus=number("cpus", 1), memory_mb=math.ceil(number("memory_mb", 2048)),
        storage_mb=math.ceil(number("storage_mb", 10240)),
        build_timeout=float(number("build_timeout_sec", 600)), artifacts=artifacts), verifier_network


# Each exclude glob is matched against every tail of every entry's path on the trainer's CPU: 40,000 of
# them kept a verify past 500 s (rt15b p14). Tasks list a few artifacts and patterns.
MAX_ARTIFACTS, MAX_EXCLUDES = 64, 64


def _artifacts(value, fail) -> list[Artifact]:
    """Top-level `artifacts`: paths, or tables {source, destination, exclude}, as Harbor's ArtifactConfig.
    A source must be an absolute path without '..' (it is looked up in the agent's container)."""
    if not isinstance(value, list):
        raise fail(f"artifacts must be a list, got {_show(value)}")
    if len(value) > MAX_ARTIFACTS:
        raise fail(f"artifacts: {len(value)} entries, over {MAX_ARTIFACTS}")
    out = []
    for i, a in enumerate(value):
        where = f"artifacts[{i}]"
        if isinstance(a, str):
            a = {"source": a}
        if not isinstance(a, dict) or set(a) - {"source", "destination", "exclude", "service"}:
            raise fail(f"{where} must be a path or a table of source, destination, exclude, service, got "
                       f"{_show(a)}")
        source, dest, exclude = a.get("source"), a.get("destination"), a.get("exclude", [])
        service = a.get("service")
        if service is not None and not (isinstance(service, str) and compose.SERVICE_NAME.fullmatch(service)):
            raise fail(f"{where}.service must be a compose service's name, got {_show(service)}")
        if not isinstance(source, str) or not source.startswith("/") or ".." in source.split("/") \
                or re.search(r"[\0\n\r]", source):
            raise fail(f"{where}.source must be an absolute path without '..', got {_show(source)}")
        if dest is not None and (not isinstance(dest, str) or not dest or "\0" in dest):
            raise fail(f"{where}.destination must be a path, got {_show(dest)}")
        if not isinstance(exclude, list) or not all(isinstance(x, str) and x for x in exclude):
            raise fail(f"{where}.exclude must be a list of patterns, got {_show(exclude)}")
        if len(exclude) > MAX_EXCLUDES or any(len(x) > 256 for x in exclude):
            raise fail(f"{where}.exclude: over {MAX_EXCLUDES} patterns or one over 256 characters (each is "
                       "matched against every entry's every tail)")
        out.append(Artifact("/" + os.path.normpath(source).lstrip("/"), dest, tuple(exclude),
                            None if service == "main" else service))
    return out


# Harbor's task.toml keys (its TaskConfig, schema 1.2) for the tables echo reads; [metadata], [task] and
# the rest are descriptions. A key not here is most often a typo (`[agent].timeout` for timeout_sec) that
# Harbor ignores too: said once, not refused. A key here that changes how the task runs and that echo does
# not run is refused (UNRUN): running the task without it would score something else than Harbor does.
HARBOR_KEYS = {
    "agent": {"timeout_sec", "user", "network_mode", "allowed_hosts"},
    "verifier": {"timeout_sec", "env", "user", "environment_mode", "environment", "network_mode",
                 "allowed_hosts"},
    "environment": {"build_timeout_sec", "docker_image", "os", "cpus", "memory_mb", "storage_mb", "gpus",
                    "gpu_types", "allow_internet", "mcp_servers", "env", "skills_dir", "healthcheck",
                    "workdir",
                    "memory", "storage", "network_mode", "allowed_hosts"},
    "solution": {"env"},
}
UNRUN = {  # (table, key): (is what the task sets something echo does not run?, what to say)
    ("environment", "os"): (lambda v: str(v).lower() != "linux", "only Linux tasks run here"),
    ("environment", "gpus"): (lambda v: v != 0, "sandboxes get no GPU"),
    ("", "steps"): (lambda v: True, "multi-step tasks are not run"),
}


def _harbor_features(conf: dict, fail, name: str) -> None:
    """Refuse what a task asks for that echo does not run (UNRUN); say once which keys are not Harbor's."""
    for (table, key), (unrun, why) in UNRUN.items():
        where = conf.get(table, {}) if table else conf
        if key in where and unrun(where[key]):
            value = where[key]
            shown = (f"[{len(value)} entries]" if isinstance(value, list)
                     else "a table" if isinstance(value, dict) else _show(value))
            raise fail(f"{f'[{table}].{key}' if table else key} = {shown} is not supported: {why}")
    if conf["environment"].get("mcp_servers"):  # Harbor hands them to agents that take MCP tools; its
        # compose services (the servers themselves) still start. Told once, not refused: the task runs as
        # Harbor runs it for an agent without MCP, as echo's is (it types bash commands).
        sandbox.say_once(f"task '{name}': [environment].mcp_servers not connected: echo's agent types bash "
                         "commands and takes no MCP tools (the servers' compose services still start)")
    unknown = [f"[{t}].{k}" for t, keys in HARBOR_KEYS.items() for k in conf[t] if k not in keys]
    if unknown:
        sandbox.say_once(f"task '{name}': {', '.join(unknown)} not a Harbor task.toml key; ignored")


# Harbor's network_mode values. "allowlist" (with allowed_hosts) is refused when the task loads: pasta
# forwards any destination and cannot filter hosts, and a task that asks for a filter must not silently
# get the whole network. "none" is an older spelling of "no-network".
NETWORK_MODES = {"public": True, "no-network": False, "none": False}


def _copyable(path: Path, tree: str, fail) -> None:
    """Every entry of the task's `tree` a regular file, directory or symlink (a FIFO would hang the copy, a
    device node be opened as root), no deeper than images.MAX_DEPTH (tests/: than pid 1 copies into /tests,
    sandbox_init.TMP_DEPTH less one: deeper failed every staged verify), at most MAX_TREE_ENTRIES of them
    and at most MAX_TREE_PATH_BYTES of their paths relative to the tree; walked without following links and
    without recursion, and stopped at the first cap passed (so this walk too costs no more than the caps)."""
    deepest = sandbox_init.TMP_DEPTH - 1 if tree == "tests" else images.MAX_DEPTH
    todo, entries, path_bytes = [(path / tree, 0, 0)] if (path / tree).is_dir() else [], 0, 0
    while todo:
        p, depth, prefix = todo.pop()          # prefix: the bytes of p's path in the tree, with its '/'
        for entry in os.scandir(p):
            entries += 1
            name = len(os.fsencode(entry.name))
            path_bytes += prefix + name
            if entries > MAX_TREE_ENTRIES:
                raise fail(f"{tree}/ has over {MAX_TREE_ENTRIES} files and directories (each is copied into "
                           "every episode that needs the tree): pack them in an archive")
            if path_bytes > MAX_TREE_PATH_BYTES:
                raise fail(f"{tree}/ has over {MAX_TREE_PATH_BYTES:,} bytes of paths (its entries' paths "
                           "in the tree, added up: each copy walks every entry's path, so depth and long "
                           "names cost at every entry): pack them in an archive")
            mode = entry.stat(follow_symlinks=False).st_mode
            if stat.S_ISDIR(mode):
                if depth >= deepest:
                    raise fail(f"{tree}/ is nested deeper than {deepest} directories")
                todo.append((Path(entry.path), depth + 1, prefix + name + 1))
            elif not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
                rel = os.path.relpath(entry.path, path)
                raise fail(f"{_show(rel)} is not a regular file, directory or symlink")


def _network_mode(table: dict, section: str, fail, default: bool | None) -> bool | None:
    """[section].network_mode as on (True) or off (False); `default` when the table does not set it."""
    if "network_mode" not in table:
        return default
    mode = table["network_mode"]
    if mode == "allowlist":
        raise fail(f"[{section}].network_mode 'allowlist' (allowed_hosts) is not supported: echo's network "
                   "cannot filter hosts; use 'public' or 'no-network'")
    if not isinstance(mode, str) or mode not in NETWORK_MODES:
        raise fail(f"[{section}].network_mode must be 'public' or 'no-network', got {_show(mode)}")
    return NETWORK_MODES[mode]


def _megabytes(value, key: str, fail) -> float:
    """Harbor's size strings, '2G', '512M', '1.5GiB', '10GB', in MB (binary units, as Docker's)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT])i?B?\s*", value, re.I) if isinstance(value, str) else None
    if not m:
        raise fail(f"{key} must look like '2G' or '512M', got {_show(value)}")
    return float(m[1]) * {"K": 1 / 1024, "M": 1, "G": 1024, "T": 1024 ** 2}[m[2].upper()]


KERNEL_DIRS = ("/proc", "/sys", "/dev")       # the kernel's (or the sandbox's own): no workdir there


def _workdir(value, fail) -> str:
    """Absolute, no '..' (the sandbox mounts it under its own root), normalised: '//a/b/' -> '/a/b'. One
    pid 1 can make: no component over NAME_MAX (255 bytes), at most PATH_MAX - 1 (4095) bytes in all, not
    under the kernel's /proc, /sys or /dev (rt8 p05: each failed the sandbox's start, booked as the
    machine's and retried)."""
    problem = ("is not a string" if not isinstance(value, str) else
               "contains a NUL or a newline" if re.search(r"[\0\n\r]", value) else
               "is not an absolute path" if not value.startswith("/") else
               "has a '..' component" if ".." in value.split("/") else
               "has a component over 255 bytes" if any(len(c.encode()) > 255 for c in value.split("/")) else
               "is over 4095 bytes" if len(value.encode()) > 4095 else
               "is under /proc, /sys or /dev" if any(tamper.within(
                   "/" + os.path.normpath(value).lstrip("/"), k) for k in KERNEL_DIRS) else None)
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
    too_big = sandbox.env_overflow(env)
    if too_big:
        raise fail(f"{where}: {too_big}")
    return env


# A dotted key of over DEEP_KEY_PARTS parts (tamper.DEEP_KEY: tomllib is quadratic in its parts) is refused.
DEEP_KEY_PARTS, DEEP_KEY = tamper.DEEP_KEY_PARTS, tamper.DEEP_KEY


def load_tasks(root, errors: list[str] | None = None) -> list[Task]:
    """Every subdirectory of root with a task.toml, by name. A bad task is reported as one line, in `errors`
    if given, else on stderr, and the rest still load. No loadable task at all is a FileNotFoundError."""
    root = Path(root)
    sandbox.hide_tasks(root)       # the whole tree given, with whatever else it holds (rt10b p20)
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
                say(str(e))
    if not tasks:
        raise MissingError(f"no loadable tasks in {root}: {len(dirs)} failed; first: {failed[0]}")
    return tasks


# ---- the door: episodes on the task's built environment (images.py), run in a sandbox (sandbox.py) -----
#
# Everything above the environment (rollout.py, eval.py, echo.py, bench.py) comes in here and nowhere else:
#     start_task(task, seed, limits, store=, internet=, log=) -> Environment     (raises SetupError)
#     env.run(command, timeout) -> Result(output, exit_code, timed_out)          an agent's command
#     env.start_clock(), env.budget                                             the episode clock
#     env.pause_clock(seconds)              it skips a wait the caller imposed (a batch-mate's command)
#     env.solve() -> Result, env.verify() -> (reward, reason)                   (raises VerifierError)
#     env.close(), or `with start_task(...) as env:`
# Another backend (Docker, Modal, ...) is a start_task returning an object with these methods; rollout and
# eval take it as their `start_task` argument. outcome_of(error) names any error the door raises.

Limits = sandbox.Limits    # an episode's environment limits; rollout.Limits adds the agent's to these


class Outcome(str, Enum):
    """Why an episode ended, as a value code can read (the sentence beside it is for people). Whether it
    was solved is the reward's to say: the verifier runs after DONE, TURN_LIMIT,
    CONTEXT_LIMIT and TOKEN_CAP."""
    DONE = "done"                              # the agent called done()
    TURN_LIMIT = "turn limit"                  # METHOD.md §4: max turns taken
    CONTEXT_LIMIT = "context limit"            # no room for another turn
    TOKEN_CAP = "token cap"                    # at the hard token cap with nothing cut: the verifier runs
    TOKEN_LIMIT = "token limit"                # over the hard token cap: reward 0, verifier skipped
    TIMEOUT = "timeout"                        # over the episode clock: reward 0, every mask zero
    SETUP_TASK = "setup failed (task)"         # the task's environment does not build (its Dockerfile)
    SETUP_MACHINE = "setup failed (machine)"   # the sandbox did not start, in both attempts
    MACHINE = "sandbox failed"                 # the sandbox died or failed mid-episode
    OUT_OF_MEMORY = "out of memory"            # its own cgroup's OOM killer acted: the agent's, reward 0
    VERIFIER_ERROR = "verifier error"          # the tests could not run or wrote a bad reward
    TAMPERED = "tampered"                      # the agent prepared the verifier's ground: reward 0, not run
    ERROR = "error"                            # anything else (a bug in an agent or the harness)

    @property
    def verified(self) -> bool:
        return self in (Outcome.DONE, Outcome.TURN_LIMIT, Outcome.CONTEXT_LIMIT, Outcome.TOKEN_CAP)

    @property
    def error(self) -> bool:
        """Something other than the agent ended it: setup, the machine, the verifier, or a bug."""
        return self in (Outcome.SETUP_TASK, Outcome.SETUP_MACHINE, Outcome.MACHINE, Outcome.VERIFIER_ERROR,
                        Outcome.ERROR)

    @property
    def machine(self) -> bool:
        """The machine failed, not the task or the agent: counted apart as an infrastructure error."""
        return self in (Outcome.SETUP_MACHINE, Outcome.MACHINE)


class SetupError(EchoError, RuntimeError):
    """A task's environment could not be built or started; one line naming the task. `infrastructure`:
    the machine failed (the sandbox did not start), not the task (its build failed)."""

    def __init__(self, message: str, infrastructure: bool = False):
        super().__init__(message)
        self.infrastructure = infrastructure


class VerifierError(EchoError, RuntimeError):
    """The verifier itself could not run (its test runner is missing, say) or wrote a reward that is not a
    number in [0, 1]: not a reward of 0."""


class TwoVerdicts(VerifierError):
    """reward.json and reward.txt disagree (_run_tests). Where the control run without the agent writes
    both as well, the task's own way (a score in reward.json, a pass in reward.txt): Harbor's order,
    reward.json's `reward`; else the agent's 0 (rt17a p07)."""

    def __init__(self, message: str, reward: float):
        super().__init__(message)
        self.reward = reward


class RunnerMissing(VerifierError):
    """test.sh's output shows its runner never started (runner_missing, or exit 126/127): the verifier's
    fault only if a control run without the agent shows it too (verify). `line`: the output's line that
    says so ("" for an exit status alone); `written`: the files of the agent's that the failure's own
    traceback names (failure_files), whose absence makes the control fail alike (_blame)."""

    def __init__(self, message: str, line: str = "", written: tuple[str, ...] = ()):
        super().__init__(message)
        self.line, self.written = line, written


class TamperedError(EchoError, RuntimeError):
    """The agent changed what the verifier would run on (tamper.py): the tests were not run. Reward 0, and
    the episode counts as Outcome.TAMPERED; the message lists the offending paths."""


def outcome_of(error: BaseException) -> Outcome:
    """The Outcome of an episode that ended with `error` (by its type, never its message)."""
    if isinstance(error, SetupError):
        return Outcome.SETUP_MACHINE if error.infrastructure else Outcome.SETUP_TASK
    if isinstance(error, TaskError):           # a task that does not load (its workdir, rt8 p05): its own
        return Outcome.SETUP_TASK
    if isinstance(error, sandbox.OutOfMemory):  # over the task's memory limit: the agent's failure, trained
        return Outcome.OUT_OF_MEMORY
    if isinstance(error, sandbox.SandboxError):
        return Outcome.MACHINE
    if isinstance(error, VerifierError):
        return Outcome.VERIFIER_ERROR
    if isinstance(error, TamperedError):
        return Outcome.TAMPERED
    return Outcome.ERROR


# The one retry policy: a start that failed because of the machine (the sandbox did not start) is tried
# once more, inside start_task; nothing else is retried anywhere (a failed build fails again, and a
# sandbox that dies mid-episode is an infrastructure error of that episode).
SETUP_ATTEMPTS = 2

_built: dict[tuple, object] = {}


def forget_builds() -> None:
    """Forget the process's built environments (they are looked up in the layer cache again), and the
    verdicts of control runs made on them (_blame)."""
    _built.clear()
    _controls.clear()


class Environment:
    """One episode's environment, as start_task returns it: the task's, for one instance seed."""

    def __init__(self, box: sandbox.Sandbox, task: Task, seed: int, image: tamper.Image | None = None,
                 verifier_network: bool = False, verifier_user: dockerfile.User | None = None,
                 verifier_image: images.State | None = None, services: Services | None = None,
                 scratch: Path | None = None):
        self.box, self.task, self.seed = box, task, seed
        self.scratch = scratch                 # the episode's layers of seeded earlier stages: removed last
        self.verifier_image = verifier_image              # a separate verifier's built image (build_verifier)
        self.services = services               # the sidecars of a compose task, closed with the episode
        self.verifier_network = verifier_network          # the network verify() gives test.sh
        self.verifier_user = verifier_user                # whom test.sh runs as (None: root)
        self.image = image or tamper.Image(["/"], box.hide)    # what the image shipped (tamper.py)
        # a fresh episode of the same task and seed through the same door (_start sets it): verify's
        # control run, which tells a runner missing from the agent's printing a runner's words
        self.fresh_start = None
        # The writable layer and volumes as the task's own setup left them, before the agent's first
        # command: their entries are the task's, not the agent's (the host fallback and seeded steps write
        # the layer, a bind volume starts as the task's files, a sidecar may fill a named one).
        self.baseline = {c.path: c.stamp for _, _, changes in ground(self) for c in changes}

    @property
    def budget(self) -> float:
        """The episode's wall clock in seconds: the smaller of the run's limit and task.toml's."""
        return self.box.limits.episode_timeout

    def start_clock(self) -> None:
        """The episode clock (which caps run()) starts now: when the agent starts, not the setup."""
        self.box.start_clock()

    def pause_clock(self, seconds: float) -> None:
        """The episode clock skips `seconds` the agent spent waiting on the caller (rollout's batch-mates'
        commands), not acting: it caps run() by the agent's own time."""
        self.box.pause_clock(seconds)

    def run(self, command: str, timeout: float = 30.0) -> sandbox.Result:
        """One agent command in the episode's persistent shell, capped by the episode clock."""
        return self.box.run(command, timeout)

    def exec(self, command: str, timeout: float) -> sandbox.Result:
        """A command off the episode clock (setup, the oracle, the verifier)."""
        return self.box.exec(command, timeout)

    def copy_in(self, src: Path, dest: str) -> None:
        self.box.copy_in(src, dest)

    def read_file(self, path: str, limit: int = 1 << 16) -> str | None:
        return self.box.read_file(path, limit)

    def memory_bytes(self) -> int | None:
        """Memory the episode uses now (its cgroup's charge), None where it cannot be measured."""
        return self.box.memory_bytes()

    def solve(self) -> sandbox.Result:
        return run_solution(self, self.task)

    def verify(self) -> tuple[float, str]:
        return verify(self, self.task, self.seed)

    def close(self) -> None:
        self.box.close()
        if self.services:
            self.services.close()
        if self.scratch:
            sandbox.rmtree(self.scratch)
            self.scratch = None

    def __enter__(self) -> "Environment":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def build_task(task: Task, store: Path | None = None, log=say, cache: Path | None = None,
               registry_nets: tuple[str, ...] = (), deadline: float | None = None):
    """The task's environment up to `ARG TASK_SEED`: its base image with the Dockerfile's steps built into
    cached layers (images.py; `cache`: the image cache, images.CACHE by default; `registry_nets`: the
    non-public networks its registry may be at, images.resolve). Remembered per process: later episodes
    only look it up. `deadline` (time.monotonic): the start's build clock, shared with its other images
    (_start); a fresh build_timeout_sec without one."""
    key = (task.path, store, cache, tuple(registry_nets))
    if key in _built:
        return _built[key]
    try:
        stages = dockerfile.stages(task.dockerfile)
    except ValueError as e:                    # load_task checked it; a Task made by hand may not be
        raise images.BuildError(str(e)) from None
    if deadline is None:                                  # one clock for the pulls and every step
        deadline = time.monotonic() + task.build_timeout
    # on the host's directories nothing is cached: build_stages returns the state after FROM
    state = images.build_stages(stages, dockerfile.cached_steps(stages[-1]), task.path / "environment",
                                task.build_timeout, task_limits(task, Limits()), store, log, cache,
                                deadline=deadline, registry_nets=tuple(registry_nets))
    _built[key] = state
    return state


def _copies_each_episode(steps: list[Step]) -> bool:
    """Whether the task's image copies from its build context in every episode: a COPY or ADD (not --from
    another stage or image) among the steps an episode runs, all of them FROM host, else those after
    `ARG TASK_SEED`."""
    base, _, last = dockerfile.stage(steps)
    each = last if base == "host" else last[len(_cached_steps(last)):]
    return any(s.instr.startswith(("COPY", "ADD")) and "--from" not in s.args for s in each)


def _cached_steps(steps: list[Step]) -> list[Step]:
    """The steps before `ARG TASK_SEED`: those after it make a task instance and run in every episode (a
    single-stage image's; a task's stages: dockerfile.cached_steps, which also follows COPY --from)."""
    for i, s in enumerate(steps):
        if dockerfile.is_seed(s):
            return steps[:i]
    return steps


def task_limits(task: Task, limits: Limits) -> Limits:
    """The limits of one of the task's episodes: the run's, with task.toml's resources, and its episode
    clock the smaller of the run's and [agent].timeout_sec (computed here, once)."""
    return replace(limits, episode_timeout=min(limits.episode_timeout, task.agent_timeout),
                   memory_mb=task.memory_mb, storage_mb=task.storage_mb, cpus=task.cpus)


def _fresh_start(task: Task, seed: int, limits, store, internet, log, cache, registry_nets,
                 budget: float = math.inf) -> Environment:
    """start_task for verify's control run (Environment.fresh_start), its setup's one clock no longer than
    `budget` seconds (what the verify has left)."""
    task = replace(task, build_timeout=max(0.001, min(task.build_timeout, budget)))
    return start_task(task, seed, limits, store, internet, log, cache, registry_nets)


def start_task(task: Task, seed: int = 0, limits: Limits | None = None, store: Path | None = None,
               internet: bool = True, log=say, cache: Path | None = None,
               registry_nets: tuple[str, ...] = ()) -> Environment:
    """The task's Environment for instance `seed`: the cached build below a fresh writable layer, the
    seeded steps run with TASK_SEED, the shell in the workdir and the episode clock just started.
    `limits` may be rollout.Limits (the environment reads only its own fields). Network per phase, as
    task_network says; `internet=False` (the trainer's --no-internet) turns the agent's phase off (the
    oracle and the seeded setup steps with it), never the verifier's. `store`: a local image store,
    `cache`: the image cache (images.py), `registry_nets`: as build_task.
    A start the machine failed is tried once more (SETUP_ATTEMPTS); a SetupError says why it failed.
    The task's verifier and setup clocks are at most limits.max_task_clock (--max-task-clock), said once."""
    task = capped_clocks(task, (limits or Limits()).max_task_clock, log)
    for attempt in range(1, SETUP_ATTEMPTS + 1):
        try:
            return _start(task, seed, task_limits(task, limits or Limits()), store, internet, log, cache,
                          registry_nets)
        except SetupError as e:
            if not e.infrastructure or attempt == SETUP_ATTEMPTS:
                raise
            log(f"{one_line(str(e))}; starting it once more")     # the task's text, escaped (rt10b p34)


_CAPPED: set[tuple[str, float]] = set()        # (task, cap) said once per run


def capped_clocks(task: Task, cap: float, log=say) -> Task:
    """task with its verifier's and its setup's clocks no longer than the run's cap (one line, once)."""
    if task.verifier_timeout <= cap and task.build_timeout <= cap:
        return task
    if (task.name, cap) not in _CAPPED:
        _CAPPED.add((task.name, cap))
        log(f"task '{task.name}': [verifier].timeout_sec {task.verifier_timeout:g} / build_timeout_sec "
            f"{task.build_timeout:g} capped at the run's --max-task-clock {cap:g} s")
    return replace(task, verifier_timeout=min(task.verifier_timeout, cap),
                   build_timeout=min(task.build_timeout, cap))


def task_network(task: Task, internet: bool = True) -> tuple[bool, bool]:
    """(the agent's network, the verifier's): the task's own per phase; where it sets nothing, Harbor's
    default (on) if pasta is installed, else off, said once. `internet=False` turns the agent's off."""
    def on(value: bool | None) -> bool:
        if value is None and not sandbox.network_available():
            sandbox.say_once("pasta (Debian package passt) is not installed: tasks that do not set their "
                             "network run without one (Harbor's default is on); tasks that ask for it refuse "
                             "to start")
        return sandbox.network_available() if value is None else value
    return on(task.agent_network) and internet, on(task.verifier_network)


def _start(task: Task, seed: int, limits: Limits, store, internet: bool, log, cache,
           registry_nets=()) -> Environment:
    agent_net, verifier_net = task_network(task, internet)
    if (agent_net or verifier_net) and not sandbox.network_available():
        raise SetupError(f"task '{task.name}': {sandbox.NETWORK_HELP}", infrastructure=True)
    services, plan = None, []                  # a compose task's sidecars (Services); the seeded steps
    scratch = None                             # the layers of earlier stages' seeded steps, this episode's
    # ONE build clock for every image this start builds: the main one, each sidecar's, the separate
    # verifier's. A clock per image let a task with N sidecars hold a start for (2 + N) x build_timeout_sec
    # (rt11b p24: 19 s against 4 s).
    build_deadline = time.monotonic() + task.build_timeout
    try:
        try:
            stages = dockerfile.stages(task.dockerfile)
        except ValueError as e:                # load_task checked it; a Task made by hand may not be
            raise images.BuildError(str(e)) from None
        last = stages[-1]
        if any(st.seeded is not None for st in stages[:-1]):
            # An earlier stage sees the seed: its steps from there, and what copies them, are built for this
            # episode with its seed (never cached), the cached layers below them built or found as usual.
            scratch = sandbox.scratch_dir()
            state = images.build_stages(stages, dockerfile.cached_steps(last), task.path / "environment",
                                        task.build_timeout, limits, store, log, cache,
                                        registry_nets=tuple(registry_nets), seed=seed, scratch=scratch,
                                        network=agent_net, deadline=build_deadline)
        else:
            state = build_task(task, store, log, cache, registry_nets, deadline=build_deadline)
        host = state.image.rootfs is None
        steps = last.steps
        seeded = steps if host else steps[len(dockerfile.cached_steps(last)):]   # host: nothing was built
        context = task.path / "environment"
        if not task.dockerfile and context.is_dir():   # copied in whole below: checked as a COPY's files
            for _ in images.walk_tree(context, context):
                pass
        # plan: (step, the state it runs in), the last with every ENV; never cached: their files are
        # copied, not hashed, per episode
        for step in seeded:
            state = images.advance(state, step, context, cache, keyed=False)
            plan.append((step, state))
        services = (Services(task, store, log, cache, registry_nets, volume_mb(limits), limits,
                             deadline=build_deadline) if task.compose else None)
        verifier_image = (build_verifier(task, store, log, cache, deadline=build_deadline)
                          if task.separate else None)
        main = task.compose.main if task.compose else None
        box = sandbox.Sandbox(task.workdir, env={**state.env, **task.env, **(main.env if main else {})},
                              limits=limits, layers=None if host else state.layers, network=agent_net,
                              hide=[task.path], mounts=services.mounts(main) if services else (),
                              mounts_in=services.dir if services else None, dirs=LOG_DIRS.split(),
                              cgroup_parent=services.group if services else None)
        box.__enter__()
    except (images.BuildError, sandbox.SandboxError, OSError) as e:
        _release(plan, scratch)
        if services:
            services.close()
        raise SetupError(f"task '{task.name}': {e}", infrastructure=not isinstance(
            e, (images.BuildError, sandbox.TaskSetupError))) from None        # the task's: its workdir
    try:
        # The episode's setup, once its images are built, has ONE clock, build_timeout_sec: the sidecars
        # started and awaited, the copy of a Dockerfile-less context, the seeded steps and the healthcheck
        # all wait within it (a check's `retries` or a step's `sleep` cannot stretch a start past it).
        deadline = time.monotonic() + task.build_timeout
        if services:                           # before the agent, in depends_on order
            services.start(box, limits, deadline, seed)
        if not task.dockerfile and context.is_dir():
            try:                                             # the task's files: its fault, as a COPY's
                box.copy_in(context, task.workdir, setup_left(deadline, "the copy of environment/"))
            except OSError as e:
                raise images.BuildError(f"environment/: {e}") from None
        for step, step_state in plan:
            left = setup_left(deadline, f"line {step.line}: {step.instr}")
            images.run_step(box, step, step_state, context, seed=seed, timeout=left)
        # Harbor mounts the trial's /logs/agent, /logs/verifier and /logs/artifacts (mode 777) into the main
        # container: they exist for the agent whatever its user (a separate verifier gets /logs/artifacts).
        # Pid 1 made them and the workdir (Sandbox(dirs=...)); seeded steps may have removed them or left
        # the shell elsewhere.
        if plan:
            box.exec(f"mkdir -p -m 777 {LOG_DIRS}; mkdir -p {shlex.quote(task.workdir)}; "
                     f"cd {shlex.quote(task.workdir)}", 10)
        verifier_user = _lifecycle(box, task, state, deadline)
        image = tamper.Image(["/"], box.hide) if host else tamper.Image([str(p) for p in state.layers])
        env = Environment(box, task, seed, image, verifier_network=verifier_net, verifier_user=verifier_user,
                          verifier_image=verifier_image,
                          services=services, scratch=scratch)
        # the same door again for verify's control run (task_limits is the same on limits it made)
        env.fresh_start = partial(_fresh_start, task, seed, limits, store, internet, log, cache, registry_nets)
        box.start_clock()                      # the episode clock starts when the agent does
        return env
    except HealthcheckError as e:
        box.close()
        _release(plan, scratch)
        if services:
            services.close()
        raise SetupError(f"task '{task.name}': {e}") from None
    except (images.BuildError, sandbox.SandboxError, OSError) as e:
        box.close()
        _release(plan, scratch)
        if services:
            services.close()
        raise SetupError(f"task '{task.name}': {e}", infrastructure=not isinstance(
            e, (images.BuildError, sandbox.TaskSetupError))) from None
    except BaseException:
        box.close()
        _release(plan, scratch)
        if services:
            services.close()
        raise


def _release(plan, scratch: Path | None) -> None:
    """A failed setup's leftovers: the downloads of seeded steps that did not run (not kept:
    images.release), the layers of earlier stages' seeded steps."""
    for _, step_state in plan:
        images.release(step_state.fetched, failed=True)
    if scratch:
        sandbox.rmtree(scratch)


def volume_mb(limits: Limits) -> int:
    """The size of the tmpfs a compose episode's volumes share: its storage, and (as its files count as the
    writers' memory) at most 3/4 of its memory as its cgroup enforces it (clamped to the machine: rt11b p17,
    a task's memory_mb = 65536 gave 48 GiB on a host of 24), as the writable layer's (Sandbox._storage_mb)."""
    return max(1, min(limits.storage_mb, sandbox.clamp_memory_mb(limits.memory_mb) * 3 // 4))


class HealthcheckError(EchoError, RuntimeError):
    """The task's healthcheck did not pass: the task's setup failed (Outcome.SETUP_TASK)."""


def setup_left(deadline: float, before: str) -> float:
    """Seconds left on the episode's setup clock (_start), or a BuildError (the task's fault) naming the
    wait it did not reach."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise images.BuildError(f"build_timeout_sec (the episode's setup, one clock) reached before {before}")
    return left


# Harbor's trial directories, which it mounts (mode 777) into the main container.
LOG_DIRS = "/logs/agent /logs/verifier /logs/artifacts"

# Harbor's main container: the image's ENTRYPOINT is kept and its command replaced by this one.
HARBOR_COMMAND = ["sh", "-c", "sleep infinity"]


def _lifecycle(box: sandbox.Sandbox, task: Task, state, deadline: float) -> dockerfile.User | None:
    """Harbor's start of the main container, after the setup steps: the agent's shell as [agent].user,
    the image's ENTRYPOINT started with HARBOR_COMMAND as its arguments (as `docker compose up` starts it;
    an ENTRYPOINT that ends with `exec "$@"` then sleeps), as the image's USER, in the background, and the
    image's HEALTHCHECK (as `docker compose up --wait`), then task.toml's healthcheck, awaited. Returns the
    verifier's user (None: root). Nothing of this runs for a task that sets none of it on an image without
    USER, ENTRYPOINT or HEALTHCHECK (a cached episode start does no more work)."""
    image_user = state.config.user
    def resolve(spec: str, where: str) -> dockerfile.User | None:
        if spec == "root":
            return None
        user = images.image_user(box, spec, state.env, where)
        return None if user.root else user
    default = resolve(image_user, f"USER {image_user}")
    agent = resolve(task.agent_user, "[agent].user") if task.agent_user else default
    if agent is not None:                      # the shell drops to the user for good (sandbox.set_user)
        box.set_user(agent)
    if state.config.entrypoint:
        box.start(shlex.join(state.config.entrypoint + HARBOR_COMMAND), user=default)
        if not (state.config.healthcheck or task.healthcheck):
            _await_settled(box, deadline)
    if state.config.healthcheck:               # `docker compose up --wait`: the image's HEALTHCHECK first
        _await_image_health(box, state.config.healthcheck, task.workdir, default, deadline)
    if task.healthcheck:
        _await_health(box, task, default, deadline)
    return resolve(task.verifier_user, "[verifier].user") if task.verifier_user else default


# An ENTRYPOINT without a healthcheck: the agent's first command waits until what it started settles. In
# Harbor the agent starts seconds after the container does (`docker compose up`, then the agent installed
# into it), and a service the ENTRYPOINT starts is usually up by then; here the first command would come
# at once (reverse_engineering_agent's control plane was still importing when the oracle's tests asked it).
# Settled: for SETTLE_WINDOW_S, no process of the sandbox ran or waited to run and their CPU time grew by
# under SETTLE_CPU of it; never longer than SETTLE_CAP_S (a service that computes for good), nor than the
# setup's clock. Nothing is judged: running out is not a failure, as Harbor waits for nothing.
SETTLE_WINDOW_S, SETTLE_CPU, SETTLE_CAP_S, SETTLE_POLL_S = 0.5, 0.1, 10.0, 0.05


def _await_settled(box: sandbox.Sandbox, deadline: float) -> float:
    """Wait until the sandbox's processes settle (above); returns the seconds waited."""
    t0 = time.monotonic()
    end = min(deadline, t0 + SETTLE_CAP_S)
    calm: list[tuple[float, float]] = []       # (time, CPU seconds) of the samples since the last busy one
    while (now := time.monotonic()) < end:
        cpu, busy = box.cpu()
        calm = [] if busy else [*calm, (now, cpu)]
        while len(calm) > 1 and now - calm[1][0] >= SETTLE_WINDOW_S:
            calm.pop(0)                        # the oldest sample that still spans the window is kept
        if calm and now - calm[0][0] >= SETTLE_WINDOW_S and cpu - calm[0][1] < SETTLE_CPU * SETTLE_WINDOW_S:
            break
        time.sleep(min(SETTLE_POLL_S, max(0.0, end - now)))
    return time.monotonic() - t0


def _await_health(box: sandbox.Sandbox, task: Task, user: dockerfile.User | None, deadline: float) -> None:
    """Run the healthcheck until it passes, as Harbor does before the agent's setup (as the image's USER):
    failures within start_period_sec are not counted; after it, the retries-th consecutive failure raises
    HealthcheckError with the check's last output, and so does the setup's clock running out (`deadline`)."""
    hc, t0, failures = task.healthcheck, time.monotonic(), 0
    while True:
        in_start = time.monotonic() - t0 < hc.start_period_sec
        try:
            left = setup_left(deadline, "the healthcheck passed")
        except images.BuildError as e:
            raise HealthcheckError(f"{e} ({failures} failures counted): {hc.command[:80]!r}") from None
        r = box.run_fresh(f"cd {shlex.quote(task.workdir)} || exit\n{hc.command}", min(hc.timeout_sec, left),
                          user=user)
        if r.exit_code == 0 and not r.timed_out:
            return
        if not in_start:
            failures += 1
            if failures >= hc.retries:
                why = f"timed out after {hc.timeout_sec:g} s" if r.timed_out else f"exit {r.exit_code}"
                last = one_line(r.output)[-200:]
                raise HealthcheckError(f"healthcheck failed {failures} times in a row ({why}"
                                       f"{': ' + last if last else ''}): {hc.command[:80]!r}")
        time.sleep(max(0.0, min(hc.start_interval_sec if in_start else hc.interval_sec,
                                deadline - time.monotonic())))


def _await_image_health(box: sandbox.Sandbox, h: dockerfile.Health, workdir: str,
                        user: dockerfile.User | None, deadline: float) -> None:
    """Harbor starts the main container with `docker compose up --wait`, which waits for the image's own
    HEALTHCHECK (the Dockerfile's, or its base image's) to pass: healthy at a try's first exit 0 (as the
    image's USER, in the workdir); unhealthy, the task's setup failure (HealthcheckError), once Docker
    would say so, start_period + retries x (interval + timeout) after the start, or at the end of the
    setup's clock (`deadline`). Tried every 0.2 s (as a compose sidecar's check), not every `interval`:
    it passes as soon as it can, never later than in Docker."""
    t0, command = time.monotonic(), shlex.join(h.test)
    patience = h.start_period + h.retries * (h.interval + h.timeout)
    while True:
        try:
            left = setup_left(deadline, "the image's HEALTHCHECK passed")
        except images.BuildError as e:
            raise HealthcheckError(f"{e}: {command[:80]!r}") from None
        r = box.run_fresh(f"cd {shlex.quote(workdir)} || exit\n{command}", min(h.timeout, left), user=user)
        if r.exit_code == 0 and not r.timed_out:
            return
        if time.monotonic() - t0 > patience:
            why = f"timed out after {h.timeout:g} s" if r.timed_out else f"exit {r.exit_code}"
            last = one_line(r.output)[-200:]
            raise HealthcheckError(f"the image's HEALTHCHECK is unhealthy after {patience:g} s ({why}"
                                   f"{': ' + last if last else ''}): {command[:80]!r}")
        time.sleep(max(0.0, min(0.2, h.interval, deadline - time.monotonic())))


class Services:
    """The sidecar services of a compose task for one episode (compose.py): each its own Sandbox, as
    contained as the main container (its image, writable layer, cgroup, seccomp), their cgroups and the
    main container's inside one of the episode's that holds the task's limits for all of them together
    (`group`), all in the main container's network namespace, so that they reach each other on localhost
    ports and by service name (an /etc/hosts of the episode's, bound read-only into every container). Named
    volumes
    are fresh directories of the episode, bind directories (./data) fresh copies of the task's: a service
    can never write the task's own files. Both live on one tmpfs of the episode's storage (capped_dir).
    The agent reaches every service, as it would in Docker: what a sidecar holds is the agent's to change
    (the verifier's reward check covers the main container only)."""

    def __init__(self, task: Task, store, log, cache, registry_nets=(), storage_mb: int | None = None,
                 limits: Limits | None = None, deadline: float | None = None):
        self.task, self.compose, self.boxes, self.group = task, task.compose, [], None
        self.binds: dict[str, Path] = {}       # ./path -> its copy for this episode
        self.limits, self.deadline = limits or Limits(), deadline   # the clock: start() moves it to setup's
        self.states = {s.name: build_service(task, s, store, log, cache, registry_nets, deadline=deadline)
                       for s in self.compose.services}
        self.dir = sandbox.scratch_dir()
        try:
            # One cgroup for the episode, holding the main container's and every sidecar's: the task's memory,
            # processes and CPU (clamped to 3/4 of the host's RAM) bound them together, never each of them
            # (rt10b p08: N sidecars held (1 + N) x memory_mb). Named as its scratch directory, so that a
            # sandbox's next start reaps it (Cgroup.reap) if this process dies.
            if limits is not None:
                self.group = sandbox.Cgroup.create(self.dir.name, limits,
                                                   group=1 + len(self.compose.services))
            # The volumes live on a tmpfs of the episode's storage (as its writable layer does), never
            # uncapped on the host's disk; the hosts file beside it.
            self.volumes = sandbox.capped_dir(self.dir / "volumes", storage_mb or task.storage_mb)
            names = " ".join(dict.fromkeys(n for s in [self.compose.main, *self.compose.services]
                                           for n in [s.name, *s.aliases]))
            (self.dir / "hosts").write_text(f"127.0.0.1\tlocalhost sandbox {names}\n"
                                            "::1\tlocalhost ip6-localhost ip6-loopback\n")
            for name in self.compose.volumes:
                # made as root: one component in the episode's tmpfs, never a path out of it (rt10b p29),
                # whatever built this Compose (compose.load refuses such a name in one line)
                if not compose.VOLUME_NAME.fullmatch(name):
                    raise images.BuildError(f"volume name {name[:60]!r} is not Docker's (refused)")
                (self.volumes / f"volume-{name}").mkdir()
                _own(self.volumes / f"volume-{name}")
        except BaseException:
            self.close()
            raise

    def mounts(self, svc: compose.Service) -> list[tuple[Path, str, bool]]:
        """svc's volumes (a fresh copy of a ./path on first use) and the episode's /etc/hosts."""
        out = [(self.dir / "hosts", "/etc/hosts", True)]
        for source, target, read_only in svc.volumes:
            if source.startswith("./"):
                copy = self.binds.setdefault(source, self.volumes / f"bind-{len(self.binds)}")
                if not copy.exists():
                    src = self.task.path / "environment" / source        # resolved when loaded
                    if src.is_symlink():               # a mount would follow it on the host
                        raise images.BuildError(f"volume {source!r} is a symlink (refused)")
                    for _ in images.walk_tree(src, self.task.path / "environment"):   # no device, no FIFO
                        pass
                    # by a process in the episode's cgroup: the copy is its memory (rt11b p17), ENOSPC
                    # past the volumes' size is the task's, and it runs within the setup clock
                    try:
                        sandbox.copy_charged(src, copy, self.group, self.limits, setup_left(
                            self.deadline, f"the copy of volume {source!r}") if self.deadline else 600.0)
                    except OSError as e:
                        raise images.BuildError(f"volume {source!r}: {e}") from None
                    for p in [copy, *(copy.rglob("*") if copy.is_dir() else [])]:
                        _own(p)
                out.append((copy, target, read_only))
            else:
                out.append((self.volumes / f"volume-{source}", target, read_only))
        return out

    def volumes_of_main(self) -> list[tuple[Path, str]]:
        """The main container's volumes: (the episode's directory, its target). The verifier's processes see
        them as they see the writable layer, and check_ground judges them alike; a read-only one too, as a
        sidecar may mount the same volume writable (and the agent reaches every sidecar)."""
        return [(d, target) for d, target, _ in self.mounts(self.compose.main)[1:]]

    def start(self, main: sandbox.Sandbox, limits: Limits, deadline: float, seed: int | None = None) -> None:
        """Each sidecar in order, its command started in the background (or, for one that a service
        waits on with service_completed_successfully, run to its end, which must be exit 0), and its
        healthcheck awaited where it has one: every wait within the episode's setup clock (`deadline`)."""
        self.deadline = deadline
        run_once = {d for s in [self.compose.main, *self.compose.services]
                    for d, cond in s.depends_on.items() if cond == "service_completed_successfully"}
        awaited = {d for s in [self.compose.main, *self.compose.services]
                   for d, cond in s.depends_on.items() if cond == "service_healthy"}
        for svc in self.compose.services:
            state = self.states[svc.name]
            host = state.image.rootfs is None
            steps = dockerfile.stage(svc.dockerfile)[2]
            plan = []                          # the host fallback's steps, and those after `ARG TASK_SEED`,
            for step in steps if host else steps[len(_cached_steps(steps)):]:   # run in every episode
                state = images.advance(state, step, svc.context, keyed=False)
                plan.append((step, state))
            box = sandbox.Sandbox(svc.workdir or state.config.workdir, env={**state.env, **svc.env},
                                  limits=limits, layers=None if host else state.layers, network_of=main,
                                  hide=[self.task.path], mounts=self.mounts(svc), mounts_in=self.dir,
                                  cgroup_parent=self.group)
            self.boxes.append(box)
            box.__enter__()
            where = f"service {svc.name!r}"
            command = self.command(svc, state, where)
            for step, step_state in plan:
                images.run_step(box, step, step_state, svc.context, seed=seed,
                                timeout=setup_left(deadline, f"{where}, line {step.line}: {step.instr}"))
            if svc.name in run_once:
                r = box.exec(command, setup_left(deadline, f"{where}'s command"))
                if r.timed_out:                # cut at the clock's end: the task's fault, as a stalled step
                    raise images.BuildError(f"build_timeout_sec (the episode's setup, one clock) reached "
                                            f"before {where}'s command {command[:80]!r} ended")
                if r.exit_code:
                    raise images.BuildError(f"{where}: {command!r} failed (exit {r.exit_code}): "
                                            f"{one_line(r.output)[-200:]}")
            else:                              # its output to a file of its own: a full pipe would stop it
                box.exec(f"({command}) </dev/null >/tmp/echo-service.log 2>&1 &",
                         min(30.0, setup_left(deadline, f"{where}'s command")))
            if svc.healthcheck:
                self._await_health(box, svc, where, deadline)
            elif svc.name in awaited and not state.config.healthcheck:      # as compose refuses it
                raise images.BuildError(f"{where}: a service waits for it to be healthy (service_healthy), "
                                        "but neither compose nor its image gives it a healthcheck")
            elif state.config.healthcheck and svc.name not in run_once:   # its image's, as `up --wait`
                try:
                    _await_image_health(box, state.config.healthcheck, svc.workdir or state.config.workdir,
                                        None, deadline)
                except HealthcheckError as e:
                    raise images.BuildError(f"{where}: {e}") from None

    def box(self, name: str) -> sandbox.Sandbox:
        """The running sandbox of sidecar `name` (start() starts them in compose.services' order)."""
        return self.boxes[[s.name for s in self.compose.services].index(name)]

    @staticmethod
    def command(svc: compose.Service, state, where: str) -> str:
        """A sidecar's command line, as Docker runs it (compose.argv): compose's entrypoint and command over
        its built image's ENTRYPOINT and CMD (its Dockerfile's, else its base image's config: a registry's
        image has one; an image store's tar file and a stand-in base have none). Nothing to run is the
        task's setup failure, in one line."""
        words = compose.argv(svc.entrypoint, svc.args, state.config.entrypoint, state.config.cmd)
        if not words:
            raise images.BuildError(f"{where}: no command to run: neither compose nor its image (FROM "
                                    f"{dockerfile.stage(svc.dockerfile)[0]}, {state.image.source}) gives an "
                                    "ENTRYPOINT or CMD: give the service a command")
        return shlex.join(words)

    @staticmethod
    def _await_health(box: sandbox.Sandbox, svc: compose.Service, where: str, setup: float) -> None:
        """Docker marks a service healthy at its check's first success and unhealthy after start_period
        plus `retries` failures: polled here more often than every `interval`, to start sooner, and never
        past the episode's setup clock (`setup`)."""
        h, deadline = svc.healthcheck, time.monotonic() + svc.healthcheck.patience
        while True:
            r = box.exec(h.command, min(h.timeout, setup_left(setup, f"{where} is healthy")))
            if r.exit_code == 0:
                return
            setup_left(setup, f"{where} is healthy ({h.command[:80]!r} exit {r.exit_code})")
            if time.monotonic() > deadline:
                raise images.BuildError(f"{where} is not healthy after {h.patience:g} s: {h.command!r} "
                                        f"exit {r.exit_code}: {one_line(r.output)[-200:]}")
            time.sleep(min(h.interval, 0.2))

    def close(self) -> None:
        for box in reversed(self.boxes):
            box.close()
        self.boxes = []
        if self.group:                         # after the main container's box (Environment.close)
            self.group.remove()
            self.group = None
        sandbox.rmtree(self.dir)


def _own(path: Path) -> None:
    """The sandboxes' root (host uid H) owns path, as the image's root owns its files."""
    if os.getuid() == 0:
        os.lchown(path, sandbox.id_map().host_root, sandbox.id_map().host_root)


def build_service(task: Task, svc: compose.Service, store: Path | None = None, log=say,
                  cache: Path | None = None, registry_nets=(), deadline: float | None = None):
    """A sidecar's image, as build_task builds the main one (its Dockerfile, or FROM its image, with
    the build context compose names), within `deadline` (the start's build clock) if given: remembered
    per process."""
    return _build_image((task.path, svc.name, store, cache, tuple(registry_nets)), svc.dockerfile,
                        _cached_steps, svc.context, task.build_timeout, store, log, cache, registry_nets,
                        where=f"service {svc.name!r}: ", deadline=deadline)


def _build_image(key, steps: list[Step], cached, context: Path, timeout: float, store, log, cache,
                 registry_nets=(), where: str = "", deadline: float | None = None):
    """One single-stage image (a separate verifier's, a sidecar's): its base resolved, then the steps
    `cached` keeps built into cached layers within one `timeout` (or by `deadline`, a clock the caller
    shares with its other images); remembered per process under `key`."""
    if key in _built:
        return _built[key]
    try:
        ref, build_args, steps = dockerfile.stage(steps)
    except ValueError as e:
        raise images.BuildError(f"{where}{e}") from None
    if deadline is None:
        deadline = time.monotonic() + timeout
    try:                                       # which image ran out of the start's one clock, by name
        image = images.resolve(ref, store, log, cache, deadline=deadline, registry_nets=tuple(registry_nets))
        state = images.start_state(image, build_args)
        if image.rootfs is not None:
            state = images.build(cached(steps), state, context, timeout, log, cache, deadline=deadline)
    except images.BuildError as e:
        raise images.BuildError(f"{where}{e}") from None
    _built[key] = state
    return state


def run_solution(env: Environment, task: Task) -> sandbox.Result:
    """The oracle: copy solution/ to /solution and run solve.sh in the workdir with [solution].env (without
    TASK_SEED)."""
    if not task.has_solution:
        raise FileNotFoundError(f"task '{task.name}': solution/solve.sh missing")
    env.copy_in(task.path / "solution", "/solution")
    env_ = " ".join(shlex.quote(f"{k}={v}") for k, v in task.solution_env.items())   # env(1): any name
    return env.exec(f"cd {shlex.quote(task.workdir)} && env {env_} bash /solution/solve.sh",
                    task.agent_timeout)


# A line of test.sh's output that says its test runner could not run: bash names the script for a missing
# command ("/tests/test.sh: line 3: pytest: command not found"), python -m for a missing module
# ("/usr/bin/python3: No module named pytest"; a test's own failed import reads "ModuleNotFoundError: ...");
# pytest itself unimportable, pytest's internal and usage errors (exit 3, 4), a conftest of /tests that does
# not import, a plugin named on its command line that does not import (`-p xdist` without it: rt7 p06), and no
# tests collected (exit 5). A collection error (exit 2) is not here: it is most often the
# agent's missing module, which is a failed episode. Agent code that test.sh runs can print these lines; that
# makes its episode a verifier error, which trains as reward 0 all the same (rollout.masks keeps it).
# pytest's summary when it ran no test (exit 5), as its options word it: `==== no tests ran in 0.01s ====`,
# without the banner under -q (rt6 p17), `(0:01:15)` after a minute, and only deselected or warnings counted
# when -k deselected every test or a file only warns. -qq prints no summary at all: nothing to read there.
NO_TESTS_RAN = r"(no tests ran|\d+ (deselected|warnings?)(, \d+ (deselected|warnings?))*)"
ANSI = re.compile(r"\x1b\[[0-9;]*m")            # --color=yes: the summary line's colours
# A runner is often started through another program, whose "could not exec" is worded by its own convention
# (each then exits 127, or 126, which a later `[ $? -eq 0 ]` hides): a shell of its own (`bash -c`: "bash:
# line 1: x: command not found"; dash's `sh -c`: "sh: 1: x: not found"; busybox, sudo: "sh: x: not found"),
# coreutils and util-linux wrappers ("timeout|nohup|stdbuf|chroot: failed to run command 'x': ...";
# "setsid|flock|taskset|unshare|ionice|setpriv: failed to execute x: ..."; "/usr/bin/time: cannot run x:
# ..."), and those that name the command alone ("env|nice: 'x': ...", "xargs: x: ..."). Only these programs'
# own lines count: `cat: /app/out.txt: No such file or directory` under any of them is a failed check.
# Other languages' runners that never started (rt7 p05), each as its own program words it: node's require()
# and import of a package (a runner, its dependency) or of the tests' own file (`Error: Cannot find module
# 'mocha'`, `Error [ERR_MODULE_NOT_FOUND]: Cannot find package 'mocha' imported from ...`: node 20's
# loader, measured here; a path of the agent's, '/app/x.js' or './x', is the check failing); java's
# launcher (`Error: Could not find or load main class org.junit...`: its launcher.properties, measured with
# openjdk 17); ruby's require of a library (`` in `require': cannot load such file -- rspec (LoadError)``,
# 3.4 quotes 'Kernel#require': load.c's load_failed; require_relative, the agent's files, is not) and of
# a script under /tests (`ruby: No such file or directory -- /tests/x.rb (LoadError)`); go's GOPATH
# lookup (`cannot find package "x" in any of:`, go/build's Import); cargo without a subcommand (`error: no
# such command: `nextest``, measured with cargo 1.95). `go: command not found` is bash's line above.
# A test framework that never loaded, in its language's words for any missing module (rt10a p16: the Debian
# base's perl-base has no Test::More, and `perl /tests/t.t` scored a silent 0): only for a framework's own
# names (TEST_FRAMEWORKS), since the agent's module missing in the same words (`use Solution;`, R's
# library(mypkg)) is the check failing. Perl's require (`Can't locate Test/More.pm in @INC (...)`, measured
# with perl 5.36, also after prove's `t.t .. `), R's library() and loadNamespace() (`there is no package
# called 'testthat'`, sQuote: curly in a UTF-8 locale), Lua's require (`module 'luaunit' not found:`),
# PHP's class loader (`Class "PHPUnit\Framework\TestCase" not found`; PHP 7 quotes with ').
TEST_FRAMEWORKS = {"perl": r"(Test2?|TAP)/[\w/]+", "R": r"testthat|tinytest|RUnit|testit",
                   "lua": r"busted|luaunit|luassert", "php": r"PHPUnit"}
# And runners that say they ran nothing, or could not find what they were told to run, in their own words
# (the same shape as pytest's "no tests ran"): prove over no .t file (`Result: NOTESTS`, exit 0, measured)
# or given a /tests file it cannot find (`Cannot detect source of '/tests/x.t'!`), php given a /tests script
# it cannot open, the dotnet host without its SDK or the command (`No .NET SDKs were found.`, `Could not
# execute because the specified command or file was not found.`), unittest's `Ran 0 tests in 0.000s`
# (3.12 adds `NO TESTS RAN`), jest's and vitest's `No tests found, exiting with code 1`, mocha's `Error: No
# test files found`. A missing module with no runner line at all is NOT read as a runner missing: most
# often it is the agent's missing deliverable (tests that `import solution`), and a verifier error is
# counted apart from the pass rate (eval.py), so a broad rule would let a failing agent drop out of it.
# And npx/npm exec unable to fetch the runner: offline (`npm error code ENOTCACHED`, rt11a p05), or with no
# route to the registry (EAI_AGAIN, ENOTFOUND, ECONNREFUSED, ECONNRESET, ETIMEDOUT: rt13b p14, measured).
# And uv's `uv run pytest` where the environment lacks it: `error: Failed to spawn: `pytest`` (rt14a p16;
# a bare name, as `command not found`: a path is more often the agent's missing build).
RUNNER_MISSING = re.compile(r"/tests/test\.sh: line \d+: .*(command not found|No such file or directory"
                            r"|Permission denied)$|^\S*python[\d.]*: No module named \S+$"
                            r"|^\S+: (line \d+: |\d+: )?\S+: (command )?not found$"
                            r"|^\S+: (failed to (run command|execute)|cannot run) \S+: "
                            r"(No such file or directory|Permission denied)$"
                            r"|^(\S*/)?(env|nice|xargs|nohup|sudo|doas|runcon|numactl): \S+: "
                            r"(No such file or directory|Permission denied|command not found)$"
                            r"|^(ModuleNotFoundError|ImportError): "
                            r"No module named '(_?pytest|pluggy|iniconfig)'"
                            r"|^INTERNALERROR>|^ERROR: usage: |^ImportError while loading conftest '/tests/"
                            r"|^(ERROR: |ImportError: )?Error importing plugin \""
                            r"|^Error( \[ERR_MODULE_NOT_FOUND\])?: Cannot find (module|package) '[^'./]"
                            r"|^Error: Could not find or load main class \S+$"
                            r"|in [`'](Kernel#)?require': cannot load such file -- [^/.\s]\S* \(LoadError\)$"
                            r"|cannot find package \"[^\"]+\" in any of:$|^error: no such command: `\S+`$"
                            r"|^(=+ )?" + NO_TESTS_RAN + r" in [\d.]+s( \(\d+:\d\d:\d\d\))?( =+)?$"
                            r"|Can't locate (" + TEST_FRAMEWORKS["perl"] + r")\.pm in @INC"
                            r"|there is no package called [\u2018'](" + TEST_FRAMEWORKS["R"] + r")[\u2019']"
                            r"|module '(" + TEST_FRAMEWORKS["lua"] + r")(\.[\w.]+)?' not found:"
                            r"|Class [\"']\\?(" + TEST_FRAMEWORKS["php"] + r")\\[\w\\]+[\"'] not found"
                            r"|^Result: NOTESTS$"
                            r"|^No \.NET SDKs were found\.$"
                            r"|^Could not execute because the specified command or file was not found\.$"
                            r"|^Ran 0 tests in [\d.]+s$|^NO TESTS RAN"
                            r"|^No tests? (files )?found, exiting with code 1$|^Error: No test files found"
                            r"|^error: Failed to spawn: `?[^/\s`]+`?$"
                            r"|^npm (error|ERR!) code "
                            r"(ENOTCACHED|EAI_AGAIN|ENOTFOUND|ECONNREFUSED|ECONNRESET|ETIMEDOUT)$")
# A program test.sh started that could not open the file it was told to run: the runner never started where
# that file is the verifier's own, else the check failed (the agent's missing build is worded alike:
# `java -jar /app/target/app.jar`). Decided by where the file comes from, never by the words: the tests
# ship it (under /tests: rt11a p19, p24, the runner script the task forgot to ship), or they download it
# themselves (rt11a p14: `curl -o /tmp/junit.jar` fails offline, then `Error: Unable to access jarfile
# /tmp/junit.jar`; fetched_paths), and the instruction does not name it (the agent's deliverable). In each
# program's words (node's, ruby's, php's and prove's for a /tests file, above, are read here): python's,
# bash's, dash's, unittest's start directory or a path given as a module, java's launcher (a jar missing or
# not a jar: an error page saved by `curl` without -f), node's, ruby's, php's, prove's and perl's.
UNOPENED = re.compile(r"^\S*python[\d.]*: can't open file '(?P<py>[^']+)'"
                      r"|^(\S*/)?\w*sh: (?P<sh>[^\s:]+): No such file or directory$"
                      r"|^(\S*/)?\w*sh: \d+: cannot open (?P<dash>\S+): No such file$"
                      r"|^ImportError: Start directory is not importable: '(?P<unittest>[^']+)'"
                      r"|^ModuleNotFoundError: No module named '(?P<module>/[^']+)'"
                      r"|^Error: (Unable to access|Invalid or corrupt) jarfile (?P<jar>.+)$"
                      r"|^Error( \[ERR_MODULE_NOT_FOUND\])?: Cannot find (module|package) '(?P<node>/[^']+)'"
                      r"|^ruby: No such file or directory -- (?P<ruby>\S+) \(LoadError\)$"
                      r"|^Could not open input file: (?P<php>\S+)"
                      r"|^Cannot detect source of '(?P<prove>[^']+)'"
                      r"|^Can't open perl script \"(?P<perl>[^\"]+)\": No such file"
                      # mawk and busybox, then gawk (whose quote opens with a backtick)
                      r"|^(\S*/)?m?awk: cannot open (?P<awk>\S+) \(No such file"
                      r"|^(\S*/)?g?awk: fatal: can(no|')t open source file [`'](?P<gawk>[^']+)' for reading"
                      # sed -f, make -f, jq -f, tclsh (rt12a p35); make -C (`make: *** DIR: No such file
                      # or directory.  Stop.`, GNU make 4.3) and `node --test` (node 20): rt13a p15, p07
                      r"|^(\S*/)?sed: couldn't open file (?P<sed>[^:]+): No such file"
                      r"|^make: (?P<make>/[^:]+): No such file or directory$"
                      r"|^make(\[\d+\])?: \*\*\* (?P<make_c>/[^:]+): No such file or directory\.  Stop\.$"
                      r"|^Could not find '(?P<node_test>/[^']+)'$"
                      r"|^jq: (error: )?Could not open (?P<jq>[^:]+): No such file"
                      r"|^couldn't read file \"(?P<tcl>[^\"]+)\": no such file")


# A program or path a shell says is missing or not executable: the deliverable's (under the workdir, or a
# path the instruction names) is the agent's work left undone, never the task's runner (rt17a p01-p03, p25:
# `/app/count.sh: No such file or directory` where the agent wrote nothing, or printed that line itself, or
# took the x bit off its script, became the task's verifier error, in the control run as well). The path's two
# runs are possessive, split at its first '/': `[^:\s]*/[^:\s]*` tried every '/' of a line as the split,
# quadratic (rt18a p04: a 16,000-char line of '/' held the GIL 3 s; every pattern here stays linear, tested).
SHELL_MISSING = re.compile(r"(?:^|: )(?:line \d+: |\d+: )?(?P<p>[^:\s/]*+/[^:\s]*+): (?:command not found|"
                           r"No such file or directory|Permission denied|not found)$")


def names_deliverable(line: str, workdir: str, asked: frozenset[str] = frozenset()) -> bool:
    """Whether a shell's missing-program line names a path under the workdir (not /) or one the
    instruction names (`asked`): the agent's deliverable (SHELL_MISSING)."""
    m = SHELL_MISSING.search(line)
    if not m:
        return False
    path = os.path.normpath(os.path.join(workdir, m["p"]))
    return workdir != "/" and tamper.within(path, workdir) or path in asked


def runner_missing(line: str, fetched: frozenset[str] = frozenset(), workdir: str = "/",
                   asked: frozenset[str] = frozenset()) -> bool:
    """Whether a line of test.sh's output (ANSI colours dropped, stripped) says its runner never started:
    RUNNER_MISSING's words, or a file the verifier's own that a program could not open (UNOPENED): under
    /tests, or one of `fetched` (the tests' downloads, relative ones to the workdir) that the instruction
    does not name (`asked`: its absolute paths). A relative path is test.sh's cwd's, the workdir."""
    if RUNNER_MISSING.search(line):
        return not names_deliverable(line, workdir, asked)
    m = UNOPENED.search(line)
    if not m:
        return False
    at = lambda p: os.path.normpath(os.path.join(workdir, p))          # noqa: E731
    path = at(next(v for v in m.groupdict().values() if v))
    return tamper.within(path, "/tests") or path in {at(f) for f in fetched} and path not in asked


# Where a runner's failure came from, in its own lines: after the runner's line, the traceback pytest prints
# for a conftest that does not import (`/app/app.py:3: in <module>`, its source indented, `E   ` lines), and
# before an exception line, Python's traceback up to its `Traceback (most recent call last):`. A file of the
# agent's there (rt20a p17: /tests/conftest.py imports the agent's app.py, which raises) makes a control
# that fails alike without the agent's files no evidence against the task (_blame). Nothing else of the
# output is read: a path the agent's program printed elsewhere does not tie the runner's failure to it.
TRACE_LINE = re.compile(r"\s|E |\S+:\d+: ")              # a frame's source, pytest's frame or error line
EXCEPTION_LINE = re.compile(r"[\w.]+(Error|Exception): ")
# a frame's file as pytest (relative to its cwd: `app.py:3: in <module>`) or Python (`File "x.py", line 3`)
# names it, or any absolute path of the block (TESTS_PATH)
FRAME_FILE = re.compile(r"^([\w.@+-][\w.@+/-]*):\d+: |^\s*File \"([^\"/][^\"]*)\", line \d+")
TRACE_LINES = 200                                          # of a failure's traceback, each way, at most


def failure_files(lines: list[str], at: int) -> tuple[str, ...]:
    """The files the traceback of the runner's failure on line `at` names (above), `lines` being test.sh's
    output, colours dropped, each line unstripped: absolute paths, and relative ones as written."""
    block, end = [lines[at]], min(len(lines), at + 1 + TRACE_LINES)
    for line in itertools.takewhile(TRACE_LINE.match, lines[at + 1:end]):
        block.append(line)
    if EXCEPTION_LINE.match(lines[at].strip()):
        for i in range(at - 1, max(-1, at - 1 - TRACE_LINES), -1):
            if lines[i].strip() == "Traceback (most recent call last):":
                block += lines[i:at]
                break
            if not lines[i][:1].isspace():
                break
    found = [p for line in block for p in (*TESTS_PATH.findall(line),
                                           *(m[1] or m[2] for m in FRAME_FILE.finditer(line)))]
    return tuple(dict.fromkeys(os.path.normpath(p) for p in found))


def ground(env: Environment) -> list[tuple[str, str, list[tamper.Change]]]:
    """Every place the agent can write that the verifier's processes see, listed alike (tamper.listing:
    no link followed): (the host directory, where the verifier sees it, its entries under that path).
    The writable layer at /, then each volume of the main container, at its target, and after a seal
    the copies of the places the agent's processes still write (/tmp, /run, /var/lib, ...) that the
    verifier reads (Sandbox.tmp_copies) and, once it ran, what it wrote over them (Sandbox.verifier_tmp):
    of those, what differs from the image, read from the copies themselves, never from the live places."""
    layer = env.box.writable_layer()
    volumes = env.services.volumes_of_main() if env.services else []
    copies = env.box.tmp_copies()              # after a seal the verifier reads these, not the live ones
    copies += env.box.verifier_tmp()          # ... and after the tests, what it wrote over them
    holes = env.box.copy_holes()               # ... less the mounts beneath them (dpkg's: in the layer)
    within = lambda p, places: any(tamper.within(p, t) for t in places)                  # noqa: E731
    hidden = lambda p: (within(p, [t for _, t in volumes]) or                             # noqa: E731
                        within(p, [t for _, t in copies]) and not within(p, holes))
    # what the layer holds at a volume's target (its mount point) or below is hidden by the volume
    listed = tamper.listing(layer)
    out = [(layer, "", [c for c in listed if not hidden(c.path)])]
    baseline = getattr(env, "baseline", {})    # none while Environment.__init__ makes it from this
    setup = {c.path: c for c in listed if baseline.get(c.path) == c.stamp} if copies else {}
    left, same = [tamper.SAME_ENTRY_BYTES], [sandbox_init.TMP_COPY_BYTES]
    for d, target in volumes + copies:
        st = os.lstat(d)                       # the trainer's own copy: a directory, or one file (./a.txt)
        top = tamper.Change(target, "dir" if stat.S_ISDIR(st.st_mode) else "file",
                            stamp=(st.st_ino, st.st_size, st.st_mtime_ns, st.st_mode, st.st_ctime_ns))
        inside = [replace(c, path=target + c.path) for c in (tamper.listing(d) if top.kind == "dir" else [])]
        if (d, target) in copies:
            # A copy holds the image's files too: judged is every entry that is not the image's own, read
            # from the copy itself (tamper.same_as_image, at most as many bytes as the seal copied). Never
            # from the live layer: the agent's processes write it on after the copy, and a forgery planted
            # before the seal under a directory made anew, then removed, left the layer naming nothing that
            # the verifier's copy held (rt15a p08, a race won 3 of 3)
            inside = [c for c in inside
                      if not tamper.same_as_image(env.image, d, c.path[len(target):], c, same)]
            # the copy gives the setup's file a new inode and ctime (rt14a p32: a grader the setup put in
            # /tmp, never touched, was counted modified): the layer's own stamp where its bytes are the same.
            # The one read of the live layer, and a sound one: its entry still has the setup's stamp (inode
            # and ctime: no write, rename or link since), so its bytes are the setup's, and the copy's too
            inside = [replace(c, stamp=was.stamp) if (was := setup.get(c.path)) and tamper.same_entry(
                layer, was, d, c.path[len(target):], c, left) else c for c in inside]
        out.append((str(d), target, [top, *inside]))
    # after a verifier: what it wrote on its own root and over dpkg's and apt's (sandbox_init._own_root),
    # or, after a kill, over /tmp and the rest (_killed_root), not in the episode's layer: all of it the
    # verifier's (made), hiding nothing
    for d, target in env.box.verifier_own():
        own = [replace(c, path=target.rstrip("/") + c.path) for c in tamper.listing(d)]
        if target == "/dev":                   # what pid 1 made there (/dev/null) is not test.sh's
            own = [c for c in own if c.path.split("/")[2] not in sandbox_init.FRESH_DEV]
        out.append((str(d), target, own))
    return out


def _under(found: dict[str, str], at: str) -> dict[str, str]:
    """sonames()/texts() of a volume, their paths under its target ("/" stays: the too-large mark)."""
    return {(k if k == "/" else at + k): v for k, v in found.items()}


@dataclass(frozen=True)
class Ground:
    """What check_ground read of the writable layer before the verifier ran: its listing, and what its
    libraries' ELF headers and its texts said (tamper.sonames, tamper.texts) and what the programs the
    tests run try to import, judged again afterwards."""
    changes: list
    libraries: dict
    contents: dict
    graders: tamper.Hooks                # tamper.program_hooks of the programs the tests run
    seconds: float = 0.0                 # the CPU its judging took, of the verify's tamper.JUDGE_SECONDS


def check_ground(env: Environment, task: Task, before: Ground | None = None, artifacts: bool = False
                 ) -> Ground:
    """The writable layer and the main container's volumes (ground()) as the agent left them, after its
    processes are gone; TamperedError if the agent prepared the ground the verifier would run on
    (tamper.py), with the offending paths. `before`: that reading, given again after the verifier ran:
    the agent's entries are then judged against what the verifier itself made (a shadow of what test.sh
    installs later), and the reward is discarded. A change the verifier would not even see (in a home of
    the image's view: verifier_view) is judged all the same: an attempt is counted, not repaired silently.
    `artifacts`: the layer is a separate verifier's, whose every new entry is an artifact of the agent's
    (tamper.onto_image: none may stand in for, or lead to, an entry of the verifier's image)."""
    places = ground(env)                       # the writable layer, and the main container's volumes
    if artifacts and before is None:
        # an artifact byte for byte the verifier image's own entry there (both images ship /app/check.sh,
        # the artifact /app carries it) changes nothing the verifier runs: not the agent's to answer for
        # (rt16a p03, p23: the honest solve was tampered); compared from the layer alone, as the seal's copies
        layer, at, listed = places[0]
        left = [tamper.SAME_ENTRY_BYTES]
        same = {c.path for c in listed if c.kind in ("file", "link") and env.baseline.get(c.path) != c.stamp
                and tamper.same_as_image(env.image, layer, c.path, c, left)}
        places[0] = (layer, at, [c for c in listed if c.path not in same])
    now = [c for _, _, changes in places for c in changes]
    # test.sh's PATH: [verifier].env's where it sets one (_run_tests passes it), else the sandbox's
    tests_path = task.verifier_env.get("PATH") or env.box.env.get("PATH", sandbox.BASE_ENV["PATH"])
    path = tamper.search_path(tests_path, env.image, task.workdir)
    environ = {**env.box.env, **task.verifier_env}                             # test.sh's, as _run_tests
    facts = task_facts(task)
    # what the programs the tests run try to import: read once, before the tests, and judged after them too
    graders = tamper.program_hooks(env.image, facts.programs) if before is None else before.graders
    if before is None:
        # the names the image's code imports guarded: a new module under one is read for its package record
        guarded = tamper.guarded_names(env.image, path, task.workdir, environ)
        guarded = (guarded[0] | facts.optional.keys() | graders.python.keys(),
                   guarded[1] | graders.perl.keys())
        libraries, contents, budget = {}, {}, tamper.Budget()    # TEXT_BYTES for the episode, all places
        for root, at, changes in places:       # a volume's files are read there, by their own paths
            if at and changes[0].kind != "dir":
                continue                       # a one-file volume: judged by its path and stamp only
            own = changes if not at else [replace(c, path=c.path[len(at):]) for c in changes[1:]]
            libraries.update(_under(tamper.sonames(root, own, env.image), at))
            contents.update(_under(tamper.texts(root, own, None if at else env.image, budget,
                                                guarded if not at else (frozenset(), frozenset()),
                                                records=bool(facts.installs.pip)), at))
        made, cache, ground_, after = [], [], Ground(now, libraries, contents, graders), None
        tried = {}
    else:
        stamps = {c.path: c.stamp for c in before.changes}
        # the loader's index as test.sh left it: on its own root, else (none made) in the episode's layer
        ground_ = before
        cache = next((c for d, at, _ in places if at == "/" and (c := tamper.final_ld_cache(d))), None) or \
            tamper.final_ld_cache(places[0][0])
        made = [c for c in now if stamps.get(c.path) != c.stamp]
        after = {c.path for c in now}
        # what test.sh made is judged from these listings (a link of the agent's to a file it wrote): one cut
        # short (over MAX_ENTRIES, test.sh's big install) would pass what it left out, so it fails closed
        # (rt12a p14: a link to /srv/expected.txt, written after 100,500 files, was not seen)
        if cut := [c for c in now if c.kind == "unchecked"]:
            raise VerifierError(f"task '{task.name}': what test.sh wrote cannot be checked whole "
                                f"({cut[0].why}): its reward is discarded")
        # what the code test.sh installed tries to import (rt14a p34), and the agent's records of such
        # modules (an install of the agent's own stays one)
        tried = tamper.made_hooks([d for d, at in env.box.verifier_own() if at == "/"], env.image, made, path,
                                  task.workdir)
        if tried:
            contents = tamper.owners(places[0][0], places[0][2], frozenset(tried), frozenset(),
                                     tamper.Budget(), env.image)
            ground_ = replace(before, contents={**before.contents, **contents})
    # one budget for the verify's two judgings: the check after the tests has what the one before left
    cpu = time.thread_time()
    bad = tamper.tampered(ground_.changes, env.image, task.workdir, path, env.baseline,
                          home=task.verifier_env.get("HOME") or verifier_home(env),
                          environ=environ,
                          made=made, ld_cache=cache,
                          libraries=ground_.libraries, contents=ground_.contents,
                          modules=facts.modules, after=after, imports=facts.imports,
                          asked=tamper.asked_modules(task.instruction),
                          deliverables=tamper.asked_files(task.instruction),
                          named=tamper.asked_names(task.instruction) | (facts.named - facts.optional.keys())
                          | facts.modules,
                          tests_optional={**tried, **graders.python, **facts.optional},
                          perl_optional=graders.perl,
                          removable=tamper.asked_files(task.instruction)[0] | facts.paths,
                          programs=facts.programs, tools=facts.tools, spelt=facts.paths,
                          lookups=facts.lookups,
                          installs=facts.installs.unasked(tamper.asked_names(task.instruction)),
                          seconds=tamper.JUDGE_SECONDS - (before.seconds if before else 0.0))
    if before is None:                         # before the tests: what they would write through
        ground_ = replace(ground_, seconds=time.thread_time() - cpu)
        volumes = [t for _, t in env.services.volumes_of_main()] if env.services else []
        bad += shared_links(places, volumes, env.baseline)
    if before is None and artifacts:
        bad += tamper.onto_image(now, env.image, env.baseline)
    if bad:
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        after = " (after the verifier ran: its reward is discarded)" if before is not None else ""
        raise TamperedError(f"task '{task.name}': tampered{after}: {'; '.join(bad[:5])}{more}")
    return ground_


def shared_links(places: list, volumes: list[str], baseline: dict) -> list[str]:
    """The files of the agent's in a volume (a compose task's, shared live with the sidecars and so with
    the verifier, by design: its only place with no upper of its own) that have another name: test.sh's
    `> /data/expected.txt` writes through the agent's hard link to /data/answer.txt, and cmp compares the
    answer with itself (rt12a p17). `places`: ground()'s; `volumes`: their targets; one the task's setup
    left so (baseline) is not the agent's."""
    return [f"{c.path} (a hard link in a volume the verifier writes: {c.names} names for one file)"
            for _, at, changes in places if at in volumes for c in changes
            if c.kind == "file" and c.names > 1 and baseline.get(c.path) != c.stamp]


def verifier_view(env: Environment, task: Task, kept: tuple[str, ...] = ()) -> tuple:
    """The homes test.sh sees as the image had them, each with what stays the agent's inside it
    (sandbox_init.verifier_homes), as _run_tests has pid 1 make them: HOME and XDG_*_HOME as [verifier].env
    sets them, the homes of the image's users with a login shell, the paths the tests name (homes_named),
    and `kept`, which stays the agent's whole (a separate verifier's artifacts)."""
    own = {k: v for k, v in task.verifier_env.items() if k in ("HOME", *sandbox_init.XDG_HOMES)}
    users = sandbox_init.login_homes(getattr(env.image, "read", lambda p: None)("/etc/passwd") or "")
    return sandbox_init.verifier_homes(own.get("HOME") or verifier_home(env), {**env.box.env, **own},
                                       task.workdir, task_facts(task).homes, users, kept)


# Python's bytecode beside a source the image shipped is derived state, as a cache is. The verifier's Python
# writes and reads its own (PYTHONPYCACHEPREFIX, a fresh tmpfs), but `python3 -I` and `-E` (the built-in
# checks' idiom, Debian's `#!/usr/bin/python3 -Es` scripts) ignore that variable and read the __pycache__
# beside the source, whose pyc header names only the source's size and mtime, which the agent can copy
# (rt11a p09: a new random.cpython-311.pyc on an image that ships no bytecode, as python:3.x images ship
# their stdlib). Running Python as the agent writes such files legitimately, so they are not judged: each
# __pycache__ directory where the agent made or changed one is seen by test.sh as the image had it
# (sandbox_init._caches: an empty one where the image had none), and its Python compiles the shipped source
# anew. So for a source the task's setup made (FROM host's /srv/g/helpers.py: a forged helpers.pyc beside
# it scored 1.0 under test.sh's `python3 -E`). A source the image and the setup lack (the agent's install)
# is the agent's either way, its bytecode with it. At most MAX_BYTECODE_VIEWS directories (one or two mounts
# each, ~3 ms at each verify: the Debian base's whole stdlib and dist-packages compiled are 136): past them
# the episode is refused (tampered) rather than a directory left as the agent made it.
MAX_BYTECODE_VIEWS = 4096


def bytecode_views(task: Task, changes: list[tamper.Change], image,
                   setup=()) -> tuple[tuple[str, tuple], ...]:
    """The __pycache__ directories (see above) as verifier_homes gives homes: (directory, ()) each, nothing
    of the agent's bound back; and any __pycache__ the agent made a link or a file. `changes`: the
    ground's (check_ground), `image`: env.image, `setup`: env.baseline (a source the task's setup made is
    shipped as the image's is: FROM host's)."""
    dirs = {}
    for c in changes:
        d, name = os.path.split(c.path)
        if name == "__pycache__" and c.kind != "dir":
            dirs[c.path] = ()
        elif c.kind != "dir" and d not in dirs and tamper.shipped_bytecode(c.path, image, setup):
            dirs[d] = ()
    if len(dirs) > MAX_BYTECODE_VIEWS:
        raise TamperedError(f"task '{task.name}': tampered: bytecode in {len(dirs)} __pycache__ "
                            f"directories beside sources the image shipped (over {MAX_BYTECODE_VIEWS}), "
                            f"e.g. {next(iter(dirs))}")
    return tuple(dirs.items())


# A tool's cache of its own results beside the files it checks is derived state too, and the tool trusts
# an entry by the file's stat or by a key of its own, never by reading the file again (rt20a p14: an
# /app/.ruff_cache entry keyed by calc.py's mtime and mode said "clean" for a calc.py with a lint error, 1.0).
# The agent's tools write such caches legitimately, so they are not judged: as bytecode above, each cache
# the agent made or changed, wherever it is (the workdir above all), is seen by test.sh as the image had it
# (sandbox_init._caches: an empty directory where the image had none; a cache that is a file, absent), and
# its tool checks anew. The agent's own commands keep reading theirs. A path component matching an entry
# (fnmatch) is a cache. __pycache__ is bytecode_views'. Not caches: .tox (environments, installs as a venv
# is) and cargo's target/ (build output test.sh may run, ./target/release/app, or reuse; made absent, every
# Rust task would rebuild from scratch inside the verifier's timeout).
TOOL_CACHES = (
    ".ruff_cache",       # ruff: a file's diagnostics reused while its mtime and permissions match
    ".mypy_cache",       # mypy: a module's inferred types reused while its meta (mtime, size, hash) matches
    ".pytest_cache",     # pytest: lastfailed and stepwise, which choose the tests that run (--lf, --sw, --nf)
    ".hypothesis",       # Hypothesis: its example database, the examples it replays before it searches
    ".eslintcache",      # eslint --cache (a file): a file's results reused while its size and mtime match
    ".stylelintcache",   # stylelint --cache (a file): the same file-entry-cache, by size and mtime
    "*.tsbuildinfo",     # tsc --incremental/--build: a project up to date by its files' versions and times
    ".cache",            # a project's XDG-style cache (node_modules/.cache: babel-loader, eslint-loader, ...)
    ".gradle",           # Gradle's project cache: task history and file hashes by size and mtime, up to date
    ".parcel-cache",     # Parcel: a build's results by its files' stat
)
MAX_CACHE_VIEWS = 1024                         # as MAX_BYTECODE_VIEWS: past it the episode is refused


def cache_views(task: Task, changes: list[tamper.Change]) -> tuple[tuple[str, tuple], ...]:
    """The tool caches (TOOL_CACHES, see above) the agent made or changed, as verifier_homes gives homes:
    (path, ()) each, the outermost cache on a changed path's way, nothing of the agent's bound back.
    `changes`: the ground's (check_ground)."""
    dirs = {}
    for c in changes:
        parts = c.path.split("/")
        at = next((i for i, p in enumerate(parts) if any(fnmatch.fnmatchcase(p, n) for n in TOOL_CACHES)), 0)
        if at:
            dirs["/".join(parts[:at + 1])] = ()
    if len(dirs) > MAX_CACHE_VIEWS:
        raise TamperedError(f"task '{task.name}': tampered: {len(dirs)} tool caches made or changed (over "
                            f"{MAX_CACHE_VIEWS}), e.g. {next(iter(dirs))}")
    return tuple(dirs.items())


def verifier_home(env: Environment) -> str:
    """The HOME test.sh starts with (before [verifier].env): its user's, as pid 1 sets it, else the
    image's."""
    user = env.verifier_user
    return user.home if user is not None else env.box.env.get("HOME", "/root")


def verify(env: Environment, task: Task, seed: int = 0, control: bool = True,
           deadline: float | None = None) -> tuple[float, str]:
    """(reward, reason): run tests/test.sh in the episode's container, as Harbor does, and read
    /logs/verifier/reward.json or reward.txt. Reason is "" on a clean read; a missing or empty reward or a
    timeout is reward 0 with the reason. One clock for the whole verify, its control run's start and tests
    included: `deadline` (time.monotonic()), by default [verifier].timeout_sec from now; past it the verify
    is the verifier's timeout, reward 0 (rt16b p10: test.sh ran twice, each with the whole timeout).
    A test runner that cannot run, or a reward that is not a finite number in [0, 1], raises
    VerifierError; an episode whose agent prepared the ground, TamperedError.
    Every verifier error (a runner missing, test.sh killed, a reward garbled, what it wrote unreadable, an
    artifact that cannot be copied) is decided by a control run without the agent (`control`: _blame,
    below): the agent's run alone trading its 0 for one (rt13b p16; rt15a p04, p15, p18, p25: a survivor's
    deep tree, deep artifacts, a tool test.sh installs printed missing, test.sh's ancestors killed) gets its
    ordinary 0."""
    deadline = time.monotonic() + task.verifier_timeout if deadline is None else deadline
    try:
        return (verify_separate(env, task, seed, deadline) if task.separate else
                _verify(env, task, seed, deadline))
    except VerifierError as e:
        if not control or env.fresh_start is None:     # the control run itself, or no door to start one
            raise
        return _blame(env, task, seed, e, deadline)


def _timed_out(task: Task) -> str:
    """The reason of a verify that ran past its clock: reward 0, as Harbor books a verifier timeout."""
    return f"verifier timed out after {task.verifier_timeout:g} s"


class _OutOfTime(Exception):
    """The control run reached the verify's deadline before it had a verdict (_control)."""


# A runner missing (RUNNER_MISSING's words, a verifier's file UNOPENED, exit 126/127) is read from every line
# test.sh printed, and tests print what the agent's program printed: an agent whose answer is wrong could
# print `Ran 0 tests in 0.000s` and trade its 0 for a verifier error, which training does not learn from
# (rt13b p16). Whose fault it is is decided by running the same test.sh on a fresh episode of the same task
# and seed, as the null agent leaves it, started through the same door (env.fresh_start, start_task's own
# arguments; a cached start costs ~30 ms): a verifier error only if the runner is missing there too, else
# the agent's ordinary 0. The control never runs a control of its own (verify(control=False)). Its time is
# the verifier's (inside env.verify(): rollout's verify_s counts it), and it comes out of the one deadline
# of the verify (rt16b p10: a control with the whole timeout again held one verify for twice the task's
# timeout, at the maxima 4 h of every step that sampled it): its start and test.sh get what the agent's
# run left, and a control that has no verdict by then makes the verify the verifier's timeout, reward 0,
# with no verdict kept.
# The control's verdict is the task's and the seed's (the null agent's episode), kept per process and version
# of the task's files: a group of rollouts of one task and seed that all print the words (the trainer
# verifies them at once) waits for one control run, not one each. A control that did not start is not kept.
_controls: dict[tuple, tuple[str, str] | None] = {}
_controls_locks: dict[tuple, threading.Lock] = {}


def _blame(env: Environment, task: Task, seed: int, error: VerifierError, deadline: float
           ) -> tuple[float, str]:
    with _facts_guard:
        lock = _controls_locks.setdefault((str(task.path), seed), threading.Lock())
    # a group-mate's control run of this task and seed is waited for within this verify's clock too (rt17b
    # p27: the wait had none of its own)
    if not lock.acquire(timeout=max(0.0, min(deadline - time.monotonic(), threading.TIMEOUT_MAX))):
        return 0.0, f"{_timed_out(task)} (waiting for the control run without the agent)"
    try:
        # what a runner-missing line names is checked in the image too (_control); any other error's words
        # are the agent's run's, never read
        named = _named_missing(str(error)) if isinstance(error, RunnerMissing) else ()
        # and only names the task could be blamed for, so the key holds the task's words, not the agent's
        # (rt19a p30: a new name printed each episode cost each verify a control run of its own)
        named = _blamable(task, named)
        # the version of the task's tests/ (its image is kept until forget_builds, which forgets these too):
        # not of the whole task, whose environment/ a Dockerfile's task may fill without a cap (rt17a p23)
        key = (str(task.path), seed, _tree_stamp(task.path / "tests"), named)
        if key not in _controls:
            try:
                _controls[key] = _control(env, task, seed, named, deadline)
            except _OutOfTime:
                return 0.0, f"{_timed_out(task)} (with the control run without the agent)"
        verdict = _controls[key]
    finally:
        lock.release()
    broken, runner = verdict or (None, "")
    if broken is not None and isinstance(error, TwoVerdicts) and broken == "two verdicts":
        return error.reward, ""                # the task writes both: reward.json's, as Harbor reads it
    # The control has none of the agent's files: where the runner's failure is the same there and the agent's
    # run traces it to a file of the agent's (a conftest importing its app.py, which raises: rt20a p17), the
    # control failed for want of the deliverable, which says nothing of the task. A runner missing from the
    # image (no pytest) fails alike whatever the agent wrote, and no file of the agent's is in its trace.
    if broken is not None and isinstance(error, RunnerMissing) and error.written and runner == error.line:
        return 0.0, (f"the runner's failure is traced to the agent's {', '.join(error.written[:3])}; "
                     f"without the agent it fails alike, for want of it: {error}")
    if broken is not None:                     # broken without any agent: the task's verifier
        if not isinstance(error, RunnerMissing):
            raise error                        # as it was: the control says it is the task's
        raise VerifierError(f"{error} (so too without the agent: {broken})")
    what = "runner-missing words" if isinstance(error, RunnerMissing) else "a verifier error"
    return 0.0, f"{what} in the agent's run only (without the agent the tests ran): {error}"


# What a runner-missing line says is missing: a program (`X: command not found`) or a path (`/p: No such
# file or directory`). The control run's test.sh may stop before it reaches the runner (it fails earlier
# without the agent's deliverable: a real task's `python3: command not found` on line 41 scored the agent's
# 0): so the control looks for it in the image itself too.
_MISSING_PROGRAM = re.compile(r"(?:^|: )(?:line \d+: )?([\w.+-]+): (?:command )?not found\s*$")
_MISSING_PATH = re.compile(r"(/[\w.@+/-]+): No such file or directory")


# How tests look for a program or a path before they use it: `command -v X`, `which X`, `type [-P] X`, `hash
# X`, `test -x X`, `[ -e X ]`, Python's `shutil.which("X")`. Linear: a fixed prefix, then the name.
_PROBE = (rb"(?:(?<![\w-])(?:command\s++-[vV]|which|type(?:\s++-[aftpP]++)*+|hash|test\s++-[efx]"
          rb"|\[\[?+\s++-[efx])\s++|which\(\s*+)[\"']?+")


def _tests_mention(task: Task, name: str, budget: int = 4 << 20, before: bytes = rb"(?<![\w./-])") -> bool:
    """Whether a file of the task's tests/ holds `name` as a word (its first `budget` bytes in all); after
    a probe of it (`before`=_PROBE: the tests look for it before they use it)."""
    return _tests_match(task, [re.compile(before + re.escape(name.encode()) + rb"(?![\w.-])")], budget)


def _tests_match(task: Task, patterns: list[re.Pattern[bytes]], budget: int = 4 << 20) -> bool:
    """Whether a file of the task's tests/ matches one of `patterns` (its first `budget` bytes in all)."""
    for d, _, files in os.walk(task.path / "tests"):
        for f in files:
            data = _task_file(os.path.join(d, f), budget)
            if data is None:
                continue
            budget -= len(data)
            if any(p.search(data) for p in patterns):
                return True
            if budget <= 0:
                return False
    return False


# Where the tests run a program by its name: a command's first word as tamper's exec positions read it
# (after a separator, `$(`, `!`, then/do/else, sudo, env, timeout ...; assignments before it) or after
# if/elif/while/until, and a subprocess or os.system call's first string. `result=$(...)`, `"$result"` or
# `python3 -m result` is no run of `result` (rt20a p03: a test.sh variable, printed `command not found` by
# the agent's program, was looked for as a program and booked the task's).
def _runs(name: str) -> list[re.Pattern[bytes]]:
    word = re.escape(name)
    command, _, _, call = tamper._exec_patterns(word, word)
    keyword = (r"(?:^|[\s;&|`(])(?:if|elif|while|until)[ \t]+" + tamper.ASSIGNMENTS + r"[\"']?" + word
               + r"(?=[\s\"';&|)`]|$)")
    return [re.compile(p.encode(), re.M) for p in (command.pattern, call.pattern, keyword)]


# A /tests path the tests read or run, not one they write (`> out.txt`, `tee x`, `-o x`: a file they make,
# whose absence is the agent's program's words, rt20a p02): spelt out whole, not after a redirection.
_READ = rb"(?<![\w./>-])(?<!>[\s\"'])(?<!>\s[\"'])(?<!tee\s)(?<!-o\s)"


def _task_file(path: str, limit: int) -> bytes | None:
    """The first `limit` bytes of a regular file of the task's (its tests/ above all, which the trainer reads
    as host root: the one reader of them), None for anything else: never through
    a link (rt17b p26: a tests/ link to a host FIFO held the trainer, as root, past the verify's clock; to
    /proc/kmsg it drains the host's kernel log), never blocking on a FIFO or a device."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with os.fdopen(os.dup(fd), "rb") as fh:
            return fh.read(max(limit, 0))
    except OSError:
        return None
    finally:
        os.close(fd)


def _named_missing(line: str) -> tuple[str, ...]:
    return tuple(m.group(1) for r in (_MISSING_PROGRAM, _MISSING_PATH) if (m := r.search(line)))


def _blamable(task: Task, named: tuple[str, ...]) -> tuple[str, ...]:
    """Of what the agent's run said is missing, the names the task's own tests could be to blame for."""
    facts, kept = task_facts(task), []
    for name in named:
        if ".." in name.split("/"):            # the trainer would look up a host path outside tests/ (rt20a)
            continue
        if name.startswith(("/tests/", "/logs/")):      # not in the agent's phase: the task's files
            # only a path the tests run (tamper.exec_named, a relative one joined to where they `cd`) or read
            # by its whole name (rt15a p17: a /tests path nothing of the task's names; rt20a p02: one whose
            # base name was only a file test.sh writes elsewhere). A path spelt another way ("$DIR/x.sh")
            # is left to the control's own run of test.sh.
            if name.startswith("/tests/") and not os.path.lexists(task.path / name[1:]) \
                    and (os.path.normpath(name) in facts.programs
                         or _tests_mention(task, name, before=_READ)):
                kept.append(name)
            continue
        # only a program the tests run (_runs): any other name the agent's program could print to blame the
        # task; and not one they install themselves (rt16a p04: the agent's script called `bc` before or
        # without test.sh's `apt-get install bc`, printed it missing, and its 0 became the task's verifier
        # error): whether that install works is the control's own run's to say; nor one they look for before
        # they use it (rt18a p02: `if command -v X; then X ...; fi`): the tests' own run never prints it
        # missing, so only the agent's program could have; the control's run of test.sh says whether the
        # task's tests fail without it
        installs = facts.installs
        if _tests_match(task, _runs(name)) and name not in installs.apt | installs.pip | installs.npm \
                and not _tests_mention(task, name, before=_PROBE):
            kept.append(name)
    return tuple(kept)


def _control(env: Environment, task: Task, seed: int, named: tuple[str, ...] = (),
             deadline: float = math.inf) -> tuple[str, str] | None:
    """(the verifier error of the task's tests run on a fresh episode without the agent, its runner's line
    where it is a runner missing: RunnerMissing.line), None if none; or what the agent's run said is missing
    (`named`: a program, a path, of _blamable's) missing from the image too. _OutOfTime where the verify's
    `deadline` came first."""
    def left() -> float:
        if (s := deadline - time.monotonic()) <= 0:
            raise _OutOfTime
        return s
    try:
        # its setup within the verify's clock as well (rt17b p27: the control's seeded steps ran on a
        # build_timeout_sec of their own, 23.6 s of a 5 s verify); a start cut short by it is out of time
        try:
            control = env.fresh_start(budget=left())
        except (SetupError, sandbox.SandboxError):
            left()
            raise
        with control:
            for name in named:
                if name.startswith("/tests/"):
                    return f"{name}: not in the task's tests/", ""
                test = f"test -e {shlex.quote(name)}" if name.startswith("/") else \
                       f"command -v {shlex.quote(name)}"
                r = control.run(f"{test} >/dev/null 2>&1", min(30.0, left()))
                if r.timed_out:
                    raise _OutOfTime
                if r.exit_code:
                    return f"{name}: not in the image", ""
            left()                             # its start may have spent it
            try:
                verify(control, task, seed, control=False, deadline=deadline)
            except (VerifierError, TamperedError) as e:
                return ("two verdicts" if isinstance(e, TwoVerdicts) else one_line(str(e))[:120],
                        e.line if isinstance(e, RunnerMissing) else "")
            left()                             # its test.sh cut at the deadline ran clean only so far
        return None
    # A control that did not start or died is the machine's (Outcome.MACHINE, masked in training), and so is
    # one over its memory: sandbox.OutOfMemory would book it as the agent's, who ran nothing there.
    except (SetupError, sandbox.SandboxError) as e:
        raise sandbox.SandboxError(f"task '{task.name}': the control run without the agent did not start "
                                   f"or failed: {one_line(str(e))[:200]}") from None


def _verify(env: Environment, task: Task, seed: int, deadline: float) -> tuple[float, str]:
    """verify() for a task whose tests run in the agent's own container (the shared mode), test.sh by
    `deadline` (the verify's clock), which the checks before it do not spend: they are the harness's, not
    the task's (the first verify of an image reads the whole image, seconds of it)."""
    entered = time.monotonic()
    # Harbor keeps the agent's processes alive (a service it started is what the tests talk to): they go on,
    # but see the root read-only from here on, before the check, so that nothing of theirs changes what it
    # saw; the tests then run on a root of their own with /tests and /logs/verifier private (Sandbox.seal).
    # One network namespace serves both phases, so the agent's survivors get whatever network test.sh gets:
    # where the verifier's is wider than the agent's phase had (--no-internet, or [agent].network_mode
    # "no-network" under a public verifier), they are killed first, as with --kill-agent-processes (rt11b
    # p19: a survivor went online during the tests). The cost: a service the agent left is gone for tests.
    # The agent's phase network is a property of everything the agent could drive, not only of main's
    # processes: a compose sidecar shares the namespace and the agent's volumes (and the agent reaches it),
    # so under such a verifier every sidecar's processes die too (rt12b p29: a sidecar ran a job the agent
    # dropped in a shared volume, online during the tests), and the tests find no sidecar service running.
    wider = bool(env.verifier_network and not env.box.network)
    keep = env.box.limits.keep_agent_processes and not wider
    if wider and env.services:
        for box in env.services.boxes:
            box.restart_shell()
    if env.box.limits.keep_agent_processes and not keep:
        sandbox.say_once("the verifier has a network the agent's phase had not (--no-internet, or the task's "
                         "[agent].network_mode): the agent's processes and a compose task's sidecars are "
                         "killed before such a verifier")
    # --live-verifier (opt-in): Harbor's own way, the tests on the live container beside the survivors, for
    # tasks whose tests and a service write the same files (mq-auto-restart: test.sh deletes the consumer's
    # log, the consumer makes it again). Weaker by design, and said once: what the survivors write after
    # the check below, test.sh reads (a log it greps, a file it runs, /tests itself: uploaded into the live
    # container as Harbor's are, rt15a p01); only its reward file stays its own.
    live = keep and env.box.limits.live_verifier
    if live:
        sandbox.say_once("--live-verifier: the tests run on the live container beside the agent's processes, "
                         "as Harbor's do: what those write during the tests, the tests read")
    sealed = keep and not live and env.box.seal()
    if keep and not live and not sealed:       # what they left cannot be kept from the tests
        why = env.box.seal_refused.format("; ".join(env.box.root_writers()[:3]) or "a file")
        say(f"task '{task.name}': {why}: they are killed before verification")
    if not sealed and not live:
        # Every process the agent started dies first, nested namespaces included: nothing of the agent's can
        # race the check below or the tests, or leave variables (PATH, LD_PRELOAD) behind.
        env.box.restart_shell()
    ground = check_ground(env, task)           # invariant 1: before anything runs from the image again
    env.box.set_network(env.verifier_network)  # the verifier's phase
    try:
        # sealed or not, test.sh runs on a root of its own (Sandbox.run_fresh(tests=...)): where the agent's
        # processes were killed too, it writes no inode of theirs (rt12a p09, p15: through a hard link)
        kills = env.box.cgroup.oom_kills() if env.box.cgroup else 0
        try:
            deadline += time.monotonic() - entered
            result = _run_tests(env, task, seed, ground.changes, deadline, staged=not live)
        except RunnerMissing:                  # the agent's name shadowing the runner: tampered, not words
            check_ground(env, task, before=ground)
            raise
        # ... and again against what test.sh installed: a name of the agent's that now shadows one of the
        # verifier's (its `pip install pytest` under the agent's /usr/lib/python3.11/pytest.py) forged it
        check_ground(env, task, before=ground)
        # A process the OOM killer took while the tests ran is a check that never gave its verdict: test.sh's
        # `if ! check` read it as a pass (rt21a p02: the agent's files in the episode's tmpfs left the
        # tests no room). The episode's memory is the agent's to keep: its 0, never a score.
        if env.box.cgroup and (killed := env.box.cgroup.oom_kills() - kills) > 0:
            return 0.0, (f"the tests ran out of the episode's memory ({killed} process(es) killed by the OOM "
                         "killer): a check it killed has no verdict")
        return result
    finally:                                   # what the verifier itself left at /tests and /logs is ours
        try:
            env.baseline.update({c.path: c.stamp for c in tamper.listing(env.box.writable_layer())
                                 if tamper.within(c.path, "/tests") or tamper.within(c.path, "/logs")})
        except OSError:                        # the sandbox died: the error on its way out says so
            pass


# The artifacts a separate verifier gets, together: copied through the host (Sandbox.copy_out), and they
# land in the verifier's tmpfs, which its memory limit counts. Over it is a verifier error, in one line.
ARTIFACT_MAX_BYTES = 256 << 20
# Harbor's convention directory: always handed to a separate verifier, beside the task's `artifacts`.
ARTIFACTS_DIR = "/logs/artifacts"


def build_verifier(task: Task, store: Path | None = None, log=say, cache: Path | None = None,
                   deadline: float | None = None):
    """A separate verifier's image: tests/Dockerfile built as build_task builds the agent's (cached layers,
    remembered per process), with tests/ as its context, within `deadline` (the start's build clock) if
    given."""
    sep = task.separate
    return _build_image((task.path, "verifier", store, cache), sep.dockerfile, _cached_steps,
                        task.path / "tests", sep.build_timeout, store, log, cache, deadline=deadline)


def verify_separate(env: Environment, task: Task, seed: int = 0, deadline: float | None = None
                    ) -> tuple[float, str]:
    """verify() for a task with a separate verifier (Harbor's environment_mode = "separate"): the agent's
    processes end; /logs/artifacts and each of the task's artifacts are copied out of the agent's container
    without following its links (Sandbox.copy_out: a missing one is left out, as Harbor skips a transfer
    that fails; together over ARTIFACT_MAX_BYTES is a VerifierError); a fresh sandbox starts from the
    verifier's image (build_verifier) with the verifier's network, the artifacts are copied to their same
    paths, and test.sh runs there as verify runs it in the shared mode, then the sandbox is closed.
    The verifier's ground is an image built from the task's tests/, which the agent never touched; what
    the agent controls is the artifacts, judged as the shared mode judges its layer, and besides never in
    place of, nor leading to, an entry of that image (_verify_in, tamper.onto_image). A test that imports
    or runs an artifact runs the agent's code as the verifier, with the verifier's rights (as in Harbor:
    the task's author chose to run it)."""
    sep, state = task.separate, env.verifier_image
    if state is None:                          # an Environment made by hand, without start_task
        state = build_verifier(task)
    env.box.restart_shell()                    # nothing of the agent's changes its files while they copy
    # staged where the next sandbox's start reaps it if this process dies (rt15b p08: a killed trainer
    # left /tmp/echo-artifacts-* for good); copied within the verifier's timeout, which the copy spends
    stage = sandbox.scratch_dir()
    deadline = time.monotonic() + task.verifier_timeout if deadline is None else deadline
    try:
        staged, left = [], ARTIFACT_MAX_BYTES
        for i, a in enumerate([Artifact(ARTIFACTS_DIR), *sep.artifacts]):
            try:
                box = env.services.box(a.service) if a.service else env.box
                n = box.copy_out(a.source, stage / str(i), left, a.exclude, deadline=deadline)
            except OSError as e:               # CopyLimitError, or a tree the host cannot hold (names)
                cap = (f" (the artifacts' cap, together: {ARTIFACT_MAX_BYTES} bytes)"
                       if isinstance(e, sandbox.CopyLimitError) else "")
                of = f" of service {a.service!r}" if a.service else ""
                raise VerifierError(f"task '{task.name}': artifact {a.source!r}{of} not copied to the "
                                    f"verifier: {_line(e)}{cap}") from None
            if n is not None:
                left -= n
                staged.append((stage / str(i), a.source))
        return _verify_in(env, task, seed, state, staged, deadline)
    finally:
        sandbox.rmtree(stage)


def _verify_in(env: Environment, task: Task, seed: int, state, staged: list[tuple[Path, str]],
               deadline: float) -> tuple[float, str]:
    """test.sh in a fresh sandbox of the verifier's image, with the staged artifacts copied in, by
    `deadline` (the verify's clock), which the verifier's own start and setup do not spend: they have the
    setup's clock, build_timeout_sec."""
    entered = time.monotonic()
    sep, context = task.separate, task.path / "tests"
    host = state.image.rootfs is None
    steps = dockerfile.stage(sep.dockerfile)[2]
    seeded = steps if host else steps[len(_cached_steps(steps)):]
    if host:                                   # on the host's directories every step runs here
        state = images.start_state(state.image, dockerfile.stage(sep.dockerfile)[1])
    plan = []
    try:
        for step in seeded:
            state = images.advance(state, step, context)
            plan.append((step, state))
    except images.BuildError as e:
        raise VerifierError(f"task '{task.name}': tests/Dockerfile: {e}") from None
    limits = replace(env.box.limits, cpus=sep.cpus, memory_mb=sep.memory_mb, storage_mb=sep.storage_mb)
    vtask = replace(task, workdir=sep.workdir, separate=None)
    with sandbox.Sandbox(sep.workdir, env={**state.env, **sep.env}, limits=limits,
                         layers=None if host else state.layers, network=env.verifier_network,
                         hide=[task.path]) as box:
        try:
            deadline = time.monotonic() + sep.build_timeout
            for step, step_state in plan:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise images.BuildError(f"line {step.line}: build_timeout_sec reached before "
                                            f"{step.instr}")
                images.run_step(box, step, step_state, context, seed=seed, timeout=left)
            # the verifier's ground as its image built it: what differs from it once the artifacts are in is
            # the agent's, judged as the shared mode judges its layer (tamper.py)
            venv = Environment(box, vtask, seed, image=tamper.Image(["/"], box.hide) if host else
                               tamper.Image([str(p) for p in state.layers]))
            for src, dest in staged:
                box.copy_in(src, dest)
            def user(spec: str, where: str) -> dockerfile.User | None:
                u = None if spec == "root" else images.image_user(box, spec, state.env, where)
                return None if u is None or u.root else u
            default = user(state.config.user, f"USER {state.config.user}")
            venv.verifier_user = (user(task.verifier_user, "[verifier].user") if task.verifier_user
                                  else default)
        except (images.BuildError, OSError) as e:
            raise VerifierError(f"task '{task.name}': separate verifier: {_line(e)}") from None
        # An artifact that steers the runner (/app/pytest.py, which `cd /app && python3 -m pytest` imports;
        # a .pth; a repository config that runs a command), or that stands in for or leads to a file of the
        # verifier's image, whatever the workdir (tamper.onto_image), is refused before anything of it runs
        ground = check_ground(venv, vtask, artifacts=True)
        if state.config.entrypoint:            # started as Harbor starts any environment's main container
            try:
                box.start(shlex.join(state.config.entrypoint + HARBOR_COMMAND), user=default)
                _await_settled(box, deadline)  # its test.sh is its first command (no healthcheck awaited)
            except OSError as e:
                raise VerifierError(f"task '{task.name}': separate verifier: {_line(e)}") from None
        # the artifacts are what the verifier checks: a home they land in stays as they made it
        deadline += time.monotonic() - entered
        try:
            result = _run_tests(venv, vtask, seed, ground.changes, deadline, upload=False,
                                kept=tuple(d for _, d in staged))
        except RunnerMissing:                  # as verify's: an artifact shadowing the runner is tampered
            check_ground(venv, vtask, before=ground)
            raise
        check_ground(venv, vtask, before=ground)   # ... and against what test.sh installed, as verify() does
        return result


# git's settings that run a command implicitly, turned off for every verifier process as `git -c` would:
# GIT_CONFIG_COUNT/KEY_n/VALUE_n (git >= 2.31) and GIT_CONFIG_PARAMETERS (older git) are the "command" scope,
# read after every file (system, global, the repository's, an include, config.worktree, a commondir's), so
# no file the agent wrote can turn them back on; GIT_EDITOR & co. beat their config keys. What cannot be
# turned off this way (filters, diff drivers and diff.external, merge drivers, `!` aliases, uploadpack) is
# judged in the agent's config files by tamper.git_commands (CONTAINMENT.md). And what rewrites the
# history or the status test.sh's git reports: replace refs (GIT_NO_REPLACE_OBJECTS, as `git
# --no-replace-objects`: rt18a p10, `git replace <base> <its commit>` made `git checkout base -- tests/`
# restore the agent's tests), the deprecated info/grafts file (GIT_GRAFT_FILE at a path that cannot exist:
# no grafts and no deprecation hint) and the untracked cache (an index extension the agent writes).
GIT_OFF = {"core.fsmonitor": "false", "core.hooksPath": "/dev/null", "core.sshCommand": "ssh",
           "core.askPass": "", "credential.helper": "",          # "" empties the list of helpers
           "protocol.ext.allow": "never", "commit.gpgSign": "false",
           "tag.gpgSign": "false", "push.gpgSign": "false", "log.showSignature": "false",
           "merge.verifySignatures": "false", "core.pager": "cat", "gc.auto": "0",
           "maintenance.auto": "false", "core.untrackedCache": "false",
           # git's caches of history, which a reader trusts over the objects: a forged commit-graph gives a
           # commit another tree or parents, a forged multi-pack-index an object another's bytes (u3)
           "core.commitGraph": "false", "core.multiPackIndex": "false"}
GIT_SAFE = {"GIT_CONFIG_COUNT": str(len(GIT_OFF)),
            **{f"GIT_CONFIG_{kv}_{i}": x for i, (k, v) in enumerate(GIT_OFF.items())
               for kv, x in (("KEY", k), ("VALUE", v))},
            "GIT_CONFIG_PARAMETERS": " ".join(f"'{k}={v}'" for k, v in GIT_OFF.items()),
            "GIT_PAGER": "cat", "GIT_EDITOR": "true", "GIT_SEQUENCE_EDITOR": "true", "GIT_ASKPASS": "",
            "SSH_ASKPASS": "", "GIT_TERMINAL_PROMPT": "0",
            "GIT_NO_REPLACE_OBJECTS": "1", "GIT_GRAFT_FILE": "/dev/null/grafts",
            # a URL `<transport>::<address>` runs git-remote-<transport>, a program found on PATH or in git's
            # exec path, where the agent can put one: only git's own transports (rt13a p14: the agent's repo
            # config rewrote the remote with url.<base>.insteadOf, and `git fetch` ran its helper as root)
            "GIT_ALLOW_PROTOCOL": "file:git:http:https:ssh"}


# What a task's tests read in a home is what the agent left there (TermiGen: ~/.bashrc, ~/.wgetrc,
# /root/.ssh/authorized_keys); the rest of a home the verifier sees as the image had it
# (sandbox_init.verifier_homes). A path under /root or /home, or ~/ or $HOME/ and a path, names that path.
# The home itself, or HOME / Path.home() / expanduser / getpwuid / getent without a path we can read,
# names the home: each of its entries but its dot-entries (rt10 p19: even Python's `data[~mask]` does, so
# no word names per-user configuration). A tests/ too big to read whole names every home so ("/").
_PATH = r"(?:/[\w.@+-]+)"
HOME_NAMED = re.compile(rf"(?<![\w.~$-])((?:/root|/home){_PATH}*)(?![\w.@+-])|(?:~|\$\{{?HOME\}}?)({_PATH}+)"
                        r"|(~|\$\{?HOME\b|\bHOME\b|Path\.home|expanduser|getpwuid|\bgetent\b)")
HOME_SCAN_FILES, HOME_SCAN_BYTES = 2000, 1 << 24


def homes_named(tests: Path) -> tuple[str, ...]:
    """The paths in homes a task's tests name ("~": the verifier's HOME, "~/x": a path in it), read from
    every file under tests/ (links not followed); ("/",) where there are more than HOME_SCAN_FILES files or
    HOME_SCAN_BYTES bytes to read."""
    return tests_named(tests)[0]


TESTS_PATH = re.compile(r"(?<![\w.~$-])(/[\w.@+-]+(?:/[\w.@+-]+)+)")
TESTS_PATHS = 10_000


def tests_named(tests: Path) -> tuple[tuple[str, ...], frozenset[str], frozenset[str], frozenset[str],
                                      tamper.Lookups, tamper.Installs]:
    """(homes_named, the absolute paths the tests run by their name: tamper.exec_named, `sh /opt/grade.sh`,
    every absolute path of two components or more they spell out, at most TESTS_PATHS: tests_paths, the
    tools whose settings in the workdir are judged: tamper.tools_in, `ruff check`, the search paths their
    words set and the names they source, with every file name of tests/: tamper.tests_lookups, the
    packages they install by name: tamper.tests_installs, with the names of the requirement files of
    tests/ they pass: tests_requirements) in one reading of tests/; past the budget, the paths and
    packages read so far and every tool (what was not read may run any)."""
    named, files, left, run, spelt, tools = set(), 0, HOME_SCAN_BYTES, set(), set(), set()
    lookups, installs = tamper.Lookups(), tamper.Installs()
    every = frozenset([*tamper.TOOL_SETTINGS, *tamper.RESOLVERS])
    done = lambda homes, over=False: (homes, frozenset(run), frozenset(sorted(spelt)[:TESTS_PATHS]),  # noqa
                                      every if over else frozenset(tools), lookups,
                                      tests_requirements(tests, installs))
    for root, dirs, names in os.walk(tests):
        lookups |= tamper.Lookups(sourced=frozenset(names))    # a staged helper is never found elsewhere
        for name in names:
            files += 1
            path = os.path.join(root, name)
            if files > HOME_SCAN_FILES:
                return done(("/",), over=True)
            if (data := _task_file(path, left + 1)) is None:
                continue
            left -= len(data)
            text = data.decode("utf-8", "replace")
            run |= tamper.exec_named(text)
            tools |= tamper.tools_in(text)
            lookups |= tamper.tests_lookups(text)
            installs |= tamper.tests_installs(text)
            if len(spelt) < TESTS_PATHS:
                spelt |= {os.path.normpath(m) for m in TESTS_PATH.findall(text)}
            if left < 0:
                return done(("/",), over=True)
            for m in HOME_NAMED.finditer(text):
                named.add(m.group(1) or ("~" + m.group(2) if m.group(2) else "~"))
    return done(tuple(sorted(named)))


REQUIREMENT_FILES, REQUIREMENT_BYTES = 64, 1 << 20


def tests_requirements(tests: Path, installs: tamper.Installs) -> tamper.Installs:
    """`installs` with the projects of the requirement files it names that tests/ holds (`pip install -r
    /tests/requirements.txt`), and of those they include (-r), each matched by its file name: the tests
    spell a file's directory as they like (`$(dirname "$0")/`, test.sh's cwd). At most REQUIREMENT_FILES
    files of REQUIREMENT_BYTES each, links not followed, among tests/' first HOME_SCAN_FILES."""
    if not installs.files:
        return installs
    by_name: dict[str, list[Path]] = {}
    for path in itertools.islice((Path(r) / n for r, _, names in os.walk(tests) for n in names),
                                 HOME_SCAN_FILES):
        by_name.setdefault(path.name, []).append(path)
    # the last part of a path as written (`"$(dirname "$0")/requirements.txt"`: requirements.txt)
    last = lambda f: re.split(r"[/\"'()]", f.strip("\"')"))[-1]          # noqa: E731
    pip, seen, todo = set(installs.pip), set(), [last(f) for f in installs.files]
    while todo and len(seen) < REQUIREMENT_FILES:
        for path in by_name.get(todo.pop(), []):
            if path in seen or len(seen) >= REQUIREMENT_FILES:
                continue
            seen.add(path)
            if (data := _task_file(str(path), REQUIREMENT_BYTES)) is None:
                continue
            text = data.decode("utf-8", "replace")
            names, more = tamper.requirement_names(text)
            pip |= names
            todo += [last(m) for m in more]
    return tamper.Installs(frozenset(pip), installs.apt, installs.npm, installs.files)


def tests_paths(tests: Path) -> frozenset[str]:
    """Every absolute path the task's tests spell out (tests_named's third part): what a test checks is gone
    (`assert not Path("/etc/sudoers.d/cert-rotation").exists()`) is the agent's to delete (tamper.tampered's
    `removable`)."""
    return tests_named(tests)[2]


# What a task's tests download themselves (rt11a p14: `curl -fsSL URL -o /tmp/junit.jar` before `java -jar
# /tmp/junit.jar`): a runner there that cannot be opened never came (runner_missing). Read from the shell
# lines of any file under tests/ that run curl or wget: curl's -o/--output FILE and -O (the URL's last
# part), wget's -O/--output-document FILE, -P DIR (DIR/the URL's last part) or the URL's last part, a
# `> FILE` after either, `$NAME` and `${NAME}` expanded where the same file assigns NAME=value; and
# Python's urlretrieve("URL", "FILE"). Relative paths stay so (test.sh's cwd, the workdir, resolves them).
# Only from the internet (_remote): what test.sh fetches from a service of the task's (localhost:8000, a
# compose service `app`) may be the agent's work, whose absence is the check failing.
# At most FETCH_LINES such lines are read (shlex: ~0.1 ms a line), within homes_named's budgets, each to
# FETCH_LINE_CHARS: shlex is quadratic in a word's length (a 1.5 MiB `curl aaa...` took minutes, rt13b p24),
# ~5 ms for one 8 KiB word, so ~5 s for FETCH_LINES of them at worst.
FETCH_LINE = re.compile(r"\b(curl|wget)\b[^\n]*"
                        r"|urlretrieve\(\s*(['\"])(?P<url>[^'\"\n]+)\2\s*,\s*(['\"])(?P<to>[^'\"\n]+)\4")
ASSIGNED = re.compile(r"^[ \t]*(?:(?:export|local|readonly)[ \t]+)?([A-Za-z_]\w*+)=(\S+)", re.M)   # linear
SHELL_SEP = {";", "&&", "||", "|", "&", "(", ")"}
FETCH_LINES, FETCH_LINE_CHARS = 1000, 8192
# a cluster of short options that take no value, then the one that takes the output file (curl's -o,
# wget's -O) with the file attached or as the next word; curl's -O (remote name) takes none
CURL_O, WGET_O = re.compile(r"-[fsSLkvqgiNnI#ZRJ]*o(.*)"), re.compile(r"-[qvcNnrkSxdb]*O(.*)")
CURL_REMOTE = re.compile(r"-[fsSLkvqgiNnI#ZRJ]*O[fsSLkvqgiNnI#ZRJ]*|--remote-name")


def fetched_paths(tests: Path) -> tuple[str, ...]:
    """The files the task's tests download (see above), read from every file under tests/ (links not
    followed), at most HOME_SCAN_FILES files, HOME_SCAN_BYTES bytes and FETCH_LINES lines that fetch:
    past them, what was found."""
    found, left, lines = set(), HOME_SCAN_BYTES, FETCH_LINES
    for path in sorted(tests.rglob("*"))[:HOME_SCAN_FILES]:
        if left <= 0 or lines <= 0 or (data := _task_file(str(path), left)) is None:
            continue
        text = data.decode("utf-8", "replace").replace("\\\n", " ")
        left -= len(text)
        names = {k: v.strip("'\"") for k, v in ASSIGNED.findall(text)}
        expand = lambda w: re.sub(r"\$\{?([A-Za-z_]\w*)\}?", lambda m: names.get(m[1], m[0]), w)  # noqa
        for m in FETCH_LINE.finditer(text):
            lines -= 1
            if lines < 0:
                break
            if m["to"]:
                found.update([expand(m["to"])] if _remote(expand(m["url"])) else [])
                continue
            try:
                lexer = shlex.shlex(m[0][:FETCH_LINE_CHARS], posix=True, punctuation_chars=";&|()<>")
                lexer.whitespace_split = True
                words = [expand(w) for w in lexer]
            except ValueError:                 # an unclosed quote: not a command line we can read
                continue
            for i, w in enumerate(words):
                if os.path.basename(w) in ("curl", "wget") and (i == 0 or words[i - 1] in SHELL_SEP):
                    found.update(_fetch_outputs(os.path.basename(w), words[i + 1:]))
    return tuple(sorted(found))


def _fetch_outputs(tool: str, args: list[str]) -> list[str]:
    """The files one curl or wget command writes, from its arguments (to a shell separator): fetched_paths."""
    out, urls, prefix, remote, i = [], [], "", False, 0
    while i < len(args) and args[i] not in SHELL_SEP:
        w, nxt = args[i], args[i + 1] if i + 1 < len(args) else ""
        short = (CURL_O if tool == "curl" else WGET_O).fullmatch(w)
        if w in (">", ">>", "--output", "--output-document") or short and not short[1]:
            out.append(nxt)
            i += 1
        elif short:
            out.append(short[1])
        elif w.startswith(("--output=", "--output-document=")):
            out.append(w.split("=", 1)[1])
        elif tool == "wget" and w in ("-P", "--directory-prefix"):
            prefix, i = nxt, i + 1
        elif tool == "wget" and w.startswith("--directory-prefix="):
            prefix = w.split("=", 1)[1]
        elif tool == "curl" and CURL_REMOTE.fullmatch(w):
            remote = True
        elif re.match(r"(https?|ftp)://", w):
            urls.append(w)
        i += 1
    if not any(_remote(u) for u in urls):
        return []
    if remote or tool == "wget" and not out:   # the URL's last part, in the cwd or wget's -P
        out += [os.path.join(prefix, u.split("?")[0].rstrip("/").rsplit("/", 1)[-1]) for u in urls]
    return [o for o in out if o and o != "-" and not o.startswith("/dev/")]


def _remote(url: str) -> bool:
    """A URL of the internet's: a host with a dot that is not a loopback or private address."""
    host = urllib.parse.urlsplit(url).hostname or ""
    try:
        return ipaddress.ip_address(host).is_global
    except ValueError:                         # a name, not an address
        return "." in host and not host.endswith((".local", ".localhost", ".internal"))


@dataclass(frozen=True)
class TaskFacts:
    """What every episode's checks derive from a task's own tests/: the stdlib names its Python imports
    (tamper.shadow_names), the modules it vendors (tamper.tests_modules), the homes it names
    (homes_named), every module it imports (tamper.tests_imports: asked for, where the image's code
    imports it guarded), those it imports only guarded (tamper.tests_optional: no deliverable, judged as
    the image's guarded imports are), the paths it runs by their name (tests_named) and the files it downloads
    (fetched_paths), every absolute path it spells (tests_paths) and the tools it runs whose settings
    are judged in the workdir (tamper.tools_in), the search paths its words set (tamper.tests_lookups),
    and the packages it installs by name (tamper.tests_installs, tests_requirements).
    Each is bounded by its own budget:
    past SHADOW_SCAN_BYTES every stdlib name counts (and no module is asked for), past HOME_SCAN_BYTES every
    home is named ("/"), tests_modules reads MAX_ENTRIES entries."""
    imports: frozenset
    modules: frozenset
    homes: tuple
    named: frozenset = frozenset()
    programs: frozenset = frozenset()
    fetched: frozenset = frozenset()
    paths: frozenset = frozenset()
    tools: frozenset = frozenset()
    lookups: tamper.Lookups = tamper.Lookups()
    installs: tamper.Installs = tamper.Installs()
    optional: dict = field(default_factory=dict)


_facts: dict[str, tuple[tuple, TaskFacts]] = {}
_facts_locks: dict[str, threading.Lock] = {}
_facts_guard = threading.Lock()


def _tree_stamp(tests: Path) -> tuple:
    """Every entry of tests/ with its inode, size, mode and times (no link followed, at most MAX_ENTRIES + 1
    entries): a file rewritten, added or removed changes it. Read a few times a verify, so each directory is
    opened from its parent's descriptor and each entry stat'ed by name in it: the kernel walks no path from
    the top again at every entry (rt17a p23: os.walk's lstat of full paths, quadratic in depth)."""
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    out = []
    def listed(fd: int, rel: str):             # stamps fd's entries; its subdirectories' names, to go into
        subs = []
        try:
            with os.scandir(fd) as it:
                for e in it:
                    st = e.stat(follow_symlinks=False)             # fstatat(fd, name): no path walk
                    out.append((rel, e.name, st.st_ino, st.st_size, st.st_mode, st.st_mtime_ns,
                                st.st_ctime_ns))
                    if stat.S_ISDIR(st.st_mode):
                        subs.append(e.name)
                    if len(out) > tamper.MAX_ENTRIES:
                        break
        except OSError:                        # gone or unreadable meanwhile: what was read is the stamp
            pass
        return iter(subs)
    try:
        top = os.open(tests, flags)
    except OSError:
        return ()
    stack = [(top, "", listed(top, ""))]      # open descriptors: one per level of the path being walked
    try:
        while stack and len(out) <= tamper.MAX_ENTRIES:
            fd, rel, subs = stack[-1]
            name = next(subs, None)
            if name is None:
                os.close(stack.pop()[0])
                continue
            try:
                sub = os.open(name, flags, dir_fd=fd)
            except OSError:
                continue
            stack.append((sub, f"{rel}{name}/", listed(sub, f"{rel}{name}/")))
    finally:
        for fd, _, _ in stack:
            os.close(fd)
    return tuple(out)


def task_facts(task: Task) -> TaskFacts:
    """TaskFacts of the task's tests/, read once per task and version of its files (rt10b p13: they were
    read twice an episode, ~3 s of ast per 1 MiB file); episodes of one task wait for one reading, other
    tasks' do not."""
    tests = task.path / "tests"
    with _facts_guard:
        lock = _facts_locks.setdefault(str(tests), threading.Lock())
    with lock:
        stamp = _tree_stamp(tests)
        hit = _facts.get(str(tests))
        if hit is None or hit[0] != stamp:
            named = tamper.tests_imports(str(tests))
            imports = tamper.shadow_names(str(tests), named)
            if imports is tamper.ALL_IMPORTS:
                say(f"task '{task.name}': tests/ is over the budget for reading its imports "
                    f"({tamper.SHADOW_SCAN_BYTES >> 20} MiB of Python, {tamper.SHADOW_SCAN_SECONDS:g} s, "
                    f"{tamper.MAX_ENTRIES} entries): every stdlib module name is judged as one it imports")
            homes, programs, paths, tools, lookups, installs = tests_named(tests)
            hit = stamp, TaskFacts(imports, frozenset(tamper.tests_modules(str(tests))), homes,
                                   named or frozenset(), programs, frozenset(fetched_paths(tests)), paths,
                                   tools, lookups, installs, tamper.tests_optional(str(tests)))
            _facts[str(tests)] = hit
    return hit[1]


# harbor's own ldconfig before test.sh, when the agent changed the loader's cache (_run_tests)
LDCONFIG = ("/sbin/ldconfig", "-i", "-X")


def _run_tests(env: Environment, task: Task, seed: int, changes: list[tamper.Change], deadline: float,
               upload: bool = True, staged: bool = False, kept: tuple[str, ...] = ()) -> tuple[float, str]:
    # Everything below is started by pid 1 (Sandbox.run_fresh), never by the agent's shell. A separate
    # verifier's image holds its tests already (upload=False); staged: they arrive in the verifier's own
    # mount namespace (run_fresh(tests=...)), on a root of its own, where the agent's processes never see
    # them and which holds no inode of theirs.
    if upload and not staged:
        r = env.box.run_fresh("rm -rf /tests && mkdir -p /tests", 30)
        if r.exit_code:
            raise VerifierError(f"cannot prepare /tests: {one_line(r.output)[-200:]}")
    try:
        if upload and not staged:
            env.copy_in(task.path / "tests", "/tests")
        elif upload:                           # staged by run_fresh(tests=...) below: the same cap first
            env.box.check_room(task.path / "tests", "/tests")
    except OSError as e:                       # tests/ over what the sandbox holds, say: the task's
        raise VerifierError(f"task '{task.name}': {one_line(str(e))[:200]}") from None
    assign = " ".join(f"{k}={shlex.quote(v)}" for k, v in
                      {"PYTHONPYCACHEPREFIX": sandbox_init.PYCACHE, **task.verifier_env,
                       "TASK_SEED": str(seed), "PYTHONNOUSERSITE": "1",
                       # pip's and uv's caches under HOME are the agent's to write (its own installs):
                       # the verifier's installs read none (tamper.CONFIG: their configuration is judged)
                       "PIP_NO_CACHE_DIR": "1", "UV_NO_CACHE": "1", **GIT_SAFE}.items())
    # apt rewrites /etc/ld.so.cache when it installs a library, and so would `ldconfig /agents/dir`: the
    # cache is derived state, rebuilt here from the loader's configuration (whose changes tamper.py refuses),
    # reading every library's soname from the file (-i: no aux-cache, whose entries name sonames unread;
    # the verifier's /var/cache is the image's anyway, sandbox_init._caches). -X: the cache only, no links:
    # ldconfig makes a library's link at <dir>/<DT_SONAME>, a path the agent's file would choose (rt12a p22:
    # `../../../etc/ld.so.preload`); the cache it writes is the same (its entries name dir/soname either way).
    cache_changed = any(c.path == "/etc/ld.so.cache" for c in changes)
    ldconfig = f"{shlex.join(LDCONFIG)} 2>/dev/null; " if cache_changed else ""
    # A fresh bash that pid 1 starts and waits for: its end and exit status cannot be forged by anything the
    # agent left or wrote; `exec` so that test.sh's own death is what pid 1 sees. Its /logs/verifier is a
    # fresh tmpfs in a mount namespace of its own, read by pid 1 (invariant 2).
    if (left := deadline - time.monotonic()) <= 0:        # the verify's clock (verify), spent before it
        return 0.0, _timed_out(task)
    try:
        r = env.box.run_fresh(f"{ldconfig}cd {shlex.quote(task.workdir)}; exec env {assign} "
                              "bash /tests/test.sh", left, private_logs=True,
                              user=env.verifier_user, tests=task.path / "tests" if staged else None,
                              homes=verifier_view(env, task, kept) + bytecode_views(
                                  task, changes, env.image, env.baseline) + cache_views(task, changes))
    except sandbox.SandboxError as e:          # tests/ with no room on the host's disk to stage, say
        if type(e) is not sandbox.SandboxError:
            raise
        raise sandbox.SandboxError(f"task '{task.name}': {e}") from None
    if r.timed_out:
        return 0.0, _timed_out(task)
    if r.signal:                               # killed before it could finish: there is no reward to read
        raise VerifierError(f"task '{task.name}': test.sh was killed by signal {r.signal}")
    # A runner test.sh cannot run means the verifier is broken, whatever reward it then wrote. Read from the
    # output's head (the first output_chars characters) AND its tail (the last as many, its first line
    # dropped: cut anywhere), so no log printed first hides it (rt6 p04: 60,000 characters, then
    # `pytest: command not found`, scored a silent 0).
    lines = [*r.output.strip().splitlines(), *r.tail.splitlines()[1:]]
    fetched, asked = task_facts(task).fetched, tamper.named_paths(task.instruction)
    clean = [ANSI.sub("", l).strip() for l in lines]
    broken = [i for i, c in enumerate(clean) if runner_missing(c, fetched, task.workdir, asked)]
    # exit 126/127 is the status of test.sh's last command, which may be the deliverable it ran
    undone = any(names_deliverable(c, task.workdir, asked) for c in clean[-3:])
    if broken or r.exit_code in (126, 127) and not undone:
        why = lines[broken[-1]] if broken else (lines or ["(no output)"])[-1]
        written = ()
        if broken:                             # the agent's own files its traceback names (_blame)
            # a relative one is the agent's where it ends one of the agent's paths (the runner's cwd: any)
            mine = [c.path for c in changes if env.baseline.get(c.path) != c.stamp]
            traced = failure_files([ANSI.sub("", l) for l in lines], broken[-1])
            written = tuple(m for p in traced for m in mine if m == p or not p.startswith("/")
                            and m.endswith("/" + p))[:8]
        raise RunnerMissing(f"task '{task.name}': test.sh exit {r.exit_code}: {why.strip()[:200]}",
                            clean[broken[-1]] if broken else "", written)
    tail = f" (test.sh exit {r.exit_code}: {one_line(r.tail or r.output)[-200:]!r})"
    files = r.files or {}
    for name in ("reward.json", "reward.txt"):
        if name not in files:
            continue
        if name == "reward.json" and files.get("reward.txt") and _json_object_without_reward(files[name]):
            continue                           # Harbor's rule: a report of other numbers; reward.txt scores
        if files[name] is None:
            raise VerifierError(f"task '{task.name}': /logs/verifier/{name} is not a regular file")
        if not files[name].strip():
            return 0.0, f"{name} empty" + tail
        reward = read_reward(task.name, name, files[name])
        # Both files, saying different rewards: one was not test.sh's verdict (rt17a p07: the deliverable
        # test.sh ran wrote reward.json {"reward": 1} over the reward.txt 0 test.sh wrote; Harbor reads
        # reward.json first). A verifier error, which the control run without the agent then books as the
        # agent's 0 where test.sh alone writes one file.
        if name == "reward.json" and (other := files.get("reward.txt")) and other.strip():
            try:
                second = read_reward(task.name, "reward.txt", other)
            except VerifierError:
                second = None
            if second != reward:
                raise TwoVerdicts(f"task '{task.name}': reward.json says {reward!r}, reward.txt "
                                  f"{one_line(other.decode('utf-8', 'replace'))[:40]!r}: two verdicts", reward)
        return reward, ""
    return 0.0, "reward.txt missing" + tail


def _json_object_without_reward(data: bytes | None) -> bool:
    """Whether a reward.json is a JSON object with no "reward" key: Harbor then takes the reward from
    reward.txt (verifiers that write a detailed report of other numbers in reward.json and their score in
    reward.txt); anything else is read as the reward, or is garbled, by read_reward."""
    try:
        value = json.loads((data or b"").decode("utf-8", errors="replace"))
    except Exception:                          # RecursionError too: read_reward says garbled
        return False
    return isinstance(value, dict) and "reward" not in value


def read_reward(task_name: str, name: str, data: bytes) -> float:
    """The reward in a reward file's bytes (pid 1 read at most sandbox_init.REWARD_FILES[name]): a number in
    [0, 1], or VerifierError naming the file. The one place a reward file is parsed, and every exception of
    the parse is the verifier's, whatever its type: 3,000 nested `[` make json.loads raise RecursionError
    (rt10a p20), a 4,000-digit integer ValueError, `{"reward": true}` would be float 1.0."""
    text = data.decode("utf-8", errors="replace")
    try:
        value = json.loads(text)["reward"] if name == "reward.json" else text.strip()
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise TypeError(f"{type(value).__name__} is not a number")
        reward = float(value)
    except Exception:                          # RecursionError and MemoryError too: never a harness error
        raise VerifierError(f"task '{task_name}': {name} garbled: {text.strip()[:80]!r}") from None
    if not 0.0 <= reward <= 1.0:               # NaN fails this too, and so do inf and 1e39
        raise VerifierError(f"task '{task_name}': {name} holds {reward!r}, not a reward in [0, 1]")
    return reward


def registry_net(value: str) -> str:
    """--registry-net's type: a network such as 127.0.0.1/32 (argparse names a bad one)."""
    ipaddress.ip_network(value, strict=False)
    return value


def seconds(value: str) -> float:
    """--max-task-clock's type: a finite number of seconds > 0 (argparse names a bad one)."""
    if not 0 < float(value) < math.inf:
        raise ValueError(value)
    return float(value)


REGISTRY_NET_HELP = ("a non-public network an image registry may be at, e.g. 127.0.0.1/32 for one on this "
                     "machine (repeatable); without it a registry, token realm or redirect at a loopback, "
                     "private or link-local address is refused")


def add_environment_flags(add) -> None:
    """The switches of how episodes' environments run, shared by echo.py (runs.py) and eval.py so the two
    can never drift: `add` is a parser's add_argument."""
    add("--registry-net", action="append", default=[], metavar="CIDR", type=registry_net,
        help=REGISTRY_NET_HELP)
    add("--no-internet", action="store_true", help="turn the agent's network off (its commands, the oracle, "
        "the seeded setup steps) even where the task allows it; the verifier keeps the task's own setting "
        "and builds keep theirs (as docker build)")
    add("--kill-agent-processes", action="store_true", help="kill every process the agent started before "
        "verification; default, as Harbor: they (a service it started) stay alive into it, which runs on a "
        "root they can no longer write (CONTAINMENT.md; needs Landlock ABI 6, Linux 6.12+)")
    add("--live-verifier", action="store_true", help="with the agent's processes kept, run the tests on the "
        "live container beside them, as Harbor does (no seal: what they write during the tests, /tests "
        "included, the tests read; for tasks whose tests and a service share files; not for untrusted "
        "policies); default: the tests see the container as it "
        "was when verification began (CONTAINMENT.md)")
    add("--max-task-clock", type=seconds, default=Limits.max_task_clock, metavar="SEC",
        help="cap on a task's own verifier and setup clocks ([verifier].timeout_sec, build_timeout_sec, up to "
        "7200 in task.toml): one slow task holds every step that samples it (default %(default)g)")
    add("--allow-no-cgroup", action="store_true", help="where no cgroup can be made (not root, no delegated "
        "cgroup v2 subtree), run episodes and builds with per-process memory and process limits and no CPU "
        "limit; default: they do not start")


def main(argv=None) -> int:
    """`python harbor.py build TASK_OR_DIR ...`: build (and cache) task environments ahead of a run."""
    import argparse
    p = argparse.ArgumentParser(description="Build (and cache) the environments of Harbor tasks.")
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="build the environments of task directories (or folders of them)")
    b.add_argument("tasks", nargs="+", type=Path)
    b.add_argument("--images", type=Path, help="a local image store directory")
    b.add_argument("--registry-net", action="append", default=[], metavar="CIDR", type=registry_net,
                   help=REGISTRY_NET_HELP)
    b.add_argument("--allow-no-cgroup", action="store_true",
                   help="where no cgroup can be made, build with per-process limits (default: refuse)")
    args = p.parse_args(argv)
    sandbox.ALLOW_NO_CGROUP = args.allow_no_cgroup
    try:
        images.prepare_cache()
    except images.BuildError as e:
        say(f"harbor.py: error: {e}")
        return 2
    errors: list[str] = []
    tasks = []
    for d in args.tasks:                       # a bad task is one line; the others are still built
        try:
            tasks += [load_task(d)] if (d / "task.toml").exists() else load_tasks(d, errors)
        except (TaskError, MissingError) as e:
            errors.append(str(e))
    for e in errors:
        say(e)
    failed = len(errors)
    for i, task in enumerate(tasks, 1):
        t0 = time.monotonic()
        try:
            # a build's lines quote the task (a FROM, a step's arguments): one line each, escaped
            show = lambda m: print(f"  {one_line(m)}", flush=True)     # noqa: E731
            build_task(task, store=args.images, log=show, registry_nets=tuple(args.registry_net))
            for svc in task.compose.services if task.compose else []:
                build_service(task, svc, store=args.images, log=show, registry_nets=tuple(args.registry_net))
            print(f"[{i}/{len(tasks)}] {task.name}: built in {time.monotonic() - t0:.0f} s", flush=True)
        except (images.BuildError, sandbox.SandboxError, OSError) as e:
            failed += 1
            say(f"[{i}/{len(tasks)}] task '{task.name}': build failed: {e}", sys.stdout)
        except Exception as e:             # a bug of ours on one task's data: named, and the rest still built
            failed += 1
            say(f"[{i}/{len(tasks)}] task '{task.name}': build failed (a bug in echo: {type(e).__name__}): "
                f"{one_line(str(e))}", sys.stdout)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
