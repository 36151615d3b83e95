"""A separate verifier's artifacts are staged on the host within ONE budget per verify that charges every
entry its disk cost, on the verifier's clock, in a directory the next start reaps (rt15b p01, p02, p08,
p09, p15): empty directories cost 0 bytes of the cap before (75,000 of them were 300 MB on the host), the
copy had no clock, and a killed trainer's stage stayed in /tmp. Exclude globs are capped at load (p14)."""
import time

import pytest

import harbor
import sandbox
from harbor import TaskError, load_task, start_task
from test_harbor_verifier import make_task

TOML = 'artifacts = ["/out"]\n[verifier]\nenvironment_mode = "separate"\ntimeout_sec = 30\n'


def test_copy_out_charges_every_entry_against_the_byte_cap(tmp_path):
    with sandbox.Sandbox() as sb:
        assert sb.run("mkdir -p /tmp/d && cd /tmp/d && mkdir $(seq 1 300)").exit_code == 0
        with pytest.raises(sandbox.CopyLimitError, match="an entry besides its data"):
            sb.copy_out("/tmp/d", tmp_path / "d", 300 * sandbox.ENTRY_BYTES)
        assert sb.copy_out("/tmp/d", tmp_path / "e", 302 * sandbox.ENTRY_BYTES) == 301 * sandbox.ENTRY_BYTES


def test_copy_out_stops_at_its_deadline(tmp_path):
    with sandbox.Sandbox() as sb:
        assert sb.run("mkdir -p /tmp/d && touch /tmp/d/a /tmp/d/b").exit_code == 0
        with pytest.raises(sandbox.CopyLimitError, match="past the verifier's timeout"):
            sb.copy_out("/tmp/d", tmp_path / "d", 1 << 20, deadline=time.monotonic() - 1)


def test_the_artifacts_are_staged_where_the_next_start_reaps_them(tmp_path, monkeypatch):
    stages = []
    scratch = sandbox.scratch_dir
    monkeypatch.setattr(sandbox, "scratch_dir", lambda: stages.append(scratch()) or stages[-1])
    task = load_task(make_task(tmp_path, toml=TOML, test_sh="echo 1 > /logs/verifier/reward.txt\n"))
    with start_task(task) as env:
        env.run("mkdir -p /out && echo x > /out/a")
        assert env.verify() == (1.0, "")
    assert any(s.parent == sandbox.STATE_DIR for s in stages) and not any(s.exists() for s in stages)


def test_too_many_exclude_patterns_fail_the_load(tmp_path):
    globs = ", ".join(f'"p{i}*"' for i in range(harbor.MAX_EXCLUDES + 1))
    toml = (f'artifacts = [{{source = "/out", exclude = [{globs}]}}]\n'
            '[verifier]\nenvironment_mode = "separate"\n')
    with pytest.raises(TaskError, match=r"artifacts\[0\].exclude: over 64 patterns"):
        load_task(make_task(tmp_path, toml=toml))
