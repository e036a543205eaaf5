/**
 * A raw request to an MLflow server, for the server contracts: the status, the JSON (or {} for an
 * HTML page) and the text. A body is sent as JSON unless `contentType` says otherwise (null: none).
 *
 * @example
 * ```ts
 * const answer = await send(`${url}/api/2.0/mlflow/runs/get?run_id=x`);
 * answer.status; // 404
 * ```
 */
import { request } from 'undici';

export interface Answer {
  status: number;
  json: Record<string, unknown>;
  text: string;
}

export async function send(
  url: string,
  init: {
    method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
    body?: string | Buffer;
    contentType?: string | null;
    headers?: Record<string, string>;
  } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.contentType !== null && init.body !== undefined)
    headers['content-type'] = init.contentType ?? 'application/json';
  const res = await request(url, { method: init.method ?? 'GET', body: init.body, headers });
  const text = await res.body.text();
  let json: Record<string, unknown> = {};
  try {
    json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    // HTML error pages
  }
  return { status: res.statusCode, json, text };
}
