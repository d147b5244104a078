"""A stand-in for AnsibleModule that answers commands with outputs captured from real tools
(tests/unit/fixtures), in the order given, and records every command line it was asked to run."""


class CapturedModule(object):
    check_mode = False

    def __init__(self, *answers, **kw):
        self.answers = list(answers)
        self.missing = set(kw.get("missing", ()))
        self.calls = []

    def get_bin_path(self, name, required=False):
        return None if name in self.missing else "/sbin/" + name

    def run_command(self, argv, environ_update=None, data=None, binary_data=False):
        self.calls.append(list(argv))
        if not self.answers:
            raise AssertionError("no captured output left for %s" % " ".join(argv))
        record = self.answers.pop(0)
        return record["rc"], record["stdout"], record["stderr"]
