import { Button, Paper, Stack, Text, Title } from '@mantine/core';
import { useT } from '../i18n';

/** For admins of several sites: which one to work on (switchable later from the header). */
export function SitePicker({ sites, onPick }: { sites: string[]; onPick: (site: string) => void }) {
  const t = useT();
  return (
    <Paper withBorder p="lg" maw={520}>
      <Stack>
        <Title order={1} size="h2">
          {t('sites.title')}
        </Title>
        <Text>{sites.length === 0 ? t('sites.none') : t('sites.intro')}</Text>
        {sites.map((site) => (
          <Button key={site} variant="default" onClick={() => onPick(site)}>
            {t('sites.open', { number: site })}
          </Button>
        ))}
      </Stack>
    </Paper>
  );
}
