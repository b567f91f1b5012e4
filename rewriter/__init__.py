"""dockfix: repair container runtime configuration where it lives, with the smallest edit."""

from __future__ import annotations

__version__ = "0.1.0"
