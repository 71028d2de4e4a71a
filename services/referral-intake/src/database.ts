import { AttemptCounters1732300090000, MessagingTables1732300000000 } from '@cloud-connect/db';
import { SiteReplicaTable1732300000100 } from '@cloud-connect/service-kit';
import { CopyDeliveries1732300003200 } from './copies/copies.migration';
import { CompletedForms1732300004300, KioskCheckIns1732300090100 } from './forms/forms.migration';
import { SyncedAppointments1732300004400 } from './fhir-api/synced-appointments.migration';
import { Integrations1732300003000 } from './integrations/integrations.migration';
import { OAuthClients1732300004000 } from './oauth/oauth.migration';
import { OAuthSigningKeysServiceSealed1732300004100 } from './oauth/signing-keys-sealing.migration';
import { ReferralEchoKey1732300004300, Referrals1732300003100 } from './referrals/referrals.migration';
import { StatusUpdates1732300004200 } from './status-updates/status-updates.migration';

/** Migrations of the `intake` schema (used by the service and by the admin CLI). */
export const INTAKE_MIGRATIONS = [
  MessagingTables1732300000000,
  SiteReplicaTable1732300000100,
  Integrations1732300003000,
  Referrals1732300003100,
  CopyDeliveries1732300003200,
  OAuthClients1732300004000,
  OAuthSigningKeysServiceSealed1732300004100,
  StatusUpdates1732300004200,
  ReferralEchoKey1732300004300,
  CompletedForms1732300004300,
  SyncedAppointments1732300004400,
  AttemptCounters1732300090000,
  KioskCheckIns1732300090100,
];
