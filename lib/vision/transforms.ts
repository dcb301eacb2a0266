/**
 * torch.vision.transforms: torchvision's image transforms on [C, H, W] (or [N, C, H, W]) tensors, with its
 * arithmetic (resize and crop sizes, antialiasing, the random draws from the global generator), as classes
 * (Compose, Resize, CenterCrop, ...) and functions (hflip, centerCrop, normalize, ...).
 * @module
 */
import { empty, rand, randint, tensor } from '../creation';
import { TorchError, argError, describe } from '../errors';
import { uniform_ } from '../nn/init';
import { tidy } from '../scope';
import { Tensor, idOf } from '../tensor';
import { callOp as call } from '../ops/call';

/** Python's round(): halves go to the even neighbour. */
function pyRound(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function checkImage(fn: string, img: unknown): Tensor {
  if (!(img instanceof Tensor) || img.dim() < 3) {
    throw new TorchError(
      `${fn}: expected an image tensor [C, H, W] or [N, C, H, W], got ${img instanceof Tensor ? `shape [${img.shape.join(', ')}]` : describe(img)}`,
      'ERR_TORCH_ARG',
    );
  }
  return img;
}

function hw(img: Tensor): [number, number] {
  const s = img.shape;
  return [s[s.length - 2], s[s.length - 1]];
}

/** How resizing samples: `'bilinear'` (default) or `'nearest'` (torchvision's InterpolationMode). */
export type Interpolation = 'bilinear' | 'nearest';
/** An output size: one number (the smaller edge for Resize, a square for crops) or [h, w]. */
export type Size = number | [number] | [number, number];

function sizeArg(fn: string, size: unknown, single: boolean): number[] {
  const list = typeof size === 'number' ? [size] : Array.isArray(size) ? size : null;
  if (!list || list.length < 1 || list.length > 2 || !list.every((v) => Number.isInteger(v) && v > 0)) {
    argError(fn, 'size', single ? 'a positive integer or [h, w]' : 'a positive integer, [size] or [h, w]', size);
  }
  return list as number[];
}

// ---- functional ----------------------------------------------------------------------------------

/** torchvision's _compute_resized_output_size: one number sizes the smaller edge (the other truncated). */
export function resizedSize(height: number, width: number, size: number[], maxSize?: number): [number, number] {
  if (size.length === 2) return [size[0], size[1]];
  const [short, long] = width <= height ? [width, height] : [height, width];
  let newShort = size[0];
  let newLong = Math.trunc((newShort * long) / short);
  if (maxSize !== undefined) {
    if (maxSize <= newShort)
      throw new TorchError(`Resize(): maxSize (${maxSize}) must be greater than the requested size of the smaller edge (${newShort})`, 'ERR_TORCH_ARG');
    if (newLong > maxSize) {
      newShort = Math.trunc((maxSize * newShort) / newLong);
      newLong = maxSize;
    }
  }
  return width <= height ? [newLong, newShort] : [newShort, newLong];
}

/** Resizes to exactly [h, w] (float math; uint8 in, rounded uint8 out), as torchvision's tensor resize. */
export function resizeTo(img: Tensor, h: number, w: number, interpolation: Interpolation = 'bilinear', antialias = true): Tensor {
  return tidy(() => {
    const dtype = img.dtype;
    const isFloat = dtype === 'float32' || dtype === 'float64';
    const squeeze = img.dim() === 3;
    let x = squeeze ? img.unsqueeze(0) : img;
    if (!isFloat) x = x.to('float32');
    const id = idOf(x, 'resize()', 'img');
    if (interpolation === 'nearest') x = call('upsample_nearest2d', id, [h, w], null, null);
    else if (antialias) x = call('_upsample_bilinear2d_aa', id, [h, w], false, null, null);
    else x = call('upsample_bilinear2d', id, [h, w], false, null, null);
    if (squeeze) x = x.squeeze(0);
    if (!isFloat) x = (interpolation === 'nearest' ? x : x.round()).to(dtype);
    return x;
  });
}

/** img[..., top:top+height, left:left+width], zero-padded where the box leaves the image (torchvision's crop). */
export function crop(img: Tensor, top: number, left: number, height: number, width: number): Tensor {
  const [h, w] = hw(checkImage('crop()', img));
  return tidy(() => {
    const right = left + width;
    const bottom = top + height;
    if (left < 0 || top < 0 || right > w || bottom > h) {
      const cropped = img
        .narrow(-2, Math.max(top, 0), Math.min(bottom, h) - Math.max(top, 0))
        .narrow(-1, Math.max(left, 0), Math.min(right, w) - Math.max(left, 0));
      const pad = [Math.max(-left, 0), Math.max(right - w, 0), Math.max(-top, 0), Math.max(bottom - h, 0)];
      return call('constant_pad_nd', idOf(cropped.contiguous(), 'crop()', 'img'), pad, 0);
    }
    return img.narrow(-2, top, height).narrow(-1, left, width).contiguous();
  });
}

/** torchvision's `F.hflip`: the image mirrored left to right. */
export function hflip(img: Tensor): Tensor {
  return call('flip', idOf(checkImage('hflip()', img), 'hflip()', 'img'), [-1]);
}

/** torchvision's `F.center_crop(img, output_size)`: the central [h, w] box, zero-padded where the image is smaller. */
export function centerCrop(img: Tensor, size: Size): Tensor {
  const fn = 'centerCrop()';
  checkImage(fn, img);
  const s = sizeArg(fn, size, false);
  const [ch, cw] = s.length === 1 ? [s[0], s[0]] : s;
  let [h, w] = hw(img);
  return tidy(() => {
    let x = img;
    if (cw > w || ch > h) {
      const pad = [cw > w ? (cw - w) >> 1 : 0, cw > w ? (cw - w + 1) >> 1 : 0, ch > h ? (ch - h) >> 1 : 0, ch > h ? (ch - h + 1) >> 1 : 0];
      x = call('constant_pad_nd', idOf(img, fn, 'img'), pad, 0);
      [h, w] = hw(x);
      if (cw === w && ch === h) return x;
    }
    return crop(x, pyRound((h - ch) / 2), pyRound((w - cw) / 2), ch, cw);
  });
}

/** torchvision's `F.normalize(tensor, mean, std)`: (img - mean) / std per channel, on a float image. */
export function normalize(img: Tensor, mean: number[], std: number[]): Tensor {
  const fn = 'normalize()';
  checkImage(fn, img);
  if (img.dtype !== 'float32' && img.dtype !== 'float64')
    throw new TorchError(`${fn}: expected a float image (use ToTensor first), got ${img.dtype}`, 'ERR_TORCH_ARG');
  const c = img.shape[img.dim() - 3];
  for (const [name, v] of [
    ['mean', mean],
    ['std', std],
  ] as const) {
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'number') || (v.length !== c && v.length !== 1))
      argError(fn, name, `${c} numbers (one per channel)`, v);
  }
  if (std.some((s) => s === 0)) throw new TorchError(`${fn}: std ${JSON.stringify(std)} has a zero, which would divide by zero`, 'ERR_TORCH_ARG');
  return tidy(() => {
    const m = tensor(mean, { dtype: img.dtype }).view(-1, 1, 1);
    const s = tensor(std, { dtype: img.dtype }).view(-1, 1, 1);
    return img.sub(m).div(s);
  });
}

// ---- transform classes ---------------------------------------------------------------------------

/** A transform: call(img) returns the transformed image (a new tensor in the caller's scope). */
export abstract class Transform {
  /** Applies the transform: a new image tensor (the input is left as it is). */
  abstract call(img: Tensor): Tensor;
  /** The same as call(), as torchvision's transforms are modules. */
  forward(img: Tensor): Tensor {
    return this.call(img);
  }
}

/** torchvision's `transforms.Compose(transforms)`: applies the transforms in order. */
export class Compose extends Transform {
  /** The transforms, in order. */
  readonly transforms: Transform[];
  constructor(transforms: Transform[]) {
    super();
    if (!Array.isArray(transforms) || !transforms.every((t) => t && typeof (t as Transform).call === 'function')) {
      argError('Compose()', 'transforms', 'an array of transforms', transforms);
    }
    this.transforms = [...transforms];
  }
  call(img: Tensor): Tensor {
    return tidy(() => this.transforms.reduce((x, t) => t.call(x), img));
  }
}

/**
 * torchvision's `transforms.Resize(size, interpolation=BILINEAR, max_size=None, antialias=True)`: one number resizes the
 * smaller edge to it (keeping the aspect ratio), [h, w] resizes to exactly that.
 */
export class Resize extends Transform {
  /** [edge] or [h, w]. */
  readonly size: number[];
  /** `'bilinear'` or `'nearest'`. */
  readonly interpolation: Interpolation;
  /** With a one-number size: the longer edge is capped at maxSize. */
  readonly maxSize: number | undefined;
  /** Whether downscaling is antialiased (default true). */
  readonly antialias: boolean;
  constructor(size: Size, options: { interpolation?: Interpolation; maxSize?: number; antialias?: boolean } = {}) {
    super();
    this.size = sizeArg('Resize()', size, false);
    this.interpolation = checkInterpolation('Resize()', options.interpolation);
    if (options.maxSize !== undefined && (!Number.isInteger(options.maxSize) || options.maxSize < 1))
      argError('Resize()', 'maxSize', 'a positive integer', options.maxSize);
    if (options.maxSize !== undefined && this.size.length === 2)
      throw new TorchError('Resize(): maxSize applies only when size is one number (the smaller edge)', 'ERR_TORCH_ARG');
    this.maxSize = options.maxSize;
    this.antialias = options.antialias ?? true;
  }
  call(img: Tensor): Tensor {
    const [h, w] = hw(checkImage('Resize', img));
    const [nh, nw] = resizedSize(h, w, this.size, this.maxSize);
    if (nh === h && nw === w) return img.clone();
    return resizeTo(img, nh, nw, this.interpolation, this.antialias);
  }
}

/** torchvision's `transforms.CenterCrop(size)`. */
export class CenterCrop extends Transform {
  /** The output size. */
  readonly size: Size;
  constructor(size: Size) {
    super();
    sizeArg('CenterCrop()', size, false);
    this.size = size;
  }
  call(img: Tensor): Tensor {
    return centerCrop(img, this.size);
  }
}

/** torchvision's `transforms.RandomHorizontalFlip(p=0.5)`: flips with probability p (a draw from the global generator). */
export class RandomHorizontalFlip extends Transform {
  /** The probability of a flip. */
  readonly p: number;
  constructor(p = 0.5) {
    super();
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) argError('RandomHorizontalFlip()', 'p', 'a probability in [0, 1]', p);
    this.p = p;
  }
  call(img: Tensor): Tensor {
    checkImage('RandomHorizontalFlip', img);
    const draw = tidy(() => rand(1).item());
    return draw < this.p ? hflip(img) : img.clone();
  }
}

/**
 * torchvision's `transforms.RandomResizedCrop(size, scale=(0.08, 1.0), ratio=(3/4, 4/3), ...)`: a random box of random area
 * and aspect ratio, resized to `size`; the draws are torchvision's, from the global generator.
 */
export class RandomResizedCrop extends Transform {
  /** The output [h, w]. */
  readonly size: [number, number];
  /** The range of the box's area as a share of the image's (default [0.08, 1]). */
  readonly scale: [number, number];
  /** The range of the box's aspect ratio, width / height (default [3/4, 4/3]). */
  readonly ratio: [number, number];
  /** `'bilinear'` or `'nearest'`. */
  readonly interpolation: Interpolation;
  /** Whether downscaling is antialiased (default true). */
  readonly antialias: boolean;
  constructor(size: Size, options: { scale?: [number, number]; ratio?: [number, number]; interpolation?: Interpolation; antialias?: boolean } = {}) {
    super();
    const fn = 'RandomResizedCrop()';
    const s = sizeArg(fn, size, false);
    this.size = s.length === 1 ? [s[0], s[0]] : [s[0], s[1]];
    const pair = (name: string, v: unknown, dflt: [number, number]): [number, number] => {
      const p = v ?? dflt;
      if (!Array.isArray(p) || p.length !== 2 || !p.every((x) => typeof x === 'number' && x > 0)) argError(fn, name, '[min, max] of positive numbers', v);
      if (p[0] > p[1]) argError(fn, name, '[min, max] with min <= max', v);
      return [p[0], p[1]];
    };
    this.scale = pair('scale', options.scale, [0.08, 1.0]);
    this.ratio = pair('ratio', options.ratio, [3 / 4, 4 / 3]);
    this.interpolation = checkInterpolation(fn, options.interpolation);
    this.antialias = options.antialias ?? true;
  }

  /** torchvision's RandomResizedCrop.get_params: [top, left, height, width], same draws from the global RNG. */
  getParams(img: Tensor): [number, number, number, number] {
    const [height, width] = hw(img);
    const area = height * width;
    return tidy(() => {
      const logRatio = tensor(this.ratio, { dtype: 'float32' }).log().tolist() as number[];
      for (let attempt = 0; attempt < 10; attempt++) {
        const targetArea = area * uniform_(empty(1), this.scale[0], this.scale[1]).item();
        const aspect = uniform_(empty(1), logRatio[0], logRatio[1]).exp().item();
        const w = pyRound(Math.sqrt(targetArea * aspect));
        const h = pyRound(Math.sqrt(targetArea / aspect));
        if (w > 0 && w <= width && h > 0 && h <= height) {
          const i = randint(0, height - h + 1, [1]).item();
          const j = randint(0, width - w + 1, [1]).item();
          return [i, j, h, w] as [number, number, number, number];
        }
      }
      // fallback: a central crop
      const inRatio = width / height;
      let w: number;
      let h: number;
      if (inRatio < Math.min(...this.ratio)) {
        w = width;
        h = pyRound(w / Math.min(...this.ratio));
      } else if (inRatio > Math.max(...this.ratio)) {
        h = height;
        w = pyRound(h * Math.max(...this.ratio));
      } else {
        w = width;
        h = height;
      }
      return [Math.floor((height - h) / 2), Math.floor((width - w) / 2), h, w] as [number, number, number, number];
    });
  }

  call(img: Tensor): Tensor {
    checkImage('RandomResizedCrop', img);
    const [i, j, h, w] = this.getParams(img);
    return tidy(() => resizeTo(crop(img, i, j, h, w), this.size[0], this.size[1], this.interpolation, this.antialias));
  }
}

/** uint8 [C, H, W] -> float32 in [0, 1] (torchvision's ToTensor on a decoded image); float input passes through. */
export class ToTensor extends Transform {
  call(img: Tensor): Tensor {
    checkImage('ToTensor', img);
    if (img.dtype === 'uint8') return tidy(() => img.to('float32').div(255));
    if (img.dtype === 'float32' || img.dtype === 'float64') return img.clone();
    throw new TorchError(`ToTensor: expected a uint8 or float image, got ${img.dtype}`, 'ERR_TORCH_ARG');
  }
}

/** torchvision's `transforms.Normalize(mean, std)`: (img - mean) / std per channel, on a float image (after ToTensor). */
export class Normalize extends Transform {
  /** The mean of each channel. */
  readonly mean: number[];
  /** The standard deviation of each channel. */
  readonly std: number[];
  constructor(mean: number[], std: number[]) {
    super();
    for (const [name, v] of [
      ['mean', mean],
      ['std', std],
    ] as const) {
      if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'number'))
        argError('Normalize()', name, 'an array of numbers (one per channel)', v);
    }
    this.mean = [...mean];
    this.std = [...std];
  }
  call(img: Tensor): Tensor {
    return normalize(img, this.mean, this.std);
  }
}

/** Applies a function: new Lambda((img) => img.mul(2)). */
export class Lambda extends Transform {
  constructor(
    /** The function applied. */
    readonly fn: (img: Tensor) => Tensor,
  ) {
    super();
    if (typeof fn !== 'function') argError('Lambda()', 'fn', 'a function', fn);
  }
  call(img: Tensor): Tensor {
    return this.fn(img);
  }
}

function checkInterpolation(fn: string, v: unknown): Interpolation {
  const i = v ?? 'bilinear';
  if (i !== 'bilinear' && i !== 'nearest') argError(fn, 'interpolation', "'bilinear' or 'nearest'", v);
  return i;
}

/** ImageNet's per-channel mean (torchvision's weights' transforms). */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406];
/** ImageNet's per-channel standard deviation (torchvision's weights' transforms). */
export const IMAGENET_STD = [0.229, 0.224, 0.225];
