"""The trainer's side of rt12b's open rows: p29 (the agent's phase network covers the sidecars it drives),
p24 (a task's trees are counted in entries at load, and staged under the verifier's clock) and p02 (a build
step's disk cap counts the files it holds open with no name). Each test failed on the code before."""
import os
import shutil
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import harbor  # noqa: E402
from test_builder_attacks import build, cache, make_task, store  # noqa: E402,F401 (fixtures)
from test_network import needs_pasta  # noqa: E402

# ---- p29: sidecars under a verifier with a wider network than the agent's phase ---------------------------

# A sidecar that runs whatever the agent drops in the volume they share; the agent's job ticks into the
# volume for ever. test.sh scores 1 when no tick lands while it watches: nothing the agent drove runs on.
RUNNER = """\
services:
  main:
    volumes:
      - shared:/shared
  runner:
    build:
      context: ./runner
    volumes:
      - shared:/shared
volumes:
  shared: {}
"""
RUNNER_DOCKERFILE = ('FROM host\nCMD ["bash", "-c", "while true; do [ -f /shared/job.sh ] && '
                     'mv /shared/job.sh /tmp/job.sh && { bash /tmp/job.sh & }; sleep 0.1; done"]\n')
JOB = "cat > /shared/job.sh <<'EOF'\nwhile true; do echo tick >> /shared/ticks; sleep 0.1; done\nEOF\nsleep 1"
STILL = ("a=$(wc -l < /shared/ticks); sleep 1; b=$(wc -l < /shared/ticks); "
         '[ "$a" = "$b" ] && echo 1 > /logs/verifier/reward.txt || echo 0 > /logs/verifier/reward.txt\n')


def compose_task(tmp_path: Path, toml: str) -> harbor.Task:
    path = tmp_path / "t"
    for rel, text in {"task.toml": toml, "instruction.md": "Do it.\n", "tests/test.sh": STILL,
                      "environment/Dockerfile": "FROM host\nWORKDIR /app\n",
                      "environment/runner/Dockerfile": RUNNER_DOCKERFILE,
                      "environment/docker-compose.yaml": RUNNER}.items():
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_text(text)
    return harbor.load_task(path)


@needs_pasta
def test_a_sidecar_is_killed_before_a_verifier_with_a_wider_network(tmp_path):
    t = compose_task(tmp_path, "[environment]\nallow_internet = true\n")
    with harbor.start_task(t, internet=False) as env:                  # --no-internet
        env.run(JOB)
        assert env.run("wc -l < /shared/ticks").output.strip() != "0"  # the sidecar runs the agent's job
        assert env.verify() == (1.0, "")


@needs_pasta
def test_a_sidecar_lives_on_where_the_verifier_has_no_wider_network(tmp_path):
    # Harbor's lifecycle as it was: the sidecar's service (and what it runs) is there for the tests
    t = compose_task(tmp_path, "[environment]\nallow_internet = false\n")
    with harbor.start_task(t, internet=True) as env:
        env.run(JOB)
        assert env.verify() == (0.0, "")


# ---- p24: a task's trees in entries, and tests/ staged on the verifier's clock ---------------------------

def plain_task(tmp_path: Path, files: dict[str, str]) -> Path:
    path = tmp_path / "t"
    for rel, text in {"task.toml": "", "instruction.md": "Do it.\n",
                      "tests/test.sh": "echo 1 > /logs/verifier/reward.txt\n", **files}.items():
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_text(text)
    return path


@pytest.mark.parametrize("tree", ["tests", "solution"])
def test_a_tree_of_more_entries_than_the_cap_is_refused_at_load_in_one_line(tmp_path, monkeypatch, tree):
    monkeypatch.setattr(harbor, "MAX_TREE_ENTRIES", 20)
    path = plain_task(tmp_path, {"solution/solve.sh": "true\n"})
    for i in range(20):                        # empty directories count too: each is a copy's mkdir
        (path / tree / "many" / str(i)).mkdir(parents=True)
    with pytest.raises(harbor.TaskError, match=rf"^task 't': {tree}/ has over 20 files and directories"):
        harbor.load_task(path)


def test_a_tree_at_the_cap_loads(tmp_path, monkeypatch):
    monkeypatch.setattr(harbor, "MAX_TREE_ENTRIES", 20)
    path = plain_task(tmp_path, {f"tests/f{i}": "" for i in range(19)})     # and test.sh: 20
    assert harbor.load_task(path).name == "t"


def test_staging_tests_runs_on_the_verifiers_clock(tmp_path, monkeypatch):
    import sandbox
    path = plain_task(tmp_path, {f"tests/f{i}": "" for i in range(40)})
    with harbor.start_task(harbor.load_task(path)) as env:
        slow = sandbox.copy_plain
        monkeypatch.setattr(sandbox, "copy_plain", lambda a, b: (time.sleep(0.05), slow(a, b)))  # 2 s in all
        t0 = time.monotonic()
        r = env.box.run_fresh("echo ran", 0.5, private_logs=True, tests=path / "tests")
        assert r.timed_out and "ran" not in r.output
        assert time.monotonic() - t0 < 1.5
        assert not any((env.box.dir / "stage").iterdir())          # nothing staged is left behind


# ---- p02: a build step's disk is counted where its bytes land, not by names ------------------------------

HOLD = r"""
import mmap, os, socket, sys, time
d, how = sys.argv[1], sys.argv[2]
fd = os.open(d, os.O_TMPFILE | os.O_RDWR) if how == "tmpfile" else os.open(f"{d}/f", os.O_CREAT | os.O_RDWR)
os.write(fd, b"x" * (8 << 20))                 # 8 MiB on the disk, with its name gone
if how != "tmpfile":
    os.unlink(f"{d}/f")
if how == "mmap":                              # held by a mapping alone, its fd closed
    m = mmap.mmap(fd, 8 << 20)
    os.close(fd)
print("ready", flush=True)
time.sleep(60)
"""


@pytest.mark.parametrize("how", ["fd", "tmpfile", "mmap"])
def test_held_files_counts_what_a_process_holds_with_no_name(tmp_path, how):
    import subprocess
    import images
    p = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path), how], stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline() == "ready\n"
        assert images.disk_usage(tmp_path)[0] < 1 << 20        # no name: the walk sees nothing
        assert images.held_files([p.pid], tmp_path) >= 8 << 20
    finally:
        p.kill()
        p.wait()


def test_held_files_leaves_out_what_lies_on_another_filesystem(tmp_path):
    # a file in a tmpfs (a build's /dev/shm) is memory, which the step's cgroup counts, not the cache's disk
    import subprocess
    import images
    p = subprocess.Popen([sys.executable, "-c", HOLD, "/dev/shm", "fd"], stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline() == "ready\n"
        assert images.held_files([p.pid], tmp_path) == 0
    finally:
        p.kill()
        p.wait()


needs_root = pytest.mark.skipif(os.getuid() != 0 or not shutil.which("ldd"),
                                reason="the build attacks need root (the trainer's case) and ldd")
UNLINKED = "RUN exec 3>/big; rm /big; head -c 200000000 /dev/zero >&3; sleep 1\n"


@needs_root
def test_a_step_writing_an_unlinked_file_past_the_cap_is_stopped(store, cache, tmp_path, monkeypatch):
    import images
    monkeypatch.setattr(images, "BUILD_DISK_MB", 64)
    free0 = shutil.disk_usage(cache).free
    with pytest.raises(images.BuildError, match="over the build's disk cap of 64 MiB"):
        build(make_task(tmp_path, "FROM tiny\n" + UNLINKED), store, cache)
    assert free0 - shutil.disk_usage(cache).free < 100 << 20     # the step's 200 MB are gone with it


@needs_root
def test_bytes_no_process_holds_are_seen_by_the_disks_floor(store, cache, tmp_path, monkeypatch):
    # an fd in flight on a unix socket is in no /proc table: held_files blind, as there
    import images
    monkeypatch.setattr(images, "BUILD_DISK_MB", 64)
    monkeypatch.setattr(images, "held_files", lambda pids, on: 0)
    monkeypatch.setattr(images, "DISK_FLOOR_MB", (shutil.disk_usage(cache).free >> 20) - 120)
    with pytest.raises(images.BuildError, match=r"fell to .* over the build's disk cap of 64 MiB"):
        build(make_task(tmp_path, "FROM tiny\n" + UNLINKED.replace("200000000", "400000000")), store, cache)


@needs_root
def test_another_processs_writes_never_count_against_a_step(store, cache, tmp_path, monkeypatch):
    # 200 MB written by the host beside a step of a 64 MiB cap: built
    import images
    import threading
    monkeypatch.setattr(images, "BUILD_DISK_MB", 64)
    writer = threading.Timer(0.5, lambda: (tmp_path / "other").write_bytes(bytes(200 << 20)))
    writer.start()
    build(make_task(tmp_path, "FROM tiny\nRUN sleep 2\n"), store, cache)
    writer.join()


@needs_root
def test_another_process_filling_the_disk_to_the_floor_is_the_machines_failure(store, cache, tmp_path,
                                                                              monkeypatch):
    import images
    import sandbox
    import threading
    monkeypatch.setattr(images, "BUILD_DISK_MB", 4096)
    floor = (shutil.disk_usage(cache).free >> 20) - 120
    monkeypatch.setattr(images, "DISK_FLOOR_MB", floor)

    def fill():                                # to the floor, whatever else the host writes or frees
        with open(tmp_path / "other", "wb") as f:
            for _ in range(40):
                f.write(bytes(50 << 20))
                if shutil.disk_usage(cache).free < (floor - 50) << 20:
                    return
    writer = threading.Timer(0.5, fill)
    writer.start()
    with pytest.raises(sandbox.SandboxError, match="within its cap: another process filled it"):
        build(make_task(tmp_path, "FROM tiny\nRUN sleep 4\n"), store, cache)
    writer.join()
