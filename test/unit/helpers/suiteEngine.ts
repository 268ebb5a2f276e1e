import path from 'node:path';
import { after, before } from 'node:test';
import { Engine, modelDirectories } from '../../../src/engine/engine';
import { DIST, tempDir } from './modelFolders';

/**
 * For the enclosing describe: an Engine over the model folder `dir` (an extra folder, no shipped models) whose
 * rewritten graphs (attention, hidden states) go to a temporary cache, never into the fixture folders; handed to
 * `use` before the tests, disposed and its cache removed after them. Hooks run in the order they are registered:
 * call it after a `before` that writes the folder and before an `after` that removes it.
 */
export function suiteEngine(dir: string, cachePrefix: string, use: (engine: Engine) => void): void {
  const cache = tempDir(cachePrefix);
  let engine: Engine | undefined;
  before(() => {
    engine = new Engine({ modelDirectories: modelDirectories(undefined, [dir]), workerPath: path.join(DIST, 'worker.js'), cacheDir: cache.dir });
    use(engine);
  });
  after(async () => {
    await engine?.dispose();
    cache.remove();
  });
}
