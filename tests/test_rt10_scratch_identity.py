"""rt10a p12: pid 1 knows the scratch mounts it bound at the start (/tmp, /var/tmp, ...) by identity, not by
path: with a directory above one renamed (/var on the host fallback), the mount would be neither copied nor
sealed and bound back live into the verifier's root, so the seal is refused (the agent's processes are then
killed) instead."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import sandbox  # noqa: E402


@pytest.fixture
def sb():
    with sandbox.Sandbox() as s:      # the host fallback: /var is a directory of the root tmpfs
        yield s


def test_a_renamed_parent_of_a_scratch_mount_refuses_the_seal(sb):
    assert sb.run("mv /var /var2 && mkdir /var && ln -s /var2/tmp /var/tmp").exit_code == 0
    assert sb.seal() is False
    assert "/var/tmp" in sb.seal_refused and "live" in sb.seal_refused


def test_ordinary_writes_in_scratch_places_still_seal(sb):
    # what an agent does there: files in /tmp and /var/tmp, a directory of its own, a service's socket
    r = sb.run("echo x > /var/tmp/f && mkdir -p /tmp/build/a && echo y > /tmp/build/a/b && "
               "python3 -c 'import socket; socket.socket(socket.AF_UNIX).bind(\"/tmp/s.sock\")'")
    assert r.exit_code == 0, r.output
    assert sb.seal() is True, sb.seal_refused
