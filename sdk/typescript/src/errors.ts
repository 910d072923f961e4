/**
 * Failure classes as error classes, and the errors of the SDK itself
 * (mirrors sdk/python/klaxon/errors.py).
 *
 * A workflow says what kind of failure it met by throwing a {@link Failure}
 * (or one of its subclasses). The server decides what follows from the class:
 * retries, backoff, dead-letter routing. Any other error is reported as it is,
 * and the server classifies it as the Go engine does.
 */

export const FAILURE_CLASSES = [
  "transient",
  "rate_limited",
  "timeout",
  "permanent",
  "policy_violation",
  "context_overflow",
  "semantic",
  "budget_exceeded",
  "partial_completion",
  "nondeterminism",
  "compensation_failed",
  "cancelled",
] as const;

export type FailureClass = (typeof FAILURE_CLASSES)[number];

export function isFailureClass(value: string): value is FailureClass {
  return (FAILURE_CLASSES as readonly string[]).includes(value);
}

/** A failure that says its own class: `new Failure("permanent", "bad input")`. */
export class Failure extends Error {
  readonly failureClass: FailureClass;

  constructor(failureClass: FailureClass, message = "", options?: ErrorOptions) {
    if (!isFailureClass(failureClass)) {
      throw new TypeError(`${JSON.stringify(failureClass)} is not a failure class (${FAILURE_CLASSES.join(", ")})`);
    }
    super(message || failureClass, options);
    this.failureClass = failureClass;
    this.name = new.target.name;
  }
}

/** May pass by itself (an outage, an overload): retried with backoff. */
export class Transient extends Failure {
  constructor(message = "", options?: ErrorOptions) {
    super("transient", message, options);
  }
}

/** The provider asked to slow down; retried no sooner than `retryAfterMs`. */
export class RateLimited extends Failure {
  readonly retryAfterMs: number | undefined;
  constructor(message = "", retryAfterMs?: number, options?: ErrorOptions) {
    super("rate_limited", message, options);
    this.retryAfterMs = retryAfterMs;
  }
}

/** A step or the run ran past its deadline. */
export class Timeout extends Failure {
  constructor(message = "", options?: ErrorOptions) {
    super("timeout", message, options);
  }
}

/** Thrown by the SDK when a step or the run passed its timeout (reported as kind `timeout`). */
export class DeadlineExceeded extends Timeout {}

/**
 * A wait for a signal or an approval passed its deadline unanswered (Go's
 * `klaxon.ErrWaitTimedOut`), thrown by `ctx.waitForSignal` and
 * `ctx.awaitApproval` the same on every replay. A workflow may catch it and
 * take another branch; otherwise the run dead-letters, class `timeout`, to
 * the review channel, without retries.
 */
export class WaitTimedOut extends Timeout {}

/** A retry cannot fix it: bad input, wrong credentials, a bug. */
export class Permanent extends Failure {
  constructor(message = "", options?: ErrorOptions) {
    super("permanent", message, options);
  }
}

/** Refused by a content filter or a policy. */
export class PolicyViolation extends Failure {
  constructor(message = "", options?: ErrorOptions) {
    super("policy_violation", message, options);
  }
}

/** The prompt is longer than the model's context window. */
export class ContextOverflow extends Failure {
  constructor(message = "", options?: ErrorOptions) {
    super("context_overflow", message, options);
  }
}

/** An answer arrived but is wrong: a validator rejected it. */
export class Semantic extends Failure {
  constructor(message = "", options?: ErrorOptions) {
    super("semantic", message, options);
  }
}

/** The run has spent its budget: no new step may begin. */
export class BudgetExceeded extends Failure {
  constructor(message = "", options?: ErrorOptions) {
    super("budget_exceeded", message, options);
  }
}

/** The workflow returned without every step of its manifest. */
export class PartialCompletion extends Failure {
  constructor(message = "", options?: ErrorOptions) {
    super("partial_completion", message, options);
  }
}

/** The workflow called another step than its log recorded at that sequence. */
export class Nondeterminism extends Failure {
  constructor(message = "", options?: ErrorOptions) {
    super("nondeterminism", message, options);
  }
}

/** Undoing a completed step failed. */
export class CompensationFailed extends Failure {
  constructor(message = "", options?: ErrorOptions) {
    super("compensation_failed", message, options);
  }
}

/** The run was stopped on purpose. */
export class Cancelled extends Failure {
  constructor(message = "", options?: ErrorOptions) {
    super("cancelled", message, options);
  }
}

/** An error of the SDK or of its exchange with the server (not a workflow's failure). */
export class KlaxonError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The server could not be reached, or answered something that is not the protocol. */
export class TransportError extends KlaxonError {}

/** The server refused a request with an `application/problem+json` answer. */
export class ProblemError extends KlaxonError {
  static readonly TYPE: string = "";
  readonly status: number;
  readonly type: string;
  readonly title: string;
  readonly detail: string;

  constructor(status: number, type: string, title: string, detail: string) {
    super(detail ? `${status} ${title}: ${detail}` : `${status} ${title}`);
    this.status = status;
    this.type = type;
    this.title = title;
    this.detail = detail;
  }
}

/** The run is no longer this worker's: another took it over, or it was cancelled. */
export class LeaseLost extends ProblemError {
  static override readonly TYPE: string = "urn:klaxon:problem:lease-lost";
}

/** The step was recorded by an earlier attempt: treated as a lost lease. */
export class StepExists extends LeaseLost {
  static override readonly TYPE: string = "urn:klaxon:problem:step-exists";
}

/** The server's log holds another step at this sequence. */
export class NondeterminismProblem extends ProblemError {
  static override readonly TYPE: string = "urn:klaxon:problem:nondeterminism";
}

/** A registration conflicts with the stored one of the same name and version. */
export class ManifestConflict extends ProblemError {
  static override readonly TYPE: string = "urn:klaxon:problem:manifest-conflict";
}

/** The request is malformed; `detail` names the field. */
export class InvalidRequest extends ProblemError {
  static override readonly TYPE: string = "urn:klaxon:problem:invalid";
}

/** An output fails its registered JSON Schema. */
export class InvalidOutput extends ProblemError {
  static override readonly TYPE: string = "urn:klaxon:problem:invalid-output";
}

/** No such run (or entry). */
export class NotFound extends ProblemError {
  static override readonly TYPE: string = "urn:klaxon:problem:not-found";
}

/** The workflow was never registered. */
export class UnknownWorkflow extends NotFound {
  static override readonly TYPE: string = "urn:klaxon:problem:unknown-workflow";
}

/**
 * A signal the run would not take, nothing recorded: the run ended, waits on
 * that name for a timer or an approval, keeps a signal of that name already,
 * or its workflow's manifest has no step of that name.
 */
export class SignalRefused extends ProblemError {
  static override readonly TYPE: string = "urn:klaxon:problem:signal-refused";
}

/** The approval request does not name this client's token among its approvers. */
export class NotApprover extends ProblemError {
  static override readonly TYPE: string = "urn:klaxon:problem:not-approver";
}

/** `g`-style number formatting, as Python's `{:g}` and Go's strconv 'g' -1 write it. */
function shortNumber(value: number): string {
  return String(Number(value.toPrecision(15)));
}

/**
 * A duration written as Go writes one (300ms, 1.5s, 2m0s), so that a timeout
 * reads the same in every language's runs.
 */
export function goDuration(ms: number): string {
  if (ms < 1000) return `${shortNumber(ms)}ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${shortNumber(seconds)}s`;
  const minutes = Math.floor(seconds / 60);
  const rest = seconds - minutes * 60;
  if (minutes < 60) return `${minutes}m${shortNumber(rest)}s`;
  return `${Math.floor(minutes / 60)}h${minutes % 60}m${shortNumber(rest)}s`;
}
