// The machine's float32 SIMD128 peak, measured rather than assumed: a wasm
// loop of independent f32x4 multiply and add chains (no loads, no stores,
// no dependences between chains), the most arithmetic one WebAssembly
// thread can issue. The matmul benchmark states its GFLOP/s as a fraction of
// this number. Each step of each chain is `acc = acc * m + a`: two
// instructions, 8 FLOP (4 lanes × one multiply and one add), the same
// instruction mix as the GEMM micro-kernel without relaxed SIMD.
import binaryen from "binaryen";

/** Independent accumulators: enough to cover the latency of mul then add on two pipes. */
const CHAINS = 12;
/** Steps of every chain per loop iteration (unrolled), so the loop's own instructions are noise. */
const UNROLL = 8;

/** The module's text: `peak(iterations)` runs the chains and returns a lane so nothing is dead. */
function peakModuleText() {
  const locals = Array.from({ length: CHAINS }, (_, c) => `(local $a${c} v128)`).join(" ");
  const init = Array.from({ length: CHAINS }, (_, c) => `(local.set $a${c} (f32x4.splat (f32.const ${1 + c / 64})))`).join("\n");
  const step = Array.from({ length: CHAINS }, (_, c) => `(local.set $a${c} (f32x4.add (f32x4.mul (local.get $a${c}) (local.get $m)) (local.get $d)))`).join("\n");
  const sum = Array.from({ length: CHAINS - 1 }, () => "(f32x4.add").join(" ") + " (local.get $a0)" + Array.from({ length: CHAINS - 1 }, (_, c) => ` (local.get $a${c + 1}))`).join("");
  return `(module
  (func $peak (export "peak") (param $n i32) (result f32)
    (local $m v128) (local $d v128) ${locals}
    (local.set $m (f32x4.splat (f32.const 0.999)))
    (local.set $d (f32x4.splat (f32.const 0.001)))
    ${init}
    (loop $l
      ${Array.from({ length: UNROLL }, () => step).join("\n")}
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (f32x4.extract_lane 0 ${sum})))`;
}

/**
 * Measures the single-thread float32 SIMD128 peak in GFLOP/s (best of `reps`
 * timed calls of about 4 ms each, after a second of warm-up that lets V8 optimize).
 * @param {number} [reps]
 * @returns {{ gflops: number, flopsPerCall: number }}
 */
export function measureSimdPeak(reps = 9) {
  const mod = binaryen.parseText(peakModuleText());
  mod.setFeatures(binaryen.Features.MVP | binaryen.Features.SIMD128);
  if (!mod.validate()) throw new Error("the SIMD peak module does not validate");
  const bytes = mod.emitBinary();
  mod.dispose();
  const { peak } = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports;
  const iterations = 200_000;
  const flopsPerCall = iterations * UNROLL * CHAINS * 8;
  // V8 optimizes a function in the background once it is hot and uses the
  // optimized code from the next call on: warm up for a second of calls.
  for (const t0 = performance.now(); performance.now() - t0 < 1000; ) peak(iterations);
  let best = Infinity;
  for (let k = 0; k < reps; k++) {
    const t0 = performance.now();
    peak(iterations);
    best = Math.min(best, performance.now() - t0);
  }
  return { gflops: flopsPerCall / (best * 1e6), flopsPerCall };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`float32 SIMD128 peak, one thread: ${measureSimdPeak().gflops.toFixed(1)} GFLOP/s`);
}
