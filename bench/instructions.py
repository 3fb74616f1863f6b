"""Instructions per refresh: sessile's ASGI app called in-process, counted by callgrind.

    .venv/bin/python bench/instructions.py [--src OTHER/src] [--sessions 50]

Instructions don't drift with the machine's load as CPU time does, so two trees compare
in one run each, on a busy machine too. It runs ``bench/inprocess.py``'s refresh loop
under ``valgrind --tool=callgrind`` twice, with the same set-up (the same logins, the
same number of proofs signed), once for ``--short`` rounds and once for ``--long``; the
difference, divided by the refreshes it adds, is what one refresh costs, without the
set-up. ``--src`` counts another source tree. It needs valgrind (Debian's ``valgrind``).

A count is not a time: an instruction that misses the cache costs many times one that
hits, and Python's code misses more often than the crypto's. Use it to tell a change
apart, and CPU time (``bench/refresh.py --anchor``) for what a refresh costs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

_COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


def _child(sessions: int, signed: int, measured: int) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import inprocess  # here: refresh.py, which it imports, reads --src from argv

    with inprocess.sessile_on_sqlite():
        asyncio.run(inprocess.sessile_refresh(signed * sessions, sessions, measured))


def _count(args: argparse.Namespace, measured: int) -> int:
    command = [
        "valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
        sys.executable, __file__, "--child", str(measured), "--sessions", str(args.sessions),
        "--long", str(args.long),
    ]  # fmt: skip
    if args.src:
        command += ["--src", args.src]
    # A fixed hash seed: the same dict layouts, so the same instructions, in both runs.
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    found = _COLLECTED.findall(done.stderr)
    if not found:
        raise RuntimeError(f"callgrind printed no count:\n{done.stderr[-2000:]}")
    return int(found[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--short", type=int, default=10, help="rounds of the first run")
    parser.add_argument("--long", type=int, default=30, help="rounds of the second run")
    parser.add_argument("--src", help="another source tree's src folder")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        _child(args.sessions, args.long, args.child)
        return
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (apt-get install valgrind)")
    if args.long <= args.short:
        sys.exit("--long must be more rounds than --short")
    short, long = _count(args, args.short), _count(args, args.long)
    refreshes = (args.long - args.short) * args.sessions
    per_refresh = (long - short) / refreshes
    print(f"sessile  {per_refresh:,.0f} instructions per refresh (in-process, SQLite)")


if __name__ == "__main__":
    main()
