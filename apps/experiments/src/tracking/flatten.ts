/**
 * Config objects → MLflow params: `{ loss: { terms: 'att' } }` → `loss.terms = att`.
 */
export function flattenConfig(value: unknown, prefix = '', out: Record<string, string> = {}): Record<string, string> {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flattenConfig(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (value !== undefined) {
    out[prefix] = Array.isArray(value) ? JSON.stringify(value) : String(value);
  }
  return out;
}
