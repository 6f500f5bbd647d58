// The shape of a refusal, shared by every validator: a stable code, the path of the offending
// value inside the intent, a message and a remedy. Pure.
import { GrammarError } from './grammar.ts';

export interface Problem {
  /** Stable kebab-case code; part of the API. */
  code: string;
  /** Path of the offending value inside the intent, e.g. `peers/edge/holdTime`. */
  path: string;
  message: string;
  remedy: string;
}

export class Collector {
  readonly problems: Problem[] = [];
  add(code: string, path: string, message: string, remedy: string) {
    this.problems.push({ code, path, message, remedy });
  }
  /** Adds problems found on one object, their paths made absolute. */
  addAll(prefix: string, problems: Problem[]) {
    for (const p of problems) this.problems.push({ ...p, path: p.path ? `${prefix}/${p.path}` : prefix });
  }
}

/** The parsed value, or undefined when the grammar refuses it (validation reports that). */
export function tryParse<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (err) {
    if (err instanceof GrammarError) return undefined;
    throw err;
  }
}
