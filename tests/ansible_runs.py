"""How tests run Ansible: one module ad hoc (``run_module``) or a playbook (``run_playbook``), with
the repository's ansible.cfg and the JSON callback of tests/callback_plugins.

Ad-hoc module runs go through a fork server, one per test process: a process that imported
Ansible once and forks a child per run, which runs the ``ansible`` command line's own main() as
the ``ansible`` executable would. Each run still starts from the same freshly imported state (the
server never runs one itself); what it saves is the import, about 0.4 s of the host's CPU per run
(measured: 0.78 s per `ansible localhost -m ping` as a new process, 0.37 s forked), over the
hundreds of module runs of the integration tests.
"""

import atexit
import json
import os
import subprocess
import sys
import tempfile
import threading

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODULE_TIMEOUT = 600


def ansible_env():
    env = dict(os.environ)
    env.update({"ANSIBLE_CONFIG": os.path.join(REPO, "ansible.cfg"),
                "ANSIBLE_CALLBACK_PLUGINS": os.path.join(REPO, "tests", "callback_plugins"),
                "ANSIBLE_STDOUT_CALLBACK": "result_json",
                "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
                "ANSIBLE_NOCOLOR": "1"})
    return env


# The server: reads one JSON request per line ({"argv", "out", "err"}), forks, and the child runs
# ansible.cli.adhoc.main(argv) with stdin from /dev/null and stdout/stderr into the named files;
# answers {"rc"} per request. A child that runs past MODULE_TIMEOUT is ended by SIGALRM.
SERVER = r"""
import json, os, signal, sys
import ansible.cli.adhoc as adhoc
# what every run imports anyway: imported once here, before the forks
from ansible.executor import task_queue_manager  # noqa: F401
from ansible.inventory import manager  # noqa: F401
from ansible.plugins.connection import ssh  # noqa: F401
from ansible.vars import manager as var_manager  # noqa: F401


def run(request):
    pid = os.fork()
    if pid == 0:
        code = 250
        try:
            signal.alarm(request["timeout"])
            null = os.open(os.devnull, os.O_RDONLY)
            out = os.open(request["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            err = os.open(request["err"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            for fd, target in ((null, 0), (out, 1), (err, 2)):
                os.dup2(fd, target)
            sys.argv = list(request["argv"])
            try:
                adhoc.main(sys.argv)
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:
            import traceback
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    dummy, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


for line in sys.stdin:
    sys.stdout.write(json.dumps({"rc": run(json.loads(line))}) + "\n")
    sys.stdout.flush()
"""


class AdHocServer(object):
    """The fork server of this process (started on first use, ended at exit)."""

    def __init__(self):
        self.proc = None
        self.lock = threading.Lock()
        self.dir = None

    def start(self):
        self.dir = tempfile.mkdtemp(prefix="adhoc-")
        self.proc = subprocess.Popen([sys.executable, "-c", SERVER], cwd=REPO, env=ansible_env(),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     universal_newlines=True)
        atexit.register(self.stop)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)

    def run(self, argv):
        """(rc, stdout, stderr) of the ``ansible`` command line ``argv``."""
        with self.lock:
            if self.proc is None or self.proc.poll() is not None:
                self.start()
            out, err = os.path.join(self.dir, "out"), os.path.join(self.dir, "err")
            self.proc.stdin.write(json.dumps({"argv": argv, "out": out, "err": err,
                                              "timeout": MODULE_TIMEOUT}) + "\n")
            self.proc.stdin.flush()
            answer = self.proc.stdout.readline()
            if not answer:
                raise AssertionError("the ad-hoc fork server ended (rc=%s)" % self.proc.poll())
            with open(out) as handle_out, open(err) as handle_err:
                return json.loads(answer)["rc"], handle_out.read(), handle_err.read()


ADHOC = AdHocServer()


def run_module(inventory, host, module, args, check=False, diff=False):
    """Run one module ad hoc on one host; returns the module's result dict."""
    argv = ["ansible", host, "-i", inventory, "-m", module, "-a", json.dumps(args)]
    if check:
        argv.append("--check")
    if diff:
        argv.append("--diff")
    rc, out, err = ADHOC.run(argv)
    try:
        report = json.loads(out)
        return report["tasks"][0]["hosts"][host]
    except (ValueError, KeyError, IndexError):
        raise AssertionError("ansible %s on %s gave no JSON result (rc=%d)\nstdout:\n%s\nstderr:\n%s"
                             % (module, host, rc, out, err))


def run_playbook(inventory, playbook, limit=None, check=False, diff=False, extra_vars=None):
    """Run a playbook; returns (rc, report) with report["tasks"] as tests/callback_plugins
    records them (each task's per-host results)."""
    argv = ["ansible-playbook", "-i", inventory, os.path.join(REPO, playbook)]
    if limit:
        argv += ["--limit", limit]
    if check:
        argv.append("--check")
    if diff:
        argv.append("--diff")
    if extra_vars:
        argv += ["-e", json.dumps(extra_vars)]
    proc = subprocess.run(argv, cwd=REPO, env=ansible_env(), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          timeout=1800, check=False)
    try:
        report = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise AssertionError("%s gave no JSON report (rc=%d)\nstdout:\n%s\nstderr:\n%s"
                             % (playbook, proc.returncode, proc.stdout, proc.stderr))
    return proc.returncode, report


def task_results(report, host):
    """(task name, result) of every task that ran or was skipped on ``host``, in the order the
    host ran them (tests/callback_plugins/result_json.py numbers the results as they come)."""
    rows = [(t["name"], t["hosts"][host]) for t in report["tasks"] if host in t["hosts"]]
    return sorted(rows, key=lambda row: row[1].get("_order", 0))
