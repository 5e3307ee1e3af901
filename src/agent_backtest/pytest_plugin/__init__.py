"""The pytest adapter. ``plugin`` is the light ``pytest11`` module."""
