"""The test session's real Debian base, made in a process of its own (tests/conftest.py starts it as the
session's tests are collected, and runs the tests that need it last):

    python tests/real_base.py MIRROR        # in the image cache $ECHO_CACHE

It makes the base as `python images.py debootstrap --name debian:bookworm --as 'ubuntu:*'` does and says
"ready" on stdout; then, while the session's other tests run, it builds into the same cache the layers the
real-image tests build on it, from their own Dockerfiles (apt's python3-pip and pip's pytest; redis and
supervisor): ~30 s of the mirror and dpkg that the first real-image test used to wait for. A test that
reaches one of them first waits for it on the cache's lock (one builder per key) and then finds it made,
as it finds it when another real-image module built it earlier in the session. A layer that fails to
build here is left to the test that builds it, which fails as it did before: nothing here is asserted.
"""
import os
import sys
import tempfile
import traceback
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]

import harbor  # noqa: E402
import images  # noqa: E402
import sandbox  # noqa: E402


def dockerfiles() -> dict[str, str]:
    """{what: Dockerfile} of the layers the real-image tests build on the base, read from the tests."""
    from test_agent_processes import REDIS_DOCKERFILE
    from test_reward_forgery import REAL_DOCKERFILE
    return {"python3-pip and pytest": REAL_DOCKERFILE, "redis and supervisor": REDIS_DOCKERFILE}


def build(text: str) -> None:
    """The layers of the Dockerfile `text` in the image cache (a task of its own around it)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t"
        for rel, body in {"task.toml": "", "instruction.md": "Warm the cache.\n", "tests/test.sh": "true\n",
                          "environment/Dockerfile": text}.items():
            (path / rel).parent.mkdir(parents=True, exist_ok=True)
            (path / rel).write_text(body)
        harbor.build_task(harbor.load_task(path), log=lambda m: None)


def main(mirror: str) -> int:
    sandbox.ALLOW_NO_CGROUP = os.environ.get("ECHO_ALLOW_NO_CGROUP") == "1"     # as the session's episodes
    ready = os.dup(1)                          # stdout says "ready" alone; all else goes to stderr (the log)
    os.dup2(2, 1)
    code = images.main(["debootstrap", "--suite", "bookworm", "--mirror", mirror, "--name", "debian:bookworm",
                        "--as", "ubuntu:*"])
    if code:
        return code
    os.write(ready, b"ready\n")
    os.close(ready)
    for what, text in dockerfiles().items():
        try:
            build(text)
        except Exception:  # noqa: BLE001 - the test that builds it says what is wrong, as before
            print(f"real_base.py: {what} not built here:", file=sys.stderr)
            traceback.print_exc()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
