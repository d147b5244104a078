"""testhost: real-kernel test hosts (user-mode Linux guests) for devmapper.storage.

  testhost image build [--suite S|all]     build (once) and cache a release's guest image
  testhost image kernel                    the user-mode Linux kernel guests boot (fetched once)
  testhost up [-l LAB] -n 3 -d 4G -d 1G    boot guests g1..g3, each with two sparse disks
  testhost up -g web:4G,1G -g db:8G@direct boot named guests (disks, then @groups)
  testhost up -g old:2G%bullseye -g new:2G%trixie+devicesfile
                                           ... of a Debian release (bullseye, bookworm, trixie;
                                           default bookworm), optionally with LVM's devices
                                           file on as RHEL 9 ships it
  testhost status | inventory              what runs; path of the Ansible inventory
  testhost exec GUEST -- CMD...            run a command in a guest (exit code passed on)
  testhost ssh GUEST                       interactive shell
  testhost reboot GUEST / crash GUEST      clean reboot / power cut, then boot on the same disks
  testhost save GUEST DIR                  power off, keep root layer and disks in DIR, boot again
  testhost up -g NAME=DIR                  boot a new guest from what `save` kept
  testhost down [--all]                    remove every process, namespace and file of the lab
"""

import argparse
import concurrent.futures
import json
import os
import subprocess
import sys

from . import cleanup
from . import image
from . import kernel
from . import procs
from . import states
from . import lab as lab_mod

DEFAULT_LAB = "lab"


def parse_guest_spec(text, mem):
    """``NAME[:SIZE,SIZE...][@GROUP,GROUP...][%SUITE[+devicesfile]]``, or ``NAME=DIR[@GROUPS]``
    for a guest that starts from a saved one (its release and disks come from DIR)."""
    if "=" in text:
        name, _, rest = text.partition("=")
        directory, _, group_text = rest.partition("@")
        return {"name": name, "state": os.path.abspath(directory), "mem": mem,
                "groups": [g for g in group_text.split(",") if g], "disks": []}
    groups = []
    suite, devicesfile = image.DEFAULT_SUITE, False
    if "%" in text:
        text, suite_text = text.split("%", 1)
        suite, _, option = suite_text.partition("+")
        if option not in ("", "devicesfile"):
            raise lab_mod.LabError("unknown guest option %r in %r: the only one is +devicesfile"
                                   % (option, suite_text))
        devicesfile = option == "devicesfile"
        image.check_suite(suite)
    if "@" in text:
        text, group_text = text.split("@", 1)
        groups = [g for g in group_text.split(",") if g]
    name, _, disk_text = text.partition(":")
    disks = [d for d in disk_text.split(",") if d]
    return {"name": name, "disks": disks, "mem": mem, "groups": groups, "suite": suite,
            "lvm_devicesfile": devicesfile}


def _specs(args):
    specs = [parse_guest_spec(text, args.mem) for text in args.guest or []]
    for number in range(1, (args.count or 0) + 1):
        specs.append({"name": "g%d" % number, "disks": list(args.disk or []), "mem": args.mem,
                      "groups": list(args.group or []), "suite": args.suite,
                      "lvm_devicesfile": args.lvm_devicesfile})
    if not specs:
        raise lab_mod.LabError("say which guests to boot: -n COUNT or -g NAME[:DISKS]")
    return specs


def cmd_image(args):
    if args.action == "kernel":
        found = kernel.current(image.debian_mirror)
        print("%s (user-mode-linux %s from %s, glibc %s) %s" % (
            found.version, found.meta["package"], found.meta["suite"], found.meta["libc"],
            found.binary))
        return 0
    suites = image.SUITES if args.suite == "all" else [image.check_suite(args.suite)]
    if args.action == "build" and len(suites) > 1:
        # debootstrap waits on the mirror and dpkg more than on the cores: build side by side.
        with concurrent.futures.ThreadPoolExecutor(len(suites)) as pool:
            for img in pool.map(lambda suite: image.build(suite, force=args.force), suites):
                print(img.directory)
        return 0
    for suite in suites:
        if args.action == "build":
            print(image.build(suite, force=args.force).directory)
        elif args.action == "path":
            print(image.current(suite).directory)
        elif args.action == "hash":
            print("%s %s" % (suite, image.recipe_hash(suite=suite)) if len(suites) > 1
                  else image.recipe_hash(suite=suite))
    return 0


def cmd_up(args):
    lab = lab_mod.Lab(args.lab)
    try:
        ready = lab.up(_specs(args), timeout=args.timeout)
    except BaseException:
        if args.down_on_failure:
            cleanup.down(args.lab)
        raise
    for name, seconds in sorted(ready.items()):
        print("testhost: %s ssh-ready %.1f s after boot" % (name, seconds))
    print("testhost: inventory %s" % lab.inventory_path)
    return 0


def cmd_down(args):
    names = cleanup.all_labs() if args.all else [args.lab]
    for name in names:
        for item in cleanup.down(name):
            print("testhost: %s: removed %s" % (name, item))
    return 0


def cmd_status(args):
    lab = lab_mod.Lab(args.lab)
    rows = lab.status()
    if args.json:
        print(json.dumps({"lab": lab.name, "inventory": lab.inventory_path, "guests": rows},
                         indent=1))
        return 0
    if not rows:
        print("testhost: lab %s has no guests" % lab.name)
        return 0
    for row in rows:
        disks = ",".join("%s=%dM" % (d["device"], d["size"] >> 20) for d in row["disks"])
        release = row["suite"] + ("+devicesfile" if row["lvm_devicesfile"] else "")
        print("%-10s %-8s %-21s pid=%-8s %s ssh=127.0.0.1:%s boot=%ss disks=%s groups=%s" % (
            row["name"], "running" if row["running"] else "stopped", release, row["pid"],
            row["address"], row["ssh_port"], row["boot_seconds"], disks or "-",
            ",".join(row["groups"]) or "-"))
    return 0


def cmd_inventory(args):
    lab = lab_mod.Lab(args.lab)
    if not lab.guests:
        raise lab_mod.LabError("lab %s has no guests; run `testhost up` first" % lab.name)
    print(lab.inventory_path)
    return 0


def cmd_exec(args):
    lab = lab_mod.Lab(args.lab)
    guest = lab.guest(args.guest)
    command = " ".join(args.command)
    return subprocess.call(lab.ssh_argv(guest, command))


def cmd_ssh(args):
    lab = lab_mod.Lab(args.lab)
    guest = lab.guest(args.guest)
    os.execvp("ssh", lab.ssh_argv(guest, None, tty=sys.stdin.isatty()))


def cmd_reboot(args, crash=False):
    lab = lab_mod.Lab(args.lab)
    guest = lab.guest(args.guest)
    seconds = lab.reboot(guest, crash=crash, timeout=args.timeout)
    print("testhost: %s %s; ssh-ready %.1f s after boot" % (
        guest.name, "power-cut and booted again" if crash else "rebooted", seconds))
    return 0


def cmd_save(args):
    lab = lab_mod.Lab(args.lab)
    states.save(lab, lab.guest(args.guest), os.path.abspath(args.directory))
    print("testhost: %s saved in %s and running again" % (args.guest, args.directory))
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="testhost", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-l", "--lab", default=os.environ.get("TESTHOST_LAB", DEFAULT_LAB),
                        help="lab name (default: $TESTHOST_LAB or %(default)s)")
    sub = parser.add_subparsers(dest="verb", required=True)
    # -l also after the verb (`testhost down -l LAB`), without overriding one given before it.
    lab_opt = argparse.ArgumentParser(add_help=False)
    lab_opt.add_argument("-l", "--lab", default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    p = sub.add_parser("image", parents=[lab_opt], help="build or locate the guest image")
    p.add_argument("action", choices=["build", "path", "hash", "kernel"])
    p.add_argument("--suite", default=image.DEFAULT_SUITE,
                   help="Debian release (%s) or all; default %%(default)s" % ", ".join(image.SUITES))
    p.add_argument("--force", action="store_true", help="rebuild even if cached")
    p.set_defaults(func=cmd_image)

    p = sub.add_parser("up", parents=[lab_opt], help="boot guests (those already running are left alone)")
    p.add_argument("-n", "--count", type=int, help="boot g1..gN")
    p.add_argument("-d", "--disk", action="append", help="extra disk size for each of g1..gN")
    p.add_argument("-G", "--group", action="append", help="inventory group for g1..gN")
    p.add_argument("-g", "--guest", action="append",
                   help="NAME[:SIZE,...][@GROUP,...], repeatable")
    p.add_argument("-m", "--mem", default="1G", help="guest memory (default %(default)s)")
    p.add_argument("--suite", default=image.DEFAULT_SUITE, choices=image.SUITES,
                   help="Debian release of g1..gN (default %(default)s)")
    p.add_argument("--lvm-devicesfile", action="store_true",
                   help="g1..gN use LVM's devices file as RHEL 9 does (bookworm, trixie)")
    p.add_argument("--timeout", type=int, default=180, help="seconds to wait for ssh")
    p.add_argument("--down-on-failure", action="store_true",
                   help="remove the whole lab if any guest fails to come up")
    p.set_defaults(func=cmd_up)

    p = sub.add_parser("down", parents=[lab_opt], help="remove the lab and everything it made")
    p.add_argument("--all", action="store_true", help="every lab on this machine")
    p.set_defaults(func=cmd_down)

    p = sub.add_parser("status", parents=[lab_opt], help="guests, addresses, ports, disks")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("inventory", parents=[lab_opt], help="print the path of the lab's Ansible inventory")
    p.set_defaults(func=cmd_inventory)

    for verb, func, text in (("reboot", cmd_reboot, "clean reboot on the same disks"),
                             ("crash", lambda a: cmd_reboot(a, crash=True),
                              "power cut (kill), then boot again on the same disks")):
        p = sub.add_parser(verb, parents=[lab_opt], help=text)
        p.add_argument("guest")
        p.add_argument("--timeout", type=int, default=180)
        p.set_defaults(func=func)

    p = sub.add_parser("save", parents=[lab_opt],
                       help="keep a guest's root layer and disks for new guests (up -g NAME=DIR)")
    p.add_argument("guest")
    p.add_argument("directory")
    p.set_defaults(func=cmd_save)

    p = sub.add_parser("exec", parents=[lab_opt], help="run a command in a guest")
    p.add_argument("guest")
    p.add_argument("command", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_exec)

    p = sub.add_parser("ssh", parents=[lab_opt], help="interactive ssh into a guest")
    p.add_argument("guest")
    p.set_defaults(func=cmd_ssh)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    if os.geteuid() != 0:
        sys.stderr.write("testhost: must run as root (network namespaces, taps, debootstrap)\n")
        return 2
    if getattr(args, "command", None) and args.command[:1] == ["--"]:
        args.command = args.command[1:]
    try:
        return args.func(args)
    except (lab_mod.LabError, image.ImageError, kernel.KernelError, procs.CommandError,
            states.StateError) as exc:
        sys.stderr.write("testhost: error: %s\n" % exc)
        return 1
