/**
 * The registry of path finders by name.
 */
import { auto } from "./auto.js";
import { dp } from "./dp.js";
import type { PathFinder } from "./finder.js";
import { greedy } from "./greedy.js";
import { hyper } from "./hyper.js";
import { optimal } from "./optimal.js";
import { randomGreedy } from "./random-greedy.js";

/**
 * Every path finder by name.
 *
 * @example
 * ```ts
 * Object.keys(PATH_FINDERS); // ["optimal", "dp", "greedy", "random-greedy", "hyper", "auto"]
 * ```
 */
export const PATH_FINDERS: Readonly<Record<string, PathFinder>> = Object.fromEntries(
  [optimal, dp, greedy, randomGreedy, hyper, auto].map((f) => [f.name, f]),
);
