// Packaging test configuration: the .deb on a bare Debian root (root, debootstrap), man pages, unit, completion, alert rules.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/pkg/**/*.test.ts'],
    environment: 'node',
    fileParallelism: false,
    sequence: { concurrent: false },
    testTimeout: 120_000,
    hookTimeout: 2_400_000,
  },
});
