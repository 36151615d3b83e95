"""echo.py end to end on the built-in demo: a run interrupted and resumed gives the same metrics as an
uninterrupted one, and checkpoints are complete HF-layout directories."""
import json

import echo
import model as M

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
    m1, _ = M.load(full / "step-3")
    m2, _ = M.load(cut / "step-3")
    for (n, x), (_, y) in zip(m1.state_dict().items(), m2.state_dict().items()):
        assert (x == y).all(), n


def test_checkpoint_is_atomic_and_complete(tmp_path):
    echo.main(SMALL + ["--out", str(tmp_path), "--steps", "1"])
    names = sorted(p.name for p in (tmp_path / "step-1").iterdir())
    assert names == ["args.json", "config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "trainer.pt"]
    assert not list(tmp_path.glob(".tmp-*"))
