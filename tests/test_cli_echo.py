"""echo.py as a command: bad flags and bad inputs are one line naming the fault (exit 2), a failed run leaves
no directory behind, a run directory is never mixed with another run, and Ctrl-C keeps the work."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["--tasks-per-step", "1", "--n", "2", "--max-turns", "1", "--max-turn-tokens", "8"]


def echo(*args, cwd=ROOT):
    return subprocess.run([sys.executable, str(ROOT / "echo.py"), *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def one_line_error(r) -> str:
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) >= 1 and "Traceback" not in r.stderr, r.stderr
    return lines[-1]


@pytest.mark.parametrize("flag, value, want", [
    ("--lam", "-1", "argument --lam: must be a number >= 0, got '-1'"),
    ("--temperature", "0", "argument --temperature: must be a number > 0, got '0'"),
    ("--steps", "-1", "argument --steps: must be an integer >= 1, got '-1'"),
    ("--n", "0", "argument --n/--group-size: must be an integer >= 1, got '0'"),
    ("--top-p", "1.5", "argument --top-p: must be a number > 0 and <= 1, got '1.5'"),
    ("--lr", "nan", "argument --lr: must be a number > 0, got 'nan'"),
])
def test_a_bad_flag_is_one_line_naming_flag_value_and_range(flag, value, want, capsys, monkeypatch):
    # argparse refuses it before anything runs: in this process, as the command's own argv[0] would name it
    # (the other tests here run the command itself)
    import echo as E
    monkeypatch.setattr(sys, "argv", ["echo.py"])
    with pytest.raises(SystemExit) as e:
        E.main([flag, value])
    lines = capsys.readouterr().err.strip().splitlines()
    assert e.value.code == 2 and lines[-1] == f"echo.py: error: {want}", lines


def test_bad_inputs_are_one_line_naming_the_file_and_leave_no_run_directory(tmp_path):
    out = tmp_path / "run"
    r = echo("--tasks", tmp_path / "nothing", "--out", out)
    assert one_line_error(r) == f"echo.py: error: no tasks in {tmp_path / 'nothing'}: expected subdirectories " \
                                "with a task.toml"
    assert not out.exists()
    sft = tmp_path / "demos.jsonl"
    sft.write_text('{"messages": []}\n{"messages": []}\n{"messages": [\n')
    assert one_line_error(echo("--sft", sft, "--out", out)).startswith(f"echo.py: error: {sft}:3: not a JSON record")
    assert not out.exists()
    assert one_line_error(echo("--resume", tmp_path / "none", "--out", out)) == \
        f"echo.py: error: --resume {tmp_path / 'none'}: no trainer.pt (want a run directory or one of its " \
        "step-N checkpoints)"
    assert one_line_error(echo("--out", "/proc/echo-run")) == \
        "echo.py: error: --out /proc/echo-run: cannot write there (No such file or directory)"


def test_a_truncated_checkpoint_names_its_file(tmp_path):
    model = tmp_path / "model"
    shutil.copytree(ROOT / "agent/tiny", model)
    data = (model / "model.safetensors").read_bytes()
    (model / "model.safetensors").write_bytes(data[:1000])
    line = one_line_error(echo("--model", model, "--out", tmp_path / "run", *SMALL))
    assert line.startswith(f"echo.py: error: {model / 'model.safetensors'}: not a readable safetensors file")
    assert not (tmp_path / "run").exists()


@pytest.fixture(scope="module")
def stopped(tmp_path_factory):
    """One run of 2 steps stopped after the first (each run of the command costs seconds: the tests below
    that need a run directory holding a run share this one, copied where they change it)."""
    out = tmp_path_factory.mktemp("stopped") / "run"
    r = echo(*SMALL, "--steps", "2", "--stop-after", "1", "--out", out)
    assert r.returncode == 0, r.stderr
    return out


def test_a_run_directory_holding_a_run_is_refused_unless_resume_or_overwrite(stopped, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(stopped, out)
    assert one_line_error(echo(*SMALL, "--steps", "1", "--out", out)) == \
        f"echo.py: error: --out {out} already holds a run (latest, metrics.jsonl, step-1); --resume {out} " \
        "continues it, --overwrite starts over"
    assert echo(*SMALL, "--steps", "1", "--out", out, "--overwrite").returncode == 0
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 1      # started over, not appended


def test_the_demo_saves_every_step(stopped):
    assert (stopped / "step-1" / "trainer.pt").exists()         # so --stop-after 1 leaves a resumable run


def test_ctrl_c_finishes_the_step_and_leaves_a_resumable_checkpoint(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, str(ROOT / "echo.py"), *SMALL, "--steps", "50", "--save-every",
                             "50", "--out", str(out)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.monotonic() + 120
    while not (out / "metrics.jsonl").exists() and time.monotonic() < deadline:  # step 1 is done
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    steps = len((out / "metrics.jsonl").read_text().splitlines())
    assert f"stopped by SIGINT after step {steps}" in stdout and (out / f"step-{steps}/trainer.pt").exists()
    assert json.loads((out / f"step-{steps}/args.json").read_text())["steps"] == 50
    r = echo("--resume", out, "--out", out, "--stop-after", str(steps + 1))
    assert r.returncode == 0, r.stderr
    assert len((out / "metrics.jsonl").read_text().splitlines()) == steps + 1


def test_debug_shows_the_traceback(tmp_path):
    r = echo("--tasks", tmp_path / "nothing", "--out", tmp_path / "run", "--debug")
    assert r.returncode == 1 and "Traceback" in r.stderr and "MissingError" in r.stderr
    env = {**os.environ, "ECHO_DEBUG": "1"}
    r = subprocess.run([sys.executable, str(ROOT / "echo.py"), "--tasks", str(tmp_path / "x"), "--out",
                        str(tmp_path / "run2")], cwd=ROOT,
                       capture_output=True, text=True, env=env, timeout=300)
    assert "Traceback" in r.stderr
