/**
 * predict(model, image): top-k classes with probabilities, as the torchvision weights' docs do it —
 * eval mode, no gradients, the ImageNet evaluation preprocessing (Resize 256, CenterCrop 224, scale to
 * [0, 1], ImageNet mean/std) unless a transform is given, softmax, topk.
 */
import { checkInt } from '../checks';
import { noGrad } from '../autograd';
import { TorchError, argError, describe } from '../errors';
import { softmax } from '../nn/functional';
import type { Module } from '../nn/module';
import { tidy } from '../scope';
import { Tensor } from '../tensor';
import { IMAGENET_CLASSES } from './imagenet';
import { readImage } from './io';
import { CenterCrop, Compose, IMAGENET_MEAN, IMAGENET_STD, Normalize, Resize, ToTensor, type Transform } from './transforms';

/** One class predict() returns. */
export interface Prediction {
  /** The class index. */
  index: number;
  /** The class name (from `labels`). */
  label: string;
  /** The softmax probability. */
  probability: number;
}

/** The options of predict(). */
export interface PredictOptions {
  /** How many classes to return (default 5). */
  topk?: number;
  /** Class names by index; ImageNet's 1000 by default. */
  labels?: readonly string[];
  /** Preprocessing for a uint8 [3, H, W] image; ImageNet evaluation preprocessing by default (resizeTo/cropTo set its sizes). */
  transform?: Transform | ((img: Tensor) => Tensor);
  /** The default preprocessing's Resize size (default 256). */
  resizeTo?: number;
  /** The default preprocessing's CenterCrop size (default 224). */
  cropTo?: number;
}

/** Resize(256), CenterCrop(224), ToTensor(), Normalize(ImageNet): torchvision's ImageClassification preset. */
export function imagenetEvalTransform(resizeTo = 256, cropTo = 224): Compose {
  return new Compose([new Resize(resizeTo), new CenterCrop(cropTo), new ToTensor(), new Normalize(IMAGENET_MEAN, IMAGENET_STD)]);
}

/**
 * Classifies one image: a uint8 [3, H, W] tensor, an image file path or encoded bytes. The model is put
 * in eval mode for the call and back in the mode it was in afterwards.
 */
export async function predict(model: Module, image: Tensor | string | Uint8Array, options: PredictOptions = {}): Promise<Prediction[]> {
  const fn = 'predict()';
  if (!model || typeof (model as Module).call !== 'function' || typeof (model as Module).train !== 'function') argError(fn, 'model', 'an nn.Module', model);
  const labels = options.labels ?? IMAGENET_CLASSES;
  if (!Array.isArray(labels)) argError(fn, 'labels', 'an array of class names', labels);
  const topk = options.topk ?? 5;
  checkInt(fn, 'topk', topk, 1);
  let owned: Tensor | null = null;
  if (!(image instanceof Tensor)) {
    if (typeof image !== 'string' && !(image instanceof Uint8Array)) argError(fn, 'image', 'a uint8 [3, H, W] tensor, an image path or encoded bytes', image);
    owned = await readImage(image, { mode: 'RGB' });
  }
  const img = owned ?? (image as Tensor);
  try {
    if (img.dim() !== 3) throw new TorchError(`${fn}: expected one image [3, H, W], got shape [${img.shape.join(', ')}]`, 'ERR_TORCH_ARG');
    const transform = options.transform ?? imagenetEvalTransform(options.resizeTo, options.cropTo);
    const wasTraining = model.training;
    model.eval();
    try {
      return tidy(() =>
        noGrad(() => {
          const x = typeof transform === 'function' ? transform(img) : transform.call(img);
          const logits = model.call(x.unsqueeze(0));
          if (!(logits instanceof Tensor) || logits.dim() !== 2)
            throw new TorchError(`${fn}: the model returned ${describe(logits)}; expected logits [1, classes]`, 'ERR_TORCH_ARG');
          const n = logits.shape[1];
          if (labels.length !== n) throw new TorchError(`${fn}: the model has ${n} classes but ${labels.length} labels were given`, 'ERR_TORCH_ARG');
          const probs = softmax(logits.squeeze(0), 0);
          const { values, indices } = probs.topk(Math.min(topk, n));
          const p = values.tolist() as number[];
          return (indices.tolist() as number[]).map((index, i) => ({ index, label: labels[index], probability: p[i] }));
        }),
      );
    } finally {
      model.train(wasTraining);
    }
  } finally {
    owned?.dispose();
  }
}
