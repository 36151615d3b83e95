"""The memory limit bounds swap too (rt14b p08: RAM only, memory+swap unlimited, so on a host with swap
an episode's memory was unbounded): the episode's cgroup, the cap of all sandboxes (ALL_CGROUP) and the
survivors' share at the seal (Cgroup.split) each carry swap's control beside RAM's (sandbox._memory_cap)."""
from pathlib import Path

import pytest

import sandbox
from sandbox import Limits, Sandbox


def swap_cap(d: Path) -> tuple[str, str]:
    """(RAM limit, swap limit) of cgroup directory d: v2 (memory.max, memory.swap.max), v1 (limit, memsw)."""
    if (d / "memory.max").exists():
        return (d / "memory.max").read_text().strip(), (d / "memory.swap.max").read_text().strip()
    return ((d / "memory.limit_in_bytes").read_text().strip(),
            (d / "memory.memsw.limit_in_bytes").read_text().strip())


@pytest.fixture
def box():
    with Sandbox(limits=Limits(memory_mb=300)) as sb:
        if sb.cgroup is None:
            pytest.skip("no cgroup on this machine")
        d = sb.cgroup.dirs.get("unified") or sb.cgroup.dirs["memory"]
        if not ((d / "memory.swap.max").exists() or (d / "memory.memsw.limit_in_bytes").exists()):
            pytest.skip("no swap accounting in this kernel's cgroups")
        yield sb, d


def test_an_episodes_memory_limit_bounds_swap_too(box):
    sb, d = box
    ram, swap = swap_cap(d)
    assert ram == str(300 << 20) and swap in ("0", ram)      # v2: no swap; v1: memory+swap = the limit


def test_the_cap_of_all_sandboxes_bounds_swap_too(box):
    sb, d = box
    ram, swap = swap_cap(d.parent)                           # ALL_CGROUP
    assert d.parent.name == sandbox.ALL_CGROUP and swap in ("0", ram)


def test_the_survivors_share_at_the_seal_bounds_swap_too(box):
    sb, d = box
    assert sb.cgroup.split({sb._proc.pid, sb._init_pid}) == ""
    ram, swap = swap_cap(d / sb.cgroup.AGENT)
    assert ram == str((300 << 20) // sb.cgroup.SURVIVOR_SHARE) and swap in ("0", ram)


def test_a_host_that_swaps_without_swap_control_refuses_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "_swap_on", lambda: True)
    (tmp_path / "memory.limit_in_bytes").write_text("0")
    with pytest.raises(OSError, match="memory.memsw.limit_in_bytes is missing"):
        sandbox._memory_cap(tmp_path, False, 1 << 20)
    (tmp_path / "memory.memsw.limit_in_bytes").write_text("0")
    sandbox._memory_cap(tmp_path, False, 1 << 20)
    assert (tmp_path / "memory.memsw.limit_in_bytes").read_text() == str(1 << 20)
