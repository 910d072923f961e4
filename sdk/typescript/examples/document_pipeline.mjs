// The demo's document pipeline (extract, classify, enrich, transform, store)
// as a TypeScript-SDK worker: classify and enrich call a model through an
// OpenAI-compatible chat-completions endpoint.
//
//     node examples/document_pipeline.mjs [SERVER] [DOCUMENTS]
//
// SERVER is a running `klaxon server` (default http://127.0.0.1:7070).
// Without OPENAI_BASE_URL the model is a fake OpenAI-compatible server this
// script starts on a loopback port, which fails the way real ones do (500s,
// 429s with Retry-After, an empty answer now and then); with OPENAI_BASE_URL
// (and OPENAI_API_KEY, MODEL) it calls that endpoint instead. The script
// enqueues DOCUMENTS runs (default 20), works them, prints where each ended
// and stops. Build the SDK first: npm ci && npm run build.

import { createServer } from "node:http";

import { Client, Permanent, Semantic, Worker } from "../dist/index.js";

const server = process.argv[2] ?? "http://127.0.0.1:7070";
const documents = Number(process.argv[3] ?? 20);
const model = process.env.MODEL ?? "gpt-4o-mini";

/** A fake OpenAI-compatible model: every 7th call a 500, every 11th a 429, every 13th an empty answer. */
async function fakeModel() {
  let calls = 0;
  const fake = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      calls++;
      const prompt = JSON.parse(body).messages.at(-1).content;
      if (calls % 7 === 0) {
        response.writeHead(500, { "Content-Type": "application/json" });
        return response.end(JSON.stringify({ error: { type: "server_error", message: "the model is overloaded" } }));
      }
      if (calls % 11 === 0) {
        response.writeHead(429, { "Content-Type": "application/json", "Retry-After": "1" });
        return response.end(JSON.stringify({ error: { code: "rate_limit_exceeded", message: "slow down" } }));
      }
      const content = calls % 13 === 0 ? "" : prompt.startsWith("Classify") ? "invoice" : "vendor: ACME Corp";
      response.writeHead(200, { "Content-Type": "application/json" });
      response.end(
        JSON.stringify({
          id: `chatcmpl-${calls}`,
          object: "chat.completion",
          model,
          choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
          usage: { prompt_tokens: 120 + prompt.length, completion_tokens: 8, prompt_tokens_details: { cached_tokens: 0 } },
        }),
      );
    });
  });
  await new Promise((resolve) => fake.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${fake.address().port}/v1`, close: () => fake.close() };
}

const fake = process.env.OPENAI_BASE_URL ? undefined : await fakeModel();
const baseURL = process.env.OPENAI_BASE_URL ?? fake.url;

/**
 * One chat completion with fetch. A refusal throws an error shaped as the
 * OpenAI Node SDK's APIError (status, headers, error), which ctx.modelCall
 * turns into a failure class: 429 → rate_limited, 5xx → transient…
 */
async function chat(prompt, signal, idempotencyKey) {
  const response = await fetch(`${baseURL}/chat/completions`, {
    method: "POST",
    signal,
    headers: {
      "Content-Type": "application/json",
      Authorization: `Bearer ${process.env.OPENAI_API_KEY ?? "fake"}`,
      "Idempotency-Key": idempotencyKey,
    },
    body: JSON.stringify({ model, messages: [{ role: "user", content: prompt }] }),
  });
  const body = await response.json();
  if (!response.ok) {
    throw Object.assign(new Error(`${response.status} ${body.error?.message ?? response.statusText}`), {
      status: response.status,
      headers: response.headers,
      error: body.error,
    });
  }
  return body;
}

const answer = (completion) => completion.choices[0].message.content;
const nonEmpty = (completion) => (answer(completion) ? undefined : new Semantic("the model's answer is empty"));

const worker = new Worker({ server, token: process.env.KLAXON_TOKEN, concurrency: 16, claimWaitMs: 1000, gracePeriodMs: 2000 });

worker.workflow(
  "document_pipeline_ts",
  {
    expectSteps: ["extract", "classify", "enrich", "transform", "store"],
    retry: { maxAttempts: 4, initialBackoffMs: 200, maxBackoffMs: 2000 },
    budget: { tokens: 20_000 },
  },
  async (ctx, doc) => {
    const text = await ctx.step("extract", () => {
      if (!doc.text) throw new Permanent(`document ${doc.id} has no text`);
      return doc.text.trim();
    });
    const category = await ctx.modelCall("classify", (signal) => chat(`Classify: ${text}`, signal, ctx.idempotencyKey()), {
      timeoutMs: 10_000,
      validate: nonEmpty,
    });
    const entities = await ctx.modelCall("enrich", (signal) => chat(`Extract the vendor: ${text}`, signal, ctx.idempotencyKey()), {
      timeoutMs: 10_000,
      validate: nonEmpty,
    });
    const record = await ctx.step("transform", () => ({
      id: doc.id,
      category: answer(category),
      vendor: answer(entities).replace(/^vendor:\s*/, ""),
    }));
    return ctx.step("store", () => ({ stored: record.id, ...record }));
  },
);

await worker.start();
const client = new Client(server, process.env.KLAXON_TOKEN);
const runs = [];
for (let i = 1; i <= documents; i++) {
  const text = i % 10 === 0 ? "" : `Invoice #${1000 + i} from ACME Corp, total $${(i * 12.5).toFixed(2)}`;
  runs.push(await client.enqueue("document_pipeline_ts", { id: `doc-${i}`, text }, { entities: { document_id: `doc-${i}` } }));
}
console.log(`${runs.length} runs enqueued on ${server}; model at ${baseURL}`);
const byStatus = {};
for (const run of runs) {
  const done = await client.awaitRun(run.id, { timeoutMs: 120_000 });
  byStatus[done.status] = (byStatus[done.status] ?? 0) + 1;
  const why = done.failure ? `${done.failure.class}: ${done.failure.reason}` : JSON.stringify(done.output);
  console.log(`  ${run.id} ${done.status.padEnd(9)} attempt ${done.attempt}  ${why}`);
}
console.log("runs by status:", byStatus);
const dead = await client.deadLetters({ workflow: "document_pipeline_ts", states: ["open"] });
console.log(`dead-letter queue: ${dead.length} open entries (klaxon dlq list to see them)`);
client.close();
await worker.stop();
fake?.close();
