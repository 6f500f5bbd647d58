// The metalfleet command's entry: bin/metalfleet.js runs it from source (through tsx), and
// `npm run build` bundles it into dist/metalfleet.mjs for production (no compiler in memory).
import { main } from './main.ts';

// `metalfleet --help | head`: a reader that stops early is not an error worth a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});
await main(process.argv.slice(2));
