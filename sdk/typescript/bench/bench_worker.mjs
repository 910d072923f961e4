// Steps per second of one Node.js worker process: 5-step no-op workflows.
//
//     node bench/bench_worker.mjs [RUNS] [CONCURRENCY]
//
// Starts a klaxon server on SQLite (as the tests do: $KLAXON_BIN or a fresh
// build), enqueues RUNS runs, and times one worker from the first claim to the
// last run completed. Build the SDK first (npm run build). Mirrors
// sdk/python/bench/bench_worker.py.

import { readFileSync } from "node:fs";

import { Client, Worker } from "../dist/index.js";
import { Server } from "../test/harness.mjs";

const STEPS = 5;

/** User and system CPU seconds of a process, from /proc (0 where there is none). */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(")").pop().trim().split(/\s+/);
    return (Number(fields[11]) + Number(fields[12])) / 100; // CLK_TCK is 100 on Linux
  } catch {
    return 0;
  }
}

const runs = Number(process.argv[2] ?? 2000);
const concurrency = Number(process.argv[3] ?? 64);
const server = await Server.start("sqlite");
try {
  const worker = new Worker({ server: server.url, concurrency, claimWaitMs: 1000, gracePeriodMs: 1000 });
  worker.workflow("bench", { expectSteps: Array.from({ length: STEPS }, (_, i) => `s${i}`) }, async (ctx) => {
    let total = 0;
    for (let i = 0; i < STEPS; i++) total += await ctx.step(`s${i}`, () => 1);
    return total;
  });
  await worker.register();
  const client = new Client(server.url);
  const ids = [];
  for (let i = 0; i < runs; i++) ids.push((await client.enqueue("bench", i)).id);
  const started = performance.now();
  const cpu = process.cpuUsage();
  const serverCpu = cpuSeconds(server.process.pid);
  await worker.start();
  for (const id of ids) {
    const run = await client.awaitRun(id, { timeoutMs: 600_000, pollMs: 50 });
    if (run.status !== "completed") throw new Error(`run ${id} is ${run.status}`);
  }
  const elapsed = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const nodeCpu = (used.user + used.system) / 1e6;
  const serverUsed = cpuSeconds(server.process.pid) - serverCpu;
  await worker.stop();
  console.log(
    `${runs} runs x ${STEPS} steps, concurrency ${concurrency}: ${elapsed.toFixed(2)}s, ` +
      `${Math.round((runs * STEPS) / elapsed)} steps/s, ${Math.round(runs / elapsed)} runs/s; ` +
      `CPU: Node worker ${nodeCpu.toFixed(2)}s, server ${serverUsed.toFixed(2)}s`,
  );
} finally {
  await server.stop();
}
