/**
 * A strict parser of the Prometheus text exposition format (version 0.0.4), enough to check what `/metrics`
 * serves: every non-comment line must be `name{labels} value`, every sample's family declared by # TYPE.
 */
export interface PrometheusSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface PrometheusExposition {
  readonly types: ReadonlyMap<string, string>;
  readonly samples: readonly PrometheusSample[];
}

const samplePattern = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+(-?\d+))?$/;
const labelPattern = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*/y;

export function parsePrometheusText(text: string): PrometheusExposition {
  const types = new Map<string, string>();
  const samples: PrometheusSample[] = [];
  for (const [index, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
      if (type) types.set(type[1], type[2]);
      else if (!/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* /.test(line) && !line.startsWith('# HELP')) throw new Error(`line ${index + 1}: unexpected comment ${line}`);
      continue;
    }
    const match = samplePattern.exec(line);
    if (!match) throw new Error(`line ${index + 1}: not a sample: ${line}`);
    const [, name, labelText = '', valueText] = match;
    const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : Number(valueText);
    if (Number.isNaN(value) && valueText.toLowerCase() !== 'nan') throw new Error(`line ${index + 1}: bad value ${valueText}`);
    const family = [...types.keys()].find((type) => name === type || (/_(bucket|sum|count|total|created)$/.test(name) && name.replace(/_(bucket|sum|count|created)$/, '') === type));
    if (family === undefined) throw new Error(`line ${index + 1}: sample ${name} has no # TYPE`);
    samples.push({ name, labels: parseLabels(labelText, index + 1), value });
  }
  return { types, samples };
}

function parseLabels(text: string, lineNumber: number): Record<string, string> {
  const labels: Record<string, string> = {};
  labelPattern.lastIndex = 0;
  while (labelPattern.lastIndex < text.length) {
    const start = labelPattern.lastIndex;
    const match = labelPattern.exec(text);
    if (!match || match.index !== start) throw new Error(`line ${lineNumber}: bad labels {${text}}`);
    labels[match[1]] = match[2].replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
  }
  return labels;
}

/** Sum of the samples of `name` whose labels include `labels`. */
export function sampleValue(exposition: PrometheusExposition, name: string, labels: Record<string, string> = {}): number {
  return exposition.samples
    .filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
    .reduce((sum, sample) => sum + sample.value, 0);
}
