import { assertIdentifier } from './data-source';

/** The schema-qualified names (`"schema".table`) of a repository's tables, by the names it uses. */
export type SchemaTables<K extends string> = Readonly<Record<K, string>>;

/** Qualifies each of a repository's tables with the service schema (both checked as identifiers). */
export function schemaTables<K extends string>(schema: string, tables: Record<K, string>): SchemaTables<K> {
  const s = assertIdentifier(schema);
  const qualified = {} as Record<K, string>;
  for (const [key, table] of Object.entries(tables) as [K, string][]) {
    qualified[key] = `"${s}".${assertIdentifier(table)}`;
  }
  return qualified;
}
