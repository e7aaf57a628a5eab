/**
 * Shared helpers of the checker tests: check source text, serve imports
 * from memory, and find nodes of the lowered program.
 */
import { expect } from "vitest";
import { DiagnosticBag, type Diagnostic } from "../../src/diagnostics/diagnostic.js";
import { parseModule } from "../../src/parser/index.js";
import { checkProgram, type CheckOptions, type SourceLoader } from "../../src/checker/index.js";
import type { DefNode, Program, TensorNode } from "../../src/ir/types.js";
import { verifyProgramErrors } from "../../src/ir/verify.js";

/** The outcome of checking a source text. */
export interface Checked {
  readonly program: Program | null;
  readonly diags: readonly Diagnostic[];
  readonly sources: Map<string, string>;
}

/** Parses and checks `text` as file `/p/main.tns`; parse diagnostics are kept with the checker's. */
export function check(text: string, options: CheckOptions = {}, file = "/p/main.tns"): Checked {
  const bag = new DiagnosticBag();
  const module = parseModule(text, file, bag);
  const sources = new Map<string, string>();
  const program = checkProgram(module, options, bag, sources);
  return { program, diags: bag.items, sources };
}

/** Checks `text`, expects success without errors, verifies the IR and returns it. */
export function lower(text: string, options: CheckOptions = {}): Program {
  const r = check(text, options);
  expect(r.diags.filter((d) => d.severity === "error")).toEqual([]);
  expect(r.program).not.toBeNull();
  expect(verifyProgramErrors(r.program!)).toEqual([]);
  return r.program!;
}

/** The errors (not warnings) of a check, as "CODE line:col". */
export function errorsOf(text: string, options: CheckOptions = {}): string[] {
  return check(text, options).diags.filter((d) => d.severity === "error").map((d) => `${d.code} ${d.span?.start.line}:${d.span?.start.column}`);
}

/** A node of the program by name. */
export function node(p: Program, name: string): TensorNode {
  const t = p.tensors.find((x) => x.name === name);
  expect(t, `tensor ${name}`).toBeDefined();
  return t!;
}

/** A def node of the program by name. */
export function defNode(p: Program, name: string): DefNode {
  const t = node(p, name);
  expect(t.role).toBe("def");
  return t as DefNode;
}

/** A loader over an in-memory set of files; stdlib modules live under `/std/`. */
export function memoryLoader(files: Record<string, string>): SourceLoader {
  return {
    resolve(from, path) {
      let target: string;
      if (path.startsWith(".")) {
        const dir = from.slice(0, from.lastIndexOf("/"));
        const parts = `${dir}/${path}`.split("/");
        const out: string[] = [];
        for (const part of parts) {
          if (part === "..") out.pop();
          else if (part !== ".") out.push(part);
        }
        target = out.join("/");
      } else {
        target = `/std/${path}`;
      }
      if (!target.endsWith(".tns")) target += ".tns";
      return target in files ? target : null;
    },
    read: (file) => files[file] ?? null,
  };
}
