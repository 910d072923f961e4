/**
 * `@klaxonhq/klaxon`: host Klaxon workflows in Node.js over the worker
 * protocol (docs/worker-protocol.md). The server keeps every rule of the
 * engine; this package runs the workflow's code, memoizes steps from the step
 * log, and reports what happened.
 */

export {
  FAILURE_CLASSES,
  type FailureClass,
  isFailureClass,
  Failure,
  Transient,
  RateLimited,
  Timeout,
  DeadlineExceeded,
  WaitTimedOut,
  Permanent,
  PolicyViolation,
  ContextOverflow,
  Semantic,
  BudgetExceeded,
  PartialCompletion,
  Nondeterminism,
  CompensationFailed,
  Cancelled,
  KlaxonError,
  TransportError,
  ProblemError,
  LeaseLost,
  StepExists,
  NondeterminismProblem,
  ManifestConflict,
  InvalidRequest,
  InvalidOutput,
  NotFound,
  UnknownWorkflow,
  SignalRefused,
  NotApprover,
  goDuration,
} from "./errors.js";
export type { Budget, RetryPolicy } from "./policy.js";
export type { JSONValue, ModelCall, ClaimedRun, LoggedStep, ErrorInfo } from "./protocol.js";
export { Transport, WorkerProtocol, API_PREFIX, WORKER_PREFIX, decodeProblem } from "./protocol.js";
export {
  Context,
  RunStopped,
  ReplayFrontier,
  PANIC_TYPES,
  errorInfo,
  type StepOptions,
  type ModelCallOptions,
  type SpendRecord,
  type SignalOptions,
  type ApprovalRequest,
  type Validator,
  type Verdict,
  type Compensation,
} from "./context.js";
export { ChildRun, ChildFailed, type ChildOptions } from "./children.js";
export { Worker, SDK_VERSION, type WorkerOptions, type WorkflowOptions, type WorkflowFunction } from "./worker.js";
export {
  Client,
  TERMINAL_STATUSES,
  type Run,
  type RunDetail,
  type ChildLink,
  type RunFailure,
  type StepRecord,
  type Attempt,
  type Event,
  type DeadLetter,
  type EnqueueOptions,
  type DeadLetterQuery,
  type ClientOptions,
  type SignalSendOptions,
  type DecisionOptions,
} from "./client.js";
export {
  type ApprovalDecision,
  type Wait,
  type Signal,
  type SignalResult,
  parseTime,
  formatTime,
} from "./waits.js";
export { readUsage, jsonableResponse, classifyModelError, retryAfterMs } from "./model_calls.js";
