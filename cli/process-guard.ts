// The last line of defence of a serving process. Node ends the process on a rejection nobody
// handled; a database connection lost under load can leave one behind inside the driver
// (postgres.js settles the queries of a dead connection, and one of them may have no awaiting
// caller left: seen in test/db/driver-faults.test.ts under heavy load). That must not take the API
// down with every agent's poll: such a rejection is logged and the process goes on (the pool
// reconnects by itself). Anything else is a bug: logged as fatal, and the process exits for its
// supervisor to restart it, as Node would have.
import { isDatabaseUnavailable } from '../api/errors.ts';

interface GuardLog {
  warn(entry: Record<string, unknown>): void;
  fatal(entry: Record<string, unknown>): void;
}

export function guardUnhandledRejections(log: GuardLog, exit: (code: number) => void = (code) => process.exit(code)): () => void {
  const onRejection = (reason: unknown) => {
    const err = reason instanceof Error ? reason : new Error(String(reason));
    if (isDatabaseUnavailable(reason)) {
      log.warn({
        msg: 'a lost database connection failed a query nobody awaited; carrying on',
        code: (reason as { code?: unknown }).code, err: err.message,
      });
      return;
    }
    log.fatal({ msg: 'unhandled rejection: exiting', err: err.stack ?? err.message });
    exit(1);
  };
  process.on('unhandledRejection', onRejection);
  return () => process.off('unhandledRejection', onRejection);
}
