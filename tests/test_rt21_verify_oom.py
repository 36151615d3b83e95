"""A process the OOM killer took while the tests ran is a check with no verdict (rt21a p02): the agent filled
the episode's memory with files before the seal, test.sh's negative check (`if ! check; then pass`) was
killed, and read as a pass. The episode's memory is the agent's to keep: its 0, never a score."""
from harbor import load_task, start_task
from test_harbor_episodes import make_task

TEST_SH = """if ! python3 -c 'b = bytearray(96 << 20); b[::4096] = b"x" * len(b[::4096])'; then
  echo 1 > /logs/verifier/reward.txt; else echo 0 > /logs/verifier/reward.txt; fi
"""


def test_a_check_the_oom_killer_took_is_no_pass(tmp_path):
    toml = "[agent]\ntimeout_sec = 60\n[environment]\nmemory_mb = 128\n"
    task = load_task(make_task(tmp_path, files={"tests/test.sh": TEST_SH}, toml=toml))
    with start_task(task) as env:
        env.run("mkdir -p /app; for i in $(seq 24); do head -c 4M /dev/zero > /app/f$i || break; done")
        reward, reason = env.verify()
    assert reward == 0.0 and "ran out of the episode's memory" in reason, reason
