"""Harbor's separate verifier ([verifier].environment_mode = "separate", or a [verifier.environment]):
test.sh runs in a fresh container built from tests/Dockerfile, which gets only /logs/artifacts and the
task's `artifacts` from the agent's (harbor.verify_separate, Sandbox.copy_out). The task shapes are those
of Harbor's verifier-mode-matrix examples, on the host fallback (FROM host) and on a tiny real image."""
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import harbor  # noqa: E402
import sandbox  # noqa: E402
from harbor import (Outcome, TamperedError, TaskError, VerifierError, load_task, outcome_of,  # noqa: E402
                    start_task)

# The matrix's separate-explicit task: the convention directory, a configured artifact, and an agent-only
# file that must not reach the verifier.
TOML = """\
artifacts = ["/tmp/configured.txt"]
[verifier]
environment_mode = "separate"
timeout_sec = 30
"""
TEST_SH = """\
r=1
[ "$(cat /logs/artifacts/answer.txt)" = ok ] || { echo "no /logs/artifacts/answer.txt"; r=0; }
[ "$(cat /tmp/configured.txt)" = configured ] || { echo "no configured artifact"; r=0; }
[ -e /tmp/agent-only.txt ] && { echo "the agent's other files leaked"; r=0; }
echo $r > /logs/verifier/reward.txt
"""
SOLVE = """\
mkdir -p /logs/artifacts && echo ok > /logs/artifacts/answer.txt
echo configured > /tmp/configured.txt
echo agent > /tmp/agent-only.txt
"""


def make_task(root: Path, toml: str = TOML, test_sh: str = TEST_SH, solve: str = SOLVE,
              verifier_dockerfile: str | None = "FROM host\nCOPY test.sh /tests/test.sh\n",
              dockerfile: str = "FROM host\n", name: str = "t") -> Path:
    path = root / name
    files = {"task.toml": toml, "instruction.md": "Write the files.\n", "environment/Dockerfile": dockerfile,
             "tests/test.sh": test_sh, "tests/Dockerfile": verifier_dockerfile, "solution/solve.sh": solve}
    for rel, text in files.items():
        if text is not None:
            (path / rel).parent.mkdir(parents=True, exist_ok=True)
            (path / rel).write_text(text)
    return path


def episode(task, solve: str | None = None) -> tuple[float, str]:
    """(reward, reason) of one episode: the oracle's if solve is None, else `solve` run as the agent."""
    with start_task(task) as env:
        r = env.solve() if solve is None else env.run(solve)
        assert r.exit_code == 0, r.output
        return env.verify()


# ---- loading: Harbor's mode rule ------------------------------------------------------------------------

def test_the_three_spellings_of_the_mode_load_as_harbor_resolves_them(tmp_path):
    explicit = load_task(make_task(tmp_path, name="explicit"))
    implicit = load_task(make_task(tmp_path, name="implicit", toml=(
        'artifacts = ["/a"]\n[verifier.environment]\ncpus = 2\nmemory_mb = 1024\nallow_internet = false\n'
        'workdir = "/w"\n')))
    shared = load_task(make_task(tmp_path, name="shared", toml="[verifier]\ntimeout_sec = 30\n"))
    assert explicit.separate.workdir == "/"               # Docker's default: tests/Dockerfile sets no WORKDIR
    assert [a.source for a in explicit.separate.artifacts] == ["/tmp/configured.txt"]
    assert (implicit.separate.cpus, implicit.separate.memory_mb, implicit.separate.workdir) == (2, 1024, "/w")
    assert implicit.verifier_network is False             # [verifier.environment]'s allow_internet
    assert shared.separate is None


def test_the_verifier_network_is_its_own_environment_s_unless_verifier_network_mode_says(tmp_path):
    toml = ('[environment]\nallow_internet = false\n[verifier]\nnetwork_mode = "public"\n'
            '[verifier.environment]\nallow_internet = false\n')
    task = load_task(make_task(tmp_path, toml=toml))
    assert (task.agent_network, task.verifier_network) == (False, True)
    task = load_task(make_task(tmp_path, name="u", toml='[environment]\nallow_internet = false\n'
                               '[verifier.environment]\nnetwork_mode = "public"\n'))
    assert (task.agent_network, task.verifier_network) == (False, True)


@pytest.mark.parametrize("toml, verifier_dockerfile, error", [
    ('[verifier]\nenvironment_mode = "shared"\n[verifier.environment]\ncpus = 1\n', "FROM host\n",
     "environment_mode = 'shared' conflicts with [verifier.environment]"),
    ('[verifier]\nenvironment_mode = "elsewhere"\n', "FROM host\n",
     "environment_mode must be 'shared' or 'separate', got 'elsewhere'"),
    ('[verifier]\nenvironment_mode = "separate"\n', None, "needs tests/Dockerfile"),
    ('[verifier]\nenvironment_mode = "separate"\n', "FROM host\nFROOB x\n", "tests/Dockerfile: line 2"),
    ('artifacts = ["relative/path"]\n', "FROM host\n", "artifacts[0].source must be an absolute path"),
    ('artifacts = [{source = "/a", into = "/b"}]\n', "FROM host\n", "artifacts[0] must be a path or a table"),
    ('artifacts = [{source = "/a", exclude = "*.log"}]\n', "FROM host\n",
     "artifacts[0].exclude must be a list"),
    ('[verifier.environment]\ngpus = 1\n', "FROM host\n", "[verifier.environment].gpus = 1 is not supported"),
    ('[verifier.environment]\ncpus = 0\n', "FROM host\n", "[verifier.environment].cpus must be a positive"),
    ('[verifier.environment]\nhealthcheck = {command = "true"}\n', "FROM host\n",
     "healthcheck with a separate verifier is not supported"),
])
def test_a_separate_verifier_echo_cannot_run_as_harbor_does_is_refused_in_one_line(
        tmp_path, toml, verifier_dockerfile, error):
    with pytest.raises(TaskError) as e:
        load_task(make_task(tmp_path, toml=toml, verifier_dockerfile=verifier_dockerfile))
    assert error in str(e.value) and "\n" not in str(e.value) and str(e.value).startswith("task 't': ")


# ---- episodes -------------------------------------------------------------------------------------------

def test_oracle_scores_1_and_null_0_in_separate_mode(tmp_path):
    task = load_task(make_task(tmp_path))
    assert episode(task) == (1.0, "")
    assert episode(task, solve="true") == (0.0, "")


def test_the_verifier_runs_its_own_image_not_what_the_agent_planted(tmp_path):
    # The agent writes its own /tests/test.sh and a reward: neither is in the verifier's container. The
    # verifier's image keeps what its build put in /tests (tests/ is not copied over it), in its WORKDIR.
    test_sh = '[ "$(cat /tests/baked)" = baked ] && [ "$(pwd)" = /v ] && echo 1 > /logs/verifier/reward.txt\n'
    task = load_task(make_task(tmp_path, test_sh=test_sh, verifier_dockerfile=(
        "FROM host\nWORKDIR /v\nCOPY test.sh /tests/test.sh\nRUN echo baked > /tests/baked\n")))
    assert task.separate.workdir == "/v" and task.workdir == "/app"
    assert episode(task) == (1.0, "")
    bad = load_task(make_task(tmp_path, name="bad", test_sh="echo 0 > /logs/verifier/reward.txt\n"))
    plant = ("mkdir -p /tests /logs/verifier /logs/artifacts && echo 1 > /logs/verifier/reward.txt && "
             "echo 'echo 1 > /logs/verifier/reward.txt' > /tests/test.sh && echo 1 > /logs/artifacts/r")
    assert episode(bad, solve=plant) == (0.0, "")


def test_the_verifier_s_image_starts_as_a_container_and_test_sh_runs_as_verifier_user(tmp_path):
    # The verifier image's ENTRYPOINT is started (as Harbor starts any environment's main container) and
    # test.sh runs as [verifier].user, resolved in the verifier's image (the host fallback's /etc/passwd).
    toml = TOML.replace("timeout_sec = 30\n", 'timeout_sec = 30\nuser = "nobody"\n')
    test_sh = ('for i in $(seq 100); do [ -e /tmp/up ] && break; sleep 0.05; done\n'
               '[ "$(cat /tmp/up)" = up ] && [ "$(id -u)" = 65534 ] && echo 1 > /logs/verifier/reward.txt\n')
    task = load_task(make_task(tmp_path, toml=toml, test_sh=test_sh, verifier_dockerfile=(
        'FROM host\nCOPY test.sh /tests/test.sh\n'
        'ENTRYPOINT ["sh", "-c", "echo up > /tmp/up; exec \\"$@\\"", "--"]\n')))
    assert task.verifier_user == "nobody"
    assert episode(task) == (1.0, "")


def test_the_agent_finds_harbor_s_log_directories_writable_whatever_its_user(tmp_path):
    # Harbor mounts /logs/agent, /logs/verifier and /logs/artifacts (mode 777) into the agent's container:
    # an agent running as nobody writes its artifact there without making the directory.
    toml = TOML.replace("[verifier]", '[agent]\nuser = "nobody"\n[verifier]')
    test_sh = '[ "$(cat /logs/artifacts/answer.txt)" = ok ] && echo 1 > /logs/verifier/reward.txt\n'
    task = load_task(make_task(tmp_path, toml=toml, test_sh=test_sh))
    assert episode(task, solve="[ $(id -u) = 65534 ] && echo ok > /logs/artifacts/answer.txt") == (1.0, "")


HAS_NETWORK = ("python3 -c 'import socket, sys; sys.exit(len(socket.if_nameindex()) < 2)' && "
               "echo 1 > /logs/verifier/reward.txt || echo 0 > /logs/verifier/reward.txt\n")


@pytest.mark.skipif(not sandbox.network_available(), reason="needs pasta (Debian package passt)")
@pytest.mark.parametrize("toml, reward", [
    ('[environment]\nnetwork_mode = "no-network"\n[verifier.environment]\nnetwork_mode = "public"\n', 1.0),
    ('[environment]\nnetwork_mode = "public"\n[verifier.environment]\nnetwork_mode = "no-network"\n', 0.0),
    ('[verifier]\nnetwork_mode = "public"\n[verifier.environment]\nnetwork_mode = "no-network"\n', 1.0),
])
def test_the_separate_verifier_gets_the_network_of_its_own_settings(tmp_path, toml, reward):
    task = load_task(make_task(tmp_path, toml=toml, test_sh=HAS_NETWORK))
    assert episode(task, solve="true") == (reward, "")


def test_a_directory_artifact_is_copied_whole_less_its_excluded_entries(tmp_path):
    toml = 'artifacts = [{source = "/out", destination = "o", exclude = ["*.log", "cache"]}]\n' \
           '[verifier]\nenvironment_mode = "separate"\n'
    test_sh = ('[ "$(cat /out/sub/keep.txt)" = keep ] && [ ! -e /out/sub/drop.log ] && [ ! -e /out/cache ] '
               '&& [ "$(stat -c %a /out/sub/x)" = 750 ] && echo 1 > /logs/verifier/reward.txt\n')
    solve = ("mkdir -p /out/sub /out/cache && echo keep > /out/sub/keep.txt && echo d > /out/sub/drop.log && "
             "echo c > /out/cache/c && echo x > /out/sub/x && chmod 750 /out/sub/x")
    task = load_task(make_task(tmp_path, toml=toml, test_sh=test_sh, solve=solve))
    assert task.separate.artifacts[0].exclude == ("*.log", "cache")
    assert episode(task) == (1.0, "")


def test_an_artifact_s_links_are_copied_as_links_never_followed_into_host_files(tmp_path):
    # /tmp/l and /tmp/d/l are links the agent made: the verifier gets the links. /tmp/etc/shadow goes through
    # a link (/tmp/etc -> /etc): not copied. /etc/shadow itself, the host's file (not the sandbox's), is not
    # copied either. A link to what the verifier's image has (its /etc/shadow, /root: the host's, FROM host)
    # is tampered: nothing of that image is the agent's to hand the tests (tamper.onto_image).
    toml = ('artifacts = ["/tmp/l", "/tmp/etc/shadow", "/etc/shadow", "/tmp/d"]\n'
            '[verifier]\nenvironment_mode = "separate"\n')
    test_sh = ('r=1; [ "$(readlink /tmp/l)" = /nowhere/shadow ] && [ "$(readlink /tmp/d/l)" = ../l ] || r=0\n'
               '[ -e /tmp/etc ] && r=0\n'
               'echo $r > /logs/verifier/reward.txt\n')
    solve = "ln -s /etc /tmp/etc && ln -s /nowhere/shadow /tmp/l && mkdir /tmp/d && ln -s ../l /tmp/d/l"
    task = load_task(make_task(tmp_path, toml=toml, test_sh=test_sh, solve=solve))
    assert episode(task) == (1.0, "")
    for link in ("ln -s /etc/shadow /tmp/l", "ln -s /root /tmp/l",
                 "mkdir /tmp/d; ln -s /etc/passwd /tmp/d/x"):
        with start_task(task) as env, pytest.raises(TamperedError, match="linking to the verifier"):
            env.run(link)
            env.verify()


def test_copy_out_reads_only_what_the_sandbox_owns_and_never_follows_a_link(tmp_path):
    with sandbox.Sandbox() as sb:
        assert sb.run("echo hi > /tmp/f && ln -s /etc/shadow /tmp/l && ln -s /etc /tmp/e && mkfifo /tmp/p"
                      ).exit_code == 0
        entry = sandbox.ENTRY_BYTES                # each entry's charge besides its data
        assert sb.copy_out("/tmp/f", tmp_path / "f", 2 * entry) == entry + 3
        assert (tmp_path / "f").read_text() == "hi\n"
        assert sb.copy_out("/tmp/l", tmp_path / "l", 2 * entry) == entry
        assert os.readlink(tmp_path / "l") == "/etc/shadow"
        for path in ("/tmp/e/shadow", "/etc/shadow", "/etc/passwd", "/tmp/p", "/proc/1/environ", "/nothing"):
            assert sb.copy_out(path, tmp_path / "x", 2 * entry) is None, path
            assert not os.path.lexists(tmp_path / "x"), path
        with pytest.raises(sandbox.CopyLimitError, match=f"over {entry + 2} bytes"):
            sb.copy_out("/tmp/f", tmp_path / "g", entry + 2)


def test_artifacts_over_the_cap_are_the_agents_0_in_one_line(tmp_path, monkeypatch):
    # the artifacts are the agent's data: over the cap in its run only (the control run without the agent
    # copies them), its ordinary 0, never a verifier error that training masks (rt15a p15)
    # /logs/artifacts and its file: two entries and 600 bytes; then 400 bytes left past one more entry
    monkeypatch.setattr(harbor, "ARTIFACT_MAX_BYTES", 3 * sandbox.ENTRY_BYTES + 1000)
    task = load_task(make_task(tmp_path))
    with start_task(task) as env:
        env.run("mkdir -p /logs/artifacts && head -c 600 /dev/zero > /logs/artifacts/a && "
                "head -c 600 /dev/zero > /tmp/configured.txt")
        reward, reason = env.verify()
    assert reward == 0.0 and "\n" not in reason
    assert reason.startswith("a verifier error in the agent's run only (without the agent the tests ran): "
                             "task 't': artifact '/tmp/configured.txt' not copied to the verifier: "
                             f"over {sandbox.ENTRY_BYTES + 400} bytes")


def test_a_verifier_image_without_the_test_is_a_verifier_error(tmp_path):
    task = load_task(make_task(tmp_path, verifier_dockerfile="FROM host\n"))    # test.sh never COPYed in
    with start_task(task) as env, pytest.raises(VerifierError, match="test.sh exit 127"):
        env.verify()


# ---- on a real (tiny) image: the verifier's image built into cached layers by the real builder ----------

@pytest.mark.skipif(not shutil.which("ldd"), reason="needs ldd to copy the host's bash into a base")
def test_separate_verifier_on_a_tiny_image_oracle_1_null_0(tmp_path):
    from test_images import tiny_rootfs
    store = tmp_path / "store"
    tiny_rootfs(store / "tiny", extra=("chmod", "ln", "dirname"))
    task = load_task(make_task(tmp_path, dockerfile="FROM tiny\n", verifier_dockerfile=(
        "FROM tiny\nCOPY test.sh /tests/test.sh\nRUN chmod +x /tests/test.sh\n"), toml=TOML.replace(
        'environment_mode = "separate"\n', "") + "[verifier.environment]\nallow_internet = false\n"))
    cache = Path(tempfile.mkdtemp(prefix="echo-test-own-cache-"))
    cache.chmod(0o755)
    log = []
    try:
        for solve, reward in ((None, 1.0), ("true", 0.0)):
            with start_task(task, store=store, log=log.append, cache=cache) as env:
                r = env.solve() if solve is None else env.run(solve)
                assert r.exit_code == 0, r.output
                assert env.verify() == (reward, "")
        assert len([m for m in log if m.startswith("building line 3")]) == 1      # built once, then cached
    finally:
        sandbox.rmtree(cache)


# ---- schema 1.3: an artifact a compose sidecar holds ([[artifacts]] service = "...") ----------------------

SIDE_COMPOSE = """\
services:
  main: {}
  box:
    build:
      context: ./box
"""
SIDE_DOCKERFILE = 'FROM host\nCMD ["sh", "-c", "mkdir -p /out && echo from-box > /out/r.txt && sleep 600"]\n'


def test_an_artifact_of_a_sidecar_is_copied_from_that_sidecar(tmp_path):
    toml = ('artifacts = [{ source = "/out/r.txt", service = "box" }]\n'
            '[verifier]\nenvironment_mode = "separate"\n')
    test_sh = '[ "$(cat /out/r.txt)" = from-box ] && echo 1 > /logs/verifier/reward.txt\n'
    path = make_task(tmp_path, toml=toml, test_sh=test_sh, solve="true")
    for rel, text in {"environment/docker-compose.yaml": SIDE_COMPOSE,
                      "environment/box/Dockerfile": SIDE_DOCKERFILE}.items():
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_text(text)
    task = load_task(path)
    assert task.separate.artifacts[0].service == "box"
    with start_task(task) as env:
        env.run("mkdir -p /out && echo from-main > /out/r.txt")    # the main container's is not it
        r = env.services.box("box").run("for i in $(seq 100); do [ -s /out/r.txt ] && break; sleep 0.05; "
                                        "done")
        assert r.exit_code == 0                # its command has written the file
        assert env.verify() == (1.0, "")


def test_an_artifact_of_a_service_the_task_does_not_have_is_refused_at_load(tmp_path):
    toml = ('artifacts = [{ source = "/out", service = "nope" }]\n'
            '[verifier]\nenvironment_mode = "separate"\n')
    with pytest.raises(TaskError, match="service 'nope' is not one of environment/docker-compose.yaml"):
        load_task(make_task(tmp_path, toml=toml))
