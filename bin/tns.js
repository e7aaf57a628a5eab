#!/usr/bin/env node
// The tns command-line entry point; the work happens in dist/cli/main.js.
import { main } from "../dist/cli/main.js";

process.exitCode = await main(process.argv.slice(2));
