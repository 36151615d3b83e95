"""rt11b p11, p18, p24: a compose task is bounded. Its services are capped at load (175 sidecars ran the
trainer out of file descriptors, 40,000 stalled every load), its depends_on order is linear, and one start
has one build clock for every image it builds (main, sidecars, separate verifier), not one per image."""
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import compose  # noqa: E402
import harbor  # noqa: E402
from harbor import TaskError, load_task, start_task  # noqa: E402


def make_task(root: Path, n: int, toml: str = "") -> Path:
    files = {"task.toml": toml, "instruction.md": "x\n",
             "environment/Dockerfile": "FROM host\nWORKDIR /app\n",
             "environment/docker-compose.yaml": "services:\n" + "".join(
                 f"  s{i}:\n    image: host\n    command: [sleep, infinity]\n" for i in range(n)),
             "tests/test.sh": "echo 0 > /logs/verifier/reward.txt\n", "tests/Dockerfile": "FROM host\n"}
    for rel, text in files.items():
        (root / "t" / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / "t" / rel).write_text(text)
    return root / "t"


def test_a_compose_file_over_the_cap_of_services_is_a_one_line_task_error(tmp_path):
    load_task(make_task(tmp_path / "ok", compose.MAX_SERVICES))
    with pytest.raises(TaskError) as e:
        load_task(make_task(tmp_path / "bad", compose.MAX_SERVICES + 1))
    assert f"{compose.MAX_SERVICES + 1} services, over the cap of {compose.MAX_SERVICES}" in str(e.value)
    assert "\n" not in str(e.value)


def test_depends_on_order_is_linear_in_the_services():
    # 20,000 services (past the cap: _order alone): a rescan of the done list per service took ~10 s
    services = {f"s{i}": compose.Service(f"s{i}", [], Path("."), depends_on={f"s{i - 1}": "service_started"}
                                         if i % 2 else {}) for i in range(20_000)}
    t0 = time.monotonic()
    order = [s.name for s in compose._order(services)]
    assert time.monotonic() - t0 < 2
    assert order[:4] == ["s0", "s1", "s2", "s3"] and len(order) == 20_000


def test_one_start_builds_every_image_by_one_deadline(tmp_path, monkeypatch):
    task = load_task(make_task(tmp_path, 2, "[verifier]\nenvironment_mode = \"separate\"\n"))
    seen = []

    def record(build):
        def wrapped(*args, deadline=None, **kw):
            seen.append(deadline)
            return build(*args, deadline=deadline, **kw)
        return wrapped
    for name in ("build_task", "build_service", "build_verifier"):
        monkeypatch.setattr(harbor, name, record(getattr(harbor, name)))
    before = time.monotonic()
    with start_task(task, 0, log=lambda m: None):
        after = time.monotonic()
    assert len(seen) == 4                      # main, two sidecars, the verifier
    assert None not in seen and len(set(seen)) == 1
    assert before + task.build_timeout <= seen[0] <= after + task.build_timeout
