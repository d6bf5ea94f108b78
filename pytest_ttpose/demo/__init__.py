"""``python -m pytest_ttpose.demo --image IMG --out OUT.png``: the reference's and the device's persons side by side.

The command-line code lives in :mod:`pytest_ttpose.demo.cli`; importing this package loads nothing heavy.
"""

from __future__ import annotations
