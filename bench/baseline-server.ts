// The baseline: a bare Hono app on @hono/node-server answering a constant. Measured with the same
// load generator, in the same run, so that the poll figures are ratios, not absolutes.
import { Hono } from 'hono';
import { serve } from '@hono/node-server';

const app = new Hono();
app.get('*', (c) => c.body(null, 304));
const port = Number(process.argv[2] ?? 0);
serve({ fetch: app.fetch, hostname: '127.0.0.1', port }, (info) => console.log(`listening ${info.port}`));
