"""A cached layer is the same whatever task built it, and no task holds another's clock (rt16b p13, p15):
a cached step runs under the build's own limits, never the building task's task.toml, and a start that
ran out of its clock waiting for another process's build of a step fails as the machine's, not the
task's. Real sandboxes on the tiny base of test_builder_attacks."""
import fcntl

import dockerfile
import harbor
import images
import sandbox
from test_builder_attacks import build, cache, make_task, store  # noqa: F401 (fixtures)


def test_a_cached_step_runs_under_the_same_limits_whatever_task_builds_it(store, cache, tmp_path,
                                                                          monkeypatch):
    # p13: a RUN built under cpus 0.02 took its `timeout ... || echo slow` branch and was served to a task
    # with cpus 2; the layer depended on which task built it first
    seen = []

    class Recording(sandbox.Sandbox):
        def __init__(self, *args, limits, **kw):
            seen.append((limits.cpus, limits.memory_mb, limits.nproc))
            super().__init__(*args, limits=limits, **kw)
    monkeypatch.setattr(images, "Sandbox", Recording)
    for name, res in (("small", "cpus = 0.02\nmemory_mb = 512"), ("big", "cpus = 2\nmemory_mb = 16384")):
        build(make_task(tmp_path, f"FROM tiny\nRUN echo {name}\n", name=name,
                        toml=f"[environment]\n{res}\n"), store, cache)
    assert len(seen) == 2 and seen[0] == seen[1]


def test_a_start_out_of_time_waiting_for_another_build_is_the_machines_failure(store, cache, tmp_path):
    # p15: another process holds the step's build (a task at cpus 0.02 building it slowly); this task's
    # setup failed at its own build_timeout_sec as the task's fault (Outcome.SETUP_TASK)
    path = make_task(tmp_path, "FROM tiny\nRUN true\n", toml="[environment]\nbuild_timeout_sec = 1\n")
    task = harbor.load_task(path)
    ref, args, steps = dockerfile.stage(task.dockerfile)
    state = images.start_state(images.resolve(ref, store, lambda m: None, cache), args)
    key = images.advance(state, steps[0], path / "environment").key
    (cache / "locks").mkdir(exist_ok=True)
    with open(cache / "locks" / f"{key}.lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        harbor.forget_builds()
        try:
            harbor.start_task(task, store=store, cache=cache, log=lambda m: None,
                              limits=harbor.Limits(keep_agent_processes=False))
            error = None
        except harbor.SetupError as e:
            error = e
    assert error is not None and "waiting for another build" in str(error)
    assert harbor.outcome_of(error) == harbor.Outcome.SETUP_MACHINE
