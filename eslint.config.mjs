import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default [
  { ignores: ['node_modules/**', 'dist/**', '.local/**', 'coverage/**', '**/*.cjs', '**/*.mjs', '**/*.js'] },
  ...tseslint.configs.recommended,
  prettier,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      // Services never import each other; libs never import services; only the kafka lib imports a Kafka client.
      '@nx/enforce-module-boundaries': [
        'error',
        {
          allow: [],
          enforceBuildableLibDependency: false,
          depConstraints: [
            { sourceTag: 'type:service', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:lib', 'type:service', 'type:tool'] },
            { sourceTag: 'type:test', onlyDependOnLibsWithTags: ['type:lib', 'type:service', 'type:tool'] },
            { sourceTag: 'scope:webhook-ingress', onlyDependOnLibsWithTags: ['scope:shared', 'scope:webhook-ingress'] },
            { sourceTag: 'scope:outbound-gateway', onlyDependOnLibsWithTags: ['scope:shared', 'scope:outbound-gateway'] },
            { sourceTag: 'scope:template-registry', onlyDependOnLibsWithTags: ['scope:shared', 'scope:template-registry'] },
            { sourceTag: 'scope:notification-scheduler', onlyDependOnLibsWithTags: ['scope:shared', 'scope:notification-scheduler'] },
            { sourceTag: 'scope:chatbot', onlyDependOnLibsWithTags: ['scope:shared', 'scope:chatbot'] },
            { sourceTag: 'scope:handoff-router', onlyDependOnLibsWithTags: ['scope:shared', 'scope:handoff-router'] },
          ],
        },
      ],
    },
  },
  {
    files: ['libs/**/*.ts', 'services/**/*.ts'],
    ignores: ['libs/kafka/**', 'libs/testing/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'kafkajs', message: 'Use @wa/kafka: it is the only place that talks to kafkajs.' },
            { name: '@platformatic/kafka', message: 'Use @wa/kafka: it is the only place that talks to a Kafka client.' },
          ],
        },
      ],
    },
  },
];
