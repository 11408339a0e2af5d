import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'web/dist/**', 'data/**'] },
  js.configs.recommended,
  { languageOptions: { globals: { ...globals.node } } },
  { files: ['web/src/**'], languageOptions: { globals: { ...globals.browser } } },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.object.name='process'][callee.property.name='exit']",
          message: 'Library code never exits the process; throw a KaitiakiError.',
        },
      ],
    },
  },
  {
    // Domain folders never import the HTTP framework or the CLI parser (see shared/STYLE.md).
    files: [
      'src/core/**',
      'src/hashing/**',
      'src/signals/**',
      'src/index/**',
      'src/store/**',
      'src/research/**',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: ['fastify', '@fastify/*', 'commander', 'cli-progress', '../http/*', '../cli/*'] },
      ],
    },
  },
);
