// `--ca-file`: the agent trusts exactly the CAs in a PEM bundle for the control plane's certificate,
// for a control plane serving a private CA's certificate (METALFLEET_TLS_CERT, or an ingress with
// one). undici's own fetch with an Agent whose TLS `ca` is the bundle: Node's global fetch takes no
// per-call CA, and NODE_EXTRA_CA_CERTS only adds to the system store, process-wide, at start.
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { SetupError } from './errors.ts';


/** The certificates in a PEM bundle; refuses a file with none, so a typo fails at start, not at every poll. */
export function readCaBundle(path: string): string {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SetupError(`--ca-file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new SetupError(`--ca-file ${path}: no PEM certificate in it`);
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch {
      throw new SetupError(`--ca-file ${path}: a certificate in it does not parse`);
    }
  }
  return blocks.join('\n');
}

/**
 * A fetch that verifies the server against the bundle only. The bundle is checked now; undici is
 * loaded on the first request, so that agents without --ca-file never hold it in memory.
 */
export function fetchTrusting(caFile: string): typeof fetch {
  const ca = readCaBundle(caFile);
  let client: Promise<{ dispatcher: import('undici').Agent; fetch: typeof import('undici').fetch }> | undefined;
  return (async (input: string | URL, init?: RequestInit) => {
    client ??= import('undici').then((undici) => ({ dispatcher: new undici.Agent({ connect: { ca } }), fetch: undici.fetch }));
    const { dispatcher, fetch: undiciFetch } = await client;
    return undiciFetch(input, { ...(init as Parameters<typeof undiciFetch>[1]), dispatcher });
  }) as typeof fetch;
}
