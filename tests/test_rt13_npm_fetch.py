"""npx unable to reach the registry for the runner it fetches is a runner that never started (rt13b p14:
`npx -y mocha /tests/test.js` with the verifier's network off printed `npm error code EAI_AGAIN` and scored
a silent 0; only ENOTCACHED, the --offline wording, was read)."""
import pytest

import harbor


@pytest.mark.parametrize("code", ["EAI_AGAIN", "ENOTFOUND", "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT"])
@pytest.mark.parametrize("style", ["npm error code", "npm ERR! code"])
def test_npm_unable_to_reach_the_registry_is_the_runner_missing(style, code):
    assert harbor.runner_missing(f"{style} {code}")


def test_other_npm_errors_are_not():
    assert not harbor.runner_missing("npm error code ELIFECYCLE")      # the agent's own script failed
