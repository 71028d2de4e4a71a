import type { MigrationInterface, QueryRunner } from 'typeorm';
import { assertIdentifier, schemaOf } from './data-source';

/**
 * A migration that adds columns to one table of the service's schema (and drops them on the way
 * down): `columns` maps each new column to its SQL type (nullable unless the type says otherwise).
 * `name` is the migration's name in the migrations table (`<What><timestamp>`).
 */
export function addColumnsMigration(
  name: string,
  table: string,
  columns: Record<string, string>,
): new () => MigrationInterface {
  for (const identifier of [table, ...Object.keys(columns)]) assertIdentifier(identifier);
  const entries = Object.entries(columns);
  return class implements MigrationInterface {
    name = name;

    async up(runner: QueryRunner): Promise<void> {
      const add = entries.map(([column, type]) => `ADD COLUMN ${column} ${type}`).join(', ');
      await runner.query(`ALTER TABLE "${schemaOf(runner)}".${table} ${add}`);
    }

    async down(runner: QueryRunner): Promise<void> {
      const drop = entries.map(([column]) => `DROP COLUMN ${column}`).join(', ');
      await runner.query(`ALTER TABLE "${schemaOf(runner)}".${table} ${drop}`);
    }
  };
}
