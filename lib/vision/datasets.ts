/**
 * torch.vision.datasets.ImageFolder: one sub-folder per class, as torchvision's — classes sorted by
 * name, files found by a sorted recursive walk with torchvision's image extensions, samples in
 * torchvision's order, so class indexes and sample indexes agree with Python's.
 *
 * Decoding is async (sharp), so `await ImageFolder.load(root, { transform })` decodes every image once
 * into uint8 [3, H, W] tensors held by the dataset (memory: about H*W*3 bytes per image); `get(i)`
 * applies the transform each time it is called (so random augmentation differs per epoch) and is
 * synchronous, which lets a DataLoader and fit() use it. `dispose()` frees the images.
 * @module
 */
import { checkInt } from '../checks';
import * as fs from 'fs';
import * as path from 'path';
import { TorchError, argError } from '../errors';
import { keep } from '../scope';
import type { Tensor } from '../tensor';
import type { Dataset } from '../train/data';
import { readImage } from './io';
import type { Transform } from './transforms';

/** torchvision's IMG_EXTENSIONS (matched case-insensitively). */
export const IMG_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif', '.tiff', '.webp'];

/** The options of ImageFolder.load (torchvision's `transform=`, `target_transform=`, `extensions=`, and `concurrency`). */
export interface ImageFolderOptions {
  /** Applied to each uint8 [3, H, W] image in get(), e.g. a transforms.Compose. */
  transform?: Transform | ((img: Tensor) => Tensor);
  /** Applied to each class index in get(). */
  targetTransform?: (target: number) => unknown;
  /** File extensions to accept; torchvision's IMG_EXTENSIONS by default. */
  extensions?: string[];
  /** How many images are decoded at once while loading (default 8). */
  concurrency?: number;
}

/** torchvision's find_classes: the sorted names of the sub-folders. */
export function findClasses(root: string): {
  /** The class names: the sub-folders' names, sorted. */
  classes: string[];
  /** Each class name's index. */
  classToIdx: Record<string, number>;
} {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(root, { withFileTypes: true });
  } catch (e) {
    throw new TorchError(`ImageFolder: cannot read ${root}: ${(e as Error).message}`, 'ERR_TORCH_FILE');
  }
  const classes = entries
    .filter((e) => e.isDirectory() || (e.isSymbolicLink() && fs.statSync(path.join(root, e.name)).isDirectory()))
    .map((e) => e.name)
    .sort();
  if (!classes.length) throw new TorchError(`ImageFolder: couldn't find any class folder in ${root}`, 'ERR_TORCH_FILE');
  return { classes, classToIdx: Object.fromEntries(classes.map((c, i) => [c, i])) };
}

/** sorted(os.walk(dir, followlinks=True)), files sorted within each folder. */
function walk(dir: string): string[] {
  const folders: [string, string[]][] = [];
  const visit = (d: string) => {
    const entries = fs.readdirSync(d, { withFileTypes: true });
    const files: string[] = [];
    for (const e of entries) {
      const full = path.join(d, e.name);
      const isDir = e.isDirectory() || (e.isSymbolicLink() && fs.statSync(full).isDirectory());
      if (isDir) visit(full);
      else files.push(e.name);
    }
    folders.push([d, files.sort()]);
  };
  visit(dir);
  folders.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return folders.flatMap(([d, files]) => files.map((f) => path.join(d, f)));
}

/**
 * torchvision's `datasets.ImageFolder(root, transform=None, target_transform=None)`: one sub-folder per class. Made with
 * `await ImageFolder.load(root, { transform })`, which decodes every image once; get(i) is synchronous, so a DataLoader and fit() can use it.
 */
export class ImageFolder implements Dataset<[Tensor | unknown, unknown]> {
  /** The folder given. */
  readonly root: string;
  /** The class names (the sub-folders' names, sorted). */
  readonly classes: string[];
  /** Each class name's index. */
  readonly classToIdx: Record<string, number>;
  /** [file path, class index] in torchvision's order. */
  readonly samples: [string, number][];
  /** Each sample's class index. */
  readonly targets: number[];
  /** Applied to each image in get() (may be replaced). */
  transform: ImageFolderOptions['transform'];
  /** Applied to each class index in get() (may be replaced). */
  targetTransform: ImageFolderOptions['targetTransform'];
  private images: Tensor[];

  private constructor(root: string, found: ReturnType<typeof findClasses>, samples: [string, number][], images: Tensor[], o: ImageFolderOptions) {
    this.root = root;
    this.classes = found.classes;
    this.classToIdx = found.classToIdx;
    this.samples = samples;
    this.targets = samples.map(([, t]) => t);
    this.images = images;
    this.transform = o.transform;
    this.targetTransform = o.targetTransform;
  }

  /** Finds the samples (torchvision's make_dataset) without decoding them. */
  static scan(
    root: string,
    options: Pick<ImageFolderOptions, 'extensions'> = {},
  ): {
    /** The class names: the sub-folders' names, sorted. */
    classes: string[];
    /** Each class name's index. */
    classToIdx: Record<string, number>;
    /** [file path, class index] in torchvision's order. */
    samples: [string, number][];
  } {
    const exts = (options.extensions ?? IMG_EXTENSIONS).map((e) => e.toLowerCase());
    const found = findClasses(root);
    const samples: [string, number][] = [];
    const empty: string[] = [];
    for (const c of found.classes) {
      const files = walk(path.join(root, c)).filter((f) => exts.some((e) => f.toLowerCase().endsWith(e)));
      if (!files.length) empty.push(c);
      for (const f of files) samples.push([f, found.classToIdx[c]]);
    }
    if (empty.length) {
      throw new TorchError(
        `ImageFolder: found no valid file for the classes ${empty.join(', ')} in ${root}; supported extensions are: ${exts.join(', ')}`,
        'ERR_TORCH_FILE',
      );
    }
    return { ...found, samples };
  }

  /** Scans `root`, decodes every image (RGB uint8) and returns the dataset. A file that fails to decode is an error naming it. */
  static async load(root: string, options: ImageFolderOptions = {}): Promise<ImageFolder> {
    const fn = 'ImageFolder.load()';
    if (typeof root !== 'string') argError(fn, 'root', 'a folder path', root);
    if (options.transform !== undefined && typeof options.transform !== 'function' && typeof (options.transform as Transform)?.call !== 'function') {
      argError(fn, 'transform', 'a transform (e.g. transforms.Compose) or a function', options.transform);
    }
    const concurrency = options.concurrency ?? 8;
    checkInt(fn, 'concurrency', concurrency, 1);
    const { samples, ...found } = ImageFolder.scan(root, options);
    const images: Tensor[] = new Array(samples.length);
    let next = 0;
    try {
      await Promise.all(
        Array.from({ length: Math.min(concurrency, samples.length) }, async () => {
          while (next < samples.length) {
            const i = next++;
            images[i] = keep(await readImage(samples[i][0], { mode: 'RGB' }));
          }
        }),
      );
    } catch (e) {
      for (const t of images) t?.dispose();
      throw e;
    }
    return new ImageFolder(root, found, samples, images, options);
  }

  /** The number of samples. */
  get length(): number {
    return this.samples.length;
  }

  /** [transform(image), targetTransform(class index)]; the image is a new tensor in the caller's scope. */
  get(i: number): [Tensor | unknown, unknown] {
    if (!Number.isInteger(i) || i < 0 || i >= this.samples.length) {
      throw new TorchError(`ImageFolder: index ${i} is out of range for ${this.samples.length} samples`, 'ERR_TORCH_INDEX');
    }
    const img = this.images[i];
    if (!img) throw new TorchError('ImageFolder: this dataset was disposed', 'ERR_TORCH_DISPOSED');
    const t = this.transform;
    const x = t === undefined ? img.clone() : typeof t === 'function' ? (t as (x: Tensor) => Tensor)(img) : t.call(img);
    const y = this.targetTransform ? this.targetTransform(this.samples[i][1]) : this.samples[i][1];
    return [x, y];
  }

  /** The decoded uint8 image i (owned by the dataset). */
  image(i: number): Tensor {
    return this.images[i];
  }

  /** Frees the decoded images; get() throws afterwards. */
  dispose(): void {
    for (const t of this.images) t?.dispose();
    this.images = [];
  }
}
