"""Serve one of the bench's app factories the way ``sessile serve`` serves sessile: with
``--workers`` above 1, each worker on a listener of its own (``sessile/cli/listeners.py``).

    python bench/serve.py probe:create_app --port 8000 --workers 2
"""

from __future__ import annotations

import argparse

from sessile.cli.serving import serve_app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("app", help="module:factory, importable from bench/")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    serve_app(args.app, host=args.host, port=args.port, workers=args.workers, log_level="warning")


if __name__ == "__main__":
    main()
