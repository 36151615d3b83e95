"""The agent's processes never get a network the agent's phase did not have (harbor.verify; rt11b p19).

One network namespace serves both phases, and in Harbor's lifecycle the agent's processes live on into
verification: when the verifier's network is wider than the agent's (the trainer's --no-internet, or the
task's [agent].network_mode = "no-network" under a public verifier), a survivor would be online while the
tests run. Such survivors are killed before the verifier; where the phases' networks agree they live on.
On the code before, the survivor was alive (and online) during the tests: the first test failed."""
import pytest

import harbor
from test_network import needs_pasta, task

# The survivor is known by its command line; test.sh (which sees the agent's PID namespace) scores 1 when
# no process of that line is alive.
SURVIVOR = "nohup sleep 1234.5 >/dev/null 2>&1 & sleep 0.2; echo started"
GONE = ("for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < $f 2>/dev/null | grep -q '^sleep 1234.5' && "
        "{ echo 0 > /logs/verifier/reward.txt; exit 0; }; done; echo 1 > /logs/verifier/reward.txt\n")


@needs_pasta
@pytest.mark.parametrize("toml, internet", [
    ("[environment]\nallow_internet = true\n", False),                                 # --no-internet
    ('[agent]\nnetwork_mode = "no-network"\n[verifier]\nnetwork_mode = "public"\n', True),
])
def test_a_survivor_is_killed_before_a_verifier_with_a_wider_network(tmp_path, toml, internet):
    t = task(tmp_path, toml, {"tests/test.sh": GONE})
    with harbor.start_task(t, internet=internet) as env:
        assert env.run(SURVIVOR).output.strip() == "started"
        assert env.verify() == (1.0, "")


@needs_pasta
@pytest.mark.parametrize("toml, internet", [
    ("[environment]\nallow_internet = true\n", True),                                  # both online
    ("[environment]\nallow_internet = false\n", True),                                 # both offline
    ('[environment]\nnetwork_mode = "public"\n[verifier]\nnetwork_mode = "no-network"\n', True),
])
def test_a_survivor_lives_on_where_the_verifier_has_no_wider_network(tmp_path, toml, internet):
    # Harbor's lifecycle stays as it was: a service the agent started is there for the tests
    t = task(tmp_path, toml, {"tests/test.sh": GONE})
    with harbor.start_task(t, internet=internet) as env:
        assert env.run(SURVIVOR).output.strip() == "started"
        assert env.verify() == (0.0, "")
