"""Test support: the fault server, the app server, PostgreSQL admin, the fixture release, browser helpers."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent  # the repository
