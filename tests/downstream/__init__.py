"""Tests written as a project that uses the simulator writes them: they import
nothing from this repository's tests, and run as they are against an
installed wheel (tests/testing/test_installed.py). The README shows
test_example.py."""
