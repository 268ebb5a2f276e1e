// The e2e steps and the benchmarks are plain ES modules that call TypeScript of src/ and test/ (payload builders,
// test fixtures): esbuild bundles the named exports into one CommonJS file for the run, which is then required.
import * as esbuild from 'esbuild';
import { createRequire } from 'node:module';

/**
 * Bundles `exports` ({ './src/x': ['a', 'b'] }, paths relative to `root`) into `outfile` and returns the module.
 */
export async function requireTs(root, outfile, exports) {
  const contents = Object.entries(exports).map(([from, names]) => `export { ${names.join(', ')} } from '${from}';`).join('\n');
  await esbuild.build({
    stdin: { contents, resolveDir: root, loader: 'ts' },
    bundle: true, platform: 'node', format: 'cjs', outfile, logLevel: 'warning',
  });
  return createRequire(import.meta.url)(outfile);
}
