"""Contracts of the environment half, through its public doors (harbor.load_task / start_task / verify,
Sandbox, images' build cache and debootstrap), including the paths this machine does not take by itself:
a sandbox without a cgroup and a machine without debootstrap."""
import os
import time

import pytest

import dockerfile
import harbor
import images
import sandbox
from sandbox import Limits, Sandbox
from test_harbor_episodes import make_task

# ---- the verifier's reward file ----

# test.sh writes the reward named by TASK_SEED (verify passes the episode's seed), so one sandbox serves all
REWARDS = {1: ("reward.txt", "nan"), 2: ("reward.txt", "inf"), 3: ("reward.txt", "-inf"),
           4: ("reward.json", '{"reward": NaN}'), 5: ("reward.json", '{"reward": Infinity}'),
           6: ("reward.txt", "0.75"), 7: ("reward.json", '{"reward": 0.25}'), 8: ("both", ""),
           9: ("reward.json", '{"score": 1}'), 10: ("reward.txt", "  \n"), 11: ("reward.txt", "1.5"),
           12: ("reward.json", '{"reward": -0.25}'), 13: ("reward.txt", "1"),
           14: ("reward.json", '{"reward": 0}'),
           15: ("reward.txt", "1.0000001"), 16: ("reward.txt", "abc"), 17: ("report", ""), 18: ("report", "")}
TEST_SH = "case $TASK_SEED in\n" + "".join(
    f"  {seed}) printf '%s' '{text}' > /logs/verifier/{name};;\n" for seed, (name, text) in REWARDS.items()
    if name not in ("both", "report")) + (
    "  8) echo 1 > /logs/verifier/reward.txt; echo '{\"reward\": 0.5}' > /logs/verifier/reward.json;;\n"
    "  17) echo 1 > /logs/verifier/reward.txt; echo '{\"passed\": 3, \"total\": 3}' > "
    "/logs/verifier/reward.json;;\n"
    "  18) echo 1 > /logs/verifier/reward.txt; python3 -c 'import json; print(json.dumps({f\"case{i}\": 1 "
    "for i in range(2000)}))' > /logs/verifier/reward.json;;\nesac\n")


@pytest.fixture(scope="module")
def verifying(tmp_path_factory):
    task = harbor.load_task(make_task(tmp_path_factory.mktemp("v"), files={"tests/test.sh": TEST_SH}))
    with harbor.start_task(task) as sb:
        yield lambda seed: harbor.verify(sb, task, seed)


# A reward that is not a finite number in [0, 1] is the verifier's error, not a reward (harbor.verify):
# NaN, the infinities and values just outside the range alike; 0 and 1 themselves are rewards.
@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 11, 12, 15])
def test_a_reward_outside_zero_to_one_is_a_verifier_error(verifying, seed):
    name, text = REWARDS[seed]
    with pytest.raises(harbor.VerifierError, match=rf"^task 't': {name} holds .*, not a reward in \[0, 1\]$"):
        verifying(seed)


def test_the_ends_of_zero_to_one_are_rewards(verifying):
    assert verifying(13) == (1.0, "") and verifying(14) == (0.0, "")


def test_a_finite_reward_is_taken_as_written(verifying):
    assert verifying(6) == (0.75, "") and verifying(7) == (0.25, "")


def test_reward_json_wins_over_reward_txt(verifying):
    assert verifying(8) == (0.5, "")


def test_a_reward_json_of_other_numbers_leaves_the_reward_to_reward_txt(verifying):
    # Harbor's verifier: a reward.json without "reward" beside a reward.txt is a report; reward.txt scores
    assert verifying(17) == (1.0, "")
    assert verifying(18) == (1.0, "")         # a report of 2,000 numbers, 29 KB (rt14b p30: 4 KiB were read)


def test_a_reward_json_without_reward_is_garbled_and_an_empty_file_is_empty(verifying):
    with pytest.raises(harbor.VerifierError, match=r"^task 't': reward.json garbled: '\{\"score\": 1\}'$"):
        verifying(9)
    with pytest.raises(harbor.VerifierError, match=r"^task 't': reward.txt garbled: 'abc'$"):
        verifying(16)
    assert verifying(10)[0] == 0.0 and verifying(10)[1].startswith("reward.txt empty")


def test_no_reward_file_is_reward_zero_missing(verifying):
    reward, why = verifying(99)
    assert reward == 0.0 and why.startswith("reward.txt missing")


# ---- the Dockerfile replay (dockerfile.py: the loader's and the builder's one interpreter) ----

def replayed(steps) -> dockerfile.Config:
    """The Config after every step past FROM, from an image whose own config sets nothing."""
    _, build_args, body = dockerfile.stage(steps)
    config = dockerfile.Config(build_args=build_args)
    for s in body:
        config = dockerfile.replay(config, s)
    return config


def test_dockerfile_env_arg_and_workdir_replay(tmp_path):
    df = ("FROM host\nARG BASE=/srv\nENV HOME_DIR=$BASE/home X=1\nWORKDIR $HOME_DIR\nWORKDIR sub\n"
          "ENV X=2\nRUN true\n")
    task = harbor.load_task(make_task(tmp_path, files={"environment/Dockerfile": df}))
    assert task.workdir == "/srv/home/sub"
    c = replayed(task.dockerfile)
    assert (c.env, c.workdir, c.args) == ({"HOME_DIR": "/srv/home", "X": "2"}, "/srv/home/sub",
                                          {"BASE": "/srv"})


def test_env_wins_over_an_arg_of_the_same_name(tmp_path):
    steps = dockerfile.parse("FROM host\nARG A=arg\nENV A=env\nENV B=$A\n")
    assert replayed(steps).env == {"A": "env", "B": "env"}


def test_a_task_workdir_defaults_to_app_without_a_dockerfile(tmp_path):
    assert harbor.load_task(make_task(tmp_path)).workdir == "/app"


# ---- with --kill-agent-processes, the agent's processes are gone before the verifier runs ----

SEES_SLEEPERS = ("for c in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < $c 2>/dev/null; echo; done "
                 "| grep -c '^sleep 100[0-9]' > /logs/verifier/reward.txt || true\n")


def test_with_kill_no_process_the_agent_started_is_alive_when_test_sh_runs(tmp_path):
    # the reward is the number of the agent's sleepers test.sh can see: 0, however they were detached
    task = harbor.load_task(make_task(tmp_path, files={"tests/test.sh": SEES_SLEEPERS}))
    with harbor.start_task(task, limits=Limits(keep_agent_processes=False)) as env:
        env.run("sleep 1000 & setsid sleep 1001 & nohup sleep 1002 >/dev/null & (trap '' HUP; sleep 1003 &)")
        assert env.run("for c in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < $c; echo; done | grep -c '^sleep 100'"
                       ).output == "4\n"                    # they were running
        assert env.verify() == (0.0, "")


# ---- the build cache key ----

def copy_key(tmp_path, files: dict, modes: dict = {}):
    ctx = tmp_path / "ctx"
    ctx.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (ctx / name).write_bytes(data)
        os.chmod(ctx / name, modes.get(name, 0o644))
    step = dockerfile.parse("FROM host\nCOPY a.txt /x/\n")[1]
    return images.advance(images.start_state(images.resolve("host")), step, ctx).key


def test_the_cache_key_hashes_the_bytes_not_the_size(tmp_path):
    assert copy_key(tmp_path / "1", {"a.txt": b"abc"}) != copy_key(tmp_path / "2", {"a.txt": b"abd"})


def test_the_cache_key_hashes_the_mode(tmp_path):
    assert copy_key(tmp_path / "1", {"a.txt": b"abc"}) != copy_key(tmp_path / "2", {"a.txt": b"abc"},
                                                                   {"a.txt": 0o755})


def test_the_cache_key_is_the_same_for_the_same_files_and_ignores_others(tmp_path):
    assert copy_key(tmp_path / "1", {"a.txt": b"abc"}) == copy_key(tmp_path / "2", {"a.txt": b"abc",
                                                                                  "b.txt": b"other"})


# ---- the sandbox's limits, with a cgroup (where this machine has one) and without ----

def sandbox_shell(limits, monkeypatch=None, tmp_path=None):
    if monkeypatch:  # the machine without a cgroup: creating one fails, as where cgroups are not delegated
        monkeypatch.setattr(sandbox.Cgroup, "_parents", staticmethod(lambda: (tmp_path / "no-cgroup", {})))
        monkeypatch.setattr(sandbox, "ALLOW_NO_CGROUP", False)
        with pytest.raises(sandbox.SandboxError, match="^cannot apply the episode's limits: no cgroup here"):
            Sandbox(limits=limits).__enter__()             # limits fail closed ...
        monkeypatch.setattr(sandbox, "ALLOW_NO_CGROUP", True)      # ... unless --allow-no-cgroup asks
    return Sandbox(limits=limits)


LIMITS = Limits(memory_mb=300, nproc=77, cpus=0.5, storage_mb=1000)


def test_without_a_cgroup_memory_is_limited_per_process(monkeypatch, tmp_path):
    with sandbox_shell(LIMITS, monkeypatch, tmp_path) as sb:
        assert sb.cgroup is None
        out = sb.run("ulimit -v; ulimit -u; df -m / | tail -1").output.split("\n")
        assert out[0] == str(300 * 1024) and out[1] == "77"
        assert out[2].split()[1] == "1000"   # the writable layer at its full size: not memory here
        r = sb.run("python3 -c 'x = bytearray(400 * 2**20); print(len(x))'")
        assert r.exit_code == 1 and "MemoryError" in r.output
        assert sb.run("python3 -c 'x = bytearray(50 * 2**20); print(len(x))'").output == f"{50 * 2**20}\n"


def test_with_a_cgroup_each_limit_is_written_to_it():
    with sandbox_shell(LIMITS) as sb:
        if sb.cgroup is None:
            pytest.skip("no cgroup on this machine")
        files = {f.name: f.read_text().strip() for d in sb.cgroup.dirs.values() for f in d.iterdir()
                 if f.name in ("memory.max", "memory.limit_in_bytes", "pids.max", "cpu.max",
                               "cpu.cfs_quota_us", "cpu.cfs_period_us")}
        memory = files.get("memory.max", files.get("memory.limit_in_bytes"))
        assert memory == str(300 << 20) and files["pids.max"] == "77"
        assert files.get("cpu.max", f"{files.get('cpu.cfs_quota_us')} {files.get('cpu.cfs_period_us')}") == \
            "50000 100000"
        out = sb.run("ulimit -v; df -m / /dev/shm | tail -2").output.split("\n")
        assert out[0] == "unlimited"          # the cgroup limits memory, not RLIMIT_AS
        # the tmpfs count as memory: the layer, /dev/shm (1/8) and /dev (1 MB) share 3/4 of it (224 + 1)
        assert (out[1].split()[1], out[2].split()[1]) == ("196", "28")


def test_the_episode_clock_caps_a_command(monkeypatch):
    with Sandbox(limits=Limits(episode_timeout=1.0)) as sb:
        t = time.monotonic()
        r = sb.run("sleep 5", timeout=30)
        assert r.timed_out and r.exit_code == -1 and time.monotonic() - t < 3
        r = sb.run("echo never")
        assert r.timed_out and r.output.startswith("[episode time limit of 1 s exceeded")


def test_output_is_cut_to_its_first_output_chars_with_a_note():
    with Sandbox(limits=Limits(output_chars=100)) as sb:
        r = sb.run("head -c 250 /dev/zero | tr '\\0' a; echo")
        assert r.output.startswith("a" * 100) and "a" * 101 not in r.output and "[output cut" in r.output
        assert sb.run("printf '%0100d' 0").output == "0" * 100   # exactly the limit: no note


# ---- a machine without debootstrap ----

def test_no_debootstrap_is_a_one_line_error(monkeypatch, capsys):
    monkeypatch.setattr(images.shutil, "which", lambda name: None)
    with pytest.raises(images.BuildError, match=r"^debootstrap needs root and the debootstrap package "
                                                r"\(apt-get install debootstrap\)$"):
        images.debootstrap("bookworm", "http://deb.debian.org/debian", ["debian:bookworm"], False, [])
    assert images.main(["debootstrap"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("images.py: error: debootstrap needs root")


# ---- the task's own limits ----

def test_start_task_applies_the_tasks_limits(tmp_path):
    toml = "[agent]\ntimeout_sec = 5\n[environment]\nmemory_mb = 300\nstorage_mb = 100\ncpus = 0.5\n"
    task = harbor.load_task(make_task(tmp_path, toml=toml))
    limits = Limits(episode_timeout=600, memory_mb=4096, command_timeout=7)
    with harbor.start_task(task, limits=limits) as env:
        got = env.box.limits
        assert (got.episode_timeout, got.memory_mb, got.storage_mb, got.cpus) == (5, 300, 100, 0.5)
        assert env.budget == 5                # the episode clock: the smaller of the run's and the task's
        assert got.command_timeout == 7   # what the task does not set stays the caller's


@pytest.mark.parametrize("text, want", [("$A/${A}", "1/1"), ("${E:-d}", "d"), ("${N:-d}", "d"),
                                        ("${A:-d}", "1"), ("$N.", "."), ("$$", "$$")])
def test_variable_substitution_as_docker(text, want):
    assert dockerfile.subst(text, {"A": "1", "E": ""}) == want


def test_a_task_workdir_is_normalised(tmp_path):
    toml = '[agent]\ntimeout_sec = 60\n[environment]\nworkdir = "//srv/x/"\n'
    task = harbor.load_task(make_task(tmp_path, toml=toml))
    assert task.workdir == "/srv/x"


# Per phase: the agent's network only when the task allows it and the trainer does (--no-internet turns
# off the agent's phase), the verifier's whenever the task allows it.
@pytest.mark.parametrize("allow, internet, agent, verifier", [(True, True, True, True),
                                                              (True, False, False, True),
                                                              (False, True, False, False)])
def test_network_only_when_the_task_allows_it_and_the_trainer_does(tmp_path, allow, internet, agent,
                                                                    verifier):
    toml = f"[agent]\ntimeout_sec = 60\n[environment]\nallow_internet = {str(allow).lower()}\n"
    task = harbor.load_task(make_task(tmp_path, toml=toml))
    assert harbor.task_network(task, internet) == (agent, verifier)
    if not sandbox.network_available():
        pytest.skip("pasta is not installed: no sandbox has a network")
    with harbor.start_task(task, internet=internet) as env:
        assert env.box.network is agent and env.verifier_network is verifier


# ---- the build cache key of each step (images.advance) ----

def keys(text: str, context) -> list[str]:
    state = images.start_state(images.resolve("host"))
    out = []
    for step in dockerfile.parse(text)[1:]:
        state = images.advance(state, step, context)
        out.append(state.key)
    return out


def test_a_step_key_depends_on_every_step_before_it(tmp_path):
    a = keys("FROM host\nRUN echo 1\nRUN make\n", tmp_path)
    b = keys("FROM host\nRUN echo 2\nRUN make\n", tmp_path)
    assert a[0] != b[0] and a[1] != b[1]                       # the same RUN make, after a different step
    assert keys("FROM host\nRUN echo 1\nRUN make\n", tmp_path) == a


@pytest.mark.parametrize("instr", ["COPY", "ADD"])
def test_a_copied_files_bytes_are_in_its_key(tmp_path, instr):
    (tmp_path / "f").write_bytes(b"abc")
    before = keys(f"FROM host\n{instr} f /f\n", tmp_path)
    (tmp_path / "f").write_bytes(b"abd")
    assert keys(f"FROM host\n{instr} f /f\n", tmp_path) != before


def test_env_and_arg_values_reach_the_key_and_the_state(tmp_path):
    assert keys("FROM host\nENV A=1\nRUN x\n", tmp_path)[1] != \
        keys("FROM host\nENV A=2\nRUN x\n", tmp_path)[1]
    state = images.start_state(images.resolve("host"))
    text = "FROM host\nARG V=1\nARG V\nENV W=\"$V two\"\nWORKDIR /a\nWORKDIR b\n"
    for step in dockerfile.parse(text)[1:]:
        state = images.advance(state, step, tmp_path)
    # ARG V (no default) keeps the value it had
    assert (state.config.args, state.env["W"], state.config.workdir) == ({"V": "1"}, "1 two", "/a/b")
