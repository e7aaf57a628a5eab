/**
 * Dense linear algebra behind the approximation passes: matrices, SVDs
 * (exact one-sided Jacobi, randomized with power iterations, truncation to
 * a tolerance or a rank) and nearest Kronecker products.
 */
export * from "./matrix.js";
export * from "./svd.js";
export * from "./kron.js";
export * from "./decompose.js";
