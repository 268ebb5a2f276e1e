/** Worker services on real ONNX Runtime sessions that count each model's runs (tests of which models a request runs). */
import path from 'node:path';
import type { ModelInfo } from '../../../src/engine/api';
import { readModelConfig } from '../../../src/engine/modelStore';
import type { WorkerServices } from '../../../src/engine/runtime/context';
import { loadSession } from '../../../src/engine/runtime/ort';
import type { ModelSession } from '../../../src/engine/runtime/session';

export function countingServices(): { services: WorkerServices; runs: Record<string, number> } {
  const runs: Record<string, number> = {};
  const services: WorkerServices = {
    async session(model: ModelInfo): Promise<ModelSession> {
      const inner = await loadSession(path.join(model.path, 'onnx', 'model.onnx'), { threads: 1 });
      return {
        inputNames: inner.inputNames,
        outputNames: inner.outputNames,
        inputInfo: inner.inputInfo,
        outputInfo: inner.outputInfo,
        run(feeds, outputs) {
          runs[model.id] = (runs[model.id] ?? 0) + 1;
          return inner.run(feeds, outputs);
        },
      };
    },
    config: (model) => readModelConfig(model.path),
  };
  return { services, runs };
}
