// `tns explain --svg`: the drawing is well-formed XML, names every def of
// the optimized program, and draws one tree per contraction path.
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { XMLParser, XMLValidator } from "fast-xml-parser";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BIN = join(ROOT, "bin", "tns.js");

function explainSvg(example: string): { svg: string; irDefs: string[] } {
  const out = join(mkdtempSync(join(tmpdir(), "tns-svg-")), "graph.svg");
  const r = spawnSync(process.execPath, [BIN, "explain", join(ROOT, "examples", example), "--ir", "full", "--svg", out], { encoding: "utf8", timeout: 60_000 });
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  // The IR after the last changed pass, as printed by --ir full: its defs are what the drawing must name.
  const ir = JSON.parse(spawnSync(process.execPath, [BIN, "explain", join(ROOT, "examples", example), "--json", "--ir", "full"], { encoding: "utf8", timeout: 60_000 }).stdout);
  const last: string = ir.passes.at(-1).ir;
  const irDefs = last.split("\n").filter((l) => / = \[/.test(l) || /^(output )?\w+: \w+\[[^\]]*\] = /.test(l)).map((l) => l.replace(/^output /, "").split(":")[0]!);
  return { svg: readFileSync(out, "utf8"), irDefs };
}

describe("tns explain --svg", () => {
  it.each(["attention.tns", "tensor_train.tns", "mlp.tns"])("draws %s as well-formed SVG naming every def", (example) => {
    const { svg, irDefs } = explainSvg(example);
    expect(XMLValidator.validate(svg)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false }).parse(svg);
    expect(doc.svg["@_xmlns"]).toBe("http://www.w3.org/2000/svg");
    const named = [...svg.matchAll(/data-name="([^"]+)"/g)].map((m) => m[1]);
    expect(irDefs.length).toBeGreaterThan(0);
    for (const def of irDefs) expect(named).toContain(def);
  });

  it("draws the contraction tree of a chain of products", () => {
    const { svg } = explainSvg("tensor_train.tns");
    expect(svg).toMatch(/contraction of y: [a-z,]+-&gt;[a-z]+/);
    expect(svg).toContain("adg = y");
  });
});
