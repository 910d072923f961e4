// Starts a real `klaxon server` for the tests: on SQLite, and on PostgreSQL
// when KLAXON_TEST_POSTGRES_URL is set (a fresh database per server, made
// with psql), as sdk/python/tests/harness.py does.
//
// The binary is $KLAXON_BIN, or built once from the repository with go build.

import { execFileSync, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const SDK = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const REPO = resolve(SDK, "..", "..");
export const POSTGRES_ENV = "KLAXON_TEST_POSTGRES_URL";

let binary;

/** $KLAXON_BIN, or cmd/klaxon built once into a temporary directory. */
export function klaxonBinary() {
  if (binary) return binary;
  if (process.env.KLAXON_BIN) return (binary = process.env.KLAXON_BIN);
  const dir = mkdtempSync(join(tmpdir(), "klaxon-ts-bin-"));
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, "klaxon");
  const env = { ...process.env, PATH: `${process.env.PATH ?? ""}${delimiter}/usr/local/go/bin` };
  execFileSync("go", ["build", "-o", out, "./cmd/klaxon"], { cwd: REPO, env, stdio: "inherit" });
  return (binary = out);
}

export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * The databases to run a suite on: SQLite always, PostgreSQL when
 * KLAXON_TEST_POSTGRES_URL is set. Each entry's `skip` is a reason (a visible
 * skip) or false.
 */
export function databases() {
  const list = [{ name: "sqlite", skip: false }];
  const url = process.env[POSTGRES_ENV];
  if (!url) {
    list.push({ name: "postgres", skip: `${POSTGRES_ENV} is not set` });
  } else if (spawnSync("psql", ["--version"]).status !== 0) {
    list.push({ name: "postgres", skip: `${POSTGRES_ENV} is set but psql is not installed` });
  } else {
    list.push({ name: "postgres", skip: false });
  }
  return list;
}

/** A fresh PostgreSQL database: its URL and how to drop it. */
function postgresDatabase() {
  const url = process.env[POSTGRES_ENV];
  const name = "klaxon_ts_" + randomBytes(6).toString("hex");
  const made = spawnSync("psql", [url, "-v", "ON_ERROR_STOP=1", "-c", `CREATE DATABASE ${name}`], { encoding: "utf8" });
  if (made.status !== 0) throw new Error(`psql could not create a database on ${POSTGRES_ENV}: ${made.stderr}`);
  const parsed = new URL(url);
  parsed.pathname = "/" + name;
  return { url: parsed.toString(), drop: () => spawnSync("psql", [url, "-c", `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`]) };
}

/**
 * A `klaxon server` on a free loopback port: with no `tokens` every request is
 * allowed; `tokens` are lines of its --tokens file ("NAME SCOPE SECRET").
 */
export class Server {
  static async start(database = "sqlite", { tokens } = {}) {
    const server = new Server();
    server.dir = mkdtempSync(join(tmpdir(), "klaxon-ts-"));
    if (database === "postgres") {
      const pg = postgresDatabase();
      server.db = pg.url;
      server.drop = pg.drop;
    } else {
      server.db = join(server.dir, "klaxon.db");
    }
    server.port = await freePort();
    server.url = `http://127.0.0.1:${server.port}`;
    server.logPath = join(server.dir, "server.log");
    const log = openSync(server.logPath, "w");
    const extra = [];
    if (tokens && tokens.length > 0) {
      const path = join(server.dir, "tokens");
      writeFileSync(path, tokens.join("\n") + "\n");
      extra.push("--tokens", path);
    }
    server.process = spawn(klaxonBinary(), ["server", "--db", server.db, "--addr", `127.0.0.1:${server.port}`, ...extra], {
      stdio: ["ignore", log, log],
    });
    server.exited = new Promise((r) => server.process.once("exit", r));
    try {
      await server.waitHealthy();
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  async waitHealthy() {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (this.process.exitCode !== null) throw new Error(`klaxon server exited: ${this.log()}`);
      try {
        const answer = await fetch(this.url + "/healthz", { signal: AbortSignal.timeout(1000) });
        if (answer.status === 200) return;
      } catch {
        // not yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`klaxon server did not become healthy: ${this.log()}`);
  }

  log() {
    try {
      return readFileSync(this.logPath, "utf8").slice(-4000);
    } catch {
      return "";
    }
  }

  async stop() {
    if (this.process.exitCode === null) {
      this.process.kill("SIGTERM");
      const timer = setTimeout(() => this.process.kill("SIGKILL"), 10_000);
      await this.exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
    this.drop?.();
  }
}

/** The first truthy value of `check()`; throws after `timeoutMs`. */
export async function eventually(check, timeoutMs = 20_000, intervalMs = 50) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`not true within ${timeoutMs}ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

let counter = 0;
/** A workflow name unique in this process. */
export function unique(prefix) {
  counter++;
  return `${prefix}_${process.pid}_${counter}`;
}
