/**
 * Pretrained weights for torch.vision.models: never downloaded by us. `weights` is a path to a
 * .pth/.pt/.safetensors file, a state dict, or the name of a torchvision weights enum entry
 * ('IMAGENET1K_V1', 'DEFAULT', ...), which is looked up in PyTorch's own cache
 * ($TORCH_HOME/hub/checkpoints, default ~/.cache/torch/hub/checkpoints) under torchvision's file name —
 * so weights that torchvision in Python already downloaded are found.
 *
 * With weights and a numClasses other than the file's, the classifier head is built anew and the rest
 * loaded strictly: the transfer-learning recipe in one call, with a report of what was loaded and new.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { TorchError, argError, checkOptions, describe } from '../errors';
import type { Module } from '../nn/module';
import { tidy } from '../scope';
import { load } from '../serialization/torch-file';
import { loadFile as loadSafetensors } from '../serialization/safetensors';
import { Tensor } from '../tensor';

/** Pretrained weights as a model builder takes them: a file path (.pth, .pt, .safetensors), a state dict, or a torchvision weights name (`'DEFAULT'`, `'IMAGENET1K_V1'`, ...) looked up in PyTorch's hub cache. */
export type Weights = string | Map<string, Tensor> | Record<string, Tensor>;

/** The options every model builder takes (`resnet18({ weights: 'DEFAULT', numClasses: 10 })`), as torchvision's `weights=` and `num_classes=`. */
export interface ModelOptions {
  /** Output classes; with weights, defaults to the weights' own (a different number rebuilds the head). */
  numClasses?: number;
  /** A file path, a state dict, or a torchvision weights name ('DEFAULT', 'IMAGENET1K_V1', ...). */
  weights?: Weights | null;
  /** Print what was loaded and what is new (default true when the head is rebuilt). */
  report?: boolean;
}

/** What withWeights() did, kept on the model as `model.weightsReport`. */
export interface WeightsReport {
  /** Where the weights came from (a file path, or 'the state dict given'). */
  source: string;
  /** The state-dict keys loaded from the weights. */
  loaded: string[];
  /** Keys built anew (the head), with the reason. */
  newKeys: string[];
  /** The model's number of output classes. */
  numClasses: number;
}

export interface ArchSpec {
  /** torchvision's builder name, e.g. 'resnet18'. */
  name: string;
  /** State-dict keys of the classifier head whose first dimension is numClasses, e.g. ['fc.weight', 'fc.bias']. */
  head: string[];
  /** torchvision weights names -> their file names in the hub cache; 'DEFAULT' must be among them. */
  files: Record<string, string>;
  defaultClasses?: number;
}

/** $TORCH_HOME/hub/checkpoints, as torch.hub.get_dir() computes it. */
export function hubCheckpointsDir(): string {
  const torchHome = process.env.TORCH_HOME || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'torch');
  return path.join(torchHome, 'hub', 'checkpoints');
}

/** Reads weights into a state dict (owned by the current scope); `source` describes where they came from. */
export function readWeights(fn: string, spec: ArchSpec, weights: Weights): { sd: Map<string, Tensor>; source: string } {
  if (weights instanceof Map) return { sd: weights, source: 'the state dict given' };
  if (typeof weights === 'object' && weights !== null) return { sd: new Map(Object.entries(weights)), source: 'the state dict given' };
  if (typeof weights !== 'string' || !weights) argError(fn, 'weights', "a file path, a state dict, or a torchvision weights name such as 'DEFAULT'", weights);
  let file = weights;
  if (/^[A-Z][A-Z0-9_]*$/.test(weights) && !fs.existsSync(weights)) {
    const name = spec.files[weights];
    if (!name) {
      throw new TorchError(`${fn}: no torchvision weights named '${weights}' for ${spec.name}; known: ${Object.keys(spec.files).join(', ')}`, 'ERR_TORCH_ARG');
    }
    const dir = hubCheckpointsDir();
    file = path.join(dir, name);
    if (!fs.existsSync(file)) {
      throw new TorchError(
        `${fn}: the ${spec.name} weights '${weights}' are torchvision's file ${name}, expected in ${dir} (PyTorch's hub cache; ` +
          `$TORCH_HOME moves it). torch-node downloads nothing: get it once with Python torchvision ` +
          `(torchvision.models.${spec.name}(weights='${weights}')) or copy the file there, or pass its path as weights`,
        'ERR_TORCH_FILE',
      );
    }
  } else if (!fs.existsSync(file)) {
    throw new TorchError(`${fn}: weights file ${file} does not exist`, 'ERR_TORCH_FILE');
  }
  const loaded = /\.safetensors$/i.test(file) ? loadSafetensors(file) : load(file, { mapLocation: 'cpu' });
  let sd: unknown = loaded;
  // Checkpoints that wrap the weights: {'state_dict': ...} or {'model_state_dict': ...}
  if (sd instanceof Map && ![...sd.values()].some((v) => v instanceof Tensor)) {
    const outer = sd;
    for (const k of ['state_dict', 'model_state_dict', 'model']) if (outer.get(k) instanceof Map) sd = outer.get(k);
  }
  if (!(sd instanceof Map) || ![...sd.values()].every((v) => v instanceof Tensor)) {
    throw new TorchError(`${fn}: ${file} holds ${describe(sd)}, not a state dict of tensors`, 'ERR_TORCH_FILE');
  }
  return { sd: sd as Map<string, Tensor>, source: file };
}

/**
 * Builds `make(numClasses)` and loads weights if given (see the file comment). The head is rebuilt
 * when numClasses differs from the weights' head; every other key must match (strict).
 */
export function withWeights<M extends Module>(fn: string, spec: ArchSpec, options: ModelOptions | undefined, make: (numClasses: number) => M): M {
  const o = options ?? {};
  if (typeof o !== 'object') argError(fn, 'options', '{ numClasses, weights }', o);
  if ('pretrained' in o) {
    throw new TorchError(
      `${fn}: 'pretrained' is gone from torchvision (since 0.13) and from torch-node: ` +
        ((o as { pretrained?: unknown }).pretrained
          ? "pass { weights: 'IMAGENET1K_V1' } (or 'DEFAULT'), as torchvision's weights='IMAGENET1K_V1'"
          : 'omit it; no weights is the default'),
      'ERR_TORCH_ARG',
    );
  }
  checkOptions(fn, o, ['numClasses', 'weights', 'report']);
  if (o.numClasses !== undefined && (!Number.isInteger(o.numClasses) || o.numClasses < 1)) argError(fn, 'numClasses', 'a positive integer', o.numClasses);
  if (o.weights == null) return make(o.numClasses ?? spec.defaultClasses ?? 1000);
  return tidy(() => {
    const { sd, source } = readWeights(fn, spec, o.weights!);
    const headW = sd.get(spec.head[0]);
    if (!(headW instanceof Tensor)) {
      throw new TorchError(
        `${fn}: ${source} has no '${spec.head[0]}', so it is not a ${spec.name} state dict (its first keys: ${[...sd.keys()].slice(0, 5).join(', ')})`,
        'ERR_TORCH_FILE',
      );
    }
    const fileClasses = headW.shape[0];
    const numClasses = o.numClasses ?? fileClasses;
    const model = make(numClasses);
    const rebuild = numClasses !== fileClasses;
    const body = rebuild ? new Map([...sd].filter(([k]) => !spec.head.includes(k))) : sd;
    let r: ReturnType<typeof model.loadStateDict>;
    try {
      r = model.loadStateDict(body, { strict: false });
    } catch (e) {
      model.dispose(); // a shape mismatch: nothing built survives the failed call
      throw e;
    }
    const missing = r.missingKeys.filter((k) => !(rebuild && spec.head.includes(k)));
    if (missing.length || r.unexpectedKeys.length) {
      model.dispose();
      throw new TorchError(
        `${fn}: ${source} does not fit ${spec.name}: ` +
          [missing.length ? `missing ${missing.join(', ')}` : '', r.unexpectedKeys.length ? `unexpected ${r.unexpectedKeys.join(', ')}` : '']
            .filter(Boolean)
            .join('; '),
        'ERR_TORCH_STATE_DICT',
      );
    }
    const report: WeightsReport = { source, loaded: [...body.keys()], newKeys: rebuild ? [...spec.head] : [], numClasses };
    (model as unknown as { weightsReport: WeightsReport }).weightsReport = report;
    if (o.report ?? rebuild) {
      console.log(
        `${spec.name}: loaded ${report.loaded.length} tensors from ${source}` +
          (rebuild ? `; new head ${spec.head.join(', ')} for ${numClasses} classes (the weights have ${fileClasses})` : ''),
      );
    }
    return model;
  });
}
