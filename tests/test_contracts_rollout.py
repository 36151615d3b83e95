"""Contracts of the episode and its metrics, one behaviour per test with hand-worked numbers: the
METHOD.md §4 limits and parser (rollout.py), every metric's weighting in eval.py and compare.py."""
import math

import pytest
import torch

import compare
import eval as ev
import harbor
import rollout as R
import sandbox
from harbor import Outcome
from rollout import ACTION, CONTEXT, ENV, WARNING, parse_action


def think(call):
    return "Reasoning.\n</think>\n\n<tool_call>\n" + call + "\n</tool_call>"


# ---- the parser ----

def test_a_repeated_parameter_runs_its_first_value_as_the_warning_says():
    a = parse_action(think("<function=bash>\n<parameter=command>\nls\n</parameter>\n"
                           "<parameter=command>\nrm -rf /\n</parameter>\n</function>"))
    assert a.command == "ls" and a.warnings == ["duplicate <parameter=command>: only the first was used"]


def test_a_repeated_timeout_keeps_the_first():
    a = parse_action(think("<function=bash>\n<parameter=command>\nls\n</parameter>\n<parameter=timeout>\n5\n"
                           "</parameter>\n<parameter=timeout>\n90\n</parameter>\n</function>"))
    assert (a.command, a.timeout) == ("ls", 5)


def test_only_the_first_tool_call_runs():
    a = parse_action(think("<function=bash>\n<parameter=command>\nfirst\n</parameter>\n</function>")
                     + "\n<tool_call>\n<function=bash>\n<parameter=command>\nsecond\n</parameter>\n"
                     "</function>"
                     "\n</tool_call>")
    assert a.command == "first" and a.warnings == ["2 tool calls: only the first tool call was executed"]


def test_a_value_loses_one_newline_each_side_only():
    a = parse_action(think("<function=bash>\n<parameter=command>\n\necho x\n\n</parameter>\n</function>"))
    assert a.command == "\necho x\n"


# ---- the METHOD.md §4 limits on starting a turn ----

def ep(n_ids, turns=0):
    return R.Episode("t", 0, [], [7] * n_ids, [CONTEXT] * n_ids, turns=turns)


# Each limit ends the episode with its own Outcome, and every one of these is verified (the tests run):
# only going over the hard cap (TOKEN_LIMIT) or the clock (TIMEOUT) skips the verifier.
@pytest.mark.parametrize("n, starts", [(99, True), (100, False), (101, False)])
def test_no_turn_starts_at_or_past_the_context_limit(n, starts):
    e = ep(n)
    assert R._may_start_turn(e, R.Limits(max_context=100, max_total=1000)) is starts
    assert e.reason == ("" if starts else "context reached 100 tokens")
    assert e.outcome == ("" if starts else Outcome.CONTEXT_LIMIT)


@pytest.mark.parametrize("n, starts", [(48, True), (49, False)])
def test_a_turn_needs_room_for_a_token_and_its_im_end(n, starts):
    e = ep(n)
    assert R._may_start_turn(e, R.Limits(max_context=1000, max_total=50)) is starts
    assert e.reason == ("" if starts else "at the 50-token cap")
    assert e.outcome == ("" if starts else Outcome.TOKEN_CAP)


@pytest.mark.parametrize("turns, starts", [(15, True), (16, False)])
def test_at_most_max_turns(turns, starts):
    e = ep(3, turns=turns)
    assert R._may_start_turn(e, R.Limits(max_turns=16)) is starts
    assert e.reason == ("" if starts else "16 turns")
    assert e.outcome == ("" if starts else Outcome.TURN_LIMIT)


def test_which_outcomes_are_verified_errors_or_the_machines():
    verified = {Outcome.DONE, Outcome.TURN_LIMIT, Outcome.CONTEXT_LIMIT, Outcome.TOKEN_CAP}
    errors = {Outcome.SETUP_TASK, Outcome.SETUP_MACHINE, Outcome.MACHINE, Outcome.VERIFIER_ERROR,
              Outcome.ERROR}
    assert {o for o in Outcome if o.verified} == verified
    assert {o for o in Outcome if o.error} == errors
    assert {o for o in Outcome if o.machine} == {Outcome.SETUP_MACHINE, Outcome.MACHINE}


# ---- token roles ----

def test_close_turn_adds_im_end_as_context_only_when_not_sampled():
    from test_rollout import IM_END, TOK
    assert R.close_turn_ids(TOK, [5, IM_END]) == ([], [])
    assert R.close_turn_ids(TOK, [5, 6]) == ([IM_END], [CONTEXT])
    assert R.close_turn_ids(TOK, []) == ([IM_END], [CONTEXT])


def test_observation_roles_warning_then_env_inside_context_wrappers():
    from test_rollout import TOK
    body = "Command 'ls' failed. Output: no\n\n(exit_code=1)"
    ids, roles = R.observation_delta(TOK, "WARNINGS:\n- x\n\n", body)
    text = lambda role: TOK.decode([i for i, r in zip(ids, roles) if r == role])  # noqa: E731
    assert "WARNINGS:" in text(WARNING) and "Command" not in text(WARNING)
    assert text(ENV).startswith("Command 'ls' failed.") and "(exit_code=1)" in text(ENV)
    assert roles[0] == CONTEXT and roles[-1] == CONTEXT and ACTION not in roles


def test_a_timed_out_command_says_so_with_exit_code_minus_one():
    assert R.format_observation("sleep 9", "", -1, True, 5) == \
        "Command 'sleep 9' timed out after 5 seconds.\n\n(exit_code=-1)"
    assert R.format_observation("ls", "a\n", 0, False, 5) == \
        "Command 'ls' executed successfully. Output: a\n\n\n(exit_code=0)"
    assert R.format_observation("ls", "", 2, False, 5).startswith("Command 'ls' failed. Output: ")


# ---- eval.py ----

@pytest.mark.parametrize("n, c, k, want", [(5, 2, 1, 0.4), (5, 2, 2, 0.7), (5, 0, 3, 0.0), (5, 4, 2, 1.0),
                                            (4, 1, 4, 1.0)])
def test_pass_at_k_by_hand(n, c, k, want):
    assert ev.pass_at_k(n, c, k) == pytest.approx(want)


def test_summarize_counts_reward_half_as_a_pass_and_errors_apart():
    results = {"a": {"reward": 0.5, "error": None}, "b": {"reward": 0.49, "error": "x"},
               "c": {"reward": 0.0, "error": "SetupError", "infrastructure_errors": 1},
               "d": {"reward": 1.0, "error": None, "pass_at_1": 0.25, "verifier_errors": 2}}
    s = ev.summarize(results)
    assert s["pass_at_1"] == pytest.approx((1 + 0 + 0 + 0.25) / 4)
    assert s["reward_mean"] == pytest.approx(1.99 / 4)
    assert (s["infrastructure_errors"], s["verifier_errors"], s["errors"], s["n_tasks"]) == (1, 2, 1, 4)


def test_attempts_summary_means_over_attempts():
    eps = [R.Episode("t", 0, [], [], [], reward=r, turns=t, timed_out=o, reason=why, outcome=out)
           for r, t, o, why, out in ((1.0, 2, False, "done", Outcome.DONE), (0.5, 4, False, "", Outcome.DONE),
                                     (0.2, 6, True, "x", Outcome.TIMEOUT),
                                     (0.0, 8, False, "setup error: SetupError: boom", Outcome.SETUP_MACHINE))]
    s = ev.attempts_summary(eps)
    assert (s["successes"], s["attempts"], s["pass_at_1"], s["pass_at_4"]) == (2, 4, 0.5, 1.0)
    assert s["reward"] == pytest.approx(1.7 / 4) and s["turns"] == 5.0 and s["timeout_rate"] == 0.25
    assert s["infrastructure_errors"] == 1 and s["verifier_errors"] == 0
    assert s["error"] == "setup error: SetupError: boom"         # the one that failed outside the agent


# Who failed when not the agent is read from the error's type (harbor.outcome_of), never its message: the
# machine (its sandbox did not start in both attempts, or died) is "infrastructure", the tests that could not
# run "verifier"; a task whose own build fails is the task's error, and anything else is neither.
@pytest.mark.parametrize("error, outcome, kind", [
    (harbor.SetupError("task 'x': pasta died", infrastructure=True), Outcome.SETUP_MACHINE, "infrastructure"),
    (harbor.SetupError("task 'x': line 2: RUN false failed"), Outcome.SETUP_TASK, None),
    (sandbox.SandboxError("died"), Outcome.MACHINE, "infrastructure"),
    (sandbox.OutOfMemory("died out of memory"), Outcome.OUT_OF_MEMORY, None),      # the agent's
    (harbor.VerifierError("VerifierError SandboxError SetupError"), Outcome.VERIFIER_ERROR, "verifier"),
    (RuntimeError("SetupError: SandboxError: VerifierError"), Outcome.ERROR, None)])
def test_failure_kind(error, outcome, kind):
    assert harbor.outcome_of(error) is outcome
    assert ev.failure_kind(outcome) == kind and ev.failure_kind(outcome.value) == kind


@pytest.mark.parametrize("outcome", [None, "", Outcome.DONE, Outcome.TIMEOUT, Outcome.TOKEN_LIMIT])
def test_failure_kind_of_an_agents_ending_is_none(outcome):
    assert ev.failure_kind(outcome) is None


def test_env_ce_is_per_env_token_not_per_episode(monkeypatch):
    """Episode a has 3 env tokens of −log p 1, episode b one of 4: 7/4 per token, (1 + 4)/2 per episode."""
    nll = {"a": [1.0, 1.0, 1.0], "b": [4.0], "c": []}
    monkeypatch.setattr(ev.R, "tokenize_messages", lambda tok, messages: (messages, None))
    monkeypatch.setattr(ev, "env_token_nll", lambda model, name, roles, temps: [
        torch.tensor(nll[name]), 2 * torch.tensor(nll[name])])
    out = ev.env_ce(None, None, [{"messages": k} for k in "abc"], train_temperature=0.8)
    assert out["env_ce"] == 1.75 and out["env_ce_ttrain"] == 3.5
    assert out["env_ce_per_episode"] == 2.5 and (out["env_tokens"], out["episodes"]) == (4, 2)


def test_env_token_nll_scores_env_tokens_only_at_each_temperature():
    from test_contracts_train import tiny
    m = tiny()
    ids, roles = [1, 2, 3, 4, 5], [CONTEXT, ACTION, ENV, WARNING, ENV]
    t1, t2 = ev.env_token_nll(m, ids, roles, (1.0, 2.0))
    with torch.no_grad():
        logits = m(torch.tensor([ids]))[0]
    want = lambda T: [-(logits[i - 1] / T).log_softmax(-1)[ids[i]].item() for i in (2, 4)]  # noqa: E731
    assert t1.tolist() == pytest.approx(want(1.0), abs=1e-5)
    assert t2.tolist() == pytest.approx(want(2.0), abs=1e-5)


# ---- compare.py ----

def test_mean_ci_is_a_t_interval():
    m, lo, hi = compare.mean_ci([1.0, 2.0, 3.0])
    half = 4.303 * 1.0 / math.sqrt(3)  # t(0.975, 2 df) · sd / √n, sd = 1
    assert (m, lo, hi) == pytest.approx((2.0, 2.0 - half, 2.0 + half))


def test_mean_ci_drops_nan_and_gives_nan_bounds_for_one_value():
    m, lo, hi = compare.mean_ci([5.0, float("nan")])
    assert m == 5.0 and math.isnan(lo) and math.isnan(hi)


@pytest.mark.parametrize("lo, hi, want", [(0.01, 0.5, "supported"), (0.0, 0.5, "inconclusive"),
                                          (-0.5, -0.01, "refuted (the opposite holds)"),
                                          (-0.03, 0.03, "refuted at this scale"),
                                          (-0.03, 0.0, "refuted at this scale"),
                                          (-0.031, 0.02, "inconclusive"), (float("nan"), float("nan"),
                                                                            "inconclusive (one seed)")])
def test_verdict_rule(lo, hi, want):
    assert compare.verdict(lo, hi, 0.03) == want


def test_per_segment_sums_values_and_counts_tokens():
    s = compare.per_segment([("output", 1.0, 10.0), ("output", 3.0, 30.0), ("command", 5.0, 50.0)], 2)
    assert s["output"] == [4.0, 40.0, 2] and s["command"] == [5.0, 50.0, 1]
    assert s["all"] == [9.0, 90.0, 3] and s["harness"] == [0.0, 0.0, 0]


def test_segment_ce_is_per_token_within_each_segment(monkeypatch):
    temps = []
    monkeypatch.setattr(compare.ev, "env_token_nll", lambda model, ids, roles, ts: temps.append(ts) or [
        torch.tensor(ids, dtype=torch.float) * f for f in (1, 10, 100)])
    rows = [([1.0, 2.0], None, ["output", "command"], "fresh"), ([6.0], None, ["output"], "unseen")]
    s = compare.segment_ce(None, rows, t_train=0.8)
    assert temps == [(1.0, 0.8, 1.25)] * 2                          # T = 1, T_train and 1 / T_train
    assert s["all"]["output"] == {"t1": 3.5, "ttrain": 35.0, "tcal": 350.0, "tokens": 2}
    assert s["all"]["all"]["t1"] == 3.0 and s["all"]["all"]["tokens"] == 3
    assert math.isnan(s["all"]["harness"]["t1"])
    assert (s["fresh"]["output"]["t1"], s["fresh"]["command"]["t1"], s["unseen"]["output"]["t1"]) == (1, 2, 6)
    assert s["unseen"]["all"]["tokens"] == 1


def test_body_segments_split_a_command_observation():
    body = "Command 'ls' failed. Output: oops\n\n(exit_code=2)"
    got = {k: body[a:b] for a, b, k in compare.body_segments(body) if k != "harness"}
    assert got == {"command": "ls", "output": "oops", "exit code": "2"}


def test_claims_pair_runs_by_seed():
    run = lambda arm, seed, p, ce: {"arm": arm, "seed": seed, "pass_at_1_all": p,  # noqa: E731
                                    "env_ce": {"output": {"t1": ce}}, "pass_at_1_env_only_family": p}
    runs = [run("echo", 0, 0.5, 1.0), run("grpo", 0, 0.4, 1.5), run("echo", 1, 0.6, 1.0),
            run("grpo", 1, 0.4, 1.2),
            run("grpo", 2, 0.9, 9.0)]  # seed 2 has no echo run: not paired
    result = {"runs": {f"{r['arm']}-seed{r['seed']}": r for r in runs},
              "start": {"pass_at_1_env_only_family": 0}}
    c = compare.claims(result)
    assert (c[0]["n"], c[0]["mean"]) == (2, pytest.approx(0.15))   # ECHO − GRPO pass@1, paired
    assert c[1]["mean"] == pytest.approx(0.35)                     # GRPO − ECHO env CE: lower is better
    assert c[2]["verdict"] == "not run" and c[3]["verdict"] == "not run"


# ---- the episode clock: the task's own agent timeout counts too ----

def test_the_tasks_agent_timeout_caps_the_episode_clock(monkeypatch, tmp_path):
    """The first turn takes 1.3 s to generate (the sandbox's own clock, which would stop a command at 1 s,
    plays no part): with the task's timeout_sec = 1 the episode is over time after that turn."""
    from test_rollout import ScriptedGenerator, FakeModel, TOK, bash, DONE
    from test_harbor_episodes import make_task
    import time
    import harbor

    class Slow(ScriptedGenerator):
        def sample(self, rows, max_new_tokens, **sampling):
            time.sleep(1.3)
            return super().sample(rows, max_new_tokens, **sampling)
    task = harbor.load_task(make_task(tmp_path, toml="[agent]\ntimeout_sec = 1\n"))
    monkeypatch.setattr(R, "Generator", Slow)
    monkeypatch.setattr(ScriptedGenerator, "script", [[bash("true"), DONE]])
    ep, = R.run_episodes(FakeModel(), TOK, [(task, 0)], 1, R.Limits(episode_timeout=600))
    assert ep.timed_out and ep.reason == "episode over 1 s" and ep.reward == 0.0


def test_a_tool_message_splits_into_its_warnings_and_body():
    assert R.split_tool_message("WARNINGS:\n- x\n\nCommand 'a' failed. Output: \n\n(exit_code=1)") == (
        "WARNINGS:\n- x\n\n", "Command 'a' failed. Output: \n\n(exit_code=1)")
    assert R.split_tool_message("Command 'a'\n\nfailed.") == ("", "Command 'a'\n\nfailed.")


@pytest.mark.parametrize("text, want", [("3-5", (3, 5)), ("7", (7, 7)), (" 0-0 ", (0, 0))])
def test_seed_bounds(text, want):
    assert ev.seed_bounds(text) == want


@pytest.mark.parametrize("text", ["5-3", "-1", "a-b", "1-2-3"])
def test_bad_seed_bounds(text):
    with pytest.raises(ValueError, match="seeds must be A-B"):
        ev.seed_bounds(text)


# ---- compare.evaluate_checkpoint: every held-out metric's weighting ----

def test_evaluate_checkpoint_weights_each_metric(monkeypatch, tmp_path):
    from types import SimpleNamespace
    (tmp_path / "system_prompt.txt").write_text("p\n")
    rewards = {("a", 0): [1.0, 0.5], ("b", 1): [0.0, 0.49], (compare.ENV_ONLY_FAMILY, 2): [1.0, 0.0]}
    def call(cmd):
        return ("<think>\nx\n</think>\n\n<tool_call>\n<function=bash>\n<parameter=command>\n" + cmd
                + "\n</parameter>\n</function>\n</tool_call>")

    def episodes(model, tok, jobs, k, limits, **kw):
        return [R.Episode(t.name, s, [{"role": "assistant", "content": call("ls" if i else "make test")},
                                      {"role": "tool", "content": "out"}], [], [ENV] * 3, reward=r, turns=2)
                for t, s in jobs for i, r in enumerate(rewards[(t.name, s)])]
    monkeypatch.setattr(compare.M, "load", lambda path: (None, None))
    monkeypatch.setattr(compare.R, "run_episodes", episodes)
    ce = {"all": {"output": 1.0}, "fresh": {"output": 2.0}, "unseen": {"output": 3.0}}
    monkeypatch.setattr(compare, "segment_ce", lambda model, rows, t: ce)
    task = lambda name: SimpleNamespace(name=name)  # noqa: E731
    jobs = [(task("a"), 0, "fresh"), (task("b"), 1, "unseen"), (task(compare.ENV_ONLY_FAMILY), 2, "unseen")]
    args = SimpleNamespace(max_turns=4, max_turn_tokens=8, max_total=100, max_output_chars=100,
                           agent=tmp_path, batch_jobs=2, k=2, eval_seed=0, temperature=0.8)
    out = compare.evaluate_checkpoint("ckpt", args, jobs, [])
    assert [j["successes"] for j in out["jobs"]] == [2, 0, 1]           # reward >= 0.5 succeeds
    assert (out["pass_at_1_fresh"], out["pass_at_1_unseen"], out["pass_at_1_all"]) == (1.0, 0.25, 0.5)
    assert (out["pass_at_k_fresh"], out["pass_at_k_unseen"]) == (1.0, 0.5)
    assert out["pass_at_k_all"] == pytest.approx(2 / 3) and out["pass_at_1_env_only_family"] == 0.5
    assert out["env_tokens_per_observation"] == 3.0 and out["trivial_command_share"] == 0.5
    assert out["turns"] == 2.0
    assert out["env_ce"] == ce["all"] and out["env_ce_group"] == {"fresh": ce["fresh"], "unseen": ce["unseen"]}


# ---- eval.record_demos: only correct demonstrations, rewards averaged over seeds ----

def test_record_demos_keeps_reward_one_episodes_and_averages_over_seeds(monkeypatch, tmp_path):
    import json
    got = {0: {"a": 1.0, "b": 0.5}, 1: {"a": 0.0, "b": 1.0}, 2: {"a": 1.0, "b": 1.0}}
    monkeypatch.setattr(ev, "evaluate", lambda tasks, agent, seed, workers, log, start_task=None: {
        name: {"reward": r, "infrastructure_errors": int(seed == 1), "verifier_errors": 0,
               "error": None} for name, r in got[seed].items()})
    path = tmp_path / "demos.jsonl"
    out = ev.record_demos([], "0-2", path, log=lambda m: None)
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert [(x["task"], x["seed"]) for x in lines] == [("a", 0), ("b", 1), ("a", 2), ("b", 2)]
    assert out["a"]["reward"] == pytest.approx(2 / 3) and out["b"]["reward"] == pytest.approx(2.5 / 3)
    assert out["a"]["infrastructure_errors"] == 1


# ---- one retry policy: start_task starts once more a start the machine failed, and nothing else ----

@pytest.mark.parametrize("errors, calls, raised", [
    ([True], 2, None),                   # the machine failed once: started again, and it starts
    ([True, True], 2, Outcome.SETUP_MACHINE),          # twice: the machine's error, not tried a third time
    ([False], 1, Outcome.SETUP_TASK),    # the task's own build failed: it would fail again
    ([RuntimeError("SetupError")], 1, Outcome.ERROR)])  # anything else is not retried either
def test_start_task_starts_again_only_a_start_the_machine_failed(monkeypatch, tmp_path, errors, calls,
                                                                 raised):
    from test_harbor_episodes import make_task
    task, started, said = harbor.load_task(make_task(tmp_path)), [], []

    def start(task, seed, limits, store, internet, log, cache, *rest):
        error = errors[len(started)] if len(started) < len(errors) else None
        started.append(seed)
        if isinstance(error, bool):
            raise harbor.SetupError(f"task '{task.name}': failed", infrastructure=error)
        if error:
            raise error
        return "env"
    monkeypatch.setattr(harbor, "_start", start)
    if raised is None:
        assert harbor.start_task(task, seed=3, log=said.append) == "env"
    else:
        with pytest.raises(Exception) as e:
            harbor.start_task(task, seed=3, log=said.append)
        assert harbor.outcome_of(e.value) is raised
    assert started == [3] * calls and len(said) == errors[:1].count(True)


# ---- eval.play: plays an episode once (start_task's retry is the one) and counts who failed ----

class FakeEnv:
    def __init__(self, verify_error=None):
        self.verify_error = verify_error

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass

    def verify(self):
        if self.verify_error:
            raise self.verify_error
        return 1.0, ""


@pytest.mark.parametrize("setup, agent_error, verify_error, want", [
    (None, None, None, dict(reward=1.0, outcome=Outcome.DONE, infrastructure_errors=0, verifier_errors=0)),
    (harbor.SetupError("x", infrastructure=True), None, None,
     dict(reward=0.0, outcome=Outcome.SETUP_MACHINE, infrastructure_errors=1, verifier_errors=0)),
    (harbor.SetupError("x"), None, None,
     dict(reward=0.0, outcome=Outcome.SETUP_TASK, infrastructure_errors=0, verifier_errors=0)),
    (None, sandbox.SandboxError("died"), None,
     dict(reward=0.0, outcome=Outcome.MACHINE, infrastructure_errors=1, verifier_errors=0)),
    (None, None, harbor.VerifierError("z"),
     dict(reward=0.0, outcome=Outcome.VERIFIER_ERROR, infrastructure_errors=0, verifier_errors=1)),
    (None, RuntimeError("w"), None, dict(reward=0.0, outcome=Outcome.ERROR, infrastructure_errors=0,
                                         verifier_errors=0)),
])
def test_play_plays_once_and_counts_who_failed(setup, agent_error, verify_error, want):
    started = []

    def start_task(task, seed):
        started.append(seed)
        if setup:
            raise setup
        return FakeEnv(verify_error)

    def agent(env, task):
        if agent_error:
            raise agent_error
        return {"turns": 2}
    rec = ev.play("task", agent, seed=4, start_task=start_task)
    assert started == [4] and {k: rec[k] for k in want} == want
    error = setup or agent_error or verify_error
    assert rec["error"] == (None if error is None else f"{type(error).__name__}: {error}")
