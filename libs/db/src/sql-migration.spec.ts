import { dropTables, sqlMigration } from './sql-migration';

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
