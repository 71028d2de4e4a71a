// Every HTTP route declares who may call it.
// - Nest controllers: the route method or its controller class carries @AllowAdmins(...),
//   @AllowServices(...), @AllowOperators() or @Public('why').
// - Raw Fastify routes (`app|scope|fastify|server|instance`.get/post/put/patch/delete/route):
//   the route options are `routeAccess('<who>', ...)` (from @cloud-connect/auth), or an object
//   with `config: { access: '<who>' }` or spreading `...routeAccess('<who>')`; <who> is one of
//   ACCESS below.
'use strict';

const HTTP_DECORATORS = new Set(['Get', 'Post', 'Put', 'Patch', 'Delete', 'All', 'Head', 'Options']);
const ACCESS_DECORATORS = new Set(['AllowAdmins', 'AllowServices', 'AllowOperators', 'Public']);
const FASTIFY_METHODS = new Set(['get', 'post', 'put', 'patch', 'delete', 'head', 'options', 'all']);
const FASTIFY_RECEIVERS = new Set(['app', 'scope', 'fastify', 'server', 'instance']);
const ACCESS =
  /^(public|site-admin|site-member|operator|oauth-client|integration|session|service:[a-z][a-z-]*)$/;

function decoratorName(decorator) {
  const expression = decorator.expression;
  const callee = expression.type === 'CallExpression' ? expression.callee : expression;
  return callee.type === 'Identifier' ? callee.name : undefined;
}

function hasDecorator(node, names) {
  return (node.decorators || []).some((d) => names.has(decoratorName(d)));
}

function property(objectExpression, name) {
  if (!objectExpression || objectExpression.type !== 'ObjectExpression') return undefined;
  return objectExpression.properties.find(
    (p) =>
      p.type === 'Property' &&
      !p.computed &&
      ((p.key.type === 'Identifier' && p.key.name === name) ||
        (p.key.type === 'Literal' && p.key.value === name)),
  );
}

function validAccess(value) {
  if (!value) return false;
  if (value.type === 'Literal') return typeof value.value === 'string' && ACCESS.test(value.value);
  if (value.type === 'ArrayExpression')
    return value.elements.length > 0 && value.elements.every((e) => e && validAccess(e));
  return false;
}

function isRouteAccessCall(node) {
  return (
    node &&
    node.type === 'CallExpression' &&
    node.callee.type === 'Identifier' &&
    node.callee.name === 'routeAccess' &&
    node.arguments.length > 0 &&
    node.arguments.every((a) => validAccess(a))
  );
}

/** Route options that declare access: routeAccess(...), or an object with it spread or in config.access. */
function declaresAccess(options) {
  if (!options) return false;
  if (isRouteAccessCall(options)) return true;
  if (options.type !== 'ObjectExpression') return false;
  if (options.properties.some((p) => p.type === 'SpreadElement' && isRouteAccessCall(p.argument)))
    return true;
  const config = property(options, 'config');
  const access = config && property(config.value, 'access');
  return Boolean(access && validAccess(access.value));
}

/** @type {import('eslint').Rule.RuleModule} */
module.exports = {
  meta: {
    type: 'problem',
    docs: { description: 'every HTTP route declares who may call it' },
    schema: [],
    messages: {
      nestRoute:
        "route {{name}} does not declare who may call it: add @AllowAdmins(...), @AllowServices(...), @AllowOperators() or @Public('why') to it or to its controller",
      fastifyRoute:
        "raw route does not declare who may call it: pass routeAccess('public' | 'site-admin' | 'oauth-client' | 'integration' | 'session' | 'service:<name>') as its options",
    },
  },
  create(context) {
    return {
      ClassDeclaration(node) {
        if (!hasDecorator(node, new Set(['Controller']))) return;
        if (hasDecorator(node, ACCESS_DECORATORS)) return;
        for (const member of node.body.body) {
          if (member.type !== 'MethodDefinition' || !hasDecorator(member, HTTP_DECORATORS)) continue;
          if (hasDecorator(member, ACCESS_DECORATORS)) continue;
          const name = member.key.type === 'Identifier' ? member.key.name : '(computed)';
          context.report({ node: member.key, messageId: 'nestRoute', data: { name } });
        }
      },
      CallExpression(node) {
        const callee = node.callee;
        if (callee.type !== 'MemberExpression' || callee.computed) return;
        if (callee.object.type !== 'Identifier' || !FASTIFY_RECEIVERS.has(callee.object.name)) return;
        const method = callee.property.type === 'Identifier' ? callee.property.name : undefined;
        if (method === 'route') {
          if (!declaresAccess(node.arguments[0])) context.report({ node, messageId: 'fastifyRoute' });
          return;
        }
        if (!FASTIFY_METHODS.has(method) || node.arguments.length < 2) return;
        const options = node.arguments.length >= 3 ? node.arguments[1] : undefined;
        if (!declaresAccess(options)) context.report({ node, messageId: 'fastifyRoute' });
      },
    };
  },
};
