import { AllowAdmins, AuthGuard, type SiteCall, SiteCaller } from '@cloud-connect/auth';
import { auditEvent, MessagingService, SERVICE_CONFIG } from '@cloud-connect/service-kit';
import {
  BadRequestException,
  Body,
  Controller,
  Get,
  Inject,
  Param,
  Put,
  Query,
  UseGuards,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { SchedulerConfig } from '../config';
import { z } from 'zod';
import { reminderPolicySchema } from '../reminders/reminder-policy';
import { RemindersRepository } from '../reminders/reminders.repository';
import { SchedulesRepository } from '../schedules/schedules.repository';

const siteNumber = z.string().regex(/^[1-9][0-9]{0,9}$/);

function site(value: string): string {
  if (!siteNumber.safeParse(value).success)
    throw new BadRequestException({ code: 'invalid-site', message: 'site: a site number is 1 to 10 digits' });
  return value;
}

function invalid(code: string, error: z.ZodError): never {
  throw new BadRequestException({
    code,
    message: 'the request is not valid',
    details: error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`),
  });
}

/** PUT /admin/sites/:site/reminders/policy body. */
export const putPolicyDto = z.object({ policy: reminderPolicySchema }).strict();
/** GET /admin/sites/:site/reminders query. */
export const listRemindersDto = z
  .object({
    appointment: z.string().min(1).max(200).optional(),
    status: z.enum(['scheduled', 'sent', 'cancelled', 'failed']).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict();

/**
 * Admin API of a site's schedules and reminders (site admins of that site). Listings carry no
 * contact detail: an appointment id, times, channel, status and why.
 */
@Controller('admin/sites/:site')
@UseGuards(AuthGuard)
@AllowAdmins({ siteParam: 'site' })
export class SchedulerAdminController {
  private readonly schedules: SchedulesRepository;
  private readonly reminders: RemindersRepository;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(SERVICE_CONFIG) config: SchedulerConfig,
    private readonly messaging: MessagingService,
  ) {
    const schema = config.DATABASE_SCHEMA;
    this.schedules = new SchedulesRepository(schema);
    this.reminders = new RemindersRepository(schema);
  }

  @Get('schedules')
  async listSchedules(@Param('site') siteParam: string): Promise<unknown> {
    const s = site(siteParam);
    const rows = await this.schedules.list(this.dataSource.manager, s);
    return {
      site: s,
      schedules: rows.map((r) => ({
        kind: r.kind,
        timezone: r.timezone,
        nextRunAt: r.nextRunAt.toISOString(),
        lastSlotAt: r.lastSlotAt?.toISOString() ?? null,
        lastRunAt: r.lastRunAt?.toISOString() ?? null,
        lastRequestId: r.lastRequestId,
        runs: r.runs,
      })),
    };
  }

  @Get('reminders/policy')
  async getPolicy(@Param('site') siteParam: string): Promise<unknown> {
    const s = site(siteParam);
    return { site: s, ...(await this.reminders.policy(this.dataSource.manager, s)) };
  }

  @Put('reminders/policy')
  async putPolicy(@SiteCaller() call: SiteCall, @Body() body: unknown): Promise<unknown> {
    const s = site(call.site);
    const parsed = putPolicyDto.safeParse(body ?? {});
    if (!parsed.success) invalid('invalid-policy', parsed.error);
    const { actor } = call;
    const version = await this.messaging.transaction(async (tx) => {
      const v = await this.reminders.savePolicy(tx, s, parsed.data.policy, actor);
      await this.messaging.outbox.enqueue(
        tx,
        auditEvent(this.messaging.registry, s, {
          actor,
          action: 'reminders.policy.set',
          target: `site/${s}/reminders/policy`,
        }),
      );
      return v;
    });
    return { site: s, policy: parsed.data.policy, version };
  }

  @Get('reminders')
  async listReminders(@Param('site') siteParam: string, @Query() query: unknown): Promise<unknown> {
    const s = site(siteParam);
    const parsed = listRemindersDto.safeParse(query ?? {});
    if (!parsed.success) invalid('invalid-query', parsed.error);
    const rows = await this.reminders.list(this.dataSource.manager, s, {
      limit: parsed.data.limit,
      ...(parsed.data.appointment ? { appointmentId: parsed.data.appointment } : {}),
      ...(parsed.data.status ? { status: parsed.data.status } : {}),
    });
    return {
      site: s,
      reminders: rows.map((r) => ({
        id: r.id,
        appointmentId: r.appointmentId,
        kind: r.kind,
        channel: r.channel,
        leadMinutes: r.leadMinutes,
        appointmentStart: r.appointmentStart?.toISOString() ?? null,
        dueAt: r.dueAt.toISOString(),
        status: r.status,
        reason: r.reason,
        sentAt: r.sentAt?.toISOString() ?? null,
      })),
    };
  }
}
