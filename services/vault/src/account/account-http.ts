import { HttpException } from '@nestjs/common';
import type { z } from 'zod';

/** A 400 naming each field: `details` holds `field: message` lines the console puts next to the field. */
export function invalid(error: z.ZodError): HttpException {
  const details = error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`);
  return new HttpException(
    { statusCode: 400, error: 'invalid-request', message: details.join('; '), details },
    400,
  );
}

export function parse<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) throw invalid(parsed.error);
  return parsed.data;
}
