#!/usr/bin/env node
// The metalfleet command, from source: TypeScript through tsx's loader. Production runs the
// bundle instead (`npm run build`, then `node dist/metalfleet.mjs`), which needs no compiler.
import { register } from 'tsx/esm/api';

register();
await import('../cli/entry.ts');
