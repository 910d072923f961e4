/**
 * The policies a workflow registers: its budget and its retry policy
 * (mirrors sdk/python/klaxon/policy.py). Declarations only: the server
 * enforces them.
 */

/** Caps on what a run may spend: `tokens` in total, `usd` in dollars. Unset caps nothing. */
export interface Budget {
  tokens?: number;
  usd?: number;
}

/**
 * How many attempts a run gets and how long it waits between them.
 * `classes` overrides the attempts of a failure class, e.g. `{ semantic: 2 }`.
 * Fields left unset take the engine's defaults.
 */
export interface RetryPolicy {
  maxAttempts?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  maxRetryAfterMs?: number;
  classes?: Record<string, number>;
}

export function budgetToWire(budget: Budget): Record<string, number> {
  const wire: Record<string, number> = {};
  if (budget.tokens !== undefined) wire["tokens"] = budget.tokens;
  if (budget.usd !== undefined) wire["usd"] = budget.usd;
  return wire;
}

export function budgetFromWire(wire: unknown): Budget | undefined {
  if (wire === null || typeof wire !== "object") return undefined;
  const m = wire as Record<string, unknown>;
  const budget: Budget = {};
  if (typeof m["tokens"] === "number") budget.tokens = m["tokens"];
  const usd = m["usd"] ?? m["cost_usd"];
  if (typeof usd === "number") budget.usd = usd;
  return budget.tokens === undefined && budget.usd === undefined ? undefined : budget;
}

export function retryToWire(retry: RetryPolicy): Record<string, unknown> {
  const wire: Record<string, unknown> = {};
  const ms = (v: number): number => Math.max(0, Math.round(v));
  if (retry.maxAttempts !== undefined) wire["max_attempts"] = retry.maxAttempts;
  if (retry.initialBackoffMs !== undefined) wire["initial_backoff_ms"] = ms(retry.initialBackoffMs);
  if (retry.maxBackoffMs !== undefined) wire["max_backoff_ms"] = ms(retry.maxBackoffMs);
  if (retry.maxRetryAfterMs !== undefined) wire["max_retry_after_ms"] = ms(retry.maxRetryAfterMs);
  if (retry.classes && Object.keys(retry.classes).length > 0) wire["classes"] = { ...retry.classes };
  return wire;
}
