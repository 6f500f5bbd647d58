// SHA-256 for the render core: revision content hashes and short stable suffixes for names a daemon
// limits in length. node:crypto: Node, and Workers under the nodejs_compat flag (wrangler.toml); a
// rendered host config can run to megabytes and the native hash is an order of magnitude faster
// than a JS one.
import * as nodeCrypto from 'node:crypto';

// The one-shot hash (Node ≥ 20.12) skips a Hash object per call: agents' assertions are hashed
// on every request. Where it is missing (some Workers runtimes) the streaming API does the same.
const oneShotHash = (nodeCrypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;

export function sha256Hex(content: string): string {
  return oneShotHash ? oneShotHash('sha256', content, 'hex') : nodeCrypto.createHash('sha256').update(content, 'utf8').digest('hex');
}
