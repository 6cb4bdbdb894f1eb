// Lint rules; the second block is the wall around the pure core (no Node I/O, no clock, no timers).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { floorsPlugin } from './eslint-floors.js';

const nodeBuiltins = [
  'assert', 'buffer', 'child_process', 'cluster', 'crypto', 'dgram', 'dns', 'events', 'fs',
  'fs/promises', 'http', 'https', 'net', 'os', 'path', 'perf_hooks', 'process', 'readline',
  'stream', 'timers', 'timers/promises', 'tls', 'tty', 'url', 'util', 'worker_threads', 'zlib',
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'build/**', 'native/**', 'coverage/**', '.cache/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        console: 'readonly', process: 'readonly', Buffer: 'readonly', setTimeout: 'readonly',
        clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly',
        setImmediate: 'readonly', URL: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly',
        performance: 'readonly', queueMicrotask: 'readonly', structuredClone: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    // The floors of src/ (eslint-floors.js): imports only go down, never up or sideways.
    files: ['src/**/*.ts'],
    plugins: { floors: floorsPlugin },
    rules: { 'floors/no-upward-import': 'error' },
  },
  {
    // The pure core: codec, state machine, and the cores of the check loop and the track script.
    // Time is an argument, effects are returned actions.
    files: ['src/protocol/**/*.ts', 'src/engine/**/*.ts', 'src/sim/**/*.ts', 'src/checks/core.ts', 'src/daemon/track-core.ts', 'src/daemon/snmp-mib.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: nodeBuiltins.flatMap((m) => [
          { name: m, message: 'The pure core must not import Node I/O; return an action instead.' },
          { name: `node:${m}`, message: 'The pure core must not import Node I/O; return an action instead.' },
        ]),
        patterns: [
          { group: ['node:*'], message: 'The pure core must not import Node built-ins.' },
          { group: ['**/net/**', '**/ipvs/**', '**/control/**', '**/config/**', '**/daemon*', '**/cli*', 'pino'],
            message: 'The pure core must not depend on the shell.' },
        ],
      }],
      'no-restricted-globals': ['error',
        ...['setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval', 'queueMicrotask',
          'process', 'performance', 'Buffer', 'require', 'fetch', 'console'].map((name) => ({
          name, message: 'The pure core has no timers, clock, process or I/O: take it as an argument.' })),
      ],
      'no-restricted-properties': ['error',
        { object: 'Date', property: 'now', message: 'Time is an argument in the pure core.' },
        { object: 'performance', property: 'now', message: 'Time is an argument in the pure core.' },
        { object: 'process', property: 'hrtime', message: 'Time is an argument in the pure core.' },
        { object: 'Math', property: 'random', message: 'Randomness must be injected into the pure core.' },
      ],
      'no-restricted-syntax': ['error',
        { selector: "NewExpression[callee.name='Date']", message: 'new Date() reads the clock; time is an argument.' },
        { selector: "CallExpression[callee.name='Date']", message: 'Date() reads the clock; time is an argument.' },
        { selector: "ImportExpression", message: 'No dynamic import in the pure core.' },
      ],
    },
  },
);
