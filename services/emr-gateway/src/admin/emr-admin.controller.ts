import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, UseGuards } from '@nestjs/common';
import {
  AllowAdmins,
  AllowServices,
  AuthGuard,
  type SiteCall,
  SiteCaller,
  STEP_UP_SECONDS,
} from '@cloud-connect/auth';
import { z } from 'zod';
import { CommandAdmin } from '../commands/command-admin';
import { CommandError } from '../commands/command-error';
import { EmrConnections } from '../connections/emr-connections';
import { EmrSettingsService, SettingsError } from '../settings/emr-settings.service';
import { EmrStatus } from '../status/emr-status';
import { RequestSync } from '../sync/request-sync';

const siteNumber = z.string().regex(/^[1-9][0-9]{0,9}$/);

function site(value: string): string {
  if (!siteNumber.safeParse(value).success) {
    throw new CommandError('invalid-site', 'site: a site number is 1 to 10 digits');
  }
  return value;
}

function commandIdOf(value: string): string {
  if (!z.uuid().safeParse(value).success) throw new CommandError('invalid-command-id', 'commandId: a UUID');
  return value;
}

/** PUT /admin/sites/:site/emr/settings body. */
export const settingsBody = z.object({
  settings: z.unknown(),
  expectedVersion: z.number().int().min(0).optional(),
});
/** POST /admin/sites/:site/emr/sync body. */
export const syncBody = z.object({ scope: z.enum(['recent', 'full']).default('recent') });
/** POST /admin/sites/:site/emr/commands/:commandId/release body. */
export const releaseBody = z.object({ patientId: z.string().trim().min(1).max(64) }).strict();

/**
 * Admin API of a site's EMR: connection (connect / reconfigure / status / disconnect), settings,
 * manual sync, dead letters and their replay. Thin: the use cases hold the rules.
 */
@Controller('admin/sites/:site/emr')
@UseGuards(AuthGuard)
@AllowAdmins({ siteParam: 'site' })
export class EmrAdminController {
  constructor(
    private readonly connections: EmrConnections,
    private readonly emrStatus: EmrStatus,
    private readonly settings: EmrSettingsService,
    private readonly commands: CommandAdmin,
    private readonly requestSync: RequestSync,
  ) {}

  /**
   * Connects or reconfigures: authenticates at once, then stores the credentials in Vault. A new
   * base URL is where PHI goes next: a sign-in within the last 5 minutes is required (step-up).
   */
  @Put()
  @AllowAdmins({ siteParam: 'site', recentAuthSeconds: STEP_UP_SECONDS })
  async connect(@SiteCaller() call: SiteCall, @Body() body: unknown): Promise<unknown> {
    const s = site(call.site);
    const connection = await this.connections.connect(s, body, call.actor);
    return { connection };
  }

  @Get()
  status(@Param('site') siteParam: string): Promise<Record<string, unknown>> {
    return this.emrStatus.status(site(siteParam));
  }

  @Delete()
  @HttpCode(204)
  async disconnect(@SiteCaller() call: SiteCall): Promise<void> {
    await this.connections.disconnect(site(call.site), call.actor);
  }

  @Get('providers')
  async providers(@Param('site') siteParam: string): Promise<unknown> {
    return { providers: (await this.connections.view(site(siteParam))).providers };
  }

  @Get('settings')
  getSettings(@Param('site') siteParam: string): Promise<unknown> {
    return this.settings.get(site(siteParam));
  }

  @Put('settings')
  async putSettings(@SiteCaller() call: SiteCall, @Body() body: unknown): Promise<unknown> {
    const parsed = settingsBody.safeParse(body ?? {});
    if (!parsed.success) {
      throw new SettingsError('invalid-settings', 'body is { settings, expectedVersion? }');
    }
    return this.settings.update(
      site(call.site),
      parsed.data.settings,
      call.actor,
      parsed.data.expectedVersion,
    );
  }

  /** "Sync now" (recent or full): queues a sync request like the scheduler does. */
  @Post('sync')
  @HttpCode(202)
  @AllowServices('scheduler')
  async sync(@SiteCaller() call: SiteCall, @Body() body: unknown): Promise<unknown> {
    const s = site(call.site);
    const parsed = syncBody.safeParse(body ?? {});
    if (!parsed.success) throw new CommandError('invalid-scope', 'scope is recent or full');
    return this.requestSync.execute(s, parsed.data.scope, call.actor);
  }

  @Get('commands/dead-letters')
  async deadLetters(@Param('site') siteParam: string): Promise<unknown> {
    return { deadLetters: await this.commands.deadLetters(site(siteParam)) };
  }

  /** Commands waiting for an admin to pick the patient's chart (no chart, or several, matched). */
  @Get('commands/held')
  async held(@Param('site') siteParam: string): Promise<unknown> {
    return { held: await this.commands.held(site(siteParam)) };
  }

  /** Releases a held command into the chart the admin picked (an EMR chart id); audited. */
  @Post('commands/:commandId/release')
  @HttpCode(202)
  async release(
    @SiteCaller() call: SiteCall,
    @Param('commandId') commandId: string,
    @Body() body: unknown,
  ): Promise<unknown> {
    const s = site(call.site);
    const id = commandIdOf(commandId);
    const parsed = releaseBody.safeParse(body);
    if (!parsed.success)
      throw new CommandError('invalid-patient-id', "patientId: the EMR's id of the patient's chart");
    await this.commands.release(s, id, parsed.data.patientId, call.actor);
    return { released: id };
  }

  @Get('commands/:commandId')
  async command(@Param('site') siteParam: string, @Param('commandId') commandId: string): Promise<unknown> {
    return this.commands.state(site(siteParam), commandIdOf(commandId));
  }

  /** Operator replay of a dead-lettered command. */
  @Post('commands/:commandId/replay')
  @HttpCode(202)
  async replay(@SiteCaller() call: SiteCall, @Param('commandId') commandId: string): Promise<unknown> {
    const s = site(call.site);
    const id = commandIdOf(commandId);
    await this.commands.replay(s, id, call.actor);
    return { replayed: id };
  }
}
