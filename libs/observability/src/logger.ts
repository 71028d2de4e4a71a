import pino, { type Logger, type LoggerOptions } from 'pino';
import { safeError as classifyError } from '@cloud-connect/errors';
import { redactDeep, redactionPaths } from './redaction';

export type { Logger } from 'pino';

export interface LoggerSettings {
  service: string;
  level: string;
  /** Extra request headers carrying secrets (e.g. a per-integration API key header name). */
  secretHeaders?: string[];
  destination?: pino.DestinationStream;
}

export function loggerOptions(settings: LoggerSettings): LoggerOptions {
  return {
    level: settings.level,
    base: { service: settings.service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: redactionPaths(settings.secretHeaders), censor: '[redacted]' },
    formatters: {
      level: (label) => ({ level: label }),
      log: (object) => redactDeep(object) as Record<string, unknown>,
    },
    serializers: {
      err: pino.stdSerializers.err,
      // Only method, route and ids from requests: never query strings or bodies.
      req: (req: { id?: string; method?: string; url?: string }) => ({
        id: req.id,
        method: req.method,
        path: req.url?.split('?')[0],
      }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
    },
  };
}

/** Structured JSON logger with the redaction list applied. */
export function createLogger(settings: LoggerSettings): Logger {
  return pino(loggerOptions(settings), settings.destination ?? pino.destination({ sync: false }));
}

/**
 * What of an unexpected error may be logged: the category and code of `@cloud-connect/errors`'
 * `safeError` (the one safe-error path), its class and stack frames. The message is left out
 * because driver errors quote values (`Key (x)=(...) already exists`) that may be PHI.
 */
export function safeError(error: unknown): {
  type: string;
  category: string;
  code: string;
  frames?: string[];
} {
  const { category, code } = classifyError(error);
  if (!(error instanceof Error)) return { type: typeof error, category, code };
  return {
    type: error.name,
    category,
    code,
    frames: (error.stack ?? '')
      .split('\n')
      .slice(1)
      .map((line) => line.trim())
      .slice(0, 8),
  };
}
