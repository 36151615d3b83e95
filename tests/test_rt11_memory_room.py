"""A compose task's volumes are sized by the clamped memory and their bind copies are the episode's memory
(sandbox.clamp_memory_mb, copy_charged; rt11b p17).

The volumes tmpfs was sized from the task's unclamped memory_mb (48 GiB for 65536 on a 24 GiB host) and
filled by the trainer, charged to the trainer. Now it is sized by the clamp and copied by a process in the
episode's cgroup. On the code before, every test here failed: no clamp_memory_mb, the copy the trainer's,
its overflow a raw shutil.Error."""
import pytest

import harbor
import sandbox
from sandbox import Limits


def test_the_volumes_tmpfs_is_sized_by_the_clamped_memory():
    # memory_mb = 65536 on any machine under 85 GiB: 3/4 of the clamp, not 3/4 of 65536 (48 GiB)
    limits = Limits(memory_mb=10 ** 7, storage_mb=10 ** 8)
    assert harbor.volume_mb(limits) == sandbox.memory_room_mb() * 3 // 4


def test_a_bind_volumes_copy_is_charged_to_the_episode(tmp_path):
    root = tmp_path / "t"
    files = {"task.toml": "[environment]\nmemory_mb = 512\n", "instruction.md": "x\n",
             "environment/Dockerfile": "FROM host\nWORKDIR /app\n",
             "environment/docker-compose.yaml": "services:\n  main:\n    volumes:\n      - ./data:/data\n",
             "tests/test.sh": "echo 0 > /logs/verifier/reward.txt\n"}
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (root / "environment/data").mkdir()
    with open(root / "environment/data/zeros", "wb") as f:
        f.truncate(100 << 20)                 # sparse: no block on the task's disk, 100 MiB once copied
    with harbor.start_task(harbor.load_task(root), log=lambda m: None) as env:
        group = env.services.group
        if group is None:
            pytest.skip("no cgroup here (--allow-no-cgroup)")
        d = next(iter(group.dirs.values()))
        used = int((d / ("memory.current" if "unified" in group.dirs else "memory.usage_in_bytes"))
                   .read_text())
        assert used >= 100 << 20, f"the episode's cgroup holds {used >> 20} MiB"
        # the agent's own file, as the task has it
        assert env.run("stat -c %s /data/zeros").output.strip() == str(100 << 20)


def test_a_bind_volume_past_the_episodes_room_is_the_tasks_failure_in_one_line(tmp_path):
    root = tmp_path / "t"
    files = {"task.toml": "[environment]\nmemory_mb = 64\n", "instruction.md": "x\n",
             "environment/Dockerfile": "FROM host\nWORKDIR /app\n",
             "environment/docker-compose.yaml": "services:\n  main:\n    volumes:\n      - ./data:/data\n",
             "tests/test.sh": "echo 0 > /logs/verifier/reward.txt\n"}
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (root / "environment/data").mkdir()
    with open(root / "environment/data/zeros", "wb") as f:
        f.truncate(200 << 20)                 # over 3/4 of 64 MiB
    with pytest.raises(harbor.SetupError) as e:
        harbor.start_task(harbor.load_task(root), log=lambda m: None)
    assert not e.value.infrastructure and "volume './data'" in str(e.value)
    assert "No space left on device" in str(e.value) and "\n" not in str(e.value)
