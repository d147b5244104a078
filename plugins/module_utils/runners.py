# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One small runner per command-line tool, and the plan of actions modules apply.

Every command goes through ``run_argv`` with an argument list (never a shell) in the C locale,
because the parsers read English output. A failed command raises ``CommandError``, which
each module turns into ``fail_json`` in exactly one place.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import errno
import os
import re
import subprocess
import tempfile

from ansible_collections.devmapper.storage.plugins.module_utils.host.files import fsync_path
from ansible_collections.devmapper.storage.plugins.module_utils.host.lock import (
    LOCK_FILE, HostLock, LockTimeout)
from ansible_collections.devmapper.storage.plugins.module_utils.sizes import SizeError

C_LOCALE = {"LANG": "C", "LC_ALL": "C", "LC_MESSAGES": "C", "LANGUAGE": "C"}

# What the kernel's answers to dm ioctls look like in dmsetup's stderr, and what they mean.
DM_ERRNO_TEXT = {
    "File exists": errno.EEXIST,
    "No data available": errno.ENODATA,
    "Device or resource busy": errno.EBUSY,
    "No such device or address": errno.ENXIO,
    "No such device": errno.ENODEV,
    "Invalid argument": errno.EINVAL,
    "No space left on device": errno.ENOSPC,
}


class ModuleError(Exception):
    """A refusal or failure with everything ``fail_json`` should say."""

    def __init__(self, msg, **details):
        super(ModuleError, self).__init__(msg)
        self.msg = msg
        self.details = details

    def fail_kwargs(self):
        kwargs = dict(self.details)
        kwargs["msg"] = self.msg
        return kwargs


class CommandError(ModuleError):
    def __init__(self, argv, rc, stdout, stderr, msg=None):
        self.argv = list(argv)
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.errno = dm_errno(stderr)
        text = msg or "%s failed (rc=%d): %s" % (" ".join(argv), rc, (stderr or stdout).strip())
        super(CommandError, self).__init__(text, cmd=" ".join(argv), rc=rc, stdout=stdout,
                                           stderr=stderr)


def dm_errno(stderr):
    for text, number in DM_ERRNO_TEXT.items():
        if stderr and ("failed: " + text) in stderr:
            return number
    return None


def run_argv(module, argv, data=None):
    """Run ``argv`` (no shell) in the C locale; (rc, stdout, stderr) as text.

    What ``module.run_command`` does for an argument list, without its ``preexec_fn``: with one,
    Python fork()s the whole module process for every command; without, Python 3.10 and later
    vfork() it. On small or emulated hosts that copy is most of a command's cost (on the UML test
    hosts a no-op dm_base_device run took 4.7 s with run_command and 3.3 s without)."""
    module.debug("running %s" % " ".join(argv))
    env = dict(os.environ)
    env.update(C_LOCALE)
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE if data is not None else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            close_fds=True)
    out, err = proc.communicate(data)
    return (proc.returncode, out.decode("utf-8", "surrogateescape"),
            err.decode("utf-8", "surrogateescape"))


class ToolRunner(object):
    """Runs one tool. ``argv(args)`` gives the exact command line that ``run(args)`` executes, so
    that a plan can report it (also in check mode) before anything runs."""

    tool = None

    def __init__(self, module, tool=None):
        self.module = module
        self.tool = tool or self.tool
        self._path = None

    @property
    def path(self):
        if self._path is None:
            self._path = self.module.get_bin_path(self.tool, required=True)
        return self._path

    def argv(self, args):
        return [self.path] + [str(a) for a in args]

    def run(self, args, check=True, data=None):
        argv = self.argv(args)
        rc, out, err = run_argv(self.module, argv, data)
        if check and rc != 0:
            raise CommandError(argv, rc, out, err)
        return rc, out, err


class Step(object):
    """What every step of a plan reports: ``command``, what it does (a command line, or words for
    a step done in Python), and ``why``."""

    why = ""

    def to_dict(self):
        return {"cmd": self.command, "why": self.why}


class Action(Step):
    """One step of a plan: a command (argv) and why it runs. A step may carry ``undo``, the
    Action that takes it back should a later step of the plan fail, and ``undoes``, the argument
    lists of earlier steps it completes (whose undo is then no longer wanted)."""

    def __init__(self, runner, args, why):
        self.runner = runner
        self.args = list(args)
        self.why = why

    @property
    def command(self):
        return " ".join(self.runner.argv(self.args))

    def apply(self):
        return self.runner.run(self.args)


class WriteFileAction(Step):
    """A step that writes a file atomically (temp file in the same directory, then rename)."""

    def __init__(self, module, path, content, why, mode=0o644):
        self.module = module
        self.path = path
        self.content = content
        self.why = why
        self.mode = mode

    @property
    def command(self):
        return "write %s" % self.path

    def apply(self):
        directory = os.path.dirname(self.path)
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o755)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".%s." % os.path.basename(self.path))
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(self.content)
                # on disk before the rename: after a power cut the file is the old one or the
                # new one, never a renamed empty file
                handle.flush()
                os.fsync(handle.fileno())
            self.module.atomic_move(tmp, self.path)
            # after the move: atomic_move gives the file the old file's mode, or the umask's
            # default for a new one, not the temporary file's
            os.chmod(self.path, self.mode)
            fsync_path(directory)       # the rename itself on disk
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)


def _undo_open(done):
    """Run the undo of each done action that a later done action has not closed (a suspend
    without its resume), last first; the commands that ran, and any that failed too."""
    open_undos = []
    for action in done:
        undo = getattr(action, "undo", None)
        if undo is not None:
            open_undos.append((action.args, undo))
        closes = getattr(action, "undoes", [])
        open_undos = [(args, u) for args, u in open_undos if args not in closes]
    ran = []
    for dummy, undo in reversed(open_undos):
        try:
            undo.apply()
            ran.append(undo.command)
        except (CommandError, IOError, OSError) as exc:
            ran.append("%s (failed too: %s)" % (undo.command, exc))
    return ran


def apply_plan(actions):
    """Run the actions in order; the first failure stops the plan (and says which step), after
    undoing what must not stay half done (a device suspended, not resumed)."""
    done = []
    for action in actions:
        try:
            action.apply()
        except (ModuleError, IOError, OSError) as exc:
            # a command that failed, or a step of the module's own that refused (ModuleError)
            undone = _undo_open(done)
            details = {"actions_done": [a.to_dict() for a in done],
                       "failed_action": action.to_dict()}
            if undone:
                details["undone_after_failure"] = undone
            if isinstance(exc, ModuleError):
                exc.details.update(details)
                raise
            raise ModuleError("%s failed: %s" % (action.command, exc), **details)
        done.append(action)
    return done


Converged = collections.namedtuple("Converged", "before actions after decided")


def no_actions(current):
    """The plan of ``state=info``: nothing to do."""
    return []


def converge(module, read, plan, predict=None, reread=True):
    """The skeleton every module runs: read the host, plan, apply the plan (not in check mode),
    read the host again.

    ``plan(before)`` returns the actions, or a tuple of the actions and what else the planner
    decided (kept in ``decided``). Once the plan ran, ``after`` is read again with ``read``, or
    with ``reread`` when that is a function of its own (``reread=False``: not read again). In
    check mode ``after`` is ``predict(before)`` when a plan was made and ``predict`` is given;
    otherwise, and when nothing was to be done, it is ``before``.

    Outside check mode, a module with the option ``lock_timeout`` does all of it holding the
    host's lock (host/lock.py): a second run waits, and gives up after that many seconds."""
    timeout = (getattr(module, "params", None) or {}).get("lock_timeout")
    if timeout is None or module.check_mode:
        return _converge(module, read, plan, predict, reread)
    try:
        with HostLock(getattr(module, "_name", "a devmapper.storage module"), timeout):
            return _converge(module, read, plan, predict, reread)
    except LockTimeout as exc:
        raise ModuleError("lock_timeout: another run has held this host's lock (%s) for more "
                          "than %d s: %s. Nothing was changed; run again once it is done, or "
                          "give a longer lock_timeout" % (LOCK_FILE, exc.waited, exc.holder))


def _converge(module, read, plan, predict, reread):
    before = read()
    planned = plan(before)
    actions, decided = (planned[0], tuple(planned[1:])) if isinstance(planned, tuple) \
        else (planned, ())
    after = before
    if actions and not module.check_mode:
        apply_plan(actions)
        if reread:
            after = read() if reread is True else reread()
    elif actions and predict is not None:
        after = predict(before)
    return Converged(before, actions, after, decided)


def outcome(actions, **fields):
    """A module's result: whether it changed the host, the actions (each command and why), and
    what else it reports."""
    result = dict(changed=bool(actions), actions=[a.to_dict() for a in actions])
    result.update(fields)
    return result


# The option of the modules roles call with their users' variables (doc fragment
# devmapper.storage.option_names)
OPTION_NAMES_ARGS = {"option_names": {"type": "dict", "default": {}}}


def named(module, text):
    """``text`` with the module's option names replaced by the names its caller gave them
    (option ``option_names``, where a module has it: a role passes its variables' names, so that
    a refusal names what the role's user can set)."""
    names = (getattr(module, "params", None) or {}).get("option_names") or {}
    for option, name in names.items():
        text = re.sub(r"(?<![\w.])%s(?=[:=),\s]|$)" % re.escape(option), name, text)
    return text


def exit_module(module, run_module):
    """The one place a module turns its outcome into exit_json or fail_json."""
    try:
        result = run_module(module)
    except (ModuleError, SizeError) as exc:
        kwargs = exc.fail_kwargs() if isinstance(exc, ModuleError) else {"msg": str(exc)}
        kwargs["msg"] = named(module, kwargs["msg"])
        # a plan that failed half-way has changed the host; say so
        kwargs["changed"] = bool(kwargs.get("actions_done"))
        module.fail_json(**kwargs)
    module.exit_json(**result)
