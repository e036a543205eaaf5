/**
 * A metric value on the wire and on disk, so that NaN and ±Infinity survive both:
 *
 * - REST (protobuf JSON): finite values are JSON numbers; NaN, Infinity and -Infinity travel as the
 *   strings `"NaN"`, `"Infinity"`, `"-Infinity"` (what MLflow 3.6 sends back, and accepts).
 * - File store: MLflow writes `f"{timestamp} {value} {step}"` with Python's `repr(float)`
 *   (`0.1`, `1.0`, `1e-05`, `1e+22`, `nan`, `inf`, `-inf`) and reads it back with `float()`.
 *   `formatPythonFloat` writes the same characters, so our metric files equal MLflow's byte for byte.
 *
 * @example
 * ```ts
 * encodeMetricValue(NaN);      // 'NaN'
 * formatPythonFloat(1);        // '1.0'
 * formatPythonFloat(0.00001);  // '1e-05'
 * parsePythonFloat('-inf');    // -Infinity
 * ```
 */

export function encodeMetricValue(v: number): number | string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return v;
}

/** The inverse of `encodeMetricValue`; also takes numbers written as strings. */
export function decodeMetricValue(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    if (v === 'NaN') return NaN;
    if (v === 'Infinity') return Infinity;
    if (v === '-Infinity') return -Infinity;
    if (v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
  }
  throw new TypeError(`not a metric value: ${JSON.stringify(v)}`);
}

/**
 * Python's `repr(float)`: the shortest digits that round-trip (as JS), positioned by Python's rule —
 * scientific when the exponent is < -4 or ≥ 16, with a sign and at least two exponent digits;
 * fixed otherwise, always with a fractional part.
 */
export function formatPythonFloat(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  const sign = v < 0 ? '-' : '';
  const [mantissa, exponent] = Math.abs(v).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const exp = Number(exponent);
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const whole = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  const fraction = digits.slice(exp + 1) || '0';
  return `${sign}${whole}.${fraction}`;
}

/** Python's `float()` on what the file store wrote (also accepts any JS number syntax). */
export function parsePythonFloat(s: string): number {
  const t = s.trim().toLowerCase().replace(/^\+/, '');
  if (t === 'nan' || t === '-nan') return NaN;
  if (t === 'inf' || t === 'infinity') return Infinity;
  if (t === '-inf' || t === '-infinity') return -Infinity;
  const v = Number(t.replaceAll('_', ''));
  if (t === '' || Number.isNaN(v)) throw new TypeError(`not a Python float: ${JSON.stringify(s)}`);
  return v;
}
