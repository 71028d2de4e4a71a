import type { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from './data-source';

/** The SQL of a migration, written against the service's schema `s` (quoted as `"${s}"`). */
export interface SqlMigrationSteps {
  /** The statements that apply it, run in order. */
  up: (s: string) => string[];
  /** The statements that undo it, run in order (dependants first). */
  down: (s: string) => string[];
}

/**
 * A TypeORM migration that runs plain SQL statements in the schema of the data source that runs
 * it, so that each migration file holds only its SQL. `name` must end with the migration's
 * timestamp (TypeORM orders and records migrations by it); the returned class is the value to list
 * in the service's migrations.
 */
export function sqlMigration(name: string, steps: SqlMigrationSteps): new () => MigrationInterface {
  async function run(runner: QueryRunner, statements: (s: string) => string[]): Promise<void> {
    for (const statement of statements(schemaOf(runner))) await runner.query(statement);
  }
  return class SqlMigration implements MigrationInterface {
    readonly name = name;

    async up(runner: QueryRunner): Promise<void> {
      await run(runner, steps.up);
    }

    async down(runner: QueryRunner): Promise<void> {
      await run(runner, steps.down);
    }
  };
}

/** The `down` of a migration that created tables: drops them in the order given (dependants first). */
export function dropTables(...tables: string[]): SqlMigrationSteps['down'] {
  return (s) => tables.map((table) => `DROP TABLE "${s}".${table}`);
}

/**
 * A `CREATE TABLE` statement in the service schema `s`: `columns` maps each column, in order, to
 * its SQL type and constraints; `tableConstraints` (a composite key, `UNIQUE (…)`) follow them.
 */
export function createTable(
  s: string,
  table: string,
  columns: Record<string, string>,
  ...tableConstraints: string[]
): string {
  const definitions = [
    ...Object.entries(columns).map(([column, type]) => `${column} ${type}`),
    ...tableConstraints,
  ];
  return `
      CREATE TABLE "${s}".${table} (
        ${definitions.join(',\n        ')}
      )`;
}

/**
 * A migration that creates tables (with their indexes): `up` lists its statements, and its `down`
 * drops every table `up` creates, the last created first (indexes go with their tables).
 */
export function tablesMigration(name: string, up: (s: string) => string[]): new () => MigrationInterface {
  return sqlMigration(name, {
    up,
    down: (s) =>
      dropTables(
        ...up(s)
          .map((statement) => /^\s*CREATE TABLE "[^"]+"\.(\w+)/.exec(statement)?.[1])
          .filter((table) => table !== undefined)
          .reverse(),
      )(s),
  });
}
