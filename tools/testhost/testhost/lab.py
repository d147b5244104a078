"""A lab: user-mode Linux guests in a network namespace of their own, with sparse disks.

Every resource a lab makes is named after it (namespace ``dmlab-LAB``, UML ``umid=th.LAB.GUEST``,
forwarder ``--lab LAB``, files under ``labs/LAB``), so that ``down`` can find and remove all of it
from those names alone, even when the state file was never written (an interrupted ``up``).
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

from . import image as image_mod
from . import paths

SUBNET = "10.77.0"          # each lab has its own namespace, so labs may reuse the same addresses
BRIDGE = "br0"
NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,23}$")
SIZE_RE = re.compile(r"^(\d+)([KMGT]?)$")
UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
DISK_LETTERS = "bcdefghijklmnop"     # ubda is the root


class LabError(RuntimeError):
    pass


def parse_size(text):
    match = SIZE_RE.match(str(text).strip().upper())
    if not match:
        raise LabError("bad disk size %r: use a whole number with an optional K, M, G or T suffix"
                       % (text,))
    return int(match.group(1)) * UNITS[match.group(2)]


def _check_name(kind, name):
    if not NAME_RE.match(name):
        raise LabError("bad %s name %r: lower-case letters, digits and '-', starting with a letter, "
                       "at most 24 characters" % (kind, name))


def _sh(argv, check=True):
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)
    if check and proc.returncode != 0:
        raise LabError("%s failed (rc=%d): %s" % (" ".join(argv), proc.returncode, proc.stderr.strip()))
    return proc


def _pids_matching(pattern):
    """Pids of processes whose command line contains ``pattern`` (a NUL-joined argv substring)."""
    found = []
    needle = pattern.encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as handle:
                cmdline = handle.read()
        except OSError:
            continue
        if needle in cmdline:
            found.append(int(entry))
    return found


def _session_members(sid):
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[3]) == sid:      # field 6 of stat: session id
            members.append(int(entry))
    return members


def _kill_tree(pid):
    """Kill a process started in a session of its own, with everything else in that session
    (a UML guest is several host processes)."""
    for member in set(_session_members(pid) + [pid]):
        try:
            os.kill(member, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.time() + 10
    while time.time() < deadline and (_alive(pid) or _session_members(pid)):
        time.sleep(0.05)


def _alive(pid):
    if not pid:
        return False
    try:
        with open("/proc/%d/stat" % pid) as handle:
            state = handle.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    if state == "Z":
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        return False
    return True


class Guest(object):
    """One guest's record in the lab state."""

    FIELDS = ("name", "index", "address", "mem", "disks", "pid", "forwarder_pid", "port",
              "groups", "boot_seconds")

    def __init__(self, **kwargs):
        for field in self.FIELDS:
            setattr(self, field, kwargs.get(field))
        self.disks = self.disks or []
        self.groups = self.groups or []

    def to_dict(self):
        return {field: getattr(self, field) for field in self.FIELDS}


class Lab(object):
    def __init__(self, name):
        _check_name("lab", name)
        self.name = name
        self.dir = paths.lab_dir(name)
        self.netns = "dmlab-" + name
        self.state_path = os.path.join(self.dir, "state.json")
        self.guests = {}
        self.image_dir = None
        if os.path.exists(self.state_path):
            with open(self.state_path) as handle:
                state = json.load(handle)
            self.image_dir = state.get("image")
            for record in state.get("guests", []):
                guest = Guest(**record)
                self.guests[guest.name] = guest

    # ---- state -------------------------------------------------------------------------------
    def save(self):
        os.makedirs(self.dir, exist_ok=True)
        tmp = self.state_path + ".tmp"
        with open(tmp, "w") as handle:
            json.dump({"lab": self.name, "netns": self.netns, "image": self.image_dir,
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

    @property
    def key(self):
        return os.path.join(self.image_dir, "id_ed25519")

    # ---- network -----------------------------------------------------------------------------
    def ensure_network(self):
        if not os.path.exists("/run/netns/" + self.netns):
            _sh(["ip", "netns", "add", self.netns])
        run = ["ip", "netns", "exec", self.netns]
        _sh(run + ["ip", "link", "set", "lo", "up"])
        if _sh(run + ["ip", "link", "show", BRIDGE], check=False).returncode != 0:
            _sh(run + ["ip", "link", "add", BRIDGE, "type", "bridge"])
            _sh(run + ["ip", "addr", "add", SUBNET + ".1/24", "dev", BRIDGE])
        _sh(run + ["ip", "link", "set", BRIDGE, "up"])

    def ensure_tap(self, guest):
        run = ["ip", "netns", "exec", self.netns]
        tap = "tap%d" % guest.index
        if _sh(run + ["ip", "link", "show", tap], check=False).returncode != 0:
            _sh(run + ["ip", "tuntap", "add", "dev", tap, "mode", "tap"])
        _sh(run + ["ip", "link", "set", tap, "master", BRIDGE, "up"])
        return tap

    # ---- guests ------------------------------------------------------------------------------
    def add_guest(self, name, disks, mem="1G", groups=()):
        _check_name("guest", name)
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
                      groups=list(groups))
        os.makedirs(self.guest_dir(guest), exist_ok=True)
        for letter, size in zip(DISK_LETTERS, sizes):
            path = os.path.join(self.guest_dir(guest), "disk-%s.img" % letter)
            with open(path, "wb") as handle:        # sparse: nothing is allocated until written
                handle.truncate(size)
            guest.disks.append({"device": "/dev/ubd" + letter, "path": path, "size": size})
        self.guests[name] = guest
        return guest

    def boot(self, guest):
        """Start the guest's kernel; returns at once (see wait_ready)."""
        if guest.pid and _alive(guest.pid):
            return
        img = image_mod.Image(self.image_dir)
        tap = self.ensure_tap(guest)
        gdir = self.guest_dir(guest)
        uml_dir = os.path.join(self.dir, "uml")
        os.makedirs(uml_dir, exist_ok=True)
        shutil.rmtree(os.path.join(uml_dir, self.umid(guest)), ignore_errors=True)
        argv = ["ip", "netns", "exec", self.netns, "linux.uml",
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
                 "systemd.show_status=0"]
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
        if guest.forwarder_pid and _alive(guest.forwarder_pid):
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

    def ssh_argv(self, guest, command=None, tty=False, timeout=10):
        argv = ["ssh", "-i", self.key, "-p", str(guest.port), "-l", "root",
                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "LogLevel=ERROR", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
                "-o", "ConnectTimeout=%d" % timeout, "-o", "ServerAliveInterval=5",
                "-o", "ServerAliveCountMax=6"]
        argv.append("-t" if tty else "-T")
        argv.append("127.0.0.1")
        if command is not None:
            argv.append(command)
        return argv

    def run(self, guest, command, timeout=None, check=False, input_text=None):
        """Run a shell command in the guest; returns the CompletedProcess (text)."""
        proc = subprocess.run(self.ssh_argv(guest, command), input=input_text,
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
        procs = {}
        while pending:
            for name, guest in list(pending.items()):
                if not _alive(guest.pid):
                    raise LabError("guest %s exited during boot; see %s" % (
                        name, os.path.join(self.guest_dir(guest), "console.log")))
                proc = procs.get(name)
                if proc is None:
                    procs[name] = subprocess.Popen(self.ssh_argv(guest, "true", timeout=3),
                                                   stdout=subprocess.DEVNULL,
                                                   stderr=subprocess.DEVNULL)
                    continue
                if proc.poll() is None:
                    continue
                del procs[name]
                if proc.returncode == 0:
                    guest.boot_seconds = round(time.time() - guest.boot_started, 1)
                    del pending[name]
            if pending and time.time() > deadline:
                for proc in procs.values():
                    proc.kill()
                raise LabError("guests not reachable by ssh after %d s: %s (consoles: %s)" % (
                    timeout, ", ".join(sorted(pending)), os.path.join(self.dir, "*/console.log")))
            time.sleep(0.25)
        self.save()
        return {g.name: g.boot_seconds for g in guests}

    def stop_guest(self, guest, clean=True, timeout=60):
        """Power the guest off: cleanly through systemd, or by killing it (a power cut)."""
        if clean and _alive(guest.pid):
            self.run(guest, "systemctl poweroff --no-block", timeout=30)
            deadline = time.time() + timeout
            while _alive(guest.pid) and time.time() < deadline:
                time.sleep(0.2)
        if guest.pid:
            _kill_tree(guest.pid)
        guest.pid = None
        self.save()

    def remove_guest(self, guest):
        """Power a guest off and delete it with its disks, tap and forwarder."""
        if guest.pid:
            _kill_tree(guest.pid)
        if guest.forwarder_pid and _alive(guest.forwarder_pid):
            _kill_tree(guest.forwarder_pid)
        _sh(["ip", "netns", "exec", self.netns, "ip", "link", "del", "tap%d" % guest.index],
            check=False)
        shutil.rmtree(self.guest_dir(guest), ignore_errors=True)
        shutil.rmtree(os.path.join(self.dir, "uml", self.umid(guest)), ignore_errors=True)
        del self.guests[guest.name]
        self.save()

    # ---- whole lab ---------------------------------------------------------------------------
    def up(self, specs, timeout=180, out=sys.stderr):
        """Boot every guest in ``specs`` (name, disks, mem, groups) that is not running."""
        img = image_mod.build(out=out)
        if self.image_dir and self.image_dir != img.directory and self.guests:
            raise LabError("lab %s runs on another image (%s); `down` it first" % (self.name,
                                                                                self.image_dir))
        self.image_dir = img.directory
        os.makedirs(self.dir, exist_ok=True)
        self.ensure_network()
        to_boot = []
        for spec in specs:
            guest = self.add_guest(spec["name"], spec.get("disks", []), spec.get("mem", "1G"),
                                   spec.get("groups", ()))
            if not _alive(guest.pid):
                to_boot.append(guest)
        self.save()
        for guest in to_boot:
            self.boot(guest)
        return self.wait_ready(to_boot, timeout=timeout)

    def reboot(self, guest, crash=False, timeout=180):
        self.stop_guest(guest, clean=not crash)
        self.boot(guest)
        return self.wait_ready([guest], timeout=timeout)[guest.name]

    def write_access_files(self):
        """An Ansible inventory and an ssh config for what the lab holds."""
        if not self.image_dir:
            return
        hosts = {}
        groups = {}
        for guest in self.sorted_guests():
            hosts[guest.name] = {
                "ansible_host": "127.0.0.1", "ansible_port": guest.port,
                "testhost_address": guest.address,
                "testhost_disks": [{"device": d["device"], "size": d["size"]} for d in guest.disks],
            }
            for group in guest.groups:
                groups.setdefault(group, {"hosts": {}})["hosts"][guest.name] = None
        inventory = {"all": {
            "vars": {
                "ansible_user": "root",
                "ansible_ssh_private_key_file": self.key,
                "ansible_ssh_common_args": "-o StrictHostKeyChecking=no "
                                           "-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR",
                "ansible_python_interpreter": "/usr/bin/python3",
                "ansible_pipelining": True,
                "testhost_lab": self.name,
            },
            "hosts": hosts,
            "children": groups,
        }}
        _atomic_write(os.path.join(self.dir, "inventory.json"), json.dumps(inventory, indent=1))
        lines = []
        for guest in self.sorted_guests():
            lines += ["Host %s" % guest.name, "  HostName 127.0.0.1", "  Port %s" % guest.port,
                      "  User root", "  IdentityFile %s" % self.key, "  IdentitiesOnly yes",
                      "  StrictHostKeyChecking no", "  UserKnownHostsFile /dev/null",
                      "  LogLevel ERROR", ""]
        _atomic_write(os.path.join(self.dir, "ssh_config"), "\n".join(lines))

    @property
    def inventory_path(self):
        return os.path.join(self.dir, "inventory.json")

    def status(self):
        rows = []
        for guest in self.sorted_guests():
            rows.append({"name": guest.name, "running": _alive(guest.pid), "pid": guest.pid,
                         "address": guest.address, "ssh_port": guest.port,
                         "disks": guest.disks, "groups": guest.groups,
                         "boot_seconds": guest.boot_seconds})
        return rows


def _atomic_write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as handle:
        handle.write(text)
    os.rename(tmp, path)


def down(name):
    """Remove every process, namespace (with its bridge and taps) and file of a lab.

    Works from names alone, so a lab whose ``up`` was interrupted or whose guests crashed is
    cleaned up as well as a tidy one. Returns what it removed.
    """
    _check_name("lab", name)
    removed = []
    lab_path = paths.lab_dir(name)
    state_pids = []
    if os.path.exists(os.path.join(lab_path, "state.json")):
        with open(os.path.join(lab_path, "state.json")) as handle:
            for record in json.load(handle).get("guests", []):
                state_pids += [record.get("pid"), record.get("forwarder_pid")]
    pids = set(p for p in state_pids if p and _alive(p) and _belongs(p, name))
    pids.update(_pids_matching("umid=th.%s." % name))
    pids.update(_pids_matching("--lab\0%s\0" % name))
    killed = 0
    for pid in sorted(pids):
        if _alive(pid):
            _kill_tree(pid)
            killed += 1
    if killed:
        removed.append("%d guest/forwarder process trees" % killed)
    netns = "dmlab-" + name
    if os.path.exists("/run/netns/" + netns):
        _sh(["ip", "netns", "delete", netns])
        removed.append("netns %s" % netns)
    if os.path.isdir(lab_path):
        shutil.rmtree(lab_path)
        removed.append("dir %s" % lab_path)
    return removed


def _belongs(pid, lab):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            cmdline = handle.read()
    except OSError:
        return False
    return ("umid=th.%s." % lab).encode() in cmdline or ("--lab\0%s\0" % lab).encode() in cmdline


def all_labs():
    """Lab names known from state directories, namespaces or running guests."""
    names = set()
    if os.path.isdir(paths.labs_dir()):
        names.update(os.listdir(paths.labs_dir()))
    if os.path.isdir("/run/netns"):
        names.update(n[len("dmlab-"):] for n in os.listdir("/run/netns") if n.startswith("dmlab-"))
    for pid in _pids_matching("umid=th."):
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as handle:
                for arg in handle.read().split(b"\0"):
                    if arg.startswith(b"umid=th."):
                        names.add(arg.decode().split(".")[1])
        except OSError:
            pass
    return sorted(n for n in names if NAME_RE.match(n))
