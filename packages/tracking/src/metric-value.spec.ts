import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { decodeMetricValue, encodeMetricValue, formatPythonFloat, parsePythonFloat } from './metric-value';

describe('metric values on the wire (MLflow REST JSON)', () => {
  it('NaN and ±Infinity travel as strings, finite values as numbers; both ways', () => {
    expect([NaN, Infinity, -Infinity, 0.5, -0].map(encodeMetricValue)).toEqual([
      'NaN',
      'Infinity',
      '-Infinity',
      0.5,
      -0,
    ]);
    expect(['NaN', 'Infinity', '-Infinity', 2, '1e-7'].map(decodeMetricValue)).toEqual([
      NaN,
      Infinity,
      -Infinity,
      2,
      1e-7,
    ]);
    expect(() => decodeMetricValue('abc')).toThrow(/not a metric value/);
    expect(() => decodeMetricValue(null)).toThrow();
  });
});

describe("metric values on disk (Python's repr, as MLflow's file store writes them)", () => {
  it.each([
    [0.1, '0.1'],
    [1, '1.0'],
    [0, '0.0'],
    [-0, '-0.0'],
    [1e-5, '1e-05'],
    [0.0001, '0.0001'],
    [1e16, '1e+16'],
    [1234567890123456, '1234567890123456.0'],
    [1e22, '1e+22'],
    [12345678901234567890, '1.2345678901234567e+19'],
    [-2.5e-7, '-2.5e-07'],
    [5e-324, '5e-324'],
    [NaN, 'nan'],
    [Infinity, 'inf'],
    [-Infinity, '-inf'],
  ])('%d → %s', (value, text) => {
    expect(formatPythonFloat(value)).toBe(text);
    expect(parsePythonFloat(text)).toBe(value);
  });

  it("reads what Python's float() reads", () => {
    expect(['NaN', 'Infinity', '-INF', '+1.5', '1_000.5'].map(parsePythonFloat)).toEqual([
      NaN,
      Infinity,
      -Infinity,
      1.5,
      1000.5,
    ]);
    expect(() => parsePythonFloat('x')).toThrow(/not a Python float/);
  });

  const floats = Array.from({ length: 2000 }, (_, i) => Math.sin(i + 1) * 10 ** ((i % 40) - 20));
  let python: string[] | undefined;
  try {
    python = JSON.parse(
      execFileSync(
        'python3',
        ['-c', 'import sys, json; print(json.dumps([repr(float(x)) for x in json.load(sys.stdin)]))'],
        { input: JSON.stringify(floats), stdio: ['pipe', 'pipe', 'pipe'] },
      ).toString(),
    );
  } catch {
    process.stderr.write('[tracking] float repr comparison with Python skipped: python3 is not available\n');
  }
  it.skipIf(!python)('equals repr(float) for 2000 values across 40 decades', () => {
    expect(floats.map(formatPythonFloat)).toEqual(python);
  });
});
