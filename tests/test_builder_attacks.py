"""Issue 19's attacks on the builder and the loader, as a task author would try them (README, "Task
environments", containment): the trainer following a path the task controls (paths), the cache serving
one task's build to another (keys), limits a build slips past (limits), and a task that stops the run
(bad tasks). Each test is one attack and says what harm it would do; they run on a tiny base copied from
the host's own programs (no debootstrap), in real sandboxes."""
import http.server
import json
import os
import shutil
import stat
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

import pytest

import dockerfile
import harbor
import images
import registry
import sandbox
from test_registry import LOCAL, FakeRegistry, Secret, desc, layer, member, sha

TOOLS = ("bash", "sh", "env", "mkdir", "cat", "cp", "rm", "ln", "mv", "dirname", "head", "sleep", "true")
pytestmark = pytest.mark.skipif(os.getuid() != 0 or not shutil.which("ldd"),
                                reason="the build attacks need root (the trainer's case) and ldd")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """An image store with `tiny`: the host's bash and a few tools with their libraries, as a directory."""
    root = tmp_path_factory.mktemp("store") / "tiny"
    files = set()
    for tool in TOOLS:
        path = shutil.which(tool)
        out = subprocess.run(["ldd", path], capture_output=True, text=True).stdout
        files |= {path, os.path.realpath(path), *(w for w in out.split() if w.startswith("/"))}
    for f in files | {os.path.realpath(f) for f in files}:
        (root / f.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(f, root / f.lstrip("/"))
    for d in ("bin", "usr/bin"):
        (root / d).mkdir(parents=True, exist_ok=True)
        for tool in TOOLS:
            if not (root / d / tool).exists():
                shutil.copy2(shutil.which(tool), root / d / tool)
    # no /run: pid 1 makes it in the step's own layer, where a RUN may move it (mounts and all)
    (root / "etc").mkdir(exist_ok=True)
    (root / "etc/hello").write_text("v1\n")
    shutil.copytree(root, root.parent / "noetc", symlinks=True)     # no /etc: pid 1 makes it in the layer
    shutil.rmtree(root.parent / "noetc" / "etc")
    return root.parent


def make_task(root: Path, dockerfile_text: str, files=None, toml="", name="t") -> Path:
    path = root / name
    for rel, text in {"task.toml": toml or "[verifier]\ntimeout_sec = 30\n", "instruction.md": "Do it.\n",
                      "environment/Dockerfile": dockerfile_text, "tests/test.sh": "exit 0\n",
                      **(files or {})}.items():
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def build(path: Path, store: Path, cache: Path, registry_nets=()):
    harbor.forget_builds()
    return harbor.build_task(harbor.load_task(path), store=store, log=lambda m: None, cache=cache,
                             registry_nets=registry_nets)


@pytest.fixture
def cache():
    """A fresh image cache (made root-only 0700 at its first use, as every cache)."""
    import tempfile
    path = Path(tempfile.mkdtemp(prefix="echo-attack-cache-"))
    yield path
    _remove(path)


def _remove(path: Path) -> None:
    """Remove a tree a sandbox wrote (perhaps still exiting): chmod only inside it, retry a few times."""
    def inside(func, p, exc):
        if isinstance(exc[1], FileNotFoundError):
            return
        if not os.path.dirname(os.path.abspath(p)).startswith(str(path)):
            raise exc[1]
        os.chmod(os.path.dirname(p), 0o700)
        func(p)
    for _ in range(20):
        try:
            shutil.rmtree(path, onerror=inside)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.25)


@pytest.fixture
def victim():
    """A host directory the sandbox's uid can reach and write (as /tmp is, or another image's cached root
    filesystem is): what a symlink in a build aims at."""
    import tempfile
    v = Path(tempfile.mkdtemp(prefix="echo-victim-"))
    v.chmod(0o777)
    yield v
    _remove(v)


# ---- paths: the trainer, as the host's root, never follows a path the task controls -----------------

@pytest.mark.parametrize("ref", ["..", ".", "/etc", "a/../../b", "img:../../x", "img@sha256:../../x"])
def test_paths_a_from_that_is_a_path_is_refused_and_imports_nothing(store, cache, tmp_path, ref):
    # FROM .. with an image store: the store's parent was archived into the cache as an image
    with pytest.raises(harbor.TaskError, match="bad image reference"):
        harbor.load_task(make_task(tmp_path, f"FROM {ref}\nRUN true\n"))
    with pytest.raises(images.BuildError):
        images.resolve(ref, store=store, log=lambda m: None, cache=cache)
    assert not list((cache / "images").glob("*")) if (cache / "images").exists() else True


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "2130706433"])
def test_paths_a_from_on_host_loopback_is_refused_in_one_line_and_reaches_nothing(cache, tmp_path, host):
    # red team C3: `FROM 127.0.0.1:47123/secret/img:1` made the trainer, as host root, GET a service on the
    # host's loopback (after a task load that accepted it); a refusal, not the host-directories fallback
    secret = Secret("127.0.0.1")
    try:
        ref = f"{host}:{secret.port}/secret/img:1"
        with pytest.raises(images.BuildError) as e:
            build(make_task(tmp_path, f"FROM {ref}\nRUN true\n"), None, cache)
    finally:
        secret.close()
    assert secret.hits == [] and "\n" not in str(e.value)
    assert str(e.value).startswith(f"image {ref}: ") and "is at 127.0.0.1, a loopback address" in str(e.value)


def test_paths_a_run_symlink_does_not_make_the_builder_delete_outside_the_layer(store, cache, tmp_path,
                                                                             victim):
    # /run replaced by a link to a host directory: the builder removed <there>/xfer as root
    (victim / "xfer").mkdir()
    (victim / "xfer" / "keep").write_text("precious\n")
    build(make_task(tmp_path, f"FROM tiny\nRUN mv /run /run.old && ln -s {victim} /run\n"), store, cache)
    assert (victim / "xfer" / "keep").read_text() == "precious\n"


def test_paths_a_run_symlink_does_not_make_pid1_create_on_the_host(store, cache, tmp_path, victim):
    # the next step's pid 1 made <there>/xfer on the host, before pivot_root, to mount /run/xfer on
    try:                                         # refused (a dangling /run), or made inside the image
        build(make_task(tmp_path, f"FROM tiny\nRUN mv /run /run.old && ln -s {victim} /run\nRUN true\n"),
              store, cache)
    except (images.BuildError, sandbox.SandboxError) as e:
        assert "\n" not in str(e)
    assert not (victim / "xfer").exists()


def test_paths_an_etc_symlink_does_not_make_pid1_write_resolv_conf_on_the_host(store, cache, tmp_path,
                                                                              victim):
    # /etc -> a host directory: the next networked step's pid 1 unlinked and created <there>/resolv.conf
    (victim / "resolv.conf").symlink_to("/nowhere")
    try:
        build(make_task(tmp_path, f"FROM noetc\nRUN mv /etc /etc.old && ln -s {victim} /etc\nRUN true\n"),
              store, cache)
    except (images.BuildError, sandbox.SandboxError) as e:
        assert "\n" not in str(e)
    assert (victim / "resolv.conf").is_symlink()


def test_paths_a_workdir_through_a_symlink_stays_in_the_image(store, cache, tmp_path, victim):
    # RUN ln -s /victim /w; WORKDIR /w/X: pid 1 made victim/X on the host before pivot_root
    try:
        state = build(make_task(tmp_path, f"FROM tiny\nRUN ln -s {victim} /w\nWORKDIR /w/X\nRUN true\n"),
                      store, cache)
    except (images.BuildError, sandbox.SandboxError):
        state = None
    assert not (victim / "X").exists()
    assert state and (state.layers[0] / victim.relative_to("/") / "X").is_dir()   # made inside the image


def test_paths_add_of_a_symlinked_archive_does_not_read_the_host_file(store, cache, tmp_path):
    # ADD x.tar where x.tar -> a root-only archive on the host: its contents landed in the image
    secret = tmp_path / "secret.tar"
    with tarfile.open(secret, "w") as tar:
        (tmp_path / "shadow").write_text("root:secret\n")
        tar.add(tmp_path / "shadow", "shadow")
    secret.chmod(0o600)
    path = make_task(tmp_path, "FROM tiny\nADD x.tar /dst/\n")
    (path / "environment" / "x.tar").symlink_to(secret)
    state = build(path, store, cache)
    assert not (state.layers[0] / "dst" / "shadow").exists()


@pytest.mark.skipif(not shutil.which("losetup"), reason="needs losetup for a disk to point at")
def test_paths_a_device_node_in_the_task_is_not_read_as_root(tmp_path):
    # environment/ holding a block device node (a task archive unpacked by root keeps them): the copier
    # opened it as the host's root and copied the disk it names into the episode
    import stat
    disk = tmp_path / "disk.img"
    disk.write_bytes(b"host secret\n" + bytes(64 << 10))
    r = subprocess.run(["losetup", "-f", "--show", str(disk)], capture_output=True, text=True)
    if r.returncode:
        pytest.skip(f"no loop device: {r.stderr.strip()}")
    loop = r.stdout.strip()
    try:
        path = make_task(tmp_path, "")
        (path / "environment" / "Dockerfile").unlink()
        os.mknod(path / "environment" / "disk", 0o600 | stat.S_IFBLK, os.stat(loop).st_rdev)
        try:
            with harbor.start_task(harbor.load_task(path), log=lambda m: None) as env:
                seen = env.run("head -c 11 /app/disk").output
        except (harbor.SetupError, harbor.TaskError) as e:   # refused at load since rt14b p18's walk
            seen = str(e)
        assert "host secret" not in seen and "disk" in seen
    finally:
        subprocess.run(["losetup", "-d", loop])



# A COPY wildcard is expanded by a walk of environment/ that never follows a link (rt6 p13): glob.glob
# followed `l -> /` as the host's root, listed its tree (through /proc) for minutes past build_timeout_sec,
# before _inside refused the path. Each test records every directory listed and asserts none is the host's.
def copy_sources(context: Path, args: str, deadline=None):
    step = dockerfile.Step("COPY", args, 2)
    return images._copy_sources(step, dockerfile.Config(), context, *([deadline] if deadline else []))


@pytest.fixture
def listed(monkeypatch):
    """The directories os.scandir and os.listdir were asked for, as real paths (a descriptor's too)."""
    seen = []
    def spy(real):
        def call(p="."):
            seen.append(os.readlink(f"/proc/self/fd/{p}") if isinstance(p, int) else os.path.realpath(p))
            return real(p)
        return call
    monkeypatch.setattr(os, "scandir", spy(os.scandir))
    monkeypatch.setattr(os, "listdir", spy(os.listdir))
    return seen


@pytest.mark.parametrize("link, pattern", [
    ("/", "l/*/*/*/*/*/*/* /x/"),              # the probe: the host's whole tree, through /proc
    ("/usr/lib", "l/*/* /x/"),                 # a big host directory
    ("/etc", "*/*.conf /x/"),                  # a wildcard that matches the link itself
])
def test_paths_a_copy_wildcard_never_lists_through_a_link(tmp_path, listed, link, pattern):
    (tmp_path / "a").mkdir()
    (tmp_path / "l").symlink_to(link)
    t0 = time.monotonic()
    with pytest.raises(images.BuildError, match="goes through 'l', a symlink"):
        copy_sources(tmp_path, pattern)
    assert time.monotonic() - t0 < 2
    assert all(p == str(tmp_path) or p.startswith(f"{tmp_path}/") for p in listed), listed


def test_paths_a_deep_copy_wildcard_is_bounded_in_entries(tmp_path, monkeypatch):
    for i in range(30):
        for j in range(30):
            (tmp_path / f"d{i}" / f"e{j}").mkdir(parents=True)
    monkeypatch.setattr(images, "MAX_GLOB_ENTRIES", 500)
    with pytest.raises(images.BuildError, match=r"COPY \*/\*/\*: the wildcard lists over 500 entries"):
        copy_sources(tmp_path, "*/*/* /x/")


def test_paths_a_copy_wildcard_stops_at_the_build_deadline(tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(images.BuildError, match=r"COPY d/\*: build_timeout_sec reached"):
        copy_sources(tmp_path, "d/* /x/", deadline=time.monotonic() - 1)


def test_paths_a_copy_wildcard_still_matches_as_glob_did(tmp_path):
    for rel in ("a/x.py", "a/.h.py", "a/y.txt", "b/x.py", "c/x.py/z", ".git/x.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("")
    (tmp_path / "a/l.py").symlink_to("/etc/passwd")    # a link matched last is copied as the link
    got = [str(p.relative_to(tmp_path)) for p, _, _ in copy_sources(tmp_path, "*/*.py ./a/[xy].* /x/")]
    assert got == ["a/l.py", "a/x.py", "b/x.py", "c/x.py", "a/x.py", "a/y.txt"]

def test_paths_removing_a_tree_never_changes_modes_above_it(tmp_path, monkeypatch):
    # a tree whose own removal failed (busy, or written meanwhile) made the remover chmod its parent to
    # 0700: with a sandbox's tree in /tmp, /tmp itself, and every later sandbox failed to start. (A mount
    # in it no longer makes it fail: rmtree unmounts what is mounted below it first.)
    parent = tmp_path / "parent"
    (parent / "tree").mkdir(parents=True)
    parent.chmod(0o755)
    real = os.rmdir

    def busy(path, *args, **kwargs):
        if os.path.abspath(path) == str(parent / "tree"):
            raise OSError(16, "Device or resource busy", str(path))
        return real(path, *args, **kwargs)
    monkeypatch.setattr(os, "rmdir", busy)
    with pytest.raises(OSError):
        sandbox.rmtree(parent / "tree")
    assert parent.stat().st_mode & 0o777 == 0o755


# ---- keys: the cache serves a step only to a step that really uses the same things ---------------------

def test_keys_copy_of_a_variable_hashes_the_file_it_names(store, cache, tmp_path):
    # COPY $F hashed the literal '$F': task b got task a's data.txt from the cache
    text = "FROM tiny\nENV F=data.txt\nCOPY $F /data.txt\n"
    a = build(make_task(tmp_path, text, {"environment/data.txt": "a\n"}, name="a"), store, cache)
    b = build(make_task(tmp_path, text, {"environment/data.txt": "b\n"}, name="b"), store, cache)
    assert (a.layers[0] / "data.txt").read_text() == "a\n"
    assert (b.layers[0] / "data.txt").read_text() == "b\n"


def _tree(root: Path, files: dict[str, bytes | None]) -> Path:
    """Files (None: an empty directory), mode 0644 and 0755."""
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        if data is None:
            (root / rel).mkdir()
        else:
            (root / rel).write_bytes(data)
        os.chmod(root / rel, 0o755 if data is None else 0o644)
    return root


@pytest.mark.parametrize("one, two", [
    # a file's bytes spelled the next file's header: `relpath \0 mode \0 bytes \1`, no lengths (rt5 p19)
    ({"ctx/a": b"hello\1ctx/b\0" + str(0o100644).encode() + b"\0world"},
     {"ctx/a": b"hello", "ctx/b": b"world"}),
    ({"ctx/a": b"x\1ctx/b\0" + str(0o40755).encode() + b"\0"}, {"ctx/a": b"x", "ctx/b": None}),  # a directory
])
def test_keys_two_different_contexts_never_share_a_key(tmp_path, one, two):
    keys = []
    for name, files in (("one", one), ("two", two)):
        context = _tree(tmp_path / name, files)
        keys.append(images._context_hash([(context / "ctx", "/ctx/", False)], context))
    assert keys[0] != keys[1]


def test_keys_two_repositories_that_slug_alike_are_two_images(cache, tmp_path):
    # a/b_c and a_b/c were both cached as a_b_c_latest: the second task got the first one's image
    for name, text in (("one", b"one\n"), ("two", b"two\n")):
        (tmp_path / name).mkdir()
        with tarfile.open(tmp_path / name / "a_b_c_latest.tar", "w") as tar:
            info = tarfile.TarInfo("which")
            info.size = len(text)
            import io
            tar.addfile(info, io.BytesIO(text))
    first = images.resolve("a/b_c", store=tmp_path / "one", log=lambda m: None, cache=cache)
    second = images.resolve("a_b/c", store=tmp_path / "two", log=lambda m: None, cache=cache)
    assert (first.rootfs / "which").read_text() == "one\n"
    assert (second.rootfs / "which").read_text() == "two\n"


def test_keys_a_digest_pin_is_not_served_by_its_tag(store, cache):
    # FROM img@sha256:X was served the cached img:1 whatever its digest
    tag = images.resolve("tiny:1", store=_tagged(store), log=lambda m: None, cache=cache)
    assert tag.rootfs is not None
    # ... nor, since, by anything that is not that digest: no registry has it, and offline neither a stand-in
    # nor the host's directories serve a pin (test_rt11_digest_pin.py): the build fails in one line
    with pytest.raises(images.BuildError):
        images.resolve("tiny:1@sha256:" + "0" * 64, store=_tagged(store), log=lambda m: None, cache=cache)


def _tagged(store: Path) -> Path:
    """The store with tiny also as tiny_1 (a tag's file)."""
    if not (store / "tiny_1").exists():
        (store / "tiny_1").symlink_to(store / "tiny")
    return store


def test_keys_a_base_reimported_with_other_content_rebuilds_its_layers(store, cache, tmp_path):
    # layers were keyed by where the base came from, not by what it holds: stale layers on a new base
    mine = tmp_path / "store"
    shutil.copytree(store / "tiny", mine / "tiny", symlinks=True)
    text = "FROM tiny\nRUN cat /etc/hello > /seen\n"
    first = build(make_task(tmp_path, text, name="a"), mine, cache)
    assert (first.layers[0] / "seen").read_text() == "v1\n"
    (mine / "tiny" / "etc" / "hello").write_text("v2\n")      # the store's image is updated
    for d in (cache / "images").iterdir():      # and imported again (its cached copy was cleared)
        if d.is_dir():
            _remove(d)
    second = build(make_task(tmp_path, text, name="b"), mine, cache)
    assert (second.layers[0] / "seen").read_text() == "v2\n"


def test_keys_a_killed_build_leaves_no_partial_layer(store, cache, tmp_path):
    # kill -9 mid-step: its temporary layer stayed in the cache for ever
    path = make_task(tmp_path, "FROM tiny\nRUN sleep 30\n")
    code = ("import sys, pathlib; sys.path.insert(0, sys.argv[1]); import harbor; "
            "harbor.build_task(harbor.load_task(sys.argv[2]), store=pathlib.Path(sys.argv[3]), log=print, "
            "cache=pathlib.Path(sys.argv[4]))")
    repo = str(Path(images.__file__).parent)
    proc = subprocess.Popen([sys.executable, "-c", code, repo, str(path), str(store), str(cache)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list((cache / "layers").glob(".tmp-*")):
        time.sleep(0.1)
    time.sleep(1)
    proc.kill()
    proc.wait()
    assert list((cache / "layers").glob(".tmp-*")), "the build never started"
    build(make_task(tmp_path, "FROM tiny\nRUN true\n", name="next"), store, cache)
    assert not list((cache / "layers").glob(".tmp-*"))


def test_keys_the_sweep_takes_only_what_dead_owners_left(cache):
    # what the sweep may remove: a dead owner's temporary directories (this echo's names and an older
    # one's), never a live build's
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    (cache / "layers").mkdir()
    live = cache / "layers" / images.temp_name("k1")
    gone = [cache / "layers" / f".tmp-k2@{dead}-123", cache / "layers" / f".tmp-k3-{dead}",
            cache / "images" / f".tmp-x-0123456789abcdef@{dead}-1"]
    for d in [live, *gone]:
        (d / "layer").mkdir(parents=True)
    images.sweep(cache)
    assert live.is_dir() and not any(d.exists() for d in gone)


# ---- limits: a build's disk and clocks -------------------------------------------------------------------

def test_limits_a_layer_over_the_disk_cap_is_stopped(store, cache, tmp_path, monkeypatch):
    # a RUN could fill the cache's disk: no cap on build layers
    monkeypatch.setattr(images, "BUILD_DISK_MB", 64, raising=False)
    path = make_task(tmp_path, "FROM tiny\nRUN head -c 300000000 /dev/zero > /big\n")
    with pytest.raises(images.BuildError, match="disk cap"):
        build(path, store, cache)
    assert not list((cache / "layers").iterdir()) or not any(
        (p / "meta.json").exists() for p in (cache / "layers").iterdir())


def _sparse(path: Path, size: int = 2 << 30):
    with open(path, "wb") as f:
        f.truncate(size)      # 2 GiB that take no disk until someone copies them


def test_limits_a_copy_of_a_huge_sparse_file_is_refused_before_it_is_read(store, cache, tmp_path,
                                                                          monkeypatch):
    # a 2 GiB sparse file: the cache key read it whole (7 s) before the disk cap stopped the layer
    monkeypatch.setattr(images, "BUILD_DISK_MB", 64, raising=False)
    path = make_task(tmp_path, "FROM tiny\nCOPY big /big\n")
    _sparse(path / "environment" / "big")
    t0 = time.monotonic()
    with pytest.raises(images.BuildError, match="over the build's disk cap of 64 MiB"):
        build(path, store, cache)
    assert time.monotonic() - t0 < 3


def test_limits_a_seeded_copy_of_a_huge_sparse_file_is_refused_before_it_is_staged(tmp_path):
    # COPY in an episode (FROM host: every step is seeded) of a 2 GiB sparse file: hashed whole, then
    # written out whole on the host's disk (the sandbox's state directory) before the episode's tmpfs
    # refused it: 20 s past a 5 s build_timeout_sec, and 2 GiB of the host's disk per episode
    path = make_task(tmp_path, "COPY big /app/big\n", toml="[environment]\nbuild_timeout_sec = 5\n")
    _sparse(path / "environment" / "big")
    t0 = time.monotonic()
    with pytest.raises(harbor.SetupError) as e:
        harbor.start_task(harbor.load_task(path), log=lambda m: None).close()
    assert time.monotonic() - t0 < 4 and not e.value.infrastructure and "\n" not in str(e.value)
    assert "its files are 2048 MiB, over the" in str(e.value)


def test_limits_a_dockerfile_less_context_too_big_is_the_tasks_fault_in_one_line(tmp_path):
    # environment/ without a Dockerfile is copied whole into each episode: the same 2 GiB were staged, and
    # the failure counted as the machine's (so started twice)
    path = make_task(tmp_path, "", toml="[environment]\nbuild_timeout_sec = 5\n")
    (path / "environment" / "Dockerfile").unlink()
    _sparse(path / "environment" / "big")
    said = []
    with pytest.raises(harbor.SetupError) as e:
        harbor.start_task(harbor.load_task(path), log=said.append).close()
    assert not e.value.infrastructure and said == [] and "environment/: cannot copy" in str(e.value)


def test_limits_an_add_archive_that_unpacks_past_the_cap_is_refused(store, cache, tmp_path, monkeypatch):
    # ADD bomb.tar.gz (a few KiB) unpacked whatever it held onto the host's disk
    import gzip
    import io
    monkeypatch.setattr(images, "BUILD_DISK_MB", 8, raising=False)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("zeros")
        info.size = 32 << 20
        tar.addfile(info, io.BytesIO(bytes(32 << 20)))
    path = make_task(tmp_path, "FROM tiny\nADD bomb.tar.gz /x/\n",
                     {"environment/bomb.tar.gz": gzip.compress(buf.getvalue())})
    with pytest.raises(images.BuildError, match="MiB"):
        build(path, store, cache)


def test_limits_too_many_layers_are_refused_before_any_is_built(store, cache, tmp_path):
    # 125 layers were all built (disk, time) before the overlay limit refused them: now at load
    path = make_task(tmp_path, "FROM tiny\nRUN false\n" + "RUN true\n" * 125)
    with pytest.raises(harbor.TaskError, match="layers"):
        build(path, store, cache)


def test_limits_waiting_on_another_build_of_a_step_keeps_the_deadline(store, cache, tmp_path):
    # a step another process is building (or holds locked) was waited for with no deadline at all
    import fcntl
    path = make_task(tmp_path, "FROM tiny\nRUN true\n", toml="[environment]\nbuild_timeout_sec = 2\n")
    task = harbor.load_task(path)
    ref, args, steps = dockerfile.stage(task.dockerfile)
    state = images.start_state(images.resolve(ref, store, lambda m: None, cache), args)
    key = images.advance(state, steps[0], path / "environment").key
    (cache / "locks").mkdir(exist_ok=True)
    with open(cache / "locks" / f"{key}.lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        done = []
        t = threading.Thread(target=lambda: done.append(_outcome(lambda: build(path, store, cache))),
                             daemon=True)
        t.start()
        t.join(10)
        # past its own clock: the machine's failure (another process holds the build), not the task's
        assert done and isinstance(done[0], sandbox.SandboxError), "still waiting 10 s into a 2 s build"


def _outcome(fn):
    try:
        return fn()
    except Exception as e:         # noqa: BLE001 - the test looks at which
        return e


def test_limits_seeded_steps_share_one_build_timeout(tmp_path):
    # every seeded step had the whole build_timeout_sec: three 2-second steps passed a 3-second limit
    path = make_task(tmp_path, "ARG TASK_SEED\nRUN sleep 2\nRUN sleep 2\nRUN sleep 2\n",
                     toml="[environment]\nbuild_timeout_sec = 3\n")
    (path / "environment" / "Dockerfile").write_text("ARG TASK_SEED\nRUN sleep 2\nRUN sleep 2\nRUN sleep 2\n")
    t0 = time.monotonic()
    with pytest.raises(harbor.SetupError, match="build_timeout_sec|timed out"):
        harbor.start_task(harbor.load_task(path), log=lambda m: None).close()
    assert time.monotonic() - t0 < 5.5


def test_limits_a_blob_past_its_declared_size_is_refused(tmp_path):
    # the registry sent more than the manifest declared, and all of it was written before the check
    reg = FakeRegistry()
    try:
        big = layer(member("junk", b"x" * 100000))
        config = json.dumps({"config": {}}).encode()
        reg.blobs.update({sha(big): big, sha(config): config})
        m = json.dumps({"schemaVersion": 2, "mediaType": registry.OCI_MANIFEST,
                        "config": desc("application/vnd.oci.image.config.v1+json", config),
                        "layers": [{**desc("application/vnd.oci.image.layer.v1.tar+gzip", big),
                                    "size": 100}]})
        reg.manifests["big"] = (registry.OCI_MANIFEST, m.encode())
        with open(tmp_path / "out.tar", "wb") as out, pytest.raises(registry.RegistryError, match="declared"):
            registry.pull(f"127.0.0.1:{reg.port}/test/img:big", out, tmp_path / "blobs", scheme="http",
                          timeout=5, registry_nets=LOCAL)
        assert all(p.stat().st_size <= 101 for p in (tmp_path / "blobs").rglob("*") if p.is_file())
    finally:
        reg.server.shutdown()
        reg.server.server_close()


def test_limits_a_registry_image_that_unpacks_past_the_cap_is_refused(cache, monkeypatch):
    # a layer of a few KiB of gzip that unpacks to far more was merged and imported whole
    monkeypatch.setattr(images, "BUILD_DISK_MB", 1, raising=False)
    reg = FakeRegistry()
    try:
        bomb = layer(member("zeros", bytes(8 << 20)))
        config = json.dumps({"config": {}}).encode()
        reg.blobs.update({sha(bomb): bomb, sha(config): config})
        m = json.dumps({"schemaVersion": 2, "mediaType": registry.OCI_MANIFEST,
                        "config": desc("application/vnd.oci.image.config.v1+json", config),
                        "layers": [desc("application/vnd.oci.image.layer.v1.tar+gzip", bomb)]})
        reg.manifests["bomb"] = (registry.OCI_MANIFEST, m.encode())
        with pytest.raises((images.BuildError, registry.RegistryError), match="MiB"):
            images.resolve(f"127.0.0.1:{reg.port}/test/img:bomb", log=lambda m: None, cache=cache,
                           registry_nets=LOCAL)
    finally:
        reg.server.shutdown()
        reg.server.server_close()


class Drip(http.server.BaseHTTPRequestHandler):
    """A registry that answers the manifest, then sends a blob one byte every 0.2 s (each read well
    within any per-read timeout)."""
    def do_GET(self):
        blob = b"x" * 1000
        if "/manifests/" in self.path:
            body = json.dumps({"schemaVersion": 2, "mediaType": registry.OCI_MANIFEST,
                               "config": {"mediaType": "x", "digest": sha(blob), "size": len(blob)},
                               "layers": []}).encode()
            self.send_response(200)
            self.send_header("Content-Type", registry.OCI_MANIFEST)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(blob)))
        self.end_headers()
        try:
            for b in blob:
                self.wfile.write(bytes([b]))
                self.wfile.flush()
                time.sleep(0.2)
        except OSError:
            pass

    def log_message(self, *a):
        pass


def test_limits_a_dripping_registry_cannot_outlast_the_build_timeout(tmp_path, cache):
    # a pull had no overall deadline: a registry sending a byte at a time held the build for ever
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Drip)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    path = make_task(tmp_path, f"FROM 127.0.0.1:{server.server_address[1]}/drip/img:1\nRUN true\n",
                     toml="[environment]\nbuild_timeout_sec = 2\n")
    done = []

    def go():
        try:
            build(path, None, cache, registry_nets=LOCAL)
        except Exception as e:     # noqa: BLE001 - any failure ends it; the point is when
            done.append(e)
        else:
            done.append(None)
    t = threading.Thread(target=go, daemon=True)
    t.start()
    t.join(15)
    server.shutdown()
    server.server_close()
    assert done, "the pull was still running 15 s into a 2 s build_timeout_sec"
    assert "deadline" in str(done[0])           # it was reached (allowed), and stopped by the clock


# ---- bad tasks: one line each, and the others go on ------------------------------------------------------

def load_dir(tmp_path: Path, bad_files: dict) -> tuple[list, list]:
    good = make_task(tmp_path / "tasks", "", name="good")
    (good / "environment" / "Dockerfile").unlink()
    make_task(tmp_path / "tasks", "", files=bad_files, name="bad")
    (tmp_path / "tasks" / "bad" / "environment" / "Dockerfile").unlink()
    for rel, text in bad_files.items():
        (tmp_path / "tasks" / "bad" / rel).write_bytes(text if isinstance(text, bytes) else text.encode())
    errors = []
    return harbor.load_tasks(tmp_path / "tasks", errors), errors


def test_bad_task_deeply_nested_toml_is_one_line(tmp_path):
    # tomllib recursed to a RecursionError, which escaped load_tasks: no task loaded at all
    tasks, errors = load_dir(tmp_path, {"task.toml": "a = " + "[" * 50000 + "]" * 50000 + "\n"})
    assert [t.name for t in tasks] == ["good"] and len(errors) == 1 and "\n" not in errors[0]


def _fifo(task: Path, rel: str):
    (task / rel).unlink()
    os.mkfifo(task / rel)


def _link(task: Path, rel: str, target: str):
    shutil.rmtree(task / rel) if (task / rel).is_dir() else (task / rel).unlink()
    os.symlink(target, task / rel)


# Written from CONTAINMENT.md's loader rules: each bad file, the one line it is, and that the good task loads.
BAD_FILES = {
    "a 400-digit integer": ({"task.toml": "[environment]\ncpus = " + "9" * 400 + "\n"}, None,
                            "cpus = 9999"),     # printed as a float: OverflowError, out of load_tasks
    "a 5000-digit integer": ({"task.toml": "[agent]\ntimeout_sec = " + "9" * 5000 + "\n"}, None,
                             "cannot be loaded: ValueError"),
    "a size past float's range": ({"task.toml": '[environment]\nmemory = "' + "9" * 400 + 'G"\n'}, None,
                                  "memory_mb = inf is over"),
    "a UTF-8 BOM": ({"task.toml": "\ufeff[agent]\ntimeout_sec = 5\n"}, None, "task.toml is not valid TOML"),
    "a duplicate key": ({"task.toml": "[agent]\ntimeout_sec = 5\ntimeout_sec = 6\n"}, None,
                        "Cannot overwrite"),
    "a NaN timeout": ({"task.toml": "[agent]\ntimeout_sec = nan\n"}, None, "positive number, got nan"),
    "an infinite timeout": ({"task.toml": "[verifier]\ntimeout_sec = -inf\n"}, None,
                            "positive number, got -inf"),
    "negative memory": ({"task.toml": "[environment]\nmemory_mb = -5\n"}, None, "positive number, got -5"),
    "a Latin-1 instruction": ({"instruction.md": b"caf\xe9\n"}, None, "instruction.md unreadable: 'utf-8'"),
    "a FIFO instruction": ({}, lambda t: _fifo(t, "instruction.md"), "instruction.md is not a regular file"),
    "a FIFO task.toml": ({}, lambda t: _fifo(t, "task.toml"), "task.toml is not a regular file"),
    "an instruction linked out": ({}, lambda t: _link(t, "instruction.md", "/etc/passwd"),
                                  "instruction.md is a symlink"),
    "a tests/ linked out": ({}, lambda t: _link(t, "tests", "/etc"), "tests is a symlink"),
    # copied whole into each episode, so checked whole at load: these were an Outcome.ERROR of every episode
    # (shutil.Error's list of tuples as its message), never a bad task
    "a FIFO in tests/": ({}, lambda t: os.mkfifo(t / "tests" / "pipe"), "'tests/pipe' is not a regular file"),
    "a FIFO in solution/": ({"solution/solve.sh": "true\n"}, lambda t: os.mkfifo(t / "solution" / "pipe"),
                            "'solution/pipe' is not a regular file"),
    "a device node in tests/": ({}, lambda t: os.mknod(t / "tests" / "null", 0o600 | stat.S_IFCHR,
                                                       os.makedev(1, 3)), "'tests/null' is not a regular"),
}


@pytest.mark.parametrize("what", list(BAD_FILES))
def test_bad_task_whatever_its_files_hold_is_one_line_and_the_others_load(tmp_path, what):
    files, then, says = BAD_FILES[what]
    make_task(tmp_path / "tasks", "", name="good")
    bad = make_task(tmp_path / "tasks", "", files=files, name="bad")
    if then:
        then(bad)
    errors = []
    t0 = time.monotonic()
    tasks = harbor.load_tasks(tmp_path / "tasks", errors)
    assert [t.name for t in tasks] == ["good"] and len(errors) == 1 and time.monotonic() - t0 < 5
    assert errors[0].startswith("task 'bad': ") and says in errors[0] and "\n" not in errors[0]


def test_bad_task_a_huge_instruction_is_refused_at_load(tmp_path):
    # a 64 MiB instruction.md was read whole, into every prompt
    tasks, errors = load_dir(tmp_path, {"instruction.md": b"x" * (64 << 20)})
    assert [t.name for t in tasks] == ["good"] and len(errors) == 1 and "instruction.md" in errors[0]


def test_bad_task_a_dockerfile_of_continuations_loads_in_linear_time(tmp_path):
    # 100,000 `\` continuations took the loader quadratic time (tens of seconds): the run stalled
    text = "FROM host\nRUN true \\\n" + ("x" * 100 + " \\\n") * 100000 + "y\n"
    t0 = time.monotonic()
    steps = dockerfile.parse(text)
    assert time.monotonic() - t0 < 3 and len(steps) == 2


def test_bad_task_a_non_utf8_file_name_in_the_context_is_one_line_or_works(tmp_path):
    # a file named b'\xff' in environment/ made COPY's hash raise UnicodeEncodeError out of start_task
    path = make_task(tmp_path, "RUN true\nCOPY . /app/\n")
    (path / "environment" / "Dockerfile").write_text("COPY . /app/\n")
    with open(os.path.join(os.fsencode(path / "environment"), b"bad-\xff"), "w") as f:
        f.write("x\n")
    try:
        with harbor.start_task(harbor.load_task(path), log=lambda m: None) as env:
            assert env.run("ls /app | wc -l").output.strip() == "2"
    except harbor.SetupError as e:
        assert "\n" not in str(e)


def test_bad_task_the_build_cli_reports_a_bad_task_in_one_line(tmp_path, capsys):
    # `harbor.py build BADTASK GOODTASK` died with a traceback at the bad one
    bad = make_task(tmp_path, "FROM ..\n", name="bad")
    good = make_task(tmp_path, "RUN true\n", name="good")
    (good / "environment" / "Dockerfile").unlink()
    code = harbor.main(["build", str(bad), str(good)])
    err = capsys.readouterr().err
    assert code == 1 and len([l for l in err.splitlines() if "task 'bad'" in l]) == 1


def test_bad_task_an_instruction_longer_than_the_context_ends_only_its_episodes(monkeypatch, tmp_path):
    # the prompt did not fit the KV cache: a ValueError out of run_episodes lost every episode of the batch
    import rollout as R
    from test_rollout import DONE, TOK, FakeModel, ScriptedGenerator, bash

    class Capped(ScriptedGenerator):       # as generate.Generator's KV cache: no row past max_len
        def __init__(self, model, rows, stop_ids, capacity=256, max_len=None):
            super().__init__(model, rows, stop_ids, capacity, max_len)
            self.max_len = max_len

        def extend(self, rows, chunks):
            if any(len(self.fed[r]) + len(c) > self.max_len for r, c in zip(rows, chunks)):
                raise ValueError(f"KVCache.extend: over max_len={self.max_len}")
            super().extend(rows, chunks)

    test_sh = ('[ "$(cat /app/hello.txt)" = hi ] && echo 1 > /logs/verifier/reward.txt '
               '|| echo 0 > /logs/verifier/reward.txt\n')
    tasks = []
    for name, instruction in (("long", "write hi " * 60000), ("short", "Create /app/hello.txt with hi.")):
        path = make_task(tmp_path, "", {"instruction.md": instruction, "tests/test.sh": test_sh}, name=name)
        (path / "environment" / "Dockerfile").unlink()
        tasks.append(harbor.load_task(path))
    monkeypatch.setattr(R, "Generator", Capped)
    monkeypatch.setattr(ScriptedGenerator, "script", [[bash("echo hi > /app/hello.txt"), DONE]])
    long, short = R.run_episodes(FakeModel(), TOK, [(tasks[0], 0), (tasks[1], 0)], 1, R.Limits())
    assert long.outcome == harbor.Outcome.SETUP_TASK and long.reward == 0.0 and "context" in long.reason
    assert short.outcome == harbor.Outcome.DONE and short.reward == 1.0


def test_bad_task_a_run_of_json_that_is_not_strings_is_one_line(tmp_path):
    # RUN [1, 2] made the builder's shlex.join raise TypeError out of start_task
    path = make_task(tmp_path, "RUN [1, 2]\n")
    with pytest.raises(harbor.SetupError) as e:
        harbor.start_task(harbor.load_task(path), log=lambda m: None).close()
    assert "\n" not in str(e.value) and "line 1: RUN" in str(e.value)


def test_bad_task_a_context_nested_past_pythons_recursion_is_one_line(tmp_path):
    # environment/a/a/a/... 1,200 deep: COPY's hash (and the copier) recursed into a RecursionError
    path = make_task(tmp_path, "COPY . /app/\n")
    fd = os.open(path / "environment", os.O_RDONLY)
    for _ in range(1200):
        os.mkdir("a", dir_fd=fd)
        sub = os.open("a", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = sub
    os.close(fd)
    try:
        # refused at load where the context is copied at every start (the loader's depth cap, rt19b p31),
        # else at its build: one line either way
        with pytest.raises((harbor.TaskError, harbor.SetupError)) as e:
            harbor.start_task(harbor.load_task(path), log=lambda m: None).close()
        assert "\n" not in str(e.value)
    finally:                                     # pytest's own cleanup would recurse too
        subprocess.run(["rm", "-rf", str(path)])


@pytest.mark.parametrize("name", ["evil\nstep 9 | reward 1.000", "bell\a", os.fsdecode(b"bad-\xff")])
def test_bad_task_a_directory_name_that_is_not_printable_is_refused_in_one_line(tmp_path, name):
    # a task named "x\nstep 9 | reward 1.000" loaded and was played: every report line that names it
    # (eval's progress, errors, training's step notes) printed a line of the task's choosing
    make_task(tmp_path / "tasks", "", name="good")
    make_task(tmp_path / "tasks", "", name=name)
    errors = []
    tasks = harbor.load_tasks(tmp_path / "tasks", errors)
    assert [t.name for t in tasks] == ["good"] and len(errors) == 1 and errors[0].isprintable()
    assert errors[0].startswith(f"task '{repr(name)[1:-1]}': its directory name is not printable")


def test_bad_task_tests_nested_past_pythons_recursion_is_one_line_at_load(tmp_path):
    # tests/d/d/d/... 1,200 deep: the verifier's copy recursed into a RecursionError in every episode
    path = make_task(tmp_path, "")
    fd = os.open(path / "tests", os.O_RDONLY)
    for _ in range(1200):
        os.mkdir("d", dir_fd=fd)
        sub = os.open("d", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = sub
    os.close(fd)
    try:
        with pytest.raises(harbor.TaskError, match=r"^task 't': tests/ is nested deeper than 63 "):
            harbor.load_task(path)
    finally:                                     # pytest's own cleanup would recurse too
        subprocess.run(["rm", "-rf", str(path)])


def test_bad_task_an_eval_over_bad_tasks_goes_on_and_names_each(tmp_path, capsys, monkeypatch):
    # one good task among tasks that fail at load, at build and at verify: the good one is still played and
    # solved; each bad one is one line (load) or its own episode's outcome, never the run's end
    # task_facts reads tests/ for what it names up to HOME_SCAN_BYTES: 16 MiB of the big file's NULs through
    # its regexes were most of this test (50 of 54 s loaded); the file is over any budget, so a smaller one
    # gives the same facts
    monkeypatch.setattr(harbor, "HOME_SCAN_BYTES", 1 << 16)
    import eval as ev
    root = tmp_path / "tasks"
    files = {"tests/test.sh": "echo 1 > /logs/verifier/reward.txt\n", "solution/solve.sh": "true\n"}
    for name in ("good", "fifo", "badbuild", "bigtests"):
        path = make_task(root, "", files=files, name=name)
        (path / "environment" / "Dockerfile").unlink()
    os.mkfifo(root / "fifo" / "tests" / "pipe")
    (root / "badbuild" / "environment" / "Dockerfile").write_text("FROM host\nRUN exit 3\n")
    _sparse(root / "bigtests" / "tests" / "big")
    errors = []
    tasks = harbor.load_tasks(root, errors)
    results = ev.evaluate(tasks, ev.AGENTS["oracle"], log=lambda m: None)
    assert [t.name for t in tasks] == ["badbuild", "bigtests", "good"] and len(errors) == 1
    assert results["good"]["reward"] == 1.0
    assert results["badbuild"]["outcome"] == harbor.Outcome.SETUP_TASK
    assert results["bigtests"]["outcome"] == harbor.Outcome.VERIFIER_ERROR   # was Outcome.ERROR
    assert "its files are 2048 MiB" in results["bigtests"]["error"]


# ---- what a task may still do ----------------------------------------------------------------------------

def test_legitimate_copy_and_add_still_work(store, cache, tmp_path):
    # the rules above refuse only what leaves the context: globs, archives and links inside it still work
    import io
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("pkg/readme")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"hi\n"))
    path = make_task(tmp_path, "FROM tiny\nENV D=sub\nADD a.tgz /x/\nCOPY $D/*.txt /y/\nCOPY link /z\n",
                     {"environment/a.tgz": buf.getvalue(), "environment/sub/1.txt": "1\n",
                      "environment/sub/2.txt": "2\n"})
    (path / "environment" / "link").symlink_to("sub/1.txt")
    state = build(path, store, cache)
    layers = state.layers
    assert (layers[2] / "x/pkg/readme").read_text() == "hi\n"
    assert sorted(p.name for p in (layers[1] / "y").iterdir()) == ["1.txt", "2.txt"]
    assert os.readlink(layers[0] / "z") == "sub/1.txt"
