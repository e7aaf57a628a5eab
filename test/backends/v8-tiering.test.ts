import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { tieringControlApplies, withoutTierUp } from "../../src/backends/wasm/v8-tiering.js";

/** `node ARGS --input-type=module -e SCRIPT`, run from the repository root; its stdout. */
function node(args: string[], script: string): string {
  return execFileSync(process.execPath, [...args, "--input-type=module", "-e", script], { encoding: "utf8" }).trim();
}

// A module with one exported function f(x) = x + K; distinct K, distinct module
// (V8 shares the code of byte-identical modules).
const MODULE = `
const tiny = (k) => new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array([
  0,97,115,109,1,0,0,0,1,6,1,96,1,127,1,127,3,2,1,0,7,5,1,1,102,0,0,10,9,1,7,0,32,0,65,k,106,11]))).exports.f;
// Calls f in rounds of 1e6 until V8 has optimized it; the number of calls, or -1 when it never was
// within the given rounds. V8 optimizes on a background thread, as soon as it can on a busy machine: where
// a function must get hot, no bound on the rounds (a bound made these tests fail now and then under
// load; the test's timeout is the bound); where it must stay cold, a bound relative to what made
// another function hot.
const hot = async (f, rounds = Infinity) => {
  for (let round = 0; round < rounds; round++) {
    if (%IsTurboFanFunction(f)) return round * 1e6;
    for (let i = 0; i < 1e6; i++) f(i);
    await new Promise((r) => setTimeout(r, 20));
  }
  return %IsTurboFanFunction(f) ? rounds * 1e6 : -1;
};`;

describe("keeping binaryen at the baseline tier", () => {
  it("applies under plain node, not where the process chose its own tiering flags", () => {
    expect(tieringControlApplies()).toBe(true);
    const probe = "import('./dist/backends/wasm/v8-tiering.js').then((m) => console.log(m.tieringControlApplies()))";
    expect(node([], probe)).toBe("true");
    expect(node(["--liftoff-only"], probe)).toBe("false");
    expect(node(["--wasm-tiering-budget=1000"], probe)).toBe("false");
    expect(node(["--wasm-lazy-validation"], probe)).toBe("false");
  });

  it("leaves what is instantiated inside at the baseline tier and lets later modules tier up", () => {
    const script = `${MODULE}
      const { withoutTierUp } = await import("./dist/backends/wasm/v8-tiering.js");
      const inside = await withoutTierUp(async () => tiny(1));
      const after = tiny(2);
      const calls = await hot(after);
      // Three times the calls that made the later module hot leave the one inside cold.
      console.log(calls > 0, await hot(inside, Math.max(3, (3 * calls) / 1e6)));`;
    expect(node(["--allow-natives-syntax"], script)).toBe("true -1");
  });

  it("validates what is compiled inside lazily, and later modules whole again", () => {
    // One function whose body is invalid (i32.add or i32.sub on an empty stack); it is never called.
    const script = `
      const invalid = (op) => new Uint8Array([0,97,115,109,1,0,0,0, 1,4,1,0x60,0,0, 3,2,1,0, 10,5,1,3,0,op,0x0b]);
      const compiles = (bytes) => { try { new WebAssembly.Module(bytes); return true; } catch { return false; } };
      const { withoutTierUp } = await import("./dist/backends/wasm/v8-tiering.js");
      const inside = await withoutTierUp(async () => compiles(invalid(0x6a)));
      console.log(inside, compiles(invalid(0x6b)));`;
    expect(node([], script)).toBe("true false");
    // A process that chose its own lazy flags is left alone.
    expect(node(["--no-wasm-lazy-validation"], script)).toBe("false false");
  });

  it("drops tier-up requests made while paused (for good: V8 does not ask again), and lets functions hot later tier up", () => {
    const script = `${MODULE}
      const { withoutTierUp, pauseTierUp } = await import("./dist/backends/wasm/v8-tiering.js");
      await withoutTierUp(async () => undefined); // loads node:v8 for pauseTierUp
      const f = tiny(4);
      // Many times the calls that make a function hot, all inside one pause.
      pauseTierUp(() => { for (let i = 0; i < 3e7; i++) f(i); });
      console.log(%IsTurboFanFunction(f), await hot(f, 10), (await hot(tiny(6))) > 0, pauseTierUp(() => 7));`;
    expect(node(["--allow-natives-syntax"], script)).toBe("false -1 true 7");
  });

  it("does not pause while code of ours may run on other threads (an asynchronous run in flight)", () => {
    const script = `${MODULE}
      const { withoutTierUp, pauseTierUp, otherThreadsRun } = await import("./dist/backends/wasm/v8-tiering.js");
      await withoutTierUp(async () => undefined);
      const f = tiny(7);
      const done = otherThreadsRun();
      pauseTierUp(() => { for (let i = 0; i < 3e7; i++) f(i); });
      done();
      console.log((await hot(f)) >= 0);`;
    expect(node(["--allow-natives-syntax"], script)).toBe("true");
  });

  it("puts tier-up back when the paused work throws", () => {
    const script = `${MODULE}
      const { withoutTierUp, pauseTierUp } = await import("./dist/backends/wasm/v8-tiering.js");
      await withoutTierUp(async () => undefined);
      try { pauseTierUp(() => { throw new Error("x"); }); } catch {}
      console.log((await hot(tiny(5))) > 0);`;
    expect(node(["--allow-natives-syntax"], script)).toBe("true");
  });

  it("restores the budget when instantiation fails", async () => {
    await expect(withoutTierUp(async () => { throw new Error("no module"); })).rejects.toThrow("no module");
    const script = `${MODULE}
      const { withoutTierUp } = await import("./dist/backends/wasm/v8-tiering.js");
      await withoutTierUp(async () => { throw new Error("x"); }).catch(() => {});
      console.log((await hot(tiny(3))) > 0);`;
    expect(node(["--allow-natives-syntax"], script)).toBe("true");
  });
});
