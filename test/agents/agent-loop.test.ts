// The agent's loop over many rounds: what it keeps per round must not grow with their number.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { Agent, sleepUnlessAborted, type AgentState } from '../../agents/agent.ts';
import type { PollResult, StatusReport } from '../../agents/client.ts';

/** A control plane that answers every poll 304 and takes every report. */
function notModifiedControlPlane() {
  const reports: StatusReport[] = [];
  return {
    reports,
    client: {
      refuseUnboundSignatures: false,
      fetchConfig: async (etag?: string): Promise<PollResult> => ({ status: 304, etag: etag ?? '"r1"', pollIntervalSeconds: undefined }),
      reportStatus: async (report: StatusReport) => { reports.push(report); },
    },
  };
}

test('fifty rounds leave no abort listener behind: one at most while waiting, none after', async () => {
  const controlPlane = notModifiedControlPlane();
  const stop = new AbortController();
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on('warning', onWarning);
  let state: AgentState = { etag: '"r1"', appliedRevision: 1 };
  const listenersSeen: number[] = [];
  const agent = new Agent({
    client: controlPlane.client, agentVersion: 'test', log: () => {}, defaultIntervalMs: 1,
    applier: { apply: async () => ({ ok: true }) },
    health: {
      collect: async () => {
        listenersSeen.push(getEventListeners(stop.signal, 'abort').length);
        if (listenersSeen.length === 50) stop.abort();
        return { sessions: [] };
      },
    },
    state: { load: () => state, save: (s) => { state = s; } },
  });
  await agent.run(stop.signal);
  process.off('warning', onWarning);
  assert.equal(controlPlane.reports.length, 50);
  // Each round starts after the previous wait ended: its listener is gone by then.
  assert.deepEqual(new Set(listenersSeen), new Set([0]));
  assert.deepEqual(warnings.filter((w) => w.name === 'MaxListenersExceededWarning'), []);
});

test('the wait ends early on abort, and at once when already aborted', async () => {
  const stop = new AbortController();
  const waiting = sleepUnlessAborted(60_000, stop.signal);
  assert.equal(getEventListeners(stop.signal, 'abort').length, 1);
  stop.abort();
  await waiting;
  assert.equal(getEventListeners(stop.signal, 'abort').length, 0);
  await sleepUnlessAborted(60_000, stop.signal);
});
