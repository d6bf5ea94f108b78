"""Entry point of ``python -m pytest_ttpose.demo``."""

from __future__ import annotations

from pytest_ttpose.demo.cli import main

raise SystemExit(main())
