"""A sandbox sees its own cgroup as the root of the hierarchy (a cgroup namespace of its own, as Docker's
default on cgroup v2): /proc/self/cgroup names neither the host's hierarchy nor the sandbox's cgroup
(rt18b p04: `4:memory:/.../echo-all/echo-s4b8e98778ebb`)."""
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from sandbox import Sandbox  # noqa: E402

pytestmark = pytest.mark.skipif(os.getuid() != 0, reason="a cgroup of its own needs the host's root here")


def test_a_sandbox_sees_its_cgroup_as_the_root():
    with Sandbox() as sb:
        if sb.cgroup is None:
            pytest.skip("no cgroup here")
        lines = sb.run("cat /proc/self/cgroup").output.splitlines()
        assert lines and all(line.rsplit(":", 1)[1] == "/" for line in lines), lines
