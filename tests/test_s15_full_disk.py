"""A step over the room the cache's disk has left, but within the step's own cap (BUILD_DISK_MB), failed the
task being built (rt14b p15: a bad task's cached layer took the disk, and the next good task was blamed and
scored 0 for it). A full disk is the machine's: images._build_layer and _disk_cap raise SandboxError, an
infrastructure failure that training masks; a step over its own cap is still the task's BuildError."""
import shutil

import pytest

import images
import sandbox
from test_builder_attacks import build, cache, make_task, store  # noqa: F401 (fixtures)

STEP = "FROM tiny\nRUN head -c 20000000 /dev/zero > /data\n"


@pytest.fixture
def warm(store, cache, tmp_path):  # noqa: F811
    """The base imported into the cache while the disk had room (the tests below fill it after)."""
    build(make_task(tmp_path / "warm", "FROM tiny\nRUN true\n"), store, cache)


@pytest.fixture
def little_room(cache, warm, monkeypatch):  # noqa: F811
    """The cache's disk with 8 MiB left above the reserve; a step's own cap of 64 MiB."""
    monkeypatch.setattr(images, "BUILD_DISK_MB", 64)
    reserve = (shutil.disk_usage(cache).free >> 20) - 8
    monkeypatch.setattr(images, "DISK_RESERVE_MB", reserve)
    monkeypatch.setattr(images, "DISK_FLOOR_MB", 1)          # the floor is not what this is about


def test_a_step_within_its_cap_on_a_full_disk_is_the_machines_failure(store, cache, tmp_path,  # noqa: F811
                                                                      little_room):
    with pytest.raises(sandbox.SandboxError, match=r"wrote 19 MiB, over the build's disk cap of \d MiB "
                                                   r"\(what the cache's disk had left.*the disk is full\)"):
        build(make_task(tmp_path, STEP), store, cache)


def test_a_step_over_its_own_cap_is_still_the_tasks(store, cache, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setattr(images, "BUILD_DISK_MB", 8)
    with pytest.raises(images.BuildError, match="wrote 19 MiB, over the build's disk cap of 8 MiB$"):
        build(make_task(tmp_path, STEP), store, cache)


def test_a_disk_under_its_reserve_is_the_machines_failure(store, cache, tmp_path, warm,  # noqa: F811
                                                          monkeypatch):
    monkeypatch.setattr(images, "DISK_RESERVE_MB", (shutil.disk_usage(cache).free >> 20) + 1)
    with pytest.raises(sandbox.SandboxError, match="MiB free; nothing is built"):
        build(make_task(tmp_path, STEP), store, cache)


def test_an_image_larger_than_the_disks_room_is_the_machines_failure(store, cache, tmp_path,  # noqa: F811
                                                                     monkeypatch):
    # an import's only budget is the disk's free room: over it, the disk is too small, not the task bad
    monkeypatch.setattr(images, "DISK_RESERVE_MB", (shutil.disk_usage(cache).free >> 20) + 1)
    with pytest.raises(sandbox.SandboxError, match="cannot import tiny.*unpacks to over 0 MiB"):
        build(make_task(tmp_path, STEP), store, cache)
