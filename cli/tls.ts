// HTTPS for `metalfleet serve` without an ingress in front: METALFLEET_TLS_CERT and
// METALFLEET_TLS_KEY name PEM files; when either file changes (a renewed certificate, say from
// cert-manager's mounted Secret) the server takes the new pair for new connections, with no
// restart. A pair that does not load is refused at start and ignored (with an error line) later.
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { createServer } from 'node:https';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { ConfigError, type NodeConfig } from './config.ts';

export interface TlsFiles { cert: string; key: string }

/** What a certificate reload needs of the listening server. */
export interface TlsListener { setSecureContext(options: SecureContextOptions): void }

function readPair(files: TlsFiles): { cert: Buffer; key: Buffer } {
  const pair = { cert: readFileSync(files.cert), key: readFileSync(files.key) };
  createSecureContext(pair); // throws on a certificate or key that does not load, or that do not match
  return pair;
}

/** The node-server options for HTTPS, or none; and a function that starts watching for renewals. */
export function tlsServerOptions(config: NodeConfig): { options: Record<string, unknown>; watch: (server: TlsListener, log: (entry: Record<string, unknown>) => void) => () => void } | undefined {
  const files = config.tls;
  if (!files) return undefined;
  let pair: { cert: Buffer; key: Buffer };
  try {
    pair = readPair(files);
  } catch (err) {
    throw new ConfigError(`METALFLEET_TLS_CERT/METALFLEET_TLS_KEY: ${(err as Error).message}`);
  }
  return {
    options: { createServer, serverOptions: pair },
    watch(server, log) {
      const reload = () => {
        try {
          server.setSecureContext(readPair(files));
          log({ msg: 'TLS certificate reloaded', cert: files.cert });
        } catch (err) {
          log({ msg: 'TLS certificate not reloaded: keeping the previous one', error: (err as Error).message });
        }
      };
      watchFile(files.cert, { interval: 2_000 }, reload);
      watchFile(files.key, { interval: 2_000 }, reload);
      return () => {
        unwatchFile(files.cert);
        unwatchFile(files.key);
      };
    },
  };
}
