import { migrationSql, namedMigrations } from '@cloud-connect/testing';
import { INTAKE_MIGRATIONS } from './database';

describe('INTAKE_MIGRATIONS', () => {
  it.each(namedMigrations(INTAKE_MIGRATIONS))('%s runs the SQL it always ran', async (_name, Migration) => {
    expect(await migrationSql(Migration, 'intake')).toMatchSnapshot();
  });
});
