/**
 * MLflow's Model Registry over REST (`mlflow/protos/model_registry.proto`, API 2.0), on the shared
 * transport (rest-transport.ts: the same credentials, TLS, deadlines, retries and errors as the
 * tracking store — an authenticated server works for the registry as it does for tracking).
 *
 * A registered model is a name; each registration under it a numbered version. In MLflow 3 a
 * version points at a logged model: `source` is `models:/<model_id>` and `model_id` links it (as
 * `mlflow.register_model('models:/<model_id>', name)` sends it; the server then tags the logged
 * model `mlflow.modelVersions`); `run_id` names the run that trained it. Aliases name a version
 * (`champion`), and `models:/<name>@<alias>` / `models:/<name>/<version>` / `models:/<model_id>`
 * resolve, as MLflow's `ModelsArtifactRepository` resolves them, to the artifact folder the server
 * gives (`model-versions/get-download-uri`), which `downloadModel` fetches through the proxy.
 *
 * - `model-versions/create` is not idempotent: after an ambiguous failure the retry first looks
 *   for a version of this name, source and run (`model-versions/search`), so a retry never makes a
 *   second version. `registered-models/create` of an existing name is not an error for
 *   `registerModelVersion` (the model gains a version).
 *
 * @example
 * ```ts
 * const registry = new ModelRegistryClient(store.transport);           // or { uri, env }
 * const version = await registerModelVersion(registry, { name: 'cfa-fleece', source: `models:/${modelId}`, modelId, runId });
 * await registry.setAlias('cfa-fleece', 'champion', version.version);
 * await registry.downloadModel('models:/cfa-fleece@champion', './model');
 * ```
 */
import { z } from 'zod';
import { ArtifactProxy, proxyRoot } from './artifact-proxy';
import { MlflowError, MlflowInvalidParameterError, MlflowResourceAlreadyExistsError } from './errors';
import { RestTransport, type RestTransportOptions } from './rest-transport';
import { allPages } from './tracking-store';
import { loggedModelFromWire } from './wire-format';

const WireTagsSchema = z.array(z.looseObject({ key: z.string(), value: z.string().optional() })).optional();
const tags = (t: z.infer<typeof WireTagsSchema>) => Object.fromEntries((t ?? []).map((x) => [x.key, x.value ?? '']));

export const ModelVersionSchema = z
  .looseObject({
    name: z.string(),
    version: z.coerce.string(),
    source: z.string().optional(),
    run_id: z.string().optional(),
    model_id: z.string().optional(),
    status: z.string().optional(),
    current_stage: z.string().optional(),
    creation_timestamp: z.coerce.number().optional(),
    description: z.string().optional(),
    tags: WireTagsSchema,
    aliases: z.array(z.string()).optional(),
  })
  .transform((w) => ({
    name: w.name,
    version: w.version,
    source: w.source ?? '',
    runId: w.run_id ?? '',
    /**
     * The logged model this version registers (MLflow 3), '' for a version made from a run's
     * folder. MLflow 3.6 does not send `model_id` back: it is read from a `models:/<model_id>` source.
     */
    modelId: w.model_id ?? /^models:\/(m-[0-9a-f]{32})$/.exec(w.source ?? '')?.[1] ?? '',
    /** PENDING_REGISTRATION, READY or FAILED_REGISTRATION. */
    status: w.status ?? '',
    creationTimestamp: w.creation_timestamp,
    description: w.description ?? '',
    tags: tags(w.tags),
    aliases: w.aliases ?? [],
  }));
export type ModelVersion = z.output<typeof ModelVersionSchema>;

export const RegisteredModelSchema = z
  .looseObject({
    name: z.string(),
    creation_timestamp: z.coerce.number().optional(),
    description: z.string().optional(),
    latest_versions: z.array(ModelVersionSchema).optional(),
    tags: WireTagsSchema,
    aliases: z.array(z.looseObject({ alias: z.string(), version: z.coerce.string() })).optional(),
  })
  .transform((w) => ({
    name: w.name,
    creationTimestamp: w.creation_timestamp,
    description: w.description ?? '',
    latestVersions: w.latest_versions ?? [],
    tags: tags(w.tags),
    /** alias → version. */
    aliases: Object.fromEntries((w.aliases ?? []).map((a) => [a.alias, a.version])),
  }));
export type RegisteredModel = z.output<typeof RegisteredModelSchema>;

export interface CreateModelVersionRequest {
  name: string;
  /** `models:/<model_id>` for a logged model (MLflow 3), or an artifact folder such as `mlflow-artifacts:/<exp>/<run>/artifacts/mlflow-model`. */
  source: string;
  runId?: string;
  /** The logged model registered (with `source` `models:/<model_id>`). */
  modelId?: string;
  description?: string;
  tags?: Record<string, string>;
}

/** What a `models:/` URI names. */
export type ModelUri =
  | { kind: 'version'; name: string; version: string }
  | { kind: 'alias'; name: string; alias: string }
  | { kind: 'logged-model'; modelId: string };

/**
 * `models:/<name>/<version>`, `models:/<name>@<alias>` or `models:/<model_id>` (MLflow's
 * `_parse_model_uri`); anything else is `MlflowInvalidParameterError` saying which forms there are.
 */
export function parseModelUri(uri: string): ModelUri {
  const m = /^models:\/(?!\/)(.+)$/.exec(uri.trim());
  const bad = () =>
    new MlflowInvalidParameterError(
      `'${uri}' is not a model URI: expected models:/<name>/<version>, models:/<name>@<alias> or models:/<logged model id>`,
      'INVALID_PARAMETER_VALUE',
    );
  if (!m) throw bad();
  const rest = m[1].replace(/\/+$/, '');
  const at = rest.lastIndexOf('@');
  if (at > 0 && !rest.includes('/')) return { kind: 'alias', name: rest.slice(0, at), alias: rest.slice(at + 1) };
  const parts = rest.split('/');
  if (parts.length === 2 && /^\d+$/.test(parts[1]) && parts[0])
    return { kind: 'version', name: parts[0], version: parts[1] };
  if (parts.length === 1 && /^m-[0-9a-f]{32}$/.test(parts[0])) return { kind: 'logged-model', modelId: parts[0] };
  throw bad();
}

const wireTags = (t?: Record<string, string>) =>
  t ? Object.entries(t).map(([key, value]) => ({ key, value })) : undefined;

export class ModelRegistryClient {
  /** The transport this client speaks through (shared with a tracking store, or its own). */
  readonly transport: RestTransport;
  private readonly ownsTransport: boolean;

  /** On a transport shared with other clients, or on one of its own made from these options. */
  constructor(transport: RestTransport | RestTransportOptions) {
    this.ownsTransport = !(transport instanceof RestTransport);
    this.transport = transport instanceof RestTransport ? transport : new RestTransport(transport);
  }

  get location(): string {
    return this.transport.location;
  }

  /** Creates the registered model; `MlflowResourceAlreadyExistsError` when the name is taken. */
  async createRegisteredModel(
    name: string,
    options: { description?: string; tags?: Record<string, string> } = {},
  ): Promise<RegisteredModel> {
    const out = (await this.transport.api('POST', 'registered-models/create', {
      json: { name, description: options.description, tags: wireTags(options.tags) },
    })) as { registered_model: unknown };
    return RegisteredModelSchema.parse(out.registered_model);
  }

  /** `MlflowResourceNotFoundError` when there is no model of this name. */
  async getRegisteredModel(name: string): Promise<RegisteredModel> {
    const out = (await this.transport.api('GET', 'registered-models/get', { query: { name } })) as {
      registered_model: unknown;
    };
    return RegisteredModelSchema.parse(out.registered_model);
  }

  /** A new version of a registered model; a retry after an ambiguous failure never makes a second one. */
  async createModelVersion(req: CreateModelVersionRequest): Promise<ModelVersion> {
    const out = (await this.transport.api('POST', 'model-versions/create', {
      json: {
        name: req.name,
        source: req.source,
        run_id: req.runId,
        model_id: req.modelId,
        description: req.description,
        tags: wireTags(req.tags),
      },
      recover: async (deadlineAt) => {
        const made = (await this.until(deadlineAt).searchWire(req.name)).find((raw) => {
          const v = ModelVersionSchema.parse(raw);
          return v.source === req.source && v.runId === (req.runId ?? '');
        });
        return made ? { done: { model_version: made } } : undefined;
      },
    })) as { model_version: unknown };
    return ModelVersionSchema.parse(out.model_version);
  }

  private until(deadlineAt: number): ModelRegistryClient {
    return new ModelRegistryClient(this.transport.until(deadlineAt));
  }

  async getModelVersion(name: string, version: string): Promise<ModelVersion> {
    const out = (await this.transport.api('GET', 'model-versions/get', { query: { name, version } })) as {
      model_version: unknown;
    };
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
    return allPages(async (pageToken) => {
      const out = (await this.transport.api('GET', 'model-versions/search', {
        query: { filter: `name='${name}'`, max_results: 1000, page_token: pageToken },
      })) as { model_versions?: unknown[]; next_page_token?: string };
      return { items: out.model_versions ?? [], nextPageToken: out.next_page_token };
    });
  }

  /** Sets (or replaces) a tag of a version. */
  async setModelVersionTag(name: string, version: string, key: string, value: string): Promise<void> {
    await this.transport.api('POST', 'model-versions/set-tag', { json: { name, version, key, value } });
  }

  /**
   * Points `alias` at a version (moving it from any other). MLflow reserves `latest` and `v<digits>`;
   * those are refused here before anything is sent.
   */
  async setAlias(name: string, alias: string, version: string): Promise<void> {
    if (!alias || /^v\d+$/i.test(alias) || alias.toLowerCase() === 'latest' || /[/@:]/.test(alias))
      throw new MlflowInvalidParameterError(
        `alias '${alias}': MLflow reserves 'latest' and 'v<number>', and an alias cannot hold '/', '@' or ':'`,
        'INVALID_PARAMETER_VALUE',
      );
    await this.transport.api('POST', 'registered-models/alias', { json: { name, alias, version } });
  }

  /** The version an alias names; MLflow answers an unknown alias with 400 INVALID_PARAMETER_VALUE. */
  async getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    const out = (await this.transport.api('GET', 'registered-models/alias', { query: { name, alias } })) as {
      model_version: unknown;
    };
    return ModelVersionSchema.parse(out.model_version);
  }

  /** Where the version's files are: the logged model's artifact folder for a `models:/<model_id>` source. */
  async getModelVersionDownloadUri(name: string, version: string): Promise<string> {
    const out = (await this.transport.api('GET', 'model-versions/get-download-uri', {
      query: { name, version },
    })) as { artifact_uri?: string };
    return out.artifact_uri ?? '';
  }

  /**
   * What a `models:/` URI points at: the artifact folder, and the version (absent for a bare
   * logged-model id).
   */
  async resolveModelUri(uri: string): Promise<{ artifactUri: string; version?: ModelVersion; modelId?: string }> {
    const parsed = parseModelUri(uri);
    if (parsed.kind === 'logged-model') {
      const out = (await this.transport.api('GET', `logged-models/${parsed.modelId}`)) as { model: unknown };
      return { artifactUri: loggedModelFromWire(out.model).artifactUri, modelId: parsed.modelId };
    }
    const version =
      parsed.kind === 'alias'
        ? await this.getModelVersionByAlias(parsed.name, parsed.alias)
        : await this.getModelVersion(parsed.name, parsed.version);
    const artifactUri = await this.getModelVersionDownloadUri(version.name, version.version);
    return { artifactUri, version, ...(version.modelId ? { modelId: version.modelId } : {}) };
  }

  /**
   * Downloads the files a `models:/` URI names into `dir` (through the server's artifact proxy,
   * with this client's credentials); returns what it resolved to and the files written.
   */
  async downloadModel(
    uri: string,
    dir: string,
  ): Promise<{ artifactUri: string; version?: ModelVersion; modelId?: string; files: string[] }> {
    const resolved = await this.resolveModelUri(uri);
    const root = proxyRoot(resolved.artifactUri);
    if (root === undefined)
      throw new MlflowError(
        `${uri} resolves to '${resolved.artifactUri}', which ${this.location} does not serve through its artifact proxy (start the server with artifacts proxied, MLflow's default)`,
        'NOT_IMPLEMENTED',
      );
    const files = await new ArtifactProxy(this.transport).downloadTree(root, dir);
    if (!files.length)
      throw new MlflowError(
        `${uri} resolves to '${resolved.artifactUri}', which holds no files`,
        'RESOURCE_DOES_NOT_EXIST',
      );
    return { ...resolved, files };
  }

  /** Closes the connections when this client made its transport; a shared one is its owner's to close. */
  async close(): Promise<void> {
    if (this.ownsTransport) await this.transport.close();
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
