"""A reward file the verifier wrote is read by one function (harbor.read_reward): whatever it holds, the
episode ends with its reward or with a VerifierError naming the file, never a harness error (rt10a p20,
rt10b p05: 3,000 nested `[` made json.loads raise RecursionError, booked as Outcome.ERROR)."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import harbor  # noqa: E402
from harbor import Outcome, VerifierError, load_task, outcome_of, start_task, verify  # noqa: E402
from test_harbor_episodes import make_task  # noqa: E402


def test_a_deeply_nested_reward_json_is_a_verifier_error_naming_the_file(tmp_path):
    test_sh = ("python3 -c 'import sys; sys.stdout.write(\"{\\\"reward\\\": \" + \"[\" * 3000)' "
               "> /logs/verifier/reward.json\n")
    task = load_task(make_task(tmp_path, "r", files={"tests/test.sh": test_sh}))
    with start_task(task) as sb, pytest.raises(VerifierError, match=r"task 'r': reward\.json garbled") as e:
        verify(sb, task)
    assert outcome_of(e.value) == Outcome.VERIFIER_ERROR


@pytest.mark.parametrize("name, data", [
    ("reward.json", b'{"reward": ' + b"[" * 4000),      # RecursionError
    ("reward.json", b'{"reward": ' + b"{" * 4000),
    ("reward.json", b'{"reward": ' + b"9" * 4090 + b"}"),  # int over sys.get_int_max_str_digits
    ("reward.json", b'{"reward": true}'),                # a bool is not a reward
    ("reward.json", b'["reward"]'),
    ("reward.txt", b"\xff\xfe1"),
    ("reward.txt", b"1" * 4096),                         # inf: not in [0, 1]
])
def test_no_reward_file_escapes_as_another_error(name, data):
    with pytest.raises(VerifierError, match=f"task 't': {name} "):
        harbor.read_reward("t", name, data)


def test_a_clean_reward_reads_as_its_number():
    assert harbor.read_reward("t", "reward.json", b'{"reward": 0.5, "other": [1]}') == 0.5
    assert harbor.read_reward("t", "reward.txt", b" 1\n") == 1.0
