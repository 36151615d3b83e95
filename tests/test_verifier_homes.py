"""The verifier reads no per-user configuration the agent wrote (CONTAINMENT.md: homes are the image's).

A tool test.sh runs may read a file in a home before it does what it was asked (ssh's ~/.ssh/config `Match
exec`, sqlite3's ~/.sqliterc `.shell`, gdb's ~/.gdbinit: rt7 p01, p02, p07), and no list of such tools is
complete. `tool` below stands for all of them: it sources its rc file. Each attack scored 1.0 on the code
before sandbox_init.verifier_homes, in both lifecycles. On the real Debian base (as test_verifier_caches)."""
import pytest

import harbor
import sandbox_init
from test_agent_processes import make_task, score

# Harbor's lifecycle (the default: the agent's processes live on) and --kill-agent-processes
DEFAULT, KILL = harbor.Limits(), harbor.Limits(keep_agent_processes=False)
# a program of the image that reads its user's configuration from a home, as ssh, sqlite3 or gdb do
TOOL = ("FROM debian:bookworm\nWORKDIR /app\n"
        "RUN printf '#!/bin/sh\\nrc=${TOOLRC:-$HOME/.toolrc}; [ -f \"$rc\" ] && . \"$rc\"; exit 0\\n' "
        "> /usr/local/bin/tool && chmod 755 /usr/local/bin/tool && useradd -m app\n")
FORGE = "echo 1 > /logs/verifier/reward.txt"


@pytest.fixture(scope="module")
def real(debian_base):
    return debian_base


def task(tmp_path, test_sh: str, dockerfile: str = TOOL, files=None) -> harbor.Task:
    t = make_task(tmp_path, test_sh, dockerfile=dockerfile, files=files)
    harbor.build_task(t, log=lambda m: None)
    return t


# test.sh runs the tool, then writes 0 where nothing wrote a reward: 1.0 only if the agent's rc file ran
CHECK = ("tool\n[ -s /logs/verifier/reward.txt ] || echo 0 > /logs/verifier/reward.txt\n")


@pytest.mark.parametrize("limits", [DEFAULT, KILL], ids=["default", "kill"])
@pytest.mark.parametrize("attack,test_sh,dockerfile", [
    # root's own rc file, in its home (HOME=/root)
    (f"echo '{FORGE}' > /root/.toolrc", CHECK, TOOL),
    # another user's, read when test.sh switches to it (su's child runs with that user's HOME)
    (f"echo '{FORGE}' > /home/app/.toolrc; chmod 644 /home/app/.toolrc",
     "chmod 777 /logs/verifier; su app -s /bin/sh -c tool\n"
     "[ -s /logs/verifier/reward.txt ] || echo 0 > /logs/verifier/reward.txt\n", TOOL),
    # configuration found through the environment: the image's XDG_CONFIG_HOME (rt7 p04)
    (f"mkdir -p /cfg/tool && echo '{FORGE}' > /cfg/tool/rc",
     "TOOLRC=$XDG_CONFIG_HOME/tool/rc " + CHECK, TOOL + "ENV XDG_CONFIG_HOME=/cfg\n"),
    # a home the agent made and named its own (useradd -m in the episode)
    (f"useradd -m eve && echo '{FORGE}' > /home/eve/.toolrc && chmod 644 /home/eve/.toolrc",
     "chmod 777 /logs/verifier; su eve -s /bin/sh -c tool\n"
     "[ -s /logs/verifier/reward.txt ] || echo 0 > /logs/verifier/reward.txt\n", TOOL),
], ids=["root", "su-user", "xdg-config-home", "new-user"])
def test_a_tools_per_user_config_the_agent_wrote_does_not_run_in_the_verifier(real, tmp_path, limits, attack,
                                                                              test_sh, dockerfile):
    t = task(tmp_path, test_sh, dockerfile)
    assert score(t, attack, limits=limits) == 0.0


def test_the_verifier_sees_the_images_home_and_may_write_it(real, tmp_path):
    # the image's file is there, the agent's change and its new file are not; test.sh's own write works
    # (`cd`: to HOME, which the tests do not name)
    t = task(tmp_path, "cd && [ \"$(cat .keep)\" = img ] && [ ! -e .new ] && echo v > .w && "
             "[ \"$(cat .w)\" = v ] && echo 1 > /logs/verifier/reward.txt\n",
             TOOL + "RUN echo img > /root/.keep\n")
    assert score(t, "echo agent > /root/.keep; touch /root/.new", limits=DEFAULT) == 1.0


@pytest.mark.parametrize("limits", [DEFAULT, KILL], ids=["default", "kill"])
@pytest.mark.parametrize("attack,test_sh,dockerfile", [
    # test.sh's HOME is where the image's ENV puts it (rt8 p02)
    (f"mkdir -p /srv/h && echo '{FORGE}' > /srv/h/.toolrc", CHECK, TOOL + "ENV HOME=/srv/h\n"),
    # ... or its user's home in /etc/passwd, wherever that is (rt8 p01: nobody's /nonexistent)
    (f"mkdir -p /nonexistent && echo '{FORGE}' > /nonexistent/.toolrc && chmod -R 755 /nonexistent",
     CHECK, TOOL + "RUN useradd -r -d /nonexistent -s /bin/sh runner\n"),
    # 256 homes of the agent's under /home do not push an image user's home out of the image's view (rt8 p03)
    (f"mkdir /home/a$(seq -s ' /home/a' 0 255) && echo '{FORGE}' > /home/tester/.toolrc && "
     "chmod 644 /home/tester/.toolrc", "chmod 777 /logs/verifier; su tester -s /bin/sh -c tool\n"
     "[ -s /logs/verifier/reward.txt ] || echo 0 > /logs/verifier/reward.txt\n",
     TOOL.replace("WORKDIR /app", "WORKDIR /home/app") + "RUN useradd -m tester && mkdir -p /home/app\n"),
    # Terminal-Bench 2's test.sh line names one file in HOME: that file is the agent's, not the home (rt8 p07)
    (f"echo '{FORGE}' > /root/.toolrc", "source $HOME/.local/bin/env 2>/dev/null\n" + CHECK, TOOL),
], ids=["image-env-home", "passwd-home", "many-homes", "one-named-file"])
def test_homes_outside_root_and_home_or_crowded_or_partly_named_are_the_images(real, tmp_path, limits, attack,
                                                                              test_sh, dockerfile):
    user = "user = \"runner\"\n" if "runner" in dockerfile else ""                 # test.sh as runner
    toml = "[verifier]\ntimeout_sec = 15\n" + user + "[environment]\nallow_internet = false\n"
    t = task(tmp_path, test_sh, dockerfile, files={"task.toml": toml})
    assert score(t, attack, limits=limits) == 0.0


def test_a_path_the_tests_name_in_a_home_is_the_agents_and_only_it(real, tmp_path):
    # a task whose check reads what the agent left in a home (TermiGen: ~/.bashrc, ~/.wgetrc, ...): that
    # file is there; the agent's rc file beside it is not
    t = task(tmp_path, "tool; [ ! -e /logs/verifier/ran ] && grep -q done /root/notes.txt && "
             "echo 1 > /logs/verifier/reward.txt\n")
    attack = "echo done > /root/notes.txt; echo 'touch /logs/verifier/ran' > /root/.toolrc"
    assert score(t, attack, limits=DEFAULT) == 1.0


def test_a_workdir_inside_a_home_is_the_agents(real, tmp_path):
    t = task(tmp_path, "tool; [ ! -e /logs/verifier/ran ] && grep -q done out.txt && "
             "echo 1 > /logs/verifier/reward.txt\n", TOOL + "WORKDIR /root/project\n")
    attack = "echo done > out.txt; echo 'touch /logs/verifier/ran' > /root/.toolrc"
    for limits in (DEFAULT, KILL):
        assert score(t, attack, limits=limits) == 1.0


def test_a_home_that_holds_the_workdir_is_the_agents(real, tmp_path):
    # WORKDIR /root (134 of 3,566 TermiGen tasks): the workdir is the agent's to change
    t = task(tmp_path, "grep -q done out.txt && echo 1 > /logs/verifier/reward.txt\n",
             TOOL + "WORKDIR /root\n")
    assert score(t, "echo done > out.txt", limits=DEFAULT) == 1.0


R, H = "/root/*", "/home/*/*"                  # each entry of a home but its dot-entries: the agent's


@pytest.mark.parametrize("home,workdir,kept,want", [
    ("/root", "/app", (), (("/root", ()), ("/home", ()))),
    ("/root", "/home/app/w", (), (("/root", ()), ("/home", ("/home/app/w",)))),   # the workdir bound back
    ("/root", "/root", (), (("/home", ()),)),                              # WORKDIR /root: the agent's
    ("/root", "/app", ("~",), (("/root", (R,)), ("/home", ()))),           # the tests name HOME: its glob
    ("/root", "/app", ("~/notes.txt", "/home/bob/x"), (("/root", ("/root/notes.txt",)),
                                                       ("/home", ("/home/bob/x",)))),
    ("/srv/h", "/app", (), (("/root", ()), ("/home", ()), ("/srv/h", ()))),  # the image's or user's HOME
    ("/home/app", "/app", (), (("/root", ()), ("/home", ()))),              # inside /home: /home's
    ("/nonexistent", "/app", ("/",),                                        # tests/ too big to read
     (("/root", (R,)), ("/home", (H,)), ("/nonexistent", ("/nonexistent/*",)))),
    ("/", "/app", (), (("/root", ()), ("/home", ()))),                      # never the root, /usr, /etc
    ("/etc", "/app", (), (("/root", ()), ("/home", ()))),
])
def test_verifier_homes(home, workdir, kept, want):
    assert sandbox_init.verifier_homes(home, {}, workdir, kept) == want


def test_verifier_homes_takes_the_xdg_dirs_of_the_environment():
    env = {"XDG_CONFIG_HOME": "/cfg", "XDG_DATA_HOME": "rel", "XDG_STATE_HOME": "/app/state"}
    # config is config under the workdir too; a relative value names no directory
    assert sandbox_init.verifier_homes("/root", env, "/app", ()) == (
        ("/root", ()), ("/home", ()), ("/cfg", ()), ("/app/state", ()))


def test_homes_named_reads_the_tests(tmp_path):
    (tmp_path / "test.sh").write_text("source $HOME/.local/bin/env\ncat ~/.bashrc; ls /home/app/x /root\n")
    (tmp_path / "t.py").write_text("'/rooted' '/homework' f'/root/{name}' ${HOME}/a\n")
    assert harbor.homes_named(tmp_path) == ("/home/app/x", "/root", "~/.bashrc", "~/.local/bin/env", "~/a")
    (tmp_path / "u.py").write_text("Path.home()\n")
    assert "~" in harbor.homes_named(tmp_path)


def test_the_home_and_xdg_dirs_a_tasks_verifier_env_sets_are_the_images(real, tmp_path):
    # [verifier].env HOME=/srv/h and XDG_CONFIG_HOME=/srv/c: test.sh's tools read there, so the verifier
    # sees them as the image had them (none: empty)
    toml = ("[verifier]\ntimeout_sec = 15\n[verifier.env]\nHOME = \"/srv/h\"\nXDG_CONFIG_HOME = \"/srv/c\"\n"
            "[environment]\nallow_internet = false\n")
    t = task(tmp_path, "tool; TOOLRC=$XDG_CONFIG_HOME/rc tool\n" + CHECK.split("\n", 1)[1],
             files={"task.toml": toml})
    attack = f"mkdir -p /srv/h /srv/c && echo '{FORGE}' > /srv/h/.toolrc && cp /srv/h/.toolrc /srv/c/rc"
    assert score(t, attack, limits=DEFAULT) == 0.0

