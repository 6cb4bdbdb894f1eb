// Test runner configuration: unit, simulated-segment and socket tests; the netns lab, VM and packaging suites have their own configs.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/lab/**', 'test/vm/**', 'test/pkg/**', '**/node_modules/**'],
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
