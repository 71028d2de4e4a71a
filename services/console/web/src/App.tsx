import {
  Anchor,
  AppShell,
  Button,
  Center,
  Group,
  Loader,
  MantineProvider,
  NavLink,
  Select,
  Stack,
  Text,
  Title,
  createTheme,
  type CSSVariablesResolver,
} from '@mantine/core';
import { useCallback, useEffect, useState } from 'react';
import { IntlProvider } from 'react-intl';
import { api, ApiError, onSessionExpired, setSessionView, type SessionView, type SiteRecord } from './api';
import { MESSAGES, initialLocale, rememberLocale, useT, type Locale } from './i18n';
import { AuditLog } from './screens/AuditLog';
import { Dashboard } from './screens/Dashboard';
import { ReferenceCard } from './screens/ReferenceCard';
import { EditSettings } from './screens/EditSettings';
import { IntegrateWizard } from './screens/IntegrateWizard';
import { Integrations } from './screens/Integrations';
import { OAuthClients } from './screens/OAuthClients';
import { SekScreen } from './screens/SekScreen';
import { SetPassword } from './screens/SetPassword';
import { SignIn } from './screens/SignIn';
import { MySecurity } from './screens/MySecurity';
import { SiteAccount } from './screens/SiteAccount';
import { SitePicker } from './screens/SitePicker';
import { passwordLinkToken, screenFromHash, type Screen } from './nav';
import { SiteContext } from './site';

const theme = createTheme({ primaryColor: 'blue', primaryShade: 8, defaultRadius: 'sm' });
/** Secondary text dark enough for WCAG AA contrast (4.5:1) on white. */
const contrast: CSSVariablesResolver = () => ({
  variables: {},
  light: {
    '--mantine-color-dimmed': '#495057',
    '--mantine-color-green-light-color': '#1b5e20',
    '--mantine-color-yellow-light-color': '#5c4300',
    '--mantine-color-blue-light-color': '#0b4f9c',
    '--mantine-color-red-light-color': '#a51d24',
    // Field errors (and an invalid field's text) readable at 4.5:1 on white.
    '--mantine-color-error': '#a51d24',
  },
  dark: {},
});
const nonce = document.querySelector<HTMLMetaElement>('meta[name="csp-nonce"]')?.content ?? '';

export function App() {
  const [locale, setLocale] = useState<Locale>(() => initialLocale());
  useEffect(() => {
    document.documentElement.lang = locale;
  }, [locale]);
  return (
    <MantineProvider theme={theme} getStyleNonce={() => nonce} cssVariablesResolver={contrast}>
      <IntlProvider
        locale={locale === 'fr' ? 'fr-CA' : 'en-CA'}
        messages={MESSAGES[locale]}
        defaultLocale="en-CA"
      >
        <Console
          locale={locale}
          onLocale={(next) => {
            rememberLocale(next);
            setLocale(next);
          }}
        />
      </IntlProvider>
    </MantineProvider>
  );
}

type Notice = 'expired' | 'signedOut' | 'passwordSet' | null;

function Console({ locale, onLocale }: { locale: Locale; onLocale: (l: Locale) => void }) {
  const t = useT();
  const [session, setSession] = useState<SessionView | null | undefined>(undefined);
  const [notice, setNotice] = useState<Notice>(null);
  const [site, setSite] = useState<string | null>(() => sessionStorage.getItem('cc-console-site'));
  const [record, setRecord] = useState<SiteRecord | null>(null);
  const [screen, setScreen] = useState<Screen>(screenFromHash);
  const [linkToken, setLinkToken] = useState<string | null>(passwordLinkToken);

  const adopt = useCallback((view: SessionView | null) => {
    setSessionView(view);
    setSession(view);
  }, []);

  useEffect(() => {
    onSessionExpired(() => {
      adopt(null);
      // A call answered after the person signed out is not an expiry: keep "You are signed out".
      setNotice((current) => (current === 'signedOut' ? current : 'expired'));
    });
    api.session().then(adopt, () => adopt(null));
    const onHash = (): void => {
      setScreen(screenFromHash());
      setLinkToken(passwordLinkToken());
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, [adopt]);

  const sites = session ? Object.keys(session.sites).sort() : [];
  const current = site && sites.includes(site) ? site : sites.length === 1 ? (sites[0] ?? null) : null;

  useEffect(() => {
    setRecord(null);
    if (!current) return;
    sessionStorage.setItem('cc-console-site', current);
    api.get<SiteRecord>(`/admin/sites/${current}`).then(setRecord, (error: unknown) => {
      if (!(error instanceof ApiError)) throw error;
    });
  }, [current]);

  useEffect(() => {
    const titles: Record<Screen, string> = {
      dashboard: t('sync.title'),
      integrate: t('wizard.title'),
      settings: t('settings.title'),
      sek: t('sek.title'),
      integrations: t('integrations.title'),
      oauth: t('oauth.title'),
      audit: t('audit.title'),
      card: t('card.title'),
      account: t('account.title'),
    };
    document.title =
      linkToken !== null
        ? t('password.title')
        : session
          ? `${titles[screen]} · ${t('app.name')}`
          : t('signIn.title');
  });

  const languageButton = (
    <Button
      variant="default"
      size="xs"
      lang={locale === 'en' ? 'fr' : 'en'}
      aria-label={t('lang.switch.label')}
      onClick={() => onLocale(locale === 'en' ? 'fr' : 'en')}
    >
      {t('lang.switch')}
    </Button>
  );

  if (session === undefined)
    return (
      <Center h="100vh">
        <Loader aria-label={t('common.loading')} />
      </Center>
    );

  // An e-mailed one-time link (an invitation or a password reset): signed in or not.
  if (linkToken !== null)
    return (
      <SetPassword
        token={linkToken}
        languageButton={languageButton}
        onDone={() => {
          window.location.hash = '';
          setLinkToken(null);
          void api.signOut().catch(() => undefined);
          adopt(null);
          setNotice('passwordSet');
        }}
      />
    );

  if (!session)
    return (
      <SignIn
        notice={notice}
        languageButton={languageButton}
        onSignedIn={(view) => {
          setNotice(null);
          adopt(view);
        }}
      />
    );

  const signOut = (): void => {
    void api.signOut().finally(() => {
      sessionStorage.removeItem('cc-console-site');
      setSite(null);
      adopt(null);
      setNotice('signedOut');
    });
  };

  const nav: { screen: Screen; label: string }[] = [
    { screen: 'dashboard', label: t('nav.dashboard') },
    { screen: 'integrate', label: t('nav.integrate') },
    { screen: 'settings', label: t('nav.settings') },
    { screen: 'sek', label: t('nav.sek') },
    { screen: 'integrations', label: t('nav.integrations') },
    { screen: 'oauth', label: t('nav.oauth') },
    { screen: 'audit', label: t('nav.audit') },
    { screen: 'card', label: t('nav.card') },
    { screen: 'account', label: t('nav.account') },
  ];

  return (
    <AppShell header={{ height: 60 }} navbar={{ width: 240, breakpoint: 'sm' }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Anchor href="#main" className="cc-skip" size="sm">
              {t('app.skip')}
            </Anchor>
            <Text fw={700} size="lg" component="span">
              {t('app.name')}
            </Text>
          </Group>
          <Group gap="sm" wrap="nowrap">
            {sites.length > 1 && current && (
              <Select
                aria-label={t('site.label')}
                size="xs"
                data={sites}
                value={current}
                allowDeselect={false}
                onChange={(value) => value && setSite(value)}
              />
            )}
            <Text size="sm" component="span">
              {session.email}
            </Text>
            {languageButton}
            <Button variant="default" size="xs" onClick={signOut}>
              {t('signOut')}
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      {current && (
        <AppShell.Navbar p="xs" component="nav" aria-label={t('nav.label')}>
          {nav.map((item) => (
            <NavLink
              key={item.screen}
              href={`#/${item.screen}`}
              label={item.label}
              active={screen === item.screen}
              variant="filled"
              aria-current={screen === item.screen ? 'page' : undefined}
            />
          ))}
        </AppShell.Navbar>
      )}
      <AppShell.Main id="main">
        {!current ? (
          <SitePicker sites={sites} onPick={setSite} />
        ) : (
          <SiteContext.Provider value={{ site: current, record }}>
            <Title order={1} size="h2" mb="md">
              {t('dashboard.title', { number: current })}
              {record ? ` · ${record.name}` : ''}
            </Title>
            {screen === 'dashboard' && <Dashboard />}
            {screen === 'integrate' && <IntegrateWizard />}
            {screen === 'settings' && <EditSettings />}
            {screen === 'sek' && <SekScreen />}
            {screen === 'integrations' && <Integrations />}
            {screen === 'oauth' && <OAuthClients />}
            {screen === 'audit' && <AuditLog />}
            {screen === 'card' && <ReferenceCard />}
            {screen === 'account' && (
              <Stack>
                <SiteAccount onSaved={setRecord} />
                <MySecurity onSignedOut={signOut} />
              </Stack>
            )}
          </SiteContext.Provider>
        )}
      </AppShell.Main>
    </AppShell>
  );
}
