"""eval.py and compare.py as commands: a bad flag or input file is one line naming it (exit 2), compare.py
will not overwrite results, and an episode whose sandbox could not be started twice (start_task's one retry) is
an infrastructure error, apart from the agent's failures and from a task whose own build fails."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import eval as ev
import harbor
import sandbox
import model as M
import rollout as R
from test_rollout import TOK, task  # noqa: F401  (task is a fixture)

REPO = Path(__file__).resolve().parents[1]


def command(*argv):
    """(exit code, last line of stderr) of `python argv...` run in the repository."""
    p = subprocess.run([sys.executable, *argv], cwd=REPO, capture_output=True, text=True)
    return p.returncode, (p.stderr.strip().splitlines() or [""])[-1]


@pytest.mark.parametrize("flags, line", [
    (["-k", "0"], "argument -k: must be an integer >= 1, got '0'"),
    (["--top-p", "1.5"], "argument --top-p: must be a number > 0 and <= 1, got '1.5'"),
    (["--seeds", "5-3"], "argument --seeds: must be A-B with integers 0 <= A <= B, got '5-3'"),
    (["--tasks", "no/such/dir"], "argument --tasks: no such directory: 'no/such/dir'"),
])
def test_a_bad_flag_is_one_line_naming_flag_value_and_range(flags, line, capsys, monkeypatch):
    # argparse refuses it before anything runs: in this process (the other tests here run the commands)
    monkeypatch.setattr(sys, "argv", ["eval.py"])
    monkeypatch.chdir(REPO)
    with pytest.raises(SystemExit) as e:
        ev.main(["--agent", "oracle", *flags])
    lines = capsys.readouterr().err.strip().splitlines()
    assert (e.value.code, lines[-1]) == (2, f"eval.py: error: {line}"), lines


def in_process(argv, capsys, monkeypatch):
    """(exit code, last line of stderr) of eval.py's main(argv) as the command runs it (errors.guard), in this
    process: a command costs a torch import (~2.5 s), which one case below still pays to show the CLI's."""
    from errors import guard
    monkeypatch.chdir(REPO)
    capsys.readouterr()
    code = guard("eval.py", ev.main, argv)
    return code, (capsys.readouterr().err.strip().splitlines() or [""])[-1]


@pytest.mark.parametrize("bad, why, how", [
    ('{"messages": [oops', "not a JSON record (Expecting value, column 15)", "in process"),
    ('{"task": "x"}',
     'not an episode: expected a record with "messages", a list of {"role", "content"} strings', "command"),
])
def test_a_bad_episodes_line_names_the_file_and_line(tmp_path, bad, why, how, capsys, monkeypatch):
    good = (REPO / "results" / "heldout-episodes.jsonl").read_text().splitlines()[0]
    path = tmp_path / "episodes.jsonl"
    path.write_text(f"{good}\n\n{bad}\n")    # the blank line counts: the bad record is on line 3
    argv = ["--env-ce", str(path), "--model", "agent/tiny"]
    got = command("eval.py", *argv) if how == "command" else in_process(argv, capsys, monkeypatch)
    assert got == (2, f"eval.py: error: {path}:3: {why}")


def test_compare_run_refuses_an_out_that_holds_results(tmp_path):
    (tmp_path / "compare.json").write_text("{}")
    assert command("compare.py", "run", "--out", str(tmp_path)) == (
        2, f"compare.py: error: --out {tmp_path} already holds results (compare.json); "
           "--overwrite replaces it, or choose another --out")
    assert [p.name for p in tmp_path.iterdir()] == ["compare.json"]       # nothing written, nothing deleted
    assert (tmp_path / "compare.json").read_text() == "{}"


def broken_task(tmp_path, name, **files):
    """A copy of a built-in task with some of its files replaced."""
    d = tmp_path / name
    shutil.copytree(REPO / "tasks" / "train" / "archive-count-csv", d)
    for rel, text in files.items():
        (d / rel).write_text(text)
    return harbor.load_task(d)


@pytest.fixture
def starts(monkeypatch):
    """The calls to harbor.start_task, by task name."""
    calls, start = [], harbor.start_task

    def counted(t, *args, **kwargs):
        calls.append(t.name)
        return start(t, *args, **kwargs)
    monkeypatch.setattr(harbor, "start_task", counted)
    return calls


def test_a_broken_dockerfile_is_the_tasks_error_and_not_retried(tmp_path, starts):
    dockerfile = (REPO / "tasks/train/archive-count-csv/environment/Dockerfile").read_text() + "RUN exit 3\n"
    bad = broken_task(tmp_path, "broken-setup", **{"environment/Dockerfile": dockerfile})
    lines = []
    rec = ev.evaluate([bad], ev.oracle, log=lines.append)["broken-setup"]
    assert starts == ["broken-setup"]                                     # a failed build fails again
    assert rec["reward"] == 0.0 and rec["error"].startswith("SetupError: task 'broken-setup': ")
    assert rec["outcome"] == harbor.Outcome.SETUP_TASK
    assert (rec["infrastructure_errors"], rec["verifier_errors"]) == (0, 0)
    assert ev.summarize({"broken-setup": rec})["errors"] == 1


def test_a_sandbox_that_fails_to_start_twice_is_an_infrastructure_error(tmp_path, monkeypatch):
    task = broken_task(tmp_path, "machine-down")

    def down(self):
        raise sandbox.SandboxError("sandbox failed to start: no output within 30 s")
    monkeypatch.setattr(sandbox.Sandbox, "__enter__", down)
    lines = []
    rec = ev.evaluate([task], ev.oracle, log=lines.append)["machine-down"]
    assert rec["outcome"] == harbor.Outcome.SETUP_MACHINE and rec["infrastructure_errors"] == 1
    assert lines[-1].endswith("; infrastructure error: setup failed (machine)) | pass so far 0.000")


def test_setup_that_fails_once_is_started_again(tmp_path, monkeypatch):
    flaky = broken_task(tmp_path, "flaky-setup")
    real, calls = sandbox.Sandbox.__enter__, []

    def once_failing(self):
        calls.append(1)
        if len(calls) == 1:
            raise sandbox.SandboxError("sandbox failed to start: the machine hiccuped")
        return real(self)
    monkeypatch.setattr(sandbox.Sandbox, "__enter__", once_failing)
    rec = ev.evaluate([flaky], ev.oracle, log=lambda line: None)["flaky-setup"]
    assert (rec["reward"], len(calls), rec["infrastructure_errors"]) == (1.0, 2, 0)


def test_verifier_error_is_counted_apart_and_not_retried(tmp_path, starts):
    bad = broken_task(tmp_path, "broken-verifier", **{"tests/test.sh": "no-such-test-runner\n"})
    results = ev.evaluate([bad, broken_task(tmp_path, "fine")], ev.oracle, workers=2, log=lambda line: None)
    # broken-verifier's second start is harbor.verify's control run without the agent (a runner missing is
    # the task's only if it is missing there too: rt13b p16), not a retry of the episode
    assert sorted(starts) == ["broken-verifier", "broken-verifier", "fine"]
    assert results["broken-verifier"]["verifier_errors"] == 1 and results["fine"]["reward"] == 1.0
    assert ev.summarize(results) == {"pass_at_1": 0.5, "reward_mean": 0.5, "n_tasks": 2, "infrastructure_errors": 0,
                                     "verifier_errors": 1, "errors": 0}


def test_model_attempts_whose_build_fails_are_not_replayed(tmp_path, task, monkeypatch):  # noqa: F811
    bad = broken_task(tmp_path, "broken-setup", **{"environment/Dockerfile": "RUN exit 3\n"})
    batches, run_episodes = [], R.run_episodes

    def counted(model, tok, jobs, n, *args, **kwargs):
        batches.append((len(jobs), n))
        return run_episodes(model, tok, jobs, n, *args, **kwargs)
    monkeypatch.setattr(R, "run_episodes", counted)
    c = M.Qwen3Config(vocab_size=TOK.vocab_size, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                      num_attention_heads=2, num_key_value_heads=1, head_dim=16, tie_word_embeddings=True)
    model = M.init_weights(M.Qwen3(c), 0).eval()
    res = ev.evaluate_model(model, TOK, [bad, task], k=2, seed=0, log=lambda line: None,
                            limits=R.Limits(max_turns=1, max_turn_tokens=4))
    assert batches == [(2, 2)]              # both tasks x 2 attempts, nothing replayed
    assert res["broken-setup"]["infrastructure_errors"] == 0 and "SetupError" in res["broken-setup"]["error"]
    assert res[task.name]["infrastructure_errors"] == 0
    assert ev.summarize(res)["infrastructure_errors"] == 0
