/**
 * Durable waits: what a wait hands back, and its times on the wire (mirrors
 * sdk/python/klaxon/waits.py).
 *
 * A wait (`ctx.sleep`, `ctx.waitForSignal`, `ctx.awaitApproval`) is a step:
 * the server keeps its rules (deadlines, kept signals, timeouts), and the run
 * waits holding no worker. {@link ApprovalDecision} is a person's answer to an
 * approval request, as Go's `klaxon.ApprovalDecision`. {@link Wait},
 * {@link Signal} and {@link SignalResult} are what the public API answers about
 * waits (`Client.approvals`, `Client.signal`, a run's detail), as Go's
 * `klaxontype.Wait`, `klaxontype.Signal` and `klaxon.SignalResult`.
 */

import type { ApprovalRequest } from "./context.js";
import type { JSONValue } from "./protocol.js";

type Wire = Record<string, unknown>;
const m = (value: unknown): Wire =>
  value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Wire) : {};
const s = (value: unknown): string => (typeof value === "string" ? value : "");
const n = (value: unknown): number => (typeof value === "number" ? value : 0);
const json = (value: unknown): JSONValue | undefined => (value === undefined || value === null ? undefined : (value as JSONValue));

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
  const w = m(wire);
  return {
    approved: w["approved"] === true,
    by: s(w["by"]),
    at: parseTime(s(w["at"])),
    comment: s(w["comment"]),
    data: json(w["data"]),
  };
}

/**
 * One durable wait a run began, at a step's sequence number. `kind` is
 * `sleep`, `signal` or `approval`; `state` is `waiting`, `satisfied` or
 * `timed_out`. `deadline` is absolute: when a sleep is due, or when a wait for
 * a signal or a decision times out. `request` is what an approval asks (its
 * `timeoutMs` unset: `deadline` says it); `endedBy` who answered (the signal's
 * sender, the approver, `timer`, `deadline`).
 */
export interface Wait {
  runId: string;
  workflow: string;
  seq: number;
  name: string;
  kind: string;
  state: string;
  startedAt: Date | undefined;
  deadline: Date | undefined;
  request: ApprovalRequest | undefined;
  entities: Record<string, string>;
  stepKey: string;
  endedAt: Date | undefined;
  endedBy: string;
  /** The wait as the server sent it. */
  raw: Wire;
}

/**
 * A named message sent to a run: taken by the run's wait of that name
 * (`consumedSeq` is its sequence number), or kept until its next one begins
 * (`consumedSeq` 0).
 */
export interface Signal {
  id: number;
  runId: string;
  name: string;
  payload: JSONValue;
  actor: string;
  sentAt: Date | undefined;
  idempotencyKey: string;
  consumedSeq: number;
  consumedAt: Date | undefined;
  raw: Wire;
}

/**
 * What became of a signal sent: `consumed` when a wait of its name took it at
 * once (false: the run keeps it for its next one), `duplicate` when its
 * idempotency key named one sent before (nothing new recorded).
 */
export interface SignalResult {
  signal: Signal;
  consumed: boolean;
  duplicate: boolean;
}

function approvalRequestFromWire(wire: unknown): ApprovalRequest | undefined {
  if (wire === null || typeof wire !== "object" || Array.isArray(wire)) return undefined;
  const w = m(wire);
  const approvers = Array.isArray(w["approvers"]) ? w["approvers"].map(String) : [];
  return { title: s(w["title"]), body: s(w["body"]), data: json(w["data"]), approvers };
}

export function waitFromWire(wire: unknown): Wait {
  const w = m(wire);
  const entities: Record<string, string> = {};
  for (const [k, v] of Object.entries(m(w["entities"]))) entities[k] = String(v);
  return {
    runId: s(w["run_id"]),
    workflow: s(w["workflow"]),
    seq: n(w["seq"]),
    name: s(w["name"]),
    kind: s(w["kind"]),
    state: s(w["state"]),
    startedAt: parseTime(s(w["started_at"])),
    deadline: parseTime(s(w["deadline"])),
    request: approvalRequestFromWire(w["request"]),
    entities,
    stepKey: s(w["step_key"]),
    endedAt: parseTime(s(w["ended_at"])),
    endedBy: s(w["ended_by"]),
    raw: w,
  };
}

export function signalFromWire(wire: unknown): Signal {
  const w = m(wire);
  return {
    id: n(w["id"]),
    runId: s(w["run_id"]),
    name: s(w["name"]),
    payload: (w["payload"] ?? null) as JSONValue,
    actor: s(w["actor"]),
    sentAt: parseTime(s(w["sent_at"])),
    idempotencyKey: s(w["idempotency_key"]),
    consumedSeq: n(w["consumed_seq"]),
    consumedAt: parseTime(s(w["consumed_at"])),
    raw: w,
  };
}

export function signalResultFromWire(wire: unknown): SignalResult {
  const w = m(wire);
  return { signal: signalFromWire(w["signal"]), consumed: w["consumed"] === true, duplicate: w["duplicate"] === true };
}
