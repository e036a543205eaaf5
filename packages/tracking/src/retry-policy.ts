/**
 * When and how long the REST client waits before trying a request again: exponential backoff with
 * full jitter (a uniform delay in [0, min(maxDelayMs, baseDelayMs · 2^(attempt-1))]), a server's
 * `Retry-After` honoured up to `maxDelayMs`, and a bounded number of attempts.
 *
 * What is retried: 429, 5xx (except MLflow's deterministic ones, see errors.ts), and failures to get
 * an answer — connection refused or reset, socket hang-up, connect/headers/body timeouts. A failure
 * is *ambiguous* when the server may have applied the request without us hearing it (a reset or
 * timeout after the request went out, or a 5xx); the client then checks before re-sending a
 * request that is not idempotent (log-batch metrics, run creation).
 *
 * @example
 * ```ts
 * const policy = RetryPolicySchema.parse({ attempts: 4 });
 * backoffDelayMs(policy, 3);            // somewhere in [0, 1000]
 * classifyNetworkError(error).retryable; // true for ECONNRESET
 * ```
 */
import { z } from 'zod';

export const RetryPolicySchema = z.strictObject({
  /** Tries in all, the first included. */
  attempts: z.number().int().min(1).default(5),
  baseDelayMs: z.number().nonnegative().default(250),
  maxDelayMs: z.number().nonnegative().default(8_000),
});
export type RetryPolicy = z.infer<typeof RetryPolicySchema>;

/** Full jitter: uniform in [0, min(max, base · 2^(attempt-1))]; `attempt` is the one that just failed (1-based). */
export function backoffDelayMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(random() * cap);
}

/** Seconds (or an HTTP date) from a Retry-After header, in ms, capped; undefined when absent or unreadable. */
export function retryAfterMs(header: string | string[] | undefined, capMs: number): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - Date.now();
  return Number.isFinite(ms) && ms >= 0 ? Math.min(ms, capMs) : undefined;
}

/** Errors raised before the request left this machine: nothing can have been applied. */
const NOT_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const NETWORK = new Set([
  ...NOT_SENT,
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_ABORTED',
  'UND_ERR_ABORT',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);

export interface NetworkFailure {
  retryable: boolean;
  /** The server may have applied the request. */
  ambiguous: boolean;
  code: string;
}

/** What a thrown (non-HTTP) error means for a retry. */
export function classifyNetworkError(error: unknown): NetworkFailure {
  const e = error as { code?: string; name?: string; cause?: { code?: string } };
  const code = e?.code ?? e?.cause?.code ?? e?.name ?? 'UNKNOWN';
  const timeout = e?.name === 'TimeoutError' || e?.name === 'AbortError' || code === 'ABORT_ERR';
  return { retryable: NETWORK.has(code) || timeout, ambiguous: !NOT_SENT.has(code), code: timeout ? 'TIMEOUT' : code };
}
