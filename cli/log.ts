// The Node entry's log: JSON lines on stdout through pino (fast, and the de facto Node logger),
// level METALFLEET_LOG_LEVEL (default info). Access lines name the request id, method, registered
// route, status, latency, tenant and actor; never a token, password or body. Answered agent polls
// (the bulk of all requests) are logged at debug only.
import { pino, type Logger } from 'pino';
import type { AccessLogEntry } from '../api/context.ts';
import type { LogLevel } from './config.ts';

export function createLogger(level: LogLevel): Logger {
  return pino({ level, base: { service: 'metalfleet' }, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } });
}

const POLL_ROUTE = '/v1/agent/config';

/** The app's accessLog hook: info for people and writes, debug for agent polls. */
export function accessLogger(log: Logger): (entry: AccessLogEntry) => void {
  const debug = log.isLevelEnabled('debug');
  return (entry) => {
    if (entry.route === POLL_ROUTE && entry.status < 400) {
      if (debug) log.debug({ ...entry, msg: 'request' });
      return;
    }
    log.info({ ...entry, msg: 'request' });
  };
}
