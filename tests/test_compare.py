"""compare.py, the paper in miniature: the start's build (a micro agent through the real code path: its
build record and the masks the trainer used show that no env token of the comparison's families entered
it), and a smoke run of the whole pipeline (two arms x two seeds of one step, each audited against its
registration, the held-out measures and the verdicts)."""
import json
import math
import re
import statistics
from pathlib import Path
from types import SimpleNamespace

import pytest

import compare
import echo
import harbor
import model as M
import rollout as R
from errors import ConfigError, EchoError

SMALL = dict(compare.TINY, hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
             num_key_value_heads=1, head_dim=16)  # the real shape is compare.TINY; this one is for speed


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A micro start built by compare.build_agent (one instance per family, two steps per stage), with
    every batch the trainer built and every mask its SFT loss got recorded, tagged by stage."""
    tmp = tmp_path_factory.mktemp("build")
    calls, stage = [], {}
    real_main, real_batch, real_sft = echo.main, echo.batch_tensors, echo.sft_loss

    def main(argv):
        stage["now"] = argv[argv.index("--sft-tokens") + 1]
        return real_main(argv)

    def batch_tensors(rows, *a):
        out = real_batch(rows, *a)
        calls.append({"stage": stage["now"], "ids": out[0], "A": out[1], "E": out[2]})
        return out

    def sft_loss(logp, mask, n_rollouts=None):
        calls[-1]["mask"] = mask.detach().clone()
        return real_sft(logp, mask, n_rollouts)

    mp = pytest.MonkeyPatch()
    for name, f in (("main", main), ("batch_tensors", batch_tensors), ("sft_loss", sft_loss)):
        mp.setattr(echo, name, f)
    try:
        record = compare.build_agent(str(tmp / "agent"), 0, str(tmp / "work"), pretrain_steps=2, sft_steps=2,
                                     transcript_seeds=range(1), sft_seeds=range(1), config=SMALL)
    finally:
        mp.undo()
    return tmp / "agent", record, calls


def test_the_build_record_lists_its_token_sources_and_no_in_domain_env_token(built):
    agent, record, _ = built
    assert json.loads((agent / "build.json").read_text()) == record
    train = {t.name for t in harbor.load_tasks(compare.TRAIN)}
    ours = train | {t.name for t in harbor.load_tasks(compare.HELDOUT)}
    prior, sft = record["stages"]
    assert prior["stage"] == "general prior" and prior["tokens_trained"] == "all"
    assert prior["task_dirs"] == compare.PRIOR.split(",") and len(prior["families"]) == 13
    assert not set(prior["families"]) & ours and prior["tokens"]["trained"]["env"] > 0
    assert sft["stage"] == "action-only SFT" and set(sft["families"]) == train
    assert sft["tokens"]["trained"]["env"] == 0 < sft["tokens"]["seen"]["env"]
    assert sft["tokens"]["trained"]["action"] == sft["tokens"]["seen"]["action"] > 0
    assert record["env_token_families"] == sorted(prior["families"])
    assert compare.check_start(str(agent), [compare.TRAIN, compare.HELDOUT]) == record


def test_the_masks_the_trainer_used_hold_no_env_token_of_the_comparison_s_families(built):
    agent, _, calls = built
    tok = M.load(agent)[1]
    instructions = {t.name: t.instruction.strip() for d in (compare.TRAIN, compare.HELDOUT)
                    for t in harbor.load_tasks(d)}
    everything = [c for c in calls if c["stage"] == "all"]
    actions = [c for c in calls if c["stage"] == "action"]
    assert everything and actions
    for c in everything:      # every token trained: each row must be a transcript of another family
        for row in c["ids"].tolist():
            text = tok.decode(row)
            assert not [name for name, ins in instructions.items() if ins in text]
    for c in actions:         # action-only: the mask is the action mask, and touches no env token
        assert (c["mask"] == c["A"]).all() and (c["mask"] * c["E"]).sum() == 0 and c["E"].sum() > 0


def test_run_refuses_a_start_that_saw_its_families_env_tokens(built, tmp_path):
    agent, record, _ = built
    leaky = tmp_path / "leaky"
    leaky.mkdir()
    (leaky / "build.json").write_text(json.dumps({**record, "env_token_families": ["app-error"]}))
    with pytest.raises(ConfigError, match="trained the env tokens of app-error"):
        compare.check_start(str(leaky), [compare.TRAIN, compare.HELDOUT])
    with pytest.raises(ConfigError, match="no build.json"):
        compare.check_start(str(tmp_path), [compare.TRAIN])


def test_comparison_smoke_run_writes_tables_verdicts_and_plot(built, tmp_path, monkeypatch):
    agent = built[0]
    assert M.load(agent)[0].config.num_hidden_layers == 1
    assert (agent / "system_prompt.txt").read_text().strip() == compare.PROMPT
    # lr 0.5 so that one step moves the two seeds apart: every CI has a width to check
    argv = ["run", "--agent", str(agent), "--out", str(tmp_path / "out"), "--arms", "grpo,echo",
            "--seeds", "0,1", "--side-seeds", "0", "--steps", "1", "--tasks-per-step", "1", "--n", "2",
            "--max-turns", "1", "--max-turn-tokens", "8", "-k", "1", "--max-tasks", "2", "--instances", "1"]
    compare.main(argv + ["--lr", "0.5"])
    result = json.loads((tmp_path / "out" / "compare.json").read_text())
    assert set(result["runs"]) == {"grpo-seed0", "echo-seed0", "grpo-seed1", "echo-seed1"}
    for r in result["runs"].values():
        assert len(r["reward"]) == 1 and len(r["jobs"]) == 2
        assert r["env_ce"]["all"]["tokens"] == sum(r["env_ce"][k]["tokens"] for k in compare.SEGMENTS) > 0
        assert r["env_ce"]["output"]["tokens"] > 0 and r["env_ce"]["all"]["t1"] > 0
    assert result["unigram"]["all"]["t1"] > 0
    svg = (tmp_path / "out" / "compare.svg").read_text()
    assert svg.startswith("<svg") and svg.count("<polyline") == 4 and svg.count("<polygon") == 4  # 2 arms x 2 panels

    # each arm trained as registered (run() stops otherwise): echo.py's saved settings and per-step λ/rollouts
    assert result["settings"]["design"] == compare.DESIGN and result["build"]["stages"][1]["tokens"]["trained"]["env"] == 0
    for r in runs_of(result):
        assert r["audit"] == []

    # the endpoints table: the effect is the mean of the paired per-seed differences, its CI the t-interval
    md = (tmp_path / "out" / "compare.md").read_text()
    runs = result["runs"]
    out_ce = lambda r: r["env_ce_group"]["fresh"]["output"]["t1"]  # noqa: E731
    diffs = [out_ce(runs[f"grpo-seed{s}"]) - out_ce(runs[f"echo-seed{s}"]) for s in (0, 1)]
    m = statistics.mean(diffs)
    half = 12.706 * statistics.stdev(diffs) / math.sqrt(2)
    row = next(line for line in md.splitlines() if line.startswith("| claim 2, fresh |"))
    shown = [float(x) for x in re.findall(r"-?\d+\.\d+", row.split("|")[4])]
    assert shown == [round(m, 3), round(m - half, 3), round(m + half, 3)]
    assert row.split("|")[-2].strip() == compare.verdict2(m - half, m + half, 0.03)
    assert "| claim 3 |" in md and "not run" in md  # no echo-0.2 arm in this run

    # --resume, a run cut short: only the arms it had not finished train; never with other settings
    del result["runs"]["echo-seed1"]
    (tmp_path / "out" / "compare.json").write_text(json.dumps(result))
    trained, real_train = [], compare.train_arm
    monkeypatch.setattr(compare, "train_arm", lambda arm, seed, args: trained.append((arm, seed))
                        or real_train(arm, seed, args))
    compare.main(argv + ["--lr", "0.5", "--resume"])
    assert trained == [("echo", 1)]
    again = json.loads((tmp_path / "out" / "compare.json").read_text())
    assert set(again["runs"]) == {"grpo-seed0", "echo-seed0", "grpo-seed1", "echo-seed1"}
    assert again["start"] == result["start"]
    with pytest.raises(ConfigError, match=r"other settings \(lr\)"):
        compare.main(argv + ["--lr", "0.25", "--resume"])


def runs_of(result):
    return list(result["runs"].values())


def test_an_arm_stopped_before_its_last_step_is_one_line_naming_it(tmp_path, monkeypatch):
    # Ctrl-C/SIGTERM: echo.py saves the step it was on and returns; there is no final checkpoint to audit
    def stopped(argv):
        out = Path(argv[argv.index("--out") + 1])
        (out / "step-3").mkdir(parents=True)
    monkeypatch.setattr(compare.echo, "main", stopped)
    args = SimpleNamespace(out=str(tmp_path), heldout="h", tasks="t", agent="a", steps=40, tasks_per_step=4,
                           n=4, lr=1e-4, max_turns=8, max_turn_tokens=96, max_output_chars=2000, max_total=2048,
                           temperature=0.8)
    with pytest.raises(EchoError, match=r"^grpo seed 3 stopped before step 40; .*--resume"):
        compare.train_arm("grpo", 3, args)
