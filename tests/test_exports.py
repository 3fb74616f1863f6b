from __future__ import annotations

import subprocess
import sys

import sessile


def test_top_level_api() -> None:
    assert sessile.__all__ == ["__version__"]
    assert sessile.__version__ == "0.1.0"


def test_importing_the_client_loads_no_server() -> None:
    code = (
        "import sys, sessile.client, sessile.verify; "
        "print(sorted({'fastapi', 'sqlalchemy', 'flask'} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
