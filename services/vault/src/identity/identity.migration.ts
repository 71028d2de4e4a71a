import { schemaOf } from '@cloud-connect/db';
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Identity1732300002000 implements MigrationInterface {
  name = 'Identity1732300002000';

  async up(runner: QueryRunner): Promise<void> {
    const s = schemaOf(runner);
    await runner.query(`
      CREATE TABLE "${s}".users (
        id uuid PRIMARY KEY,
        email text NOT NULL,
        password_hash text NOT NULL,
        disabled boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query(`CREATE UNIQUE INDEX users_email ON "${s}".users (lower(email))`);
    await runner.query(`
      CREATE TABLE "${s}".site_roles (
        user_id uuid NOT NULL REFERENCES "${s}".users (id),
        site_number text NOT NULL REFERENCES "${s}".sites (site_number),
        role text NOT NULL CHECK (role IN ('admin', 'member')),
        granted_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (user_id, site_number)
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    const s = schemaOf(runner);
    await runner.query(`DROP TABLE "${s}".site_roles`);
    await runner.query(`DROP TABLE "${s}".users`);
  }
}
