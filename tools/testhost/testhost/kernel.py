"""The user-mode Linux kernel every guest boots, and its modules, fetched from Debian once.

Why not the machine's own (Debian 12's user-mode-linux, 6.1): user-mode Linux before 6.13 keeps
a fixed-size copy of the FP registers and restores it with PTRACE_SETREGSET, which the host
refuses (EFAULT) when its XSAVE area is larger (AVX-512, AMX): "userspace - ptrace set fp regs
failed, errno = 14", then a kernel panic as init starts. 6.13 sizes that copy from the host. So
the kernel comes from the first of KERNEL_SUITES that carries a user-mode-linux of 6.13 or later
(Debian testing, today), and since that build links a newer glibc than Debian 12's, the glibc of
LIBC_SUITE comes with it: the kernel binary is pointed at that glibc's loader (patchelf), which
keeps it loaded at its own fixed address (starting it through the loader does not: UML then
finds its memory layout wrong).

One kernel per machine: the first fetch is kept under TESTHOST_HOME/kernels and used from then
on, offline; its version is part of every image's recipe (image.py), so a different kernel means
rebuilt images."""

import fcntl
import hashlib
import json
import lzma
import os
import re
import shutil
import subprocess
import tempfile
import urllib.request

from . import paths

KERNEL_PACKAGE = "user-mode-linux"
KERNEL_SUITES = ("forky", "sid")
MIN_KERNEL = (6, 13)
LIBC_PACKAGE = "libc6"
LIBC_SUITE = "trixie"
ARCH = "amd64"


class KernelError(RuntimeError):
    pass


def kernels_dir():
    return os.path.join(paths.home(), "kernels")


def parse_packages(text, package):
    """The stanza of ``package`` in a Packages index (a dict of its fields), or None."""
    for stanza in text.split("\n\n"):
        fields = {}
        for line in stanza.splitlines():
            match = re.match(r"^([A-Za-z0-9-]+): ?(.*)$", line)
            if match:
                fields[match.group(1)] = match.group(2)
        if fields.get("Package") == package:
            return fields
    return None


def upstream_version(debian_version):
    """(7, 2) from '7.2um1' or '6.12um1+b22'."""
    match = re.match(r"^(?:\d+:)?(\d+)\.(\d+)", debian_version)
    if not match:
        raise KernelError("cannot read a kernel version from %r" % debian_version)
    return int(match.group(1)), int(match.group(2))


def _index(mirror, suite):
    url = "%s/dists/%s/main/binary-%s/Packages.xz" % (mirror.rstrip("/"), suite, ARCH)
    try:
        with urllib.request.urlopen(url, timeout=120) as answer:
            return lzma.decompress(answer.read()).decode("utf-8", "replace")
    except (OSError, lzma.LZMAError) as exc:
        raise KernelError("cannot read %s: %s" % (url, exc))


def choose_kernel(indexes):
    """The first (suite, stanza) of ``indexes`` [(suite, Packages text)] whose user-mode-linux is
    MIN_KERNEL or later."""
    seen = []
    for suite, text in indexes:
        stanza = parse_packages(text, KERNEL_PACKAGE)
        if stanza is None:
            continue
        seen.append("%s %s" % (suite, stanza["Version"]))
        if upstream_version(stanza["Version"]) >= MIN_KERNEL:
            return suite, stanza
    raise KernelError("no %s of %d.%d or later in %s (found: %s)" % (
        KERNEL_PACKAGE, MIN_KERNEL[0], MIN_KERNEL[1], ", ".join(KERNEL_SUITES),
        ", ".join(seen) or "none"))


def _download(mirror, stanza, into):
    path = os.path.join(into, os.path.basename(stanza["Filename"]))
    url = "%s/%s" % (mirror.rstrip("/"), stanza["Filename"])
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=600) as answer, open(path, "wb") as out:
            for chunk in iter(lambda: answer.read(1 << 20), b""):
                digest.update(chunk)
                out.write(chunk)
    except OSError as exc:
        raise KernelError("cannot fetch %s: %s" % (url, exc))
    if digest.hexdigest() != stanza.get("SHA256"):
        raise KernelError("%s: SHA-256 %s, the index says %s" % (url, digest.hexdigest(),
                                                                 stanza.get("SHA256")))
    return path


def _run(argv):
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True)
    if proc.returncode != 0:
        raise KernelError("%s failed (rc=%d): %s" % (" ".join(argv), proc.returncode,
                                                      proc.stdout.strip()))


class Kernel(object):
    """A fetched kernel: ``binary`` to run, ``modules`` (the directory of lib/modules/VERSION)."""

    def __init__(self, directory):
        self.directory = directory
        with open(os.path.join(directory, "kernel.json")) as handle:
            self.meta = json.load(handle)
        self.binary = os.path.join(directory, "linux.uml")
        self.version = self.meta["modules"]
        self.modules = os.path.join(directory, "modules", self.version)


def installed():
    """The kernel this machine uses (the first one fetched), or None."""
    top = kernels_dir()
    names = sorted(os.listdir(top)) if os.path.isdir(top) else []
    for name in names:
        if not name.startswith("fetch-") and os.path.exists(os.path.join(top, name, "kernel.json")):
            return Kernel(os.path.join(top, name))
    return None


def current(mirror=None):
    """The machine's kernel, fetched first if there is none yet (``mirror``: a callable giving
    the Debian mirror's address, asked only then)."""
    found = installed()
    if found is not None:
        return found
    if mirror is None:
        raise KernelError("no user-mode Linux kernel fetched yet: run `testhost image build` "
                          "(scripts/setup does)")
    os.makedirs(kernels_dir(), exist_ok=True)
    with open(os.path.join(kernels_dir(), ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = installed()
        return found if found is not None else fetch(mirror())


def fetch(mirror):
    suite, stanza = choose_kernel((s, _index(mirror, s)) for s in KERNEL_SUITES)
    libc = parse_packages(_index(mirror, LIBC_SUITE), LIBC_PACKAGE)
    if libc is None:
        raise KernelError("no %s in %s" % (LIBC_PACKAGE, LIBC_SUITE))
    work = tempfile.mkdtemp(prefix="fetch-", dir=kernels_dir())
    try:
        tree = os.path.join(work, "tree")
        for package in (stanza, libc):
            _run(["dpkg-deb", "-x", _download(mirror, package, work), tree])
        modules = os.listdir(os.path.join(tree, "usr/lib/uml/modules"))
        if len(modules) != 1:
            raise KernelError("expected one modules directory in %s, found %s"
                              % (stanza["Filename"], modules))
        libdir = os.path.join(tree, "usr/lib/x86_64-linux-gnu")
        if not os.path.exists(os.path.join(libdir, "ld-linux-x86-64.so.2")):
            libdir = os.path.join(tree, "lib/x86_64-linux-gnu")
        final = os.path.join(kernels_dir(), stanza["Version"])
        shutil.move(os.path.join(tree, "usr/lib/uml/modules"), os.path.join(work, "modules"))
        shutil.move(libdir, os.path.join(work, "libc"))
        shutil.copy(os.path.join(tree, "usr/bin/linux.uml"), os.path.join(work, "linux.uml"))
        shutil.rmtree(tree)
        for name in os.listdir(work):
            if name.endswith(".deb"):
                os.unlink(os.path.join(work, name))
        # the paths the binary will have once the directory is in place
        _run(["patchelf", "--set-interpreter",
              os.path.join(final, "libc", "ld-linux-x86-64.so.2"),
              "--set-rpath", os.path.join(final, "libc"), os.path.join(work, "linux.uml")])
        with open(os.path.join(work, "kernel.json"), "w") as handle:
            json.dump({"package": stanza["Version"], "suite": suite, "modules": modules[0],
                       "libc": "%s %s" % (LIBC_SUITE, libc["Version"])}, handle, indent=1,
                      sort_keys=True)
        os.rename(work, final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return Kernel(final)
