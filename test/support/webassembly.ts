/** The parts of the WebAssembly JavaScript API the backend tests use (the Node typings omit them). */
export const WA = (globalThis as unknown as {
  WebAssembly: {
    Memory: new (d: { initial: number; maximum: number; shared: boolean }) => { buffer: ArrayBuffer };
    Module: new (bytes: Uint8Array) => object;
    Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  };
}).WebAssembly;
