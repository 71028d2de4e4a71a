import {
  Alert,
  Button,
  Checkbox,
  Fieldset,
  Group,
  MultiSelect,
  NumberInput,
  Select,
  Stack,
  TextInput,
} from '@mantine/core';
import { useState, type SyntheticEvent } from 'react';
import { api, ApiError, type EmrSettings, type Provider, type SettingsView } from '../api';
import { useT } from '../i18n';
import { useSite } from '../site';

type Field =
  | 'scheduleDaysToSync'
  | 'syncProviderIds'
  | 'markArrivedWithinHours'
  | 'walkIn.providerId'
  | 'walkIn.reason'
  | 'walkIn.durationMinutes';
type Errors = Partial<Record<Field, string>>;

function numberOf(value: string | number): number {
  return typeof value === 'number' ? value : Number.NaN;
}

/** Settings of a site's EMR integration, validated here (messages next to each field) and again by the API. */
export function SettingsForm(props: {
  providers: Provider[];
  view: SettingsView;
  onSaved: (view: SettingsView) => void;
}) {
  const t = useT();
  const { site } = useSite();
  const [s, setS] = useState<EmrSettings>(props.view.settings);
  const [errors, setErrors] = useState<Errors>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const providerData = props.providers.map((p) => ({ value: p.id, label: p.name }));

  const validate = (): Errors => {
    const e: Errors = {};
    const range = (field: Field, value: number, min: number, max: number, integer = true): void => {
      if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value)))
        e[field] = t('settings.error.range', { min, max });
    };
    range('scheduleDaysToSync', s.scheduleDaysToSync, 1, 30);
    range('markArrivedWithinHours', s.markArrivedWithinHours, 0, 24, false);
    if (s.walkIn.enabled) {
      if (!s.walkIn.providerId) e['walkIn.providerId'] = t('settings.error.walkInProvider');
      if (!s.walkIn.reason.trim() || s.walkIn.reason.trim().length > 100)
        e['walkIn.reason'] = t('settings.error.reason');
      range('walkIn.durationMinutes', s.walkIn.durationMinutes, 5, 120);
    }
    return e;
  };

  const submit = async (event: SyntheticEvent): Promise<void> => {
    event.preventDefault();
    setFailure(null);
    const found = validate();
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    setBusy(true);
    try {
      const saved = await api.put<SettingsView>(`/admin/sites/${site}/emr/settings`, {
        settings: s,
        expectedVersion: props.view.version,
      });
      props.onSaved(saved);
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) setFailure(t('settings.error.conflict'));
      else if (e instanceof ApiError && e.details.length > 0) {
        const fieldErrors: Errors = {};
        for (const detail of e.details) {
          const [path, ...rest] = detail.split(': ');
          fieldErrors[(path ?? '') as Field] = rest.join(': ');
        }
        setErrors(fieldErrors);
        setFailure(e.message);
      } else setFailure(e instanceof ApiError && e.message ? e.message : t('common.error.generic'));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={(e) => void submit(e)} noValidate>
      <Stack maw={640}>
        <NumberInput
          clampBehavior="none"
          label={t('settings.days')}
          description={t('settings.days.help')}
          min={1}
          max={30}
          allowDecimal={false}
          value={s.scheduleDaysToSync}
          error={errors.scheduleDaysToSync}
          onChange={(v) => setS({ ...s, scheduleDaysToSync: numberOf(v) })}
        />
        <MultiSelect
          label={t('settings.providers')}
          description={t('settings.providers.help')}
          placeholder={t('settings.providers.placeholder')}
          data={providerData}
          value={s.syncProviderIds}
          searchable
          clearable
          error={errors.syncProviderIds}
          onChange={(ids) => setS({ ...s, syncProviderIds: ids })}
        />
        <NumberInput
          clampBehavior="none"
          label={t('settings.arrived')}
          min={0}
          max={24}
          value={s.markArrivedWithinHours}
          error={errors.markArrivedWithinHours}
          onChange={(v) => setS({ ...s, markArrivedWithinHours: numberOf(v) })}
        />
        <Fieldset legend={t('settings.clinicalNotes')}>
          <Stack>
            <Checkbox
              label={t('settings.combine')}
              description={t('settings.combine.help')}
              checked={s.combineProgressNotes}
              onChange={(e) => setS({ ...s, combineProgressNotes: e.currentTarget.checked })}
            />
            <Checkbox
              label={t('settings.attachments')}
              checked={s.importAttachmentsAsPdf}
              onChange={(e) => setS({ ...s, importAttachmentsAsPdf: e.currentTarget.checked })}
            />
          </Stack>
        </Fieldset>
        <Fieldset legend={t('settings.walkIn')}>
          <Stack>
            <Checkbox
              label={t('settings.walkIn.enabled')}
              checked={s.walkIn.enabled}
              onChange={(e) => setS({ ...s, walkIn: { ...s.walkIn, enabled: e.currentTarget.checked } })}
            />
            <Select
              label={t('settings.walkIn.provider')}
              data={providerData}
              value={s.walkIn.providerId}
              clearable
              disabled={!s.walkIn.enabled}
              error={errors['walkIn.providerId']}
              onChange={(v) => setS({ ...s, walkIn: { ...s.walkIn, providerId: v } })}
            />
            <TextInput
              label={t('settings.walkIn.reason')}
              value={s.walkIn.reason}
              disabled={!s.walkIn.enabled}
              error={errors['walkIn.reason']}
              onChange={(e) => setS({ ...s, walkIn: { ...s.walkIn, reason: e.currentTarget.value } })}
            />
            <NumberInput
              clampBehavior="none"
              label={t('settings.walkIn.duration')}
              min={5}
              max={120}
              allowDecimal={false}
              value={s.walkIn.durationMinutes}
              disabled={!s.walkIn.enabled}
              error={errors['walkIn.durationMinutes']}
              onChange={(v) => setS({ ...s, walkIn: { ...s.walkIn, durationMinutes: numberOf(v) } })}
            />
          </Stack>
        </Fieldset>
        {failure && (
          <Alert color="red" role="alert">
            {failure}
          </Alert>
        )}
        <Group>
          <Button type="submit" loading={busy}>
            {t('common.save')}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
