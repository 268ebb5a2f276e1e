/**
 * The engine worker's method registry: each method's params, result and the progress it streams
 * (`EngineMethods`, what the host's `EngineClient` is typed by) beside the handler that serves it
 * (`engineHandlers`, what worker.ts serves). The runtime (client, server, protocol) knows methods only as a
 * `MethodMap`, so no runtime file imports a task. To add a method: implement it in a module that takes its
 * services as arguments, then add its line to both tables here and its call to `Engine`.
 */
import type {
  AttentionResult,
  EmbedResult,
  FillResult,
  GenerateProgress,
  GenerateResult,
  LogLikelihoodProgress,
  LogLikelihoodResult,
  ScoreProgress,
  ScoreResult,
  TagResult,
} from './api';
import { logLikelihoods, type LogLikelihoodParams } from './eval/likelihood';
import type { WorkerServices } from './runtime/context';
import type { Handlers } from './runtime/server';
import { buildSenseIndex } from './senses/buildIndex';
import { contextVectors } from './senses/contextual';
import { sense } from './senses/sense';
import type { SenseMethods } from './senses/service';
import { attention, type AttentionParams } from './tasks/attention/attention';
import { embed, type EmbedParams } from './tasks/embed/embed';
import { fill, type FillParams } from './tasks/fill/fill';
import { generate, type GenerateParams } from './tasks/generate/generate';
import { score, type ScoreParams } from './tasks/score/score';
import { tag, type TagParams } from './tasks/tag/tag';

/** The production worker's methods (the sense service's own among them). All params, results and progress values must survive structured clone. */
export interface EngineMethods extends SenseMethods {
  attention: { params: AttentionParams; result: AttentionResult };
  embed: { params: EmbedParams; result: EmbedResult };
  fill: { params: FillParams; result: FillResult };
  generate: { params: GenerateParams; result: GenerateResult; progress: GenerateProgress };
  score: { params: ScoreParams; result: ScoreResult; progress: ScoreProgress };
  logLikelihoods: { params: LogLikelihoodParams; result: LogLikelihoodResult; progress: LogLikelihoodProgress };
  tag: { params: TagParams; result: TagResult };
}

/** The handler of each method, on the worker's services (sessions, configs). */
export function engineHandlers(services: WorkerServices): Handlers<EngineMethods> {
  return {
    attention: (params, ctx) => attention(params, ctx, services),
    embed: (params, ctx) => embed(params, ctx, services),
    sense: (params, ctx) => sense(params, ctx, services),
    contextVectors: (params, ctx) => contextVectors(params.model, params.sentences, params.positions, services, () => ctx.checkpoint()),
    buildSenseIndex: (params, ctx) => buildSenseIndex(params, ctx, services),
    fill: (params, ctx) => fill(params, ctx, services),
    generate: (params, ctx) => generate(params, ctx, services),
    score: (params, ctx) => score(params, ctx, services),
    logLikelihoods: (params, ctx) => logLikelihoods(params, ctx, services),
    tag: (params, ctx) => tag(params, ctx, services),
  };
}
