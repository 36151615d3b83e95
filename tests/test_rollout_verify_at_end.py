"""Each rollout is verified the moment it ends (rt16b p17), as Harbor verifies a trial when its agent ends.
run_episodes verified every row only once the whole batch was done, and the agent's processes live on until
the verify seals the root: a job started before done() (or before a limit ended the episode) wrote the
answer while batch-mates still acted, and scored. Here each row's job writes the answer 2 s after it
starts; a batch-mate's (or a later group's) 4 s command keeps the batch going past that. Real sandboxes."""
import time

import harbor
import rollout as R
from test_rollout import DONE, TOK, DictBackend, FakeModel, ScriptedGenerator, bash, task  # noqa: F401

JOB = "(sleep 2; echo hi > /app/hello.txt) >/dev/null 2>&1 &"
DOUBLE_FORK = "setsid nohup sh -c '(sleep 2; echo hi > /app/hello.txt) &' >/dev/null 2>&1 </dev/null"


def play(monkeypatch, task, script, jobs=1, n=2, **kw):
    monkeypatch.setattr(R, "Generator", ScriptedGenerator)
    monkeypatch.setattr(ScriptedGenerator, "script", script)
    return R.run_episodes(FakeModel(), TOK, [(task, s) for s in range(jobs)], n, R.Limits(**kw.pop("limits", {})),
                          **kw)


def test_a_job_that_lands_after_done_while_a_batch_mate_takes_more_turns_scores_0(monkeypatch, task):
    eps = play(monkeypatch, task, [[bash(JOB), DONE], [bash("true"), bash("true"), bash("sleep 4"), DONE]])
    assert [(e.reward, e.outcome) for e in eps] == [(0.0, harbor.Outcome.DONE)] * 2


def test_a_double_forked_job_that_lands_while_a_batch_mate_s_command_of_the_same_turn_runs_scores_0(
        monkeypatch, task):
    # done() and the batch-mate's long command are one turn: the row ends when its own action does
    eps = play(monkeypatch, task, [[bash(DOUBLE_FORK), DONE], [bash("true"), bash("sleep 4"), DONE]])
    assert [e.reward for e in eps] == [0.0, 0.0]


def test_a_job_started_by_the_last_turn_of_a_turn_limited_episode_scores_0(monkeypatch, task):
    eps = play(monkeypatch, task, [[bash("true"), bash(JOB)], [bash("true"), bash("sleep 4")]],
               limits={"max_turns": 2})
    assert [(e.reward, e.outcome) for e in eps] == [(0.0, harbor.Outcome.TURN_LIMIT)] * 2


def test_a_job_that_lands_while_a_later_group_plays_scores_0(monkeypatch, task):
    # --rollout-rows: one group at a time; the first group's row is verified before the second is admitted
    eps = play(monkeypatch, task, [[bash(JOB), DONE], [bash("sleep 4"), DONE]], jobs=2, n=1, max_rows=1)
    assert [e.reward for e in eps] == [0.0, 0.0]


def test_the_answer_written_before_done_still_scores(monkeypatch, task):
    eps = play(monkeypatch, task, [[bash("echo hi > /app/hello.txt"), DONE], [bash("sleep 1"), DONE]])
    assert [e.reward for e in eps] == [1.0, 0.0]


class SlowVerify(DictBackend):
    def verify(self):
        time.sleep(0.3)
        return super().verify()


def test_verifying_reports_count_the_verifies_done(monkeypatch, task):
    # the "verifying" line said every row was done before any verify had run
    heard = []
    play(monkeypatch, task, [[DONE]], progress=lambda *a: heard.append(a[:3]),
         start_task=lambda t, seed, limits: SlowVerify(t, seed, limits))
    verifying = [h for h in heard if h[0] == "verifying"]
    assert verifying[0][1] < 2 and verifying[-1] == ("verifying", 2, 2)
    assert [h[1] for h in verifying] == sorted(h[1] for h in verifying)
