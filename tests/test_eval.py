"""eval.py: pass@k, the model agent's summary, and the env-token cross-entropy of saved episodes."""
import json

import pytest
import torch

import eval as ev
import harbor
import model as M
import rollout as R
from test_rollout import DONE, TOK, bash, run, task  # noqa: F401  (task is a fixture)
from test_rollout import FakeModel, ScriptedGenerator  # its scripted policy


@pytest.mark.parametrize("n, c, k, want", [
    (10, 0, 1, 0.0), (10, 10, 5, 1.0), (10, 3, 1, 0.3), (4, 2, 2, 1 - 1 / 6), (5, 4, 2, 1.0)])
def test_pass_at_k(n, c, k, want):
    assert ev.pass_at_k(n, c, k) == pytest.approx(want)


def test_pass_at_k_rejects_bad_counts():
    with pytest.raises(ValueError, match="pass_at_k needs 0 <= c <= n"):  # not math.comb's own ValueError
        ev.pass_at_k(3, 4, 1)


def test_attempts_summary_of_k_attempts():
    eps = [R.Episode("t", 0, [], [], [], reward=r, turns=t, completion_tokens=10 * t, timed_out=to)
           for r, t, to in [(1.0, 2, False), (0.0, 4, True), (0.0, 3, False), (1.0, 3, False)]]
    s = ev.attempts_summary(eps)
    assert (s["pass_at_1"], s["pass_at_4"], s["successes"]) == (0.5, 1.0, 2)
    assert (s["timeout_rate"], s["turns"], s["completion_tokens"]) == (0.25, 3.0, 30.0)


def test_pass_at_1_counts_reward_at_least_half_a_success_and_is_not_mean_reward():
    eps = [R.Episode("t", 0, [], [], [], reward=r) for r in (0.5, 0.4, 1.0, 0.0)]
    s = ev.attempts_summary(eps)
    assert (s["successes"], s["pass_at_1"], s["reward"]) == (2, 0.5, pytest.approx(0.475))
    summary = ev.summarize({"a": {**s, "error": None}, "b": {"reward": 0.6, "error": None}})  # b: one attempt
    assert summary["pass_at_1"] == pytest.approx((0.5 + 1.0) / 2)
    assert summary["reward_mean"] == pytest.approx((0.475 + 0.6) / 2)


def test_env_ce_is_the_mean_nll_of_env_tokens(monkeypatch, task):  # noqa: F811
    eps = run(monkeypatch, task, [[bash("echo hi > hello.txt"), bash("ls -la"), DONE]])
    c = M.Qwen3Config(vocab_size=TOK.vocab_size, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                      num_attention_heads=2, num_key_value_heads=1, head_dim=16, tie_word_embeddings=True)
    model = M.init_weights(M.Qwen3(c), 0).eval()
    got = ev.env_ce(model, TOK, [{"messages": e.messages} for e in eps])  # messages only: re-tokenized
    ids = torch.tensor(eps[0].ids)
    with torch.no_grad():
        nll = -torch.log_softmax(model(ids[None, :-1])[0], -1).gather(1, ids[1:, None]).squeeze(1)
    env = torch.tensor([r == R.ENV for r in eps[0].roles[1:]])
    assert got["env_tokens"] == int(env.sum()) > 0
    assert got["env_ce"] == pytest.approx(nll[env].mean().item(), rel=1e-5)
    with torch.no_grad():  # and at the training temperature, labelled as such
        nll_t = -torch.log_softmax(model(ids[None, :-1])[0] / 0.8, -1).gather(1, ids[1:, None]).squeeze(1)
    assert got["env_ce_ttrain"] == pytest.approx(nll_t[env].mean().item(), rel=1e-5)
    assert got["train_temperature"] == 0.8


def test_model_agent_end_to_end(tmp_path, task):  # noqa: F811
    """A real (random) model plays k attempts; each lands in the JSONL file, and the summary is theirs."""
    c = M.Qwen3Config(vocab_size=TOK.vocab_size, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                      num_attention_heads=2, num_key_value_heads=1, head_dim=16, tie_word_embeddings=True)
    model = M.init_weights(M.Qwen3(c), 0).eval()
    res = ev.evaluate_model(model, TOK, [task], k=2, seed=0, limits=R.Limits(max_turns=2, max_turn_tokens=8),
                            episodes_path=tmp_path / "e.jsonl")
    records = [json.loads(line) for line in open(tmp_path / "e.jsonl")]
    # random weights neither call done() nor write hello.txt: both attempts play 2 turns of 8 sampled tokens
    # (none of them <|im_end|>, with this seed), every one of them an ACTION token, and score 0
    assert [(r["task"], r["turns"], r["completion_tokens"], r["reward"]) for r in records] == [
        (task.name, 2, 16, 0.0)] * 2
    assert [sum(role == R.ACTION for role in r["roles"]) for r in records] == [16, 16]
    s = res[task.name]
    assert (s["attempts"], s["successes"], s["pass_at_1"], s["pass_at_2"]) == (2, 0, 0.0, 0.0)
    assert (s["turns"], s["completion_tokens"], s["reward"]) == (2.0, 16.0, 0.0)


def test_model_agent_summary_of_a_solved_and_a_failed_attempt(monkeypatch, task):  # noqa: F811
    """k = 2 attempts: one writes hello.txt and calls done() (2 turns), one calls done() at once (1 turn)."""
    monkeypatch.setattr(R, "Generator", ScriptedGenerator)
    monkeypatch.setattr(ScriptedGenerator, "script", [[bash("echo hi > hello.txt"), DONE], [DONE]])
    s = ev.evaluate_model(FakeModel(), TOK, [task], k=2, seed=0, limits=R.Limits())[task.name]
    assert (s["attempts"], s["successes"], s["pass_at_1"]) == (2, 1, 0.5)  # pass@1 = c / n = 1 / 2
    assert s["pass_at_2"] == 1.0  # 1 - C(n - c, k) / C(n, k) = 1 - C(1, 2) / C(2, 2) = 1 - 0 / 1
    turn = lambda text: len(TOK.encode(text)) + 1  # noqa: E731  (each turn's text, then <|im_end|>)
    assert (s["turns"], s["reward"]) == (1.5, 0.5)
    assert s["completion_tokens"] == (turn(bash("echo hi > hello.txt")) + turn(DONE) + turn(DONE)) / 2


def test_attempts_summary_counts_by_outcome_never_by_the_sentence():
    O = harbor.Outcome
    eps = [R.Episode("t", 0, [], [], [], reason=why, outcome=o) for why, o in [
        ("sandbox setup error: SetupError: task 't': no sandbox", O.SETUP_MACHINE),
        ("verifier error: VerifierError: task 't': reward.txt holds nan", O.VERIFIER_ERROR),
        ("an error-free sentence", O.DONE),           # "error" in the text: still the agent's episode
        ("episode over 600 s", O.TIMEOUT)]]
    s = ev.attempts_summary(eps)
    assert (s["infrastructure_errors"], s["verifier_errors"]) == (1, 1)
    assert s["error"] == ("sandbox setup error: SetupError: task 't': no sandbox; "
                          "verifier error: VerifierError: task 't': reward.txt holds nan")
