"""echo.py as a command: bad flags and bad inputs are one line naming the fault (exit 2), a failed run leaves
no directory behind, a run directory is never mixed with another run, and Ctrl-C keeps the work."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["--tasks-per-step", "1", "--n", "2", "--max-turns", "1", "--max-turn-tokens", "8"]
# The runs below share the machine's cores with each other: one torch thread each, so that two of them do not
# fight over the same 2 cores with 2 threads apiece (what echo.py does is the same with any number)
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def echo(*args, env=ENV):
    return subprocess.run([sys.executable, str(ROOT / "echo.py"), *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, env=env)


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


# A bad input fails before any episode: in this process, through the command's own wrapper (errors.guard,
# as `python echo.py` runs main), with what it printed on stderr. As commands, 7 runs each importing torch
# again took ~20 s of a loaded suite; the runs below the fixture show that the command line itself works.

def in_process(*args, capsys) -> subprocess.CompletedProcess:
    """echo.py's main(args) as the command runs it: its exit code and stderr (the trainer's global switch,
    sandbox.ALLOW_NO_CGROUP, which train() sets from the flags, restored after)."""
    import echo as E
    import sandbox
    from errors import guard
    allow = sandbox.ALLOW_NO_CGROUP
    capsys.readouterr()
    try:
        code = guard("echo.py", E.main, [str(a) for a in args])
    finally:
        sandbox.ALLOW_NO_CGROUP = allow
    out = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, out.out, out.err)


def test_bad_inputs_are_one_line_naming_the_file_and_leave_no_run_directory(tmp_path, capsys):
    d = tmp_path
    sft = d / "demos.jsonl"
    sft.write_text('{"messages": []}\n{"messages": []}\n{"messages": [\n')
    r = {"no tasks": in_process("--tasks", d / "nothing", "--out", d / "run1", capsys=capsys),
         "bad sft": in_process("--sft", sft, "--out", d / "run2", capsys=capsys),
         "no resume": in_process("--resume", d / "none", "--out", d / "run3", capsys=capsys),
         "bad out": in_process("--out", "/proc/echo-run", capsys=capsys)}
    assert one_line_error(r["no tasks"]) == f"echo.py: error: no tasks in {d / 'nothing'}: expected " \
                                            "subdirectories with a task.toml"
    sft = d / "demos.jsonl"
    assert one_line_error(r["bad sft"]).startswith(f"echo.py: error: {sft}:3: not a JSON record")
    assert one_line_error(r["no resume"]) == \
        f"echo.py: error: --resume {d / 'none'}: no trainer.pt (want a run directory or one of its " \
        "step-N checkpoints)"
    assert not any((d / f"run{i}").exists() for i in (1, 2, 3))
    assert one_line_error(r["bad out"]) == \
        "echo.py: error: --out /proc/echo-run: cannot write there (No such file or directory)"


def test_a_truncated_checkpoint_names_its_file(tmp_path, capsys):
    d = tmp_path
    model = d / "model"
    shutil.copytree(ROOT / "agent/tiny", model)
    data = (model / "model.safetensors").read_bytes()
    (model / "model.safetensors").write_bytes(data[:1000])
    r = in_process("--model", model, "--out", d / "run", *SMALL, capsys=capsys)
    line = one_line_error(r)
    assert line.startswith(f"echo.py: error: {model / 'model.safetensors'}: not a readable safetensors file")
    assert not (d / "run").exists()


def held_run(out: Path) -> Path:
    """A directory holding a run of 3 steps, as far as prepare_out looks: it reads the names only
    (metrics.jsonl, latest, step-*, episodes*), so no step is trained to make one (a real run's names: the
    runs below)."""
    (out / "step-3").mkdir(parents=True)
    (out / "step-3" / "trainer.pt").write_bytes(b"old")
    (out / "latest").write_text("step-3")
    (out / "metrics.jsonl").write_text('{"step": 1}\n{"step": 2}\n{"step": 3}\n')
    return out


def test_a_run_directory_holding_a_run_is_refused_unless_resume_or_overwrite(tmp_path, capsys):
    # refused before any episode, so in this process (a command imports torch anew); --overwrite starting
    # over is test_overwrite_starts_over below, --resume continuing is test_ctrl_c_..., both real runs
    again = held_run(tmp_path / "again")
    assert one_line_error(in_process(*SMALL, "--steps", "1", "--out", again, capsys=capsys)) == \
        f"echo.py: error: --out {again} already holds a run (latest, metrics.jsonl, step-3); " \
        f"--resume {again} continues it, --overwrite starts over"
    assert (again / "step-3" / "trainer.pt").read_bytes() == b"old"      # and left as it was


# Each test below runs the command (5-20 s a run, mostly on one core), so the module starts every test's
# runs at once, 2 at a time, and a test waits only for its own: its runs are the function just above it,
# which returns what the test checks (and fails that test alone if it raises).

@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """runs(f) -> (its directory, f(its directory)): every job below started when the first test asks;
    2 at a time (~400 MB each)."""
    base = tmp_path_factory.mktemp("runs")
    jobs = (interrupted_runs, overwritten_runs)
    with ThreadPoolExecutor(2) as pool:
        started = {}
        for job in jobs:
            (base / job.__name__).mkdir()
            started[job] = pool.submit(job, base / job.__name__)
        yield lambda job: (base / job.__name__, started[job].result())


def overwritten_runs(d: Path) -> dict:
    """A run of 2 steps stopped after the first, with --overwrite in a directory holding a run of 3 steps
    (one run: it was a run, a copy of it, and the copy run again with --overwrite)."""
    return {"overwrite": echo(*SMALL, "--steps", "2", "--stop-after", "1", "--out", held_run(d / "run"),
                              "--overwrite")}


def test_overwrite_starts_over(runs):
    d, r = runs(overwritten_runs)
    out = d / "run"
    assert r["overwrite"].returncode == 0, r["overwrite"].stderr
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 1      # started over, not appended
    assert not (out / "step-3").exists() and (out / "latest").read_text() == "step-1"


def test_the_demo_saves_every_step(runs):
    d, r = runs(overwritten_runs)
    assert r["overwrite"].returncode == 0, r["overwrite"].stderr
    assert (d / "run" / "step-1" / "trainer.pt").exists()   # so --stop-after 1 leaves a resumable run


def interrupted_runs(d: Path) -> dict:
    """A run of 50 steps sent SIGINT once step 1 is done, then resumed for one step more."""
    out = d / "run"
    proc = subprocess.Popen([sys.executable, str(ROOT / "echo.py"), *SMALL, "--steps", "50", "--save-every",
                             "50", "--out", str(out)], cwd=ROOT, env=ENV, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # step 1 is done when its line is in metrics.jsonl; the run shares the cores with the others here, so
        # a step may take longer than alone: wait for the file (or the run's end), not a fixed time
        deadline = time.monotonic() + 300
        while not (out / "metrics.jsonl").exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=300)
    finally:
        proc.kill()                           # (only if it is still running: a test never leaves it behind)
    r = {"rc": proc.returncode, "stdout": stdout, "stderr": stderr}
    if proc.returncode == 0:
        r["steps"] = steps = len((out / "metrics.jsonl").read_text().splitlines())
        if (out / f"step-{steps}/trainer.pt").exists():
            r["args"] = json.loads((out / f"step-{steps}/args.json").read_text())
            r["resumed"] = echo("--resume", out, "--out", out, "--stop-after", str(steps + 1))
    return r


def test_ctrl_c_finishes_the_step_and_leaves_a_resumable_checkpoint(runs):
    d, r = runs(interrupted_runs)
    out = d / "run"
    assert r["rc"] == 0, r["stderr"]
    steps = r["steps"]
    assert f"stopped by SIGINT after step {steps}" in r["stdout"]
    assert (out / f"step-{steps}/trainer.pt").exists()
    assert r["args"]["steps"] == 50
    assert r["resumed"].returncode == 0, r["resumed"].stderr
    assert len((out / "metrics.jsonl").read_text().splitlines()) == steps + 1


def test_debug_shows_the_traceback(tmp_path, capsys, monkeypatch):
    # guard lets the error through (a command prints its traceback and exits 1), with the flag or the variable
    import errors
    with pytest.raises(errors.EchoError) as flag:
        in_process("--tasks", tmp_path / "nothing", "--out", tmp_path / "run", "--debug", capsys=capsys)
    assert type(flag.value).__name__ == "MissingError"
    monkeypatch.setenv("ECHO_DEBUG", "1")
    with pytest.raises(errors.EchoError):
        in_process("--tasks", tmp_path / "x", "--out", tmp_path / "run2", capsys=capsys)
