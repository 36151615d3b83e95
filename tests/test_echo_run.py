"""echo.py end to end on the built-in demo: a run interrupted and resumed gives the same metrics as an
uninterrupted one, and checkpoints are complete HF-layout directories."""
import json
import os
import shutil
from pathlib import Path

import pytest

import echo
import harbor
import runs
import model as M
from errors import EchoError

REPO = Path(__file__).resolve().parents[1]

SMALL = ["--tasks-per-step", "1", "--n", "2", "--max-turns", "2", "--max-turn-tokens", "12", "--seed", "5"]
TIMING = {"tokens_per_s", "rollout_s", "train_s"}


def metrics(run_dir):
    recs = [json.loads(line) for line in open(run_dir / "metrics.jsonl")]
    return [{k: v for k, v in r.items() if k not in TIMING} for r in recs]


def test_resume_repeats_the_uninterrupted_run(tmp_path):
    full, cut = tmp_path / "full", tmp_path / "cut"
    echo.main(SMALL + ["--out", str(full), "--steps", "3", "--save-every", "1"])
    echo.main(SMALL + ["--out", str(cut), "--steps", "3", "--save-every", "1", "--stop-after", "2"])
    assert (cut / "latest").read_text() == "step-2"
    echo.main(SMALL + ["--out", str(cut), "--steps", "3", "--save-every", "1", "--resume", str(cut)])
    a, b = metrics(full), metrics(cut)
    assert [r["step"] for r in b] == [1, 2, 3]
    assert a == b
    # fp32 on CPU: the sampler's log-probs are the training forward's at θ_old = θ (README "Sampler-trainer gap")
    assert all(r["n_gap_tokens"] > 0 and r["logp_gap_max"] < 1e-4 for r in a)
    m1, _ = M.load(full / "step-3")
    m2, _ = M.load(cut / "step-3")
    for (n, x), (_, y) in zip(m1.state_dict().items(), m2.state_dict().items()):
        assert (x == y).all(), n


def test_checkpoint_is_atomic_and_complete(tmp_path):
    echo.main(SMALL + ["--out", str(tmp_path), "--steps", "1"])
    names = sorted(p.name for p in (tmp_path / "step-1").iterdir())
    assert names == ["args.json", "config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "trainer.pt"]
    assert not list(tmp_path.glob(".tmp-*"))


def test_env_only_and_sft_modes_run(tmp_path):
    echo.main(SMALL + ["--out", str(tmp_path / "env"), "--steps", "1", "--env-only", "--min-valid-frac", "1.0"])
    rec = json.loads(open(tmp_path / "env" / "metrics.jsonl").readline())
    assert rec["grpo_loss"] == 0.0 and rec["lam"] == 0.05  # env-only keeps λ = 0.05, as the released code
    # the filter drops every rollout's env tokens here; a mean over no tokens is null in metrics.jsonl
    assert rec["n_env_tokens"] == 0 and rec["env_loss"] == 0.0 and rec["env_ce_t1"] is None
    demos = tmp_path / "demos.jsonl"
    demos.write_text(json.dumps({"messages": [
        {"role": "system", "content": "You are a terminal agent."}, {"role": "user", "content": "List files."},
        {"role": "assistant", "content": "<think>\nls\n</think>\n\n<tool_call>\n<function=done>\n</function>\n</tool_call>"}]}) + "\n")
    echo.main(SMALL + ["--out", str(tmp_path / "sft"), "--steps", "3", "--sft", str(demos)])
    recs = [json.loads(line) for line in open(tmp_path / "sft" / "metrics.jsonl")]
    assert recs[-1]["action_ce"] < recs[0]["action_ce"]  # demo lr 1e-3: the demonstration gets likelier


def test_a_run_whose_first_steps_all_fail_setup_stops_naming_the_first_error(tmp_path, capsys):
    tasks = tmp_path / "tasks"
    for name in ("count-lines", "sum-sizes"):
        shutil.copytree(REPO / "tasks/observe/train/count-errors", tasks / name)
        with open(tasks / name / "environment/Dockerfile", "a") as f:
            f.write("RUN exit 3\n")
    with pytest.raises(EchoError, match=r"stopped: every rollout of the first 2 steps failed setup; first: "
                                        r"sandbox setup error: SetupError: task '.*': line \d+: RUN 'exit 3' "
                                        r"failed \(exit 3\)"):
        echo.main(SMALL + ["--out", str(tmp_path / "run"), "--steps", "5", "--tasks", str(tasks)])
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("step ")]
    assert len([line for line in lines if " | " in line]) == 2          # two step lines, then the stop
    assert all("EVERY ROLLOUT FAILED SETUP (2)" in line for line in lines if " | " in line)
    assert len(metrics(tmp_path / "run")) == 2


def test_step_line_shows_a_mean_over_no_tokens_as_a_dash():
    rec = dict(step=2, reward_mean=0.5, pass_rate=1.0, loss=0.1, grpo_loss=0.1, env_loss=2.0, env_ce_t1=2.5,
               env_ce_ttrain=2.0, temperature=0.8, warning_ce=None, logp_gap_abs=2e-7, logp_gap_max=5e-7,
               logp_gap_kl=float("nan"), n_action_tokens=40, n_obs_tokens=30, format_error_rate=0.0,
               tokens_per_s=100.0, rollout_s=1.0, train_s=1.0, skipped="")
    line = runs.step_line(rec, 6)
    assert "warn-ce - |" in line and "env-ce 2.500 (T=1) 2.000 (T=0.8)" in line
    assert "gap |Δ| 2.0e-07 max 5.0e-07 kl - |" in line and "nan" not in line


def test_a_step_over_a_set_with_bad_tasks_trains_on_the_good_one(tmp_path, capsys, monkeypatch):
    # a task refused at load (a FIFO in its tests/) is one line; one whose tests/ cannot be copied in (2 GiB)
    # is a verifier error in each of its episodes; the step trains on the rest
    # task_facts reads tests/ for what it names up to HOME_SCAN_BYTES: 16 MiB of the big file's NULs through
    # its regexes were most of this test (50 of 54 s loaded); the file is over any budget, so a smaller one
    # gives the same facts
    monkeypatch.setattr(harbor, "HOME_SCAN_BYTES", 1 << 16)
    tasks = tmp_path / "tasks"
    for name in ("good", "fifo", "huge"):
        shutil.copytree(REPO / "tasks/observe/train/count-errors", tasks / name)
    os.mkfifo(tasks / "fifo" / "tests" / "pipe")
    with open(tasks / "huge" / "tests" / "big", "wb") as f:
        f.truncate(2 << 30)
    echo.main(SMALL + ["--out", str(tmp_path / "run"), "--steps", "1", "--tasks-per-step", "2",
                       "--tasks", str(tasks)])
    out, err = capsys.readouterr()
    assert len([line for line in err.splitlines() if "task 'fifo'" in line]) == 1
    (rec,) = metrics(tmp_path / "run")
    assert (rec["step"], rec["rollouts"], rec["setup_failed"]) == (1, 4, 0)    # good's 2 and huge's 2
