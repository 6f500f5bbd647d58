// cli/api-types.ts, the typed client's types, is generated from /openapi.json and checked in: it must
// be exactly what the document generates now (CI checks the same with `npm run generate:client -- --check`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { openApiDocument } from '../../tools/openapi-document.ts';
import { CLIENT_TYPES_FILE, clientTypes, staleness } from '../../tools/openapi.ts';

test('cli/api-types.ts is what /openapi.json generates (else: npm run generate:client)', async () => {
  const generated = await clientTypes(await openApiDocument());
  const diff = staleness(readFileSync(CLIENT_TYPES_FILE, 'utf8'), generated);
  assert.equal(diff, undefined, `cli/api-types.ts is stale; run npm run generate:client and commit it:\n${diff?.slice(0, 4000)}`);
});
