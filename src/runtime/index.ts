/** The runtime: tensors, NumPy file I/O, seeded random data, executables. */
export { Tensor, arrayTypeOf, type TensorData, type NestedNumbers } from "./tensor.js";
export { readNpy, writeNpy, dataFileError } from "./npy.js";
export { readNpz, writeNpz, type WriteNpzOptions } from "./npz.js";
export { randomTensor, splitmix32 } from "./random.js";
export { checkInputs, checkRunInputs, inputSpec, type Executable, type InputSpec, type RunOptions } from "./executable.js";
