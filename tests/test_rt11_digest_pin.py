"""A digest-pinned FROM is never served silently by other content (images.resolve; rt11b p12).

With the registry unreachable, `FROM ubuntu:24.04@sha256:<X>` was served by a stand-in whose pattern
matched (`--as 'ubuntu:*'`), or by the host's directories, with a line that did not say the pin was
ignored. A stand-in (the operator's choice) still serves it, saying the pin is not honoured; the host's
directories refuse it in one line. On the code before, the host served it."""
import json
from pathlib import Path

import pytest

import images


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """A cache with a stand-in for 'ubuntu:*' (an empty root), and a registry that does not answer."""
    cache = tmp_path / "cache"
    name = images.cache_name(images.canonical("standin"))
    (cache / "images" / name / "rootfs").mkdir(parents=True)
    (cache / "images" / name / "image.json").write_text(json.dumps({"ref": "standin", "source": "a stand-in"}))
    (cache / "images" / "aliases.json").write_text(json.dumps([["ubuntu:*", name]]))
    monkeypatch.setitem(images._unreachable, "registry-1.docker.io", "registry-1.docker.io unreachable (test)")
    return cache


def test_a_digest_pin_served_by_a_stand_in_says_the_pin_is_not_honoured(offline, monkeypatch):
    said = []
    monkeypatch.setattr(images.sandbox, "say_once", said.append)
    image = images.resolve("ubuntu:24.04@sha256:" + "0" * 64, cache=offline, log=lambda m: None)
    assert image.source == "a stand-in"
    assert len(said) == 1 and "NOT the pinned digest" in said[0] and "ubuntu:24.04@sha256:" in said[0]


def test_a_digest_pin_is_not_served_by_the_hosts_directories(tmp_path, monkeypatch):
    monkeypatch.setitem(images._unreachable, "registry-1.docker.io", "registry-1.docker.io unreachable (test)")
    with pytest.raises(images.BuildError, match="digest pin"):
        images.resolve("debian@sha256:" + "1" * 64, cache=tmp_path, log=lambda m: None)


def test_an_unpinned_reference_still_gets_its_stand_in(offline):
    image = images.resolve("ubuntu:24.04", cache=offline, log=lambda m: None)
    assert image.source == "a stand-in" and Path(image.rootfs).is_dir()
