// Builds the console's web app into the workspace's dist (scripts/build.mjs runs it).
import react from '@vitejs/plugin-react';
import { resolve } from 'node:path';
import { defineConfig } from 'vite';

const root = import.meta.dirname;
const dist = resolve(root, '..', '..', '..', process.env.CC_DIST_DIR ?? 'dist');

export default defineConfig({
  root,
  base: '/',
  plugins: [react()],
  logLevel: 'warn',
  build: {
    outDir: resolve(dist, 'services', 'console', 'web'),
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 1500,
  },
});
