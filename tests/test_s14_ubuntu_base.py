"""An Ubuntu stand-in base (`images.py debootstrap --suite noble`) is made as Docker's ubuntu image is:
its apt sources hold every component and the -updates, -backports and -security suites (a Dockerfile's
`apt-get install cbmc` finds universe there), and it needs Ubuntu's archive keys, said in one line."""
import pytest

import images


def test_an_ubuntu_suite_gets_dockers_apt_sources():
    s = images.apt_sources("noble", "http://archive.ubuntu.com/ubuntu")
    assert "Suites: noble noble-updates noble-backports\n" in s
    assert "URIs: http://security.ubuntu.com/ubuntu\nSuites: noble-security\n" in s
    assert s.count("Components: main universe restricted multiverse\n") == 2
    assert f"Signed-By: {images.UBUNTU_KEYRING}" in s


def test_a_mirror_of_ubuntu_serves_its_security_suite_too():
    s = images.apt_sources("jammy", "http://mirror.example/ubuntu")
    assert "security.ubuntu.com" not in s
    assert "URIs: http://mirror.example/ubuntu\nSuites: jammy-security" in s


def test_a_debian_suite_keeps_debootstraps_sources():
    assert images.apt_sources("bookworm", "http://deb.debian.org/debian") is None


def test_an_ubuntu_suite_without_the_archive_keys_is_one_line(monkeypatch, tmp_path):
    monkeypatch.setattr(images.os, "getuid", lambda: 0)
    monkeypatch.setattr(images.shutil, "which", lambda name: "/usr/sbin/debootstrap")
    monkeypatch.setattr(images, "UBUNTU_KEYRING", str(tmp_path / "none.gpg"))
    with pytest.raises(images.BuildError, match=r"archive keys in .*none\.gpg \(apt-get install"):
        images.debootstrap("noble", "http://archive.ubuntu.com/ubuntu", ["ubuntu:noble"], False, [],
                           cache=tmp_path)
