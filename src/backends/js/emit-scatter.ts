/**
 * A scatter-add kernel (`Kernel.scatterAdd`) as JavaScript: the target
 * zeroed, then one pass over the terms, each added to the element its
 * resolved index selects:
 *
 *     dW.fill(0);
 *     for (let t = 0; t < 5; t++) {
 *       const u = gatherCheck(ids[t], 7, "dW", 0, "dW");
 *       for (let g1 = 0; g1 < 4; g1++) dW[g1 + 4 * u] += dXe[4 * t + g1];
 *     }
 *
 * (the index is resolved in the innermost loop here; V8 hoists what does
 * not change).
 */
import type { ScatterAdd } from "../kernel/types.js";
import { type EmitState, jsExpr, jsOffset, unwrap } from "./emit-expr.js";
import { jsName } from "./names.js";

/**
 * Appends the statements of a scatter-add into `target` to `out`.
 *
 * @example
 * ```ts
 * emitScatterAdd(kernel.scatterAdd!, kernel.target, state, "  ", lines);
 * ```
 */
export function emitScatterAdd(s: ScatterAdd, target: string, st: EmitState, indent: string, out: string[]): void {
  const buffer = jsName(target);
  out.push(`${indent}${buffer}.fill(0);`);
  const nest = (depth: number, pad: string): string[] => {
    if (depth === s.loops.length) {
      const value = unwrap(jsExpr(s.index.value, st));
      let index: string;
      if (s.mode === "clamp") {
        st.helpers.add("gatherClamp");
        index = `gatherClamp(${value}, ${s.index.extent})`;
      } else {
        st.helpers.add("gatherCheck");
        const site = s.index.site;
        index = `gatherCheck(${value}, ${s.index.extent}, ${JSON.stringify(site.tensor)}, ${site.dim}, ${JSON.stringify(site.reader)})`;
      }
      const at = `${jsOffset(s.offset, st)} + ${s.index.stride} * ${index}`;
      return [`${pad}${buffer}[${at}] += ${unwrap(jsExpr(s.term, st))};`];
    }
    const loop = s.loops[depth]!;
    const v = jsName(loop.var);
    const scope = { var: loop.var, prelude: [] as string[], memo: new Map<string, string>() };
    st.scopes.push(scope);
    const body = nest(depth + 1, pad + "  ");
    st.scopes.pop();
    return [`${pad}for (let ${v} = 0; ${v} < ${loop.extent}; ${v}++) {`, ...scope.prelude.map((l) => pad + "  " + l), ...body, `${pad}}`];
  };
  out.push(...nest(0, indent));
}
