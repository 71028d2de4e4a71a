// The workspace's own lint rules (local ESLint plugin `cloud-connect`).
'use strict';

const routeAccess = require('./route-access');
const layeredImports = require('./layered-imports');

module.exports = {
  meta: { name: 'eslint-plugin-cloud-connect' },
  rules: { 'route-access': routeAccess, 'layered-imports': layeredImports },
};
