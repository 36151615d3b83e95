"""The registered design of compare.py (README "The second comparison, pre-registered"), on synthetic
numbers: no training. The verdict rule and the power statement, worked by hand; the endpoints read the
right measures (fresh instances, not diluted by unseen families; GRPO at the calibration temperature for
the control); the audit catches an arm that did not train as registered; the first design's committed
results still render byte for byte."""
import json
import math
from pathlib import Path
from types import SimpleNamespace

import pytest

import compare as C

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("lo, hi, want", [
    (0.001, 0.05, "supported"),                 # excludes 0 on the claimed side
    (-0.08, -0.001, "the opposite holds"),
    (-0.029, 0.029, "refuted"),                 # the whole interval inside ±3 pp
    (-0.02, 0.031, "inconclusive"),             # one bound past the margin: not refuted
    (-0.0354, 0.0166, "inconclusive"),          # the first design's fresh-instance interval
])
def test_refuted_only_when_the_whole_interval_lies_within_the_margin(lo, hi, want):
    assert C.verdict2(lo, hi, 0.03) == want


def test_power_by_hand():
    # diffs 0.01 .. 0.04: mean 0.02, sd 0.0158114, n 5, t.975(4) = 2.776, t.80(4) = 0.941
    p = C.power([0.01, 0.03, 0.02, 0.00, 0.04])
    half = 2.776 * 0.0158114 / math.sqrt(5)
    assert p["excludes"] == pytest.approx(0.02 + half, abs=1e-6)
    assert p["mde80"] == pytest.approx((2.776 + 0.941) * 0.0158114 / math.sqrt(5), abs=1e-6)
    assert math.isnan(C.power([0.01])["excludes"])


def test_reward_auc_is_the_mean_over_the_steps_that_logged_one():
    assert C.auc([0.1, float("nan"), 0.3]) == pytest.approx(0.2)
    assert math.isnan(C.auc([]))


def ce(fresh_t1, fresh_tcal, unseen_t1=5.0, unseen_tcal=4.5):
    seg = lambda t1, tcal: {"output": {"t1": t1, "ttrain": t1 + 0.5, "tcal": tcal, "tokens": 10}}  # noqa: E731
    return {"fresh": seg(fresh_t1, fresh_tcal), "unseen": seg(unseen_t1, unseen_tcal)}


def synthetic_result():
    """5 seeds: ECHO beats GRPO by 5 pp on fresh instances, ties on unseen ones (where both score 0.1),
    and lowers env CE by 0.30 nats at T = 1, but GRPO read at T = 1/T_train is only 0.05 above it."""
    runs = {}
    for s in range(5):
        jitter = 0.01 * (s - 2)
        runs[f"grpo-seed{s}"] = dict(arm="grpo", seed=s, pass_at_1_fresh=0.40 + jitter, pass_at_1_unseen=0.1,
                                     reward=[0.2, 0.3, 0.4], env_ce_group=ce(3.00, 2.75 + jitter / 10), turns=4)
        runs[f"echo-seed{s}"] = dict(arm="echo", seed=s, pass_at_1_fresh=0.45 + jitter + 0.002 * s,
                                     pass_at_1_unseen=0.1, reward=[0.3, 0.4, 0.5],
                                     env_ce_group=ce(2.70, 2.5), turns=4)
    for s in range(3):
        runs[f"env-only-seed{s}"] = dict(arm="env-only", seed=s, pass_at_1_fresh=0.3, pass_at_1_unseen=0.1 + 0.01 * s,
                                         reward=[0.0], env_ce_group=ce(2.9, 2.8), turns=4)
    start = dict(pass_at_1_fresh=0.3, pass_at_1_unseen=0.1, reward=[], env_ce_group=ce(3.1, 2.8), turns=4)
    settings = dict(design=C.DESIGN, agent="agent/read", instances=8, eval_seed=100000, tasks=C.TRAIN,
                    heldout=C.HELDOUT, k=4, steps=3, tasks_per_step=4, n=4, lr=1e-4, temperature=0.8)
    return {"settings": settings, "start": start, "runs": runs}


def test_endpoints_read_fresh_instances_auc_and_the_calibrated_control():
    e = {x["endpoint"]: x for x in C.endpoints(synthetic_result())}
    assert e["primary"]["n"] == 5 and e["primary"]["mean"] == pytest.approx(0.054)   # fresh only: 0.05 + 0.002*2
    assert e["primary"]["verdict"] == "supported"
    assert e["sample efficiency"]["mean"] == pytest.approx(0.1)
    assert e["unseen families"]["mean"] == pytest.approx(0.0) and e["unseen families"]["verdict"] == "refuted"
    assert e["claim 2, fresh"]["mean"] == pytest.approx(0.30)
    assert e["claim 2, calibrated, fresh"]["mean"] == pytest.approx(0.05)   # GRPO at T = 1/T_train 2.75 − ECHO 2.70
    assert e["claim 3"]["verdict"] == "not run" and e["claim 3"]["n"] == 0
    assert e["claim 4"]["mean"] == pytest.approx(0.01) and e["claim 4"]["n"] == 3


def test_the_registered_table_shows_every_endpoint_with_its_power_and_verdict(tmp_path):
    result = synthetic_result()
    text = C.report_text(result)
    assert text == C.table2(result)
    for e in C.endpoints(result):
        line = next(x for x in text.splitlines() if x.startswith(f"| {e['endpoint']} |"))
        assert line.rstrip(" |").endswith(e["verdict"])
    assert "| primary | ECHO − GRPO: pass@1 on fresh instances of the training families | 5 | 5.4 [" in text


def test_the_first_design_s_results_still_render_byte_for_byte():
    result = json.loads((ROOT / "results/compare.json").read_text())
    assert "design" not in result["settings"]
    assert C.report_text(result) == (ROOT / "results/compare.md").read_text()


def args(**kw):
    base = dict(steps=2, tasks=C.TRAIN, heldout=C.HELDOUT, tasks_per_step=4, n=4, lr=1e-4, temperature=0.8,
                max_turns=8)
    return SimpleNamespace(**{**base, **kw})


def fake_run(tmp_path, arm, lam, rollouts, tasks, env_only, steps=2, seed=0):
    run = tmp_path / arm
    (run / f"step-{steps}").mkdir(parents=True)
    saved = dict(lam=lam, env_only=env_only, steps=steps, seed=seed, tasks=tasks, tasks_per_step=4, n=4, lr=1e-4,
                 temperature=0.8, max_turns=8)
    (run / f"step-{steps}" / "args.json").write_text(json.dumps(saved))
    (run / "metrics.jsonl").write_text("".join(json.dumps({"step": i + 1, "lam": lam, "rollouts": rollouts}) + "\n"
                                               for i in range(steps)))
    return run


def test_audit_passes_a_run_as_registered_and_names_what_differs():
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        ok = fake_run(d, "env-only", 0.05, 16, C.HELDOUT, True)
        assert C.audit_run(ok, "env-only", 0, args()) == []
        # the first design's env-only: 1 task x 4 rollouts a step, at λ 1
        bad = fake_run(d, "env-only-1", 1.0, 4, C.HELDOUT, True)
        problems = C.audit_run(bad, "env-only", 0, args())
        assert "lam: ran 1.0, registered 0.05" in problems
        assert "step 1: 4 rollouts, registered 4 tasks x 4" in problems and len(problems) == 5
        wrong_tasks = fake_run(d, "echo", 0.05, 16, C.HELDOUT, False)
        assert C.audit_run(wrong_tasks, "echo", 0, args()) == [
            f"tasks: ran {C.HELDOUT!r}, registered {C.TRAIN!r}"]


def test_run_s_defaults_are_the_registration(monkeypatch, tmp_path):
    """README "The second comparison": `compare.py run` with no flags but --out runs exactly the registered
    design (a change here is a change of the registration)."""
    got = {}
    monkeypatch.setattr(C, "run", lambda args: got.update(vars(args)))
    monkeypatch.setattr(C.ev, "checkpoint", lambda text: text)      # agent/read is built by build-agent
    C.main(["run", "--out", str(tmp_path)])
    assert {k: got[k] for k in ("agent", "tasks", "heldout", "arms", "seeds", "side_seeds", "steps",
                                "tasks_per_step", "n", "lr", "temperature", "max_turns", "max_turn_tokens",
                                "max_total", "max_output_chars", "k", "eval_seed", "instances")} == {
        "agent": "agent/read", "tasks": "tasks/read/train", "heldout": "tasks/read/heldout",
        "arms": "grpo,echo,echo-0.2,env-only", "seeds": "0,1,2,3,4", "side_seeds": "0,1,2", "steps": 40,
        "tasks_per_step": 4, "n": 4, "lr": 1e-4, "temperature": 0.8, "max_turns": 8, "max_turn_tokens": 96,
        "max_total": 2048, "max_output_chars": 2000, "k": 4, "eval_seed": 100000, "instances": 8}
    assert C.ARMS["env-only"][:3] == ["--env-only", "--lam", "0.05"] and C.PRIMARY_MARGIN == 0.03
