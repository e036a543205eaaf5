/**
 * MLflow's Model Registry over REST (`mlflow/protos/model_registry.proto`, API 2.0): a registered
 * model is a name, each registration of a logged model under it a numbered version whose `source`
 * is the model's artifact folder (`<run artifact_uri>/<path>`, as MLflow's own client resolves
 * `runs:/<run_id>/<path>`) and whose `run_id` links it to its run. The MLflow UI and
 * `mlflow.pyfunc.load_model('models:/<name>/<version>')` then find it.
 *
 * - `registered-models/create`: an existing name is not an error for `registerModelVersion` (the
 *   model gains a version); `registered-models/get` reads it back.
 * - `model-versions/create` is not idempotent: after an ambiguous failure (the server may have
 *   made the version without us hearing it) the retry first looks for a version of this name, run
 *   and source (`model-versions/search`), so a retry never makes a second version.
 * - Retries, timeouts and errors as the tracking client's (retry-policy.ts, errors.ts).
 *
 * @example
 * ```ts
 * const registry = new ModelRegistryClient({ uri: 'http://127.0.0.1:5000' });
 * const version = await registerModelVersion(registry, {
 *   name: 'cfa-weave',
 *   source: `${run.info.artifactUri}/mlflow-model`,
 *   runId: run.info.runId,
 * });
 * version.version; // '1', then '2', …
 * await registry.close();
 * ```
 */
import { Agent, request } from 'undici';
import { z } from 'zod';
import {
  type ErrorBody,
  errorFromResponse,
  MlflowError,
  MlflowInvalidParameterError,
  MlflowResourceAlreadyExistsError,
  MlflowUnavailableError,
} from './errors';
import { backoffDelayMs, classifyNetworkError, RetryPolicySchema, retryAfterMs } from './retry-policy';

export const ModelRegistryOptionsSchema = z.strictObject({
  /** The tracking server, e.g. `http://127.0.0.1:5000` (a path prefix is kept). */
  uri: z.string().regex(/^https?:\/\/[^/]/i, 'expected an http:// or https:// URL'),
  connectTimeoutMs: z.number().positive().default(5_000),
  requestTimeoutMs: z.number().positive().default(60_000),
  retry: RetryPolicySchema.partial().optional(),
  headers: z.record(z.string(), z.string()).optional(),
});
export type ModelRegistryOptions = z.input<typeof ModelRegistryOptionsSchema>;

const WireTagsSchema = z.array(z.looseObject({ key: z.string(), value: z.string().optional() })).optional();
const tags = (t: z.infer<typeof WireTagsSchema>) => Object.fromEntries((t ?? []).map((x) => [x.key, x.value ?? '']));

export const ModelVersionSchema = z
  .looseObject({
    name: z.string(),
    version: z.coerce.string(),
    source: z.string().optional(),
    run_id: z.string().optional(),
    status: z.string().optional(),
    current_stage: z.string().optional(),
    creation_timestamp: z.coerce.number().optional(),
    description: z.string().optional(),
    tags: WireTagsSchema,
  })
  .transform((w) => ({
    name: w.name,
    version: w.version,
    source: w.source ?? '',
    runId: w.run_id ?? '',
    /** PENDING_REGISTRATION, READY or FAILED_REGISTRATION. */
    status: w.status ?? '',
    creationTimestamp: w.creation_timestamp,
    description: w.description ?? '',
    tags: tags(w.tags),
  }));
export type ModelVersion = z.output<typeof ModelVersionSchema>;

export const RegisteredModelSchema = z
  .looseObject({
    name: z.string(),
    creation_timestamp: z.coerce.number().optional(),
    description: z.string().optional(),
    latest_versions: z.array(ModelVersionSchema).optional(),
    tags: WireTagsSchema,
  })
  .transform((w) => ({
    name: w.name,
    creationTimestamp: w.creation_timestamp,
    description: w.description ?? '',
    latestVersions: w.latest_versions ?? [],
    tags: tags(w.tags),
  }));
export type RegisteredModel = z.output<typeof RegisteredModelSchema>;

export interface CreateModelVersionRequest {
  name: string;
  /** The model's artifact folder, e.g. `mlflow-artifacts:/<exp>/<run>/artifacts/mlflow-model`. */
  source: string;
  runId?: string;
  description?: string;
  tags?: Record<string, string>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const wireTags = (t?: Record<string, string>) =>
  t ? Object.entries(t).map(([key, value]) => ({ key, value })) : undefined;

export class ModelRegistryClient {
  private readonly options: z.output<typeof ModelRegistryOptionsSchema>;
  private readonly base: string;
  private readonly agent: Agent;

  constructor(options: ModelRegistryOptions) {
    const parsed = ModelRegistryOptionsSchema.safeParse(options);
    if (!parsed.success)
      throw new MlflowInvalidParameterError(
        `ModelRegistryClient options: ${z.prettifyError(parsed.error)}`,
        'INVALID_PARAMETER_VALUE',
      );
    this.options = parsed.data;
    this.base = this.options.uri.replace(/\/+$/, '');
    this.agent = new Agent({ connectTimeout: this.options.connectTimeoutMs, keepAliveTimeout: 4_000 });
  }

  get location(): string {
    return this.base;
  }

  /**
   * One API call with retries on 429, 5xx and lost connections. `recover` runs before a re-send
   * that follows an ambiguous failure; a value it returns is the call's answer.
   */
  private async call(
    method: 'GET' | 'POST',
    endpoint: string,
    body: Record<string, unknown> | undefined,
    recover?: () => Promise<unknown>,
  ): Promise<unknown> {
    const policy = RetryPolicySchema.parse(this.options.retry ?? {});
    const url = new URL(`${this.base}/api/2.0/mlflow/${endpoint}`);
    if (method === 'GET')
      for (const [k, v] of Object.entries(body ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    let ambiguous = false;
    let last: MlflowError | undefined;
    for (let attempt = 1; attempt <= policy.attempts; attempt++) {
      if (ambiguous && recover) {
        const found = await recover().catch(() => undefined);
        if (found !== undefined) return found;
      }
      let wait: number | undefined;
      try {
        const response = await request(url, {
          method,
          headers: { ...this.options.headers, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
          body: method === 'POST' ? JSON.stringify(body ?? {}) : undefined,
          dispatcher: this.agent,
          headersTimeout: this.options.requestTimeoutMs,
          bodyTimeout: this.options.requestTimeoutMs,
          signal: AbortSignal.timeout(this.options.requestTimeoutMs),
        });
        const text = await response.body.text();
        if (response.statusCode < 300) return text ? JSON.parse(text) : {};
        let parsed: ErrorBody;
        try {
          parsed = JSON.parse(text) as ErrorBody;
        } catch {
          parsed = {
            message: text
              .replace(/<[^>]+>/g, ' ')
              .replace(/\s+/g, ' ')
              .trim()
              .slice(0, 300),
          };
        }
        last = errorFromResponse(response.statusCode, parsed, `${method} ${endpoint}`);
        if (response.statusCode !== 429 && response.statusCode < 500) throw last;
        ambiguous ||= response.statusCode >= 500;
        wait = retryAfterMs(response.headers['retry-after'], policy.maxDelayMs);
      } catch (error) {
        if (error instanceof MlflowError) throw error;
        const failure = classifyNetworkError(error);
        if (!failure.retryable) throw error;
        ambiguous ||= failure.ambiguous;
        last = new MlflowUnavailableError(
          `${this.base} did not answer: ${(error as Error).message} (${failure.code})`,
          'UNAVAILABLE',
          undefined,
          `${method} ${endpoint}`,
        );
      }
      if (attempt < policy.attempts) await sleep(wait ?? backoffDelayMs(policy, attempt));
    }
    throw last!;
  }

  /** Creates the registered model; `MlflowResourceAlreadyExistsError` when the name is taken. */
  async createRegisteredModel(
    name: string,
    options: { description?: string; tags?: Record<string, string> } = {},
  ): Promise<RegisteredModel> {
    const out = (await this.call('POST', 'registered-models/create', {
      name,
      description: options.description,
      tags: wireTags(options.tags),
    })) as { registered_model: unknown };
    return RegisteredModelSchema.parse(out.registered_model);
  }

  /** `MlflowResourceNotFoundError` when there is no model of this name. */
  async getRegisteredModel(name: string): Promise<RegisteredModel> {
    const out = (await this.call('GET', 'registered-models/get', { name })) as { registered_model: unknown };
    return RegisteredModelSchema.parse(out.registered_model);
  }

  /** A new version of a registered model; a retry after an ambiguous failure never makes a second one. */
  async createModelVersion(req: CreateModelVersionRequest): Promise<ModelVersion> {
    const recover = async () => {
      const made = (await this.searchWire(req.name)).find((raw) => {
        const v = ModelVersionSchema.parse(raw);
        return v.source === req.source && v.runId === (req.runId ?? '');
      });
      return made ? { model_version: made } : undefined;
    };
    const out = (await this.call(
      'POST',
      'model-versions/create',
      {
        name: req.name,
        source: req.source,
        run_id: req.runId,
        description: req.description,
        tags: wireTags(req.tags),
      },
      recover,
    )) as { model_version: unknown };
    return ModelVersionSchema.parse(out.model_version);
  }

  async getModelVersion(name: string, version: string): Promise<ModelVersion> {
    const out = (await this.call('GET', 'model-versions/get', { name, version })) as { model_version: unknown };
    return ModelVersionSchema.parse(out.model_version);
  }

  /** Every version of one registered model (all pages). */
  async searchModelVersions(name: string): Promise<ModelVersion[]> {
    return (await this.searchWire(name)).map((v) => ModelVersionSchema.parse(v));
  }

  /** The versions of `name` as the server sends them. */
  private async searchWire(name: string): Promise<unknown[]> {
    if (name.includes("'"))
      throw new MlflowInvalidParameterError(`model name ${name} contains a quote`, 'INVALID_PARAMETER_VALUE');
    const versions: unknown[] = [];
    let pageToken: string | undefined;
    do {
      const out = (await this.call('GET', 'model-versions/search', {
        filter: `name='${name}'`,
        max_results: 1000,
        page_token: pageToken,
      })) as { model_versions?: unknown[]; next_page_token?: string };
      versions.push(...(out.model_versions ?? []));
      pageToken = out.next_page_token || undefined;
    } while (pageToken);
    return versions;
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

/** Registers `source` as a new version of `name`, creating the registered model the first time. */
export async function registerModelVersion(
  registry: ModelRegistryClient,
  req: CreateModelVersionRequest,
): Promise<ModelVersion> {
  try {
    await registry.createRegisteredModel(req.name);
  } catch (error) {
    if (!(error instanceof MlflowResourceAlreadyExistsError)) throw error;
  }
  return registry.createModelVersion(req);
}
