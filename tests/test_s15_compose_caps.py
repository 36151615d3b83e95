"""A compose file's volumes are capped when the task loads (rt15b p03, p17): each is a mount pid 1 makes in
every namespace it nests, and the list travels to the starter in one socket message; 3,000 short volumes
made pid 1's clone fail (ENOMEM) and 70 long targets outgrew the message, both booked as the machine's
failure and retried. Now the task's own, in one line, before anything runs."""
import pytest

import compose
from harbor import TaskError, load_task
from test_compose import make_task


def volumes(n: int, target: str = "/d/{}") -> str:
    lines = "".join(f"      - v{i}:{target.format(i)}\n" for i in range(n))
    names = "".join(f"  v{i}: {{}}\n" for i in range(n))
    return f"services:\n  main:\n    volumes:\n{lines}volumes:\n{names}"


@pytest.mark.parametrize("n, target", [(compose.MAX_VOLUMES + 1, "/d/{}"), (40, "/" + "t" * 1000 + "/{}")])
def test_too_many_or_too_long_volumes_fail_the_load_in_one_line(tmp_path, n, target):
    path = make_task(tmp_path, {"environment/docker-compose.yaml": volumes(n, target),
                                "environment/web/Dockerfile": None, "environment/web/secret.txt": None})
    with pytest.raises(TaskError, match="services.main.volumes: over 64 volumes or 32 KiB of specs"):
        load_task(path)


def test_a_handful_of_volumes_loads(tmp_path):
    path = make_task(tmp_path, {"environment/docker-compose.yaml": volumes(8),
                                "environment/web/Dockerfile": None, "environment/web/secret.txt": None})
    assert len(load_task(path).compose.main.volumes) == 8


def test_a_volume_target_in_the_host_fallbacks_read_only_tree_is_the_tasks_failure(tmp_path):
    # rt15b p06: EROFS from pid 1 on the task's own target was booked as the machine's (and retried)
    from harbor import Outcome, outcome_of, start_task
    yaml = ('services:\n  side:\n    build:\n      context: side\n    command: ["sleep", "infinity"]\n'
            '    volumes:\n      - "./f:/etc/os-release"\n')
    path = make_task(tmp_path, {"environment/docker-compose.yaml": yaml, "environment/f": "hello\n",
                                "environment/side/Dockerfile": "FROM host\n",
                                "environment/web/Dockerfile": None, "environment/web/secret.txt": None})
    with pytest.raises(Exception) as e:
        with start_task(load_task(path)):
            pass
    assert outcome_of(e.value) is Outcome.SETUP_TASK and "Read-only file system" in str(e.value)
