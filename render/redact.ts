// Rendered configs carry peer passwords (frr.conf, bird.conf and gobgpd.toml lines, basic-auth Secrets). What people see
// (revision views, diffs, logs) is redacted; only agents receive the real content.
import { parseAllDocuments, stringify } from 'yaml';
import type { Backend } from './policy.ts';

export const REDACTED = '<redacted>';

export function redactConfig(backend: Backend, content: string): string {
  if (backend === 'frr') return content.replace(/^(\s*neighbor \S+ password )\S+$/gm, `$1${REDACTED}`);
  if (backend === 'bird') return content.replace(/^(\s*password )".*";$/gm, `$1"${REDACTED}";`);
  if (backend === 'gobgp') return content.replace(/^(\s*auth-password = )".*"$/gm, `$1"${REDACTED}"`);
  return parseAllDocuments(content).map((doc) => {
    const object = doc.toJS() as { kind?: string; data?: Record<string, string> } | null;
    if (object?.kind === 'Secret' && object.data) {
      for (const key of Object.keys(object.data)) object.data[key] = REDACTED;
    }
    return `---\n${stringify(object, { lineWidth: 0 })}`;
  }).join('');
}
