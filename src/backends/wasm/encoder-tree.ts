/**
 * The expression trees tns's encoder (encoder.ts) builds a module from, and
 * what the text printer (wat.ts) reads of them: the encoder writes the
 * binary from these trees, the printer the text, so neither needs the other.
 */
import type { Ref, ValueType } from "./facade.js";

/** A node's type: a value type, `none`, or `unreachable` (after a `br`). */
export type NodeType = ValueType | "unreachable";

/**
 * One expression of the tree. `op` nodes cover every instruction whose
 * operands are expressions and whose immediates are fixed: operands, then
 * the opcode bytes, then the immediates.
 */
export type Node =
  | { readonly kind: "const"; readonly type: "i32" | "f32" | "f64"; readonly value: number }
  | { readonly kind: "v128"; readonly type: "v128"; readonly bytes: Uint8Array }
  | { readonly kind: "get"; readonly type: ValueType; readonly index: number }
  | { readonly kind: "set"; readonly type: "none"; readonly index: number; readonly value: Ref }
  | {
      readonly kind: "op"; readonly type: NodeType; readonly name: string; readonly code: readonly number[];
      readonly args: readonly Ref[]; readonly lane?: number; readonly memarg?: { readonly align: number; readonly offset: number };
    }
  | { readonly kind: "select"; readonly type: NodeType; readonly cond: Ref; readonly ifTrue: Ref; readonly ifFalse: Ref }
  | { readonly kind: "call"; readonly type: ValueType; readonly name: string; readonly args: readonly Ref[] }
  | { readonly kind: "block"; readonly type: ValueType; readonly label: string | null; readonly children: readonly Ref[] }
  | { readonly kind: "loop"; readonly type: NodeType; readonly label: string; readonly body: Ref }
  | { readonly kind: "br"; readonly type: "unreachable" | "none"; readonly label: string; readonly cond: Ref | null }
  | { readonly kind: "if"; readonly type: NodeType; readonly cond: Ref; readonly then: Ref; readonly otherwise: Ref | null }
  | { readonly kind: "nop"; readonly type: "none" };

/** A function added by {@link EncoderModule.addFunction}. */
export interface EncodedFunction {
  readonly name: string;
  readonly params: readonly ValueType[];
  readonly result: ValueType;
  readonly locals: readonly ValueType[];
  readonly body: Ref;
}

/** A function imported as `env.name`. */
export interface FunctionImport {
  readonly name: string;
  readonly params: readonly ValueType[];
  readonly result: ValueType;
}

/** A module's trees as the text printer reads them (`EncoderModule` in encoder.ts is one). */
export interface EncodedTree {
  readonly functions: readonly EncodedFunction[];
  readonly imports: readonly FunctionImport[];
  readonly exports: readonly string[];
  readonly memory: { readonly pages: number; readonly shared: boolean } | null;
  /** The node an expression reference names. */
  node(r: Ref): Node;
}
