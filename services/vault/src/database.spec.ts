import { migrationSql, namedMigrations } from '@cloud-connect/testing';
import { VAULT_MIGRATIONS } from './database';

describe('VAULT_MIGRATIONS', () => {
  it.each(namedMigrations(VAULT_MIGRATIONS))('%s runs the SQL it always ran', async (_name, Migration) => {
    expect(await migrationSql(Migration, 'vault')).toMatchSnapshot();
  });
});
