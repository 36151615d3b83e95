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


@pytest.fixture(scope="session")
def image_cache():
    """An empty image cache for the session (images.prepare_cache makes it root's, mode 0700: a sandbox
    reaches its layers only through the binds its child makes, sandbox._shelf)."""
    import tempfile
    path = Path(tempfile.mkdtemp(prefix="echo-test-cache-"))
    path.chmod(0o755)
    yield path
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


@pytest.fixture(scope="session")
def debian_base(image_cache):
    """The real Debian base (debootstrap bookworm, the stand-in for debian:bookworm and ubuntu:*) in the
    session's image cache, made once per session: it takes ~70 s, and test_images.py, test_agent_processes.py
    and test_reward_forgery.py all build on the same one (each made its own before, the same image thrice)."""
    why = base_unavailable()
    if why:
        print(f"\n\n*** SKIPPING the real-image tests: {why} ***\n", flush=True)
        pytest.skip(f"REAL IMAGE NOT TESTED: {why}")
    import images
    images.CACHE = image_cache                 # session scope: the autouse fixture only patches per test
    images.prepare_cache()
    return images.debootstrap("bookworm", MIRROR, ["debian:bookworm", "ubuntu:*"], python=False, extra=[],
                              log=lambda m: None, cache=image_cache)


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
