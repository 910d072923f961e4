"""The package's public surface and version (no server needed)."""

from __future__ import annotations

import re
import unittest

from harness import SDK

import klaxon


class PackageTest(unittest.TestCase):
    def test_every_public_name_is_exported(self) -> None:
        for name in klaxon.__all__:
            self.assertTrue(hasattr(klaxon, name), name)

    def test_one_version_everywhere(self) -> None:
        pyproject = (SDK / "pyproject.toml").read_text()
        backend = (SDK / "_build" / "klaxon_build.py").read_text()
        version = re.search(r'^version = "([^"]+)"', pyproject, re.M)
        built = re.search(r'^VERSION = "([^"]+)"', backend, re.M)
        assert version is not None and built is not None
        self.assertEqual(version.group(1), klaxon.__version__)
        self.assertEqual(built.group(1), klaxon.__version__)

    def test_failures_share_one_base_with_their_class(self) -> None:
        cases: list[tuple[klaxon.Failure, str]] = [
            (klaxon.Transient("x"), "transient"),
            (klaxon.RateLimited("x", retry_after=2), "rate_limited"),
            (klaxon.Timeout("x"), "timeout"),
            (klaxon.Permanent("x"), "permanent"),
            (klaxon.PolicyViolation("x"), "policy_violation"),
            (klaxon.ContextOverflow("x"), "context_overflow"),
            (klaxon.Semantic("x"), "semantic"),
            (klaxon.BudgetExceeded("x"), "budget_exceeded"),
            (klaxon.Failure("permanent", "x"), "permanent"),
        ]
        for failure, class_ in cases:
            self.assertEqual(failure.class_, class_)
        with self.assertRaises(ValueError):
            klaxon.Failure("nope", "x")


if __name__ == "__main__":
    unittest.main()
