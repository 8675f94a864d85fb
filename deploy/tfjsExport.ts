/**
 * The policy as a TensorFlow.js layers model: a tfl.sequential of dense layers with the widths
 * and activations of model/params.ts (tanh hidden layers, linear logits), its weights set from
 * the flat vector (each layer's W is stored in x out, row-major: exactly a dense kernel), and
 * saved as `model.json` + `weights.bin` (the format `tfl.loadLayersModel` reads), with
 * `policy.json` (the head; for box actions the learned log-stds and the box). Only the policy
 * network is exported: its output is the logits (discrete) or the Gaussian mean (box).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { ModelSpec } from '../model/spec.js';
import { layerOffsets, logStdOffset, paramCount } from '../model/params.js';
import { headOf } from '../model/spec.js';

export const MODEL_FILE = 'model.json';
export const WEIGHTS_FILE = 'weights.bin';
export const POLICY_FILE = 'policy.json';

/**
 * What the layers model alone does not say, written as DIR/policy.json: the head, and for box
 * actions the learned state-independent log standard deviations (one per action dimension) and
 * the box. A Gaussian policy acts by mean + exp(logStd) * N(0, 1), clipped to [low, high]; the
 * model's output is the mean. A categorical policy samples from softmax(logits).
 */
export interface PolicyInfo {
  envId: string;
  version: number;
  obsDim: number;
  head: 'categorical' | 'gaussian';
  /** Width of the model's output: discrete actions (logits) or action dimensions (the mean). */
  nActions: number;
  output: 'logits' | 'mean';
  logStd: number[] | null;
  box: { low: number[]; high: number[] } | null;
}

/** The policy.json of a saved policy (params: the flat vector, log-stds included). */
export function policyInfo(
  spec: ModelSpec,
  params: ArrayLike<number>,
  o: { envId: string; version: number; box: { low: ArrayLike<number>; high: ArrayLike<number> } | null },
): PolicyInfo {
  const gaussian = headOf(spec) === 'gaussian';
  const so = logStdOffset(spec);
  return {
    envId: o.envId,
    version: o.version,
    obsDim: spec.obsDim,
    head: gaussian ? 'gaussian' : 'categorical',
    nActions: spec.nActions,
    output: gaussian ? 'mean' : 'logits',
    logStd: gaussian ? Array.from({ length: spec.nActions }, (_, j) => Number(params[so + j])) : null,
    box: gaussian && o.box ? { low: Array.from(o.box.low), high: Array.from(o.box.high) } : null,
  };
}

/** Write DIR/policy.json; returns its path. */
export function savePolicyInfo(info: PolicyInfo, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, POLICY_FILE);
  writeFileSync(file, JSON.stringify(info, null, 2) + '\n');
  return file;
}

/** A tfl.Sequential computing the policy logits of `params` (float32 copies of the weights). */
export function policyLayersModel(spec: ModelSpec, params: ArrayLike<number>): tfl.Sequential {
  if (params.length !== paramCount(spec)) throw new RangeError(`params has ${params.length} floats, the model needs ${paramCount(spec)}`);
  const layers = layerOffsets(spec).filter((l) => l.net === 'policy');
  const model = tfl.sequential();
  layers.forEach((L, i) => {
    model.add(
      tfl.layers.dense({
        units: L.outDim,
        activation: L.isOutput ? 'linear' : 'tanh',
        name: L.isOutput ? 'logits' : `hidden${i}`,
        ...(i === 0 ? { inputShape: [spec.obsDim] } : {}),
      }),
    );
  });
  const weights: tf.Tensor[] = [];
  for (const L of layers) {
    weights.push(
      tf.tensor2d(Float32Array.from(Array.prototype.slice.call(params, L.wOffset, L.wOffset + L.inDim * L.outDim) as number[]), [
        L.inDim,
        L.outDim,
      ]),
    );
    weights.push(tf.tensor1d(Float32Array.from(Array.prototype.slice.call(params, L.bOffset, L.bOffset + L.outDim) as number[])));
  }
  model.setWeights(weights);
  tf.dispose(weights);
  return model;
}

/** Save `model` as DIR/model.json + DIR/weights.bin; returns the files written. */
export async function saveLayersModel(model: tfl.LayersModel, dir: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const files = [path.join(dir, MODEL_FILE), path.join(dir, WEIGHTS_FILE)];
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      const data = a.weightData;
      if (!data || Array.isArray(data)) throw new Error('expected the weights as one buffer');
      writeFileSync(files[1], Buffer.from(data));
      writeFileSync(
        files[0],
        JSON.stringify({
          format: 'layers-model',
          generatedBy: `TensorFlow.js tfjs-layers v${tfl.version_layers}`,
          convertedBy: 'isreshape export',
          modelTopology: a.modelTopology,
          weightsManifest: [{ paths: [WEIGHTS_FILE], weights: a.weightSpecs }],
        }) + '\n',
      );
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: data.byteLength } };
    }),
  );
  return files;
}

/** Load DIR/model.json + its weights with tfl.loadLayersModel (from memory: no file:// handler without tfjs-node). */
export async function loadLayersModelDir(dir: string): Promise<tfl.LayersModel> {
  const json = JSON.parse(readFileSync(path.join(dir, MODEL_FILE), 'utf8')) as {
    modelTopology: object;
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  const specs = json.weightsManifest.flatMap((g) => g.weights);
  const bufs = json.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(path.join(dir, p))));
  const all = Buffer.concat(bufs);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  return tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData }));
}
