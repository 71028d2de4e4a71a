import { Alert, Button, Code, CopyButton, Group, Stack, Text } from '@mantine/core';
import { useT } from '../i18n';

/** A secret shown once, with a copy button: it is not kept anywhere the console can show it again. */
export function SecretOnce({
  secret,
  onDismiss,
}: {
  /** What to show (nothing while null): the secret and what it is. */
  secret: { label: string; value: string } | null;
  onDismiss: () => void;
}) {
  const t = useT();
  if (!secret) return null;
  const { label, value } = secret;
  return (
    <Alert color="green" title={label} role="status">
      <Stack gap="xs">
        <Text>{t('secret.once')}</Text>
        <Code block data-testid="secret-once">
          {value}
        </Code>
        <Group>
          <CopyButton value={value}>
            {({ copied, copy }) => (
              <Button variant="default" onClick={copy}>
                {copied ? t('secret.copied') : t('secret.copy')}
              </Button>
            )}
          </CopyButton>
          <Button variant="default" onClick={onDismiss}>
            {t('secret.dismiss')}
          </Button>
        </Group>
      </Stack>
    </Alert>
  );
}
