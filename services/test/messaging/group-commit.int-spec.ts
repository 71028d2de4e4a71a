// Group commit against the real Postgres: batching, per-unit failure, durability of every
// acknowledged unit when the process is SIGKILLed mid-batch.
import { distDir, stackEnv, uniqueName, waitFor } from '@cloud-connect/testing';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { createServiceDataSource, GroupCommit } from '@cloud-connect/db';

const env = stackEnv();

describe('group commit (real Postgres)', () => {
  let dataSource: DataSource;
  const schema = uniqueName('group_commit');

  beforeAll(async () => {
    dataSource = createServiceDataSource({
      url: env.DATABASE_URL,
      schema,
      applicationName: 'group-commit-test',
    });
    await dataSource.initialize();
    await dataSource.query(`CREATE SCHEMA "${schema}"`);
    await dataSource.query(`CREATE TABLE "${schema}".acks (id int PRIMARY KEY, payload text NOT NULL)`);
  });

  afterAll(async () => {
    await dataSource.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await dataSource.destroy();
  });

  const count = async (): Promise<number> =>
    Number((await dataSource.query<{ n: string }[]>(`SELECT count(*) AS n FROM "${schema}".acks`))[0]?.n);
  const insert = (id: number) => (tx: Parameters<Parameters<GroupCommit['transaction']>[0]>[0]) =>
    tx.query(`INSERT INTO "${schema}".acks (id, payload) VALUES ($1, 'x') RETURNING id`, [id]);

  it('concurrent units share commits; each settles with its own result after the commit', async () => {
    await dataSource.query(`TRUNCATE "${schema}".acks`);
    const commits = new GroupCommit(dataSource, { maxBatch: 10 });
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => commits.transaction(insert(i))));
    expect(results.map((r) => (r as { id: number }[])[0]?.id)).toEqual(
      Array.from({ length: 50 }, (_, i) => i),
    );
    expect(await count()).toBe(50);
    expect(commits.units).toBe(50);
    expect(commits.commits).toBeLessThanOrEqual(10);
    expect(commits.commits).toBeGreaterThanOrEqual(5);
    // One at a time: one commit each, nothing waits for company.
    const alone = new GroupCommit(dataSource);
    for (let i = 100; i < 105; i += 1) await alone.transaction(insert(i));
    expect(alone.commits).toBe(5);
  });

  it('a failing unit fails alone; the others of its batch commit', async () => {
    await dataSource.query(`TRUNCATE "${schema}".acks`);
    await dataSource.query(`INSERT INTO "${schema}".acks (id, payload) VALUES (7, 'taken')`);
    const commits = new GroupCommit(dataSource, { maxBatch: 20 });
    const settled = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => commits.transaction(insert(i))),
    );
    expect(settled.map((s) => s.status)).toEqual(
      Array.from({ length: 12 }, (_, i) => (i === 7 ? 'rejected' : 'fulfilled')),
    );
    expect((settled[7] as PromiseRejectedResult).reason).toMatchObject({ code: '23505' });
    expect(await count()).toBe(12);
  });

  it('nothing acknowledged is lost when the process is SIGKILLed mid-batch', async () => {
    await dataSource.query(`TRUNCATE "${schema}".acks`);
    const worker = spawn(
      process.execPath,
      [join(distDir(), 'libs/testing/src/fixtures/group-commit-worker.js')],
      {
        env: { PATH: process.env['PATH'], DATABASE_URL: env.DATABASE_URL, GROUP_COMMIT_SCHEMA: schema },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const acked = new Set<number>();
    let largestBatch = 0;
    let buffered = '';
    worker.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const [what, n] = line.split(' ');
        if (what === 'ack') acked.add(Number(n));
        if (what === 'batch') largestBatch = Math.max(largestBatch, Number(n));
      }
    });
    const exited = new Promise((done) => worker.once('exit', done));
    try {
      await waitFor('500 acknowledged writes', () => Promise.resolve(acked.size >= 500), {
        timeoutMs: 60000,
        intervalMs: 10,
      });
    } finally {
      worker.kill('SIGKILL');
    }
    await exited;
    const ackedNow = [...acked];
    const rows = await dataSource.query<{ id: number }[]>(`SELECT id FROM "${schema}".acks`);
    const stored = new Set(rows.map((r) => r.id));
    expect(ackedNow.filter((id) => !stored.has(id))).toEqual([]);
    expect(largestBatch).toBeGreaterThan(1);
  }, 90000);
});
