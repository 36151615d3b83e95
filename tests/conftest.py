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
    """An empty image cache for the session, searchable by the sandbox's root (host uid H), as pytest's
    own tmp directories are not."""
    import tempfile
    path = Path(tempfile.mkdtemp(prefix="echo-test-cache-"))
    path.chmod(0o755)
    yield path
    import sandbox
    sandbox.rmtree(path)


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
