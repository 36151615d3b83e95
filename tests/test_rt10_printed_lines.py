"""A line the trainer prints that quotes a task passes errors.one_line: a task's escape sequences never reach
its terminal raw (rt10b p34: a COPY destination of ESC sequences, quoted by the setup-retry line that
start_task printed with plain print, moved the cursor up and rewrote the trainer's last line)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import harbor  # noqa: E402

FORGED = "task 't': cannot copy /etc/x/\x1b[1A\x1b[2K\nstep_999_mean_reward_1.000\x1b[8m: File exists"


def _flaky_start(monkeypatch):
    """harbor._start failing once as the machine's fault, with the task's text in its message."""
    calls = []

    def start(*args):
        calls.append(args)
        if len(calls) == 1:
            raise harbor.SetupError(FORGED, infrastructure=True)
        return "env"
    monkeypatch.setattr(harbor, "_start", start)
    monkeypatch.setattr(harbor, "task_limits", lambda task, limits: limits)
    monkeypatch.setattr(harbor, "capped_clocks", lambda task, cap, log: task)


def test_the_setup_retry_line_is_printed_escaped_by_default(monkeypatch, capsys):
    _flaky_start(monkeypatch)
    assert harbor.start_task(None) == "env"
    out, err = capsys.readouterr()
    printed = out + err
    assert "starting it once more" in printed and printed.count("\n") == 1
    assert "\x1b" not in printed and "\\x1b[1A\\x1b[2K step_999" in printed


def test_a_callers_own_log_gets_the_retry_line_escaped(monkeypatch):
    _flaky_start(monkeypatch)
    heard = []
    harbor.start_task(None, log=heard.append)
    assert len(heard) == 1 and "\x1b" not in heard[0] and "\n" not in heard[0]
