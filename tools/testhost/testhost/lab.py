"""A lab: user-mode Linux guests in a network namespace of their own, with sparse disks.

Every resource a lab makes is named after it (namespace ``dmlab-LAB``, UML ``umid=th.LAB.GUEST``,
forwarder ``--lab LAB``, files under ``labs/LAB``), so that ``down`` can find and remove all of it
from those names alone, even when the state file was never written (an interrupted ``up``).
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time

from . import access
from . import image as image_mod
from . import kernel
from . import mconsole
from . import paths
from . import procs
from . import states

SUBNET = "10.77.0"          # each lab has its own namespace, so labs may reuse the same addresses
BRIDGE = "br0"
NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,23}$")
SIZE_RE = re.compile(r"^(\d+)([KMGT]?)$")
UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
DISK_LETTERS = "bcdefghijklmnop"     # ubda is the root


# lvm2 gained the devices file in 2.03.12: bullseye's 2.03.11 has none.
DEVICESFILE_SUITES = ("bookworm", "trixie")
# LVM as RHEL 9 ships it: the devices file on, and a system.devices listing only what the
# installer put there (here nothing: the root is not on LVM), so LVM ignores every disk that is
# not added to it (pvcreate and vgcreate add theirs; `lvmdevices --adddev` adds by hand).
DEVICESFILE_ON = r"""set -e
sed -i 's/^\([[:space:]]*\)#* *use_devicesfile = [01]$/\1use_devicesfile = 1/' /etc/lvm/lvm.conf
test "$(lvmconfig --typeconfig full devices/use_devicesfile)" = use_devicesfile=1
mkdir -p /etc/lvm/devices
test -s /etc/lvm/devices/system.devices || printf '%s\n' \
    '# LVM uses devices listed in this file.' 'VERSION=1.1.1' > /etc/lvm/devices/system.devices
"""


class LabError(RuntimeError):
    pass


def parse_size(text):
    match = SIZE_RE.match(str(text).strip().upper())
    if not match:
        raise LabError("bad disk size %r: use a whole number with an optional K, M, G or T suffix"
                       % (text,))
    return int(match.group(1)) * UNITS[match.group(2)]


def check_name(kind, name):
    if not NAME_RE.match(name):
        raise LabError("bad %s name %r: lower-case letters, digits and '-', starting with a letter, "
                       "at most 24 characters" % (kind, name))


class Guest(object):
    """One guest's record in the lab state."""

    FIELDS = ("name", "index", "address", "mem", "disks", "pid", "forwarder_pid", "port",
              "groups", "boot_seconds", "suite", "image", "lvm_devicesfile")

    def __init__(self, **kwargs):
        for field in self.FIELDS:
            setattr(self, field, kwargs.get(field))
        self.disks = self.disks or []
        self.groups = self.groups or []
        self.suite = self.suite or image_mod.DEFAULT_SUITE
        self.lvm_devicesfile = bool(self.lvm_devicesfile)

    @property
    def key(self):
        """Each image has its own ssh key; a lab may hold guests of several releases."""
        return os.path.join(self.image, "id_ed25519")

    def to_dict(self):
        return {field: getattr(self, field) for field in self.FIELDS}


class Lab(object):
    def __init__(self, name):
        check_name("lab", name)
        self.name = name
        self.dir = paths.lab_dir(name)
        self.netns = "dmlab-" + name
        self.state_path = os.path.join(self.dir, "state.json")
        self.guests = {}
        if os.path.exists(self.state_path):
            with open(self.state_path) as handle:
                state = json.load(handle)
            for record in state.get("guests", []):
                guest = Guest(**record)
                self.guests[guest.name] = guest

    # ---- state -------------------------------------------------------------------------------
    def save(self):
        os.makedirs(self.dir, exist_ok=True)
        tmp = self.state_path + ".tmp"
        with open(tmp, "w") as handle:
            json.dump({"lab": self.name, "netns": self.netns,
                       "guests": [g.to_dict() for g in self.sorted_guests()]}, handle, indent=1)
        os.rename(tmp, self.state_path)
        self.write_access_files()

    def sorted_guests(self):
        return sorted(self.guests.values(), key=lambda g: g.index)

    def guest(self, name):
        if name not in self.guests:
            raise LabError("lab %s has no guest %r (it has: %s)"
                           % (self.name, name, ", ".join(sorted(self.guests)) or "none"))
        return self.guests[name]

    def umid(self, guest):
        return "th.%s.%s" % (self.name, guest.name)

    def guest_dir(self, guest):
        return os.path.join(self.dir, guest.name)

    # ---- network -----------------------------------------------------------------------------
    def ensure_network(self):
        if not os.path.exists("/run/netns/" + self.netns):
            procs.sh(["ip", "netns", "add", self.netns])
        run = ["ip", "netns", "exec", self.netns]
        procs.sh(run + ["ip", "link", "set", "lo", "up"])
        if procs.sh(run + ["ip", "link", "show", BRIDGE], check=False).returncode != 0:
            procs.sh(run + ["ip", "link", "add", BRIDGE, "type", "bridge"])
            procs.sh(run + ["ip", "addr", "add", SUBNET + ".1/24", "dev", BRIDGE])
        procs.sh(run + ["ip", "link", "set", BRIDGE, "up"])

    def ensure_tap(self, guest):
        run = ["ip", "netns", "exec", self.netns]
        tap = "tap%d" % guest.index
        if procs.sh(run + ["ip", "link", "show", tap], check=False).returncode != 0:
            procs.sh(run + ["ip", "tuntap", "add", "dev", tap, "mode", "tap"])
        procs.sh(run + ["ip", "link", "set", tap, "master", BRIDGE, "up"])
        return tap

    # ---- guests ------------------------------------------------------------------------------
    def add_guest(self, name, disks, mem="1G", groups=(), suite=image_mod.DEFAULT_SUITE,
                  lvm_devicesfile=False, image=None, state=None):
        """A new guest's record, disks and root layer: fresh, or copied from a saved guest
        (``state``, a directory of testhost.states: its release, image and disks come along)."""
        check_name("guest", name)
        saved = states.load(state) if state else None
        if saved:
            suite, image = saved["suite"], saved["image"]
            lvm_devicesfile = saved["lvm_devicesfile"]
        image_mod.check_suite(suite)
        if lvm_devicesfile and suite not in DEVICESFILE_SUITES:
            raise LabError("guest %s: the LVM devices file needs lvm2 2.03.12 or later, which %s "
                           "does not have (releases with it: %s)"
                           % (name, suite, ", ".join(DEVICESFILE_SUITES)))
        if name in self.guests:
            return self.guests[name]
        if len(disks) > len(DISK_LETTERS):
            raise LabError("at most %d extra disks per guest" % len(DISK_LETTERS))
        sizes = [parse_size(d) for d in disks]
        parse_size(mem)
        index = max([g.index for g in self.guests.values()] + [10]) + 1
        if index > 250:
            raise LabError("a lab holds at most 240 guests")
        guest = Guest(name=name, index=index, address="%s.%d" % (SUBNET, index), mem=mem,
                      groups=list(groups), suite=suite, image=image,
                      lvm_devicesfile=lvm_devicesfile)
        os.makedirs(self.guest_dir(guest), exist_ok=True)
        if saved:
            guest.disks = states.copy_into(state, self.guest_dir(guest))
            sizes = []
        for letter, size in zip(DISK_LETTERS, sizes):
            path = os.path.join(self.guest_dir(guest), "disk-%s.img" % letter)
            with open(path, "wb") as handle:        # sparse: nothing is allocated until written
                handle.truncate(size)
            guest.disks.append({"device": "/dev/ubd" + letter, "path": path, "size": size})
        self.guests[name] = guest
        return guest

    def plug_disks(self, guest, sizes, tag):
        """Give a running guest new sparse disks at its first free device letters, through UML's
        management console; returns their devices. They are in the guest's record, so a reboot
        keeps them."""
        used = {d["device"] for d in guest.disks}
        letters = [x for x in DISK_LETTERS if "/dev/ubd" + x not in used]
        if len(sizes) > len(letters):
            raise LabError("guest %s has no free device letters for %d more disks"
                           % (guest.name, len(sizes)))
        devices = []
        for letter, size in zip(letters, [parse_size(s) for s in sizes]):
            path = os.path.join(self.guest_dir(guest), "disk-%s-%s.img" % (tag, letter))
            with open(path, "wb") as handle:
                handle.truncate(size)
            try:
                mconsole.command(self.console(guest), "config ubd%s=%s" % (letter, path))
            except mconsole.ConsoleError as exc:
                os.unlink(path)
                raise LabError("guest %s: cannot add a disk: %s" % (guest.name, exc))
            guest.disks.append({"device": "/dev/ubd" + letter, "path": path, "size": size})
            devices.append("/dev/ubd" + letter)
        self.save()
        return devices

    def unplug_disks(self, guest, devices):
        """Take disks out of a running guest (they must not be in use) and delete their files."""
        for disk in [d for d in guest.disks if d["device"] in devices]:
            try:
                mconsole.command(self.console(guest), "remove " + disk["device"][len("/dev/"):])
            except mconsole.ConsoleError as exc:
                raise LabError("guest %s: cannot remove %s: %s" % (guest.name, disk["device"], exc))
            guest.disks.remove(disk)
            os.unlink(disk["path"])
        self.save()

    def console(self, guest):
        return os.path.join(self.dir, "uml", self.umid(guest), "mconsole")

    def boot(self, guest):
        """Start the guest's kernel; returns at once (see wait_ready)."""
        if guest.pid and procs.alive(guest.pid):
            return
        img = image_mod.Image(guest.image)
        tap = self.ensure_tap(guest)
        gdir = self.guest_dir(guest)
        uml_dir = os.path.join(self.dir, "uml")
        os.makedirs(uml_dir, exist_ok=True)
        shutil.rmtree(os.path.join(uml_dir, self.umid(guest)), ignore_errors=True)
        argv = ["ip", "netns", "exec", self.netns, kernel.current().binary,
                "umid=" + self.umid(guest), "uml_dir=" + uml_dir, "mem=" + guest.mem,
                "ubda=%s,%s" % (os.path.join(gdir, "root.cow"), img.base)]
        for disk in guest.disks:
            argv.append("%s=%s" % (disk["device"][len("/dev/"):], disk["path"]))
        argv += ["root=/dev/ubda", "rw", "init=/lib/systemd/systemd",
                 "con=null", "con0=fd:0,fd:1",
                 "vec0:transport=tap,ifname=%s,gro=1" % tap,
                 "testhost.name=" + guest.name,
                 "testhost.addr=%s/24" % guest.address,
                 "testhost.gw=%s.1" % SUBNET,
                 "systemd.show_status=0",
                 # guest processes trap their system calls through seccomp rather than ptrace
                 # where the host allows it (7.x; measured: fork+exec 1.6 ms against 5 ms,
                 # Python's start 37 ms against 85 ms); otherwise ptrace, as before
                 "seccomp=auto"]
        env = dict(os.environ)
        env["TMPDIR"] = "/dev/shm" if os.path.isdir("/dev/shm") else "/tmp"  # guest RAM file
        with open(os.path.join(gdir, "console.log"), "ab") as console, open(os.devnull) as null:
            proc = subprocess.Popen(argv, stdin=null, stdout=console, stderr=subprocess.STDOUT,
                                    start_new_session=True, env=env, close_fds=True)
        guest.pid = proc.pid
        guest.boot_started = time.time()
        self.ensure_forwarder(guest)
        self.save()

    def ensure_forwarder(self, guest):
        if guest.forwarder_pid and procs.alive(guest.forwarder_pid):
            return
        ports_file = os.path.join(self.guest_dir(guest), "port.json")
        if os.path.exists(ports_file):
            os.unlink(ports_file)
        argv = [sys.executable, "-m", "testhost.forward", "--lab", self.name, "--netns", self.netns,
                "--ports-file", ports_file, guest.address]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [os.path.dirname(os.path.dirname(os.path.abspath(__file__)))]
            + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
        with open(os.path.join(self.guest_dir(guest), "forward.log"), "ab") as log, \
                open(os.devnull) as null:
            proc = subprocess.Popen(argv, stdin=null, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True, env=env, close_fds=True)
        deadline = time.time() + 10
        while not os.path.exists(ports_file):
            if proc.poll() is not None or time.time() > deadline:
                raise LabError("ssh forwarder for %s did not start; see %s"
                               % (guest.name, os.path.join(self.guest_dir(guest), "forward.log")))
            time.sleep(0.02)
        with open(ports_file) as handle:
            guest.port = json.load(handle)[guest.address]
        guest.forwarder_pid = proc.pid

    def control_path(self, guest):
        return os.path.join(self.guest_dir(guest), "ssh-master")

    def ssh_argv(self, guest, command=None, tty=False, timeout=10, shared=True):
        """ssh into the guest. Commands share one connection per guest (a key exchange costs
        the guest about half a second of its core; a session on an open connection a tenth);
        ``shared=False`` for a connection of its own (the readiness probes of a boot)."""
        argv = ["ssh", "-i", guest.key, "-p", str(guest.port), "-l", "root",
                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "LogLevel=ERROR", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
                "-o", "ConnectTimeout=%d" % timeout, "-o", "ServerAliveInterval=5",
                "-o", "ServerAliveCountMax=6"]
        if shared:
            argv += ["-o", "ControlMaster=auto", "-o", "ControlPath=" + self.control_path(guest),
                     "-o", "ControlPersist=120"]
        else:
            argv += ["-o", "ControlMaster=no", "-o", "ControlPath=none"]
        argv.append("-t" if tty else "-T")
        argv.append("127.0.0.1")
        if command is not None:
            argv.append(command)
        return argv

    def run(self, guest, command, timeout=None, check=False, input_text=None):
        """Run a shell command in the guest; returns the CompletedProcess (text)."""
        # never the caller's stdin: ssh makes it non-blocking, and a shared connection's master
        # would keep it so (ansible-playbook, started later from the same stdin, then refuses)
        proc = subprocess.run(self.ssh_argv(guest, command), input=input_text,
                              stdin=None if input_text is not None else subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise LabError("%s: `%s` failed (rc=%d): %s%s" % (guest.name, command, proc.returncode,
                                                             proc.stdout, proc.stderr))
        return proc

    def wait_ready(self, guests, timeout=180):
        """Wait until every guest answers ssh; records and returns boot-to-ssh-ready seconds."""
        pending = {g.name: g for g in guests}
        deadline = time.time() + timeout
        probes = {}
        while pending:
            for name, guest in list(pending.items()):
                if not procs.alive(guest.pid):
                    raise LabError("guest %s exited during boot; see %s" % (
                        name, os.path.join(self.guest_dir(guest), "console.log")))
                proc = probes.get(name)
                if proc is None:
                    probes[name] = subprocess.Popen(self.ssh_argv(guest, "true", timeout=3,
                                                                  shared=False),
                                                   stdin=subprocess.DEVNULL,
                                                   stdout=subprocess.DEVNULL,
                                                   stderr=subprocess.DEVNULL)
                    continue
                if proc.poll() is None:
                    continue
                del probes[name]
                if proc.returncode == 0:
                    guest.boot_seconds = round(time.time() - guest.boot_started, 1)
                    del pending[name]
            if pending and time.time() > deadline:
                for proc in probes.values():
                    proc.kill()
                raise LabError("guests not reachable by ssh after %d s: %s (consoles: %s)" % (
                    timeout, ", ".join(sorted(pending)), os.path.join(self.dir, "*/console.log")))
            time.sleep(0.25)
        self.save()
        return {g.name: g.boot_seconds for g in guests}

    def close_connection(self, guest):
        """End the guest's shared ssh connection, which would outlive a power-off or a crash
        (sessions on it would then hang until its keep-alives give up)."""
        if os.path.exists(self.control_path(guest)):
            subprocess.run(self.ssh_argv(guest)[:-2] + ["-O", "exit", "127.0.0.1"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=30)

    def stop_guest(self, guest, clean=True, timeout=60):
        """Power the guest off: cleanly through systemd, or by killing it (a power cut)."""
        if clean and procs.alive(guest.pid):
            self.run(guest, "systemctl poweroff --no-block", timeout=30)
            deadline = time.time() + timeout
            while procs.alive(guest.pid) and time.time() < deadline:
                time.sleep(0.2)
        self.close_connection(guest)
        if guest.pid:
            procs.kill_tree(guest.pid)
        guest.pid = None
        self.save()

    def remove_guest(self, guest):
        """Power a guest off and delete it with its disks, tap and forwarder."""
        self.close_connection(guest)
        if guest.pid:
            procs.kill_tree(guest.pid)
        if guest.forwarder_pid and procs.alive(guest.forwarder_pid):
            procs.kill_tree(guest.forwarder_pid)
        procs.sh(["ip", "netns", "exec", self.netns, "ip", "link", "del", "tap%d" % guest.index],
            check=False)
        shutil.rmtree(self.guest_dir(guest), ignore_errors=True)
        shutil.rmtree(os.path.join(self.dir, "uml", self.umid(guest)), ignore_errors=True)
        del self.guests[guest.name]
        self.save()

    # ---- whole lab ---------------------------------------------------------------------------
    def up(self, specs, timeout=180, out=sys.stderr):
        """Boot every guest in ``specs`` (name, disks, mem, groups, suite, lvm_devicesfile, or
        state: a saved guest to start from) that is not running. A guest keeps the image it was made on (its copy-on-write layer needs
        that image); new guests get their release's current one."""
        images = {}
        for suite in sorted(set(s.get("suite") or image_mod.DEFAULT_SUITE for s in specs
                                if not s.get("state"))):
            images[suite] = image_mod.build(suite, out=out).directory
        os.makedirs(self.dir, exist_ok=True)
        self.ensure_network()
        to_boot = []
        for spec in specs:
            suite = spec.get("suite") or image_mod.DEFAULT_SUITE
            guest = self.add_guest(spec["name"], spec.get("disks", []), spec.get("mem", "1G"),
                                   spec.get("groups", ()), suite=suite,
                                   lvm_devicesfile=spec.get("lvm_devicesfile", False),
                                   image=images.get(suite), state=spec.get("state"))
            if not procs.alive(guest.pid):
                to_boot.append(guest)
        self.save()
        for guest in to_boot:
            self.boot(guest)
        ready = self.wait_ready(to_boot, timeout=timeout)
        for guest in to_boot:
            if guest.lvm_devicesfile:
                self.run(guest, DEVICESFILE_ON, check=True, timeout=60)
        return ready

    def reboot(self, guest, crash=False, timeout=180):
        self.stop_guest(guest, clean=not crash)
        self.boot(guest)
        return self.wait_ready([guest], timeout=timeout)[guest.name]

    def write_access_files(self):
        access.write(self)

    @property
    def inventory_path(self):
        return os.path.join(self.dir, "inventory.json")

    def status(self):
        rows = []
        for guest in self.sorted_guests():
            rows.append({"name": guest.name, "running": procs.alive(guest.pid), "pid": guest.pid,
                         "suite": guest.suite, "lvm_devicesfile": guest.lvm_devicesfile,
                         "address": guest.address, "ssh_port": guest.port,
                         "disks": guest.disks, "groups": guest.groups,
                         "boot_seconds": guest.boot_seconds})
        return rows
