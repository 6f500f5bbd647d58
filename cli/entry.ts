// The metalfleet command's entry: bin/metalfleet.js runs it from source (through tsx), and
// `npm run build` bundles it into dist/metalfleet.mjs for production (no compiler in memory).
import { main } from './main.ts';

await main(process.argv.slice(2));
