"""An ENTRYPOINT without a healthcheck: the agent's first command waits until what it started settles
(harbor._await_settled), as in Harbor, where the agent starts seconds after the container. Episodes on the
tiny real image of test_harbor_lifecycle (root and ldd)."""
import time

import harbor
from test_harbor_lifecycle import REWARD, episode, store  # noqa: F401 (a fixture)
from test_images import task_dir

# ~1-2 s of a CPU before the service is ready (reverse_engineering_agent's control plane imports FastAPI),
# then its ready file, then the entrypoint execs its arguments (Harbor's `sh -c "sleep infinity"`)
BUSY = ('#!/bin/bash\ni=0; while [ $i -lt 150000 ]; do i=$((i+1)); done\n'
        'echo ready > /srv/ready.tmp && cp /srv/ready.tmp /srv/ready\nexec "$@"\n')
DOCKERFILE = ("FROM tiny\nRUN mkdir -p /srv /app\nCOPY entry.sh /entry.sh\nRUN chmod +x /entry.sh\n"
              'WORKDIR /app\nENTRYPOINT ["/entry.sh"]\n')
TOML = "[environment]\nallow_internet = false\n"


def test_the_agents_first_command_comes_after_a_busy_entrypoint_is_ready(store, tmp_path):  # noqa: F811
    path = task_dir(tmp_path, DOCKERFILE, '[ "$(cat /app/answer)" = ready ] ' + REWARD,
                    solve="cat /srv/ready > /app/answer\n", toml=TOML, files={"environment/entry.sh": BUSY})
    with episode(store, path) as env:
        assert env.run("cat /srv/ready").output == "ready\n"
        assert env.verify() == (0.0, "")
    with episode(store, path) as env:
        assert env.solve().exit_code == 0
        assert env.verify() == (1.0, "")


def test_an_entrypoint_that_computes_for_good_is_waited_for_no_longer_than_the_cap(store, tmp_path,  # noqa
                                                                                   monkeypatch):
    monkeypatch.setattr(harbor, "SETTLE_CAP_S", 1.5)
    spin = '#!/bin/bash\nwhile :; do :; done\n'
    path = task_dir(tmp_path, DOCKERFILE, "exit 0\n", toml=TOML, files={"environment/entry.sh": spin})
    t0 = time.monotonic()
    with episode(store, path) as env:
        waited = time.monotonic() - t0
        assert env.run("echo up").output == "up\n"
    assert 1.5 <= waited < 15, waited


def test_an_idle_entrypoint_costs_only_the_window(store, tmp_path, monkeypatch):  # noqa: F811
    waits = []
    settle = harbor._await_settled
    monkeypatch.setattr(harbor, "_await_settled", lambda box, deadline: waits.append(settle(box, deadline)))
    path = task_dir(tmp_path, DOCKERFILE, "exit 0\n", toml=TOML,
                    files={"environment/entry.sh": '#!/bin/sh\nexec "$@"\n'})
    with episode(store, path) as env:
        assert env.run("echo up").output == "up\n"
    assert len(waits) == 1 and harbor.SETTLE_WINDOW_S <= waits[0] < 3, waits
