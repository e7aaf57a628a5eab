/** The kernel IR: types, lowering from the IR, and its text form. */
export type * from "./types.js";
export { lowerToKernels } from "./lower.js";
export { printKernels, printKernel, printAffine, printKExpr } from "./print.js";
export { EPILOGUE_ACC } from "./types.js";
