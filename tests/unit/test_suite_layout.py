"""The suite's own layout: no two test files share a basename. pytest imports them by basename
(rootdir mode, no packages), so the second of two alike is not collected; CI reported that as
one error while the other tests ran, and a guest test went unrun."""

import collections
import os

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_every_test_file_has_a_basename_of_its_own():
    seen = collections.defaultdict(list)
    for top in ("tests", os.path.join("tools", "testhost", "tests")):
        for directory, dirs, names in os.walk(os.path.join(REPO, top)):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            for name in names:
                if name.startswith("test_") and name.endswith(".py"):
                    seen[name].append(os.path.relpath(os.path.join(directory, name), REPO))
    assert dict((n, p) for n, p in seen.items() if len(p) > 1) == {}
