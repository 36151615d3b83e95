"""compare.py, the paper in miniature: a smoke run of the pipeline (1 step, 2 seeds, 2 held-out tasks)."""
import json
import re
import statistics

import pytest

import compare
import eval as ev
import model as M
import harbor


def test_comparison_smoke_run_writes_table_and_plot(tmp_path):
    demos = tmp_path / "demos.jsonl"
    ev.record_demos(harbor.load_tasks("tasks/train")[:2], "0-0", demos)
    small = dict(compare.TINY, hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                 num_key_value_heads=1, head_dim=16)  # the shipped shape is compare.TINY; this one is for speed
    compare.init_agent(str(demos), 0, str(tmp_path / "agent"), small)
    assert M.load(tmp_path / "agent")[0].config.num_hidden_layers == 1
    # two seeds, so that every sd has something to measure; lr 0.5 sends the echo arm's two seeds apart
    # in held-out env CE (at the default lr they agree to 3 decimals)
    compare.main(["run", "--agent", str(tmp_path / "agent"), "--out", str(tmp_path / "out"), "--arms", "grpo,echo",
                  "--seeds", "0,1", "--steps", "1", "--tasks-per-step", "1", "--n", "2", "--max-turns", "1",
                  "--max-turn-tokens", "8", "-k", "1", "--max-tasks", "2", "--lr", "0.5"])
    result = json.loads((tmp_path / "out" / "compare.json").read_text())
    assert set(result["runs"]) == {"grpo-seed0", "echo-seed0", "grpo-seed1", "echo-seed1"}
    assert all(len(r["reward"]) == 1 and r["heldout_env_ce"] > 0 for r in result["runs"].values())
    svg = (tmp_path / "out" / "compare.svg").read_text()
    assert svg.startswith("<svg") and svg.count("<polyline") == 4  # 2 arms x (reward, env CE)

    # each arm's row: "first → last ± sd" of the training curves (1 step: first = last = that step's
    # value), then "mean ± sd" of held-out pass@1 and env CE: the mean and the SAMPLE sd (n - 1) of the
    # per-seed values compare.json holds, to the table's 3 decimals
    md = (tmp_path / "out" / "compare.md").read_text()
    echo_ce = [r["heldout_env_ce"] for r in result["runs"].values() if r["arm"] == "echo"]
    assert abs(echo_ce[0] - echo_ce[1]) > 0.01  # else the sd below would be 0.000 either way
    for arm in ("grpo", "echo"):
        runs = [r for r in result["runs"].values() if r["arm"] == arm]
        row = next(line for line in md.splitlines() if line.startswith(f"| {arm} |"))
        shown = [float(x) for cell in row.split("|")[3:7] for x in re.findall(r"-?\d+\.\d+", cell)]
        want = []
        for values in ([r["reward"][0] for r in runs], [r["env_ce"][0] for r in runs]):
            want += [statistics.mean(values), statistics.mean(values), statistics.stdev(values)]
        for key in ("heldout_pass_at_1", "heldout_env_ce"):
            values = [r[key] for r in runs]
            want += [statistics.mean(values), statistics.stdev(values)]
        assert len(shown) == len(want) == 10, row
        assert shown == pytest.approx(want, abs=0.0005 + 1e-9), row  # printed to 3 decimals
