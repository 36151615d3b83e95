"""What the sixth red team (rt7) found the verifier trusted because no rule named it (issue 19, class 1; README
"Containment"), on hand-made layers and listings (fast):

A. The image is read as overlayfs merges its layers in every walk, names() included: a name a later layer
   deleted (a whiteout, an opaque directory) is not the image's."""
import os
import stat

import tamper
from test_reward_forgery import PATH


def two_layers(tmp_path, top):
    """An image whose lower layer has the package /srv/x (its __init__.py) and /srv/kept; `top(upper)` makes
    the upper layer."""
    lower, upper = tmp_path / "lower", tmp_path / "upper"
    (lower / "srv/x").mkdir(parents=True)
    (lower / "srv/x/__init__.py").write_text("")
    (lower / "srv/kept.py").write_text("")
    (upper / "srv").mkdir(parents=True)
    top(upper)
    return tamper.Image([str(upper), str(lower)])              # top layer first


def whiteout(upper):                                             # RUN rm /srv/x/__init__.py
    (upper / "srv/x").mkdir()
    os.mknod(upper / "srv/x/__init__.py", 0o600 | stat.S_IFCHR, 0)


def opaque(upper):                                               # RUN rm -r /srv/x && mkdir /srv/x
    (upper / "srv/x").mkdir()
    os.setxattr(upper / "srv/x", "user.overlay.opaque", b"y")


def test_a_name_a_later_layer_deleted_is_not_in_the_image(tmp_path):
    for i, top in enumerate((whiteout, opaque)):
        image = two_layers(tmp_path / str(i), top)
        assert image.names("/srv/x") == set() and image.kind("/srv/x/__init__.py") is None
        assert image.names("/srv") == {"x", "kept.py"}


def test_a_rule_that_reads_names_sees_the_image_as_merged(tmp_path):
    # /srv/x is no package once its __init__.py is gone: `cd /srv/x; python3 -m unittest` imports the
    # agent's unittest.py from it (sys.path[0]). Read over every layer, the deleted __init__.py made /srv/x
    # "a package's own directory", which the rule does not judge.
    for i, top in enumerate((whiteout, opaque)):
        image = two_layers(tmp_path / str(i), top)
        bad = tamper.tampered([tamper.Change("/srv/x/unittest.py", "file")], image, "/app", PATH)
        assert [b.split(" (")[0] for b in bad] == ["/srv/x/unittest.py"]
