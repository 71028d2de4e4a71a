import { Body, Controller, Get, HttpCode, Inject, Param, Post, UseGuards } from '@nestjs/common';
import { AllowAdmins, AuthGuard, type SiteCall, SiteCaller, STEP_UP_SECONDS } from '@cloud-connect/auth';
import { z } from 'zod';
import { ListDeliveries, ReplayDeliveries } from './delivery-admin';
import type { DeliveryView } from './copy-deliveries.repository';
// Bodies are typed as the use cases' input; the use cases validate them (zod) before anything else.
import { IntegrationError, type CreateIntegrationInput, type IntegrationView } from './integration';
import {
  CreateIntegration,
  ListIntegrations,
  RotateIntegrationKey,
  SetIntegrationEnabled,
  type IssuedKey,
} from './integration-use-cases';

function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new IntegrationError('invalid-integration', 'the body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

/** POST …/:id/deliveries/replay body: one dead-lettered delivery, or (no id) all of them. */
export const replayDeliveriesBody = z.object({ deliveryId: z.string().optional() });

/**
 * The site admins' integrations registry. Thin: each route calls one use case. Keys appear in a
 * response only when we generated them, once (create, rotate-key).
 */
@Controller('admin/sites/:site/integrations')
@UseGuards(AuthGuard)
@AllowAdmins({ siteParam: 'site' })
export class IntegrationsController {
  constructor(
    @Inject(CreateIntegration) private readonly create: CreateIntegration,
    @Inject(ListIntegrations) private readonly list: ListIntegrations,
    @Inject(SetIntegrationEnabled) private readonly setEnabled: SetIntegrationEnabled,
    @Inject(RotateIntegrationKey) private readonly rotate: RotateIntegrationKey,
    @Inject(ListDeliveries) private readonly deliveries: ListDeliveries,
    @Inject(ReplayDeliveries) private readonly replay: ReplayDeliveries,
  ) {}

  @Get()
  async index(@Param('site') site: string): Promise<{ integrations: IntegrationView[] }> {
    return { integrations: await this.list.execute(site) };
  }

  @Post()
  @HttpCode(201)
  @AllowAdmins({ siteParam: 'site', recentAuthSeconds: STEP_UP_SECONDS, mfa: true })
  register(@SiteCaller() call: SiteCall, @Body() body: unknown): Promise<IssuedKey> {
    return this.create.execute(call.site, objectBody(body) as CreateIntegrationInput, call.actor);
  }

  @Post(':id/disable')
  @HttpCode(200)
  async disable(@SiteCaller() call: SiteCall, @Param('id') id: string) {
    return { integration: await this.setEnabled.execute(call.site, id, false, call.actor) };
  }

  @Post(':id/enable')
  @HttpCode(200)
  @AllowAdmins({ siteParam: 'site', recentAuthSeconds: STEP_UP_SECONDS })
  async enable(@SiteCaller() call: SiteCall, @Param('id') id: string) {
    return { integration: await this.setEnabled.execute(call.site, id, true, call.actor) };
  }

  @Post(':id/rotate-key')
  @HttpCode(200)
  @AllowAdmins({ siteParam: 'site', recentAuthSeconds: STEP_UP_SECONDS, mfa: true })
  rotateKey(
    @SiteCaller() call: SiteCall,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Promise<IssuedKey> {
    return this.rotate.execute(call.site, id, body === undefined ? {} : objectBody(body), call.actor);
  }

  @Get(':id/deliveries')
  async deliveryLog(
    @Param('site') site: string,
    @Param('id') id: string,
  ): Promise<{ deliveries: DeliveryView[] }> {
    return { deliveries: await this.deliveries.execute(site, id) };
  }

  @Post(':id/deliveries/replay')
  @HttpCode(200)
  async replayDeadLetters(
    @SiteCaller() call: SiteCall,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Promise<{ replayed: string[] }> {
    const parsed = replayDeliveriesBody.safeParse(
      body && typeof body === 'object' && !Array.isArray(body) ? body : {},
    );
    if (!parsed.success) {
      throw new IntegrationError('invalid-integration', 'deliveryId must be a string');
    }
    return { replayed: await this.replay.execute(call.site, id, parsed.data.deliveryId ?? null, call.actor) };
  }
}
