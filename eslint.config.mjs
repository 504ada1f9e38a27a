// ESLint flat config: typescript-eslint's recommended rules (syntactic, fast).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'build/**',
      'node_modules/**',
      '.jupyter/**',
      'runs/**',
      'bench/results*',
      'coverage/**',
      'test-output/**',
      'environment/gpu-check/.bundle/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        __dirname: 'readonly',
        require: 'readonly',
        module: 'writable',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setImmediate: 'readonly',
        performance: 'readonly',
        URL: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      // Math.random is not seedable: library code uses createRng (architecture §6.3).
      'no-restricted-properties': [
        'error',
        { object: 'Math', property: 'random', message: 'Use createRng(seed) from src/random.ts.' },
      ],
    },
  },
  {
    files: ['**/*.cjs', 'environment/**/*.mjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
