"""compare.py, the paper in miniature: a smoke run of the whole pipeline (1 step, 1 seed, 2 held-out tasks)."""
import json

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
    compare.main(["run", "--agent", str(tmp_path / "agent"), "--out", str(tmp_path / "out"), "--arms", "grpo,echo",
                  "--seeds", "0", "--steps", "1", "--tasks-per-step", "1", "--n", "2", "--max-turns", "1",
                  "--max-turn-tokens", "8", "-k", "1", "--max-tasks", "2"])
    result = json.loads((tmp_path / "out" / "compare.json").read_text())
    assert set(result["runs"]) == {"grpo-seed0", "echo-seed0"}
    assert all(len(r["reward"]) == 1 and r["heldout_env_ce"] > 0 for r in result["runs"].values())
    assert "| grpo |" in (tmp_path / "out" / "compare.md").read_text()
    svg = (tmp_path / "out" / "compare.svg").read_text()
    assert svg.startswith("<svg") and svg.count("<polyline") == 4  # 2 arms x (reward, env CE)
