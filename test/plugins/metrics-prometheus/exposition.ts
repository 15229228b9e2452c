/**
 * A strict reader of the Prometheus text format (0.0.4) and OpenMetrics text, for tests: every line
 * must be a `# HELP`, a `# TYPE`, a sample of a declared family, a blank line (Prometheus) or the
 * final `# EOF` (OpenMetrics). Anything else throws with the line.
 */
export interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}
export interface Family {
  readonly name: string;
  help?: string;
  type?: string;
  readonly samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
const VALUE = '(?:[-+]?(?:\\d+\\.?\\d*(?:[eE][-+]?\\d+)?|\\.\\d+(?:[eE][-+]?\\d+)?)|[-+]?Inf|NaN)';
const SAMPLE_RE = new RegExp(`^(${NAME})(?:\\{((?:${LABEL})(?:,${LABEL})*)?\\})? (${VALUE})(?: -?\\d+)?$`);
const HELP_RE = new RegExp(`^# HELP (${NAME}) (.*)$`);
const TYPE_RE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped|unknown)$`);
const SUFFIXES: Record<string, readonly string[]> = {
  counter: ['', '_total', '_created'],
  gauge: [''],
  histogram: ['_bucket', '_sum', '_count', '_created'],
  summary: ['', '_sum', '_count', '_created'],
  untyped: [''],
  unknown: [''],
};

export function parseExposition(text: string, format: 'prometheus' | 'openmetrics' = 'prometheus'): Map<string, Family> {
  const families = new Map<string, Family>();
  const lines = text.split('\n');
  if (lines.at(-1) !== '') throw new Error('exposition must end with a newline');
  lines.pop();
  if (format === 'openmetrics') {
    if (lines.at(-1) !== '# EOF') throw new Error('OpenMetrics exposition must end with # EOF');
    lines.pop();
  }
  let current: Family | undefined;
  for (const line of lines) {
    if (line === '') {
      if (format === 'openmetrics') throw new Error('blank lines are not allowed in OpenMetrics');
      continue;
    }
    let m = HELP_RE.exec(line);
    if (m) {
      if (families.has(m[1]!)) throw new Error(`family ${m[1]} declared twice`);
      current = { name: m[1]!, help: m[2]!, samples: [] };
      families.set(current.name, current);
      continue;
    }
    m = TYPE_RE.exec(line);
    if (m) {
      if (current?.name !== m[1] || current.type !== undefined) throw new Error(`# TYPE without its # HELP: ${line}`);
      current.type = m[2]!;
      continue;
    }
    m = SAMPLE_RE.exec(line);
    if (!m) throw new Error(`not a valid exposition line: ${JSON.stringify(line)}`);
    if (current?.type === undefined) throw new Error(`sample outside a typed family: ${line}`);
    const suffix = m[1]!.slice(current.name.length);
    if (!m[1]!.startsWith(current.name) || !SUFFIXES[current.type]!.includes(suffix)) {
      throw new Error(`sample ${m[1]} does not belong to family ${current.name} (${current.type})`);
    }
    const labels: Record<string, string> = {};
    for (const pair of (m[2] ?? '').match(new RegExp(LABEL, 'g')) ?? []) {
      const eq = pair.indexOf('=');
      labels[pair.slice(0, eq)] = pair.slice(eq + 2, -1);
    }
    const raw = m[3]!;
    const value = raw.endsWith('Inf') ? (raw.startsWith('-') ? -Infinity : Infinity) : Number(raw);
    current.samples.push({ name: m[1]!, labels, value });
  }
  return families;
}

/** The samples of `name` (a sample name, e.g. `x_total` or `x_bucket`) across families. */
export function samples(families: Map<string, Family>, name: string): Sample[] {
  return [...families.values()].flatMap((f) => f.samples.filter((s) => s.name === name));
}
