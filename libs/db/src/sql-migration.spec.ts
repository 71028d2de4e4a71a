import type { QueryRunner } from 'typeorm';
import { createTable, dropTables, sqlMigration, tablesMigration } from './sql-migration';

describe('sqlMigration', () => {
  it('is a TypeORM migration class recorded under the name it is given', () => {
    const Migration = sqlMigration('Sample1732300000000', { up: () => [], down: dropTables('b', 'a') });
    expect(new Migration().name).toBe('Sample1732300000000');
  });

  it('drops the tables it names in the service schema, in the order given', () => {
    expect(dropTables('children', 'parents')('intake')).toEqual([
      'DROP TABLE "intake".children',
      'DROP TABLE "intake".parents',
    ]);
  });
});

describe('createTable', () => {
  it('lists the columns in order, then the table constraints', () => {
    expect(
      createTable('intake', 'notes', { id: 'uuid PRIMARY KEY', body: 'text NOT NULL' }, 'UNIQUE (id, body)'),
    ).toBe(`
      CREATE TABLE "intake".notes (
        id uuid PRIMARY KEY,
        body text NOT NULL,
        UNIQUE (id, body)
      )`);
  });
});

describe('tablesMigration', () => {
  it('is undone by dropping the tables it creates, the last created first', async () => {
    const ran: string[] = [];
    const runner = {
      connection: { options: { schema: 'intake' } },
      query: (sql: string) => Promise.resolve(void ran.push(sql)),
    } as unknown as QueryRunner;
    const Migration = tablesMigration('Notes1732300000000', (s) => [
      createTable(s, 'notes', { id: 'uuid PRIMARY KEY' }),
      `CREATE INDEX notes_id ON "${s}".notes (id)`,
      createTable(s, 'note_tags', { note_id: `uuid REFERENCES "${s}".notes (id)` }),
    ]);
    await new Migration().down(runner);
    expect(ran).toEqual(['DROP TABLE "intake".note_tags', 'DROP TABLE "intake".notes']);
  });
});
