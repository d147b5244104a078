"""Fold the last run's test durations (.test-reports/durations.json, written by tests/conftest.py)
into tests/durations.json, which orders the next runs longest first. Only passed tests count: a
test that failed early says nothing of how long it takes.

Usage: python3 scripts/lib/update_durations.py
"""

import json
import os

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
RUN = os.path.join(ROOT, ".test-reports", "durations.json")
KEPT = os.path.join(ROOT, "tests", "durations.json")

with open(RUN) as handle:
    run = json.load(handle)
kept = {}
if os.path.exists(KEPT):
    with open(KEPT) as handle:
        kept = json.load(handle)
for nodeid, entry in run.items():
    if entry["outcome"] == "passed" and entry["seconds"] >= 1:
        kept[nodeid] = round(entry["seconds"], 1)
with open(KEPT, "w") as handle:
    json.dump(kept, handle, indent=1, sort_keys=True)
    handle.write("\n")
print("tests/durations.json: %d tests" % len(kept))
