/**
 * Durable waits: what a wait hands back, and its times on the wire (mirrors
 * sdk/python/klaxon/waits.py).
 *
 * A wait (`ctx.sleep`, `ctx.waitForSignal`, `ctx.awaitApproval`) is a step:
 * the server keeps its rules (deadlines, kept signals, timeouts), and the run
 * waits holding no worker. {@link ApprovalDecision} is a person's answer to an
 * approval request, as Go's `klaxon.ApprovalDecision`.
 */

import type { JSONValue } from "./protocol.js";

/** A person's answer to `ctx.awaitApproval`: a rejection is a decision, not an error. */
export interface ApprovalDecision {
  approved: boolean;
  /** Who decided: a token's name, or a user. */
  by: string;
  /** When; undefined if the server's time could not be read. */
  at: Date | undefined;
  comment: string;
  /** The request's data as the approver edited it; undefined when not edited. */
  data: JSONValue | undefined;
}

/** A time as the server writes it (RFC 3339), or undefined when empty or unreadable. */
export function parseTime(text: string): Date | undefined {
  if (!text) return undefined;
  const when = new Date(text);
  return Number.isNaN(when.getTime()) ? undefined : when;
}

/** A date as RFC 3339 in UTC; an invalid date is refused. */
export function formatTime(when: Date): string {
  if (!(when instanceof Date) || Number.isNaN(when.getTime())) {
    throw new TypeError(`${String(when)} is not a valid Date`);
  }
  return when.toISOString();
}

export function approvalDecisionFromWire(wire: unknown): ApprovalDecision {
  const m = wire !== null && typeof wire === "object" && !Array.isArray(wire) ? (wire as Record<string, unknown>) : {};
  return {
    approved: m["approved"] === true,
    by: typeof m["by"] === "string" ? m["by"] : "",
    at: parseTime(typeof m["at"] === "string" ? m["at"] : ""),
    comment: typeof m["comment"] === "string" ? m["comment"] : "",
    data: m["data"] === undefined || m["data"] === null ? undefined : (m["data"] as JSONValue),
  };
}
