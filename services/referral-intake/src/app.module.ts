import { Topics } from '@cloud-connect/contracts';
import { serviceAppModule, type ServiceContext } from '@cloud-connect/service-kit';
import { SERVICE_NAME, type IntakeConfig } from './config';
import { ChartContentModule } from './chart-content/referral-content.controller';
import { CopiesModule } from './copies/copies.module';
import { FormsModule } from './forms/forms.module';
import { CryptoModule } from './crypto/crypto.module';
import { FhirApiModule } from './fhir-api/fhir-api.module';
import { OAuthModule } from './oauth/oauth.module';
import { INTAKE_MIGRATIONS } from './database';
import { IntegrationsModule } from './integrations/integrations.module';
import { ReferralsModule } from './referrals/referrals.module';

export const AppModule = serviceAppModule(SERVICE_NAME, (context: ServiceContext<IntakeConfig>) => ({
  migrations: INTAKE_MIGRATIONS,
  topics: [
    Topics.siteRegistered,
    Topics.referralReceived,
    Topics.referralStatusChanged,
    Topics.appointmentChanged,
    Topics.auditRecorded,
    Topics.formCompleted,
    Topics.appointmentsSynced,
  ],
  // Vault holds only this service's own key (read once at start-up); the request paths do
  // not touch it, so a Vault outage must not take intake out of rotation: senders get the
  // FHIR 503 + Retry-After from the vault service's answer instead.
  vault: { ...context.config, inReadiness: false },
  adminKeys: 'jwks',
  siteReplica: true,
  modules: [
    CryptoModule,
    IntegrationsModule,
    ReferralsModule,
    CopiesModule,
    OAuthModule,
    FhirApiModule,
    ChartContentModule,
    FormsModule,
  ],
}));
