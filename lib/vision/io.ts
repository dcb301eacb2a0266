/**
 * torch.vision.io: image files and buffers (JPEG, PNG, WebP, GIF, TIFF, AVIF) decoded with sharp
 * (libvips) into uint8 [C, H, W] tensors, as torchvision.io.read_image / decode_image give them. Like
 * read_image (and PIL.Image.open), neither EXIF orientation nor an embedded ICC profile is applied. Decoding runs on libvips' threads,
 * so these functions are async and do not block the event loop.
 * @module
 */
import { TorchError, argError, describe } from '../errors';
import { fromTypedArray } from '../creation';
import { tidy } from '../scope';
import { Tensor } from '../tensor';

/** 'RGB' (3 channels; grey images are expanded, alpha dropped), 'GRAY' (1), 'RGBA' (4), or 'UNCHANGED'. */
export type ImageMode = 'RGB' | 'GRAY' | 'RGBA' | 'UNCHANGED';

let sharpLib: any = null;
function sharp(): any {
  if (sharpLib) return sharpLib;
  try {
    sharpLib = require('sharp');
  } catch (e) {
    throw new TorchError(
      `torch.vision.io needs the package 'sharp' (a dependency of torch-node, with prebuilt libvips for common platforms): ${(e as Error).message}`,
      'ERR_TORCH_IMAGE',
    );
  }
  return sharpLib;
}

/** Decodes an image file (path) or encoded bytes into a uint8 [C, H, W] tensor. */
export async function readImage(source: string | Uint8Array, options: { mode?: ImageMode } = {}): Promise<Tensor> {
  const fn = 'readImage()';
  if (typeof source !== 'string' && !(source instanceof Uint8Array))
    argError(fn, 'source', 'a file path or a Buffer/Uint8Array of encoded image bytes', source);
  const mode = options.mode ?? 'RGB';
  if (!['RGB', 'GRAY', 'RGBA', 'UNCHANGED'].includes(mode)) argError(fn, 'mode', "'RGB', 'GRAY', 'RGBA' or 'UNCHANGED'", mode);
  const what = typeof source === 'string' ? source : `${source.length} bytes`;
  let img: any;
  try {
    // ignoreIcc: pixel values as stored, as torchvision.io and PIL give them (no colour-profile conversion)
    img = sharp()(source, { failOn: 'error', limitInputPixels: 1 << 28, ignoreIcc: true });
    if (mode === 'RGB') img = img.removeAlpha().toColourspace('srgb');
    else if (mode === 'GRAY') img = img.removeAlpha().toColourspace('b-w');
    else if (mode === 'RGBA') img = img.ensureAlpha().toColourspace('srgb');
    const { data, info } = await img.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    let channels: number = info.channels;
    let pixels: Uint8Array = data;
    if (mode === 'RGB' && channels === 1) {
      // a grey image that libvips kept as one band: expand to three
      pixels = new Uint8Array(info.width * info.height * 3);
      for (let i = 0; i < info.width * info.height; i++) pixels[3 * i] = pixels[3 * i + 1] = pixels[3 * i + 2] = data[i];
      channels = 3;
    }
    const u8 = new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.length);
    return tidy(() => fromTypedArray(u8, [info.height, info.width, channels]).permute(2, 0, 1).contiguous());
  } catch (e) {
    if (e instanceof TorchError) throw e;
    throw new TorchError(`${fn}: cannot decode ${what} as an image: ${(e as Error).message}`, 'ERR_TORCH_IMAGE');
  }
}

/** Encodes a uint8 [C, H, W] tensor (C = 1, 3 or 4) as PNG or JPEG bytes (a Buffer, typed as Uint8Array). */
export async function encodeImage(image: Tensor, format: 'png' | 'jpeg' = 'png', options: { quality?: number } = {}): Promise<Uint8Array> {
  const fn = 'encodeImage()';
  if (!(image instanceof Tensor) || image.dtype !== 'uint8' || image.dim() !== 3 || ![1, 3, 4].includes(image.shape[0])) {
    throw new TorchError(
      `${fn}: expected a uint8 [C, H, W] tensor with C = 1, 3 or 4, got ${image instanceof Tensor ? `${image.dtype} [${image.shape.join(', ')}]` : describe(image)}`,
      'ERR_TORCH_ARG',
    );
  }
  if (format !== 'png' && format !== 'jpeg') argError(fn, 'format', "'png' or 'jpeg'", format);
  const [c, h, w] = image.shape;
  const bytes = tidy(() => image.permute(1, 2, 0).contiguous().toTypedArray()) as Uint8Array;
  let img = sharp()(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { raw: { width: w, height: h, channels: c } });
  img = format === 'png' ? img.png() : img.jpeg({ quality: options.quality ?? 90 });
  return img.toBuffer();
}
