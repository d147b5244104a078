"""Where the tool keeps its image cache and the state of each lab."""

import os

DEFAULT_HOME = "/var/tmp/devmapper-testhost"


def home():
    return os.environ.get("TESTHOST_HOME", DEFAULT_HOME)


def images_dir():
    return os.path.join(home(), "images")


def labs_dir():
    return os.path.join(home(), "labs")


def lab_dir(lab):
    return os.path.join(labs_dir(), lab)
