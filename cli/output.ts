// What the client verbs print, in one place: the formats (-o table|json|yaml|markdown), colour
// (only on a terminal, never with NO_COLOR), errors (a problem+json answer as one line, then one
// line per field error) and exit codes (0 done, 1 failed, 2 usage, 3 a plan with changes under
// --detailed-exitcode).
import { stripVTControlCharacters, styleText } from 'node:util';
import { stringify } from 'yaml';
import { ProblemError } from './api-client.ts';

export const FORMATS = ['table', 'json', 'yaml', 'markdown'] as const;
export type Format = (typeof FORMATS)[number];

export const EXIT = { ok: 0, failed: 1, usage: 2, changes: 3 } as const;

/** A failure the user can act on: printed as one line, exit code 1 (or the one given). */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(message: string, readonly exitCode: number = EXIT.failed) {
    super(message);
  }
}

/** A command line that cannot mean anything (an unknown kind, a missing name): exit code 2. */
export function usageError(message: string): CliError {
  return new CliError(message, EXIT.usage);
}

/** Colour for people at a terminal; plain text for pipes, files, CI logs and NO_COLOR. */
export function colourEnabled(stream: NodeJS.WriteStream = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && !('NO_COLOR' in env && env.NO_COLOR !== '') && env.TERM !== 'dumb';
}

type Style = 'red' | 'green' | 'yellow' | 'cyan' | 'bold' | 'dim';

/** Paints text when colour is enabled for stdout. */
export function paint(style: Style, value: string, enabled = colourEnabled()): string {
  // The decision is ours (colourEnabled): styleText would look at process.stdout again.
  return enabled ? styleText(style, value, { validateStream: false }) : value;
}

/** A diff with added lines green and removed ones red (when colour is on). */
export function paintDiff(patch: string, enabled = colourEnabled()): string {
  // jsdiff starts a patch with a line of `=` when it has no index line: noise on a terminal.
  const diff = patch.replace(/^=+\n/, '');
  if (!enabled) return diff;
  return diff.split('\n').map((line) => {
    if (line.startsWith('+++') || line.startsWith('---')) return paint('bold', line, true);
    if (line.startsWith('+')) return paint('green', line, true);
    if (line.startsWith('-')) return paint('red', line, true);
    if (line.startsWith('@@')) return paint('cyan', line, true);
    return line;
  }).join('\n');
}

/**
 * Where the verbs print. Tests that run the command line in their own process swap these: the
 * test runner speaks its protocol on the real stdout.
 */
export const terminal = {
  out: (text: string): void => { process.stdout.write(text); },
  err: (text: string): void => { process.stderr.write(text); },
};

export function write(text: string): void {
  terminal.out(text.endsWith('\n') || text === '' ? text : `${text}\n`);
}

/** json and yaml print the value itself, for scripts; both end with a newline. */
export function printData(value: unknown, format: 'json' | 'yaml'): void {
  write(format === 'json' ? JSON.stringify(value, null, 2) : stringify(value, { lineWidth: 0 }));
}

export interface Column<T> { header: string; value: (row: T) => unknown }

function cell(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-';
  if (Array.isArray(value)) return value.length ? value.map(cell).join(',') : '-';
  if (typeof value === 'object') return Object.entries(value).map(([k, v]) => `${k}=${cell(v)}`).join(',') || '-';
  return String(value).replace(/\s+/g, ' ');
}

/**
 * A table in the stable layout scripts may rely on: a header of upper-case names, one row per
 * item, columns left-aligned and separated by at least two spaces, `-` for an empty cell.
 */
export function table<T>(rows: readonly T[], columns: ReadonlyArray<Column<T>>): string {
  const cells = [columns.map((c) => c.header.toUpperCase()), ...rows.map((row) => columns.map((c) => cell(c.value(row))))];
  // Widths as seen on the terminal: a coloured cell's escape codes take no room.
  const visible = (text: string) => stripVTControlCharacters(text).length;
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => visible(line[i]!))));
  const pad = (text: string, i: number) => text + ' '.repeat(widths[i]! + 2 - visible(text));
  return cells.map((line) => line.map((text, i) => (i === line.length - 1 ? text : pad(text, i))).join('')).join('\n');
}

/** The same rows as a GitHub-flavoured Markdown table. */
export function markdownTable<T>(rows: readonly T[], columns: ReadonlyArray<Column<T>>): string {
  const escape = (text: string) => text.replaceAll('|', '\\|');
  const lines = [
    `| ${columns.map((c) => c.header).join(' | ')} |`,
    `|${columns.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${columns.map((c) => escape(cell(c.value(row)))).join(' | ')} |`),
  ];
  return lines.join('\n');
}

/** Prints rows in the chosen format: the raw items for json/yaml, a table otherwise. */
export function printRows<T>(rows: readonly T[], columns: ReadonlyArray<Column<T>>, format: Format, raw: unknown = rows): void {
  if (format === 'json' || format === 'yaml') return printData(raw, format);
  if (format === 'markdown') return write(markdownTable(rows, columns));
  write(rows.length === 0 ? 'No resources found.' : table(rows, columns));
}

/** The lines an error is reported as: a problem as `STATUS code title: detail`, then its field errors. */
export function errorLines(err: unknown): string[] {
  if (err instanceof ProblemError) {
    const head = [String(err.status), err.code, err.title ? `${err.title}:` : '', err.detail].filter(Boolean).join(' ');
    const id = err.requestId ? ` (request ${err.requestId})` : '';
    return [`${head}${err.status >= 500 ? id : ''}`, ...err.errors.map((e) => `  ${e.path || '(document)'}: ${e.message}${e.code ? ` [${e.code}]` : ''}`)];
  }
  if (err instanceof CliError) return [err.message];
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (err instanceof TypeError && cause) {
    // undici's fetch failed: the reason is on the cause (ECONNREFUSED, ENOTFOUND, a TLS error).
    return [`cannot reach the server: ${cause.code ?? cause.message}`];
  }
  return [(err as Error).message];
}

/** Reports an error on stderr, one line each, and sets the exit code (1, or the CliError's). */
export function reportError(err: unknown): void {
  const lines = errorLines(err);
  terminal.err(lines.map((line) => `metalfleet: ${line}\n`).join(''));
  process.exitCode = err instanceof CliError ? err.exitCode : EXIT.failed;
}

/** Runs a client verb: any error is reported as above instead of thrown. */
export async function runReporting(work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (err) {
    reportError(err);
  }
}
