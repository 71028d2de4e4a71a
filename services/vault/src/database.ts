import { AttemptCounters1732300090000, MessagingTables1732300000000 } from '@cloud-connect/db';
import { AccountTokens1732300091000 } from './account/account.migration';
import { AuditEntries1732300005000, AuditHashAlg1732300092500 } from './audit/audit.migration';
import { SekEvents1732300004000 } from './sek/sek.migration';
import { SekRemovals1732300091100 } from './sek/sek-removals.migration';
import { SiteEntity } from './sites/site.entity';
import { AdminSecurity1732300092000 } from './identity/admin-security.migration';
import { Identity1732300002000 } from './identity/identity.migration';
import { Sites1732300001000 } from './sites/sites.migration';

/** Entities and migrations of the `vault` schema (used by the service and by the admin CLI). */
export const VAULT_ENTITIES = [SiteEntity];
export const VAULT_MIGRATIONS = [
  MessagingTables1732300000000,
  Sites1732300001000,
  Identity1732300002000,
  SekEvents1732300004000,
  AuditEntries1732300005000,
  AttemptCounters1732300090000,
  AccountTokens1732300091000,
  SekRemovals1732300091100,
  AdminSecurity1732300092000,
  AuditHashAlg1732300092500,
];
