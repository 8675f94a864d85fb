/**
 * The part of the WebAssembly JS API that model/gemmWasm.ts uses. Node has it globally, but
 * this project compiles without the DOM library (where TypeScript declares it).
 */
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module, imports: Record<string, unknown>);
    readonly exports: Record<string, unknown>;
  }
  class Memory {
    readonly buffer: ArrayBuffer;
    grow(pages: number): number;
  }
}
