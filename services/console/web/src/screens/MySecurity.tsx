import {
  Alert,
  Anchor,
  Button,
  Code,
  Group,
  Paper,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useCallback, useEffect, useState } from 'react';
import { api, ApiError } from '../api';
import { useT } from '../i18n';
import { FreshSignIn } from './FreshSignIn';

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
  const [sessions, setSessions] = useState<SessionRow[]>([]);
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

  return (
    <Paper withBorder p="md" component="section" aria-labelledby="security-title">
      <Stack maw={720}>
        <Title order={2} size="h3" id="security-title">
          {t('security.title')}
        </Title>
        {error && (
          <Alert color="red" role="alert">
            {error}
          </Alert>
        )}
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
            <TextInput
              label={t('signIn.code')}
              autoComplete="one-time-code"
              inputMode="numeric"
              value={code}
              onChange={(e) => setCode(e.currentTarget.value)}
            />
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
        <Table>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t('security.sessions.signedIn')}</Table.Th>
              <Table.Th>{t('security.sessions.lastSeen')}</Table.Th>
              <Table.Th>{t('security.sessions.address')}</Table.Th>
              <Table.Th />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {sessions.map((s) => (
              <Table.Tr key={s.id}>
                <Table.Td>{when(s.createdAt)}</Table.Td>
                <Table.Td>{when(s.lastSeenAt)}</Table.Td>
                <Table.Td>{s.sourceAddress}</Table.Td>
                <Table.Td>
                  {s.current ? (
                    t('security.sessions.current')
                  ) : (
                    <Button size="xs" variant="default" onClick={() => void end(s.id)}>
                      {t('security.sessions.end')}
                    </Button>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        <Group>
          <Button color="red.9" variant="outline" onClick={() => void everywhere()}>
            {t('security.sessions.everywhere')}
          </Button>
        </Group>
      </Stack>
    </Paper>
  );
}
