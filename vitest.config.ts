import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // `tns run` in the CLI tests caches compiled modules: in a folder of the tests' own, not the user's.
    env: { TNS_CACHE_DIR: join(tmpdir(), `tns-test-cache-${process.pid}`) },
  },
});
