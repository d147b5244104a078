"""The guest image: a Debian root built once by debootstrap and cached under a hash of its recipe."""

import fcntl
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from . import kernel
from . import paths
from . import states

# Debian releases a guest can run. Every root boots on the one user-mode Linux kernel of the
# machine (kernel.py says which and why), with its modules copied into the root: one kernel keeps
# the releases comparable.
SUITES = ("bullseye", "bookworm", "trixie")
DEFAULT_SUITE = "bookworm"
PACKAGES = (
    "systemd", "systemd-sysv", "udev", "lvm2", "dmeventd", "thin-provisioning-tools", "kmod",
    "openssh-server", "openssh-sftp-server", "python3", "xfsprogs", "e2fsprogs", "iproute2",
    "procps", "util-linux", "docker.io", "containerd", "busybox-static",
    # the apt module needs it; customize.sh keeps docker.io's .deb in a local repository so that
    # tests can remove Docker and have a role install it again without any network
    "python3-apt",
)
IMAGE_SIZE = "3G"
GUEST_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "guest")


class ImageError(RuntimeError):
    pass


def kernel_version():
    try:
        return kernel.current(debian_mirror).version
    except kernel.KernelError as exc:
        raise ImageError(str(exc))


def debian_mirror():
    """The mirror apt already uses, so the project never names a host of its own."""
    for path in ["/etc/apt/sources.list.d/debian.sources"]:
        if os.path.exists(path):
            with open(path) as handle:
                for line in handle:
                    if line.startswith("URIs:"):
                        return line.split()[1]
    for path in ["/etc/apt/sources.list"] + glob.glob("/etc/apt/sources.list.d/*.list"):
        if os.path.exists(path):
            with open(path) as handle:
                for line in handle:
                    words = line.split()
                    if words[:1] == ["deb"] and "security" not in line:
                        uris = [w for w in words[1:] if "://" in w]
                        if uris:
                            return uris[0]
    raise ImageError("cannot find a Debian mirror in /etc/apt/sources.list(.d)")


def check_suite(suite):
    if suite not in SUITES:
        raise ImageError("unknown release %r: one of %s" % (suite, ", ".join(SUITES)))
    return suite


def recipe(suite=DEFAULT_SUITE):
    """Everything that determines the image's content; a change to any of it means a rebuild."""
    check_suite(suite)
    files = {}
    for name in sorted(os.listdir(GUEST_DIR)):
        with open(os.path.join(GUEST_DIR, name), "rb") as handle:
            files[name] = hashlib.sha256(handle.read()).hexdigest()
    return {"suite": suite, "packages": list(PACKAGES), "size": IMAGE_SIZE,
            "kernel": kernel_version(), "guest_files": files}


def recipe_hash(rec=None, suite=DEFAULT_SUITE):
    text = json.dumps(rec or recipe(suite), sort_keys=True).encode()
    return hashlib.sha256(text).hexdigest()[:16]


class Image(object):
    def __init__(self, directory):
        self.directory = directory
        self.base = os.path.join(directory, "base.img")
        self.key = os.path.join(directory, "id_ed25519")
        self.kernel_version = None
        self.suite = None
        meta = os.path.join(directory, "recipe.json")
        if os.path.exists(meta):
            with open(meta) as handle:
                rec = json.load(handle)
            self.kernel_version = rec["kernel"]
            self.suite = rec["suite"]

    @property
    def ready(self):
        return os.path.exists(self.base) and os.path.exists(self.key)


def current(suite=DEFAULT_SUITE):
    return Image(os.path.join(paths.images_dir(), recipe_hash(suite=suite)))


def _run(argv, log, **kwargs):
    log.write("+ %s\n" % " ".join(argv))
    log.flush()
    proc = subprocess.run(argv, stdout=log, stderr=subprocess.STDOUT, **kwargs)
    if proc.returncode != 0:
        raise ImageError("%s failed (rc=%d); see %s" % (" ".join(argv[:3]), proc.returncode, log.name))


def build(suite=DEFAULT_SUITE, force=False, out=sys.stderr):
    """Return the cached image of a release's current recipe, building it first when absent."""
    rec = recipe(suite)
    image = Image(os.path.join(paths.images_dir(), recipe_hash(rec)))
    if image.ready and not force:
        return image
    os.makedirs(paths.images_dir(), exist_ok=True)
    # One build per release at a time; different releases build side by side.
    with open(os.path.join(paths.images_dir(), ".lock-" + suite), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if image.ready and not force:
            return image
        started = time.time()
        work = tempfile.mkdtemp(prefix="build-", dir=paths.images_dir())
        log_path = os.path.join(paths.images_dir(), "build-%s.log" % recipe_hash(rec))
        out.write("testhost: building %s guest image %s (log: %s)\n" % (suite, recipe_hash(rec),
                                                                     log_path))
        try:
            with open(log_path, "w") as log:
                _build_into(work, rec, log)
            if os.path.exists(image.directory):
                shutil.rmtree(image.directory)
            os.rename(work, image.directory)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        out.write("testhost: image built in %.0f s\n" % (time.time() - started))
        _prune(keep=image.directory, suite=suite)
    return Image(image.directory)


def images_in_use():
    """Image directories that some lab's guest or saved guest boots from (copy-on-write layers
    need their image)."""
    in_use = set()
    labs = paths.labs_dir()
    for name in os.listdir(labs) if os.path.isdir(labs) else []:
        try:
            with open(os.path.join(labs, name, "state.json")) as handle:
                state = json.load(handle)
        except (OSError, ValueError):
            continue
        in_use.update(g.get("image") for g in state.get("guests", []))
    saved = states.states_dir()
    for name in os.listdir(saved) if os.path.isdir(saved) else []:
        try:
            in_use.add(states.load(os.path.join(saved, name))["image"])
        except states.StateError:
            continue        # a lock file, or a guest being saved
    return in_use


def _prune(keep, suite):
    """Remove the same release's images of older recipes that no lab still boots from."""
    in_use = images_in_use() | {keep}
    for name in os.listdir(paths.images_dir()):
        path = os.path.join(paths.images_dir(), name)
        if (os.path.isdir(path) and path not in in_use and not name.startswith("build-")
                and Image(path).suite in (suite, None)):
            shutil.rmtree(path, ignore_errors=True)


def _build_into(work, rec, log):
    root = os.path.join(work, "root")
    kver = rec["kernel"]
    _run(["debootstrap", "--variant=minbase", "--include=" + ",".join(rec["packages"]),
          rec["suite"], root, debian_mirror()], log)
    _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "testhost", "-f",
          os.path.join(work, "id_ed25519")], log)
    shutil.copytree(kernel.current().modules, os.path.join(root, "lib/modules", kver))
    staging = os.path.join(root, "tmp/testhost-guest")
    shutil.copytree(GUEST_DIR, staging)
    shutil.copy(os.path.join(work, "id_ed25519.pub"), os.path.join(staging, "authorized_keys"))
    _run(["chroot", root, "/bin/sh", "/tmp/testhost-guest/customize.sh", kver], log,
         env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"})
    # The root is packed into an ext4 image so that each guest can run on a copy-on-write layer
    # of it (ubda=cow,base) instead of a copy of 1 GB of files.
    _run(["mkfs.ext4", "-q", "-L", "testhost", "-d", root, os.path.join(work, "base.img"),
          rec["size"]], log)
    shutil.rmtree(root)
    with open(os.path.join(work, "recipe.json"), "w") as handle:
        json.dump(rec, handle, indent=1, sort_keys=True)
