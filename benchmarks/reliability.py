"""The README's Reliability table, measured: run every test marked ``reliability`` (fault injection
and bad inputs) and count what they found.

    OMP_NUM_THREADS=1 python benchmarks/reliability.py

A fault case "survived" when its test passed: the run went on or stopped with one clear message,
and nothing already computed was lost. A bad-input case was "answered clearly" when its test
passed: one line naming the file, key, atom or frame, exit code != 0. "labels lost" sums what the
kill-and-resume tests recorded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "reliability.json"
        env = {**os.environ, "DEEPEARTH_RELIABILITY_REPORT": str(report), "OMP_NUM_THREADS": "1"}
        t0 = time.time()
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-m", "reliability", "-p", "no:cacheprovider",
                               *sys.argv[1:]], cwd=ROOT, env=env, capture_output=True, text=True)
        wall = time.time() - t0
        cases = json.loads(report.read_text()) if report.is_file() else []
    if not cases:
        print(proc.stdout[-3000:], proc.stderr[-3000:])
        return 1
    tried, passed = Counter(c["kind"] for c in cases), Counter(c["kind"] for c in cases if c["passed"])
    lost = sum(int(c.get("labels_lost", 0)) for c in cases)
    kills = sum(int(c.get("kills", 0)) for c in cases)
    print(f"| {'what':<38} | {'count':>5} |")
    print(f"|{'-' * 40}|{'-' * 7}|")
    rows = [("faults injected (test cases)", tried["fault"]), ("  of which kill -9 mid-run", kills),
            ("faults survived", passed["fault"]), ("labels lost", lost),
            ("bad inputs tried (test cases)", tried["bad input"]),
            ("bad inputs answered clearly", passed["bad input"])]
    for what, n in rows:
        print(f"| {what:<38} | {n:>5} |")
    print(f"\n{len(cases)} cases in {wall:.0f} s; failing: "
          + (", ".join(c["test"] for c in cases if not c["passed"]) or "none"))
    return 0 if all(c["passed"] for c in cases) else 1


if __name__ == "__main__":
    sys.exit(main())
