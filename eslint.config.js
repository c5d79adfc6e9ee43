import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    rules: {
      // Indexed reads are checked by noUncheckedIndexedAccess; `!` states a proven bound.
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    // The playground's pages: plain JavaScript modules in a browser.
    files: ['site/**/*.js'],
    languageOptions: {
      globals: {
        document: 'readonly',
        location: 'readonly',
        WebAssembly: 'readonly',
        URL: 'readonly',
        fetch: 'readonly',
        window: 'readonly',
        Worker: 'readonly',
        OffscreenCanvas: 'readonly',
        postMessage: 'readonly',
        onmessage: 'writable',
      },
    },
  },
);
