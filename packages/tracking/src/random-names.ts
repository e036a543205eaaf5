/**
 * The ids and names MLflow's stores make up, made up the same way here (`mlflow/utils/name_utils.py`,
 * `FileStore._generate_unique_integer_id`, `FileStore.create_logged_model`): experiment ids of 18
 * digits, run ids as uuid4 hex, logged-model ids `m-<uuid4 hex>`, and predicate-noun-number names for
 * runs and logged models created without one.
 *
 * @example
 * ```ts
 * randomExperimentId(); // '738204615920384756'
 * randomName();         // 'brave-owl-417'
 * randomLoggedModelId(); // 'm-3f2a…' (32 hex digits)
 * ```
 */
import { randomInt, randomUUID } from 'node:crypto';

/** MLflow's `_generate_unique_integer_id`: 18 digits, no leading zero. */
export function randomExperimentId(): string {
  let id = String(randomInt(1, 10));
  while (id.length < 18) id += String(randomInt(0, 10));
  return id;
}

/** A run id as MLflow makes one: a uuid4 as 32 hex digits. */
export function randomRunId(): string {
  return randomUUID().replaceAll('-', '');
}

/** A logged model's id as MLflow makes one: `m-` and a uuid4 as 32 hex digits. */
export function randomLoggedModelId(): string {
  return `m-${randomRunId()}`;
}

const PREDICATES = [
  'able',
  'bold',
  'brave',
  'calm',
  'clever',
  'eager',
  'gentle',
  'honest',
  'keen',
  'lucky',
  'merry',
  'quick',
  'quiet',
  'sharp',
  'sly',
  'wise',
];
const NOUNS = [
  'ant',
  'bat',
  'bee',
  'cat',
  'cod',
  'cow',
  'crab',
  'deer',
  'doe',
  'eel',
  'elk',
  'fox',
  'gnu',
  'hen',
  'owl',
  'ram',
  'yak',
];

/** Like MLflow's `_generate_random_name`: predicate-noun-number, for runs and logged models given no name. */
export function randomName(): string {
  return `${PREDICATES[randomInt(PREDICATES.length)]}-${NOUNS[randomInt(NOUNS.length)]}-${randomInt(0, 1001)}`;
}
