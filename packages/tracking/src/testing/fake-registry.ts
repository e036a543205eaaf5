/**
 * The Model Registry of the fake MLflow server: registered models, numbered versions, version tags,
 * aliases and download URIs, answering as MLflow 3.6 does (checked by `registryServerContract`
 * against the real server): the same JSON shapes, 404 RESOURCE_DOES_NOT_EXIST for an unknown name
 * or version, 400 RESOURCE_ALREADY_EXISTS for a taken name, 400 for a reserved alias (`latest`,
 * `v<n>`), a version's `model_id` linking a logged model (whose `mlflow.modelVersions` tag then
 * names the version, and whose artifact folder is the version's download URI). Kept in
 * `<root>/registry.json`, so a fake restarted on its root keeps its registry as it keeps its runs.
 *
 * @example
 * ```ts
 * const registry = await FakeRegistry.open(root, store);
 * const answer = await registry.route('POST', 'registered-models/create', { name: 'm' }, query);
 * ```
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@cfa/io';
import {
  MlflowError,
  MlflowInvalidParameterError,
  MlflowResourceAlreadyExistsError,
  MlflowResourceNotFoundError,
} from '../errors';
import type { FileTrackingStore } from '../file-store';
import { paginate } from '../search-filter';

interface Version {
  name: string;
  version: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  current_stage: string;
  description: string;
  source: string;
  run_id: string;
  model_id?: string;
  status: string;
  run_link: string;
  tags: Record<string, string>;
}

interface Model {
  name: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  description: string;
  versions: Version[];
  aliases: Record<string, string>;
}

const invalid = (message: string): never => {
  throw new MlflowInvalidParameterError(message, 'INVALID_PARAMETER_VALUE');
};
const required = (value: unknown, name: string): string =>
  typeof value === 'string' && value
    ? value
    : invalid(
        `Missing value for required parameter '${name}'. See the API docs for more information about request parameters.`,
      );
const keyValues = (r: Record<string, string>) => Object.entries(r).map(([key, value]) => ({ key, value }));

export class FakeRegistry {
  private constructor(
    private readonly file: string,
    private readonly models: Map<string, Model>,
    private readonly store: FileTrackingStore,
  ) {}

  static async open(root: string, store: FileTrackingStore): Promise<FakeRegistry> {
    const file = join(root, 'registry.json');
    const saved = await readFile(file, 'utf8').then(
      (t) => JSON.parse(t) as Model[],
      () => [],
    );
    return new FakeRegistry(file, new Map(saved.map((m) => [m.name, m])), store);
  }

  private save(): Promise<void> {
    return writeFileAtomic(this.file, JSON.stringify([...this.models.values()]));
  }

  private model(name: string): Model {
    const m = this.models.get(name);
    if (!m)
      throw new MlflowResourceNotFoundError(`Registered Model with name=${name} not found`, 'RESOURCE_DOES_NOT_EXIST');
    return m;
  }

  private version(name: string, version: string): Version {
    const v = this.models.get(name)?.versions.find((x) => x.version === version);
    if (!v)
      throw new MlflowResourceNotFoundError(
        `Model Version (name=${name}, version=${version}) not found`,
        'RESOURCE_DOES_NOT_EXIST',
      );
    return v;
  }

  private versionToWire(v: Version) {
    const aliases = Object.entries(this.models.get(v.name)?.aliases ?? {})
      .filter(([, version]) => version === v.version)
      .map(([alias]) => alias);
    // MLflow 3.6 keeps a version's model_id but does not send it back
    const { tags, model_id: _modelId, ...rest } = v;
    return {
      ...rest,
      ...(Object.keys(tags).length ? { tags: keyValues(tags) } : {}),
      ...(aliases.length ? { aliases } : {}),
    };
  }

  private modelToWire(m: Model) {
    const latest = m.versions.at(-1);
    return {
      name: m.name,
      creation_timestamp: m.creation_timestamp,
      last_updated_timestamp: m.last_updated_timestamp,
      ...(m.description ? { description: m.description } : {}),
      ...(latest ? { latest_versions: [this.versionToWire(latest)] } : {}),
      ...(Object.keys(m.aliases).length
        ? { aliases: Object.entries(m.aliases).map(([alias, version]) => ({ alias, version })) }
        : {}),
    };
  }

  /** The answer to a registry request, or undefined when `endpoint` is not a registry endpoint. */
  async route(
    method: string,
    endpoint: string,
    body: () => Record<string, unknown>,
    q: (k: string) => string | undefined,
  ): Promise<unknown> {
    const now = Date.now();
    switch (`${method} ${endpoint}`) {
      case 'POST registered-models/create': {
        const b = body();
        const name = required(b.name, 'name');
        if (this.models.has(name))
          throw new MlflowResourceAlreadyExistsError(
            `Registered Model (name=${name}) already exists.`,
            'RESOURCE_ALREADY_EXISTS',
          );
        const m: Model = {
          name,
          creation_timestamp: now,
          last_updated_timestamp: now,
          description: String(b.description ?? ''),
          versions: [],
          aliases: {},
        };
        this.models.set(name, m);
        await this.save();
        return { registered_model: this.modelToWire(m) };
      }
      case 'GET registered-models/get':
        return { registered_model: this.modelToWire(this.model(required(q('name'), 'name'))) };
      case 'POST model-versions/create': {
        const b = body();
        const name = required(b.name, 'name');
        const source = required(b.source, 'source');
        const modelId = typeof b.model_id === 'string' && b.model_id ? b.model_id : undefined;
        let runId = String(b.run_id ?? '');
        if (modelId) {
          // MLflow fetches the logged model behind the source, and answers 500 when there is none;
          // a version without a run_id gets the model's source run
          const logged = await this.store.getLoggedModel(modelId).catch(() => {
            throw new MlflowError(
              `Unable to fetch model from model URI source artifact location '${source}'.Error: Model '${modelId}' not found`,
              'INTERNAL_ERROR',
            );
          });
          runId ||= logged.sourceRunId ?? '';
        }
        const m = this.model(name);
        const v: Version = {
          name,
          version: String(m.versions.length + 1),
          creation_timestamp: now,
          last_updated_timestamp: now,
          current_stage: 'None',
          description: String(b.description ?? ''),
          source,
          run_id: runId,
          ...(modelId ? { model_id: modelId } : {}),
          status: 'READY',
          run_link: '',
          tags: Object.fromEntries(
            ((b.tags as { key: string; value?: string }[]) ?? []).map((t) => [t.key, t.value ?? '']),
          ),
        };
        m.versions.push(v);
        m.last_updated_timestamp = now;
        await this.save();
        if (modelId) {
          // as MLflow's `set_model_versions_tags`
          const current = (await this.store.getLoggedModel(modelId)).tags['mlflow.modelVersions'];
          const list = current ? (JSON.parse(current) as { name: string; version: number }[]) : [];
          list.push({ name, version: Number(v.version) });
          // Python's json.dumps, spaces after ':' and ','
          const python = list.map((x) => `{"name": ${JSON.stringify(x.name)}, "version": ${x.version}}`).join(', ');
          await this.store.setLoggedModelTags(modelId, { 'mlflow.modelVersions': `[${python}]` });
        }
        return { model_version: this.versionToWire(v) };
      }
      case 'GET model-versions/get':
        return {
          model_version: this.versionToWire(
            this.version(required(q('name'), 'name'), required(q('version'), 'version')),
          ),
        };
      case 'GET model-versions/search': {
        const filter = q('filter') ?? '';
        const m = /^\s*name\s*=\s*'([^']*)'\s*$/.exec(filter);
        if (filter && !m) invalid(`Invalid filter '${filter}'`);
        const all = [...this.models.values()]
          .filter((x) => !m || x.name === m[1])
          .flatMap((x) => x.versions)
          .sort((a, b) => Number(b.version) - Number(a.version));
        const page = paginate(all, Number(q('max_results') ?? 10_000), q('page_token'));
        return {
          ...(page.items.length ? { model_versions: page.items.map((v) => this.versionToWire(v)) } : {}),
          ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
        };
      }
      case 'POST model-versions/set-tag': {
        const b = body();
        const v = this.version(required(b.name, 'name'), required(b.version, 'version'));
        v.tags[required(b.key, 'key')] = String(b.value ?? '');
        await this.save();
        return {};
      }
      case 'GET model-versions/get-download-uri': {
        const v = this.version(required(q('name'), 'name'), required(q('version'), 'version'));
        const artifactUri = v.model_id ? (await this.store.getLoggedModel(v.model_id)).artifactUri : v.source;
        return { artifact_uri: artifactUri };
      }
      case 'POST registered-models/alias': {
        const b = body();
        const alias = required(b.alias, 'alias');
        if (alias.toLowerCase() === 'latest') invalid("'latest' alias name (case insensitive) is reserved.");
        if (/^v\d+$/i.test(alias)) invalid(`Version alias name '${alias}' is reserved.`);
        const v = this.version(required(b.name, 'name'), required(b.version, 'version'));
        this.model(v.name).aliases[alias] = v.version;
        await this.save();
        return {};
      }
      case 'GET registered-models/alias': {
        const name = required(q('name'), 'name');
        const alias = required(q('alias'), 'alias');
        const version = this.model(name).aliases[alias];
        if (version === undefined) invalid(`Registered model alias ${alias} not found.`);
        return { model_version: this.versionToWire(this.version(name, version!)) };
      }
      default:
        return undefined;
    }
  }
}
