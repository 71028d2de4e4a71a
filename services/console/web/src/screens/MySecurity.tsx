import { Alert, Anchor, Button, Code, Group, Stack, Text, Title } from '@mantine/core';
import { useCallback, useEffect, useState } from 'react';
import { api, ApiError } from '../api';
import { useT } from '../i18n';
import { actionsColumn, DataTable, Failure, type Column } from './DataTable';
import { CredentialInput } from './CredentialInput';
import { FreshSignIn } from './FreshSignIn';
import { Section } from './Section';

interface SessionRow {
  id: string;
  createdAt: string;
  lastSeenAt: string;
  sourceAddress: string;
  current: boolean;
}

interface MfaState {
  totp: 'none' | 'pending' | 'active';
  recoveryCodesLeft: number;
}

const when = (iso: string): string => new Date(iso).toLocaleString();

/**
 * The signed-in person's own sign-in: the authenticator app (set up with a first code; recovery
 * codes shown once) and the open sessions (end one, or sign out everywhere).
 */
export function MySecurity({ onSignedOut }: { onSignedOut: () => void }) {
  const t = useT();
  const [sessions, setSessions] = useState<SessionRow[] | null>(null);
  const [mfa, setMfa] = useState<MfaState | null>(null);
  const [setup, setSetup] = useState<{ otpauthUri: string; secret: string } | null>(null);
  const [code, setCode] = useState('');
  const [recovery, setRecovery] = useState<string[] | null>(null);
  const [needFresh, setNeedFresh] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async (): Promise<void> => {
    const [listed, state] = await Promise.all([
      api.get<{ sessions: SessionRow[] }>('/auth/sessions'),
      api.get<MfaState>('/auth/mfa'),
    ]);
    setSessions(listed.sessions);
    setMfa(state);
  }, []);

  useEffect(() => {
    load().catch(() => setError(t('common.error.generic')));
  }, [load, t]);

  const start = async (): Promise<void> => {
    setError(null);
    try {
      setSetup(await api.post<{ otpauthUri: string; secret: string }>('/auth/mfa/totp', {}));
    } catch (e) {
      if (e instanceof ApiError && e.code === 'reauthentication-required') setNeedFresh(true);
      else setError(t('common.error.generic'));
    }
  };

  const confirm = async (): Promise<void> => {
    setError(null);
    try {
      const answer = await api.post<{ recoveryCodes: string[] }>('/auth/mfa/totp/confirm', {
        code: code.trim(),
      });
      setRecovery(answer.recoveryCodes);
      setSetup(null);
      setCode('');
      await load();
    } catch {
      setError(t('signIn.error.code'));
    }
  };

  const end = async (id: string): Promise<void> => {
    await api.del(`/auth/sessions/${id}`);
    await load();
  };

  const everywhere = async (): Promise<void> => {
    await api.post('/auth/logout-everywhere', {}).catch(() => undefined);
    onSignedOut();
  };

  const columns: Column<SessionRow>[] = [
    { header: t('security.sessions.signedIn'), cell: (s) => when(s.createdAt) },
    { header: t('security.sessions.lastSeen'), cell: (s) => when(s.lastSeenAt) },
    { header: t('security.sessions.address'), cell: (s) => s.sourceAddress },
    actionsColumn(
      '',
      (s) => [{ label: t('security.sessions.end'), onClick: () => void end(s.id) }],
      (s) => s.current && t('security.sessions.current'),
    ),
  ];

  return (
    <Section id="security-title" title={t('security.title')} maw={720}>
      <Failure message={error} />
      <Title order={3} size="h4">
        {t('security.mfa.title')}
      </Title>
      {mfa?.totp === 'active' ? (
        <Text>{t('security.mfa.active', { count: mfa.recoveryCodesLeft })}</Text>
      ) : (
        <Text>{t('security.mfa.none')}</Text>
      )}
      {needFresh && (
        <FreshSignIn
          onDone={() => {
            setNeedFresh(false);
            void start();
          }}
        />
      )}
      {mfa && mfa.totp !== 'active' && !setup && (
        <Group>
          <Button onClick={() => void start()}>{t('security.mfa.start')}</Button>
        </Group>
      )}
      {setup && (
        <Stack gap="xs">
          <Text>{t('security.mfa.scan')}</Text>
          <Anchor href={setup.otpauthUri}>{t('security.mfa.link')}</Anchor>
          <Text fw={600}>{t('security.mfa.key')}</Text>
          <Code block data-testid="totp-secret">
            {setup.secret}
          </Code>
          <CredentialInput kind="one-time-code" label={t('signIn.code')} state={[code, setCode]} />
          <Group>
            <Button onClick={() => void confirm()}>{t('security.mfa.confirm')}</Button>
          </Group>
        </Stack>
      )}
      {recovery && (
        <Alert color="yellow" title={t('security.mfa.recovery.title')}>
          <Stack gap="xs">
            <Text>{t('security.mfa.recovery')}</Text>
            <Code block data-testid="recovery-codes">
              {recovery.join('\n')}
            </Code>
          </Stack>
        </Alert>
      )}
      <Title order={3} size="h4">
        {t('security.sessions.title')}
      </Title>
      <DataTable rows={sessions} rowKey="id" empty="security.sessions.none" columns={columns} />
      <Group>
        <Button color="red.9" variant="outline" onClick={() => void everywhere()}>
          {t('security.sessions.everywhere')}
        </Button>
      </Group>
    </Section>
  );
}
