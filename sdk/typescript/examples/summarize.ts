// The example, type-checked with the package's own declarations
// (npm run typecheck: tsc -p examples --noEmit, after npm run build).

import { Client, RateLimited, Semantic, Worker } from "@klaxonhq/klaxon";

async function fetchPage(url: string, signal: AbortSignal): Promise<string> {
  const response = await fetch(url, { signal });
  if (response.status === 429) throw new RateLimited("slow down", Number(response.headers.get("retry-after") ?? 1) * 1000);
  return response.text();
}

async function callModel(page: string, idempotencyKey: string): Promise<string> {
  return `${page.length} characters (${idempotencyKey})`;
}

const worker = new Worker({ server: "http://127.0.0.1:7070", token: process.env["KLAXON_TOKEN"], concurrency: 16 });

worker.workflow("summarize", { expectSteps: ["fetch", "summarize"], budget: { tokens: 50_000, usd: 0.5 } },
  async (ctx, url: string) => {
    const page = await ctx.step("fetch", (signal) => fetchPage(url, signal));
    const [a, b] = await Promise.all([ctx.step("a", () => 1), ctx.step("b", async () => "two")]);
    const total: number = a + b.length;
    const summary: string = await ctx.step("summarize", () => callModel(page, ctx.idempotencyKey()), {
      timeoutMs: 30_000,
      validate: (out) => (out ? undefined : new Semantic("empty summary")),
      compensate: async (out, signal) => {
        signal.throwIfAborted();
        console.log("undo", out);
      },
    });
    return { summary, total };
  });

if (process.argv[2] === "enqueue") {
  const client = new Client("http://127.0.0.1:7070", process.env["KLAXON_TOKEN"]);
  const run = await client.enqueue("summarize", "https://example.com", { idempotencyKey: "doc-42" });
  console.log((await client.awaitRun(run.id)).output);
} else {
  await worker.run(); // until SIGTERM/SIGINT, then a graceful stop
}
