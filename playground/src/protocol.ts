/**
 * The messages between the page (main.ts: the editor and the views) and the
 * worker that runs the compiler (worker.ts), so that checking, optimizing
 * and running never hold up typing. Every message is plain data.
 *
 *     page                                   worker
 *     analyze {version, source}       ->     diagnostics {version, ...}   (right after checking)
 *                                     <-     analysis {version, ir, ...}  (after the passes)
 *     code {version, view}            ->     code {version, view, text}
 *     run {id, source, seed, ...}     ->     ran {id, runs, errors}
 *     gpu                             ->     gpu {adapter}
 *
 * The worker answers an `analyze` only for the newest one it has received;
 * the page shows answers only for the newest version it sent.
 */
import type { Diagnostic } from "../../src/index.js";

/** The file name the compiler reports the editor's text under. */
export const FILE = "main.tns";

/** Runs after the first, of which the best is shown. */
export const TIMED_RUNS = 3;

/** A tensor as plain data (what `Tensor` holds). */
export interface TensorData {
  readonly dtype: "f32" | "f64" | "i32";
  readonly shape: readonly number[];
  readonly data: Float32Array | Float64Array | Int32Array;
}

/** A row of the shapes table. */
export interface ShapeRow {
  readonly name: string;
  /** input, weight, def or output (or another role of the IR's, as it names it). */
  readonly role: string;
  readonly dtype: string;
  readonly shape: readonly number[];
}

/** The code views, by the backend that emits them. */
export type CodeView = "js" | "wasm" | "wgsl";

/** The backends the page runs on. */
export type RunBackend = "wasm" | "wgsl";

/** One backend's run: its times and the outputs of its first run. */
export interface BackendRun {
  readonly backend: RunBackend;
  readonly compileMs: number;
  readonly firstMs: number;
  readonly bestMs: number;
  readonly outputs: Readonly<Record<string, TensorData>>;
}

/** What the page asks. */
export type Request =
  | { readonly type: "analyze"; readonly version: number; readonly source: string }
  | { readonly type: "code"; readonly version: number; readonly view: CodeView }
  | {
    readonly type: "run"; readonly id: number; readonly source: string; readonly seed: number; readonly backends: readonly RunBackend[];
    /** Uploaded .npy files: the input's name and the file's bytes. */
    readonly uploads: readonly { readonly name: string; readonly bytes: ArrayBuffer }[];
  }
  | { readonly type: "gpu" };

/** What the worker answers. */
export type Reply =
  | {
    readonly type: "diagnostics"; readonly version: number; readonly diagnostics: readonly Diagnostic[];
    readonly shapes: readonly ShapeRow[];
    /** An internal compiler error (a bug in tns), or null. */
    readonly failure: string | null;
  }
  | {
    readonly type: "analysis"; readonly version: number;
    /** The optimized IR, the explain report as text and as SVG; null when the program has errors. */
    readonly ir: string | null; readonly explain: string | null; readonly svg: string | null;
    readonly failure: string | null;
  }
  | { readonly type: "code"; readonly version: number; readonly view: CodeView; readonly text: string }
  | { readonly type: "ran"; readonly id: number; readonly runs: readonly BackendRun[]; readonly errors: readonly string[] }
  | { readonly type: "gpu"; readonly adapter: boolean };
