import { RuleTester } from 'eslint';
import tseslint from 'typescript-eslint';
import rule from './route-access';

const tester = new RuleTester({
  languageOptions: { parser: tseslint.parser, ecmaVersion: 2023, sourceType: 'module' },
});

tester.run('route-access', rule, {
  valid: [
    {
      name: 'controller-wide admins',
      code: `@Controller('admin/sites/:site/x') @AllowAdmins({ siteParam: 'site' })
        class X { @Get() list() {} @Post() add() {} }`,
    },
    {
      name: 'each route declares its callers',
      code: `@Controller() class X {
        @Post('auth/login') @Public('the password is the credential') login() {}
        @Post('sync') @AllowServices('scheduler') sync() {}
        helper() {}
      }`,
    },
    {
      name: 'operators only',
      code: `@Controller('operator') @AllowOperators() class X { @Post('sites') create() {} }`,
    },
    { name: 'not a controller', code: `class X { @Get() list() {} }` },
    {
      name: 'raw route with routeAccess',
      code: `scope.get('/fhir/metadata', routeAccess('public'), handler);`,
    },
    {
      name: 'raw route with several callers',
      code: `scope.post(path, routeAccess('integration', 'oauth-client', 'service:scheduler'), handler);`,
    },
    {
      name: 'route() spreading routeAccess',
      code: `app.route({ ...routeAccess('session'), method: 'GET', url: '/api/*', handler });`,
    },
    { name: 'config.access literal', code: `app.get('/x', { config: { access: 'public' } }, handler);` },
    { name: 'a Map lookup is no route', code: `const v = scope.get('key'); cache.get('/x', fallback);` },
  ],
  invalid: [
    {
      name: 'controller route without a declaration',
      code: `@Controller('x') @UseGuards(AuthGuard) class X { @Get() list() {} @Get('ok') @Public('probe') ok() {} }`,
      errors: [{ messageId: 'nestRoute', data: { name: 'list' } }],
    },
    {
      name: 'raw route without options',
      code: `scope.post('/public/sms/twilio/status', async (request, reply) => reply.send());`,
      errors: [{ messageId: 'fastifyRoute' }],
    },
    {
      name: 'raw route with options but no access',
      code: `app.get('/x', { bodyLimit: 10 }, handler);`,
      errors: [{ messageId: 'fastifyRoute' }],
    },
    {
      name: 'unknown caller',
      code: `app.get('/x', routeAccess('everyone'), handler);`,
      errors: [{ messageId: 'fastifyRoute' }],
    },
    {
      name: 'route() without access',
      code: `app.route({ method: 'GET', url: '/api/*', handler });`,
      errors: [{ messageId: 'fastifyRoute' }],
    },
  ],
});
