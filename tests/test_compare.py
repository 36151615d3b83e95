"""compare.py, the paper in miniature: a smoke run of the whole pipeline (explorer transcripts, a tiny
agent, two arms x two seeds of one step, the held-out measures and the pre-registered verdicts)."""
import json
import math
import re
import statistics

import compare
import explore
import harbor
import model as M


def test_comparison_smoke_run_writes_tables_verdicts_and_plot(tmp_path):
    transcripts = tmp_path / "transcripts.jsonl"
    explore.record(harbor.load_tasks(compare.TRAIN)[:2], range(0, 2), transcripts, noise=0.3, workers=2,
                   system_prompt=compare.PROMPT, log=lambda m: None)
    small = dict(compare.TINY, hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                 num_key_value_heads=1, head_dim=16)  # the shipped shape is compare.TINY; this one is for speed
    compare.init_agent(str(transcripts), 0, str(tmp_path / "agent"), small)
    assert M.load(tmp_path / "agent")[0].config.num_hidden_layers == 1
    assert (tmp_path / "agent" / "system_prompt.txt").read_text().strip() == compare.PROMPT
    # lr 0.5 so that one step moves the two seeds apart: every CI has a width to check
    compare.main(["run", "--agent", str(tmp_path / "agent"), "--out", str(tmp_path / "out"), "--arms", "grpo,echo",
                  "--seeds", "0,1", "--side-seeds", "0", "--steps", "1", "--tasks-per-step", "1", "--n", "2",
                  "--max-turns", "1", "--max-turn-tokens", "8", "-k", "1", "--max-tasks", "2", "--instances", "1",
                  "--lr", "0.5"])
    result = json.loads((tmp_path / "out" / "compare.json").read_text())
    assert set(result["runs"]) == {"grpo-seed0", "echo-seed0", "grpo-seed1", "echo-seed1"}
    for r in result["runs"].values():
        assert len(r["reward"]) == 1 and len(r["jobs"]) == 2
        assert r["env_ce"]["all"]["tokens"] == sum(r["env_ce"][k]["tokens"] for k in compare.SEGMENTS) > 0
        assert r["env_ce"]["output"]["tokens"] > 0 and r["env_ce"]["all"]["t1"] > 0
    assert result["unigram"]["all"]["t1"] > 0
    svg = (tmp_path / "out" / "compare.svg").read_text()
    assert svg.startswith("<svg") and svg.count("<polyline") == 4 and svg.count("<polygon") == 4  # 2 arms x 2 panels

    # the claims table: the effect is the mean of the paired per-seed differences, its CI the t-interval
    md = (tmp_path / "out" / "compare.md").read_text()
    runs = result["runs"]
    diffs = [runs[f"grpo-seed{s}"]["env_ce"]["output"]["t1"] - runs[f"echo-seed{s}"]["env_ce"]["output"]["t1"]
             for s in (0, 1)]
    m = statistics.mean(diffs)
    half = 12.706 * statistics.stdev(diffs) / math.sqrt(2)
    row = next(line for line in md.splitlines() if line.startswith("| ECHO lowers env CE"))
    shown = [float(x) for x in re.findall(r"-?\d+\.\d+", row.split("|")[3])]
    assert shown == [round(m, 3), round(m - half, 3), round(m + half, 3)]
    lo, hi = m - half, m + half
    want = "supported" if lo > 0 else "refuted (the opposite holds)" if hi < 0 else \
        "refuted at this scale" if -0.03 <= lo and hi <= 0.03 else "inconclusive"
    assert row.split("|")[4].strip() == want
    assert "| Too large a λ" in md and "not run" in md  # no echo-0.2 arm in this run
