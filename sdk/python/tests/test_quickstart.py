"""The README's quickstart, as written, against a real server (and under pyright --strict)."""

from __future__ import annotations

import os
import unittest

from harness import Server

import klaxon


def fetch(url: str) -> str:
    return f"<html>{url}</html>"


def call_model(page: str, idempotency_key: str) -> str:
    return f"a summary of {len(page)} characters"


class QuickstartTest(unittest.TestCase):
    def test_the_readme_quickstart_runs(self) -> None:
        server = Server()
        self.addCleanup(server.stop)
        if not server.has_worker_protocol():
            self.skipTest("this klaxon server has no worker protocol")

        worker = klaxon.Worker(server=server.url, token=os.environ.get("KLAXON_TOKEN"), concurrency=16, claim_wait=0.5)

        @worker.workflow("summarize", expect_steps=["fetch", "summarize"], budget=klaxon.Budget(tokens=50_000, usd=0.50))
        def summarize(ctx: klaxon.Context, url: str) -> str:  # pyright: ignore[reportUnusedFunction]
            page = ctx.step("fetch", lambda: fetch(url))
            return ctx.step("summarize", lambda: call_model(page, idempotency_key=ctx.idempotency_key()),
                            timeout=30, validate=lambda out: None if out else klaxon.Semantic("empty summary"))

        worker.start()
        self.addCleanup(worker.stop, True)
        with klaxon.Client(server.url, token=os.environ.get("KLAXON_TOKEN")) as client:
            run = client.enqueue("summarize", "https://example.com", idempotency_key="doc-42", entities={"document_id": "42"})
            self.assertEqual(client.await_run(run.id, timeout=60).output, "a summary of 32 characters")


if __name__ == "__main__":
    unittest.main()
