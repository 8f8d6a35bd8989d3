"""`make bench`: run every benchmark in benchmarks/ (bench_*.py), one after another, in one go.

Each benchmark prints its own ratios (measured against a reference in the same run). Extra arguments
(e.g. --quick) are passed to the benchmarks that accept them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    extra = sys.argv[1:]
    failed = []
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"\n=== {script.name} ===", flush=True)
        text = script.read_text()
        args = [a for a in extra if a in text]  # only flags the script knows
        code = subprocess.call([sys.executable, str(script), *args])
        if code:
            failed.append(script.name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
