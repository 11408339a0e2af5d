import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { readdirSync } from 'node:fs';
import globals from 'globals';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

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
  // Each folder of src/ imports only folders on lower floors; domain floors never the HTTP framework or CLI parser (see "Architecture" in the README).
  ...layerRules(),
  {
    // No file imports itself back through others, anywhere in src/.
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: 'tsconfig.json' })],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx'] },
      'import-x/extensions': ['.ts', '.tsx', '.js'],
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
);

/**
 * The floors of src/, lowest first. A folder may import folders on lower floors only: never one above it, never a
 * neighbour on its own floor. src/context.ts (the composition root) and src/library.ts (the library's entry) sit
 * above every domain folder; http/ above the root, cli/ (whose serve starts the server) above http/, bin/ on top.
 */
function layerRules() {
  const floors = [
    ['core', 'types'],
    ['auth', 'config', 'hashing'],
    // media/ stands above hashing/: its drill variants are measured with the project's own PDQ/vPDQ.
    ['index', 'media'],
    ['signals'],
    ['store'],
    ['accounts', 'actions', 'banks', 'jobs', 'matching', 'research', 'sharing'],
    // External lists as sources: they read list files with the bank import's CSV reader (banks/).
    ['sources'],
    ['transparency'],
    ['appeals', 'crisis', 'orders'],
    ['review'],
    ['context'],
    ['http'],
    ['cli'],
    ['bin'],
  ];
  // A new folder must be given its floor: an unplaced folder would be free to import anything.
  const placed = new Set(floors.flat());
  for (const entry of readdirSync('src', { withFileTypes: true }))
    if (entry.isDirectory() && !placed.has(entry.name))
      throw new Error(`src/${entry.name}/ has no floor: add it to layerRules() in eslint.config.js`);
  const rules = [];
  floors.forEach((floor, level) => {
    for (const folder of floor) {
      if (folder === 'context') continue;
      const above = floors
        .slice(level)
        .flat()
        .filter((other) => other !== folder);
      const patterns = above.map((other) =>
        other === 'context'
          ? {
              group: ['**/context.js', '!**/commands/context.js'],
              message: 'only http/ and cli/ use the composition root',
            }
          : {
              group: [`**/${other}/**`],
              message: `${folder}/ is below ${other}/ (see the floors in eslint.config.js)`,
            },
      );
      rules.push({
        files: [`src/${folder}/**`],
        rules: {
          'no-restricted-imports': [
            'error',
            {
              patterns: [
                ...patterns,
                ...(level <= 4
                  ? [
                      {
                        group: ['fastify', '@fastify/*', 'commander', 'cli-progress'],
                        message: 'domain folders never import the HTTP framework or the CLI parser',
                      },
                    ]
                  : []),
              ],
            },
          ],
        },
      });
    }
  });
  return rules;
}
