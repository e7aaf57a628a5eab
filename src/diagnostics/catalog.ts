/**
 * The one catalog of diagnostic codes. Codes are stable: never reuse or
 * renumber one; retire a code by leaving its entry with a "(retired)" title.
 *
 * Ranges: 00xx syntax, 01xx names, 02xx indices and shapes, 03xx sizes,
 * 04xx functions and calls, 05xx types, 06xx run-time inputs and data files,
 * 07xx memory budgets, 08xx gradients, 09xx features not supported yet,
 * 10xx approximations and structured layers.
 */
export const CATALOG = {
  // syntax
  TNS0001: "syntax error",
  TNS0002: "unexpected character",
  TNS0003: "invalid number literal",
  TNS0004: "expression nested too deeply",
  TNS0005: "source too large",
  TNS0006: "source is not text",
  TNS0007: "cannot read source file",
  // names
  TNS0101: "unknown tensor",
  TNS0102: "unknown name",
  TNS0103: "duplicate definition",
  TNS0104: "unknown function",
  TNS0105: "duplicate size",
  TNS0106: "unknown size",
  TNS0107: "import not found",
  TNS0108: "import cycle",
  TNS0109: "name used as the wrong kind of thing",
  TNS0110: "program has no outputs",
  TNS0111: "unused input",
  TNS0112: "tensor used before it is defined",
  // indices and shapes
  TNS0201: "wrong number of indices",
  TNS0202: "index size mismatch",
  TNS0203: "index on the left is not bound on the right",
  TNS0204: "index range cannot be inferred",
  TNS0205: "repeated index on the left",
  TNS0206: "index expression is not affine",
  TNS0207: "index range does not start at zero",
  TNS0208: "reduction index misuse",
  TNS0209: "grouped index shape mismatch",
  TNS0230: "gather index is not an integer",
  TNS0231: "data-dependent index not allowed here",
  TNS0232: "top-k larger than its extent",
  TNS0233: "argmax, argmin or topk misuse",
  TNS0234: "several results need topk",
  TNS0210: "index name shadows another name",
  TNS0211: "summed index missing from a term",
  TNS0212: "index out of bounds",
  // recurrences (a tensor reading itself at an earlier step)
  TNS0240: "recurrence reads itself at the same or a later step",
  TNS0241: "recurrence has no base case",
  TNS0242: "recurrence form not supported",
  TNS0243: "recurrence through a second tensor",
  TNS0213: "padding read not excluded by its guard",
  TNS0214: "index division or modulo by a non-constant",
  TNS0215: "index division or modulo by zero or a negative number",
  TNS0216: "index divided by two different numbers",
  TNS0217: "stated range conflicts with another",
  TNS0220: "a sum compared without parentheses",
  // sizes
  TNS0301: "size too large",
  TNS0302: "size must be a positive integer",
  TNS0303: "unknown size override",
  TNS0304: "size has no value",
  TNS0305: "program needs more memory than allowed",
  // functions and calls
  TNS0401: "wrong number of arguments",
  TNS0402: "argument of the wrong kind",
  TNS0403: "function result is not defined",
  TNS0404: "function result shape mismatch",
  TNS0405: "recursive function",
  TNS0406: "tensor-valued call needs indices",
  TNS0407: "builtin function misuse",
  // types
  TNS0501: "unknown element type",
  TNS0502: "element type mismatch",
  // run-time inputs and data files
  TNS0601: "missing input",
  TNS0602: "input shape mismatch",
  TNS0603: "missing weight data",
  TNS0604: "invalid einsum specification",
  TNS0605: "cannot read data file",
  TNS0606: "unknown input name",
  TNS0607: "run while an asynchronous run is in progress",
  TNS0608: "cannot write output",
  TNS0610: "no WebGPU device",
  TNS0611: "tensor exceeds the device's limits",
  TNS0620: "gather index out of range",
  // memory
  TNS0701: "memory budget below the smallest feasible peak",
  TNS0702: "input buffer of a donated input",
  TNS0703: "donated name is not an input",
  TNS0720: "contraction cannot be sliced under the intermediate limit",
  // gradients
  TNS0801: "gradient of a non-scalar loss",
  TNS0802: "gradient by a tensor that is not an input or weight",
  TNS0803: "gradient is zero: the loss does not depend on the tensor",
  // not supported yet
  TNS0901: "feature not supported yet",
  TNS0902: "element type not supported by the backend",
  // approximations and structured layers
  TNS1001: "invalid approximation request",
  TNS1002: "approximation of an unknown weight",
  TNS1003: "rank above the weight's smaller dimension",
  TNS1004: "Kronecker factor shapes do not match the weight",
  TNS1005: "weight cannot be approximated this way",
  TNS1006: "unknown structure",
  TNS1007: "structure does not fit the tensor",
  TNS1008: "structured weight data cannot be factored",
} as const;

/** A code from {@link CATALOG}, e.g. `"TNS0101"`. */
export type DiagnosticCode = keyof typeof CATALOG;
