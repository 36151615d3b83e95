"""What an episode makes the machine do is charged to the episode (rt16b p01): the sandbox's pasta, which
carries its traffic, runs in the episode's cgroup beside pid 1 (before, in the trainer's: an agent at
cpus 0.05 had pasta burn several times its quota on its datagrams), and stays there, out of the survivors'
capped share, after the seal."""
import pytest

import sandbox

pytestmark = pytest.mark.skipif(not sandbox.network_available(), reason="needs pasta")


def cgroups(pid: int) -> set[str]:
    """The cgroup paths of a process in the hierarchies that hold a CPU limit (v2's, v1's cpu)."""
    return {line.split(":", 2)[2] for line in open(f"/proc/{pid}/cgroup").read().splitlines()
            if line.split(":", 2)[1] in ("", "cpu,cpuacct", "cpu")}


def test_pasta_runs_in_the_episodes_cgroup(tmp_path):
    with sandbox.Sandbox(network=True, limits=sandbox.Limits(keep_agent_processes=False)) as sb:
        [pasta] = sb._net
        assert cgroups(pasta) == cgroups(sb._init_pid)
        assert any(c.endswith(f"/echo-{sb.dir.name}") for c in cgroups(pasta))


def test_pasta_stays_beside_pid_1_after_the_seal(tmp_path):
    with sandbox.Sandbox(network=True) as sb:
        assert sb.seal(), sb.seal_refused
        [pasta] = sb._net
        assert cgroups(pasta) == cgroups(sb._init_pid)
