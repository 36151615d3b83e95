"""A module the task's tests import only inside `try:` is no deliverable (rt15a p22): the tests run without
it, so the agent's module under that name is a door into the verifier's Python, judged as the image's own
guarded imports are (tamper.tests_optional; tampered's `optional`). A name the tests also import outside a
`try:` (a fallback in `except`, the agent's own module) stays theirs to ask for. Failing before: the tests'
imports were all "named", and a named module is never judged as optional."""
import pytest

import harbor
import tamper
from test_harbor_verifier import episode
from test_rt11_optional_imports import SITE, image, judge  # noqa: F401 (a fixture)

TEST = """import os
try:
    import fastcheck
except ImportError:
    fastcheck = None
try:
    from app_extra import speedup
except Exception:
    speedup = None
import json
"""


def test_only_names_the_tests_import_guarded_alone_are_optional(tmp_path):
    (tmp_path / "test_a.py").write_text(TEST + "try:\n    import ujson as j\nexcept ImportError:\n"
                                        "    import json as j\ntry: import yaml\nexcept ImportError: pass\n")
    (tmp_path / "helpers.py").write_text("import yaml\n")          # a plain import elsewhere: not optional
    assert tamper.tests_optional(str(tmp_path)).keys() == {"fastcheck", "app_extra", "ujson"}


def test_the_agents_module_under_a_tests_optional_name_is_judged(image):  # noqa: F811
    optional = {"fastcheck": "the task's tests"}
    for path in (f"{SITE}/fastcheck.py", f"{SITE}/fastcheck"):
        kind = "file" if path.endswith(".py") else "dir"
        bad = tamper.tampered([tamper.Change(path, kind)], image, "/app", ["/usr/bin"], tests_optional=optional)
        assert [b.split(" (")[0] for b in bad] == [path]
    # the same module where the instruction asks for it by name: the agent's to write
    assert tamper.tampered([tamper.Change(f"{SITE}/fastcheck.py", "file")], image, "/app", ["/usr/bin"],
                           tests_optional=optional, named=frozenset({"fastcheck"})) == []


TEST_SH = """#!/bin/bash
cd /app && python3 -c '
import os
try:
    import fastcheck
except ImportError:
    fastcheck = None
ok = open("/app/answer.txt").read().strip() == "42" if os.path.exists("/app/answer.txt") else False
open("/logs/verifier/reward.txt", "w").write("1" if ok else "0")
'
"""


def test_a_planted_module_the_tests_try_does_not_score(tmp_path):
    from test_harbor_verifier import make_task
    path = make_task(tmp_path, toml="[verifier]\ntimeout_sec = 60\n", test_sh=TEST_SH, verifier_dockerfile=None,
                     dockerfile="FROM host\nWORKDIR /app\n", solve="echo 42 > /app/answer.txt\n")
    (path / "tests" / "test_outputs.py").write_text(TEST)
    task = harbor.load_task(path)
    # the plant: a module under the name the tests try, in the directory their Python runs from (sys.path[0]),
    # writing the reward and ending the tests' Python
    plant = ("mkdir -p /app && printf '%s\\n' 'import os' "
             "'open(\"/logs/verifier/reward.txt\", \"w\").write(\"1\")' 'os._exit(0)' > /app/fastcheck.py")
    with pytest.raises(harbor.TamperedError, match="fastcheck"):
        episode(task, plant)
    assert episode(task)[0] == 1.0                                 # the oracle's answer, no plant: 1
