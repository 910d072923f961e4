"""The Python interpreter of the scenario catalog (internal/scenarios/testdata/scenarios.json).

It registers every scenario as a workflow of the Python SDK (``async def``
workflows with ``--async``) (sdk/python, on
PYTHONPATH) and works its runs through the worker protocol until SIGTERM or
SIGINT; it prints "ready" once its workflows are registered. Each step records
its side effects on the harness's effects server over HTTP, whose counts drive
the "only the first N times" behaviours, so that nothing here keeps state a
killed process would lose. It mirrors internal/scenarios/goworker/main.go: a
behaviour of one that the other lacks is a bug of the harness.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import threading
import time
import urllib.request
from typing import Any, Callable

import klaxon


class Effects:
    """The effects server's client."""

    def __init__(self, url: str) -> None:
        self.url = url

    def _post(self, path: str, key: str, effect: str, timeout: float) -> Any:
        body = json.dumps({"key": key, "effect": effect}).encode()
        request = urllib.request.Request(
            self.url + path, data=body, method="POST", headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())

    def hit(self, key: str, effect: str) -> int:
        return int(self._post("/hit", key, effect, 30)["count"])

    def block(self, key: str, effect: str) -> None:
        # Deaf to cancellation, like a call to an API that takes no deadline.
        self._post("/block", key, effect, 600)


def applies(times: dict[str, Any] | None, execution: int) -> bool:
    if times is None:
        return False
    first = int(times.get("first", 0))
    return first == 0 or execution <= first


CLASSED: dict[str, Callable[[str], klaxon.Failure]] = {
    "permanent": klaxon.Permanent,
    "transient": klaxon.Transient,
    "semantic": klaxon.Semantic,
    "policy_violation": klaxon.PolicyViolation,
    "context_overflow": klaxon.ContextOverflow,
}


def failure(fail: dict[str, Any]) -> BaseException:
    message = fail.get("message", "")
    kind = fail.get("kind")
    if kind == "error":
        return RuntimeError(message)
    cls = fail.get("class", "")
    if cls == "rate_limited":
        return klaxon.RateLimited(message, retry_after=fail.get("retry_after_ms", 0) / 1000)
    if cls in CLASSED:
        return CLASSED[cls](message)
    return klaxon.Failure(cls, message)


def step_function(step: dict[str, Any], name: str, key: str, effects: Effects) -> Callable[[], Any]:
    def run(ctx: klaxon.Context) -> dict[str, Any]:
        execution = effects.hit(key, name)
        if applies(step.get("block"), execution):
            effects.block(key, name)
        sleep = step.get("sleep")
        if applies(sleep, execution):
            time.sleep(sleep["ms"] / 1000)  # past the timeout: the result comes late
        spend = step.get("spend")
        if spend:
            ctx.record_spend(
                provider=spend["provider"],
                model=spend["model"],
                input_tokens=spend.get("input_tokens", 0),
                output_tokens=spend.get("output_tokens", 0),
            )
        fail = step.get("fail")
        if applies(fail, execution):
            assert fail is not None
            if fail.get("kind") == "panic":
                missing: Any = None
                missing["boom"] += 1  # a programming error: TypeError
            raise failure(fail)
        return {"value": step.get("value", ""), "execution": execution}

    return run


def async_step_function(step: dict[str, Any], name: str, key: str, effects: Effects) -> Callable[[], Any]:
    """The step of an ``async def`` workflow: the same behaviours, awaited."""

    async def run(ctx: klaxon.Context) -> dict[str, Any]:
        execution = await asyncio.to_thread(effects.hit, key, name)
        if applies(step.get("block"), execution):
            await asyncio.to_thread(effects.block, key, name)
        sleep = step.get("sleep")
        if applies(sleep, execution):
            # On a thread: the step's result comes late whatever its task hears.
            await asyncio.to_thread(time.sleep, sleep["ms"] / 1000)
        spend = step.get("spend")
        if spend:
            ctx.record_spend(
                provider=spend["provider"],
                model=spend["model"],
                input_tokens=spend.get("input_tokens", 0),
                output_tokens=spend.get("output_tokens", 0),
            )
        fail = step.get("fail")
        if applies(fail, execution):
            assert fail is not None
            if fail.get("kind") == "panic":
                missing: Any = None
                missing["boom"] += 1  # a programming error: TypeError
            raise failure(fail)
        return {"value": step.get("value", ""), "execution": execution}

    return run


def step_options(step: dict[str, Any], name: str, key: str, effects: Effects) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if step.get("timeout_ms"):
        options["timeout"] = step["timeout_ms"] / 1000
    reject = step.get("validate")
    if reject is not None:

        def validate(output: dict[str, Any]) -> BaseException | None:
            if applies(reject, output["execution"]):
                return klaxon.Semantic(reject["message"])
            return None

        options["validate"] = validate
    compensation = step.get("compensate")
    if compensation is not None:

        def compensate(output: dict[str, Any]) -> None:
            effects.hit(key, name + ".compensate")
            if compensation.get("fail"):
                raise RuntimeError(compensation.get("message", "compensation failed"))

        options["compensate"] = compensate
    return options


def wait(ctx: klaxon.Context, name: str, spec: dict[str, Any]) -> None:
    """A durable wait of the body; its result is not used."""
    seconds = spec.get("ms", 0) / 1000
    kind = spec["kind"]
    if kind == "sleep":
        ctx.sleep(name, seconds)
    elif kind == "signal":
        ctx.wait_for_signal(name, timeout=seconds or None)
    elif kind == "approval":
        ctx.await_approval(name, title=spec.get("title", ""), timeout=seconds or None)
    else:
        raise ValueError(f"wait {name}: unknown kind {kind!r}")


async def wait_async(ctx: klaxon.Context, name: str, spec: dict[str, Any]) -> None:
    """:func:`wait` in an ``async def`` workflow."""
    seconds = spec.get("ms", 0) / 1000
    kind = spec["kind"]
    if kind == "sleep":
        await ctx.sleep_async(name, seconds)
    elif kind == "signal":
        await ctx.wait_for_signal_async(name, timeout=seconds or None)
    elif kind == "approval":
        await ctx.await_approval_async(name, title=spec.get("title", ""), timeout=seconds or None)
    else:
        raise ValueError(f"wait {name}: unknown kind {kind!r}")


def fan_out(ctx: klaxon.Context, name: str, spec: dict[str, Any], key: str, completed: list[str]) -> None:
    """Start the step's children, in program order, and await them all."""
    runs = [
        ctx.start_child(f"{name}-{i}", spec["workflow"], {"key": f"{key}/{name}-{i}"}) for i in range(1, spec["count"] + 1)
    ]
    for i, output in enumerate(ctx.gather_children(*runs), start=1):
        completed.append(f"{name}-{i}:" + "+".join(output["completed"]))


async def fan_out_async(ctx: klaxon.Context, name: str, spec: dict[str, Any], key: str, completed: list[str]) -> None:
    """:func:`fan_out` in an ``async def`` workflow."""
    runs = [
        await ctx.start_child_async(f"{name}-{i}", spec["workflow"], {"key": f"{key}/{name}-{i}"})
        for i in range(1, spec["count"] + 1)
    ]
    for i, output in enumerate(await ctx.gather_children_async(*runs), start=1):
        completed.append(f"{name}-{i}:" + "+".join(output["completed"]))


def register(worker: klaxon.Worker, scenario: dict[str, Any], effects: Effects, use_async: bool) -> None:
    retry = scenario.get("retry")
    policy = None
    if retry:
        def seconds(field: str) -> float | None:
            return retry[field] / 1000 if field in retry else None

        policy = klaxon.RetryPolicy(
            max_attempts=retry.get("max_attempts"),
            initial_backoff=seconds("initial_backoff_ms"),
            max_backoff=seconds("max_backoff_ms"),
            max_retry_after=seconds("max_retry_after_ms"),
            classes=retry.get("classes", {}),
        )
    budget = scenario.get("budget")
    steps: list[dict[str, Any]] = scenario["steps"]

    def body(ctx: klaxon.Context, input: dict[str, Any]) -> dict[str, Any]:
        key = input["key"]
        executions = effects.hit(key, "body")
        completed: list[str] = []
        for step in steps:
            name = step["name"]
            if step.get("renamed_on_later_attempt") and executions > 1:
                name = step["renamed_on_later_attempt"]
            run = step_function(step, name, key, effects)
            try:
                if step.get("child"):
                    fan_out(ctx, name, step["child"], key, completed)
                elif step.get("wait"):
                    wait(ctx, name, step["wait"])
                else:
                    ctx.step(name, lambda run=run: run(ctx), **step_options(step, name, key, effects))
            except Exception:
                if step.get("swallow"):
                    continue
                raise
            completed.append(name)
            if step.get("return_after"):
                break
        return {"completed": completed}

    async def async_body(ctx: klaxon.Context, input: dict[str, Any]) -> dict[str, Any]:
        key = input["key"]
        executions = await asyncio.to_thread(effects.hit, key, "body")
        completed: list[str] = []
        for step in steps:
            name = step["name"]
            if step.get("renamed_on_later_attempt") and executions > 1:
                name = step["renamed_on_later_attempt"]
            run = async_step_function(step, name, key, effects)
            try:
                if step.get("child"):
                    await fan_out_async(ctx, name, step["child"], key, completed)
                elif step.get("wait"):
                    await wait_async(ctx, name, step["wait"])
                else:
                    await ctx.step_async(name, lambda run=run: run(ctx), **step_options(step, name, key, effects))
            except Exception:
                if step.get("swallow"):
                    continue
                raise
            completed.append(name)
            if step.get("return_after"):
                break
        return {"completed": completed}

    worker.workflow(
        scenario["name"],
        expect_steps=scenario.get("expect_steps"),
        retry=policy,
        budget=klaxon.Budget(tokens=budget.get("tokens"), usd=budget.get("usd")) if budget else None,
    )(async_body if use_async else body)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", required=True)
    parser.add_argument("--catalog", required=True)
    parser.add_argument("--effects", required=True)
    parser.add_argument("--only", default="", help="comma-separated scenarios to host")
    parser.add_argument("--lease-ms", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--async", dest="use_async", action="store_true", help="register async def workflows")
    args = parser.parse_args()

    with open(args.catalog) as f:
        catalog = json.load(f)
    only = {name for name in args.only.split(",") if name}
    effects = Effects(args.effects)
    worker = klaxon.Worker(
        server=args.server,
        concurrency=min(args.concurrency, 256),
        lease=args.lease_ms / 1000,
        claim_wait=1.0,
        grace_period=1.0,
    )
    for scenario in catalog["scenarios"]:
        if only and scenario["name"] not in only or not only and scenario.get("worker") == "dedicated":
            continue
        register(worker, scenario, effects, args.use_async)

    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, frame: stopping.set())
    worker.start()
    print("ready", flush=True)
    while not stopping.wait(0.5):
        pass
    worker.stop()
    worker.join(5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
