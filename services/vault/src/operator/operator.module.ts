import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { SitesModule } from '../sites/sites.module';
import { OperatorCredentials } from './operator-credentials';
import { OperatorController } from './operator.controller';
import { OperatorGuard } from './operator.guard';

/**
 * The operator API (`/operator/...`): install-time and platform actions, opened only by an
 * operator credential. The accepted credentials are read and validated at start-up.
 */
@Module({
  imports: [SitesModule, AuditModule],
  controllers: [OperatorController],
  providers: [
    { provide: OperatorCredentials, useFactory: () => OperatorCredentials.fromEnv(process.env) },
    OperatorGuard,
  ],
})
export class OperatorModule {}
