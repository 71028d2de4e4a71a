import {
  Alert,
  Button,
  Group,
  Paper,
  PasswordInput,
  Radio,
  Stack,
  Stepper,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useState, type SyntheticEvent } from 'react';
import { api, ApiError, type Provider, type SettingsView } from '../api';
import { useT, type MessageId } from '../i18n';
import { go } from '../nav';
import { failureText } from '../problems';
import { useSite } from '../site';
import { Notice } from './DataTable';
import { Section, SubmitRow } from './Section';
import { SettingsForm } from './SettingsForm';

type AuthKind = 'api-key' | 'client-credentials';

interface FieldSpec {
  name: string;
  label: MessageId;
  secret?: boolean;
  optional?: boolean;
  help?: MessageId;
}

/** PS Suite and Med Access: the EMR Instance ID and secret of the EMR's Ocean module. */
const TELUS_FIELDS: FieldSpec[] = [
  { name: 'instanceId', label: 'wizard.credentials.instanceId', help: 'wizard.credentials.telusHelp' },
  { name: 'secret', label: 'wizard.credentials.secret', secret: true },
];

/** A CHR or a FHIR R4 EMR: its base URL and, by how it signs requests, an API key or client credentials. */
const fhirFields = (authKind: AuthKind): FieldSpec[] => [
  { name: 'baseUrl', label: 'wizard.credentials.baseUrl' },
  ...(authKind === 'api-key'
    ? [{ name: 'apiKey', label: 'wizard.credentials.apiKey', secret: true } as FieldSpec]
    : [
        { name: 'clientId', label: 'wizard.credentials.fhirClientId' } as FieldSpec,
        { name: 'clientSecret', label: 'wizard.credentials.fhirClientSecret', secret: true } as FieldSpec,
      ]),
];

/**
 * The EMR types offered, in this order: each one's name and the credentials it needs (what the
 * admin copies from the EMR's Ocean module or user).
 */
const EMRS = {
  'ps-suite': { name: 'PS Suite', fields: () => TELUS_FIELDS },
  'med-access': { name: 'Med Access', fields: () => TELUS_FIELDS },
  accuro: {
    name: 'Accuro',
    fields: () => [
      { name: 'tenant', label: 'wizard.credentials.tenant' },
      { name: 'clientId', label: 'wizard.credentials.clientId' },
      { name: 'clientSecret', label: 'wizard.credentials.clientSecret', secret: true },
    ],
  },
  'oscar-pro': {
    name: 'OSCAR Pro',
    fields: () => [
      { name: 'baseUrl', label: 'wizard.credentials.baseUrl' },
      { name: 'username', label: 'wizard.credentials.username' },
      { name: 'password', label: 'wizard.credentials.password', secret: true },
      { name: 'pin', label: 'wizard.credentials.pin', secret: true, optional: true },
    ],
  },
  chr: { name: 'CHR', fields: fhirFields },
  'fhir-r4': { name: 'FHIR R4', fields: fhirFields },
} satisfies Record<string, { name: string; fields: (authKind: AuthKind) => FieldSpec[] }>;
type EmrType = keyof typeof EMRS | 'non-integrated';

function fieldsFor(type: EmrType, authKind: AuthKind): FieldSpec[] {
  return type === 'non-integrated' ? [] : EMRS[type].fields(authKind);
}

function credentialsBody(type: EmrType, authKind: AuthKind, v: Record<string, string>): unknown {
  const value = (name: string): string => (v[name] ?? '').trim();
  switch (type) {
    case 'ps-suite':
    case 'med-access':
      return { type, instanceId: value('instanceId'), secret: value('secret') };
    case 'accuro':
      return {
        type,
        tenant: value('tenant'),
        clientId: value('clientId'),
        clientSecret: value('clientSecret'),
      };
    case 'oscar-pro':
      return {
        type,
        baseUrl: value('baseUrl'),
        username: value('username'),
        password: value('password'),
        pin: value('pin') || null,
      };
    case 'chr':
    case 'fhir-r4':
      return {
        type,
        baseUrl: value('baseUrl'),
        auth:
          authKind === 'api-key'
            ? { kind: 'api-key', apiKey: value('apiKey') }
            : {
                kind: 'client-credentials',
                clientId: value('clientId'),
                clientSecret: value('clientSecret'),
              },
      };
    case 'non-integrated':
      return null;
  }
}

/** Integrate my EMR: store the SEK → EMR type → credentials (tested at once) → settings → save. */
export function IntegrateWizard() {
  const t = useT();
  const { site } = useSite();
  const [step, setStep] = useState(0);
  const [sek, setSek] = useState('');
  const [sekError, setSekError] = useState<string | null>(null);
  const [sekNotice, setSekNotice] = useState<MessageId | null>(null);
  const [type, setType] = useState<EmrType>('ps-suite');
  const [authKind, setAuthKind] = useState<AuthKind>('api-key');
  const [values, setValues] = useState<Record<string, string>>({});
  const [missing, setMissing] = useState<Set<string>>(new Set());
  const [failure, setFailure] = useState<string | null>(null);
  const [connected, setConnected] = useState<{ providers: Provider[]; emr: string } | null>(null);
  const [settings, setSettings] = useState<SettingsView | null>(null);
  const [busy, setBusy] = useState(false);
  const [finished, setFinished] = useState(false);
  const emrLabel = type === 'non-integrated' ? '' : EMRS[type].name;

  const storeSek = async (event: SyntheticEvent): Promise<void> => {
    event.preventDefault();
    setSekError(null);
    if (!sek.trim()) {
      setSekError(t('wizard.sek.required'));
      return;
    }
    setBusy(true);
    try {
      await api.post(`/sites/${site}/sek`, { sek: sek.trim() });
      setSekNotice('wizard.sek.stored');
      setSek('');
      setStep(1);
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) {
        setSekNotice('wizard.sek.exists');
        setSek('');
        setStep(1);
      } else setSekError(failureText(e, t));
    } finally {
      setBusy(false);
    }
  };

  const testConnection = async (event: SyntheticEvent): Promise<void> => {
    event.preventDefault();
    setFailure(null);
    const empty = new Set(
      fieldsFor(type, authKind)
        .filter((f) => !f.optional && !(values[f.name] ?? '').trim())
        .map((f) => f.name),
    );
    setMissing(empty);
    if (empty.size > 0) return;
    setBusy(true);
    try {
      const answer = await api.put<{ connection: { providers: Provider[]; emrName: string } }>(
        `/admin/sites/${site}/emr`,
        credentialsBody(type, authKind, values),
      );
      setValues({});
      const current = await api.get<SettingsView>(`/admin/sites/${site}/emr/settings`);
      setConnected({ providers: answer.connection.providers, emr: answer.connection.emrName });
      setSettings(current);
      setStep(3);
    } catch (e) {
      setFailure(failureText(e, t));
    } finally {
      setBusy(false);
    }
  };

  if (finished)
    return (
      <Paper withBorder p="md">
        <Stack>
          <Alert color="green" role="status">
            {t(type === 'non-integrated' ? 'wizard.type.nonIntegratedDone' : 'wizard.done')}
          </Alert>
          <Group>
            <Button onClick={() => go('dashboard')}>{t('nav.dashboard')}</Button>
          </Group>
        </Stack>
      </Paper>
    );

  return (
    <Section id="wizard-title" title={t('wizard.title')}>
      <Stepper active={step} size="sm" allowNextStepsSelect={false}>
        <Stepper.Step label={t('wizard.step.sek')}>
          <form onSubmit={(e) => void storeSek(e)} noValidate>
            <Stack maw={560}>
              <PasswordInput
                label={t('wizard.sek.label')}
                description={t('wizard.sek.help')}
                autoComplete="off"
                value={sek}
                error={sekError}
                onChange={(e) => setSek(e.currentTarget.value)}
              />
              <SubmitRow label={t('wizard.sek.submit')} busy={busy} />
            </Stack>
          </form>
        </Stepper.Step>
        <Stepper.Step label={t('wizard.step.type')}>
          <Stack maw={560}>
            <Notice message={sekNotice && t(sekNotice)} />
            <Radio.Group label={t('wizard.type.label')} value={type} onChange={(v) => setType(v)}>
              <Stack gap="xs" mt="xs">
                {Object.entries(EMRS).map(([value, emr]) => (
                  <Radio key={value} value={value} label={emr.name} />
                ))}
                <Radio value="non-integrated" label={t('wizard.type.non-integrated')} />
              </Stack>
            </Radio.Group>
            <Group>
              {type === 'non-integrated' ? (
                <Button onClick={() => setFinished(true)}>{t('wizard.type.finish')}</Button>
              ) : (
                <Button onClick={() => setStep(2)}>{t('common.next')}</Button>
              )}
            </Group>
          </Stack>
        </Stepper.Step>
        <Stepper.Step label={t('wizard.step.credentials')}>
          <form onSubmit={(e) => void testConnection(e)} noValidate>
            <Stack maw={560}>
              <Title order={3} size="h4">
                {t('wizard.credentials.title', { emr: emrLabel })}
              </Title>
              {(type === 'chr' || type === 'fhir-r4') && (
                <Radio.Group
                  label={t('wizard.credentials.authKind')}
                  value={authKind}
                  onChange={(v) => setAuthKind(v)}
                >
                  <Group mt="xs">
                    <Radio value="api-key" label={t('wizard.credentials.authKind.api-key')} />
                    <Radio
                      value="client-credentials"
                      label={t('wizard.credentials.authKind.client-credentials')}
                    />
                  </Group>
                </Radio.Group>
              )}
              {fieldsFor(type, authKind).map((f) => {
                const common = {
                  label: t(f.label),
                  description: f.help ? t(f.help) : undefined,
                  required: !f.optional,
                  autoComplete: 'off',
                  value: values[f.name] ?? '',
                  error: missing.has(f.name) ? t('wizard.credentials.required') : undefined,
                  onChange: (e: { currentTarget: HTMLInputElement }) =>
                    setValues({ ...values, [f.name]: e.currentTarget.value }),
                };
                return f.secret ? (
                  <PasswordInput key={f.name} {...common} />
                ) : (
                  <TextInput key={f.name} {...common} />
                );
              })}
              {failure && (
                <Alert color="red" role="alert" title={t('wizard.credentials.failed')}>
                  {failure}
                </Alert>
              )}
              {busy && <Text role="status">{t('wizard.credentials.testing')}</Text>}
              <Group>
                <Button variant="default" onClick={() => setStep(1)}>
                  {t('common.back')}
                </Button>
                <Button type="submit" loading={busy}>
                  {t('wizard.credentials.test')}
                </Button>
              </Group>
            </Stack>
          </form>
        </Stepper.Step>
        <Stepper.Step label={t('wizard.step.settings')}>
          {connected && settings && (
            <Stack>
              <Alert color="green" role="status">
                {t('wizard.credentials.ok', { emr: connected.emr, count: connected.providers.length })}
              </Alert>
              <Text>{t('wizard.settings.intro')}</Text>
              <SettingsForm
                providers={connected.providers}
                view={settings}
                onSaved={() => setFinished(true)}
              />
            </Stack>
          )}
        </Stepper.Step>
      </Stepper>
    </Section>
  );
}
