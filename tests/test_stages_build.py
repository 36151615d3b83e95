"""Multi-stage builds, COPY --from and ADD <url> built for real, on the cheapest real base (test_images.py's
tiny_rootfs) and once on the Debian base (test_images.py's `base`: debootstrap, slow), among them an attack
per new surface: a stage's symlink to a host file (/etc/shadow), a URL on the host's loopback. The
interpreter's side is tests/test_stages.py."""
import hashlib
import http.server
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import urllib.request
from pathlib import Path

import pytest

import harbor
import images
from test_images import base, task_dir, tiny_rootfs  # noqa: F401 (base: a fixture)


@pytest.fixture
def store(tmp_path):
    if not shutil.which("ldd") or os.getuid() != 0:
        pytest.skip("needs ldd and root (a base copied from the host's bash)")
    return tmp_path / "store"


def tiny(store: Path, name: str, tools=("stat",)) -> Path:
    """tiny_rootfs (bash, cat, cp, mkdir, ...) and `tools`, as image `name` in the store; a name per test,
    as the session's image cache keeps the first import of a name."""
    root = tiny_rootfs(store / name)
    for tool in tools:
        path = shutil.which(tool)
        out = subprocess.run(["ldd", path], capture_output=True, text=True).stdout
        for f in {path, *(w for w in out.split() if w.startswith("/"))}:
            (root / f.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(f, root / f.lstrip("/"))
    return root


def start(root: Path, store: Path, text: str):
    task = harbor.load_task(task_dir(root, text, "echo 0 > /logs/verifier/reward.txt\n"))
    return harbor.start_task(task, store=store, log=lambda m: None)


def test_the_final_image_has_a_file_built_in_an_earlier_stage_and_nothing_else_of_it(tmp_path, store):
    tiny(store, "tiny-stages", tools=("stat", "chown"))
    text = ("FROM tiny-stages AS build\nRUN mkdir -p /out && echo built > /out/file && echo x > /only-in-b\n"
            "FROM build AS more\nRUN echo more >> /out/file && chown 1000:1001 /out/file\n"
            "FROM tiny-stages\nCOPY --from=more /out/file /app/\nCOPY --from=0 /out /app/dir\nWORKDIR /app\n")
    with start(tmp_path, store, text) as env:
        assert env.run("cat /app/file /app/dir/file; [ -e /only-in-b ] && echo leaked; pwd").output == \
            "built\nmore\nbuilt\n/app\n"
        # owners kept, as Docker keeps a stage's
        assert env.run("stat -c %u:%g /app/file /app/dir/file").output == "1000:1001\n0:0\n"


def test_copy_from_an_image_takes_it_from_the_image_store_and_an_unknown_image_is_one_line(tmp_path, store):
    tiny(store, "tiny-dest", tools=())
    (tiny(store, "tiny-tool", tools=()) / "opt/tool").mkdir(parents=True)
    (store / "tiny-tool/opt/tool/bin").write_text("the tool\n")
    with start(tmp_path / "a", store, "FROM tiny-dest\nCOPY --from=tiny-tool /opt/tool /usr/local/\n") as env:
        assert env.run("cat /usr/local/bin").output == "the tool\n"
    with pytest.raises(harbor.SetupError, match=r"^task 't': line 2: COPY --from=echo-no-such-image: no "
                                                r"image store, registry or stand-in has this image$"):
        start(tmp_path / "b", store, "FROM tiny-dest\nCOPY --from=echo-no-such-image /a /a\n")


def test_on_the_debian_base_a_stage_link_to_etc_shadow_copies_the_stages_never_the_hosts(base, tmp_path):
    text = ("FROM debian:bookworm AS src\nRUN ln -s /etc/shadow /leak && mkdir /d && ln -s /etc /d/etc\n"
            "FROM debian:bookworm\nCOPY --from=src /leak /got\nCOPY --from=src /d/etc/shadow /got2\n")
    with start(tmp_path, None, text) as env:
        stage_shadow = env.run("cat /etc/shadow").output         # the same base: the stage's own file
        assert stage_shadow != Path("/etc/shadow").read_text()
        assert env.run("cat /got").output == env.run("cat /got2").output == stage_shadow


def test_copy_from_a_stage_link_to_a_host_file_copies_the_stage_file_or_nothing(tmp_path, store):
    # the host holds a secret at a path; the stage holds its own file there, and links to it
    secret = Path(tempfile.mkdtemp(prefix="echo-host-secret-"))
    try:
        (secret / "s").write_text("the host's secret\n")
        root = tiny(store, "tiny-links")
        (root / secret.relative_to("/")).mkdir(parents=True)
        (root / secret.relative_to("/") / "s").write_text("the stage's file\n")
        os.symlink(secret / "s", root / "leak")                  # absolute: the stage's root, not the host's
        os.symlink(str(secret), root / "dir")                    # a link in the middle of a path
        os.symlink(secret / "only-on-host", root / "dangling")
        (secret / "only-on-host").write_text("the host's other secret\n")
        text = ("FROM tiny-links AS src\nFROM tiny-links\nCOPY --from=src /leak /got\n"
                "COPY --from=src /dir/s /got2\n")
        with start(tmp_path / "a", store, text) as env:
            assert env.run("cat /got /got2").output == "the stage's file\nthe stage's file\n"
        with pytest.raises(harbor.SetupError, match=r"line 3: COPY --from=src /dangling: not found in the"):
            start(tmp_path / "b", store, "FROM tiny-links AS src\nFROM tiny-links\n"
                  "COPY --from=src /dangling /got\n")
    finally:
        shutil.rmtree(secret)


class _Server(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):
        self.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"from the host's loopback\n")

    def log_message(self, *a):
        pass


# The stage's sandbox mounts /proc, /sys, /dev (and binds the host's resolv.conf); the builder reads as the
# host's root: COPY --from read the host's /proc/kallsyms with real addresses and init's stack (rt5 p14/p17)
@pytest.mark.parametrize("src", ["/proc/kallsyms", "/proc/1/stack", "/proc/1/environ", "/proc/1",
                                 "/sys/kernel", "/dev/null", "/dev/shm", "/lnk/kallsyms", "/up/../proc/self"])
def test_copy_from_a_stages_proc_sys_or_dev_is_refused_in_one_line(tmp_path, store, src):
    tiny(store, "tiny-procfs", tools=("ln",))
    text = ("FROM tiny-procfs AS s\nRUN ln -s /proc /lnk && mkdir /up\n"
            f"FROM tiny-procfs\nCOPY --from=s {src} /got\n")
    shown = src.replace("/lnk", "/proc").replace("/up/..", "").split("/")[:2]   # the first mount crossed
    with pytest.raises(harbor.SetupError) as e:
        start(tmp_path, store, text)
    assert "\n" not in str(e.value) and f"{'/'.join(shown)} is not the stage's own file" in str(e.value)


def test_copy_from_a_stages_root_holds_its_mount_points_empty(tmp_path, store):
    # as a stage's snapshot has them (Docker's): /proc and /sys empty, nothing of the kernel's read
    tiny(store, "tiny-rootcopy", tools=("ls",))
    with start(tmp_path, store, "FROM tiny-rootcopy AS s\nFROM tiny-rootcopy\nCOPY --from=s / /all\n") as env:
        assert env.run("[ -x /all/bin/bash ] && ls -A /all/proc /all/sys /all/dev /all/run/xfer").output == \
            "/all/dev:\n\n/all/proc:\n\n/all/run/xfer:\n\n/all/sys:\n"


def test_add_of_a_url_on_the_hosts_loopback_fails_the_build_and_never_reaches_it(tmp_path, store,
                                                                                   monkeypatch):
    tiny(store, "tiny-loop", tools=())
    server = http.server.HTTPServer(("127.0.0.1", 0), _Server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        for host in ["127.0.0.1", "localhost"]:
            with pytest.raises(harbor.SetupError, match="not a public address"):
                start(tmp_path / host, store, f"FROM tiny-loop\nADD http://{host}:{port}/f /f\n")
        # and without the address check, the download's own network namespace still has no way there
        monkeypatch.setattr(images, "public", lambda address: True)
        with pytest.raises(harbor.SetupError, match="download failed: curl: .*(refused|connect)"):
            start(tmp_path / "unchecked", store, f"FROM tiny-loop\nADD http://127.0.0.1:{port}/f /f\n")
    finally:
        server.shutdown()
        server.server_close()
    assert _Server.hits == []


def test_add_of_a_url_fetches_it_into_the_image_unextracted_and_checks_its_checksum(tmp_path, store,
                                                                                     monkeypatch):
    url = "http://deb.debian.org/debian/dists/bookworm/Release.gpg"
    try:
        body = urllib.request.urlopen(url, timeout=15).read()
    except OSError as e:
        pytest.skip(f"{url} is unreachable ({e})")
    # A machine whose mirror sits on a non-public address (a test network) must allow it by hand
    mirror = {a[4][0] for a in socket.getaddrinfo("deb.debian.org", 80, socket.AF_INET)}
    monkeypatch.setattr(images, "public", lambda a, public=images.public: public(a) or a in mirror)
    tiny(store, "tiny-add")
    digest = hashlib.sha256(body).hexdigest()
    with start(tmp_path / "a", store, f"FROM tiny-add\nADD --checksum=sha256:{digest} {url} /d/\n") as env:
        assert env.run("cat /d/Release.gpg; stat -c %a /d/Release.gpg").output == f"{body.decode()}600\n"
    with pytest.raises(harbor.SetupError, match=f"does not match --checksum=sha256:{'0' * 64}"):
        start(tmp_path / "b", store, f"FROM tiny-add\nADD --checksum=sha256:{'0' * 64} {url} /d/\n")
