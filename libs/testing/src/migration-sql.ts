import type { MigrationInterface, QueryRunner } from 'typeorm';

type MigrationClass = new () => MigrationInterface;

/**
 * The statements a migration runs, up then down, recorded from a runner bound to `schema` (SQL
 * comments left out: they change nothing a database runs). Snapshots of them show that a
 * migration may change how it writes its SQL, never what databases already migrated have run.
 */
export async function migrationSql(
  Migration: MigrationClass,
  schema: string,
): Promise<Record<'up' | 'down', string[]>> {
  const record = async (direction: 'up' | 'down'): Promise<string[]> => {
    const ran: string[] = [];
    const runner = {
      connection: { options: { schema } },
      query: (sql: string) => Promise.resolve(void ran.push(sql.replace(/^ *--.*\n/gm, ''))),
    } as unknown as QueryRunner;
    await new Migration()[direction](runner);
    return ran;
  };
  return { up: await record('up'), down: await record('down') };
}

/** `[name, migration]` rows of a service's migration list, for `it.each`. */
export function namedMigrations(migrations: MigrationClass[]): [string, MigrationClass][] {
  return migrations.map((Migration) => [new Migration().name ?? Migration.name, Migration]);
}
