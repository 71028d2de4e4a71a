// Inside a service, domain folders depend downward only.
// A service's source is `services/<svc>/src/`: its files directly in `src/` are the composition
// root (modules, main, config), each sub-folder is a domain. Every service lists its domains in
// layers, bottom first (the `layers` option). A relative import from a file of domain D into
// another domain E is allowed only if E sits in a lower layer than D (never sideways, never up).
// Domain code may import the root's `config` (the validated settings every layer reads) and,
// in specs, the root modules (to boot the app); nothing else of the root. An import from or into
// a domain folder the service does not list is an error until the folder is placed in a layer.
'use strict';

const path = require('node:path');

const SOURCE = /(?:^|[\\/])services[\\/]([^\\/]+)[\\/]src[\\/](.*)$/;
const ROOT_FOR_DOMAINS = new Set(['config']);
const SPEC = /\.(?:int-)?spec\.ts$/;

/** `{ service, domain, rest }` of a path under services/<svc>/src, or undefined. */
function locate(file) {
  const match = SOURCE.exec(file);
  if (!match) return undefined;
  const parts = match[2].split(/[\\/]/);
  return parts.length === 1
    ? { service: match[1], domain: undefined, rest: parts[0] }
    : { service: match[1], domain: parts[0], rest: parts.slice(1).join('/') };
}

function layerOf(layers, domain) {
  return layers.findIndex((layer) => layer.includes(domain));
}

module.exports = {
  meta: {
    type: 'problem',
    docs: { description: 'Domain folders of a service import each other downward only (its layers).' },
    schema: [
      {
        type: 'object',
        properties: {
          layers: {
            type: 'object',
            additionalProperties: {
              type: 'array',
              items: { type: 'array', items: { type: 'string' } },
            },
          },
        },
        additionalProperties: false,
      },
    ],
    messages: {
      upward:
        "'{{from}}' may not import '{{to}}' ({{service}} layers, bottom first: {{order}}): move the shared part down or invert the dependency.",
      unplaced: "Domain folder '{{domain}}' is not in the layers of {{service}} (eslint.config.mjs).",
      root: "Domain code imports the composition root only for its config (here: '{{target}}').",
    },
  },
  create(context) {
    const options = context.options[0] || {};
    const all = options.layers || {};
    const file = context.filename;
    const here = locate(file);
    if (!here || !here.domain || !all[here.service]) return {};
    const layers = all[here.service];
    const order = layers.map((l) => l.join('/')).join(' < ');
    const from = layerOf(layers, here.domain);

    function check(node, source) {
      if (typeof source !== 'string' || !source.startsWith('.')) return;
      const target = locate(path.resolve(path.dirname(file), source));
      if (!target || target.service !== here.service || target.domain === here.domain) return;
      if (from < 0) {
        context.report({ node, messageId: 'unplaced', data: { domain: here.domain, service: here.service } });
        return;
      }
      if (target.domain === undefined) {
        const name = target.rest.replace(/\.(?:js|ts)$/, '');
        if (ROOT_FOR_DOMAINS.has(name) || SPEC.test(file)) return;
        context.report({ node, messageId: 'root', data: { target: name } });
        return;
      }
      const to = layerOf(layers, target.domain);
      if (to < 0) {
        context.report({
          node,
          messageId: 'unplaced',
          data: { domain: target.domain, service: here.service },
        });
        return;
      }
      if (to >= from) {
        context.report({
          node,
          messageId: 'upward',
          data: { from: here.domain, to: target.domain, service: here.service, order },
        });
      }
    }

    return {
      ImportDeclaration: (node) => check(node.source, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node.source, node.source.value),
      ExportAllDeclaration: (node) => check(node.source, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node.source, node.source.value),
    };
  },
};
