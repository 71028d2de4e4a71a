import { Alert, Button, Code, CopyButton, Group, Stack, Text } from '@mantine/core';
import { useT } from '../i18n';

/** A secret shown once, with a copy button: it is not kept anywhere the console can show it again. */
export function SecretOnce({
  label,
  value,
  onDismiss,
}: {
  label: string;
  value: string;
  onDismiss: () => void;
}) {
  const t = useT();
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
