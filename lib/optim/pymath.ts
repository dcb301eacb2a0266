/**
 * cos and integer powers rounded as C's libm (glibc) rounds them, so learning-rate schedules equal
 * Python's to the last bit. V8's Math.cos and Math.pow (fdlibm ports) are within 1 ulp but not
 * correctly rounded; glibc's cos and pow are (to within ~2^-14 ulp of a rounding boundary). These
 * compute in 256-bit fixed point with BigInt and round once. A few tens of microseconds per call:
 * for schedulers, never for tensors.
 */

const SCALE = 256n;
// pi to 200 decimal digits.
const PI_DIGITS =
  '3141592653589793238462643383279502884197169399375105820974944592307816406286208998628034825342117067' +
  '9821480865132823066470938446095505822317253594081284811174502841027019385211055596446229489549303820';
const PI = (BigInt(PI_DIGITS) << SCALE) / 10n ** BigInt(PI_DIGITS.length - 1);
const PIO2 = PI >> 1n;

const view = new DataView(new ArrayBuffer(8));

/** |x| as [mantissa, exponent] with x = mantissa * 2^exponent exactly (x finite, non-zero). */
function decompose(x: number): [bigint, number] {
  view.setFloat64(0, Math.abs(x));
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let m = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (biased === 0) return [m, -1074];
  m |= 1n << 52n;
  return [m, biased - 1075];
}

/** x in fixed point (scaled by 2^256), exact for |x| >= 2^-203. */
function toFixed(x: number): bigint {
  if (x === 0) return 0n;
  const [m, e] = decompose(x);
  const s = BigInt(e) + SCALE;
  const v = s >= 0n ? m << s : m >> -s;
  return x < 0 ? -v : v;
}

/** The double nearest to v / 2^256 (Number(BigInt) rounds to nearest, ties to even). */
function fromFixed(v: bigint): number {
  return Number(v) * 2 ** -256;
}

function cosFixed(r: bigint): bigint {
  const r2 = (r * r) >> SCALE;
  let term = 1n << SCALE;
  let sum = term;
  for (let n = 1n; term !== 0n; n++) {
    term = -((term * r2) >> SCALE) / ((2n * n - 1n) * (2n * n));
    sum += term;
  }
  return sum;
}

function sinFixed(r: bigint): bigint {
  const r2 = (r * r) >> SCALE;
  let term = r;
  let sum = term;
  for (let n = 1n; term !== 0n; n++) {
    term = -((term * r2) >> SCALE) / (2n * n * (2n * n + 1n));
    sum += term;
  }
  return sum;
}

/** cos(x), correctly rounded (falls back to Math.cos beyond |x| = 2^60). */
export function cos(x: number): number {
  if (!Number.isFinite(x) || Math.abs(x) > 2 ** 60) return Math.cos(x);
  const X = toFixed(Math.abs(x));
  const k = (X + (PIO2 >> 1n)) / PIO2;
  const r = X - k * PIO2;
  switch (Number(k % 4n)) {
    case 0:
      return fromFixed(cosFixed(r));
    case 1:
      return fromFixed(-sinFixed(r));
    case 2:
      return fromFixed(-cosFixed(r));
    default:
      return fromFixed(sinFixed(r));
  }
}

/** x ** n for an integer n, correctly rounded (Math.pow outside 0 <= n <= 4096 or for extreme results). */
export function powi(x: number, n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > 4096 || !Number.isFinite(x) || x === 0) return x ** n;
  if (n === 0) return 1;
  const [m, e] = decompose(x);
  const p = m ** BigInt(n);
  // Keep the top 64 bits and a sticky bit for the rest: rounding that to 53 bits rounds p correctly.
  const bits = p.toString(2).length;
  const shift = Math.max(0, bits - 64);
  let q = p >> BigInt(shift);
  if (shift > 0 && q << BigInt(shift) !== p) q |= 1n;
  const exp = e * n + shift;
  if (exp + 64 > 1000 || exp + 64 < -1000) return x ** n;
  // Number(q) rounds to nearest (ties to even); scaling by 2^exp is exact while the result stays normal.
  const mag = Number(q) * 2 ** exp;
  return x < 0 && n % 2 === 1 ? -mag : mag;
}
