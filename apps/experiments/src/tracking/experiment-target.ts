/**
 * The experiment a command logs to, chosen as MLflow's fluent API chooses it: `MLFLOW_EXPERIMENT_ID`
 * (which must exist), else `MLFLOW_EXPERIMENT_NAME` (created when missing), else the command's own
 * name (a sweep's name, `bench`). When both variables are set they must name the same experiment.
 *
 * @example
 * ```ts
 * const experimentId = await resolveExperiment(store, 'ablation-loss', { 'cfa.reproduces': 'Table 5' });
 * ```
 */
import { MlflowError, type TrackingStore } from '@cfa/tracking';

export const EXPERIMENT_ENV = { id: 'MLFLOW_EXPERIMENT_ID', name: 'MLFLOW_EXPERIMENT_NAME' } as const;

export async function resolveExperiment(
  store: TrackingStore,
  defaultName: string,
  tags: Record<string, string> = {},
  env: Record<string, string | undefined> = process.env,
): Promise<string> {
  const id = env[EXPERIMENT_ENV.id]?.trim() || undefined;
  const name = env[EXPERIMENT_ENV.name]?.trim() || undefined;
  if (id) {
    const experiment = await store.getExperiment(id).catch((error: unknown) => {
      if (error instanceof MlflowError && error.errorCode === 'RESOURCE_DOES_NOT_EXIST')
        throw new MlflowError(
          `${EXPERIMENT_ENV.id}=${id}: ${store.location} has no experiment with this id (unset it, or set ${EXPERIMENT_ENV.name} instead)`,
          'INVALID_PARAMETER_VALUE',
        );
      throw error;
    });
    if (name && experiment.name !== name)
      throw new MlflowError(
        `${EXPERIMENT_ENV.id}=${id} names the experiment '${experiment.name}', but ${EXPERIMENT_ENV.name}='${name}': set one of them, or both to the same experiment`,
        'INVALID_PARAMETER_VALUE',
      );
    if (experiment.lifecycleStage !== 'active')
      throw new MlflowError(
        `${EXPERIMENT_ENV.id}=${id}: the experiment '${experiment.name}' is deleted; restore it in the MLflow UI or choose another`,
        'INVALID_PARAMETER_VALUE',
      );
    return id;
  }
  return store.getOrCreateExperiment(name ?? defaultName, tags);
}
