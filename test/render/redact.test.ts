import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderCluster } from '../../render/index.ts';
import { redactConfig } from '../../render/redact.ts';
import { intentFor, SCENARIOS } from './scenarios.ts';

test('passwords are redacted from every backend, and nothing else changes', () => {
  for (const backend of ['metallb-frr', 'metallb-frr-k8s', 'frr'] as const) {
    const r = renderCluster(intentFor(backend, SCENARIOS.passwords!));
    assert.ok(r.ok);
    const redacted = redactConfig(backend, r.content);
    for (const secret of ['s3cret!#x', 'An0ther-one', btoa('s3cret!#x'), btoa('An0ther-one')]) assert.ok(!redacted.includes(secret), `${backend}: ${secret}`);
    assert.match(redacted, /<redacted>/);
    const strip = (text: string) => text.split('\n').filter((l) => !/password|<redacted>/.test(l));
    assert.deepEqual(strip(redacted), strip(r.content), backend);
  }
});
