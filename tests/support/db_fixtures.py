"""Fixtures (filled in by later work)."""

from __future__ import annotations
