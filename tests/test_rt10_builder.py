"""rt10b's builder findings (CONTAINMENT.md, "ninth fresh red team (rt10)"): what a task's Dockerfile
makes the trainer write on the host is bounded by where it is going (p11, p14), a step's failure on the
task's own values is the task's (p15), a cached step never reads the seed (p17), and a Dockerfile the
builder cannot mount is refused in one line, quickly (p24, p25)."""
import gzip
import hashlib
import io
import os
import shutil
import tarfile
import time
from pathlib import Path

import pytest

import dockerfile
import harbor
import images
from test_builder_attacks import build, cache, make_task, store  # noqa: F401 - fixtures

OFFLINE = "[environment]\nallow_internet = false\n"
root_only = pytest.mark.skipif(os.getuid() != 0, reason="sandboxes of a build need root (the trainer's case)")


def _bomb(size: int) -> bytes:
    """A gzip of a tar of one member of `size` zero bytes (a few KiB per MiB)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("zeros")
        info.size = size
        tar.addfile(info, io.BytesIO(bytes(size)))
    return gzip.compress(buf.getvalue(), compresslevel=1)


def _start(path: Path, cache_dir: Path):
    harbor.forget_builds()
    return harbor.start_task(harbor.load_task(path), log=lambda m: None, cache=cache_dir)


# ---- p11: an archive is unpacked within what its destination holds -------------------------------------

@root_only
def test_p11_an_archive_stops_unpacking_at_its_budget(tmp_path):
    # tar unpacked all of a bomb on the host's /tmp before anything compared it with the destination
    out = tmp_path / "out"
    out.mkdir()
    images._own(out)
    with pytest.raises(images.BuildError, match="unpacks to over 1 MiB"):
        images._unpack(io.BytesIO(_bomb(8 << 20)), out, [1 << 20, 1 << 20], "ADD bomb.tar.gz",
                       time.monotonic() + 30)
    assert images.disk_usage(out)[0] <= 1 << 20


@root_only
def test_p11_a_seeded_archive_is_held_to_the_episodes_storage(tmp_path, cache):
    # storage_mb = 16, a 48 MiB member: unpacked whole on the host before the episode's copy refused it
    path = make_task(tmp_path, "FROM host\nARG TASK_SEED\nADD bomb.tar.gz /opt/\n",
                     {"environment/bomb.tar.gz": _bomb(48 << 20)},
                     toml="[environment]\nstorage_mb = 16\nallow_internet = false\n")
    with pytest.raises(harbor.SetupError) as e:
        _start(path, cache).close()
    assert not e.value.infrastructure and "unpacks to over" in str(e.value)


@root_only
def test_p11_an_archive_that_fits_still_unpacks_with_its_links(tmp_path, cache):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in (("d/a.txt", b"hello\n"),):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("d/l")
        link.type, link.linkname = tarfile.SYMTYPE, "a.txt"
        tar.addfile(link)
    path = make_task(tmp_path, "FROM host\nARG TASK_SEED\nADD pkg.tar.gz /opt/\n",
                     {"environment/pkg.tar.gz": buf.getvalue()}, toml=OFFLINE)
    with _start(path, cache) as env:
        assert env.run("cat /opt/d/l; readlink /opt/d/l", 10).output.split() == ["hello", "a.txt"]


@root_only
def test_p11_a_seeded_copy_from_a_stage_is_held_to_the_episodes_storage(store, cache, tmp_path):
    # the same class through COPY --from: the stage's 40 MB file was exported whole to the host's /tmp
    # (up to BUILD_DISK_MB) before the copy into a 16 MiB episode was refused
    path = make_task(tmp_path, "FROM tiny AS big\nRUN head -c 40000000 /dev/zero > /big\nFROM tiny\n"
                     "ARG TASK_SEED\nCOPY --from=big /big /big\n",
                     toml="[environment]\nstorage_mb = 16\nallow_internet = false\n")
    harbor.forget_builds()
    with pytest.raises(harbor.SetupError) as e:
        harbor.start_task(harbor.load_task(path), store=store, cache=cache, log=lambda m: None).close()
    assert not e.value.infrastructure and "copies more than the step may write here" in str(e.value)


# ---- p14: ADD <url>'s downloads count against the cache's disk ------------------------------------------

def _download(tmp_path: Path, size: int, byte: bytes = b"x") -> tuple[Path, str]:
    p = tmp_path / f"dl-{byte.decode()}"
    p.write_bytes(byte * size)
    return p, hashlib.sha256(p.read_bytes()).hexdigest()


def test_p14_a_failed_steps_download_is_not_kept(tmp_path):
    blobs = tmp_path / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    dl, digest = _download(tmp_path, 1 << 20)
    held = images._keep(dl, digest, "ADD", blobs)
    assert held.read_bytes() == dl.read_bytes() and (blobs / digest).exists()
    images.release({"u": held}, failed=True)
    assert not held.exists() and not (blobs / digest).exists()


def test_p14_downloads_without_a_checksum_are_never_kept(tmp_path):
    blobs = tmp_path / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    dl, digest = _download(tmp_path, 1 << 20)
    held = images._keep(dl, None, "ADD", blobs)
    assert held.name == digest            # the layer key's name for it
    images.release({"u": held})
    assert [p.name for p in blobs.iterdir() if not p.name.startswith(".tmp-")] == []


def test_p14_kept_downloads_stay_within_their_cap_least_recently_used_first(tmp_path, monkeypatch):
    monkeypatch.setattr(images, "BLOBS_MB", 2)
    blobs = tmp_path / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    digests = []
    for byte in (b"a", b"b", b"c"):
        dl, digest = _download(tmp_path, 900 << 10, byte)
        held = images._keep(dl, digest, "ADD", blobs)
        images.release({"u": held})
        digests.append(digest)
        time.sleep(0.01)
    kept = {p.name for p in blobs.iterdir() if not p.name.startswith(".tmp-")}
    assert kept == set(digests[1:])       # 2.7 MiB would be over 2 MiB: the oldest went


def test_p14_a_download_over_the_disks_free_space_is_refused(tmp_path, monkeypatch):
    blobs = tmp_path / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    monkeypatch.setattr(images, "DISK_RESERVE_MB", shutil.disk_usage(tmp_path).free >> 20)
    dl, digest = _download(tmp_path, 1 << 20)
    with pytest.raises(images.BuildError, match="free"):
        images._keep(dl, digest, "ADD", blobs)
    assert not (blobs / digest).exists()


# ---- p15: a step that fails on the task's own values is the task's failure ------------------------------

@root_only
def test_p15_a_heredoc_to_a_path_through_a_file_is_the_tasks_fault(tmp_path, cache):
    path = make_task(tmp_path, "FROM host\nARG TASK_SEED\nCOPY <<EOF /etc/hostname/y\nhi\nEOF\n",
                     toml="[environment]\nallow_internet = false\n")
    said = []
    with pytest.raises(harbor.SetupError) as e:
        harbor.forget_builds()
        harbor.start_task(harbor.load_task(path), log=said.append, cache=cache).close()
    assert not e.value.infrastructure and said == [] and "line 3: COPY_HEREDOC" in str(e.value)


@root_only
def test_p15_an_add_url_to_a_path_through_a_file_is_the_tasks_fault(tmp_path, cache):
    data = b"blob\n"
    digest = hashlib.sha256(data).hexdigest()
    (cache / "blobs" / "sha256").mkdir(parents=True)
    (cache / "blobs" / "sha256" / digest).write_bytes(data)        # given by --checksum: nothing fetched
    path = make_task(tmp_path, f"FROM host\nARG TASK_SEED\nADD --checksum=sha256:{digest} "
                     "http://example.invalid/f /etc/hostname/x\n", toml=OFFLINE)
    with pytest.raises(harbor.SetupError) as e:
        _start(path, cache).close()
    assert not e.value.infrastructure and "cannot copy" in str(e.value)
    assert (cache / "blobs" / "sha256" / digest).exists()          # not this step's download: kept


# ---- p17: a step that sees the seed is run per episode, in whichever stage ------------------------------

SEEDED_GEN = ("FROM tiny AS gen\nRUN echo cached > /c.txt\nARG TASK_SEED\n"
              "RUN echo \"seed=$TASK_SEED\" > /seed.txt\n")


@root_only
@pytest.mark.parametrize("last", ["FROM tiny\nCOPY --from=gen /seed.txt /seed.txt\n", "FROM gen\n"])
def test_p17_a_seed_in_an_earlier_stage_reaches_each_episode(store, cache, tmp_path, last):
    # `ARG TASK_SEED` in stage gen: built once without the seed and cached, every instance one
    path = make_task(tmp_path, SEEDED_GEN + last, toml="[environment]\nallow_internet = false\n")
    task = harbor.load_task(path)
    harbor.forget_builds()
    seen, scratches = [], []
    for seed in (1, 2):
        with harbor.start_task(task, seed, store=store, cache=cache, log=lambda m: None) as env:
            seen.append(env.run("cat /seed.txt", 10).output.strip())
            scratches.append(getattr(env, "scratch", None))
    assert seen == ["seed=1", "seed=2"]
    assert all(s is not None and not s.exists() for s in scratches)   # its own layers go with the episode
    cached = [p for p in (cache / "layers").glob("*/layer/*.txt")]
    assert [p.name for p in cached] == ["c.txt"]     # the step before the seed is cached, none after it


def test_p17_what_sees_the_seed_is_marked_per_stage():
    st = dockerfile.stages(dockerfile.parse(
        "FROM a AS gen\nRUN x\nARG TASK_SEED\nRUN y\nFROM b AS other\nRUN z\nCOPY --from=gen /s /s\n"
        "FROM other\nRUN w\nFROM b\nRUN v\n"))
    assert [s.seeded for s in st] == [1, 1, 0, None]


def test_p17_a_seed_before_from_is_refused_at_load(tmp_path):
    path = make_task(tmp_path, "ARG TASK_SEED\nFROM debian:bookworm\nRUN true\n")
    with pytest.raises(harbor.TaskError, match="ARG TASK_SEED before FROM"):
        harbor.load_task(path)


# ---- p24/p25: what the builder cannot mount is refused in one line, in linear time -----------------------

def test_p24_many_chained_stages_are_refused_quickly():
    text = "FROM debian:bookworm AS s0\n" + "".join(
        f"FROM s{i - 1} AS s{i}\nCOPY --from=s{i - 1} /etc/hostname /h{i}\n" for i in range(1, 5000))
    t0 = time.monotonic()
    with pytest.raises(ValueError, match="stages"):
        dockerfile.stages(dockerfile.parse(text))
    assert time.monotonic() - t0 < 1.0


def test_p24_a_chain_of_stages_counts_its_layers_at_load():
    text = "FROM debian:bookworm AS s0\n" + "".join(f"FROM s{i - 1} AS s{i}\nRUN true\nRUN true\n"
                                                    for i in range(1, 70))
    with pytest.raises(ValueError, match="layers"):
        dockerfile.stages(dockerfile.parse(text))


def test_p24_stages_resolve_their_copy_sources_once():
    st = dockerfile.stages(dockerfile.parse("FROM a AS one\nFROM b\nCOPY --from=one /x /x\n"
                                            "COPY --from=0 /y /y\nCOPY --from=img /z /z\n"))
    assert st[1].sources == {"one": 0, "0": 0}


def test_p25_the_layer_cap_fits_the_mounts_one_page():
    cache_dir = Path("/var/cache/echo")
    cap = images.layer_cap(cache_dir)
    layer = len(str(cache_dir / "layers" / images.key_name("") / "layer"))   # a full sha256 (rt13b p17)
    assert 45 <= cap < 100 and cap * (layer + 1) < 4096


def test_p25_layers_over_what_the_default_cache_mounts_are_refused_at_load(tmp_path):
    n = images.layer_cap(images.CACHE)
    path = make_task(tmp_path, "FROM debian:bookworm\n" + "RUN true\n" * n)
    with pytest.raises(harbor.TaskError, match=f"{n + 1} layers, more than the {n} an overlay mount"):
        harbor.load_task(path)
    harbor.load_task(make_task(tmp_path, "FROM debian:bookworm\n" + "RUN true\n" * (n - 1), name="u"))


@root_only
def test_p25_layers_over_what_the_mount_takes_are_refused_before_any_is_built(store, cache, tmp_path):
    # 100 layers (under the old 120 cap): the ~84th step's overlay options passed a page, a SandboxError.
    # A cache of a longer path than the default's: its cap is under the one the load checks (whole-digest
    # keys, rt13b p17, left the two caps a layer or none apart on short temporary paths)
    cache = cache / ("c" * 64)
    n = images.layer_cap(cache) + 1
    path = make_task(tmp_path, "FROM tiny\n" + "RUN true\n" * n)
    t0 = time.monotonic()
    with pytest.raises(images.BuildError, match="overlay mount of this cache takes"):
        build(path, store, cache)
    assert time.monotonic() - t0 < 10 and not list((cache / "layers").glob("*/meta.json"))


def test_p17_a_sidecars_seeded_steps_see_the_episodes_seed(tmp_path):
    # a service's Dockerfile was built whole with TASK_SEED unset (and on a base image, cached so)
    from test_compose import WEB_DOCKERFILE, make_task as compose_task
    web = WEB_DOCKERFILE.replace("COPY secret.txt /srv/secret.txt\n", "COPY secret.txt /srv/secret.txt\n"
                                 "ARG TASK_SEED\nRUN echo \"seed=$TASK_SEED\" > /srv/seed.txt\n")
    web = web.replace("cp /srv/secret.txt /shared/", "cp /srv/secret.txt /srv/seed.txt /shared/")
    task = harbor.load_task(compose_task(tmp_path, {"environment/web/Dockerfile": web}))
    with harbor.start_task(task, 7, log=lambda m: None) as env:
        assert env.run("cat /shared/seed.txt").output.strip() == "seed=7"
