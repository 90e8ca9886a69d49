// Per-channel bias over [n, c, plane]: added with SIMD, and its gradient summed (f32 lanes within one
// plane or row, float64 across them, so long sums keep their precision).
import { f4 } from './geom';

/** y[i,ch,:] = x[i,ch,:] + b[ch] for all n items (x may be y). */
export function biasAdd(x: usize, b: usize, y: usize, n: i32, c: i32, plane: i32): void {
  if (plane == 1) {
    // rows of a linear layer: add the bias vector along each row
    for (let i = 0; i < n; i++) {
      const o = f4(i * c);
      let ch = 0;
      for (; ch + 4 <= c; ch += 4) v128.store(y + o + f4(ch), f32x4.add(v128.load(x + o + f4(ch)), v128.load(b + f4(ch))));
      for (; ch < c; ch++) store<f32>(y + o + f4(ch), load<f32>(x + o + f4(ch)) + load<f32>(b + f4(ch)));
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      const o = f4((i * c + ch) * plane), bs = load<f32>(b + f4(ch)), v = f32x4.splat(bs);
      let j = 0;
      for (; j + 4 <= plane; j += 4) v128.store(y + o + f4(j), f32x4.add(v128.load(x + o + f4(j)), v));
      for (; j < plane; j++) store<f32>(y + o + f4(j), load<f32>(x + o + f4(j)) + bs);
    }
  }
}

/** Sum of p[0..len) in f32x4 lanes. */
@inline function planeSum(p: usize, len: i32): f64 {
  let a = f32x4.splat(0), j = 0, s: f32 = 0;
  for (; j + 4 <= len; j += 4) a = f32x4.add(a, v128.load(p + f4(j)));
  for (; j < len; j++) s += load<f32>(p + f4(j));
  return <f64>(f32x4.extract_lane(a, 0) + f32x4.extract_lane(a, 1)) + <f64>(f32x4.extract_lane(a, 2) + f32x4.extract_lane(a, 3)) + <f64>s;
}

/** db[ch] (+)= Σ dy[i,ch,:]; acc is c float64s of scratch. */
export function biasGrad(dy: usize, db: usize, n: i32, c: i32, plane: i32, beta: i32, acc: usize): void {
  memory.fill(acc, 0, <usize>c << 3);
  if (plane == 1) {
    for (let i = 0; i < n; i++) {
      const o = dy + f4(i * c);
      let ch = 0;
      for (; ch + 4 <= c; ch += 4) {
        const v = v128.load(o + f4(ch)), a = acc + (<usize>ch << 3);
        v128.store(a, f64x2.add(v128.load(a), f64x2.promote_low_f32x4(v)));
        v128.store(a, f64x2.add(v128.load(a, 16), f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1))), 16);
      }
      for (; ch < c; ch++) store<f64>(acc + (<usize>ch << 3), load<f64>(acc + (<usize>ch << 3)) + <f64>load<f32>(o + f4(ch)));
    }
  } else {
    for (let i = 0; i < n; i++) {
      for (let ch = 0; ch < c; ch++) {
        const a = acc + (<usize>ch << 3);
        store<f64>(a, load<f64>(a) + planeSum(dy + f4((i * c + ch) * plane), plane));
      }
    }
  }
  for (let ch = 0; ch < c; ch++) {
    const s = <f32>load<f64>(acc + (<usize>ch << 3)), d = db + f4(ch);
    store<f32>(d, beta != 0 ? load<f32>(d) + s : s);
  }
}
