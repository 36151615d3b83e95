"""rt10b p08: a compose task's sidecars share the task's limits with the main container (one cgroup of the
episode's holding theirs), never each of them the task's full memory_mb: two sidecars that each touch 80 MB
under memory_mb = 100 cannot hold 160 MB together."""
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import sandbox  # noqa: E402
from harbor import load_task, start_task  # noqa: E402

HOG = "python3 -c \"import time; b = bytearray(80 << 20); b[::4096] = bytes(20480); time.sleep(600)\""
COMPOSE = "services:\n" + "".join(f"  s{i}:\n    image: host\n    command: {HOG}\n" for i in range(2))


def make_task(root: Path) -> Path:
    files = {"task.toml": "[environment]\nmemory_mb = 100\n", "instruction.md": "x\n",
             "environment/Dockerfile": "FROM host\nWORKDIR /app\n",
             "environment/docker-compose.yaml": COMPOSE,
             "tests/test.sh": "echo 0 > /logs/verifier/reward.txt\n"}
    for rel, text in files.items():
        (root / "t" / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / "t" / rel).write_text(text)
    return root / "t"


def charged_mb(box) -> int:
    d = box.cgroup.dirs.get("unified") or box.cgroup.dirs["memory"]
    f = "memory.current" if "unified" in box.cgroup.dirs else "memory.usage_in_bytes"
    return int((d / f).read_text()) >> 20


def test_sidecars_share_the_episodes_memory(tmp_path):
    task = load_task(make_task(tmp_path))
    with start_task(task, 0, log=lambda m: None) as env:
        boxes = [env.box, *env.services.boxes]
        if any(b.cgroup is None for b in boxes):
            pytest.skip("no cgroup here (--allow-no-cgroup)")
        time.sleep(3)                          # the sidecars touch their 80 MB (or are OOM-killed)
        used = sum(charged_mb(b) for b in boxes)
        assert used <= 100, f"the episode's sandboxes hold {used} MB with memory_mb = 100"
        group = env.services.group
        assert {p.parent for b in boxes for p in b.cgroup.dirs.values()} == set(group.dirs.values())
    assert not any(d.exists() for d in group.dirs.values())           # removed with the episode
