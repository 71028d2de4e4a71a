import { Public } from '@cloud-connect/auth';
import { SERVICE_CONFIG } from '@cloud-connect/service-kit';
import { Controller, Get, Header, HttpCode, Inject, Post, Query } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { SchedulerConfig } from '../config';
import { OptOutTokens } from '../reminders/opt-out-token';
import { RemindersRepository } from '../reminders/reminders.repository';

const PAGE = (title: string, body: string): string =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body>${body}</body></html>`;

/**
 * The "stop reminders" link every reminder carries (public, signed). GET shows a confirmation
 * (link scanners that fetch it change nothing); POST records the opt-out for that patient at that
 * site. English and French on one page.
 */
@Controller('public/reminders/stop')
@Public('a patient follows the signed link of a reminder; the token is the credential')
export class OptOutController {
  private readonly reminders: RemindersRepository;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(SERVICE_CONFIG) config: SchedulerConfig,
    private readonly tokens: OptOutTokens,
  ) {
    this.reminders = new RemindersRepository(config.DATABASE_SCHEMA);
  }

  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  confirm(@Query('t') token: string | undefined): string {
    if (!token || !this.tokens.verify(token))
      return PAGE('Invalid link', '<p>This link is not valid. / Ce lien n’est pas valide.</p>');
    const t = encodeURIComponent(token);
    return PAGE(
      'Stop reminders',
      `<form method="post" action="?t=${t}"><p>Stop appointment reminders from this clinic?</p>
<p>Ne plus recevoir de rappels de rendez-vous de cette clinique?</p>
<button type="submit">Stop / Arrêter</button></form>`,
    );
  }

  @Post()
  @HttpCode(200)
  @Header('content-type', 'text/html; charset=utf-8')
  async stop(@Query('t') token: string | undefined): Promise<string> {
    const claims = token ? this.tokens.verify(token) : null;
    if (!claims) return PAGE('Invalid link', '<p>This link is not valid. / Ce lien n’est pas valide.</p>');
    await this.reminders.optOut(this.dataSource.manager, claims.siteNumber, claims.patientRef, 'all');
    return PAGE(
      'Reminders stopped',
      '<p>You will no longer receive appointment reminders from this clinic.</p><p>Vous ne recevrez plus de rappels de rendez-vous de cette clinique.</p>',
    );
  }
}
