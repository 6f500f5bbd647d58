// A scripted agent: enrolls with an enrollment token, polls the config twice (200, then 304 with
// the ETag), and reports the applied revision with two BGP sessions. It applies nothing and its
// sessions are made up: it shows the protocol from the agent's side with the project's own client.
//
//   node --import tsx agents/examples/scripted-agent.ts --url http://127.0.0.1:8080 --token <enrollment token>
import { parseArgs } from 'node:util';
import { AgentClient, generateAgentKey } from '../client.ts';

const { values } = parseArgs({ options: { url: { type: 'string', default: 'http://127.0.0.1:8080' }, token: { type: 'string' } } });
if (!values.token) {
  console.error('usage: scripted-agent.ts --url URL --token ENROLLMENT_TOKEN');
  process.exit(2);
}

const agent = new AgentClient({ baseUrl: values.url! });
const identity = await agent.enroll(values.token, {
  privateJwk: await generateAgentKey(),
  agentVersion: 'scripted-0.1',
  capabilities: { frrVersion: '8.4.4', nodes: [{ name: 'node-a', labels: {} }, { name: 'node-b', labels: {} }] },
});
console.log(`enrolled: agent ${identity.agentId} for cluster ${identity.clusterId}`);

const first = await agent.fetchConfig();
if (first.status !== 200) throw new Error(`expected a config, got ${first.status}`);
console.log(`poll 1: 200 revision ${first.config.revision} (${first.config.backend}, sha256 ${first.config.sha256.slice(0, 16)}…, signature verified)`);

const second = await agent.fetchConfig(first.etag);
console.log(`poll 2: ${second.status} (ETag ${first.etag})`);

await agent.reportStatus({
  appliedRevision: first.config.revision,
  sessions: [
    { node: 'node-a', peer: '192.0.2.1', bgpState: 'Established', bfdState: 'up', uptimeSeconds: 3600, prefixesReceived: 0, prefixesSent: 2 },
    { node: 'node-b', peer: '192.0.2.1', bgpState: 'Established', bfdState: 'up', uptimeSeconds: 3550, prefixesReceived: 0, prefixesSent: 2 },
  ],
});
console.log('reported: revision applied, 2 sessions Established');
