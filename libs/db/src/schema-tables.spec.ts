import { schemaTables } from './schema-tables';

describe('schemaTables', () => {
  it("qualifies each table with the schema, under the repository's own names", () => {
    expect(schemaTables('intake', { states: 'referral_states', referrals: 'referrals' })).toEqual({
      states: '"intake".referral_states',
      referrals: '"intake".referrals',
    });
  });

  it('refuses a schema or a table that is not a plain identifier', () => {
    expect(() => schemaTables('intake"; DROP', { t: 'referrals' })).toThrow('not a safe SQL identifier');
    expect(() => schemaTables('intake', { t: 'referrals x' })).toThrow('not a safe SQL identifier');
  });
});
