"""rt12b p07-p09: a registry image's config is the task's data, checked when the image is resolved with the
checks the Dockerfile's own lines get at load; each bad value is the task's one line (BuildError), before a
layer is unpacked, never an exception of another kind or a start that fails as the machine's."""
import json

import pytest

import images
import registry


def pull(monkeypatch, tmp_path, config):
    """images._pull with the registry answering `config`; what reached _save (nothing if refused)."""
    saved = []
    monkeypatch.setattr(registry, "pull", lambda *a, **kw: config)
    monkeypatch.setattr(images, "_disk_cap", lambda *a: (1 << 30, 1 << 20))
    monkeypatch.setattr(images, "_save", lambda ref, f, source, env, workdir, cache, name, run:
                        saved.append((env, workdir, run)) or "saved")
    images._pull("reg.example/img:1", "reg.example/img:1", lambda m: None, tmp_path, "n", None, ())
    return saved


@pytest.mark.parametrize("config, key", [
    ({"Env": ["PATH=/bin", "A=" + "x" * 200_000]}, "Env"),       # exec's E2BIG at pid 1's start
    ({"Env": ["A=x\0y"]}, "Env"),                                 # the shell could not start, every command
    ({"Env": ["=x"]}, "Env"),
    ({"Env": ["PATH=/bin", 5]}, "Env"),                           # TypeError escaped
    ({"Env": {"A": "b"}}, "Env"),
    ({"User": 5}, "User"),                                        # AttributeError escaped
    ({"User": "ro ot"}, "User"),
    ({"Entrypoint": ["/bin/sh\0x"]}, "Entrypoint"),
    ({"Cmd": "sleep 1"}, "Cmd"),
    ({"WorkingDir": ["/a"]}, "WorkingDir"),
    ({"WorkingDir": "/proc/sys/x"}, "WorkingDir"),
    ({"Healthcheck": {"Test": ["CMD", "true\0"]}}, "Healthcheck"),
])
def test_a_bad_config_value_is_the_tasks_one_line_before_anything_is_unpacked(monkeypatch, tmp_path,
                                                                               config, key):
    with pytest.raises(images.BuildError, match=f"its config's {key} ") as e:
        pull(monkeypatch, tmp_path, config)
    assert "\n" not in str(e.value) and len(str(e.value)) < 300


def test_a_config_that_is_not_an_object_is_the_tasks_one_line(monkeypatch, tmp_path):
    with pytest.raises(images.BuildError, match="its config is not a JSON object"):
        pull(monkeypatch, tmp_path, [1, 2])


def test_an_ordinary_config_is_kept_as_docker_reads_it(monkeypatch, tmp_path):
    config = {"Env": ["PATH=/usr/bin:/bin", "LANG=C.UTF-8", "BARE"], "WorkingDir": "/srv//app/",
              "User": "app:app", "Entrypoint": ["/bin/sh", "-c"], "Cmd": ["sleep 1"],
              "Healthcheck": {"Test": ["CMD", "true"], "Interval": 1}}
    [(env, workdir, run)] = pull(monkeypatch, tmp_path, config)
    assert env == {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"} and workdir == "/srv/app"
    assert run == {"user": "app:app", "entrypoint": ["/bin/sh", "-c"], "cmd": ["sleep 1"],
                   "healthcheck": config["Healthcheck"]}
    [(env, workdir, run)] = pull(monkeypatch, tmp_path, {"Env": None, "Cmd": []})
    assert env == {} and workdir == "/" and run["user"] == "root" and run["cmd"] is None


def test_an_image_cached_before_the_check_is_checked_when_it_is_used(tmp_path):
    (tmp_path / "images" / "old").mkdir(parents=True)
    (tmp_path / "images" / "old" / "image.json").write_text(json.dumps(
        {"ref": "reg.example/img:1", "env": {"A": "x\0y"}, "workdir": "/"}))
    with pytest.raises(images.BuildError, match="Env holds a NUL byte"):
        images._cached("old", tmp_path)
