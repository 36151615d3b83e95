"""rollout.run_episodes end to end with a scripted policy: real sandboxes and verifier, the METHOD.md §4
limits, token roles, and the render() round trip."""
import collections
import textwrap
import time
import types

import pytest

import rollout as R
import harbor
import sandbox
from generate import Sample
from tokenizer import build_tokenizer

TOK = build_tokenizer([R.SYSTEM_PROMPT, R.FORMAT_REMINDER, "echo hi > hello.txt; cat hello.txt (exit_code=0)"] * 3,
                      vocab_size=600)
IM_END = TOK.token_id("<|im_end|>")


def bash(cmd, think="I will run it.", extra=""):
    return f"{think}\n</think>\n\n<tool_call>\n<function=bash>\n<parameter=command>\n{cmd}\n</parameter>\n</function>\n</tool_call>{extra}"


DONE = "Finished.\n</think>\n\n<tool_call>\n<function=done>\n</function>\n</tool_call>"


class ScriptedGenerator:
    """Stands in for generate.Generator: row r plays SCRIPT[r % len(SCRIPT)], one text per turn. It keeps the
    rows holding a slot (fed, not yet released), in the order they came, and the most at once."""
    script: list[list[str]] = []
    last = None  # the latest instance, for tests to inspect

    def __init__(self, model, rows, stop_ids, capacity=256, max_len=None):
        self.rows, self.live, self.order, self.most = rows, set(), [], 0
        self.turn = collections.defaultdict(int)
        self.fed = collections.defaultdict(list)
        ScriptedGenerator.last = self

    def hold(self, rows):
        self.order += [r for r in rows if r not in self.live and r not in self.order]
        self.live |= set(rows)
        self.most = max(self.most, len(self.live))
        assert len(self.live) <= self.rows, (self.live, self.rows)

    def extend(self, rows, chunks):
        self.hold(rows)
        for r, c in zip(rows, chunks):
            self.fed[r] += list(c)

    def copy_row(self, src, dst):
        self.hold(dst)
        for d in dst:
            self.fed[d] = list(self.fed[src])

    def release(self, rows):
        assert set(rows) <= self.live
        self.live -= set(rows)

    def sample(self, rows, max_new_tokens, **sampling):
        out = []
        caps = max_new_tokens if isinstance(max_new_tokens, list) else [max_new_tokens] * len(rows)
        for r, cap in zip(rows, caps):
            texts = self.script[r % len(self.script)]
            ids = TOK.encode(texts[min(self.turn[r], len(texts) - 1)]) + [IM_END]
            self.turn[r] += 1
            ids = ids[:cap]
            out.append(Sample(ids, [0.0] * len(ids), ids[-1] == IM_END))
        return out


class FakeModel:
    class lm_head:
        class weight:
            device = "cpu"


@pytest.fixture
def task(tmp_path):
    d = tmp_path / "files-hello"
    (d / "tests").mkdir(parents=True)
    (d / "environment").mkdir()
    (d / "task.toml").write_text("[agent]\ntimeout_sec = 600\n[verifier]\ntimeout_sec = 30\n")
    (d / "instruction.md").write_text("Create /app/hello.txt containing the word hi.")
    (d / "environment" / "README").write_text("nothing here\n")
    (d / "tests" / "test.sh").write_text(textwrap.dedent("""\
        mkdir -p /logs/verifier
        if [ "$(cat /app/hello.txt 2>/dev/null)" = hi ]; then echo 1; else echo 0; fi > /logs/verifier/reward.txt
        """))
    return harbor.load_task(d)


def run(monkeypatch, task, script, n=1, **limits):
    monkeypatch.setattr(R, "Generator", ScriptedGenerator)
    monkeypatch.setattr(ScriptedGenerator, "script", script)
    return R.run_episodes(FakeModel(), TOK, [(task, 7)], n, R.Limits(**limits))


def test_scripted_episode_solves_the_task_with_the_right_roles(monkeypatch, task):
    script = [[bash("echo hi > hello.txt"), bash("cat hello.txt", extra=" trailing words"), "no tool call here", DONE]]
    ep, = run(monkeypatch, task, script)
    assert (ep.reward, ep.done, ep.turns, ep.valid_turns, ep.clean_turns) == (1.0, True, 4, 3, 2)
    obs = [m["content"] for m in ep.messages if m["role"] == "tool"]
    assert obs[0] == "Command 'echo hi > hello.txt' executed successfully. Output: \n\n(exit_code=0)"
    assert obs[1] == ("WARNINGS:\n- text outside tags: after </think> write only the tool call\n\n"
                      "Command 'cat hello.txt' executed successfully. Output: hi\n\n\n(exit_code=0)")
    assert obs[2].startswith("No tool call found after </think>.")
    # every role-run decodes to the text the spec gives it
    runs, cur = [], None
    for t, r in zip(ep.ids, ep.roles):
        if r != cur:
            runs.append((r, []))
            cur = r
        runs[-1][1].append(t)
    env_text = "".join(TOK.decode(ids) for r, ids in runs if r == R.ENV)
    assert env_text.replace("\n", "") == "".join(o.split("\n\n", 1)[1] if o.startswith("WARNINGS") else o for o in obs).replace("\n", "")
    warn_text = "".join(TOK.decode(ids) for r, ids in runs if r == R.WARNING)
    assert warn_text == "WARNINGS:\n- text outside tags: after </think> write only the tool call\n\n"
    actions = [TOK.decode(ids) for r, ids in runs if r == R.ACTION]
    assert actions == [s + "<|im_end|>" for s in script[0]]
    assert ep.n_obs == sum(r in (R.ENV, R.WARNING) for r in ep.roles)
    # token in, token out: the rendered conversation tokenizes to exactly the episode (the template adds
    # one "\n" after the final <|im_end|>, which the rollout never samples)
    assert TOK.encode(TOK.render(ep.messages, add_generation_prompt=False)) == ep.ids + TOK.encode("\n")


def test_group_shares_prompt_and_each_row_is_its_own_sandbox(monkeypatch, task):
    script = [[bash("echo hi > hello.txt"), DONE], [bash("echo no > hello.txt"), DONE]]
    eps = run(monkeypatch, task, script, n=2)
    assert [e.reward for e in eps] == [1.0, 0.0]
    assert eps[0].ids[:40] == eps[1].ids[:40]


def test_max_turns_then_verifier(monkeypatch, task):
    ep, = run(monkeypatch, task, [[bash("echo hi > hello.txt"), bash("true")]], max_turns=2)
    assert (ep.turns, ep.reward, ep.done) == (2, 1.0, False) and ep.reason.startswith("2 turns")


def test_total_token_cap_cuts_the_observation_to_fit_reward_zero_without_verifier(monkeypatch, task):
    ep, = run(monkeypatch, task, [[bash("echo hi > hello.txt; seq 1 3000")]], max_total=1500)
    assert ep.reward == 0.0 and ep.reason == "over 1500 tokens"
    assert len(ep.ids) == len(ep.roles) == 1500  # nothing past the cap is kept, so nothing past it is trained
    body = ep.messages[-1]["content"]
    assert body.startswith("Command 'echo hi > hello.txt; seq 1 3000' executed successfully. Output: 1\n2\n3\n")
    assert "\n2999\n" not in body and TOK.encode(body) == [t for t, r in zip(ep.ids, ep.roles) if r == R.ENV]


def test_total_token_cap_caps_generation_to_what_is_left(monkeypatch, task):
    long_thought = "I will think about it at length. " * 200
    ep, = run(monkeypatch, task, [[bash("true", think=long_thought)]], max_total=700)
    assert ep.reward == 0.0 and ep.reason == "over 700 tokens" and len(ep.ids) <= 700
    sampled = sum(r == R.ACTION for r in ep.roles)
    assert sampled == 700 - 1 - sum(r == R.CONTEXT for r in ep.roles[:ep.roles.index(R.ACTION)])


def test_command_timeout_is_capped_and_counted(monkeypatch, task):
    ep, = run(monkeypatch, task, [[bash("sleep 30"), DONE]], command_timeout=1)
    assert ep.messages[3]["content"] == "Command 'sleep 30' timed out after 1 seconds.\n\n(exit_code=-1)"
    assert ep.command_timeouts == 1


def test_the_agents_timeout_is_used_uncapped_by_default(monkeypatch, task):
    # released harness: bash(command, timeout) runs for the agent's timeout (30 when it gives none), with
    # nothing but the episode clock above it; --command-timeout caps it (the printed paper's 30 s)
    asked, real = [], sandbox.Sandbox.run
    monkeypatch.setattr(sandbox.Sandbox, "run", lambda box, cmd, timeout: asked.append(timeout) or real(box, cmd, 1))
    long_call = bash("true").replace("</parameter>\n</function>", "</parameter>\n<parameter=timeout>\n120\n</parameter>\n</function>")
    run(monkeypatch, task, [[long_call, bash("true"), DONE]])
    assert asked == [120, 30]
    asked.clear()
    run(monkeypatch, task, [[long_call, bash("true"), DONE]], command_timeout=30)
    assert asked == [30, 30]


@pytest.mark.parametrize("shell, seen", [("persistent", "/tmp 5"), ("per-command", "/app unset")])
def test_the_shell_persists_or_each_command_starts_afresh(monkeypatch, task, shell, seen):
    script = [[bash("cd /tmp; X=5 # a comment"), bash("echo $(pwd) ${X:-unset}"), bash("exit 3"),
               bash("echo alive"), DONE]]
    ep, = run(monkeypatch, task, script, shell=shell)
    obs = [m["content"] for m in ep.messages if m["role"] == "tool"]
    assert obs[1] == f"Command 'echo $(pwd) ${{X:-unset}}' executed successfully. Output: {seen}\n\n\n" \
                     "(exit_code=0)"
    if shell == "per-command":  # exit ends that command only, as it ends its own exec
        assert obs[2].endswith("(exit_code=3)") and "Output: alive" in obs[3]


def test_a_sandbox_error_mid_episode_is_reward_zero_with_every_mask_zero(monkeypatch, task):
    real = sandbox.Sandbox.run

    def run_or_crash(box, cmd, timeout):
        if cmd == "crash":
            raise sandbox.SandboxError("sandbox died: test")
        return real(box, cmd, timeout)
    monkeypatch.setattr(sandbox.Sandbox, "run", run_or_crash)
    ep, = run(monkeypatch, task, [[bash("echo hi > hello.txt"), bash("crash"), DONE]])
    assert ep.crashed and ep.reward == 0.0 and ep.reason.startswith("sandbox error: SandboxError")
    assert ep.turns == 2 and sum(r == R.ENV for r in ep.roles) > 0  # it had env tokens ...
    assert all(sum(m) == 0 for m in R.masks(ep))                   # ... and none of them is trained


def test_a_sandbox_killed_by_its_own_oom_is_reward_zero_and_trained(monkeypatch, task):
    # over the task's memory limit is the agent's doing: not a machine failure whose masks are zeroed
    real = sandbox.Sandbox.run

    def run_or_oom(box, cmd, timeout):
        if cmd == "oom":
            raise sandbox.OutOfMemory("sandbox died out of memory (over memory_mb 64): ''")
        return real(box, cmd, timeout)
    monkeypatch.setattr(sandbox.Sandbox, "run", run_or_oom)
    ep, = run(monkeypatch, task, [[bash("echo hi > hello.txt"), bash("oom"), DONE]])
    assert ep.outcome == R.Outcome.OUT_OF_MEMORY and not ep.infra_error and not ep.crashed
    assert ep.reward == 0.0 and ep.turns == 2
    assert all(sum(m) > 0 for m in R.masks(ep)[:2])                # its actions and env tokens are trained


@pytest.mark.parametrize("left", [0, 1])
def test_an_observation_that_fits_under_the_cap_still_gets_its_verifier(monkeypatch, task, left):
    script = [[bash("echo hi > hello.txt"), DONE]]
    full, = run(monkeypatch, task, script)
    end_of_obs = full.roles.index(R.ACTION, full.roles.index(R.ENV))  # where the second turn starts
    ep, = run(monkeypatch, task, script, max_total=end_of_obs + left)
    assert ep.ids == full.ids[:end_of_obs] and ep.turns == 1       # the observation fit, whole
    assert ep.reward == 1.0 and ep.reason.startswith(f"at the {end_of_obs + left}-token cap")


def test_each_sampled_token_keeps_its_sampling_log_prob(monkeypatch, task):
    ep, = run(monkeypatch, task, [[bash("echo hi > hello.txt"), DONE]])
    assert len(ep.sample_logprobs) == sum(r == R.ACTION for r in ep.roles) > 0


def test_episode_timeout_zeroes_reward_and_masks(monkeypatch, task):
    ep, = run(monkeypatch, task, [[bash("echo hi > hello.txt; sleep 2"), DONE]], episode_timeout=1)
    assert ep.timed_out and ep.reward == 0.0
    assert all(sum(m) == 0 for m in R.masks(ep))


def test_failed_setup_is_reward_zero_and_does_not_stop_others(monkeypatch, task, tmp_path):
    bad = harbor.load_task(task.path)
    bad.dockerfile = [harbor.Step("RUN", "exit 3", 2)]
    monkeypatch.setattr(R, "Generator", ScriptedGenerator)
    monkeypatch.setattr(ScriptedGenerator, "script", [[bash("echo hi > hello.txt"), DONE]])
    eps = R.run_episodes(FakeModel(), TOK, [(bad, 0), (task, 0)], 1, R.Limits())
    assert eps[0].reward == 0.0 and eps[0].reason.startswith("sandbox setup error: SetupError: task ")
    assert "line 2: RUN 'exit 3' failed (exit 3)" in eps[0].reason and not eps[0].infra_error
    assert eps[0].outcome == harbor.Outcome.SETUP_TASK and eps[1].outcome == harbor.Outcome.DONE
    assert eps[1].reward == 1.0


def failing_sandbox_starts(monkeypatch, fails: int) -> list[int]:
    """The first `fails` sandbox starts fail as a broken machine would; returns the list of start attempts."""
    calls, real = [], sandbox.Sandbox.__enter__

    def flaky(self):
        calls.append(1)
        if len(calls) <= fails:
            raise sandbox.SandboxError("sandbox failed to start: no output within 30 s")
        return real(self)
    monkeypatch.setattr(sandbox.Sandbox, "__enter__", flaky)
    return calls


def test_a_sandbox_that_fails_to_start_is_retried_once_by_start_task(monkeypatch, task):
    calls = failing_sandbox_starts(monkeypatch, fails=1)
    ep, = run(monkeypatch, task, [[bash("echo hi > hello.txt"), DONE]])
    assert len(calls) == 2 and ep.reward == 1.0 and not ep.infra_error          # the retry worked


def test_a_sandbox_that_fails_to_start_twice_is_the_machines_fault(monkeypatch, task):
    calls = failing_sandbox_starts(monkeypatch, fails=2)
    ep, = run(monkeypatch, task, [[bash("echo hi > hello.txt"), DONE]])
    assert len(calls) == 2 and ep.reward == 0.0 and ep.infra_error and "failed to start" in ep.reason
    assert ep.outcome == harbor.Outcome.SETUP_MACHINE


def test_episodes_roundtrip_jsonl(monkeypatch, task, tmp_path):
    eps = run(monkeypatch, task, [[bash("echo hi > hello.txt"), DONE]])
    R.save_episodes(tmp_path / "e.jsonl", eps)
    assert R.load_episodes(tmp_path / "e.jsonl") == eps


def test_tokenize_messages_rebuilds_the_episode(monkeypatch, task):
    ep, = run(monkeypatch, task, [[bash("echo hi > hello.txt"), bash("ls", extra=" x"), DONE]])
    ids, roles = R.tokenize_messages(TOK, ep.messages)
    assert (ids, roles) == (ep.ids, ep.roles)


def test_max_rows_admits_whole_groups_in_job_order_each_with_its_own_clock(monkeypatch, task):
    clock = [0.0]  # a fake clock: every decode takes 100 s
    monkeypatch.setattr(R, "time", types.SimpleNamespace(monotonic=lambda: clock[0]))
    sample = ScriptedGenerator.sample

    def slow_sample(self, *a, **kw):
        clock[0] += 100
        return sample(self, *a, **kw)
    monkeypatch.setattr(ScriptedGenerator, "sample", slow_sample)
    monkeypatch.setattr(R, "Generator", ScriptedGenerator)
    monkeypatch.setattr(ScriptedGenerator, "script", [[bash("echo hi > hello.txt"), bash("cat hello.txt"), DONE]])
    eps = R.run_episodes(FakeModel(), TOK, [(task, 1), (task, 2), (task, 3)], 2, R.Limits(), max_rows=2)
    assert [e.seed for e in eps] == [1, 1, 2, 2, 3, 3]  # job order, groups contiguous (Eq. 2a)
    gen = ScriptedGenerator.last
    assert gen.most == 2 and gen.order == [0, 1, 2, 3, 4, 5] and not gen.live  # one group at a time, in order
    # 3 groups x 3 turns x 100 s = 900 s on one clock, over the 600 s episode timeout; but each episode's
    # clock starts when its group is admitted, so each saw 300 s and finished
    assert clock[0] == 900
    assert all(e.reward == 1.0 and e.done and e.turns == 3 and not e.timed_out for e in eps)


def test_max_rows_below_the_group_size_is_an_error(task):
    with pytest.raises(ValueError, match="max_rows=1 < n=2"):
        R.run_episodes(FakeModel(), TOK, [(task, 7)], 2, R.Limits(), max_rows=1)


class DictBackend:
    """Another backend behind the door (README "Another backend"): a fake shell over a dict of files, with
    only the contract's methods. It rewards hello.txt holding 'hi'."""

    def __init__(self, task, seed, limits):
        self.files, self.budget, self.closed, self.clock = {}, limits.episode_timeout, False, 0

    def start_clock(self):
        self.clock += 1

    def pause_clock(self, seconds):
        self.paused = getattr(self, "paused", 0.0) + seconds

    def run(self, command, timeout):
        if command.startswith("sleep "):
            time.sleep(float(command.split()[1]))
        if command.startswith("echo hi > "):
            self.files[command.split("> ")[1]] = "hi\n"
        return sandbox.Result(self.files.get(command.removeprefix("cat "), ""), 0, False)

    def verify(self):
        return float(self.files.get("hello.txt") == "hi\n"), ""

    def close(self):
        self.closed = True


def test_a_batch_mates_long_command_does_not_run_out_a_rows_clock(monkeypatch, task):
    # rt16a p18: rows advance together, and a row that waited for another row's 1.5 s command was over its
    # own 1 s episode clock at its next turn: a solved episode became TIMEOUT, its masks zeroed. The clock
    # counts a row's own decode and command only.
    monkeypatch.setattr(R, "Generator", ScriptedGenerator)
    monkeypatch.setattr(ScriptedGenerator, "script", [[bash("echo hi > hello.txt"), DONE],
                                                      [bash("sleep 1.5"), DONE]])
    eps = R.run_episodes(FakeModel(), TOK, [(task, 0)], 2, R.Limits(episode_timeout=1.0),
                         start_task=lambda t, seed, limits: DictBackend(t, seed, limits))
    assert [(e.reward, e.outcome) for e in eps] == [(1.0, harbor.Outcome.DONE), (0.0, harbor.Outcome.TIMEOUT)]


def test_run_episodes_needs_only_the_doors_contract(monkeypatch, task):
    envs = []

    def start_task(t, seed, limits):
        envs.append(DictBackend(t, seed, limits))
        return envs[-1]
    monkeypatch.setattr(R, "Generator", ScriptedGenerator)
    monkeypatch.setattr(ScriptedGenerator, "script", [[bash("echo hi > hello.txt"), bash("cat hello.txt"), DONE],
                                                      [DONE]])
    eps = R.run_episodes(FakeModel(), TOK, [(task, 7)], 2, R.Limits(), start_task=start_task)
    assert [(e.reward, e.outcome) for e in eps] == [(1.0, harbor.Outcome.DONE), (0.0, harbor.Outcome.DONE)]
    assert "Output: hi\n" in eps[0].messages[5]["content"]
    assert all(env.closed and env.clock == 1 for env in envs)
