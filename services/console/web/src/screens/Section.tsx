import { Button, Group, Paper, Stack, Title } from '@mantine/core';
import type { ReactNode, SyntheticEvent } from 'react';

/**
 * One titled panel of a screen: a bordered `<section>` named by its heading. With `onSubmit` the
 * panel is a form (validated here, so the browser's own checks are off).
 */
export function Section(props: {
  id: string;
  title: string;
  children: ReactNode;
  maw?: number;
  className?: string;
  /** Beside the title (a print button). */
  aside?: ReactNode;
  onSubmit?: (event: SyntheticEvent) => void;
}) {
  const title = (
    <Title order={2} size="h3" id={props.id}>
      {props.title}
    </Title>
  );
  const body = (
    <Stack maw={props.maw}>
      {props.aside ? (
        <Group justify="space-between">
          {title}
          {props.aside}
        </Group>
      ) : (
        title
      )}
      {props.children}
    </Stack>
  );
  return (
    <Paper withBorder p="md" component="section" aria-labelledby={props.id} className={props.className}>
      {props.onSubmit ? (
        <form onSubmit={props.onSubmit} noValidate>
          {body}
        </form>
      ) : (
        body
      )}
    </Paper>
  );
}

/** A form's submit button on its own row (spinning while the form is being sent). */
export function SubmitRow({ label, busy }: { label: string; busy?: boolean }) {
  return (
    <Group>
      <Button type="submit" loading={busy}>
        {label}
      </Button>
    </Group>
  );
}
