/**
 * Matrix products (the kernel layer's `Contraction`, plain or under an
 * elementwise epilogue) as register-tiled compute shaders. A workgroup of
 * WX × WY invocations computes a BM × BN tile of the output, BM = WY·TM and
 * BN = WX·TN: it walks k in steps of BK, staging a BM × BK tile of A and a
 * BK × BN tile of B in workgroup memory (zero outside the matrices), and each
 * invocation accumulates TM × TN outputs in registers, rows `ty + WY·r` and
 * columns `tx + WX·c` (neighbouring invocations touch neighbouring columns,
 * so global reads and writes coalesce). Where B's rows are contiguous and
 * 16-byte aligned, its tile is read as vec4; likewise A's along k.
 *
 *     C[i, j] = sum_k A[i, k] * B[k, j], 512 × 512 × 512
 *       → 16 × 8 invocations, 4 × 4 outputs each: 32 × 64 tiles, BK 16,
 *         16 × 8 = 128 workgroups (× batch), 6 KiB of workgroup memory
 *
 * Products with at most 4 rows (a matrix-vector product, decoding one
 * token) use a 64 × 1 workgroup with all rows in each invocation; products
 * too small to give a GPU 64 workgroups of 32 × 64 use 16 × 32 tiles.
 * The accumulated sum is multiplied by the contraction's `scale` and stored,
 * or passed through the epilogue with the local `acc` bound to it.
 */
import type { Affine } from "../../ir/types.js";
import { kernelName } from "../kernel/names.js";
import { EPILOGUE_ACC, type Contraction, type EpilogueContraction, type Kernel } from "../kernel/types.js";
import { type BufferAccess, WgslExprWriter, wgslAffine, wgslF32, wgslLoad, wgslStoreValue } from "./emit-expr.js";
import { strip } from "./emit-loops.js";
import { wgslBuffer, wgslVar } from "./names.js";
import { type DeclaredBinding, dispatchGrid, shaderText } from "./shader.js";
import type { WgslDispatch, WgslLimits } from "./types.js";

/** The shape of a tiled kernel: invocations per workgroup (x, y), outputs per invocation, and the k step. */
export interface MatmulTiling {
  readonly wx: number;
  readonly wy: number;
  readonly tm: number;
  readonly tn: number;
  readonly bk: number;
}

/** Fewer workgroups than this leave a GPU's cores idle: smaller tiles make more of them. */
const FEW_WORKGROUPS = 64;

/**
 * The tiling for an `m × n` product repeated `batch` times: 16 × 8
 * invocations of 4 × 4 outputs (32 × 64 tiles); of 2 × 2 outputs (16 × 32
 * tiles) when the larger tiles would make fewer than 64 workgroups; for at
 * most 4 rows, 64 × 1 invocations each holding every row.
 *
 * @example
 * ```ts
 * matmulTiling(1, 4096, 1).wx;  // 64
 * matmulTiling(256, 64, 1).tm;  // 2: 32 × 64 tiles would make 8 workgroups
 * ```
 */
export function matmulTiling(m: number, n: number, batch: number): MatmulTiling {
  if (m <= 4) return { wx: 64, wy: 1, tm: m, tn: 1, bk: 32 };
  const large = Math.ceil(m / 32) * Math.ceil(n / 64) * batch;
  return large < FEW_WORKGROUPS ? { wx: 16, wy: 8, tm: 2, tn: 2, bk: 16 } : { wx: 16, wy: 8, tm: 4, tn: 4, bk: 16 };
}

const divisibleBy4 = (a: Affine): boolean => a.constant % 4 === 0 && a.terms.every((t) => t.coef % 4 === 0);

/** What one kernel's emitter gets. */
interface MatmulInput {
  readonly kernel: Kernel;
  readonly position: number;
  readonly io: BufferAccess;
  readonly bindings: readonly DeclaredBinding[];
  readonly limits: WgslLimits;
  readonly flops: number;
}

/**
 * The dispatch computing a kernel that is a matrix product, plain
 * (`kernel.contraction`) or with an epilogue (`kernel.epilogueContraction`).
 *
 * @example
 * ```ts
 * emitMatmulKernel({ kernel, position: 0, io, bindings, limits, flops }).form; // "tiled-matmul"
 * ```
 */
export function emitMatmulKernel(input: MatmulInput): WgslDispatch {
  const fused: EpilogueContraction | undefined = input.kernel.epilogueContraction;
  const c: Contraction = input.kernel.contraction ?? fused!.contraction;
  const batch = c.batch.reduce((n, b) => n * b.extent, 1);
  const t = matmulTiling(c.m, c.n, batch);
  const bm = t.wy * t.tm;
  const bn = t.wx * t.tn;
  const threads = t.wx * t.wy;
  const tilesM = Math.ceil(c.m / bm);
  const tilesN = Math.ceil(c.n / bn);
  const grid = dispatchGrid(tilesM * tilesN * batch, input.limits.maxComputeWorkgroupsPerDimension, `the product ${input.kernel.target}`);
  const f32 = (b: string): boolean => input.io.dtypes.get(b) === "f32" && !input.io.packed?.has(b);

  // vec4 reads: B along columns, A along k, when every offset is a multiple of 4 and the extent too.
  const vecB = c.b.colStride === 1 && c.n % 4 === 0 && c.b.kStride % 4 === 0 && divisibleBy4(c.b.base) && bn % 4 === 0 && f32(c.b.buffer);
  const vecA = c.a.kStride === 1 && c.k % 4 === 0 && c.a.rowStride % 4 === 0 && divisibleBy4(c.a.base) && t.bk % 4 === 0 && f32(c.a.buffer);
  const bindings = [...input.bindings];
  const vec4Binding = (buffer: string, wgslName: string): DeclaredBinding => {
    const b: DeclaredBinding = { binding: bindings.length, buffer, access: "read", wgslName, element: "vec4<f32>" };
    bindings.push(b);
    return b;
  };
  if (vecA) vec4Binding(c.a.buffer, "a4");
  if (vecB) vec4Binding(c.b.buffer, "b4");

  const body: string[] = [...grid.prologue];
  body.push(
    `  let tile_n = wid % ${tilesN}u;`,
    `  let tile_m = (wid / ${tilesN}u) % ${tilesM}u;`,
    `  let bat = wid / ${tilesN * tilesM}u;`,
  );
  body.push(...c.batch.map((b, k) => {
    const inner = c.batch.slice(k + 1).reduce((n, x) => n * x.extent, 1);
    return `  let ${wgslVar(b.var)} = i32((bat / ${inner}u) % ${b.extent}u);`;
  }));
  body.push(
    `  let row0 = i32(tile_m) * ${bm};`,
    `  let col0 = i32(tile_n) * ${bn};`,
    `  let tx = i32(lid % ${t.wx}u);`,
    `  let ty = i32(lid / ${t.wx}u);`,
    `  let a_base = ${wgslAffine(c.a.base)};`,
    `  let b_base = ${wgslAffine(c.b.base)};`,
  );
  const acc = (r: number, q: number): string => `c_${r}_${q}`;
  for (let r = 0; r < t.tm; r++) for (let q = 0; q < t.tn; q++) body.push(`  var ${acc(r, q)} = 0f;`);

  // Staging the tiles: each invocation loads its share, zero outside the matrices.
  body.push(`  for (var k0 = 0; k0 < ${c.k}; k0 = k0 + ${t.bk}) {`);
  body.push(...stageA(c, t, bm, threads, vecA, input.io), ...stageB(c, t, bn, threads, vecB, input.io));
  body.push("    workgroupBarrier();");
  body.push(`    for (var kk = 0; kk < ${t.bk}; kk++) {`);
  for (let r = 0; r < t.tm; r++) body.push(`      let a_${r} = tile_a[kk * ${bm} + ty + ${t.wy * r}];`);
  for (let q = 0; q < t.tn; q++) body.push(`      let b_${q} = tile_b[kk * ${bn} + tx + ${t.wx * q}];`);
  for (let r = 0; r < t.tm; r++) for (let q = 0; q < t.tn; q++) body.push(`      ${acc(r, q)} = fma(a_${r}, b_${q}, ${acc(r, q)});`);
  body.push("    }", "    workgroupBarrier();", "  }");

  // Storing, through the epilogue when there is one.
  const helpers = new Set<string>();
  const writer = new WgslExprWriter(input.io, helpers);
  const outType = input.io.dtypes.get(c.out.buffer);
  const scaled = (name: string): string => (c.scale === undefined ? name : `${name} * ${wgslF32(c.scale)}`);
  const rowVar = fused ? wgslVar(fused.row) : "row";
  const colVar = fused ? wgslVar(fused.col) : "col";
  for (let r = 0; r < t.tm; r++) {
    for (let q = 0; q < t.tn; q++) {
      body.push("  {");
      body.push(`    let ${rowVar} = row0 + ty + ${t.wy * r};`, `    let ${colVar} = col0 + tx + ${t.wx * q};`);
      body.push(`    if (${rowVar} < ${c.m} && ${colVar} < ${c.n}) {`);
      const offset = `${wgslAffine(c.out.base)} + ${rowVar} * ${c.out.rowStride} + ${colVar}`;
      let value: string;
      if (fused) {
        body.push(`      let ${EPILOGUE_ACC} = ${scaled(acc(r, q))};`);
        const pre: string[] = [];
        value = writer.expr(fused.epilogue, pre);
        body.push(...pre.map((l) => `      ${l}`));
      } else {
        value = scaled(acc(r, q));
      }
      body.push(`      ${wgslBuffer(c.out.buffer)}[${offset}] = ${wgslStoreValue(value, outType)};`, "    }", "  }");
    }
  }

  const shape = c.batch.length > 0 ? `${batch} × ` : "";
  return {
    name: kernelName(input.kernel.target, input.position),
    target: input.kernel.target,
    form: "tiled-matmul",
    code: shaderText({
      comment: [
        `tns kernel ${input.position}: ${input.kernel.target} = ${fused ? "epilogue of " : ""}${shape}${c.m} × ${c.k} · ${c.k} × ${c.n}`,
        `tiles ${bm} × ${bn} (k step ${t.bk}), ${t.wx} × ${t.wy} invocations of ${t.tm} × ${t.tn} outputs${vecA || vecB ? `; vec4 reads of ${[vecA ? "A" : "", vecB ? "B" : ""].filter(Boolean).join(" and ")}` : ""}`,
      ],
      bindings,
      workgroupVars: [`var<workgroup> tile_a: array<f32, ${t.bk * bm}>;`, `var<workgroup> tile_b: array<f32, ${t.bk * bn}>;`],
      helpers,
      workgroupSize: [threads, 1, 1],
      body,
    }),
    workgroupSize: [threads, 1, 1],
    workgroups: grid.workgroups,
    bindings: bindings.map(strip),
    flops: input.flops,
  };
}

/** Loads of the A tile (BM rows × BK of k), stored k-major: `tile_a[kk * BM + r]`. */
function stageA(c: Contraction, t: MatmulTiling, bm: number, threads: number, vec: boolean, io: BufferAccess): string[] {
  const out: string[] = [];
  if (vec) {
    const per = Math.ceil((bm * t.bk) / 4 / threads);
    for (let s = 0; s < per; s++) {
      out.push(`    {`, `      let e = i32(lid) + ${s * threads};`, `      let r = e / ${t.bk / 4};`, `      let kk = (e % ${t.bk / 4}) * 4;`);
      out.push(`      if (r < ${bm}) {`);
      out.push(`        var v = vec4<f32>(0f);`);
      out.push(`        if (row0 + r < ${c.m} && k0 + kk < ${c.k}) { v = a4[(a_base + (row0 + r) * ${c.a.rowStride} + k0 + kk) / 4]; }`);
      for (let q = 0; q < 4; q++) out.push(`        tile_a[(kk + ${q}) * ${bm} + r] = v[${q}];`);
      out.push(`      }`, `    }`);
    }
    return out;
  }
  const per = Math.ceil((bm * t.bk) / threads);
  for (let s = 0; s < per; s++) {
    out.push(`    {`, `      let e = i32(lid) + ${s * threads};`, `      let r = e / ${t.bk};`, `      let kk = e % ${t.bk};`);
    out.push(`      if (r < ${bm}) {`);
    const load = wgslLoad(c.a.buffer, `a_base + (row0 + r) * ${c.a.rowStride} + (k0 + kk) * ${c.a.kStride}`, io);
    out.push(`        var x = 0f;`, `        if (row0 + r < ${c.m} && k0 + kk < ${c.k}) { x = ${load}; }`, `        tile_a[kk * ${bm} + r] = x;`);
    out.push(`      }`, `    }`);
  }
  return out;
}

/** Loads of the B tile (BK of k × BN columns): `tile_b[kk * BN + col]`. */
function stageB(c: Contraction, t: MatmulTiling, bn: number, threads: number, vec: boolean, io: BufferAccess): string[] {
  const out: string[] = [];
  if (vec) {
    const per = Math.ceil((bn * t.bk) / 4 / threads);
    for (let s = 0; s < per; s++) {
      out.push(`    {`, `      let e = i32(lid) + ${s * threads};`, `      let kk = e / ${bn / 4};`, `      let col = (e % ${bn / 4}) * 4;`);
      out.push(`      if (kk < ${t.bk}) {`);
      out.push(`        var v = vec4<f32>(0f);`);
      out.push(`        if (k0 + kk < ${c.k} && col0 + col < ${c.n}) { v = b4[(b_base + (k0 + kk) * ${c.b.kStride} + col0 + col) / 4]; }`);
      for (let q = 0; q < 4; q++) out.push(`        tile_b[kk * ${bn} + col + ${q}] = v[${q}];`);
      out.push(`      }`, `    }`);
    }
    return out;
  }
  const per = Math.ceil((bn * t.bk) / threads);
  for (let s = 0; s < per; s++) {
    out.push(`    {`, `      let e = i32(lid) + ${s * threads};`, `      let kk = e / ${bn};`, `      let col = e % ${bn};`);
    out.push(`      if (kk < ${t.bk}) {`);
    const load = wgslLoad(c.b.buffer, `b_base + (k0 + kk) * ${c.b.kStride} + (col0 + col) * ${c.b.colStride}`, io);
    out.push(`        var x = 0f;`, `        if (k0 + kk < ${c.k} && col0 + col < ${c.n}) { x = ${load}; }`, `        tile_b[kk * ${bn} + col] = x;`);
    out.push(`      }`, `    }`);
  }
  return out;
}
