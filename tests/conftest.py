import sys
from pathlib import Path

# The project is flat files at the repository root (model.py, echo.py, ...): make them importable
# however pytest is started.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pytest  # noqa: E402


@pytest.fixture(autouse=True, scope="session")
def _allow_no_cgroup():
    """ECHO_ALLOW_NO_CGROUP=1: the suite's episodes run where no cgroup can be made, as --allow-no-cgroup
    asks (the variable exists only here: a test run takes no flag)."""
    import os
    import sandbox
    sandbox.ALLOW_NO_CGROUP = os.environ.get("ECHO_ALLOW_NO_CGROUP") == "1"


_session: dict = {}          # the session's image cache ("cache"), and the base's making ("why", "proc", "log")


def session_cache() -> Path:
    """The session's image cache, made on first use: the real base starts being made in it at collection."""
    if "cache" not in _session:
        import tempfile
        _session["cache"] = Path(tempfile.mkdtemp(prefix="echo-test-cache-"))
        _session["cache"].chmod(0o755)
    return _session["cache"]


@pytest.fixture(scope="session")
def image_cache():
    """An empty image cache for the session (images.prepare_cache makes it root's, mode 0700: a sandbox
    reaches its layers only through the binds its child makes, sandbox._shelf)."""
    path = session_cache()
    yield path
    if (proc := _session.get("proc")) and proc.poll() is None:   # still making the base, or its layers
        import os
        import signal
        import time
        os.killpg(proc.pid, signal.SIGKILL)   # debootstrap's own children with it
        proc.wait()
        for _ in range(300):                   # ... gone before their files are removed
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
    import sandbox
    sandbox.rmtree(path)


MIRROR = "http://deb.debian.org/debian"


def base_unavailable() -> str:
    """Why the real Debian base cannot be made here, "" if it can: it needs root, debootstrap, the mirror."""
    import os
    import shutil
    import urllib.request
    if os.getuid() != 0:
        return "debootstrap needs root"
    if not shutil.which("debootstrap"):
        return "debootstrap is not installed (apt-get install debootstrap)"
    try:
        urllib.request.urlopen(f"{MIRROR}/dists/bookworm/Release", timeout=15).close()
    except OSError as e:
        return f"the Debian mirror {MIRROR} is unreachable ({e})"
    return ""


# The real Debian base is made by tests/real_base.py in a process of its own (at nice 10), started when the
# session's tests are collected, and the test modules that build on it run last: its ~45 s (the mirror, then
# dpkg), and the ~30 s of the layers those tests build on it, pass beside the other tests instead of before
# the first real-image test, which came early in the alphabet. A process, not a thread: the tests patch os,
# shutil, socket and images' own names, which a thread of this process would meet mid-build.

@pytest.hookimpl(trylast=True)                 # after -k and -m have deselected what they deselect
def pytest_collection_modifyitems(config, items):
    uses = {item.nodeid.split("::")[0] for item in items if "debian_base" in item.fixturenames}
    items.sort(key=lambda item: item.nodeid.split("::")[0] in uses)         # stable: each module whole
    if uses and not config.option.collectonly:
        start_base()


def start_base() -> None:
    """Start making the base in the session's cache, once, unless base_unavailable() says why not."""
    import os
    import subprocess
    import sys
    import tempfile
    if "why" in _session:
        return
    _session["why"] = base_unavailable()
    if not _session["why"]:
        _session["log"] = tempfile.TemporaryFile()
        _session["proc"] = subprocess.Popen(
            ["nice", "-n", "10", sys.executable, str(Path(__file__).with_name("real_base.py")), MIRROR],
            cwd=Path(__file__).resolve().parents[1], env={**os.environ, "ECHO_CACHE": str(session_cache())},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=_session["log"], start_new_session=True)


@pytest.fixture(scope="session")
def debian_base(image_cache):
    """The real Debian base (debootstrap bookworm, the stand-in for debian:bookworm and ubuntu:*) in the
    session's image cache, made once per session (above): the real-image modules all build on the same one
    (each made its own before, the same image thrice)."""
    start_base()                               # (already started, unless the hook above did not run)
    if why := _session["why"]:
        print(f"\n\n*** SKIPPING the real-image tests: {why} ***\n", flush=True)
        pytest.skip(f"REAL IMAGE NOT TESTED: {why}")
    proc, log = _session["proc"], _session["log"]
    if proc.stdout.readline() != b"ready\n":   # it ended without the base
        proc.wait()
        log.seek(0)
        raise RuntimeError(f"tests/real_base.py: no base ({proc.returncode}): "
                           f"{log.read().decode(errors='replace')[-2000:]}")
    import images
    images.CACHE = image_cache                 # session scope: the autouse fixture only patches per test
    # what images.debootstrap returned in that process: the image it saved under the base's own name
    return images._cached(images.cache_name(images.canonical("debian:bookworm")), image_cache)


@pytest.fixture(autouse=True)
def _own_image_cache(image_cache, monkeypatch):
    """Tests never see the machine's image cache (a stand-in base there would change which image a task
    gets): they share the session's, which test_images.py fills with a real base."""
    import harbor
    import images
    monkeypatch.setattr(images, "CACHE", image_cache)
    harbor.forget_builds()            # builds remembered by an earlier test name another cache's layers
    yield
    harbor.forget_builds()
