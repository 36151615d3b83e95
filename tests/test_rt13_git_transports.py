"""A git URL `<transport>::<address>` runs the program git-remote-<transport>, found on PATH or in git's
exec path, where an agent can put one; the agent's repository config can point the remote there with
url.<base>.insteadOf, a key that names no command (rt13a p14: test.sh's `git fetch` ran the agent's helper
as root). harbor.GIT_SAFE, the verifier's git settings, allows git's own transports only."""
import os
import subprocess

import harbor


def git(*args, cwd, env=None):
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)


def test_a_remote_helper_the_agent_named_never_runs(tmp_path):
    (tmp_path / "bin").mkdir()
    ran = tmp_path / "ran"
    helper = tmp_path / "bin" / "git-remote-evil"
    helper.write_text(f"#!/bin/sh\ntouch {ran}\nexit 1\n")
    helper.chmod(0o755)
    git("init", "-q", "--bare", str(tmp_path / "remote.git"), cwd=tmp_path)
    git("clone", "-q", str(tmp_path / "remote.git"), "repo", cwd=tmp_path)
    repo = tmp_path / "repo"
    git("config", f"url.evil::{tmp_path}.insteadOf", str(tmp_path), cwd=repo)
    env = {"PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}", "HOME": str(tmp_path)}
    git("fetch", "origin", cwd=repo, env=env)
    assert ran.exists()                          # the attack works without the verifier's settings
    ran.unlink()
    r = git("fetch", "origin", cwd=repo, env={**env, **harbor.GIT_SAFE})
    assert not ran.exists() and "not allowed" in r.stderr, r.stderr


def test_git_s_own_transports_still_fetch(tmp_path):
    git("init", "-q", "--bare", str(tmp_path / "remote.git"), cwd=tmp_path)
    git("clone", "-q", str(tmp_path / "remote.git"), "repo", cwd=tmp_path)
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), **harbor.GIT_SAFE}
    assert git("fetch", "origin", cwd=tmp_path / "repo", env=env).returncode == 0
    assert git("clone", "-q", f"file://{tmp_path / 'remote.git'}", "c2", cwd=tmp_path, env=env).returncode == 0
