// Intent documents on the command line: reading one (a file or stdin, YAML or JSON, with the ETag
// `metalfleet export` leaves in a comment) and showing a plan or an apply (per cluster the unified
// diff or the refusal, the object changes, the problems), as text or as a PR-comment-ready Markdown.
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { components } from './api-types.ts';
import { CliError, paint, paintDiff, usageError } from './output.ts';

export type IntentDocument = components['schemas']['IntentDocument'];
export type IntentOutcome = components['schemas']['IntentOutcome'];

/** The comment `metalfleet export` starts a YAML document with: the ETag of the intent it exported. */
export const ETAG_COMMENT = 'metalfleet-etag:';

export interface ReadDocument {
  body: IntentDocument;
  /** The ETag of the intent the document was exported from, when it says so. */
  etag: string | undefined;
  source: string;
}

/** Reads a document from a file or `-` (stdin). */
export function readDocumentText(file: string): { text: string; source: string } {
  const source = file === '-' ? 'stdin' : file;
  try {
    return { text: readFileSync(file === '-' ? 0 : file, 'utf8'), source };
  } catch (err) {
    throw new CliError(`cannot read ${source}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

export function readIntentDocument(file: string): ReadDocument {
  const { text, source } = readDocumentText(file);
  const document = parseDocument(text, { prettyErrors: false });
  if (document.errors.length > 0) throw usageError(`${source} is not YAML or JSON: ${document.errors[0]!.message.split('\n')[0]}`);
  const body: unknown = document.toJS();
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw usageError(`${source}: expected a TenantIntent document (a mapping of pools, peers, clusters, …)`);
  }
  const etag = /^#\s*metalfleet-etag:\s*(\S+)\s*$/m.exec(text)?.[1];
  // The API validates the document itself and names every field it refuses.
  return { body: body as IntentDocument, etag, source };
}

const ACTION_SIGN: Record<string, string> = { create: '+', update: '~', delete: '-', withdraw: '-' };

/** Counts for the summary line. */
export function planSummary(outcome: IntentOutcome, applied = false): string {
  const count = (action: string) => outcome.changes.filter((c) => c.action === action).length;
  const deleted = count('delete') + count('withdraw');
  if (applied) return `${count('create')} created, ${count('update')} updated, ${deleted} deleted; ${outcome.clusters.length} cluster(s) got a new revision`;
  return `${count('create')} to create, ${count('update')} to update, ${deleted} to delete; ${outcome.clusters.length} cluster(s) get a new revision`;
}

/** Whether a plan changes anything (objects or configs). */
export const hasChanges = (outcome: IntentOutcome) => outcome.changes.length > 0 || outcome.clusters.length > 0;
/** Whether the API would refuse to apply it. */
export const isRefused = (outcome: IntentOutcome) => outcome.problems.length > 0 || outcome.refused.length > 0;

interface ClusterProblem { code?: string; path?: string; message?: string; remedy?: string }
const problemList = (problems: unknown[]): ClusterProblem[] =>
  problems.map((p) => (typeof p === 'object' && p !== null ? p as ClusterProblem : { message: String(p) }));

/** The plan as text for a terminal: diffs per cluster, refusals, changes, problems, a summary. */
export function planText(outcome: IntentOutcome, opts: { applied?: boolean; applyHint?: string } = {}): string {
  const lines: string[] = [];
  for (const cluster of outcome.clusters) {
    const from = cluster.fromRevision === null ? 'new' : `r${cluster.fromRevision}`;
    lines.push(paint('bold', `cluster ${cluster.cluster} (${cluster.backend}): ${from} → r${cluster.toRevision}`));
    if (!opts.applied) lines.push(paintDiff(cluster.diff.trimEnd()));
    lines.push('');
  }
  for (const refusal of outcome.refused) {
    lines.push(paint('red', `cluster ${refusal.cluster} (${refusal.backend}) would refuse the result:`));
    for (const p of problemList(refusal.problems)) {
      lines.push(`  ${p.code ?? 'refused'} ${p.path ?? ''}: ${p.message ?? ''}`.replace(/ :/, ':'));
      if (p.remedy) lines.push(`    remedy: ${p.remedy}`);
    }
    lines.push('');
  }
  if (outcome.changes.length > 0) {
    lines.push(paint('bold', opts.applied ? 'Changed objects:' : 'Object changes:'));
    for (const c of outcome.changes) {
      const colour = c.action === 'create' ? 'green' : c.action === 'update' ? 'yellow' : 'red';
      lines.push(`  ${paint(colour, `${ACTION_SIGN[c.action]} ${c.action}`)} ${c.kind}/${c.name}${c.fields?.length ? ` (${c.fields.join(', ')})` : ''}`);
    }
    lines.push('');
  }
  if (outcome.problems.length > 0) {
    lines.push(paint('red', 'Problems (nothing can be applied while there are any):'));
    for (const p of outcome.problems) lines.push(`  ${p.code} ${p.path}: ${p.message}`);
    lines.push('');
  }
  if (isRefused(outcome)) {
    lines.push(`Refused: nothing can be applied (${outcome.problems.length} problem(s), ${outcome.refused.length} cluster(s) that cannot take it).`);
  } else if (!hasChanges(outcome)) lines.push('No changes: the intent already is this document.');
  else lines.push(`${opts.applied ? 'Applied' : 'Plan'}: ${planSummary(outcome, opts.applied)}.`);
  if (opts.applyHint && hasChanges(outcome) && !isRefused(outcome)) lines.push(opts.applyHint);
  return lines.join('\n');
}

/** The plan as Markdown for a pull-request comment (diffs in collapsible ```diff blocks). */
export function planMarkdown(outcome: IntentOutcome, opts: { tenant: string; applyHint?: string }): string {
  const lines: string[] = [`### metalfleet plan for tenant \`${opts.tenant}\``, ''];
  if (isRefused(outcome)) lines.push('**This plan cannot be applied** (see the problems below).', '');
  lines.push(hasChanges(outcome) ? `**${planSummary(outcome)}.**` : 'No changes: the intent already is this document.', '');
  if (outcome.changes.length > 0) {
    lines.push('| action | kind | name | fields |', '|---|---|---|---|');
    for (const c of outcome.changes) lines.push(`| ${c.action} | ${c.kind} | ${c.name} | ${c.fields?.join(', ') ?? ''} |`);
    lines.push('');
  }
  for (const cluster of outcome.clusters) {
    const from = cluster.fromRevision === null ? 'new' : `r${cluster.fromRevision}`;
    const fence = cluster.diff.includes('```') ? '````' : '```';
    lines.push('<details>', `<summary>cluster <code>${cluster.cluster}</code> (${cluster.backend}): ${from} → r${cluster.toRevision}</summary>`, '',
      `${fence}diff`, withoutRule(cluster.diff).trimEnd(), fence, '', '</details>', '');
  }
  if (outcome.refused.length > 0) {
    lines.push('#### Clusters that would refuse it', '', '| cluster | code | path | message | remedy |', '|---|---|---|---|---|');
    for (const r of outcome.refused) {
      for (const p of problemList(r.problems)) {
        lines.push(`| ${r.cluster} | ${p.code ?? ''} | ${p.path ?? ''} | ${cellText(p.message)} | ${cellText(p.remedy)} |`);
      }
    }
    lines.push('');
  }
  if (outcome.problems.length > 0) {
    lines.push('#### Problems', '', '| code | path | message |', '|---|---|---|');
    for (const p of outcome.problems) lines.push(`| ${p.code} | ${p.path} | ${cellText(p.message)} |`);
    lines.push('');
  }
  if (opts.applyHint && hasChanges(outcome) && !isRefused(outcome)) lines.push(`<sub>${opts.applyHint}</sub>`, '');
  return lines.join('\n');
}

/** jsdiff starts a patch with a line of `=` when it has no index line: noise in a comment. */
const withoutRule = (diff: string) => diff.replace(/^=+\n/, '');
const cellText = (text: string | undefined) => (text ?? '').replaceAll('|', '\\|').replace(/\s+/g, ' ');
