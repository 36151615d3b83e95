"""A sandbox's start clones its first process from the starter, an interpreter that imported sandbox_init
once (sandbox._starter_clone, sandbox_init.serve), instead of starting `python3 -I -S` for each: what the
starter holds never reaches a sandbox, and the child stays the caller's to wait for."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import sandbox  # noqa: E402
from sandbox import Sandbox  # noqa: E402


def interpreters(monkeypatch) -> list:
    """The argv of every sandbox_init interpreter Popen starts from now on."""
    started, popen = [], subprocess.Popen

    def counting(argv, *a, **kw):
        if any("sandbox_init" in str(x) for x in argv):
            started.append(argv)
        return popen(argv, *a, **kw)
    monkeypatch.setattr(subprocess, "Popen", counting)
    return started


def test_a_second_start_starts_no_interpreter(monkeypatch):
    with Sandbox() as sb:                      # the starter, where this process had none yet
        assert sb.run("echo hi").output == "hi\n"
    started = interpreters(monkeypatch)
    with Sandbox() as sb:
        assert sb.run("echo hi").output == "hi\n"
    assert started == []


def fd_links(pid: int) -> set[str]:
    """What a process's fds name; one that exits or closes an fd while they are read is read as far as
    it got (the agent's shell starts short-lived processes of its own)."""
    links = set()
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except FileNotFoundError:
        return links
    for n in names:
        try:
            links.add(os.readlink(f"/proc/{pid}/fd/{n}"))
        except FileNotFoundError:
            pass
    return links


def test_the_starter_socket_reaches_no_process_of_the_sandbox():
    with Sandbox() as sb:
        starter = sandbox._STARTER[1].pid
        links = {os.readlink(f"/proc/{starter}/fd/{n}") for n in os.listdir(f"/proc/{starter}/fd")}
        sockets = {link for link in links if link.startswith("socket:")}
        assert sockets                             # the starter's end of the caller's socket
        for pid in [sb._proc.pid, *sb.processes()]:
            assert not fd_links(pid) & sockets, pid


def test_the_child_keeps_only_its_stdio():
    # its fds after pid 1 started: what the starter received for it or for an earlier sandbox stays there
    with Sandbox(), Sandbox() as sb:
        assert sorted(map(int, os.listdir(f"/proc/{sb._proc.pid}/fd"))) == [0, 1, 2]


def test_the_child_is_reaped_at_close():
    with Sandbox() as sb:
        pid = sb._proc.pid
        assert os.getpid() == int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    assert not os.path.exists(f"/proc/{pid}")  # no zombie of ours left


def test_a_starter_that_died_is_started_again():
    with Sandbox() as sb:
        sb.run("true")
    sandbox._STARTER[1].kill()
    sandbox._STARTER[1].wait()
    with Sandbox() as sb:
        assert sb.run("echo hi").output == "hi\n"


def test_a_config_over_the_socket_says_so_and_the_starter_serves_on():
    # 400 kB of environment (a message the socket refuses): the config's fault, in one line, not a starter
    # killed and started again
    with Sandbox() as sb:
        sb.run("true")
    starter = sandbox._STARTER[1].pid
    with pytest.raises(sandbox.SandboxError, match="over what the starter's socket carries"):
        Sandbox(env={"X": "y" * 400_000}).__enter__()
    with Sandbox() as sb:
        assert sb.run("echo hi").output == "hi\n"
    assert sandbox._STARTER[1].pid == starter
