/**
 * `tns path SPEC --shapes 2x3,3x4,...`: the contraction path of an einsum,
 * found by one of tns's path finders, printed as opt_einsum's PathInfo.
 */
import { contractPath, PATH_FINDERS, type OptimizeName } from "../../passes/contraction-path/index.js";
import { parseCommandArgs, parseMemoryBudget, UsageError } from "../args.js";
import { EXIT, type Terminal } from "./common.js";

/** Help text of `tns path`. */
export const PATH_HELP = `Usage: tns path SPEC --shapes SHAPES [options]

Find the contraction order of an einsum specification ("ij,jk,kl->il") over
operands of the given shapes and print it like opt_einsum's PathInfo: the
path (opt_einsum's format), each step's FLOPs, the largest intermediate.

Options:
  --shapes S            the operands' shapes, comma-separated, each as
                        extents joined by 'x' ("2x3,3x4,4"; 'scalar' for
                        an operand without labels)
  --optimize NAME       ${Object.keys(PATH_FINDERS).join(", ")} (default auto)
  --max-intermediate B  largest intermediate in bytes (64KiB, 64MiB, ...):
                        labels are sliced until every tensor a slice forms
                        fits; the report says how many FLOPs that adds
  --memory-limit N      form only intermediates of at most N elements
                        (opt_einsum's memory_limit; the search is constrained)
  --bytes N             bytes per element for memory figures (default 8)
  --seed N              seed of the randomized finders (default 0)
  --time-ms N           time budget of the search in milliseconds
  --json                print the path and costs as JSON
  -h, --help            show this help

Example:
  tns path "ij,jk,kl->il" --shapes 64x64,64x64,64x8 --optimize dp`;

function parseShapes(text: string): number[][] {
  return text.split(",").map((s) => {
    if (s === "scalar") return [];
    const dims = s.split("x").map(Number);
    if (dims.some((n) => !Number.isSafeInteger(n) || n < 1)) throw new UsageError(`--shapes expects extents such as 2x3,3x4; got '${s}'`, "path");
    return dims;
  });
}

function positiveInteger(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`${option} expects a non-negative integer, got '${value}'`, "path");
  return n;
}

/** Runs `tns path`. */
export function pathCommand(argv: string[], term: Terminal): number {
  const { values, positionals } = parseCommandArgs("path", argv, {
    shapes: { type: "string" },
    optimize: { type: "string" },
    "max-intermediate": { type: "string" },
    "memory-limit": { type: "string" },
    bytes: { type: "string" },
    seed: { type: "string" },
    "time-ms": { type: "string" },
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values["help"]) {
    term.out(PATH_HELP);
    return EXIT.ok;
  }
  if (positionals.length !== 1) throw new UsageError("expected one einsum specification", "path");
  const shapesText = values["shapes"] as string | undefined;
  if (shapesText === undefined) throw new UsageError("--shapes is required (e.g. --shapes 2x3,3x4)", "path");
  const optimize = (values["optimize"] as string | undefined) ?? "auto";
  if (PATH_FINDERS[optimize] === undefined) throw new UsageError(`--optimize expects one of ${Object.keys(PATH_FINDERS).join(", ")}; got '${optimize}'`, "path");
  const bytesPerElement = positiveInteger(values["bytes"] as string | undefined, "--bytes") ?? 8;
  if (bytesPerElement < 1) throw new UsageError("--bytes must be at least 1", "path");
  let maxBytes: number | undefined;
  try {
    maxBytes = parseMemoryBudget(values["max-intermediate"] as string | undefined, "path");
  } catch (e) {
    if (e instanceof UsageError) throw new UsageError(e.message.replace("--memory-budget", "--max-intermediate"), "path");
    throw e;
  }
  let result;
  try {
    result = contractPath(positionals[0]!, parseShapes(shapesText), {
      optimize: optimize as OptimizeName,
      memoryLimit: positiveInteger(values["memory-limit"] as string | undefined, "--memory-limit"),
      maxIntermediateBytes: maxBytes,
      seed: positiveInteger(values["seed"] as string | undefined, "--seed"),
      pathTimeMs: positiveInteger(values["time-ms"] as string | undefined, "--time-ms"),
      bytesPerElement,
    });
  } catch (e) {
    if (e instanceof RangeError || e instanceof TypeError) throw new UsageError(e.message.replace(/^contractPath: /, ""), "path");
    throw e;
  }
  if (values["json"]) {
    term.out(JSON.stringify({ path: result.path, flops: result.flops, naiveFlops: result.naiveFlops, largestIntermediate: result.largestIntermediate, slicing: result.slicing }));
  } else {
    term.out(`Path: ${JSON.stringify(result.path)}`);
    term.out(result.report().trimEnd());
  }
  return EXIT.ok;
}
