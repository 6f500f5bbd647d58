// Kubernetes objects as YAML, fast. The rendered objects are plain data of a narrow shape (maps,
// lists, strings, numbers, booleans) built from validated values, and a cluster can have hundreds
// of them: the general-purpose `yaml` stringifier spent half of a render building its node tree.
// This emitter writes the same block style; a scalar is plain only when YAML cannot read it as
// anything but that string, and double-quoted (JSON escapes are valid YAML escapes) otherwise.
// Parsing stays with the `yaml` library, and the tests prove every render round-trips through it.

const PLAIN = /^[A-Za-z0-9_./][A-Za-z0-9_./:+=-]*$/;
const NOT_A_STRING = /^(?:true|false|null|~|yes|no|on|off|y|n|[-+]?(?:\.inf|\.nan)|0x[0-9a-f]+|0o[0-7]+|[-+]?(?:\d[\d_]*)?(?:\.\d*)?(?:e[-+]?\d+)?)$/i;

function scalar(value: unknown): string {
  if (typeof value === 'string') return PLAIN.test(value) && !NOT_A_STRING.test(value) ? value : JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('a rendered number must be finite');
    return String(value);
  }
  if (typeof value === 'boolean') return String(value);
  if (value === null) return 'null';
  throw new TypeError(`cannot render ${typeof value} as YAML`);
}

const isEmpty = (v: unknown) => (Array.isArray(v) ? v.length === 0 : typeof v === 'object' && v !== null && Object.keys(v).length === 0);
const isCollection = (v: unknown) => typeof v === 'object' && v !== null;

function emitMap(map: Record<string, unknown>, indent: string, lines: string[], firstPrefix?: string): void {
  let first = true;
  for (const [key, value] of Object.entries(map)) {
    if (value === undefined) continue;
    const lead = first && firstPrefix !== undefined ? firstPrefix : indent;
    first = false;
    const k = scalar(key);
    if (isCollection(value) && !isEmpty(value)) {
      lines.push(`${lead}${k}:`);
      emit(value, `${indent}  `, lines);
    } else {
      lines.push(`${lead}${k}: ${isCollection(value) ? (Array.isArray(value) ? '[]' : '{}') : scalar(value)}`);
    }
  }
}

function emit(value: unknown, indent: string, lines: string[]): void {
  if (Array.isArray(value)) {
    for (const item of value) {
      if (isCollection(item) && !isEmpty(item)) {
        if (Array.isArray(item)) {
          lines.push(`${indent}-`);
          emit(item, `${indent}  `, lines);
        } else {
          emitMap(item as Record<string, unknown>, `${indent}  `, lines, `${indent}- `);
        }
      } else {
        lines.push(`${indent}- ${isCollection(item) ? (Array.isArray(item) ? '[]' : '{}') : scalar(item)}`);
      }
    }
  } else {
    emitMap(value as Record<string, unknown>, indent, lines);
  }
}

/** One YAML document (without the `---` marker) for a plain-data object. */
export function toYaml(object: Record<string, unknown>): string {
  if (isEmpty(object)) return '{}\n';
  const lines: string[] = [];
  emit(object, '', lines);
  return `${lines.join('\n')}\n`;
}
